/**
 * Reading a Qdrant REST filter: {@linkcode parseFilter} checks a JSON value against Qdrant's filter schema and
 * returns the normalised {@linkcode Filter}, or throws an {@linkcode InvalidArgumentError} whose message names
 * the path inside the filter, what was expected and what was received.
 *
 * It accepts what Qdrant's REST API accepts: a clause may be one condition or an array, `null` means absent, a
 * condition is recognised by its keys in Qdrant's order (`key`, `is_empty`, `is_null`, `has_id`, `has_vector`,
 * `slice`, `nested`, then a filter), unknown fields are ignored except in a filter object, where they are errors.
 * It rejects what Qdrant rejects, including its validation rules: a field condition needs at least one test,
 * `min_count` is at least 1, geo points lie within [-180, 180] × [-90, 90], polygon rings are closed and have
 * at least 4 points, and a slice index is below its total.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { idKey, keyToId, type PointId } from "../shard/point_id.ts";
import { parseDateTime } from "../payload/datetime.ts";
import { parseJsonPath } from "./_path.ts";
import type {
  Condition,
  DatetimeRange,
  FieldCondition,
  Filter,
  GeoBoundingBox,
  GeoLineString,
  GeoPoint,
  GeoPolygon,
  GeoRadius,
  Match,
  MinShould,
  Range,
  ValuesCount,
} from "./types.ts";

const FILTER_KEYS = ["must", "should", "must_not", "min_should"] as const;
const CLAUSES = ["must", "should", "must_not"] as const;
const FIELD_TESTS = [
  "match",
  "range",
  "geo_bounding_box",
  "geo_radius",
  "geo_polygon",
  "values_count",
  "is_empty",
  "is_null",
] as const;
const MATCH_KINDS = ["value", "text", "text_any", "phrase", "prefix", "substring", "any", "except"] as const;
const BOUNDS = ["lt", "gt", "gte", "lte"] as const;
const I64_LIMIT = 2 ** 63;
const U32_LIMIT = 2 ** 32;
// How deep filters may nest (a filter used as a condition, or a `nested` condition's filter, is one level).
// Qdrant reads requests with serde_json's limit of 128 nested JSON values, and each filter level takes two
// (the clause array and the condition object), so a deeper filter could never reach it.
const MAX_FILTER_DEPTH = 64;

/**
 * Validates a Qdrant REST filter and returns it normalised: clauses as arrays, `null` fields dropped, point ids
 * canonical (UUIDs lowercase and hyphenated). `null` or `undefined` is the empty filter, which every point passes.
 *
 * @param value The filter as JSON (an object).
 * @param path How to name the filter in error messages.
 * @returns The normalised filter.
 * @throws {InvalidArgumentError} When `value` is not a filter Qdrant would accept; the message names the path,
 * e.g. `filter.must[2].range.gte: expected a number or a datetime string, got true`.
 *
 * @example
 * ```ts
 * import { parseFilter } from "./parse.ts";
 * const filter = parseFilter({ must: { key: "city", match: { value: "London" } }, should: null });
 * console.log(filter); // { must: [ { key: "city", match: { value: "London" } } ] }
 * try {
 *   parseFilter({ must: [{ key: "price", range: { gte: "cheap" } }] });
 * } catch (error) {
 *   console.log((error as Error).message);
 *   // filter.must[0].range.gte: expected an RFC 3339 datetime such as "2014-01-01T00:00:00Z", got "cheap"
 * }
 * ```
 */
export function parseFilter(value: unknown, path = "filter"): Filter {
  if (value === null || value === undefined) return {};
  return filter(value, path, 0);
}

function filter(value: unknown, path: string, depth: number): Filter {
  if (!isPlainObject(value)) fail(path, "a filter object ({must, should, must_not, min_should})", value);
  if (depth >= MAX_FILTER_DEPTH) {
    throw new InvalidArgumentError(`${path}: filters nest more than ${MAX_FILTER_DEPTH} levels deep`);
  }
  for (const key of Object.keys(value)) {
    if (!(FILTER_KEYS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(
        `${path}.${key}: unknown field; a filter has only must, should, must_not and min_should`,
      );
    }
  }
  const result: Filter = {};
  for (const clause of CLAUSES) {
    const conditions = clauseConditions(value[clause], `${path}.${clause}`, depth);
    if (conditions !== undefined) result[clause] = conditions;
  }
  const minShould = value.min_should;
  if (minShould !== null && minShould !== undefined) {
    result.min_should = parseMinShould(minShould, `${path}.min_should`, depth);
  }
  return result;
}

function clauseConditions(value: unknown, path: string, depth: number): Condition[] | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return value.map((item, i) => condition(item, `${path}[${i}]`, depth));
  // Qdrant reads a single condition where an array is expected (serde's "one or many").
  if (isPlainObject(value)) return [condition(value, path, depth)];
  return fail(path, "a condition or an array of conditions", value);
}

function parseMinShould(value: unknown, path: string, depth: number): MinShould {
  if (!isPlainObject(value)) fail(path, "an object {conditions, min_count}", value);
  const conditions = value.conditions;
  if (!Array.isArray(conditions)) fail(`${path}.conditions`, "an array of conditions", conditions);
  const minCount = value.min_count;
  if (!isNonNegativeInteger(minCount)) fail(`${path}.min_count`, "a positive integer", minCount);
  if (minCount === 0) {
    throw new InvalidArgumentError(
      `${path}.min_count: must be greater than 0 (a min_should of 0 matches everything)`,
    );
  }
  return {
    conditions: conditions.map((item, i) => condition(item, `${path}.conditions[${i}]`, depth)),
    min_count: minCount,
  };
}

type Variant = [string, (value: Record<string, unknown>, path: string, depth: number) => Condition];

// The conditions other than a field condition, in the order of Qdrant's untagged `Condition` enum: the first one
// whose key is present and whose body is valid wins; extra keys are ignored, as serde ignores them.
const VARIANTS: readonly Variant[] = [
  [
    "is_empty",
    (v, p) => ({ is_empty: { key: payloadKey(field(v.is_empty, `${p}.is_empty`), `${p}.is_empty.key`) } }),
  ],
  [
    "is_null",
    (v, p) => ({ is_null: { key: payloadKey(field(v.is_null, `${p}.is_null`), `${p}.is_null.key`) } }),
  ],
  ["has_id", (v, p) => ({ has_id: pointIds(v.has_id, `${p}.has_id`) })],
  ["has_vector", (v, p) => {
    if (typeof v.has_vector !== "string") fail(`${p}.has_vector`, "a vector name (a string)", v.has_vector);
    return { has_vector: v.has_vector };
  }],
  ["slice", (v, p) => ({ slice: slice(v.slice, `${p}.slice`) })],
  ["nested", (v, p, depth) => {
    const body = v.nested;
    if (!isPlainObject(body)) fail(`${p}.nested`, "an object {key, filter}", body);
    const key = payloadKey(body.key, `${p}.nested.key`);
    if (body.filter === undefined) fail(`${p}.nested.filter`, "a filter", undefined);
    return { nested: { key, filter: filter(body.filter, `${p}.nested.filter`, depth + 1) } };
  }],
];

function condition(value: unknown, path: string, depth: number): Condition {
  if (!isPlainObject(value)) fail(path, "a condition object", value);
  if (Object.hasOwn(value, "key")) return fieldCondition(value, path);
  let firstError: unknown;
  for (const [key, read] of VARIANTS) {
    if (!Object.hasOwn(value, key)) continue;
    try {
      return read(value, path, depth);
    } catch (error) {
      firstError ??= error;
    }
  }
  if (firstError !== undefined) throw firstError;
  if (Object.keys(value).some((key) => !(FILTER_KEYS as readonly string[]).includes(key))) {
    fail(
      path,
      "a condition: an object with key (a field condition), is_empty, is_null, has_id, has_vector, slice, nested, " +
        "or a filter (must, should, must_not, min_should)",
      value,
    );
  }
  return filter(value, path, depth + 1);
}

function field(value: unknown, path: string): unknown {
  if (!isPlainObject(value)) fail(path, "an object {key}", value);
  return value.key;
}

function payloadKey(value: unknown, path: string): string {
  if (typeof value !== "string") fail(path, 'a JSON path string such as "a.b" or "a[].b"', value);
  const steps = parseJsonPath(value);
  if (typeof steps === "string") {
    throw new InvalidArgumentError(`${path}: ${JSON.stringify(value)} is not a JSON path: ${steps}`);
  }
  return value;
}

function pointIds(value: unknown, path: string): PointId[] {
  if (!Array.isArray(value)) fail(path, "an array of point ids", value);
  return value.map((id, i) => keyToId(idKey(id, `${path}[${i}]`)));
}

function slice(value: unknown, path: string): { total: number; index: number } {
  if (!isPlainObject(value)) fail(path, "an object {total, index}", value);
  const { total, index } = value;
  if (!isNonNegativeInteger(total) || total === 0 || total >= U32_LIMIT) {
    fail(`${path}.total`, "an integer from 1 to 4294967295", total);
  }
  if (!isNonNegativeInteger(index) || index >= U32_LIMIT) {
    fail(`${path}.index`, "an integer from 0 to 4294967295", index);
  }
  if (index >= total) {
    throw new InvalidArgumentError(`${path}.index: must be less than total (${total}), got ${index}`);
  }
  return { total, index };
}

function fieldCondition(value: Record<string, unknown>, path: string): FieldCondition {
  const key = value.key;
  if (typeof key !== "string") fail(`${path}.key`, 'a JSON path string such as "a.b" or "a[].b"', key);
  const result: FieldCondition = { key: payloadKey(key, `${path}.key`) };
  const m = value.match;
  if (m !== null && m !== undefined) result.match = match(m, `${path}.match`);
  const r = value.range;
  if (r !== null && r !== undefined) result.range = range(r, `${path}.range`);
  const box = value.geo_bounding_box;
  if (box !== null && box !== undefined) {
    result.geo_bounding_box = boundingBox(box, `${path}.geo_bounding_box`);
  }
  const radius = value.geo_radius;
  if (radius !== null && radius !== undefined) result.geo_radius = geoRadius(radius, `${path}.geo_radius`);
  const polygon = value.geo_polygon;
  if (polygon !== null && polygon !== undefined) {
    result.geo_polygon = geoPolygon(polygon, `${path}.geo_polygon`);
  }
  const count = value.values_count;
  if (count !== null && count !== undefined) result.values_count = valuesCount(count, `${path}.values_count`);
  for (const flag of ["is_empty", "is_null"] as const) {
    const v = value[flag];
    if (v === null || v === undefined) continue;
    if (typeof v !== "boolean") fail(`${path}.${flag}`, "true or false", v);
    result[flag] = v;
  }
  if (!FIELD_TESTS.some((test) => result[test] !== undefined)) {
    throw new InvalidArgumentError(
      `${path}: a field condition needs at least one of ${FIELD_TESTS.join(", ")}; it has only key`,
    );
  }
  return result;
}

function match(value: unknown, path: string): Match {
  if (!isPlainObject(value)) fail(path, `an object with one of ${MATCH_KINDS.join(", ")}`, value);
  // Qdrant's `Match` is untagged: the first variant (in this order) whose field is present and valid wins.
  let firstError: unknown;
  for (const kind of MATCH_KINDS) {
    if (!Object.hasOwn(value, kind)) continue;
    try {
      return matchVariant(kind, value[kind], `${path}.${kind}`);
    } catch (error) {
      firstError ??= error;
    }
  }
  if (firstError !== undefined) throw firstError;
  return fail(path, `an object with one of ${MATCH_KINDS.join(", ")}`, value);
}

function matchVariant(kind: typeof MATCH_KINDS[number], value: unknown, path: string): Match {
  switch (kind) {
    case "value":
      if (typeof value === "string" || typeof value === "boolean" || isInt64(value)) return { value };
      return fail(path, "a string, an integer or a boolean", value);
    case "any":
    case "except": {
      const list = anyVariants(value, path);
      return kind === "any" ? { any: list } : { except: list };
    }
    default:
      if (typeof value !== "string") fail(path, "a string", value);
      return { [kind]: value } as unknown as Match;
  }
}

function anyVariants(value: unknown, path: string): string[] | number[] {
  if (!Array.isArray(value)) fail(path, "an array of strings or an array of integers", value);
  // An empty list is Qdrant's list of strings; either way it holds nothing.
  if (value.every((item) => typeof item === "string")) return value as string[];
  if (value.every(isInt64)) return value as number[];
  const bad = typeof value[0] === "string"
    ? value.findIndex((item) => typeof item !== "string")
    : value.findIndex((item) => !isInt64(item));
  return fail(
    `${path}[${bad}]`,
    `${typeof value[0] === "string" ? "a string" : "an integer"} like the first item`,
    value[bad],
  );
}

function range(value: unknown, path: string): Range | DatetimeRange {
  if (!isPlainObject(value)) fail(path, "an object with lt, gt, gte or lte", value);
  // As in Qdrant: one string bound makes it a datetime range, in which every bound must be a datetime string.
  const datetime = BOUNDS.some((bound) => typeof value[bound] === "string");
  const result: Record<string, number | string> = {};
  for (const bound of BOUNDS) {
    const v = value[bound];
    if (v === null || v === undefined) continue;
    const where = `${path}.${bound}`;
    if (datetime) {
      if (typeof v !== "string") fail(where, "a datetime string, as the other bounds are datetimes", v);
      if (parseDateTime(v) === undefined) {
        fail(where, 'an RFC 3339 datetime such as "2014-01-01T00:00:00Z"', v);
      }
      result[bound] = v;
    } else {
      if (typeof v !== "number" || !Number.isFinite(v)) fail(where, "a number or a datetime string", v);
      result[bound] = v;
    }
  }
  return result as Range | DatetimeRange;
}

function valuesCount(value: unknown, path: string): ValuesCount {
  if (!isPlainObject(value)) fail(path, "an object with lt, gt, gte or lte", value);
  const result: ValuesCount = {};
  for (const bound of BOUNDS) {
    const v = value[bound];
    if (v === null || v === undefined) continue;
    if (!isNonNegativeInteger(v)) fail(`${path}.${bound}`, "a non-negative integer", v);
    result[bound] = v;
  }
  return result;
}

function geoPoint(value: unknown, path: string): GeoPoint {
  if (!isPlainObject(value)) fail(path, "a geo point {lon, lat}", value);
  const { lon, lat } = value;
  if (typeof lon !== "number" || !Number.isFinite(lon)) fail(`${path}.lon`, "a number", lon);
  if (typeof lat !== "number" || !Number.isFinite(lat)) fail(`${path}.lat`, "a number", lat);
  if (lon < -180 || lon > 180) fail(`${path}.lon`, "a longitude within [-180, 180]", lon);
  if (lat < -90 || lat > 90) fail(`${path}.lat`, "a latitude within [-90, 90]", lat);
  return { lon, lat };
}

function boundingBox(value: unknown, path: string): GeoBoundingBox {
  if (!isPlainObject(value)) fail(path, "an object {top_left, bottom_right}", value);
  return {
    top_left: geoPoint(value.top_left, `${path}.top_left`),
    bottom_right: geoPoint(value.bottom_right, `${path}.bottom_right`),
  };
}

function geoRadius(value: unknown, path: string): GeoRadius {
  if (!isPlainObject(value)) fail(path, "an object {center, radius}", value);
  const center = geoPoint(value.center, `${path}.center`);
  const radius = value.radius;
  if (typeof radius !== "number" || !Number.isFinite(radius)) {
    fail(`${path}.radius`, "a number of meters", radius);
  }
  return { center, radius };
}

function geoPolygon(value: unknown, path: string): GeoPolygon {
  if (!isPlainObject(value)) fail(path, "an object {exterior, interiors?}", value);
  const result: GeoPolygon = { exterior: lineString(value.exterior, `${path}.exterior`) };
  const interiors = value.interiors;
  if (interiors !== null && interiors !== undefined) {
    if (!Array.isArray(interiors)) fail(`${path}.interiors`, "an array of {points}", interiors);
    result.interiors = interiors.map((ring, i) => lineString(ring, `${path}.interiors[${i}]`));
  }
  return result;
}

function lineString(value: unknown, path: string): GeoLineString {
  if (!isPlainObject(value)) fail(path, "an object {points}", value);
  const points = value.points;
  if (!Array.isArray(points)) fail(`${path}.points`, "an array of geo points", points);
  const ring = points.map((point, i) => geoPoint(point, `${path}.points[${i}]`));
  if (ring.length < 4) {
    throw new InvalidArgumentError(
      `${path}.points: a polygon ring needs at least 4 points, got ${ring.length}`,
    );
  }
  const first = ring[0], last = ring[ring.length - 1];
  // Qdrant compares the ends with a tolerance of f64::EPSILON.
  if (Math.abs(first.lat - last.lat) > Number.EPSILON || Math.abs(first.lon - last.lon) > Number.EPSILON) {
    throw new InvalidArgumentError(
      `${path}.points: a polygon ring must be closed (its last point equal to its first), got first ` +
        `${JSON.stringify(first)} and last ${JSON.stringify(last)}`,
    );
  }
  return { points: ring };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isInt64(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= -I64_LIMIT && value < I64_LIMIT;
}

function fail(path: string, expected: string, got: unknown): never {
  throw new InvalidArgumentError(`${path}: expected ${expected}, got ${describe(got)}`);
}

/** Renders a received value for an error message: JSON, cut short when long. */
function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return String(value);
  if (typeof value === "function" || typeof value === "symbol") return `a ${typeof value}`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
