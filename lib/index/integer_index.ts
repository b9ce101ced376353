/**
 * The integer index: a map index for `match` conditions (`lookup`, on by default) and a numeric index for
 * `range` conditions and `order_by` (`range`, on by default), over the same values. A condition goes to the
 * first part that answers it, lookup first, as Qdrant's field indexes are tried in turn.
 *
 * With `lookup: false`, `match` conditions are not answered (the caller checks the payload) and facets are
 * not available; with `range: false`, neither are `range` conditions nor `order_by`.
 *
 * Serialized sections after the schema: the map index's sections when `lookup` is on, then the numeric
 * index's when `range` is on.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { IndexBase } from "./_base.ts";
import { type IndexReader, IndexWriter, KIND_CODES } from "./_codec.ts";
import { MapIndex } from "./map_index.ts";
import { NumericIndex } from "./numeric_index.ts";
import type { OffsetSet } from "./offset_set.ts";
import { type FieldSchema, type IntegerIndexParams, schemaToJson } from "./schema.ts";
import type {
  CardinalityEstimation,
  FacetHit,
  FacetIndex,
  FieldQuery,
  OffsetChecker,
  OrderByOptions,
  OrderedIndex,
} from "./types.ts";

/**
 * An integer index with exact lookups and ranges.
 *
 * @example
 * ```ts
 * import { IntegerIndex } from "./integer_index.ts";
 * import { parseFieldSchema } from "./schema.ts";
 * const index = new IntegerIndex(parseFieldSchema("integer"));
 * index.add(0, [3]);
 * index.add(1, [[1, 5]]);
 * console.log([...index.filter({ match: { value: 5 } })!.toArray()], [...index.filter({ range: { lte: 3 } })!.toArray()]);
 * // [ 1 ] [ 0, 1 ]
 * ```
 */
export class IntegerIndex extends IndexBase implements FacetIndex, OrderedIndex {
  /** The `lookup` part, when enabled. */
  readonly lookup: MapIndex | undefined;
  /** The `range` part, when enabled. */
  readonly range: NumericIndex | undefined;

  /** An empty index for `schema` (an integer schema). */
  constructor(schema: FieldSchema, parts?: { lookup?: MapIndex; range?: NumericIndex }) {
    super(schema);
    const params = schema.params as IntegerIndexParams | undefined;
    if (parts !== undefined) {
      this.lookup = parts.lookup;
      this.range = parts.range;
      return;
    }
    this.lookup = params?.lookup === false ? undefined : new MapIndex(schema, "integer");
    this.range = params?.range === false ? undefined : new NumericIndex(schema, "integer");
  }

  #parts(): (MapIndex | NumericIndex)[] {
    return [this.lookup, this.range].filter((part) => part !== undefined) as (MapIndex | NumericIndex)[];
  }

  /** Offsets covered: [0, offsetCount). */
  override get offsetCount(): number {
    return this.#parts()[0].offsetCount;
  }

  /** Indexes the values found at the key for `offset` (not below `offsetCount`). */
  add(offset: number, values: readonly unknown[]): void {
    // The parts check the offset the same way, so the first one throws before anything changes.
    for (const part of this.#parts()) part.add(offset, values);
  }

  /** Takes `offset` out of every answer and statistic (idempotent). */
  override remove(offset: number): void {
    for (const part of this.#parts()) part.remove(offset);
  }

  /** Whether `offset` was removed. */
  override isRemoved(offset: number): boolean {
    return this.#parts()[0].isRemoved(offset);
  }

  /** Nothing to do: the parts keep the removed offsets. */
  protected onRemove(): void {
  }

  /** Points (not removed) with at least one integer. */
  indexedPointCount(): number {
    return Math.min(...this.#parts().map((part) => part.indexedPointCount()));
  }

  /** Distinct integers of `offset`. */
  valuesCount(offset: number): number {
    return this.#parts()[0].valuesCount(offset);
  }

  /** The offsets matching `condition`, or null when no part answers it. */
  filter(condition: FieldQuery): OffsetSet | null {
    for (const part of this.#parts()) {
      const result = part.filter(condition);
      if (result !== null) return result;
    }
    return null;
  }

  /** Estimated matches of `condition`, or null when no part answers it. */
  estimate(condition: FieldQuery): CardinalityEstimation | null {
    for (const part of this.#parts()) {
      const result = part.estimate(condition);
      if (result !== null) return result;
    }
    return null;
  }

  /** A per-offset check of `condition`, or null when no part answers it. */
  checker(condition: FieldQuery): OffsetChecker | null {
    for (const part of this.#parts()) {
      const result = part.checker(condition);
      if (result !== null) return result;
    }
    return null;
  }

  /** Points per integer (needs `lookup`). */
  facet(points?: Uint8Array): FacetHit[] {
    if (this.lookup === undefined) {
      throw new InvalidArgumentError(`Cannot facet an integer index created with "lookup": false`);
    }
    return this.lookup.facet(points);
  }

  /** Walks (value, offset) pairs in order (needs `range`). */
  forEachOrdered(options: OrderByOptions, visit: (value: number, offset: number) => boolean | void): void {
    if (this.range === undefined) {
      throw new InvalidArgumentError(`Cannot order by an integer index created with "range": false`);
    }
    this.range.forEachOrdered(options, visit);
  }

  /** The index's bytes (see `_codec.ts`). */
  serialize(): Uint8Array {
    const writer = new IndexWriter().text(schemaToJson(this.schema));
    this.lookup?.writeSections(writer);
    this.range?.writeSections(writer);
    return writer.finish(KIND_CODES.integer, this.offsetCount);
  }

  /** Restores an integer index from its sections (the reader is positioned after the schema). */
  static restore(schema: FieldSchema, reader: IndexReader): IntegerIndex {
    const params = schema.params as IntegerIndexParams | undefined;
    const lookup = params?.lookup === false ? undefined : MapIndex.restore(schema, "integer", reader);
    const range = params?.range === false ? undefined : NumericIndex.restore(schema, "integer", reader);
    return new IntegerIndex(schema, { lookup, range });
  }
}
