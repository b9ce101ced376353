/**
 * Selecting the points of a segment by filter: a predicate per offset over the compiled filter, and the
 * allow-bitset that a filtered vector search passes to the kernel in one call.
 *
 * @module
 */
import { compileFilter } from "../filter/evaluate.ts";
import type { FieldCondition, Filter } from "../filter/types.ts";
import type { CardinalityEstimation, FieldQuery, OffsetSet } from "../index/mod.ts";
import type { Payload } from "../segment/payload_storage.ts";
import type { Segment } from "../segment/segment.ts";
import type { IdKey } from "./point_id.ts";

/** Whether the live point at an offset matches. */
export type OffsetTest = (offset: number) => boolean;

/**
 * How a filter's points are found: by iterating the candidates of a payload index on one of its `must`
 * conditions (each then checked against the whole filter), or by checking every live point.
 */
export interface FilterPlan {
  /** `"payload_index"` or `"full_scan"`. */
  path: "payload_index" | "full_scan";
  /** The indexed key whose candidates were iterated. */
  key?: string;
  /** The index's estimate of that condition's points. */
  estimate?: CardinalityEstimation;
}

/**
 * Calls `visit` with each live offset of `segment` that matches `filter`, following `planned` (by default
 * the filter's plan; a caller that planned already passes its result).
 */
export function forEachMatch(
  segment: Segment,
  filter: Filter,
  visit: (offset: number) => void,
  planned: { condition?: FieldCondition } = planFilter(segment, filter),
): void {
  const test = offsetTest(segment, filter);
  const condition = planned.condition;
  if (condition === undefined) {
    segment.forEachLive((offset) => {
      if (test(offset)) visit(offset);
    });
    return;
  }
  const candidates = segment.payloadIndex(condition.key)!.filter(asQuery(condition)!)!.toArray();
  for (const offset of candidates) if (segment.isLive(offset) && test(offset)) visit(offset);
}

/**
 * The planned index's candidates when they are exactly the filter's matches: for a filter that is one
 * `must` condition matching a value, any of some values, or a range, on an indexed key (the index answers
 * those exactly and holds live points only). Otherwise undefined: each candidate must be checked.
 */
export function exactCandidates(
  segment: Segment,
  filter: Filter,
  planned: { condition?: FieldCondition },
): OffsetSet | undefined {
  const condition = planned.condition;
  if (condition === undefined || filter.must?.length !== 1 || filter.must[0] !== condition) return undefined;
  if ((filter.should?.length ?? 0) > 0 || (filter.must_not?.length ?? 0) > 0 || filter.min_should) {
    return undefined;
  }
  const match = condition.match;
  const simple = match === undefined ? condition.range !== undefined : "value" in match || "any" in match;
  if (!simple || condition.geo_bounding_box || condition.geo_radius || condition.geo_polygon) {
    return undefined;
  }
  return segment.payloadIndex(condition.key)!.filter(asQuery(condition)!) ?? undefined;
}

/**
 * Picks the `must` field condition on an indexed key with the smallest estimate, if any. Geo conditions
 * are never iterated from the index: its geohash tiles can miss points near the poles and for boxes that
 * span the globe (as Qdrant's do), while the per-point check is exact.
 */
export function planFilter(
  segment: Segment,
  filter: Filter,
): { plan: FilterPlan; condition?: FieldCondition } {
  let best: { condition: FieldCondition; estimate: CardinalityEstimation } | undefined;
  for (const condition of filter.must ?? []) {
    if (
      !("key" in condition) || condition.geo_bounding_box || condition.geo_radius || condition.geo_polygon
    ) {
      continue;
    }
    const query = asQuery(condition);
    const estimate = query && segment.payloadIndex(condition.key)?.estimate(query);
    if (estimate === undefined || estimate === null) continue;
    if (best === undefined || estimate.exp < best.estimate.exp) best = { condition, estimate };
  }
  if (best === undefined) return { plan: { path: "full_scan" } };
  return {
    plan: { path: "payload_index", key: best.condition.key, estimate: best.estimate },
    condition: best.condition,
  };
}

/**
 * The filter as a test of offsets of `segment`. Conditions on indexed keys are checked through the index
 * (as Qdrant does); the point's payload is read only when another condition needs it, at most once.
 */
export function offsetTest(segment: Segment, filter: Filter): OffsetTest {
  const test = compileFilter(filter, {
    fieldChecker: (condition) => {
      const index = segment.payloadIndex(condition.key);
      if (index === undefined) return undefined;
      const query = asQuery(condition);
      if (query !== undefined) return index.checker(query) ?? undefined;
      return indexedEmptinessTest(segment, condition);
    },
  });
  const view = new SegmentPointView(segment);
  return (offset) => {
    view.moveTo(offset);
    return test(view);
  };
}

/**
 * A field condition as the payload indexes take it: one with a match (other than substring, which they do
 * not know), a range or a geo test. values_count, is_empty and is_null are left to the payload.
 */
function asQuery(condition: FieldCondition): FieldQuery | undefined {
  if (condition.match !== undefined) {
    return "substring" in condition.match ? undefined : condition as FieldQuery;
  }
  const served = condition.range !== undefined || condition.geo_bounding_box !== undefined ||
    condition.geo_radius !== undefined || condition.geo_polygon !== undefined;
  return served ? condition as FieldQuery : undefined;
}

/**
 * On an indexed key, Qdrant judges the field-level `is_empty: true` and `is_null: false` as the
 * `is_empty` condition and the negated `is_null` condition do: over every value the path reaches, not
 * value by value (so `a[].b` over `[{"b": 1}, {"b": null}]` is neither empty nor free of nulls).
 * Established with qdrant-edge-py 0.9 on keyword and integer indexes; `is_empty: false`, `is_null: true`
 * and `values_count` keep their unindexed meaning.
 */
function indexedEmptinessTest(segment: Segment, condition: FieldCondition): OffsetTest | undefined {
  if (condition.values_count !== undefined) return undefined;
  if (condition.is_empty === true) {
    return offsetTest(segment, { must: [{ is_empty: { key: condition.key } }] });
  }
  if (condition.is_empty === undefined && condition.is_null === false) {
    return offsetTest(segment, { must_not: [{ is_null: { key: condition.key } }] });
  }
  return undefined;
}

/** The point at one offset, as the filter evaluator sees it; moved from offset to offset, never copied. */
class SegmentPointView {
  readonly #segment: Segment;
  readonly #read: (offset: number) => Payload;
  #offset = -1;
  #key: IdKey | undefined;
  #payload: Payload | undefined;

  constructor(segment: Segment) {
    this.#segment = segment;
    this.#read = segment.payloadCursor();
  }

  moveTo(offset: number): void {
    this.#offset = offset;
    this.#key = undefined;
    this.#payload = undefined;
  }

  get offset(): number {
    return this.#offset;
  }

  get key(): IdKey {
    return this.#key ??= this.#segment.keyAt(this.#offset)!;
  }

  payload(): Payload {
    return this.#payload ??= this.#read(this.#offset);
  }

  hasVector(name: string): boolean {
    return this.#segment.hasVector(name, this.#offset);
  }
}
