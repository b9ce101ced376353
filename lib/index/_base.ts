/**
 * What every payload index shares: the covered offset range, the removed-offset bitset, argument checks,
 * Qdrant's estimation formulas, and the one-level flattening of array values.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { growBits } from "./_columns.ts";
import type { OffsetSet } from "./offset_set.ts";
import { type FieldSchema, type PayloadIndexInfo, type PayloadSchemaType, schemaInfoOf } from "./schema.ts";
import type { CardinalityEstimation, FieldQuery, OffsetChecker } from "./types.ts";

/** Offsets are u32 in Qdrant; the largest one is reserved. */
export const OFFSET_LIMIT = 0xffffffff;

/** The state and checks every index shares; subclasses keep the values. */
export abstract class IndexBase {
  /** The parsed schema the index was created with. */
  readonly schema: FieldSchema;
  /** Bit o set: offset o was removed. */
  protected removed: Uint8Array = new Uint8Array(128);
  /** Offsets covered: [0, offsets). */
  protected offsets = 0;

  /** State for an empty index of `schema`. */
  constructor(schema: FieldSchema) {
    this.schema = schema;
  }

  /** The schema type. */
  get dataType(): PayloadSchemaType {
    return this.schema.dataType;
  }

  /** Offsets covered: [0, offsetCount). */
  get offsetCount(): number {
    return this.offsets;
  }

  /** Whether `offset` was removed. */
  isRemoved(offset: number): boolean {
    return offset < this.offsets && (this.removed[offset >>> 3] & (1 << (offset & 7))) !== 0;
  }

  /** Checks an offset given to `add()` and extends the covered range to it. */
  protected beginAdd(offset: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset >= OFFSET_LIMIT) {
      throw new InvalidArgumentError(
        `Cannot index offset ${offset}: expected an integer in [0, ${OFFSET_LIMIT})`,
      );
    }
    if (offset < this.offsets) {
      throw new InvalidArgumentError(
        `Cannot index offset ${offset}: offsets are append-only and the index already covers [0, ${this.offsets})`,
      );
    }
    this.offsets = offset + 1;
    this.removed = growBits(this.removed, this.offsets);
  }

  /** Takes `offset` out of every answer and statistic (idempotent). */
  remove(offset: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.offsets) {
      throw new InvalidArgumentError(
        `Cannot remove offset ${offset}: the index covers offsets [0, ${this.offsets})`,
      );
    }
    const bit = 1 << (offset & 7);
    if ((this.removed[offset >>> 3] & bit) !== 0) return;
    this.removed[offset >>> 3] |= bit;
    this.onRemove(offset);
  }

  /** Updates statistics when `offset` leaves the index (called once per offset). */
  protected abstract onRemove(offset: number): void;

  /** Points (not removed) with at least one indexed value. */
  abstract indexedPointCount(): number;

  /** What `info().payload_schema[field]` shows. */
  schemaInfo(): PayloadIndexInfo {
    return schemaInfoOf(this.schema, this.indexedPointCount());
  }

  /** The removed bitset, sized to the covered range (a view). */
  protected removedView(): Uint8Array {
    return this.removed.subarray(0, (this.offsets + 7) >>> 3);
  }

  /** Restores the removed bitset of a deserialized index. */
  protected restoreRemoved(bits: Uint8Array, offsets: number): void {
    this.offsets = offsets;
    this.removed = growBits(new Uint8Array(0), offsets);
    this.removed.set(bits.subarray(0, this.removed.length));
  }

  /** The offsets matching `condition`, or null when not answered. */
  abstract filter(condition: FieldQuery): OffsetSet | null;
  /** Estimated matches of `condition`, or null when not answered. */
  abstract estimate(condition: FieldQuery): CardinalityEstimation | null;
  /** A per-offset check of `condition`, or null when not answered. */
  abstract checker(condition: FieldQuery): OffsetChecker | null;
}

/** Calls `visit` for each value, and for each element of array values (one level, as Qdrant's `get_values`). */
export function forEachValue(values: readonly unknown[], visit: (value: unknown) => void): void {
  if (!Array.isArray(values)) {
    throw new InvalidArgumentError(
      `Cannot index values: expected an array of JSON values, received ${typeof values}`,
    );
  }
  for (const value of values) {
    if (Array.isArray(value)) { for (const element of value) visit(element); }
    else visit(value);
  }
}

/** An estimation where min, exp and max are all `count`. */
export function exact(count: number): CardinalityEstimation {
  return { min: count, exp: count, max: count };
}

/** Qdrant's `number_of_selected_points`: points hit when `values` values are spread over `points` points. */
export function numberOfSelectedPoints(points: number, values: number): number {
  if (points === 0) return 0;
  const probability = 1 - Math.exp(-(values / points));
  return Math.round(probability * points);
}

/** Qdrant's `expected_should_estimation`: expected size of a union of independent sets. */
export function expectedShouldEstimation(sizes: readonly number[], total: number): number {
  if (total === 0) return 0;
  let notHit = 1;
  for (const size of sizes) notHit *= 1 - size / total;
  return Math.round((1 - notHit) * total);
}

/** Qdrant's `combine_should_estimations` (for `any`). */
export function combineShould(
  estimations: readonly CardinalityEstimation[],
  total: number,
): CardinalityEstimation {
  if (estimations.length === 0) return exact(0);
  let min = 0;
  let sum = 0;
  for (const e of estimations) {
    min = Math.max(min, e.min);
    sum += e.max;
  }
  return {
    min,
    exp: expectedShouldEstimation(estimations.map((e) => e.exp), total),
    max: Math.min(sum, total),
  };
}

function approxFactLog(n: number): number {
  if (n < 1) return 1;
  return Math.log(Math.sqrt(2 * Math.PI * n)) + n * Math.log(n / Math.E);
}

/** Qdrant's `estimate_multi_value_selection_cardinality`: points hit when `selected` of `values` values are picked. */
export function multiValueSelection(points: number, values: number, selected: number): number {
  if (points === 0 || values < points) return Math.min(points, selected);
  const perPoint = values / points;
  const notSelected = Math.exp(
    approxFactLog(values - perPoint) + approxFactLog(values - selected) -
      approxFactLog(values - perPoint - selected) -
      approxFactLog(values),
  );
  const result = (1 - notSelected) * points;
  return Number.isFinite(result) ? result : Math.min(points, selected);
}

/** `value` clamped to [min, max] the way Qdrant's `.max(min).min(max)` does (max wins when min > max). */
export function clampEstimate(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

/** A checker that never matches (Qdrant's `MATCH_NONE`). */
export const MATCH_NONE: OffsetChecker = () => false;

/** The key of the one clause of `match`, if it is an object. */
export function matchKind(condition: FieldQuery): string | undefined {
  const match = condition.match;
  if (match === undefined || match === null) return undefined;
  if (typeof match !== "object") {
    throw new InvalidArgumentError(
      `Invalid field condition: "match" must be an object, received ${typeof match}`,
    );
  }
  for (const key of ["value", "any", "except", "text", "text_any", "phrase", "prefix"]) {
    if (key in match) return key;
  }
  return "other";
}

/** The elements of an `any`/`except` list, classified as Qdrant's untagged `AnyVariants` reads them. */
export function anyVariants(list: unknown, clause: string): { strings: string[] } | { integers: number[] } {
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      `Invalid field condition: "${clause}" must be a list, received ${typeof list}`,
    );
  }
  // An empty list reads as a list of strings, the first variant.
  if (list.every((x) => typeof x === "string")) return { strings: list as string[] };
  if (list.every((x) => typeof x === "number" && Number.isInteger(x))) return { integers: list as number[] };
  throw new InvalidArgumentError(
    `Invalid field condition: "${clause}" must be a list of strings or a list of integers, received ${
      JSON.stringify(list)
    }`,
  );
}

/** Qdrant's `value_to_integer`: integral numbers within i64 (a float like 2.0 counts as 2). */
export function integerValue(value: unknown): number | undefined {
  if (typeof value !== "number" || !Number.isInteger(value)) return undefined;
  // 2^63 itself converts to i64::MAX, which reads back as 2^63 in a double.
  return value >= -9223372036854775808 && value <= 9223372036854775808 ? value : undefined;
}
