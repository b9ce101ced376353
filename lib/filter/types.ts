/**
 * Qdrant's filter model, with Qdrant's names and REST JSON shapes: a {@linkcode Filter} combines
 * {@linkcode Condition}s with `must`, `should`, `must_not` and `min_should`, and a condition is a test on a payload
 * field, on the point id, on a named vector, on the elements of a nested array, or another filter.
 *
 * These are the shapes {@linkcode parseFilter} returns: every clause is an array (Qdrant also accepts a single
 * condition), `null` fields are gone, point ids are canonical, and nothing unknown is left in. They are still
 * valid REST JSON (except that an id above 2^53-1 is a bigint).
 *
 * @example Points in red or blue, priced under 100, not sold out
 * ```ts
 * import type { Filter } from "./types.ts";
 * const filter: Filter = {
 *   must: [{ key: "color", match: { any: ["red", "blue"] } }, { key: "price", range: { lt: 100 } }],
 *   must_not: [{ key: "sold_out", match: { value: true } }],
 * };
 * console.log(filter.must?.length); // 2
 * ```
 * @module
 */
import type { PointId } from "../shard/point_id.ts";

export type { PointId };

/**
 * A filter: a point passes when it passes every part that is present. `must`: every condition holds;
 * `must_not`: no condition holds; `should`: at least one holds; `min_should`: at least `min_count` hold.
 *
 * An empty `should` (`[]`) means "no constraint" at the top and inside nested `Filter` conditions, but "no point"
 * inside a `nested` condition's filter: that is what Qdrant Edge 0.9 does.
 *
 * @example
 * ```ts
 * import type { Filter } from "./types.ts";
 * const filter: Filter = { should: [{ key: "city", match: { value: "London" } }, { has_id: [1, 2] }] };
 * console.log(Object.keys(filter)); // ["should"]
 * ```
 */
export interface Filter {
  /** All of these conditions must hold. */
  must?: Condition[];
  /** At least one of these conditions must hold (see above for `[]`). */
  should?: Condition[];
  /** None of these conditions may hold. */
  must_not?: Condition[];
  /** At least `min_count` of `conditions` must hold. */
  min_should?: MinShould;
}

/**
 * The `min_should` clause of a {@linkcode Filter}.
 *
 * @example Two of three
 * ```ts
 * import type { MinShould } from "./types.ts";
 * const clause: MinShould = {
 *   conditions: [{ key: "a", match: { value: 1 } }, { key: "b", match: { value: 2 } }, { has_id: [7] }],
 *   min_count: 2,
 * };
 * console.log(clause.min_count); // 2
 * ```
 */
export interface MinShould {
  /** The candidate conditions. */
  conditions: Condition[];
  /** How many of them must hold; at least 1. */
  min_count: number;
}

/**
 * One condition of a filter. Qdrant tells them apart by their keys: `key` makes a {@linkcode FieldCondition},
 * `is_empty`, `is_null`, `has_id`, `has_vector`, `slice` and `nested` make the conditions of those names, and an
 * object with only `must`, `should`, `must_not` and `min_should` is a nested {@linkcode Filter}.
 *
 * @example
 * ```ts
 * import type { Condition } from "./types.ts";
 * const conditions: Condition[] = [
 *   { key: "tags", match: { value: "new" } },
 *   { is_empty: { key: "reviews" } },
 *   { has_vector: "image" },
 *   { should: [{ has_id: [1] }, { has_id: [2] }] },
 * ];
 * console.log(conditions.length); // 4
 * ```
 */
export type Condition =
  | FieldCondition
  | IsEmptyCondition
  | IsNullCondition
  | HasIdCondition
  | HasVectorCondition
  | SliceCondition
  | NestedCondition
  | Filter;

/**
 * A test on the values at a payload path. `key` is a JSON path: `a`, `a.b`, `a[]` (every element), `a[0]`,
 * `a[].b`, `"a.b"` (a key containing a dot). When the path reaches an array, a value test (`match`, `range`,
 * geo) holds if it holds for any element.
 *
 * Qdrant allows several tests in one field condition. When the field has values, `values_count` (if present)
 * decides alone, else `is_empty`, else `is_null`; otherwise the condition holds when any of `match`, `range` and
 * the geo tests holds (they are OR-ed, not AND-ed). When the path reaches nothing, only `values_count` (count 0),
 * `is_empty` (true) and `is_null` (false) can hold.
 *
 * @example
 * ```ts
 * import type { FieldCondition } from "./types.ts";
 * const inStock: FieldCondition = { key: "stock.count", range: { gt: 0 } };
 * console.log(inStock.key); // "stock.count"
 * ```
 */
export interface FieldCondition {
  /** The payload path. */
  key: string;
  /** Compare values with a constant, a list, a text, a prefix or a substring. */
  match?: Match;
  /** A numeric range, or a datetime range when the bounds are strings. */
  range?: Range | DatetimeRange;
  /** Geo points inside a lon/lat rectangle. */
  geo_bounding_box?: GeoBoundingBox;
  /** Geo points within a distance of a center. */
  geo_radius?: GeoRadius;
  /** Geo points inside a polygon. */
  geo_polygon?: GeoPolygon;
  /** The number of values (an array counts its elements, null counts 0, anything else 1). */
  values_count?: ValuesCount;
  /** `true`: the value is null, `[]` or missing; `false`: the opposite. */
  is_empty?: boolean;
  /** `true`: the value is null or an array containing null; `false`: the opposite (a missing key counts). */
  is_null?: boolean;
}

/**
 * A `match` test: exactly one of the variants.
 *
 * @example
 * ```ts
 * import type { Match } from "./types.ts";
 * const matches: Match[] = [{ value: "red" }, { any: [1, 2, 3] }, { except: ["draft"] }, { text: "good cheap" }];
 * console.log(matches.length); // 4
 * ```
 */
export type Match =
  | MatchValue
  | MatchText
  | MatchTextAny
  | MatchPhrase
  | MatchPrefix
  | MatchSubstring
  | MatchAny
  | MatchExcept;

/**
 * Equal to a string, an integer or a boolean (strictly: `1` does not match `"1"` or `true`).
 *
 * @example
 * ```ts
 * import type { MatchValue } from "./types.ts";
 * const match: MatchValue = { value: 42 };
 * console.log(match.value); // 42
 * ```
 */
export interface MatchValue {
  /** The value to equal; numbers must be integers. */
  value: string | number | boolean;
}

/**
 * Every word of `text` occurs as a word of the string (words: runs of letters and digits, lowercased).
 *
 * @example
 * ```ts
 * import type { MatchText } from "./types.ts";
 * const match: MatchText = { text: "vector search" };
 * console.log(match.text); // "vector search"
 * ```
 */
export interface MatchText {
  /** The words, in any order. */
  text: string;
}

/**
 * At least one word of `text_any` occurs as a word of the string.
 *
 * @example
 * ```ts
 * import type { MatchTextAny } from "./types.ts";
 * const match: MatchTextAny = { text_any: "good cheap" };
 * console.log(match.text_any); // "good cheap"
 * ```
 */
export interface MatchTextAny {
  /** The words, any one of which suffices. */
  text_any: string;
}

/**
 * The words of `phrase` occur consecutively and in order in the string.
 *
 * @example
 * ```ts
 * import type { MatchPhrase } from "./types.ts";
 * const match: MatchPhrase = { phrase: "new york" };
 * console.log(match.phrase); // "new york"
 * ```
 */
export interface MatchPhrase {
  /** The words, in order. */
  phrase: string;
}

/**
 * The string starts with `prefix` (case-sensitive).
 *
 * @example
 * ```ts
 * import type { MatchPrefix } from "./types.ts";
 * const match: MatchPrefix = { prefix: "img_" };
 * console.log(match.prefix); // "img_"
 * ```
 */
export interface MatchPrefix {
  /** The prefix; `""` matches every string. */
  prefix: string;
}

/**
 * The string contains `substring` (case-sensitive). Qdrant Edge 0.9's `MatchSubstring`.
 *
 * @example
 * ```ts
 * import type { MatchSubstring } from "./types.ts";
 * const match: MatchSubstring = { substring: "2026" };
 * console.log(match.substring); // "2026"
 * ```
 */
export interface MatchSubstring {
  /** The substring; `""` matches every string. */
  substring: string;
}

/**
 * Equal to one of the listed strings, or to one of the listed integers.
 *
 * @example
 * ```ts
 * import type { MatchAny } from "./types.ts";
 * const match: MatchAny = { any: ["red", "blue"] };
 * console.log(match.any.length); // 2
 * ```
 */
export interface MatchAny {
  /** All strings or all integers; `[]` matches nothing. */
  any: string[] | number[];
}

/**
 * Not equal to any of the listed values. A value of another type (a number against strings, a boolean, an
 * object) passes; null does not, and a missing key or an empty array has no value to pass.
 *
 * @example
 * ```ts
 * import type { MatchExcept } from "./types.ts";
 * const match: MatchExcept = { except: ["deleted", "draft"] };
 * console.log(match.except.length); // 2
 * ```
 */
export interface MatchExcept {
  /** All strings or all integers. */
  except: string[] | number[];
}

/**
 * A numeric range; only number values can fall in it. Omitted bounds are open.
 *
 * @example
 * ```ts
 * import type { Range } from "./types.ts";
 * const range: Range = { gte: 10, lt: 20 };
 * console.log(range.gte); // 10
 * ```
 */
export interface Range {
  /** value < lt */
  lt?: number;
  /** value > gt */
  gt?: number;
  /** value >= gte */
  gte?: number;
  /** value <= lte */
  lte?: number;
}

/**
 * A datetime range: bounds and payload values are datetime strings (RFC 3339 and the looser forms Qdrant reads,
 * such as `2014-01-01`, `2014-01-01 12:00` or `2014-01-01T12:00:00+0100`; no offset means UTC).
 *
 * @example
 * ```ts
 * import type { DatetimeRange } from "./types.ts";
 * const range: DatetimeRange = { gte: "2026-01-01T00:00:00Z", lt: "2026-02-01T00:00:00Z" };
 * console.log(range.lt); // "2026-02-01T00:00:00Z"
 * ```
 */
export interface DatetimeRange {
  /** value < lt */
  lt?: string;
  /** value > gt */
  gt?: string;
  /** value >= gte */
  gte?: string;
  /** value <= lte */
  lte?: string;
}

/**
 * A point on the earth in degrees; in a filter, `lon` is within [-180, 180] and `lat` within [-90, 90].
 *
 * @example
 * ```ts
 * import type { GeoPoint } from "./types.ts";
 * const berlin: GeoPoint = { lon: 13.405, lat: 52.52 };
 * console.log(berlin.lat); // 52.52
 * ```
 */
export interface GeoPoint {
  /** Longitude in degrees. */
  lon: number;
  /** Latitude in degrees. */
  lat: number;
}

/**
 * A lon/lat rectangle; points on its edges are outside. If `top_left.lon > bottom_right.lon` it wraps across the
 * antimeridian.
 *
 * @example
 * ```ts
 * import type { GeoBoundingBox } from "./types.ts";
 * const box: GeoBoundingBox = { top_left: { lon: 13.08, lat: 52.68 }, bottom_right: { lon: 13.76, lat: 52.34 } };
 * console.log(box.top_left.lon); // 13.08
 * ```
 */
export interface GeoBoundingBox {
  /** The north-west corner. */
  top_left: GeoPoint;
  /** The south-east corner. */
  bottom_right: GeoPoint;
}

/**
 * A circle: points whose haversine distance to `center` is strictly less than `radius` meters.
 *
 * @example
 * ```ts
 * import type { GeoRadius } from "./types.ts";
 * const near: GeoRadius = { center: { lon: 13.405, lat: 52.52 }, radius: 1000 };
 * console.log(near.radius); // 1000
 * ```
 */
export interface GeoRadius {
  /** The center. */
  center: GeoPoint;
  /** The radius in meters. */
  radius: number;
}

/**
 * A closed line: at least 4 points, the last equal to the first.
 *
 * @example
 * ```ts
 * import type { GeoLineString } from "./types.ts";
 * const ring: GeoLineString = {
 *   points: [{ lon: 0, lat: 0 }, { lon: 1, lat: 0 }, { lon: 1, lat: 1 }, { lon: 0, lat: 0 }],
 * };
 * console.log(ring.points.length); // 4
 * ```
 */
export interface GeoLineString {
  /** The points, first and last equal. */
  points: GeoPoint[];
}

/**
 * A polygon with optional holes; points on any ring are outside, points in a hole are outside.
 *
 * @example
 * ```ts
 * import type { GeoPolygon } from "./types.ts";
 * const square: GeoPolygon = {
 *   exterior: { points: [{ lon: 0, lat: 0 }, { lon: 2, lat: 0 }, { lon: 2, lat: 2 }, { lon: 0, lat: 2 }, { lon: 0, lat: 0 }] },
 * };
 * console.log(square.interiors); // undefined
 * ```
 */
export interface GeoPolygon {
  /** The outer ring. */
  exterior: GeoLineString;
  /** Holes. */
  interiors?: GeoLineString[];
}

/**
 * Bounds on the number of values of a field: an array counts its elements, null and a missing key count 0,
 * any other value 1. With a multi-valued path (`a[]`), each value is counted on its own.
 *
 * @example
 * ```ts
 * import type { ValuesCount } from "./types.ts";
 * const atLeastTwo: ValuesCount = { gte: 2 };
 * console.log(atLeastTwo.gte); // 2
 * ```
 */
export interface ValuesCount {
  /** count < lt */
  lt?: number;
  /** count > gt */
  gt?: number;
  /** count >= gte */
  gte?: number;
  /** count <= lte */
  lte?: number;
}

/**
 * A payload path, as the argument of `is_empty` and `is_null`.
 *
 * @example
 * ```ts
 * import type { PayloadField } from "./types.ts";
 * const field: PayloadField = { key: "reviews" };
 * console.log(field.key); // "reviews"
 * ```
 */
export interface PayloadField {
  /** A JSON path. */
  key: string;
}

/**
 * Holds when every value at the path is null or `[]`, and when the path reaches nothing.
 *
 * @example
 * ```ts
 * import type { IsEmptyCondition } from "./types.ts";
 * const noReviews: IsEmptyCondition = { is_empty: { key: "reviews" } };
 * console.log(noReviews.is_empty.key); // "reviews"
 * ```
 */
export interface IsEmptyCondition {
  /** The field. */
  is_empty: PayloadField;
}

/**
 * Holds when some value at the path is null or an array containing null. A missing key is not null.
 *
 * @example
 * ```ts
 * import type { IsNullCondition } from "./types.ts";
 * const nullName: IsNullCondition = { is_null: { key: "name" } };
 * console.log(nullName.is_null.key); // "name"
 * ```
 */
export interface IsNullCondition {
  /** The field. */
  is_null: PayloadField;
}

/**
 * Holds for the listed point ids. Never holds inside a `nested` condition.
 *
 * @example
 * ```ts
 * import type { HasIdCondition } from "./types.ts";
 * const some: HasIdCondition = { has_id: [1, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"] };
 * console.log(some.has_id.length); // 2
 * ```
 */
export interface HasIdCondition {
  /** Point ids (UUIDs lowercase and hyphenated). */
  has_id: PointId[];
}

/**
 * Holds when the point has a vector of this name (`""` is the default vector). A name the shard does not know
 * never holds. Never holds inside a `nested` condition.
 *
 * @example
 * ```ts
 * import type { HasVectorCondition } from "./types.ts";
 * const withImage: HasVectorCondition = { has_vector: "image" };
 * console.log(withImage.has_vector); // "image"
 * ```
 */
export interface HasVectorCondition {
  /** The vector name. */
  has_vector: string;
}

/**
 * One of `total` disjoint, deterministic slices of the id space: a point belongs to slice
 * `siphash24(id) % total`, where the hash key is zero and the id is hashed as 8 little-endian bytes (integer) or
 * its 16 UUID bytes. Never holds inside a `nested` condition.
 *
 * @example The first of four slices
 * ```ts
 * import type { SliceCondition } from "./types.ts";
 * const quarter: SliceCondition = { slice: { total: 4, index: 0 } };
 * console.log(quarter.slice.total); // 4
 * ```
 */
export interface SliceCondition {
  /** The slice. */
  slice: Slice;
}

/**
 * The argument of a {@linkcode SliceCondition}.
 *
 * @example
 * ```ts
 * import type { Slice } from "./types.ts";
 * const slice: Slice = { total: 2, index: 1 };
 * console.log(slice.index); // 1
 * ```
 */
export interface Slice {
  /** How many slices the id space is cut into; 1 to 2^32-1. */
  total: number;
  /** Which slice; 0 to total-1. */
  index: number;
}

/**
 * Holds when some object of the array at `key` passes `filter` on its own, with paths relative to that object.
 * `key` gets a trailing `[]` unless it has one. Elements that are not objects are skipped.
 *
 * @example A single review that is both recent and positive
 * ```ts
 * import type { NestedCondition } from "./types.ts";
 * const condition: NestedCondition = {
 *   nested: { key: "reviews", filter: { must: [{ key: "year", range: { gte: 2025 } }, { key: "stars", range: { gte: 4 } }] } },
 * };
 * console.log(condition.nested.key); // "reviews"
 * ```
 */
export interface NestedCondition {
  /** The array and the filter. */
  nested: Nested;
}

/**
 * The argument of a {@linkcode NestedCondition}.
 *
 * @example
 * ```ts
 * import type { Nested } from "./types.ts";
 * const nested: Nested = { key: "variants", filter: { must: [{ key: "size", match: { value: "L" } }] } };
 * console.log(nested.key); // "variants"
 * ```
 */
export interface Nested {
  /** The path of the array. */
  key: string;
  /** The filter each element is tested against. */
  filter: Filter;
}
