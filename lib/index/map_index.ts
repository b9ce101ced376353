/**
 * Map indexes: keyword (strings), uuid (strings that parse as UUIDs, kept canonical) and the `lookup` half of
 * the integer index. Each distinct value gets a dense id; per offset the index keeps its distinct value ids,
 * and per id the offsets that have it (see `_postings.ts`).
 *
 * Semantics (Qdrant `map_index/payload_index_impl/{str,int,uuid}.rs`, checked against Qdrant Edge 0.9):
 * - Keyword keeps string values; uuid keeps strings that parse as UUIDs; integer keeps integral numbers
 *   within i64 (2.0 counts as 2; 1.5, "5" and true do not). Other values are ignored.
 * - `value`: of the index's own type (a UUID string that does not parse, or a value of another type, is
 *   not answered: `null`, and the caller checks the payload).
 * - `any`: a list of the index's type; an empty list matches nothing. `except`: points with at least one
 *   indexed value outside the list (points without indexed values never match). A list of the other type is
 *   not answered, except an empty `any`.
 * - `prefix` (keyword only): points with a value that starts with the prefix (`""` matches every point
 *   with a value).
 * - Estimates are exact for `value`; `any` and `prefix` use Qdrant's formulas, `except` Qdrant's formula
 *   with bounds that hold (Qdrant's can exclude the true count).
 *
 * Serialized sections after the schema: removed bitset (u8), list starts (u32, n + 1), value ids (u32),
 * value count (u32, one), values by id (strings, or f64 for integers).
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import {
  anyVariants,
  clampEstimate,
  combineShould,
  exact,
  forEachValue,
  IndexBase,
  integerValue,
  MATCH_NONE,
  matchKind,
  numberOfSelectedPoints,
} from "./_base.ts";
import { check, type IndexReader, IndexWriter, KIND_CODES } from "./_codec.ts";
import { Postings } from "./_postings.ts";
import { bitsetBytes, type OffsetSet } from "./offset_set.ts";
import { type FieldSchema, schemaToJson } from "./schema.ts";
import type { CardinalityEstimation, FacetHit, FacetIndex, FieldQuery, OffsetChecker } from "./types.ts";
import { canonicalUuid } from "./uuid.ts";

/**
 * Which values a map index keeps: strings, UUID strings, or integers.
 *
 * @example
 * ```ts
 * import type { MapKeyKind } from "./map_index.ts";
 * const kind: MapKeyKind = "uuid";
 * console.log(kind); // "uuid"
 * ```
 */
export type MapKeyKind = "keyword" | "uuid" | "integer";

type Key = string | number;

/** Value ids a condition selects: `negate` for `except`. */
type Selection = { ids: number[]; negate: boolean };

/** Distinct values added since the last sort before a prefix lookup sorts again. */
const UNSORTED_MAX = 4096;

/**
 * An exact-match index over strings, UUIDs or integers.
 *
 * @example
 * ```ts
 * import { MapIndex } from "./map_index.ts";
 * import { parseFieldSchema } from "./schema.ts";
 * const index = new MapIndex(parseFieldSchema("keyword"), "keyword");
 * index.add(0, ["red"]);
 * index.add(2, [["red", "blue", 7]]);
 * console.log([...index.filter({ match: { any: ["blue", "green"] } })!.toArray()]); // [ 2 ]
 * console.log(index.filter({ match: { value: 7 } })); // null: not a keyword, the payload decides
 * ```
 */
export class MapIndex extends IndexBase implements FacetIndex {
  /** Which values this index keeps. */
  readonly keyKind: MapKeyKind;
  readonly #ids = new Map<Key, number>();
  #keys: Key[] = [];
  readonly #postings = new Postings();
  #points = 0;
  #values = 0;
  /** Value ids sorted by key (strings only), for prefix lookups; covers ids [0, length). */
  #sortedIds: Uint32Array | undefined;
  readonly #scratch: number[] = [];

  /** An empty index for `schema` keeping `keyKind` values. */
  constructor(schema: FieldSchema, keyKind: MapKeyKind) {
    super(schema);
    this.keyKind = keyKind;
  }

  /** The key this index keeps for a payload value, or undefined when it ignores the value. */
  #keyOf(value: unknown): Key | undefined {
    switch (this.keyKind) {
      case "keyword":
        return typeof value === "string" ? value : undefined;
      case "uuid":
        return typeof value === "string" ? canonicalUuid(value) : undefined;
      case "integer":
        return integerValue(value);
    }
  }

  /** Indexes the values found at the key for `offset` (not below `offsetCount`). */
  add(offset: number, values: readonly unknown[]): void {
    this.beginAdd(offset);
    const ids = this.#scratch;
    ids.length = 0;
    forEachValue(values, (value) => {
      const key = this.#keyOf(value);
      if (key === undefined) return;
      let id = this.#ids.get(key);
      if (id === undefined) {
        id = this.#keys.length;
        this.#ids.set(key, id);
        this.#keys.push(key);
        this.#postings.reserve(id + 1);
      }
      // Qdrant keeps each value once per point.
      if (!ids.includes(id)) ids.push(id);
    });
    this.#postings.append(offset, ids);
    if (ids.length > 0) this.#points++;
    this.#values += ids.length;
  }

  /** Updates the statistics when `offset` is removed (once per offset). */
  protected onRemove(offset: number): void {
    const count = this.#postings.uncount(offset);
    if (count > 0) this.#points--;
    this.#values -= count;
  }

  /** Points (not removed) with at least one value. */
  indexedPointCount(): number {
    return this.#points;
  }

  /** Distinct values of `offset`. */
  valuesCount(offset: number): number {
    return this.isRemoved(offset) ? 0 : this.#postings.forward.count(offset);
  }

  /** Number of distinct values ever indexed. */
  get uniqueValueCount(): number {
    return this.#keys.length;
  }

  /** The value ids a condition selects, or null when the index does not answer it. */
  #select(condition: FieldQuery): Selection | null {
    const kind = matchKind(condition);
    if (kind === undefined) return null;
    const match = condition.match as Record<string, unknown>;
    switch (kind) {
      case "value": {
        const key = this.#queryKey(match.value);
        if (key === undefined) return null;
        const id = this.#ids.get(key);
        return { ids: id === undefined ? [] : [id], negate: false };
      }
      case "any":
      case "except": {
        const negate = kind === "except";
        const keys = this.#queryKeys(anyVariants(match[kind], kind), negate);
        if (keys === null) return null;
        const ids: number[] = [];
        for (const key of keys) {
          const id = this.#ids.get(key);
          if (id !== undefined && !ids.includes(id)) ids.push(id);
        }
        return { ids, negate };
      }
      case "prefix":
        if (this.keyKind !== "keyword") return null;
        if (typeof match.prefix !== "string") {
          throw new InvalidArgumentError(`Invalid field condition: "prefix" must be a string`);
        }
        return { ids: this.#prefixIds(match.prefix), negate: false };
      default:
        return null;
    }
  }

  /** The key of a `match.value`, or undefined when this index does not answer values of its type. */
  #queryKey(value: unknown): Key | undefined {
    switch (this.keyKind) {
      case "keyword":
        return typeof value === "string" ? value : undefined;
      case "uuid":
        return typeof value === "string" ? canonicalUuid(value) : undefined;
      case "integer":
        return typeof value === "number" && Number.isInteger(value) ? value : undefined;
    }
  }

  /** The keys of an `any`/`except` list, or null when not answered (Qdrant's per-type rules). */
  #queryKeys(variants: { strings: string[] } | { integers: number[] }, negate: boolean): Key[] | null {
    if ("strings" in variants) {
      if (this.keyKind === "keyword") return variants.strings;
      if (this.keyKind === "integer") return !negate && variants.strings.length === 0 ? [] : null;
      const keys: string[] = [];
      for (const text of variants.strings) {
        const key = canonicalUuid(text);
        if (key === undefined) return null;
        keys.push(key);
      }
      return keys;
    }
    // A non-empty integer list is answered by the integer index only (an empty list reads as strings).
    return this.keyKind === "integer" ? variants.integers : null;
  }

  /** The offsets matching `condition`, or null when not answered. */
  filter(condition: FieldQuery): OffsetSet | null {
    const selection = this.#select(condition);
    if (selection === null) return null;
    const ids = this.#keys.length;
    return selection.negate
      ? this.#postings.except(selection.ids, ids, this.removed, this.offsets)
      : this.#postings.union(selection.ids, ids, this.removed, this.offsets);
  }

  /** Estimated matches of `condition`, or null when not answered. */
  estimate(condition: FieldQuery): CardinalityEstimation | null {
    const kind = matchKind(condition);
    const selection = this.#select(condition);
    if (selection === null) return null;
    const counts = this.#postings.counts;
    if (kind === "prefix") return this.#prefixEstimate(selection.ids);
    if (selection.negate) return this.#exceptEstimate(selection.ids);
    if (kind === "value") return exact(selection.ids.length === 0 ? 0 : counts[selection.ids[0]]);
    return combineShould(selection.ids.map((id) => exact(counts[id])), this.#points);
  }

  /** A per-offset check of `condition`, or null when not answered. */
  checker(condition: FieldQuery): OffsetChecker | null {
    const selection = this.#select(condition);
    if (selection === null) return null;
    const { ids, negate } = selection;
    if (!negate && ids.length === 0) return MATCH_NONE;
    const marks = new Uint8Array(this.#keys.length);
    for (const id of ids) marks[id] = 1;
    const forward = this.#postings.forward;
    return (offset) => {
      if (offset >= forward.length || this.isRemoved(offset)) return false;
      const data = forward.data;
      const end = forward.end(offset);
      for (let i = forward.start(offset); i < end; i++) {
        if ((marks[data[i]] === 1) !== negate) return true;
      }
      return false;
    };
  }

  /**
   * Qdrant's `except_cardinality`, with bounds that hold: at least `ceil(values left / distinct values left)`
   * and `points - excluded values` points match, at most `min(points, values left)`.
   */
  #exceptEstimate(ids: readonly number[]): CardinalityEstimation {
    const counts = this.#postings.counts;
    const excluded = new Set(ids);
    let excludedValues = 0;
    for (const id of ids) excludedValues += counts[id];
    let distinctLeft = 0;
    for (let id = 0; id < this.#keys.length; id++) if (counts[id] > 0 && !excluded.has(id)) distinctLeft++;
    const valuesLeft = Math.max(0, this.#values - excludedValues);
    if (distinctLeft === 0) return exact(0);
    const min = Math.max(Math.ceil(valuesLeft / distinctLeft), this.#points - excludedValues);
    const max = Math.min(this.#points, valuesLeft);
    return { min, exp: clampEstimate(numberOfSelectedPoints(this.#points, valuesLeft), min, max), max };
  }

  /** Value ids whose key starts with `prefix` (keyword index). */
  #prefixIds(prefix: string): number[] {
    const keys = this.#keys as string[];
    if (this.#sortedIds === undefined || this.#sortedIds.length + UNSORTED_MAX < keys.length) {
      const ids = Array.from({ length: keys.length }, (_, i) => i);
      // UTF-16 order keeps the keys that share a prefix together, which is all a prefix lookup needs.
      ids.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
      this.#sortedIds = Uint32Array.from(ids);
    }
    const sorted = this.#sortedIds;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[sorted[mid]] < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < sorted.length && keys[sorted[i]].startsWith(prefix); i++) out.push(sorted[i]);
    for (let id = sorted.length; id < keys.length; id++) if (keys[id].startsWith(prefix)) out.push(id);
    return out;
  }

  /** Qdrant's `prefix_cardinality` over the live counts of the matching values. */
  #prefixEstimate(ids: readonly number[]): CardinalityEstimation {
    let keys = 0;
    let postings = 0;
    for (const id of ids) {
      const count = this.#postings.counts[id];
      if (count === 0) continue;
      keys++;
      postings += count;
    }
    const sum = Math.min(postings, this.#values);
    const max = Math.min(sum, this.#points);
    const min = keys === 0 ? 0 : Math.min(Math.ceil(sum / keys), max);
    return { min, exp: clampEstimate(numberOfSelectedPoints(this.#points, sum), min, max), max };
  }

  /** Points per value, over `points` (a bitset) when given; values without points are left out. */
  facet(points?: Uint8Array): FacetHit[] {
    let counts = this.#postings.counts;
    if (points !== undefined) {
      counts = new Uint32Array(this.#keys.length);
      const forward = this.#postings.forward;
      const data = forward.data;
      const removed = this.removed;
      const limit = Math.min(forward.length, points.length * 8);
      for (let o = 0; o < limit; o++) {
        const bit = 1 << (o & 7);
        if ((points[o >>> 3] & bit) === 0 || (removed[o >>> 3] & bit) !== 0) continue;
        const end = forward.end(o);
        for (let i = forward.start(o); i < end; i++) counts[data[i]]++;
      }
    }
    const hits: FacetHit[] = [];
    for (let id = 0; id < this.#keys.length; id++) {
      if (counts[id] > 0) hits.push({ value: this.#keys[id], count: counts[id] });
    }
    return hits;
  }

  /** The index's bytes (see `_codec.ts`). */
  serialize(): Uint8Array {
    const writer = new IndexWriter().text(schemaToJson(this.schema));
    this.writeSections(writer);
    return writer.finish(KIND_CODES[this.keyKind], this.offsets);
  }

  /** Appends this index's sections (everything but the schema) to `writer`. */
  writeSections(writer: IndexWriter): void {
    const forward = this.#postings.forward;
    writer
      .u8(this.removedView())
      .u32(forward.startsView())
      .u32(forward.dataView())
      .u32(Uint32Array.of(this.#keys.length));
    if (this.keyKind === "integer") writer.f64(Float64Array.from(this.#keys as number[]));
    else writer.strings(this.#keys as string[]);
  }

  /** Restores a map index from the sections `writeSections` wrote (the reader is positioned at them). */
  static restore(schema: FieldSchema, keyKind: MapKeyKind, reader: IndexReader): MapIndex {
    const index = new MapIndex(schema, keyKind);
    index.#restore(reader);
    return index;
  }

  #restore(reader: IndexReader): void {
    const n = reader.offsets;
    const removed = reader.u8("removed");
    check(removed.length === bitsetBytes(n), `removed bitset has ${removed.length} bytes for ${n} offsets`);
    const starts = reader.u32("list starts");
    const data = reader.u32("value ids");
    const meta = reader.u32("value count");
    check(meta.length === 1, `value count section has ${meta.length} entries`);
    let keys: Key[];
    if (this.keyKind === "integer") {
      keys = Array.from(reader.f64("values"));
      check(keys.length === meta[0], `${keys.length} values, the header says ${meta[0]}`);
      for (const key of keys) check(integerValue(key) !== undefined, `value ${key} is not an integer`);
    } else {
      keys = reader.strings("values", meta[0]);
      if (this.keyKind === "uuid") {
        for (const key of keys) {
          check(canonicalUuid(key as string) === key, `value ${JSON.stringify(key)} is not a UUID`);
        }
      }
    }
    for (let i = 0; i < keys.length; i++) {
      check(!this.#ids.has(keys[i]), `value ${JSON.stringify(keys[i])} appears twice`);
      this.#ids.set(keys[i], i);
    }
    this.#keys = keys;
    this.restoreRemoved(removed, n);
    this.#postings.restore(starts, data, n, keys.length, (o) => this.isRemoved(o));
    const seen = new Int32Array(keys.length).fill(-1);
    for (let o = 0; o < n; o++) {
      for (let i = starts[o]; i < starts[o + 1]; i++) {
        check(seen[data[i]] !== o, `offset ${o} lists value id ${data[i]} twice`);
        seen[data[i]] = o;
      }
      if (!this.isRemoved(o) && starts[o + 1] > starts[o]) {
        this.#points++;
        this.#values += starts[o + 1] - starts[o];
      }
    }
  }
}
