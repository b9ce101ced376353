/**
 * The common shape of every payload index: what goes in (per offset, the JSON values found at the indexed
 * key), what comes out (sets of offsets, cardinality estimates, per-offset checks), and the conditions they
 * answer, in Qdrant's JSON shapes (a `FieldCondition` without its `key`).
 *
 * @module
 */
import type { OffsetSet } from "./offset_set.ts";
import type { FieldSchema, PayloadIndexInfo, PayloadSchemaType } from "./schema.ts";

/**
 * How many points a condition selects, as Qdrant estimates it: `min <= exp <= max`.
 *
 * @example
 * ```ts
 * import type { CardinalityEstimation } from "./types.ts";
 * const exact: CardinalityEstimation = { min: 3, exp: 3, max: 3 };
 * console.log(exact.exp); // 3
 * ```
 */
export interface CardinalityEstimation {
  /** No fewer points match. */
  min: number;
  /** The expected number of matching points. */
  exp: number;
  /** No more points match. */
  max: number;
}

/**
 * A point on the earth, in degrees.
 *
 * @example
 * ```ts
 * import type { GeoPoint } from "./types.ts";
 * const berlin: GeoPoint = { lon: 13.41, lat: 52.52 };
 * console.log(berlin.lat); // 52.52
 * ```
 */
export interface GeoPoint {
  /** Longitude, -180 to 180. */
  lon: number;
  /** Latitude, -90 to 90. */
  lat: number;
}

/**
 * Qdrant's `match` clause: `value`, `any`, `except` (keyword, integer, uuid, bool), `text`, `text_any`,
 * `phrase` (full-text) and `prefix` (keyword).
 *
 * @example
 * ```ts
 * import type { MatchCondition } from "./types.ts";
 * const red: MatchCondition = { any: ["red", "crimson"] };
 * console.log("any" in red); // true
 * ```
 */
export type MatchCondition =
  | { value: string | number | boolean }
  | { any: readonly (string | number)[] }
  | { except: readonly (string | number)[] }
  | { text: string }
  | { text_any: string }
  | { phrase: string }
  | { prefix: string };

/**
 * Qdrant's `range` clause: numbers for a numeric range, RFC 3339 strings for a datetime range.
 *
 * @example
 * ```ts
 * import type { RangeCondition } from "./types.ts";
 * const recent: RangeCondition = { gte: "2024-01-01T00:00:00Z" };
 * console.log(recent.gte); // "2024-01-01T00:00:00Z"
 * ```
 */
export interface RangeCondition {
  /** Values strictly below this bound. */
  lt?: number | string | null;
  /** Values strictly above this bound. */
  gt?: number | string | null;
  /** Values at or above this bound. */
  gte?: number | string | null;
  /** Values at or below this bound. */
  lte?: number | string | null;
}

/**
 * A closed ring of points (the first repeated last), as Qdrant's `GeoLineString`.
 *
 * @example
 * ```ts
 * import type { GeoLineString } from "./types.ts";
 * const ring: GeoLineString = { points: [{ lon: 0, lat: 0 }, { lon: 1, lat: 0 }, { lon: 0, lat: 1 }, { lon: 0, lat: 0 }] };
 * console.log(ring.points.length); // 4
 * ```
 */
export interface GeoLineString {
  /** The ring's vertices. */
  points: readonly GeoPoint[];
}

/**
 * A field condition without its key: the clauses an index can answer. Qdrant's JSON shapes.
 *
 * @example
 * ```ts
 * import type { FieldQuery } from "./types.ts";
 * const near: FieldQuery = { geo_radius: { center: { lon: 13.4, lat: 52.5 }, radius: 1000 } };
 * console.log(near.geo_radius?.radius); // 1000
 * ```
 */
export interface FieldQuery {
  /** Exact, any-of, except, prefix or full-text match. */
  match?: MatchCondition | null;
  /** Numeric or datetime range. */
  range?: RangeCondition | null;
  /** Strictly inside a box; `top_left.lon > bottom_right.lon` crosses the antimeridian. */
  geo_bounding_box?: { top_left: GeoPoint; bottom_right: GeoPoint } | null;
  /** Strictly closer than `radius` metres (haversine) to `center`. */
  geo_radius?: { center: GeoPoint; radius: number } | null;
  /** Strictly inside `exterior` and outside every ring of `interiors`. */
  geo_polygon?: { exterior: GeoLineString; interiors?: readonly GeoLineString[] | null } | null;
  /** Not answered by these indexes (the caller checks the payload). */
  values_count?: unknown;
  /** Not answered by these indexes (the caller checks the payload). */
  is_empty?: unknown;
  /** Not answered by these indexes (the caller checks the payload). */
  is_null?: unknown;
}

/**
 * A per-offset check of one condition against the index's values (Qdrant's condition checker).
 *
 * @example
 * ```ts
 * import type { OffsetChecker } from "./types.ts";
 * const even: OffsetChecker = (offset) => offset % 2 === 0;
 * console.log(even(4)); // true
 * ```
 */
export type OffsetChecker = (offset: number) => boolean;

/**
 * One value of a facet and the number of points that have it.
 *
 * @example
 * ```ts
 * import type { FacetHit } from "./types.ts";
 * const hit: FacetHit = { value: "red", count: 12 };
 * console.log(hit.count); // 12
 * ```
 */
export interface FacetHit {
  /** A keyword, an integer, a UUID (canonical text) or a boolean. */
  value: string | number | boolean;
  /** Points that have the value (a point with the value twice counts once). */
  count: number;
}

/**
 * The interface every payload index implements. An index covers offsets `[0, offsetCount)`; offsets are
 * added in increasing order and never change. `remove()` takes an offset out of every answer and statistic
 * (the caller calls it when a point leaves an offset), which keeps estimates and counts exact.
 *
 * Queries return `null` when the index cannot answer the condition (wrong clause or wrong value type):
 * the caller then checks the payload instead, exactly as Qdrant falls back from an index.
 *
 * @example
 * ```ts
 * import { createFieldIndex } from "./factory.ts";
 * const index = createFieldIndex("keyword");
 * index.add(0, ["red"]);
 * index.add(1, [["red", "blue"]]);
 * console.log([...index.filter({ match: { value: "red" } })!.toArray()]); // [ 0, 1 ]
 * ```
 */
export interface PayloadFieldIndex {
  /** The schema type (`"keyword"`, `"integer"`, ...). */
  readonly dataType: PayloadSchemaType;
  /** The parsed schema the index was created with. */
  readonly schema: FieldSchema;
  /** Offsets covered: the index holds offsets `[0, offsetCount)`. */
  readonly offsetCount: number;
  /**
   * Indexes the values found at the key for `offset` (not below `offsetCount`; offsets in between get no
   * values). Each value of an array is taken (one level deep); values of other types are ignored.
   */
  add(offset: number, values: readonly unknown[]): void;
  /** Takes `offset` out of every answer and statistic (idempotent). */
  remove(offset: number): void;
  /** Whether `offset` was removed. */
  isRemoved(offset: number): boolean;
  /** The offsets whose values satisfy `condition`, or `null` when this index does not answer it. */
  filter(condition: FieldQuery): OffsetSet | null;
  /** How many points satisfy `condition`, without materializing them; `null` when not answered. */
  estimate(condition: FieldQuery): CardinalityEstimation | null;
  /** A per-offset check of `condition`, or `null` when not answered. */
  checker(condition: FieldQuery): OffsetChecker | null;
  /** Number of indexed values of `offset` (0 for a removed offset). */
  valuesCount(offset: number): number;
  /** Points (not removed) with at least one indexed value. */
  indexedPointCount(): number;
  /** What Qdrant Edge's `info().payload_schema[field]` shows for this index. */
  schemaInfo(): PayloadIndexInfo;
  /** The index's bytes (see the module doc of `_codec.ts` for the layout); `deserializeFieldIndex` reads them. */
  serialize(): Uint8Array;
}

/**
 * An index that can count points per value (keyword, integer with `lookup`, uuid, bool), for Qdrant's
 * `facet`; `facetIndexOf` finds it.
 *
 * @example
 * ```ts
 * import { createFieldIndex, facetIndexOf } from "./factory.ts";
 * const index = createFieldIndex("keyword");
 * index.add(0, ["a"]);
 * console.log(facetIndexOf(index)?.facet()); // [ { value: "a", count: 1 } ]
 * ```
 */
export interface FacetIndex {
  /**
   * Every value with the number of points (restricted to `points`, a bitset, when given) that have it;
   * values with no such point are left out. In no particular order: see `topFacetHits`.
   */
  facet(points?: Uint8Array): FacetHit[];
}

/**
 * Where an ordered walk starts and which way it goes (Qdrant's `OrderBy` without its key).
 *
 * @example
 * ```ts
 * import type { OrderByOptions } from "./types.ts";
 * const newestFirst: OrderByOptions = { direction: "desc", start_from: "2024-06-01T00:00:00Z" };
 * console.log(newestFirst.direction); // "desc"
 * ```
 */
export interface OrderByOptions {
  /** `"asc"` (the default) or `"desc"`. */
  direction?: "asc" | "desc" | null;
  /** First value (inclusive): a number, or an RFC 3339 string for datetimes. */
  start_from?: number | string | null;
}

/**
 * An index that can walk its values in order (integer with `range`, float, datetime), for scroll's
 * `order_by`; `orderedIndexOf` finds it.
 *
 * @example
 * ```ts
 * import { createFieldIndex, orderedIndexOf } from "./factory.ts";
 * const index = createFieldIndex("float");
 * index.add(0, [2.5]);
 * index.add(1, [[1, 3]]);
 * const seen: string[] = [];
 * orderedIndexOf(index)?.forEachOrdered({}, (value, offset) => void seen.push(`${offset}:${value}`));
 * console.log(seen); // [ "1:1", "0:2.5", "1:3" ]
 * ```
 */
export interface OrderedIndex {
  /**
   * Calls `visit(value, offset)` for every (value, offset) pair from `start_from` on, in value order and then
   * offset order (both reversed for `"desc"`); a point with several values is visited once per value, as in
   * Qdrant. Datetimes are visited as microseconds since the epoch. Stops when `visit` returns `false`.
   */
  forEachOrdered(options: OrderByOptions, visit: (value: number, offset: number) => boolean | void): void;
}
