/**
 * The bool index: two bitsets, offsets with a `true` value and offsets with a `false` value (a point with
 * `[true, false]` is in both).
 *
 * Semantics (Qdrant `bool_index/read_ops.rs`): only JSON booleans are kept; only `match.value` with a
 * boolean is answered (exact estimate); every other condition is left to the payload check.
 *
 * Serialized sections after the schema: removed bitset, true bitset, false bitset (u8 each, n bits).
 *
 * @module
 */
import { exact, forEachValue, IndexBase, matchKind } from "./_base.ts";
import { check, type IndexReader, IndexWriter, KIND_CODES } from "./_codec.ts";
import { growBits } from "./_columns.ts";
import { bitsetBytes, OffsetSet } from "./offset_set.ts";
import { type FieldSchema, schemaToJson } from "./schema.ts";
import type { CardinalityEstimation, FacetHit, FacetIndex, FieldQuery, OffsetChecker } from "./types.ts";

/**
 * An index of boolean values.
 *
 * @example
 * ```ts
 * import { BoolIndex } from "./bool_index.ts";
 * import { parseFieldSchema } from "./schema.ts";
 * const index = new BoolIndex(parseFieldSchema("bool"));
 * index.add(0, [true]);
 * index.add(1, [[true, false]]);
 * index.add(2, ["true"]);
 * console.log([...index.filter({ match: { value: false } })!.toArray()]); // [ 1 ]
 * ```
 */
export class BoolIndex extends IndexBase implements FacetIndex {
  #trues: Uint8Array = new Uint8Array(128);
  #falses: Uint8Array = new Uint8Array(128);
  #trueCount = 0;
  #falseCount = 0;
  #points = 0;

  /** An empty index for `schema` (a bool schema). */
  constructor(schema: FieldSchema) {
    super(schema);
  }

  /** Indexes the values found at the key for `offset` (not below `offsetCount`). */
  add(offset: number, values: readonly unknown[]): void {
    this.beginAdd(offset);
    let hasTrue = false;
    let hasFalse = false;
    forEachValue(values, (value) => {
      if (value === true) hasTrue = true;
      else if (value === false) hasFalse = true;
    });
    this.#trues = growBits(this.#trues, this.offsets);
    this.#falses = growBits(this.#falses, this.offsets);
    const bit = 1 << (offset & 7);
    if (hasTrue) {
      this.#trues[offset >>> 3] |= bit;
      this.#trueCount++;
    }
    if (hasFalse) {
      this.#falses[offset >>> 3] |= bit;
      this.#falseCount++;
    }
    if (hasTrue || hasFalse) this.#points++;
  }

  /** Updates the statistics when `offset` is removed (once per offset). */
  protected onRemove(offset: number): void {
    const hasTrue = this.#has(this.#trues, offset);
    const hasFalse = this.#has(this.#falses, offset);
    if (hasTrue) this.#trueCount--;
    if (hasFalse) this.#falseCount--;
    if (hasTrue || hasFalse) this.#points--;
  }

  #has(bits: Uint8Array, offset: number): boolean {
    return (bits[offset >>> 3] & (1 << (offset & 7))) !== 0;
  }

  /** Points (not removed) with at least one boolean. */
  indexedPointCount(): number {
    return this.#points;
  }

  /** Distinct booleans of `offset` (0, 1 or 2). */
  valuesCount(offset: number): number {
    if (offset >= this.offsets || this.isRemoved(offset)) return 0;
    return Number(this.#has(this.#trues, offset)) + Number(this.#has(this.#falses, offset));
  }

  /** The boolean a condition asks for, or undefined when it is not a `match.value` with a boolean. */
  #wanted(condition: FieldQuery): boolean | undefined {
    if (matchKind(condition) !== "value") return undefined;
    const value = (condition.match as { value: unknown }).value;
    return typeof value === "boolean" ? value : undefined;
  }

  /** The offsets matching `condition`, or null when not answered. */
  filter(condition: FieldQuery): OffsetSet | null {
    const wanted = this.#wanted(condition);
    if (wanted === undefined) return null;
    const source = wanted ? this.#trues : this.#falses;
    const bytes = bitsetBytes(this.offsets);
    const bits = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) bits[i] = source[i] & ~this.removed[i];
    return OffsetSet.fromBitset(bits, this.offsets, wanted ? this.#trueCount : this.#falseCount);
  }

  /** Exact matches of `condition`, or null when not answered. */
  estimate(condition: FieldQuery): CardinalityEstimation | null {
    const wanted = this.#wanted(condition);
    if (wanted === undefined) return null;
    return exact(wanted ? this.#trueCount : this.#falseCount);
  }

  /** A per-offset check of `condition`, or null when not answered. */
  checker(condition: FieldQuery): OffsetChecker | null {
    const wanted = this.#wanted(condition);
    if (wanted === undefined) return null;
    return (offset) =>
      offset < this.offsets && !this.isRemoved(offset) &&
      this.#has(wanted ? this.#trues : this.#falses, offset);
  }

  /** Points with `false` and with `true`, over `points` (a bitset) when given; zero counts are left out. */
  facet(points?: Uint8Array): FacetHit[] {
    let falses = this.#falseCount;
    let trues = this.#trueCount;
    if (points !== undefined) {
      falses = 0;
      trues = 0;
      const bytes = Math.min(bitsetBytes(this.offsets), points.length);
      for (let i = 0; i < bytes; i++) {
        const live = points[i] & ~this.removed[i];
        falses += popcount8(live & this.#falses[i]);
        trues += popcount8(live & this.#trues[i]);
      }
    }
    const hits: FacetHit[] = [];
    if (falses > 0) hits.push({ value: false, count: falses });
    if (trues > 0) hits.push({ value: true, count: trues });
    return hits;
  }

  /** The index's bytes (see `_codec.ts`). */
  serialize(): Uint8Array {
    const bytes = bitsetBytes(this.offsets);
    return new IndexWriter()
      .text(schemaToJson(this.schema))
      .u8(this.removedView())
      .u8(this.#trues.subarray(0, bytes))
      .u8(this.#falses.subarray(0, bytes))
      .finish(KIND_CODES.bool, this.offsets);
  }

  /** Restores a bool index from its sections (the reader is positioned after the schema). */
  static restore(schema: FieldSchema, reader: IndexReader): BoolIndex {
    const index = new BoolIndex(schema);
    const n = reader.offsets;
    const bytes = bitsetBytes(n);
    const removed = reader.u8("removed");
    const trues = reader.u8("trues");
    const falses = reader.u8("falses");
    for (const [what, bits] of [["removed", removed], ["trues", trues], ["falses", falses]] as const) {
      check(bits.length === bytes, `${what} bitset has ${bits.length} bytes for ${n} offsets`);
      // Bits past the last offset must be clear, or counts would include offsets that do not exist.
      check(
        n % 8 === 0 || (bits[bytes - 1] >>> (n % 8)) === 0,
        `${what} bitset has bits past offset ${n - 1}`,
      );
    }
    index.restoreRemoved(removed, n);
    index.#trues = growBits(trues, n);
    index.#falses = growBits(falses, n);
    for (let o = 0; o < n; o++) {
      if (index.isRemoved(o)) continue;
      const hasTrue = index.#has(trues, o);
      const hasFalse = index.#has(falses, o);
      if (hasTrue) index.#trueCount++;
      if (hasFalse) index.#falseCount++;
      if (hasTrue || hasFalse) index.#points++;
    }
    return index;
  }
}

function popcount8(byte: number): number {
  let x = byte - ((byte >>> 1) & 0x55);
  x = (x & 0x33) + ((x >>> 2) & 0x33);
  return (x + (x >>> 4)) & 0x0f;
}
