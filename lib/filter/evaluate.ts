/**
 * Filter evaluation: {@linkcode compileFilter} turns a parsed {@linkcode Filter} into a predicate over points,
 * with Qdrant Edge 0.9's semantics and no payload index (a pure function of the point).
 *
 * Everything that does not depend on the point is done once, at compile time: JSON paths are parsed, value lists
 * become sets, datetime bounds are parsed, text queries tokenised, polygons flattened. Evaluating a point
 * allocates nothing for the common conditions, reads the payload at most once (only if a condition needs it),
 * and stops at the first condition that decides the result.
 *
 * The rules, as Qdrant Edge 0.9 applies them (each pinned by a test in `tests/filter.test.ts`):
 *
 * - A path reaches a list of values (`a[]` one per element, `a[].b` through arrays of objects; `a.b` does not
 *   look through an array). A value test holds if it holds for one value; an array value is tested element by
 *   element (one level deep).
 * - A path that reaches nothing fails every value test; `values_count` then sees a count of 0, field-level
 *   `is_empty: true` holds and `is_null: false` holds.
 * - `is_empty` holds when every value is null or `[]` (so also when there is none); `is_null` holds when some
 *   value is null or an array containing null.
 * - `match.value` is strict about types (`1` ≠ `"1"` ≠ `true`); `match.except` passes values of another type
 *   but not null; `match.text`, `text_any` and `phrase` compare lowercase words; `prefix` and `substring` are
 *   case-sensitive; `range` only sees numbers, a datetime range only datetime strings.
 * - An empty `should` constrains nothing, except inside a `nested` filter, where it matches nothing. `has_id`,
 *   `has_vector` and `slice` never hold inside a `nested` filter.
 *
 * One difference is forced by JavaScript: a payload read with `JSON.parse` cannot tell `1.0` from `1`, so a
 * stored float with an integral value matches `match: {value: 1}` (and is excluded by `except: [1]`), where
 * Qdrant, which keeps the float, does neither.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { type IdKey, idKey } from "../shard/point_id.ts";

export type { IdKey };
import { compareInstants, type Instant, parseDateTime, parseDateTimeInto } from "../payload/datetime.ts";
import { boxContains, haversineMeters, polygonContains, type Ring } from "../payload/geo.ts";
import {
  arrayKey,
  compileWalker,
  isObject,
  parseJsonPath,
  type PathStep,
  REACH_MATCH,
  REACH_NONE,
} from "./_path.ts";
import { inSlice } from "./_slice.ts";
import { textAllTokens, textAnyToken, textPhrase } from "./_text.ts";
import type {
  Condition,
  DatetimeRange,
  FieldCondition,
  Filter,
  GeoLineString,
  Match,
  NestedCondition,
  Range,
  ValuesCount,
} from "./types.ts";

/**
 * What a filter sees of a point: its id key, its payload (read lazily) and which named vectors it has.
 *
 * @example A point view over plain data
 * ```ts
 * import type { PointView } from "./evaluate.ts";
 * const view: PointView = {
 *   key: "7",
 *   payload: () => ({ city: "Berlin" }),
 *   hasVector: (name) => name === "",
 * };
 * console.log(view.hasVector("")); // true
 * ```
 */
export interface PointView {
  /** The point id's key (`lib/shard/point_id.ts`): decimal digits, or the canonical UUID. */
  readonly key: IdKey;
  /** The point's offset in its segment: what index checkers (see {@linkcode FilterOptions}) are given. */
  readonly offset?: number;
  /** The payload; called at most once per evaluation, and only when a condition needs it. */
  payload(): Readonly<Record<string, unknown>>;
  /** Whether the point has a vector of this name (`""` is the default vector). */
  hasVector(name: string): boolean;
}

/**
 * A compiled filter: `true` when the point passes.
 *
 * @example
 * ```ts
 * import { compileFilter, type PointPredicate } from "./evaluate.ts";
 * const passes: PointPredicate = compileFilter({ must: [{ has_id: [1] }] });
 * console.log(passes({ key: "1", payload: () => ({}), hasVector: () => true })); // true
 * ```
 */
export type PointPredicate = (point: PointView) => boolean;

/**
 * Compiles a filter (as {@linkcode parseFilter} returns it) into a predicate. Compile once per query and call
 * the predicate for every candidate point; the predicate is not re-entrant (it must not be called from within
 * a `PointView` method of a point it is evaluating).
 *
 * @param filter A parsed filter.
 * @returns The predicate.
 * @throws {InvalidArgumentError} When the filter holds something `parseFilter` would have refused (a bad JSON
 * path, an invalid point id or datetime).
 *
 * @example
 * ```ts
 * import { compileFilter } from "./evaluate.ts";
 * import { parseFilter } from "./parse.ts";
 * const cheapRed = compileFilter(parseFilter({
 *   must: [{ key: "color", match: { value: "red" } }, { key: "price", range: { lt: 10 } }],
 * }));
 * const point = (key: string, payload: Record<string, unknown>) => ({ key, payload: () => payload, hasVector: () => true });
 * console.log(cheapRed(point("1", { color: ["red", "green"], price: 5 }))); // true
 * console.log(cheapRed(point("2", { color: "red", price: 12 }))); // false
 * ```
 */
export function compileFilter(filter: Filter, options: FilterOptions = {}): PointPredicate {
  const check = compileFilterCheck(filter, false, options);
  const scope = new PointScope();
  return (point) => {
    scope.point = point;
    scope.cached = undefined;
    const result = check(scope);
    // Drop the references so that a compiled filter kept around does not pin the last point's payload.
    scope.point = undefined;
    scope.cached = undefined;
    return result;
  };
}

/** How a compiled filter may use payload indexes. */
export interface FilterOptions {
  /**
   * For a field condition outside `nested`, a check of point offsets by a payload index on its key, or
   * undefined to read the payload. Qdrant checks an indexed field through its index, whose semantics
   * (a full-text index's tokenizer, say) can differ from the payload's.
   */
  fieldChecker?: (condition: FieldCondition) => ((offset: number) => boolean) | undefined;
}

type Document = Readonly<Record<string, unknown>>;

interface Scope {
  doc(): Document;
}

// The top level: the point, and its payload once read.
class PointScope implements Scope {
  point: PointView | undefined = undefined;
  cached: Document | undefined = undefined;
  doc(): Document {
    return this.cached ??= this.point!.payload();
  }
}

// Inside a `nested` condition: one element of the array.
class ObjectScope implements Scope {
  object: Document = {};
  doc(): Document {
    return this.object;
  }
}

type Check = (scope: Scope) => boolean;
type ValueTest = (value: unknown) => boolean;

const ALWAYS: Check = () => true;
const NEVER: Check = () => false;

// `nested` selects Qdrant's in-nested semantics (`check_payload`): an empty `should` fails, and id and vector
// conditions never hold. Outside, Qdrant runs its optimised filter, where an empty `should` is no constraint.
function compileFilterCheck(filter: Filter, nested: boolean, options: FilterOptions): Check {
  const must = (filter.must ?? []).map((c) => compileCondition(c, nested, options));
  const mustNot = (filter.must_not ?? []).map((c) => compileCondition(c, nested, options));
  let should: Check[] | undefined;
  if (filter.should !== undefined) {
    if (filter.should.length === 0) {
      if (nested) return NEVER;
    } else {
      should = filter.should.map((c) => compileCondition(c, nested, options));
    }
  }
  const minShould = filter.min_should;
  const minConditions = minShould?.conditions.map((c) => compileCondition(c, nested, options)) ?? [];
  const minCount = minShould?.min_count ?? 0;
  if (minCount > minConditions.length) return NEVER;

  if (should === undefined && minCount === 0 && mustNot.length === 0) {
    if (must.length === 0) return ALWAYS;
    if (must.length === 1) return must[0];
  }
  return (scope) => {
    for (let i = 0; i < must.length; i++) if (!must[i](scope)) return false;
    for (let i = 0; i < mustNot.length; i++) if (mustNot[i](scope)) return false;
    if (should !== undefined) {
      let any = false;
      for (let i = 0; i < should.length && !any; i++) any = should[i](scope);
      if (!any) return false;
    }
    if (minCount > 0) {
      let needed = minCount;
      for (let i = 0; i < minConditions.length && needed > 0; i++) if (minConditions[i](scope)) needed--;
      if (needed > 0) return false;
    }
    return true;
  };
}

function compileCondition(condition: Condition, nested: boolean, options: FilterOptions): Check {
  if ("key" in condition) {
    const indexed = nested ? undefined : options.fieldChecker?.(condition);
    if (indexed !== undefined) return (scope) => indexed((scope as PointScope).point!.offset!);
    return compileFieldCondition(condition);
  }
  if ("is_empty" in condition) {
    const walk = compileWalker(steps(condition.is_empty.key));
    return (scope) => walk(scope.doc(), isNotEmptyValue) !== REACH_MATCH;
  }
  if ("is_null" in condition) {
    const walk = compileWalker(steps(condition.is_null.key));
    return (scope) => walk(scope.doc(), isNullValue) === REACH_MATCH;
  }
  if ("has_id" in condition) {
    if (nested) return NEVER;
    const ids = new Set(condition.has_id.map((id, i) => idKey(id, `has_id[${i}]`)));
    return (scope) => ids.has((scope as PointScope).point!.key);
  }
  if ("has_vector" in condition) {
    if (nested) return NEVER;
    const name = condition.has_vector;
    return (scope) => (scope as PointScope).point!.hasVector(name);
  }
  if ("slice" in condition) {
    if (nested) return NEVER;
    const { total, index } = condition.slice;
    return (scope) => inSlice((scope as PointScope).point!.key, total, index);
  }
  if ("nested" in condition) return compileNested(condition);
  return compileFilterCheck(condition, nested, options);
}

function isNotEmptyValue(value: unknown): boolean {
  return !(value === null || (Array.isArray(value) && value.length === 0));
}

function isNullValue(value: unknown): boolean {
  return value === null || (Array.isArray(value) && value.includes(null));
}

function compileNested(condition: NestedCondition): Check {
  const walk = compileWalker(arrayKey(steps(condition.nested.key)));
  const inner = compileFilterCheck(condition.nested.filter, true, {});
  // One scope per nested condition, reused for every element: the check runs to completion per element.
  const scope = new ObjectScope();
  const test: ValueTest = (value) => {
    if (!isObject(value)) return false;
    scope.object = value;
    return inner(scope);
  };
  return (outer) => walk(outer.doc(), test) === REACH_MATCH;
}

function steps(key: string): PathStep[] {
  const parsed = parseJsonPath(key);
  if (typeof parsed === "string") {
    throw new InvalidArgumentError(`${JSON.stringify(key)} is not a JSON path: ${parsed}`);
  }
  return parsed;
}

function compileFieldCondition(condition: FieldCondition): Check {
  const walk = compileWalker(steps(condition.key));
  const test = fieldValueTest(condition);
  const whenMissing = fieldMissingResult(condition);
  return (scope) => {
    const reach = walk(scope.doc(), test);
    return reach === REACH_NONE ? whenMissing : reach === REACH_MATCH;
  };
}

// Qdrant's `FieldCondition::check` on one value the path reached.
function fieldValueTest(condition: FieldCondition): ValueTest {
  if (condition.values_count !== undefined) {
    const count = countTest(condition.values_count);
    return (value) => count(value === null ? 0 : Array.isArray(value) ? value.length : 1);
  }
  if (condition.is_empty !== undefined) {
    const empty = condition.is_empty;
    return (value) => value === null ? empty : Array.isArray(value) ? (value.length === 0) === empty : !empty;
  }
  if (condition.is_null !== undefined) {
    const isNull = condition.is_null;
    return (value) =>
      value === null ? isNull : Array.isArray(value) ? value.includes(null) === isNull : !isNull;
  }
  const tests: ValueTest[] = [];
  if (condition.match !== undefined) tests.push(matchTest(condition.match));
  if (condition.range !== undefined) tests.push(rangeTest(condition.range));
  if (condition.geo_bounding_box !== undefined) {
    const { top_left: tl, bottom_right: br } = condition.geo_bounding_box;
    tests.push(geoTest((lon, lat) => boxContains(tl.lon, tl.lat, br.lon, br.lat, lon, lat)));
  }
  if (condition.geo_radius !== undefined) {
    const { center, radius } = condition.geo_radius;
    tests.push(geoTest((lon, lat) => haversineMeters(center.lon, center.lat, lon, lat) < radius));
  }
  if (condition.geo_polygon !== undefined) tests.push(polygonTest(condition.geo_polygon));
  // The tests of one field condition are alternatives (Qdrant OR-s them).
  const one: ValueTest = tests.length === 0
    ? () => false
    : tests.length === 1
    ? tests[0]
    : (value) => tests.some((test) => test(value));
  return (value) => {
    if (!Array.isArray(value)) return one(value);
    for (let i = 0; i < value.length; i++) if (one(value[i])) return true;
    return false;
  };
}

// Qdrant's `FieldCondition::check_empty`: the result when the path reaches no value.
function fieldMissingResult(condition: FieldCondition): boolean {
  if (condition.values_count !== undefined) return countTest(condition.values_count)(0);
  if (condition.is_empty !== undefined) return condition.is_empty;
  if (condition.is_null !== undefined) return !condition.is_null;
  return false;
}

function countTest(bounds: ValuesCount): (count: number) => boolean {
  const lt = bounds.lt ?? Infinity, lte = bounds.lte ?? Infinity;
  const gt = bounds.gt ?? -Infinity, gte = bounds.gte ?? -Infinity;
  return (count) => count < lt && count <= lte && count > gt && count >= gte;
}

function matchTest(match: Match): ValueTest {
  if ("value" in match) {
    const expected = match.value;
    // A number in a filter is an integer; a JSON payload number equal to it matches (see the module notes on 1.0).
    return (value) => value === expected;
  }
  if ("any" in match) {
    const set = new Set<unknown>(match.any);
    return (value) => (typeof value === "string" || typeof value === "number") && set.has(value);
  }
  if ("except" in match) {
    const set = new Set<unknown>(match.except);
    // Values of another type than the list pass, null does not (Qdrant's `MatchExcept` table).
    return (value) => value !== null && !set.has(value);
  }
  if ("text" in match) return stringTest(textAllTokens(match.text));
  if ("text_any" in match) return stringTest(textAnyToken(match.text_any));
  if ("phrase" in match) return stringTest(textPhrase(match.phrase));
  if ("prefix" in match) {
    const prefix = match.prefix;
    return (value) => typeof value === "string" && value.startsWith(prefix);
  }
  const substring = match.substring;
  return (value) => typeof value === "string" && value.includes(substring);
}

function stringTest(test: (stored: string) => boolean): ValueTest {
  return (value) => typeof value === "string" && test(value);
}

function rangeTest(range: Range | DatetimeRange): ValueTest {
  const bounds = range as Record<string, number | string | undefined>;
  if (["lt", "gt", "gte", "lte"].some((bound) => typeof bounds[bound] === "string")) {
    return datetimeRangeTest(range as DatetimeRange);
  }
  const r = range as Range;
  const lt = r.lt ?? Infinity, lte = r.lte ?? Infinity;
  const gt = r.gt ?? -Infinity, gte = r.gte ?? -Infinity;
  return (value) => typeof value === "number" && value < lt && value <= lte && value > gt && value >= gte;
}

function datetimeRangeTest(range: DatetimeRange): ValueTest {
  const bound = (text: string | undefined, name: string): Instant | undefined => {
    if (text === undefined) return undefined;
    const instant = parseDateTime(text);
    if (instant === undefined) {
      throw new InvalidArgumentError(`range.${name}: ${JSON.stringify(text)} is not a datetime`);
    }
    return instant;
  };
  const lt = bound(range.lt, "lt"), lte = bound(range.lte, "lte");
  const gt = bound(range.gt, "gt"), gte = bound(range.gte, "gte");
  const stored: Instant = { seconds: 0, nanos: 0 };
  return (value) => {
    if (typeof value !== "string" || !parseDateTimeInto(value, stored)) return false;
    return (lt === undefined || compareInstants(stored, lt) < 0) &&
      (lte === undefined || compareInstants(stored, lte) <= 0) &&
      (gt === undefined || compareInstants(stored, gt) > 0) &&
      (gte === undefined || compareInstants(stored, gte) >= 0);
  };
}

// A geo test reads `lon` and `lat` numbers from an object value; anything else fails.
function geoTest(inside: (lon: number, lat: number) => boolean): ValueTest {
  return (value) => {
    if (!isObject(value)) return false;
    const lon = value.lon, lat = value.lat;
    return typeof lon === "number" && typeof lat === "number" && inside(lon, lat);
  };
}

function polygonTest(polygon: { exterior: GeoLineString; interiors?: GeoLineString[] }): ValueTest {
  const exterior = flatten(polygon.exterior);
  const interiors = (polygon.interiors ?? []).map(flatten);
  let minLon = Infinity, maxLon = -Infinity, minLat = Infinity, maxLat = -Infinity;
  for (let i = 0; i < exterior.length; i += 2) {
    minLon = Math.min(minLon, exterior[i]);
    maxLon = Math.max(maxLon, exterior[i]);
    minLat = Math.min(minLat, exterior[i + 1]);
    maxLat = Math.max(maxLat, exterior[i + 1]);
  }
  return geoTest((lon, lat) =>
    // Outside the exterior's bounding box is outside the polygon; the ring test decides the rest.
    lon >= minLon && lon <= maxLon && lat >= minLat && lat <= maxLat &&
    polygonContains(exterior, interiors, lon, lat)
  );
}

// geo's `Polygon::new` closes a ring whose ends differ (Qdrant lets them differ by up to f64::EPSILON).
function flatten(line: GeoLineString): Ring {
  const points = line.points;
  const first = points[0], last = points[points.length - 1];
  const closed = first.lon === last.lon && first.lat === last.lat;
  const ring = new Float64Array((points.length + (closed ? 0 : 1)) * 2);
  points.forEach((point, i) => {
    ring[2 * i] = point.lon;
    ring[2 * i + 1] = point.lat;
  });
  if (!closed) {
    ring[ring.length - 2] = first.lon;
    ring[ring.length - 1] = first.lat;
  }
  return ring;
}
