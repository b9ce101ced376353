/**
 * Numeric indexes: float, datetime (microseconds since the epoch) and the `range` half of the integer index.
 * Per offset the index keeps its distinct values (CSR); for queries, every (value, offset) pair sorted by
 * value then offset (a stable radix sort over the float's bits), extended by a scan of the offsets added
 * since the last sort (merged in once that tail outgrows an eighth of the index).
 *
 * Semantics (Qdrant `numeric_index/query.rs`, `numeric_point.rs`, `types.rs`, checked against Qdrant Edge
 * 0.9):
 * - Integer keeps integral numbers within i64 (2.0 counts), float every number, datetime every string that
 *   Qdrant parses as a datetime (RFC 3339 and the relaxed forms of `lib/payload/datetime.ts`), as
 *   microseconds (rounded down). Values beyond 2^53 lose precision (JSON numbers are doubles here).
 * - `range` with numbers is a float range; any string bound makes it a datetime range (every bound must then
 *   parse). On the integer and datetime indexes a float bound is rounded away from the range (`gte: 1.5`
 *   means `>= 2`); a datetime bound on the integer index compares microseconds; on the float index a bound
 *   before 1970 becomes 2^128 (Qdrant's `u128 as f64` of a negative timestamp).
 * - `filter()` reads only one lower bound (`gt` wins over `gte`) and one upper bound (`lt` over `lte`), as
 *   Qdrant's index does; `checker()` applies every bound, as Qdrant's condition checker does.
 * - `match.value` with a UUID string is answered (Qdrant's numeric index compares the UUID's low 64 bits as
 *   an integer, or the UUID as a float); other matches are not.
 * - Estimates use exact value counts in Qdrant's formulas (where Qdrant uses a histogram).
 *
 * Serialized sections after the schema: removed bitset (u8), list starts (u32, n + 1), values (f64).
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { parseDateTime } from "../payload/datetime.ts";
import { exact, forEachValue, IndexBase, integerValue, matchKind, multiValueSelection } from "./_base.ts";
import { check, checkStarts, type IndexReader, IndexWriter, KIND_CODES } from "./_codec.ts";
import { ListColumn, OffsetCollector, radixOrder, sortableFloatKey } from "./_columns.ts";
import { bitsetBytes, lowerBound, OffsetSet, upperBound } from "./offset_set.ts";
import { type FieldSchema, schemaToJson } from "./schema.ts";
import type {
  CardinalityEstimation,
  FieldQuery,
  OffsetChecker,
  OrderByOptions,
  OrderedIndex,
  RangeCondition,
} from "./types.ts";
import { canonicalUuid } from "./uuid.ts";

/** Which values a numeric index keeps. */
export type NumericKind = "integer" | "float" | "datetime";

const TAIL_MIN = 4096;

/** A range with at most one bound per side, as Qdrant's index reads it; `null` when it selects nothing. */
interface Bounds {
  low: number;
  lowInclusive: boolean;
  high: number;
  highInclusive: boolean;
}

/**
 * The microseconds since the epoch of a datetime string, or undefined when Qdrant would not parse it.
 *
 * @example
 * ```ts
 * import { datetimeMicros } from "./numeric_index.ts";
 * console.log(datetimeMicros("1970-01-01T00:00:01.5Z"), datetimeMicros("yesterday")); // 1500000 undefined
 * ```
 */
export function datetimeMicros(text: string): number | undefined {
  const instant = parseDateTime(text);
  return instant === undefined ? undefined : instant.seconds * 1e6 + Math.floor(instant.nanos / 1000);
}

/**
 * A range and order-by index over integers, floats or datetimes.
 *
 * @example
 * ```ts
 * import { NumericIndex } from "./numeric_index.ts";
 * import { parseFieldSchema } from "./schema.ts";
 * const index = new NumericIndex(parseFieldSchema("float"), "float");
 * index.add(0, [1.5]);
 * index.add(1, [[3, 10]]);
 * console.log([...index.filter({ range: { gt: 2 } })!.toArray()]); // [ 1 ]
 * ```
 */
export class NumericIndex extends IndexBase implements OrderedIndex {
  /** Which values this index keeps. */
  readonly kind: NumericKind;
  #forward: ListColumn<Float64Array> = new ListColumn((n) => new Float64Array(n));
  #points = 0;
  #values = 0;
  #removedValues = 0;
  #maxValuesPerPoint = 0;
  /** (value, offset) pairs of offsets [0, #builtOffsets), by value then offset. */
  #sortedValues: Float64Array = new Float64Array(0);
  #sortedOffsets: Uint32Array = new Uint32Array(0);
  #builtOffsets = 0;
  /** The pairs of the tail [#tailFrom, #tailTo), sorted, for ordered walks. */
  #tailValues: Float64Array = new Float64Array(0);
  #tailSortedOffsets: Uint32Array = new Uint32Array(0);
  #tailFrom = 0;
  #tailTo = 0;
  readonly #scratch: number[] = [];

  /** An empty index for `schema` keeping `kind` values. */
  constructor(schema: FieldSchema, kind: NumericKind) {
    super(schema);
    this.kind = kind;
  }

  #valueOf(value: unknown): number | undefined {
    switch (this.kind) {
      case "integer":
        return integerValue(value);
      case "float":
        return typeof value === "number" && Number.isFinite(value) ? value : undefined;
      case "datetime":
        return typeof value === "string" ? datetimeMicros(value) : undefined;
    }
  }

  /** Indexes the values found at the key for `offset` (not below `offsetCount`). */
  add(offset: number, values: readonly unknown[]): void {
    this.beginAdd(offset);
    const list = this.#scratch;
    list.length = 0;
    forEachValue(values, (value) => {
      let number = this.#valueOf(value);
      if (number === undefined) return;
      if (number === 0) number = 0; // -0 is 0, as in Qdrant's ordering
      if (!list.includes(number)) list.push(number);
    });
    list.sort((a, b) => a - b);
    this.#forward.append(offset, list);
    if (list.length > 0) this.#points++;
    this.#values += list.length;
    this.#maxValuesPerPoint = Math.max(this.#maxValuesPerPoint, list.length);
  }

  /** Updates the statistics when `offset` is removed (once per offset). */
  protected onRemove(offset: number): void {
    const count = this.#forward.count(offset);
    if (count > 0) this.#points--;
    this.#values -= count;
    this.#removedValues += count;
  }

  /** Points (not removed) with at least one value. */
  indexedPointCount(): number {
    return this.#points;
  }

  /** Distinct values of `offset`. */
  valuesCount(offset: number): number {
    return this.isRemoved(offset) ? 0 : this.#forward.count(offset);
  }

  /** The index's own value for a range bound, or throws when the bound is malformed. */
  #bound(value: number | string, datetime: boolean, rounding: "ceil" | "floor"): number {
    if (datetime) {
      const micros = typeof value === "string" ? datetimeMicros(value) : undefined;
      if (micros === undefined) {
        throw new InvalidArgumentError(
          `Invalid range: ${JSON.stringify(value)} does not match the accepted datetime format (RFC 3339), ` +
            `for example 2014-01-01T00:00:00Z`,
        );
      }
      // Qdrant converts the timestamp through u128: a float index sees 2^128 for times before 1970.
      return this.kind === "float" && micros < 0 ? 2 ** 128 : micros;
    }
    if (typeof value !== "number" || Number.isNaN(value)) {
      throw new InvalidArgumentError(
        `Invalid range: bounds must be numbers or datetime strings, received ${value}`,
      );
    }
    if (this.kind === "float") return value;
    // Integer-valued indexes round a fractional bound away from the range.
    return rounding === "ceil" ? Math.ceil(value) : Math.floor(value);
  }

  /** The bounds of a range: `{ lt, gt, gte, lte }` converted, `datetime` when any bound is a string. */
  #rangeBounds(range: RangeCondition): { lt?: number; gt?: number; gte?: number; lte?: number } {
    if (typeof range !== "object" || range === null) {
      throw new InvalidArgumentError(`Invalid field condition: "range" must be an object`);
    }
    const datetime = [range.lt, range.gt, range.gte, range.lte].some((b) => typeof b === "string");
    const out: { lt?: number; gt?: number; gte?: number; lte?: number } = {};
    // Qdrant's integer `from_f64_range` rounds each bound away from the range: ceil for lt and gte, floor
    // for gt and lte.
    if (range.lt !== undefined && range.lt !== null) out.lt = this.#bound(range.lt, datetime, "ceil");
    if (range.gt !== undefined && range.gt !== null) out.gt = this.#bound(range.gt, datetime, "floor");
    if (range.gte !== undefined && range.gte !== null) out.gte = this.#bound(range.gte, datetime, "ceil");
    if (range.lte !== undefined && range.lte !== null) out.lte = this.#bound(range.lte, datetime, "floor");
    return out;
  }

  /** Qdrant's `as_index_key_bounds` + `check_boundaries`: null when the range is empty. */
  #indexBounds(range: RangeCondition): Bounds | null {
    const r = this.#rangeBounds(range);
    const bounds: Bounds = { low: -Infinity, lowInclusive: true, high: Infinity, highInclusive: true };
    if (r.gt !== undefined) [bounds.low, bounds.lowInclusive] = [r.gt, false];
    else if (r.gte !== undefined) bounds.low = r.gte;
    if (r.lt !== undefined) [bounds.high, bounds.highInclusive] = [r.lt, false];
    else if (r.lte !== undefined) bounds.high = r.lte;
    if (bounds.low > bounds.high) return null;
    if (!bounds.lowInclusive && !bounds.highInclusive && bounds.low >= bounds.high) return null;
    return bounds;
  }

  /** The value a `match.value` UUID string stands for, or undefined when the match is not answered. */
  #uuidValue(condition: FieldQuery): number | undefined {
    if (matchKind(condition) !== "value") return undefined;
    const value = (condition.match as { value: unknown }).value;
    if (typeof value !== "string") return undefined;
    const uuid = canonicalUuid(value);
    if (uuid === undefined) return undefined;
    const bits = BigInt(`0x${uuid.replaceAll("-", "")}`);
    return this.kind === "float" ? Number(bits) : Number(BigInt.asIntN(64, bits));
  }

  /** The offsets matching `condition`, or null when not answered. */
  filter(condition: FieldQuery): OffsetSet | null {
    const uuid = this.#uuidValue(condition);
    if (uuid !== undefined) {
      return this.#collect({ low: uuid, lowInclusive: true, high: uuid, highInclusive: true });
    }
    if (condition.range === undefined || condition.range === null) return null;
    const bounds = this.#indexBounds(condition.range);
    if (bounds === null) return OffsetSet.empty(this.offsets);
    return this.#collect(bounds);
  }

  /** Estimated matches of `condition`, or null when not answered. */
  estimate(condition: FieldQuery): CardinalityEstimation | null {
    const uuid = this.#uuidValue(condition);
    if (uuid !== undefined) {
      const [inRange] = this.#countValues({ low: uuid, lowInclusive: true, high: uuid, highInclusive: true });
      if (inRange === 0 || this.#points === 0) return exact(0);
      return exact(Math.round(Math.max(inRange / (this.#values / this.#points), 1)));
    }
    if (condition.range === undefined || condition.range === null) return null;
    if (this.#maxValuesPerPoint === 0 || this.#points === 0) return exact(0);
    const bounds = this.#indexBounds(condition.range);
    if (bounds === null) return exact(0);
    const [all] = this.#countValues(bounds);
    // Removed offsets are still in the sorted pairs: bound their share instead of counting it.
    const high = all;
    const low = Math.max(0, all - this.#removedValues);
    const expected = this.#removedValues === 0
      ? all
      : all * this.#values / (this.#values + this.#removedValues);
    const points = this.#points;
    const min = Math.max(
      Math.floor(low / this.#maxValuesPerPoint),
      Math.max(Math.min(1, low), Math.max(0, low - (this.#values - points))),
    );
    const max = Math.min(points, high);
    const exp = Math.round(multiValueSelection(points, this.#values, Math.round(expected)));
    return { min, exp: Math.min(max, Math.max(exp, min)), max };
  }

  /** A per-offset check of `condition` (every bound applies), or null when not answered. */
  checker(condition: FieldQuery): OffsetChecker | null {
    const uuid = this.#uuidValue(condition);
    let test: (value: number) => boolean;
    if (uuid !== undefined) {
      test = (value) => value === uuid;
    } else {
      if (condition.range === undefined || condition.range === null) return null;
      const r = this.#rangeBounds(condition.range);
      test = (value) =>
        (r.lt === undefined || value < r.lt) && (r.gt === undefined || value > r.gt) &&
        (r.lte === undefined || value <= r.lte) && (r.gte === undefined || value >= r.gte);
    }
    const forward = this.#forward;
    return (offset) => {
      if (offset >= forward.length || this.isRemoved(offset)) return false;
      const data = forward.data;
      const end = forward.end(offset);
      for (let i = forward.start(offset); i < end; i++) if (test(data[i])) return true;
      return false;
    };
  }

  /** Merges the tail into the sorted pairs when it is too long. */
  #sortedReady(): void {
    const tail = this.#forward.length - this.#builtOffsets;
    if (tail > Math.max(TAIL_MIN, this.#forward.length >>> 3)) this.#merge();
  }

  /** The (value, offset) pairs of offsets [from, to), sorted by value then offset. */
  #sortPairs(from: number, to: number): [Float64Array, Uint32Array] {
    const start = this.#forward.start(from);
    const n = (to > from ? this.#forward.end(to - 1) : start) - start;
    const data = this.#forward.data;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    const owners = new Uint32Array(n);
    for (let o = from, i = 0; o < to; o++) {
      const end = this.#forward.end(o);
      for (let k = this.#forward.start(o); k < end; k++, i++) {
        sortableFloatKey(data[k], hi, lo, i);
        owners[i] = o;
      }
    }
    const order = radixOrder(hi, lo, n);
    const values = new Float64Array(n);
    const offsets = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      values[i] = data[start + order[i]];
      offsets[i] = owners[order[i]];
    }
    return [values, offsets];
  }

  #merge(): void {
    const to = this.#forward.length;
    const [tailValues, tailOffsets] = this.#sortPairs(this.#builtOffsets, to);
    const a = this.#sortedValues;
    const ao = this.#sortedOffsets;
    const values = new Float64Array(a.length + tailValues.length);
    const offsets = new Uint32Array(values.length);
    let i = 0;
    let j = 0;
    let k = 0;
    // Tail offsets are all above the sorted ones, so on equal values the sorted pair goes first.
    while (i < a.length && j < tailValues.length) {
      if (a[i] <= tailValues[j]) {
        values[k] = a[i];
        offsets[k++] = ao[i++];
      } else {
        values[k] = tailValues[j];
        offsets[k++] = tailOffsets[j++];
      }
    }
    for (; i < a.length; i++, k++) [values[k], offsets[k]] = [a[i], ao[i]];
    for (; j < tailValues.length; j++, k++) [values[k], offsets[k]] = [tailValues[j], tailOffsets[j]];
    this.#sortedValues = values;
    this.#sortedOffsets = offsets;
    this.#builtOffsets = to;
  }

  /** Index range [from, to) of the sorted pairs within the bounds. */
  #sortedRange(bounds: Bounds): [number, number] {
    const values = this.#sortedValues;
    const from = bounds.lowInclusive ? lowerBound(values, bounds.low) : upperBound(values, bounds.low);
    const to = bounds.highInclusive ? upperBound(values, bounds.high) : lowerBound(values, bounds.high);
    return [from, Math.max(from, to)];
  }

  #inBounds(value: number, bounds: Bounds): boolean {
    return (bounds.lowInclusive ? value >= bounds.low : value > bounds.low) &&
      (bounds.highInclusive ? value <= bounds.high : value < bounds.high);
  }

  #collect(bounds: Bounds): OffsetSet {
    this.#sortedReady();
    const collector = new OffsetCollector(this.offsets);
    const [from, to] = this.#sortedRange(bounds);
    collector.addAll(this.#sortedOffsets, from, to);
    const data = this.#forward.data;
    for (let o = this.#builtOffsets; o < this.#forward.length; o++) {
      const end = this.#forward.end(o);
      for (let i = this.#forward.start(o); i < end; i++) {
        if (this.#inBounds(data[i], bounds)) {
          collector.add(o);
          break;
        }
      }
    }
    return collector.finish(this.removed);
  }

  /** Values within the bounds, removed offsets included: [count]. */
  #countValues(bounds: Bounds): [number] {
    this.#sortedReady();
    const [from, to] = this.#sortedRange(bounds);
    let count = to - from;
    const data = this.#forward.data;
    for (let i = this.#forward.start(this.#builtOffsets); i < this.#forward.size; i++) {
      if (this.#inBounds(data[i], bounds)) count++;
    }
    return [count];
  }

  /** Walks (value, offset) pairs in order (see `OrderedIndex`). */
  forEachOrdered(options: OrderByOptions, visit: (value: number, offset: number) => boolean | void): void {
    const descending = options.direction === "desc";
    if (
      options.direction !== undefined && options.direction !== null && options.direction !== "asc" &&
      !descending
    ) {
      throw new InvalidArgumentError(
        `Invalid order_by: direction must be "asc" or "desc", received ${options.direction}`,
      );
    }
    let start = descending ? Infinity : -Infinity;
    const from = options.start_from;
    if (from !== undefined && from !== null) {
      const datetime = typeof from === "string";
      start = this.#bound(from, datetime, descending ? "floor" : "ceil");
    }
    this.#sortedReady();
    if (this.#tailFrom !== this.#builtOffsets || this.#tailTo !== this.#forward.length) {
      [this.#tailValues, this.#tailSortedOffsets] = this.#sortPairs(this.#builtOffsets, this.#forward.length);
      this.#tailFrom = this.#builtOffsets;
      this.#tailTo = this.#forward.length;
    }
    const a = this.#sortedValues;
    const ao = this.#sortedOffsets;
    const b = this.#tailValues;
    const bo = this.#tailSortedOffsets;
    const removed = this.removed;
    if (!descending) {
      let i = lowerBound(a, start);
      let j = lowerBound(b, start);
      // Each pass consumes one pair, so at most a.length + b.length passes.
      while (i < a.length || j < b.length) {
        const fromA = j >= b.length || (i < a.length && a[i] <= b[j]);
        const value = fromA ? a[i] : b[j];
        const offset = fromA ? ao[i++] : bo[j++];
        if ((removed[offset >>> 3] & (1 << (offset & 7))) !== 0) continue;
        if (visit(value, offset) === false) return;
      }
      return;
    }
    let i = upperBound(a, start) - 1;
    let j = upperBound(b, start) - 1;
    while (i >= 0 || j >= 0) {
      const fromB = i < 0 || (j >= 0 && b[j] >= a[i]);
      const value = fromB ? b[j] : a[i];
      const offset = fromB ? bo[j--] : ao[i--];
      if ((removed[offset >>> 3] & (1 << (offset & 7))) !== 0) continue;
      if (visit(value, offset) === false) return;
    }
  }

  /** The index's bytes (see `_codec.ts`). */
  serialize(): Uint8Array {
    const writer = new IndexWriter().text(schemaToJson(this.schema));
    this.writeSections(writer);
    return writer.finish(KIND_CODES[this.kind], this.offsets);
  }

  /** Appends this index's sections (everything but the schema) to `writer`. */
  writeSections(writer: IndexWriter): void {
    writer.u8(this.removedView()).u32(this.#forward.startsView()).f64(this.#forward.dataView());
  }

  /** Restores a numeric index from the sections `writeSections` wrote (the reader is positioned at them). */
  static restore(schema: FieldSchema, kind: NumericKind, reader: IndexReader): NumericIndex {
    const index = new NumericIndex(schema, kind);
    const n = reader.offsets;
    const removed = reader.u8("removed");
    check(removed.length === bitsetBytes(n), `removed bitset has ${removed.length} bytes for ${n} offsets`);
    const starts = reader.u32("list starts");
    const data = reader.f64("values");
    checkStarts(starts, n, data.length, "value lists");
    index.restoreRemoved(removed, n);
    for (let o = 0; o < n; o++) {
      for (let i = starts[o]; i < starts[o + 1]; i++) {
        check(Number.isFinite(data[i]), `offset ${o} has the value ${data[i]}`);
        check(
          i === starts[o] || data[i - 1] < data[i],
          `the values of offset ${o} are not sorted and distinct`,
        );
        if (kind !== "float") {
          check(Number.isInteger(data[i]), `offset ${o} has the non-integer value ${data[i]}`);
        }
      }
      const count = starts[o + 1] - starts[o];
      index.#maxValuesPerPoint = Math.max(index.#maxValuesPerPoint, count);
      if (index.isRemoved(o)) {
        index.#removedValues += count;
      } else if (count > 0) {
        index.#points++;
        index.#values += count;
      }
    }
    index.#forward = new ListColumn((size) => new Float64Array(size), starts, data);
    return index;
  }
}
