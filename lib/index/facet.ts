/**
 * Facet results as Qdrant Edge orders them (`FacetResponse::top_hits` over `FacetHit`'s `Ord`, Qdrant
 * `data_types/facets.rs`, checked against Qdrant Edge 0.9): the `limit` hits with the largest counts, count
 * descending, ties by value ascending — strings in Unicode code point (UTF-8 byte) order, integers
 * numerically, `false` before `true`.
 *
 * Counts from several segments are summed per value first ({@linkcode mergeFacetHits}).
 *
 * @module
 */
import { compareCodePoints } from "./_columns.ts";
import type { FacetHit } from "./types.ts";

/**
 * Compares two facet values the way Qdrant orders them (values of one field share a type).
 *
 * @example
 * ```ts
 * import { compareFacetValues } from "./facet.ts";
 * console.log(compareFacetValues("B", "a") < 0, compareFacetValues(10, 9) > 0, compareFacetValues(false, true) < 0);
 * // true true true
 * ```
 */
export function compareFacetValues(a: FacetHit["value"], b: FacetHit["value"]): number {
  if (typeof a === "string" && typeof b === "string") return compareCodePoints(a, b);
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  // Mixed types do not occur within one index; Qdrant's enum order is keyword, integer, uuid, bool.
  const rank = (v: FacetHit["value"]) => (typeof v === "string" ? 0 : typeof v === "number" ? 1 : 2);
  return rank(a) - rank(b);
}

/**
 * The `limit` hits Qdrant returns: largest counts first, ties by ascending value.
 *
 * @example
 * ```ts
 * import { topFacetHits } from "./facet.ts";
 * const hits = [{ value: "b", count: 1 }, { value: "a", count: 2 }, { value: "B", count: 1 }];
 * console.log(topFacetHits(hits, 2)); // [ { value: "a", count: 2 }, { value: "B", count: 1 } ]
 * ```
 */
export function topFacetHits(hits: readonly FacetHit[], limit: number): FacetHit[] {
  return [...hits]
    .sort((x, y) => y.count - x.count || compareFacetValues(x.value, y.value))
    .slice(0, Math.max(0, limit));
}

/**
 * Sums the counts of the same value across several lists of hits (one per segment).
 *
 * @example
 * ```ts
 * import { mergeFacetHits } from "./facet.ts";
 * console.log(mergeFacetHits([[{ value: 1, count: 2 }], [{ value: 1, count: 3 }, { value: 2, count: 1 }]]));
 * // [ { value: 1, count: 5 }, { value: 2, count: 1 } ]
 * ```
 */
export function mergeFacetHits(lists: readonly (readonly FacetHit[])[]): FacetHit[] {
  const counts = new Map<FacetHit["value"], number>();
  for (const list of lists) {
    for (const hit of list) counts.set(hit.value, (counts.get(hit.value) ?? 0) + hit.count);
  }
  return [...counts].map(([value, count]) => ({ value, count }));
}
