/**
 * Seeded random workloads for the filter differential test (`tests/filter_differential.test.ts`): points whose
 * payloads cover every JSON shape Qdrant's filters care about, and REST-shaped filters, scroll, count and
 * facet requests whose values are drawn from those payloads, so that matches are frequent and selectivities
 * spread between "nothing" and "everything".
 *
 * Everything is a pure function of the seed: the same seed gives the same points and requests under Deno and
 * Bun, and (through JSON) in the Python oracle, `tests/oracle/qdrant_oracle.py`.
 *
 * - {@linkcode generatePoints}`(seed, n)`: the points.
 * - {@linkcode FIELD_INDEXES}: the payload indexes of the indexed pass (one per schema type, plus two paths).
 * - {@linkcode profilePoints}`(points)`: the values under each filtered key, where filters draw values from.
 * - {@linkcode generateFilter}`(rng, depth, profile)`: one filter, at most `depth` levels of nesting.
 * - {@linkcode generateWorkload}`(seed, points, cases, options)`: `cases` counts, scrolls and facets.
 *
 * @module
 */
import { seededRandom } from "../scripts/_random.ts";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** A point id: an unsigned integer or a canonical (lowercase, hyphenated) UUID. */
export type GenPointId = number | string;

/** A generated point, in the shape both engines upsert. */
export interface GenPoint {
  /** Integer ids mostly, about one in seven a UUID. */
  id: GenPointId;
  /** A 4-dimensional vector (the filters never look at it). */
  vector: number[];
  /** `null` for about one point in forty. */
  payload: JsonObject | null;
}

/** A REST filter (`{must?, should?, must_not?, min_should?}`); kept as plain JSON. */
export type Filter = JsonObject;

/** A scroll request as the oracle and `EdgeShard.scroll` take it. */
export interface ScrollCase {
  /** The filter, absent for "all points". */
  filter?: Filter;
  /** Page size; absent means Qdrant's default of 10. */
  limit?: number;
  /** First point id (inclusive) of the page; never with `order_by`. */
  offset?: GenPointId;
  /** Order by a payload key (needs a range-capable index). */
  order_by?: { key: string; direction?: "asc" | "desc"; start_from?: number | string };
  /** `false` unless the case also compares payloads. */
  with_payload?: boolean;
  /** Follow `next_page_offset` to the end and compare every page. */
  all_pages?: boolean;
}

/** A count request. */
export interface CountCase {
  /** The filter, absent for "all points". */
  filter?: Filter;
  /** Always `true`: estimates are not compared. */
  exact: boolean;
}

/** A facet request. */
export interface FacetCase {
  /** The payload key to facet on. */
  key: string;
  /** Number of hits; absent means Qdrant's default of 10. */
  limit?: number;
  /** Exact counts or not (Qdrant's default: false). */
  exact?: boolean;
  /** The filter, absent for "all points". */
  filter?: Filter;
}

/** One generated workload: parallel lists, the i-th count and scroll share one filter. */
export interface Workload {
  /** One per case. */
  counts: CountCase[];
  /** One per case. */
  scrolls: ScrollCase[];
  /** Roughly one per four cases. */
  facets: FacetCase[];
}

/** A seeded source of random choices (mulberry32 from `scripts/_random.ts`). */
export class Rng {
  readonly #next: () => number;

  /** A generator for `seed`; the same seed gives the same sequence in every runtime. */
  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }

  /** A number in [0, 1). */
  float(): number {
    return this.#next();
  }

  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.#next() * (hi - lo + 1));
  }

  /** `true` with probability `p`. */
  chance(p: number): boolean {
    return this.#next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Rng.pick: empty list");
    return items[Math.floor(this.#next() * items.length)];
  }

  /** Up to `k` distinct elements in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const copy = [...items];
    const out: T[] = [];
    while (out.length < k && copy.length > 0) {
      out.push(copy.splice(Math.floor(this.#next() * copy.length), 1)[0]);
    }
    return out;
  }

  /** One value, chosen with the given relative weights. */
  weighted<T>(entries: readonly (readonly [number, T])[]): T {
    const total = entries.reduce((sum, [w]) => sum + w, 0);
    let x = this.#next() * total;
    for (const [w, value] of entries) {
      if (x < w) return value;
      x -= w;
    }
    return entries[entries.length - 1][1];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Points
// ---------------------------------------------------------------------------------------------------------------

/** A small vocabulary, so that keyword matches are frequent; includes a case variant, a non-ASCII word and "". */
export const KEYWORDS: readonly string[] = [
  "red",
  "green",
  "blue",
  "yellow",
  "black",
  "white",
  "Red",
  "grün",
  "blue-green",
  "",
];

/** Words of the `title` sentences (full-text conditions). */
export const WORDS: readonly string[] = [
  "the",
  "quick",
  "brown",
  "fox",
  "jumps",
  "over",
  "lazy",
  "dog",
  "cat",
  "sleeps",
  "runs",
  "red",
  "blue",
  "café",
  "Über",
  "x-ray",
];

/** Cities the geo points cluster around; Suva's cluster straddles the antimeridian, one is near the pole. */
const CITIES: readonly { lon: number; lat: number }[] = [
  { lon: 13.405, lat: 52.52 },
  { lon: 2.3522, lat: 48.8566 },
  { lon: -74.006, lat: 40.7128 },
  { lon: 139.6917, lat: 35.6895 },
  { lon: 179.7, lat: -18.1 },
  { lon: -58.38, lat: -34.6 },
  { lon: 20.0, lat: 89.6 },
];

const UUID_POOL_SIZE = 12;
const DAY_MS = 86_400_000;
const YEAR_START_MS = Date.UTC(2024, 0, 1);

function uuidFrom(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => rng.int(0, 15).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, "0");
}

/**
 * A datetime string in one of the formats Qdrant parses: RFC 3339 with `Z` or a `±hh:mm` offset and 0 to 9
 * fractional digits, or without a zone (read as UTC), with a space instead of `T`, or a bare date.
 */
export function randomDatetime(rng: Rng): string {
  const ms = YEAR_START_MS + Math.floor(rng.float() * 366 * DAY_MS / 1000) * 1000;
  const offsetMinutes = rng.pick([0, 0, 0, 60, 120, -300, -330, 330, 345, -720, 840]);
  const local = new Date(ms + offsetMinutes * 60_000);
  const date = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  const digits = rng.weighted([[50, 0], [15, 3], [15, 6], [8, 1], [4, 9]] as const);
  const fraction = digits === 0 ? "" : "." + Array.from({ length: digits }, () => rng.int(0, 9)).join("");
  const zone = offsetMinutes === 0
    ? rng.pick(["Z", "Z", "Z", "+00:00"])
    : `${offsetMinutes < 0 ? "-" : "+"}${pad(Math.trunc(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
  const shape = rng.weighted([[85, "rfc3339"], [6, "no-zone"], [4, "space"], [5, "date"]] as const);
  if (shape === "date") return date;
  if (shape === "space") return `${date} ${time}${fraction}${offsetMinutes === 0 ? "" : zone}`;
  if (shape === "no-zone" && offsetMinutes === 0) return `${date}T${time}${fraction}`;
  return `${date}T${time}${fraction}${zone}`;
}

function geoPoint(rng: Rng): JsonObject {
  const city = rng.pick(CITIES);
  let lon = city.lon + (rng.float() - 0.5) * 1.4;
  if (lon > 180) lon -= 360;
  if (lon < -180) lon += 360;
  const lat = Math.max(-90, Math.min(90, city.lat + (rng.float() - 0.5) * 1.2));
  return { lon: round(lon, 5), lat: round(lat, 5) };
}

function sentence(rng: Rng): string {
  const words = Array.from({ length: rng.int(1, 7) }, () => rng.pick(WORDS));
  if (rng.chance(0.3)) words[0] = words[0][0].toUpperCase() + words[0].slice(1);
  let text = words.join(" ");
  if (rng.chance(0.25)) text = text.replace(" ", rng.pick([", ", "! ", " - "]));
  if (rng.chance(0.3)) text += rng.pick([".", "!", "?"]);
  return text;
}

/** `one()` most of the time, else a shape filters treat specially: an array, null, [], or the key missing. */
function shaped(
  rng: Rng,
  one: () => Json,
  odds: {
    array?: number;
    nul?: number;
    empty?: number;
    missing?: number;
    other?: () => Json;
    otherOdds?: number;
  },
): Json | undefined {
  const x = rng.float();
  let edge = odds.array ?? 0.1;
  if (x < edge) return Array.from({ length: rng.int(1, 3) }, one);
  if (x < (edge += odds.nul ?? 0.05)) return null;
  if (x < (edge += odds.empty ?? 0.04)) return [];
  if (x < (edge += odds.missing ?? 0.08)) return undefined;
  if (odds.other !== undefined && x < (edge += odds.otherOdds ?? 0.05)) return odds.other();
  return one();
}

function randomScalar(rng: Rng, uuids: readonly string[]): Json {
  return rng.weighted<() => Json>([
    [3, () => rng.pick(KEYWORDS)],
    [3, () => rng.int(-3, 12)],
    [2, () => round(rng.float() * 20 - 5, 2)],
    [2, () => rng.chance(0.5)],
    [1, () => null],
    [1, () => rng.pick(uuids)],
  ])();
}

function item(rng: Rng): JsonObject {
  const out: JsonObject = {};
  if (rng.chance(0.9)) out.name = rng.chance(0.9) ? rng.pick(KEYWORDS) : null;
  if (rng.chance(0.85)) out.qty = rng.chance(0.9) ? rng.int(0, 10) : round(rng.float() * 10, 1);
  if (rng.chance(0.6)) out.tags = Array.from({ length: rng.int(0, 3) }, () => rng.pick(KEYWORDS));
  if (rng.chance(0.4)) out.sub = Array.from({ length: rng.int(0, 3) }, () => ({ x: rng.int(0, 3) }));
  return out;
}

function payload(rng: Rng, uuids: readonly string[]): JsonObject {
  const p: Record<string, Json | undefined> = {};
  p.color = shaped(rng, () => rng.pick(KEYWORDS), { other: () => rng.int(0, 3) });
  p.count = shaped(rng, () => rng.int(-3, 12), {
    other: () => rng.pick<Json>([round(rng.float() * 10, 1), "7", 2.0]),
    otherOdds: 0.08,
  });
  p.price = shaped(rng, () => rng.chance(0.8) ? round(rng.float() * 100, 2) : rng.int(0, 100), {
    other: () => -round(rng.float() * 10, 3),
  });
  p.active = shaped(rng, () => rng.chance(0.5), { other: () => rng.pick<Json>(["true", 1, 0]) });
  p.uid = shaped(rng, () => rng.pick(uuids), {
    array: 0.05,
    missing: 0.12,
    other: () => rng.chance(0.5) ? rng.pick(uuids).toUpperCase() : "not-a-uuid",
  });
  p.created = shaped(rng, () => randomDatetime(rng), {
    other: () => rng.pick<Json>(["yesterday", 1700000000]),
  });
  p.title = shaped(rng, () => sentence(rng), { array: 0.06, empty: 0.02 });
  p.location = shaped(rng, () => geoPoint(rng), {
    array: 0.08,
    empty: 0.02,
    other: () => rng.pick<Json>([{ lon: 10, lat: 95 }, { lat: 1 }, "52.5,13.4"]),
    otherOdds: 0.02,
  });
  p.tags = shaped(rng, () => rng.pick(KEYWORDS), {
    array: 0.6,
    empty: 0.08,
    other: () => [1, "red", true, null, [2, "blue"]],
    otherOdds: 0.04,
  });
  if (rng.chance(0.85)) {
    p.meta = rng.weighted<() => Json>([
      [14, () => ({
        level: rng.chance(0.9) ? rng.int(0, 5) : null,
        tag: rng.pick(KEYWORDS),
        flags: rng.chance(0.8) ? { ok: rng.chance(0.5) } : {},
        scores: Array.from({ length: rng.int(0, 3) }, () => round(rng.float(), 3)),
      })],
      [1, () => ({})],
      [1, () => null],
      [1, () => [{ level: rng.int(0, 5), tag: rng.pick(KEYWORDS) }, { level: rng.int(0, 5) }]],
    ])();
  }
  if (rng.chance(0.9)) {
    p.items = rng.weighted<() => Json>([
      [12, () => Array.from({ length: rng.int(1, 4) }, () => item(rng))],
      [2, () => []],
      [1, () => item(rng)],
      [1, () => null],
      [1, () => [item(rng), null, "loose"]],
    ])();
  }
  p.mixed = rng.chance(0.9)
    ? rng.weighted<() => Json>([
      [8, () => randomScalar(rng, uuids)],
      [1, () => ({ a: 1 })],
      [1, () => [randomScalar(rng, uuids), randomScalar(rng, uuids)]],
    ])()
    : undefined;
  p.opt = rng.weighted<Json | undefined>([
    [4, undefined],
    [2, null],
    [2, []],
    [1, [null]],
    [1, {}],
    [2, ""],
    [
      1,
      0,
    ],
    [1, false],
    [2, "x"],
  ]);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(p)) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * `n` points for `seed`: unique ids (integers below 4n, about one in seven a UUID) in shuffled order, random
 * 4-d vectors, and payloads with these keys (each sometimes missing, null, `[]`, an array, or another type):
 *
 * | key | usual value | also |
 * |---|---|---|
 * | `color` | keyword from {@linkcode KEYWORDS} | integer |
 * | `count` | integer in [-3, 12] | float, `"7"` |
 * | `price` | float with 2 decimals in [0, 100) | integer, negative |
 * | `active` | boolean | `"true"`, 1, 0 |
 * | `uid` | UUID from a pool of 12 | uppercase UUID, `"not-a-uuid"` |
 * | `created` | datetime ({@linkcode randomDatetime}) | `"yesterday"`, a number |
 * | `title` | sentence of {@linkcode WORDS} | |
 * | `location` | `{lon, lat}` near one of 7 cities | invalid geo values |
 * | `tags` | array of keywords | a mixed array |
 * | `meta` | `{level, tag, flags: {ok}, scores: [...]}` | `{}`, an array of objects |
 * | `items` | array of `{name, qty, tags, sub: [{x}]}` | one object, `[obj, null, "loose"]` |
 * | `mixed` | any scalar | object, array |
 * | `opt` | missing | null, `[]`, `[null]`, `{}`, `""`, 0, false, `"x"` |
 */
export function generatePoints(seed: number, n: number): GenPoint[] {
  const rng = new Rng(seed);
  const uuids = Array.from({ length: UUID_POOL_SIZE }, () => uuidFrom(rng));
  const used = new Set<GenPointId>();
  const points: GenPoint[] = [];
  while (points.length < n) {
    const id: GenPointId = rng.chance(0.14) ? uuidFrom(rng) : rng.int(0, 4 * n);
    if (used.has(id)) continue;
    used.add(id);
    points.push({
      id,
      vector: Array.from({ length: 4 }, () => round(rng.float() * 2 - 1, 4)),
      payload: rng.chance(0.025) ? null : payload(rng, uuids),
    });
  }
  return points;
}

/** The payload indexes of the indexed pass: every schema type once, plus two nested paths and one array. */
export const FIELD_INDEXES: readonly { field_name: string; field_schema: string }[] = [
  { field_name: "color", field_schema: "keyword" },
  { field_name: "count", field_schema: "integer" },
  { field_name: "price", field_schema: "float" },
  { field_name: "active", field_schema: "bool" },
  { field_name: "location", field_schema: "geo" },
  { field_name: "created", field_schema: "datetime" },
  { field_name: "uid", field_schema: "uuid" },
  { field_name: "title", field_schema: "text" },
  { field_name: "tags", field_schema: "keyword" },
  { field_name: "meta.level", field_schema: "integer" },
  { field_name: "items[].name", field_schema: "keyword" },
];

// ---------------------------------------------------------------------------------------------------------------
// Profile: the values under each key, where conditions draw their operands from
// ---------------------------------------------------------------------------------------------------------------

/** Leaf values under each filtered path, over all points, plus the ids. */
export interface Profile {
  /** Every point id. */
  ids: GenPointId[];
  /** Path → the non-null scalars (and geo objects) found there, arrays flattened. */
  values: Map<string, Json[]>;
}

/** Values at a JSON path (`a.b`, `a[]`, `a[0]`, `a[].b`), arrays flattened at every step, as Qdrant reads. */
export function valuesAt(root: Json, path: string): Json[] {
  let current: Json[] = [root];
  for (const part of path.split(".")) {
    const m = /^([^[]*)((?:\[\d*\])*)$/.exec(part);
    if (m === null) return [];
    const next: Json[] = [];
    for (const v of current.flatMap((x) => (Array.isArray(x) ? x : [x]))) {
      if (v !== null && typeof v === "object" && !Array.isArray(v) && m[1] in v) next.push(v[m[1]]);
    }
    current = next;
    for (const index of m[2].match(/\[\d*\]/g) ?? []) {
      const i = index === "[]" ? -1 : Number(index.slice(1, -1));
      current = current.flatMap((x) => (!Array.isArray(x) ? [] : i < 0 ? x : i < x.length ? [x[i]] : []));
    }
  }
  return current.flatMap((x) => (Array.isArray(x) ? x : [x]));
}

const PROFILE_PATHS = [
  "color",
  "count",
  "price",
  "active",
  "uid",
  "created",
  "title",
  "location",
  "tags",
  "mixed",
  "opt",
  "meta.level",
  "meta.tag",
  "meta.flags.ok",
  "meta.scores",
  "items[].name",
  "items[].qty",
  "items[].tags",
  "items[].sub[].x",
];

/** The {@linkcode Profile} of `points`. */
export function profilePoints(points: readonly GenPoint[]): Profile {
  const values = new Map<string, Json[]>();
  for (const path of PROFILE_PATHS) {
    values.set(path, points.flatMap((p) => (p.payload === null ? [] : valuesAt(p.payload, path))));
  }
  return { ids: points.map((p) => p.id), values };
}

// ---------------------------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------------------------

type Kind = "keyword" | "int" | "float" | "bool" | "uuid" | "datetime" | "text" | "geo" | "array";

/** A key conditions can name: its path in the filter, the profile path its values come from, what it holds. */
interface KeySpec {
  key: string;
  from: string;
  kinds: Kind[];
}

const ROOT_KEYS: readonly KeySpec[] = [
  { key: "color", from: "color", kinds: ["keyword", "keyword", "int"] },
  { key: "count", from: "count", kinds: ["int", "int", "float"] },
  { key: "price", from: "price", kinds: ["float"] },
  { key: "active", from: "active", kinds: ["bool"] },
  { key: "uid", from: "uid", kinds: ["uuid"] },
  { key: "created", from: "created", kinds: ["datetime"] },
  { key: "title", from: "title", kinds: ["text", "text", "keyword"] },
  { key: "location", from: "location", kinds: ["geo"] },
  { key: "tags", from: "tags", kinds: ["keyword", "array"] },
  { key: "tags[]", from: "tags", kinds: ["keyword"] },
  { key: "tags[0]", from: "tags", kinds: ["keyword"] },
  { key: "mixed", from: "mixed", kinds: ["keyword", "int", "float", "bool"] },
  { key: "opt", from: "opt", kinds: ["keyword", "array"] },
  { key: "meta.level", from: "meta.level", kinds: ["int", "float"] },
  { key: "meta.tag", from: "meta.tag", kinds: ["keyword"] },
  { key: "meta.flags.ok", from: "meta.flags.ok", kinds: ["bool"] },
  { key: "meta.scores", from: "meta.scores", kinds: ["float", "array"] },
  { key: "items[].name", from: "items[].name", kinds: ["keyword"] },
  { key: "items[].qty", from: "items[].qty", kinds: ["int", "float"] },
  { key: "items[].tags", from: "items[].tags", kinds: ["keyword", "array"] },
  { key: "items[].sub[].x", from: "items[].sub[].x", kinds: ["int"] },
  { key: "items[1].qty", from: "items[].qty", kinds: ["int"] },
  { key: "items", from: "items", kinds: ["array"] },
  // Twice more each: the geo, text and datetime conditions have the most shapes to cover.
  { key: "location", from: "location", kinds: ["geo"] },
  { key: "location", from: "location", kinds: ["geo"] },
  { key: "title", from: "title", kinds: ["text"] },
  { key: "title", from: "title", kinds: ["text"] },
  { key: "created", from: "created", kinds: ["datetime"] },
];

/** Keys inside `{"nested": {"key": "items", ...}}`: relative to one element of `items`. */
const ITEM_KEYS: readonly KeySpec[] = [
  { key: "name", from: "items[].name", kinds: ["keyword"] },
  { key: "qty", from: "items[].qty", kinds: ["int", "float"] },
  { key: "tags", from: "items[].tags", kinds: ["keyword", "array"] },
  { key: "sub[].x", from: "items[].sub[].x", kinds: ["int"] },
  { key: "sub", from: "items[].sub[].x", kinds: ["array"] },
];

/** Keys inside a nested condition on `sub` within `items`. */
const SUB_KEYS: readonly KeySpec[] = [{ key: "x", from: "items[].sub[].x", kinds: ["int"] }];

/** Keys `is_empty` / `is_null` ask about, including paths nothing has. */
const PRESENCE_KEYS = [
  "color",
  "count",
  "active",
  "uid",
  "created",
  "location",
  "tags",
  "tags[]",
  "opt",
  "mixed",
  "meta",
  "meta.level",
  "meta.flags",
  "meta.flags.ok",
  "items",
  "items[].name",
  "items[].sub",
  "nothing_here",
];

/** Where a condition is generated: at the root, or inside a nested condition. */
type Scope = "root" | "items" | "sub";

function keysOf(scope: Scope): readonly KeySpec[] {
  return scope === "root" ? ROOT_KEYS : scope === "items" ? ITEM_KEYS : SUB_KEYS;
}

function drawn(profile: Profile, path: string, accept: (v: Json) => boolean): Json[] {
  return (profile.values.get(path) ?? []).filter(accept);
}

const isString = (v: Json): boolean => typeof v === "string";
const isInt = (v: Json): boolean => typeof v === "number" && Number.isInteger(v);
const isNumber = (v: Json): boolean => typeof v === "number";

function someStrings(rng: Rng, profile: Profile, path: string, n: number): string[] {
  const pool = drawn(profile, path, isString) as string[];
  return Array.from(
    { length: n },
    () => pool.length === 0 || rng.chance(0.08) ? rng.pick(["purple", "RED", "nope"]) : rng.pick(pool),
  );
}

function someInts(rng: Rng, profile: Profile, path: string, n: number): number[] {
  const pool = drawn(profile, path, isInt) as number[];
  return Array.from(
    { length: n },
    () => (pool.length === 0 || rng.chance(0.08) ? rng.int(-5, 20) : rng.pick(pool)),
  );
}

function keywordMatch(rng: Rng, profile: Profile, from: string): JsonObject {
  return rng.weighted<() => JsonObject>([
    [5, () => ({ value: someStrings(rng, profile, from, 1)[0] })],
    [3, () => ({ any: someStrings(rng, profile, from, rng.int(1, 4)) })],
    [2, () => ({ except: someStrings(rng, profile, from, rng.int(1, 3)) })],
    [2, () => {
      const word = someStrings(rng, profile, from, 1)[0];
      return { prefix: word.slice(0, rng.int(0, Math.min(3, word.length))) };
    }],
    [0.3, () => ({ any: [] })],
    [0.3, () => ({ except: [] })],
  ])();
}

function intMatch(rng: Rng, profile: Profile, from: string): JsonObject {
  return rng.weighted<() => JsonObject>([
    [5, () => ({ value: someInts(rng, profile, from, 1)[0] })],
    [3, () => ({ any: someInts(rng, profile, from, rng.int(1, 4)) })],
    [2, () => ({ except: someInts(rng, profile, from, rng.int(1, 3)) })],
  ])();
}

const RANGE_OPS = ["gte", "gt", "lte", "lt"] as const;

/** 1 or 2 bounds; usually lower <= upper, with values taken from the data (so boundaries are hit exactly). */
function bounds<T extends Json>(
  rng: Rng,
  pool: T[],
  fresh: () => T,
  before: (a: T, b: T) => boolean,
): JsonObject {
  const value = (): T => (pool.length === 0 || rng.chance(0.3) ? fresh() : rng.pick(pool));
  if (rng.chance(0.45)) return { [rng.pick(RANGE_OPS)]: value() };
  let [lo, hi] = [value(), value()];
  if (rng.chance(0.9) && before(hi, lo)) [lo, hi] = [hi, lo];
  return { [rng.pick(["gte", "gt"])]: lo, [rng.pick(["lte", "lt"])]: hi };
}

function numberRange(rng: Rng, profile: Profile, from: string): JsonObject {
  const pool = drawn(profile, from, isNumber) as number[];
  const fresh = (): number => {
    if (pool.length === 0) return round(rng.float() * 20 - 5, 2);
    const base = rng.pick(pool);
    return rng.chance(0.5) ? base + rng.pick([0.5, -0.5, 1e-9]) : round(base * (0.5 + rng.float()), 2);
  };
  return bounds(rng, pool, fresh, (a, b) => a < b);
}

function datetimeRange(rng: Rng, profile: Profile, from: string): JsonObject {
  const pool = drawn(profile, from, (v) => typeof v === "string" && /^\d{4}-/.test(v)) as string[];
  const instant = (s: string): number => Date.parse(s.length === 10 ? s + "T00:00:00Z" : s.replace(" ", "T"));
  return bounds(rng, pool, () => randomDatetime(rng), (a, b) => instant(a) < instant(b));
}

function geoCondition(rng: Rng, profile: Profile, key: string): JsonObject {
  const pool = drawn(
    profile,
    "location",
    (v) =>
      v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.lon === "number" &&
      typeof v.lat === "number" && Math.abs(v.lat) <= 90,
  ) as { lon: number; lat: number }[];
  const center = pool.length === 0 || rng.chance(0.2) ? rng.pick(CITIES) : rng.pick(pool);
  const clampLat = (lat: number): number => round(Math.max(-90, Math.min(90, lat)), 5);
  const wrapLon = (lon: number): number => round(lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon, 5);
  const clampLon = (lon: number): number => round(Math.max(-180, Math.min(180, lon)), 5);
  return rng.weighted<() => JsonObject>([
    [3, () => {
      // Circles that reach a pole are left out: there Qdrant's geo index (geohash cover) and its payload check
      // disagree, so its answer depends on which path the query planner takes (see the test's header).
      const toPoleM = (90 - Math.abs(center.lat)) * 111_195;
      const radius = Math.min(10 ** (3 + rng.float() * 2.7), 0.9 * toPoleM);
      return { key, geo_radius: { center: { lon: center.lon, lat: center.lat }, radius: round(radius, 1) } };
    }],
    [3, () => {
      const w = 0.05 + rng.float() * 1.5;
      const h = 0.05 + rng.float() * 1.0;
      return {
        key,
        geo_bounding_box: {
          // Wrapping the longitudes makes boxes around Suva cross the antimeridian (top_left.lon > bottom_right.lon).
          top_left: { lon: wrapLon(center.lon - w), lat: clampLat(center.lat + h) },
          bottom_right: { lon: wrapLon(center.lon + w), lat: clampLat(center.lat - h) },
        },
      };
    }],
    [3, () => {
      const ring = (radius: number, n: number): JsonObject => {
        const angles = Array.from({ length: n }, () => rng.float() * 2 * Math.PI).sort((a, b) => a - b);
        const points: Json[] = angles.map((a) => ({
          lon: clampLon(center.lon + radius * 1.4 * Math.cos(a)),
          lat: clampLat(center.lat + radius * Math.sin(a)),
        }));
        points.push(points[0]);
        return { points };
      };
      const radius = 0.1 + rng.float() * 1.2;
      const polygon: JsonObject = { exterior: ring(radius, rng.int(3, 7)) };
      if (rng.chance(0.35)) polygon.interiors = [ring(radius * (0.2 + rng.float() * 0.4), rng.int(3, 5))];
      return { key, geo_polygon: polygon };
    }],
  ])();
}

function textMatch(rng: Rng, profile: Profile, from: string): JsonObject {
  const pool = drawn(profile, from, isString) as string[];
  const words = (pool.length === 0 ? "quick fox" : rng.pick(pool)).split(/[\s,!.?-]+/).filter((w) =>
    w !== ""
  );
  const some = (n: number): string => {
    const picked = rng.sample(words.length === 0 ? ["fox"] : words, n);
    if (rng.chance(0.15)) picked.push(rng.pick(["zebra", "DOG", "Café"]));
    return picked.join(" ");
  };
  return rng.weighted<() => JsonObject>([
    [4, () => ({ text: some(rng.int(1, 2)) })],
    [3, () => ({ text_any: some(rng.int(1, 3)) })],
    [3, () => {
      const start = rng.int(0, Math.max(0, words.length - 1));
      const phrase = words.slice(start, start + rng.int(1, 3)).join(" ") || "quick fox";
      return { phrase: rng.chance(0.2) ? phrase.toLowerCase() : phrase };
    }],
  ])();
}

function valuesCount(rng: Rng): JsonObject {
  const out: JsonObject = {};
  for (const op of rng.sample(RANGE_OPS, rng.chance(0.7) ? 1 : 2)) out[op] = rng.int(0, 4);
  return out;
}

/**
 * Presence keys inside `nested` over `items`. Not `name`: `items[].name` has a keyword index in the indexed
 * pass, and for `is_empty` on it (and `is_null: false`) inside `nested` Qdrant's index and payload check
 * disagree (the index answers per point, not per element), so the result depends on the query planner's path.
 */
const ITEM_PRESENCE_KEYS = ["qty", "tags", "sub", "sub[].x"];

function presenceCondition(rng: Rng, scope: Scope): JsonObject {
  const key = scope === "root"
    ? rng.pick(PRESENCE_KEYS)
    : scope === "items"
    ? rng.pick(ITEM_PRESENCE_KEYS)
    : "x";
  return rng.weighted<() => JsonObject>([
    [3, () => ({ is_empty: { key } })],
    [3, () => ({ is_null: { key } })],
    [1, () => ({ key, is_empty: rng.chance(0.5) })],
    [1, () => ({ key, is_null: rng.chance(0.5) })],
  ])();
}

/** One field condition on a key of `scope`, with operands drawn from the data. */
function fieldCondition(rng: Rng, profile: Profile, scope: Scope): JsonObject {
  const spec = rng.pick(keysOf(scope));
  const kind = rng.pick(spec.kinds);
  const { key, from } = spec;
  switch (kind) {
    case "keyword":
      return { key, match: keywordMatch(rng, profile, from) };
    case "int":
      return rng.chance(0.55)
        ? { key, match: intMatch(rng, profile, from) }
        : { key, range: numberRange(rng, profile, from) };
    case "float":
      return { key, range: numberRange(rng, profile, from) };
    case "bool":
      return { key, match: { value: rng.chance(0.5) } };
    case "uuid": {
      const pool = drawn(profile, from, isString) as string[];
      const one = (): string => {
        const u = pool.length === 0 ? "00000000-0000-0000-0000-000000000000" : rng.pick(pool);
        return rng.chance(0.1) ? u.toUpperCase() : u;
      };
      return rng.weighted<() => JsonObject>([
        [5, () => ({ key, match: { value: one() } })],
        [3, () => ({ key, match: { any: [one(), one()] } })],
        [1, () => ({ key, match: { except: [one()] } })],
      ])();
    }
    case "datetime":
      return { key, range: datetimeRange(rng, profile, from) };
    case "text":
      return { key, match: textMatch(rng, profile, from) };
    case "geo":
      return geoCondition(rng, profile, key);
    case "array":
      return { key, values_count: valuesCount(rng) };
  }
}

/**
 * A field condition with two clauses (`match` and `range`, or a clause and `values_count`): REST accepts them,
 * and Qdrant's answer (the clauses are not simply AND-ed) is part of what @x/edge must reproduce.
 */
function doubleCondition(rng: Rng, profile: Profile): JsonObject {
  const spec = rng.pick(ROOT_KEYS.filter((k) => k.kinds.includes("int")));
  const out: JsonObject = { key: spec.key, match: intMatch(rng, profile, spec.from) };
  if (rng.chance(0.6)) out.range = numberRange(rng, profile, spec.from);
  else out.values_count = valuesCount(rng);
  return out;
}

function hasId(rng: Rng, profile: Profile): JsonObject {
  const ids: Json[] = rng.sample(profile.ids, rng.int(1, 8));
  if (rng.chance(0.3)) ids.push(rng.int(0, 10 * profile.ids.length));
  if (rng.chance(0.1)) ids.push("00000000-0000-0000-0000-000000000001");
  return { has_id: ids };
}

/** A leaf condition (or a nested condition, which counts as one level of depth). */
function leafCondition(rng: Rng, profile: Profile, scope: Scope, depth: number): JsonObject {
  const nestedKey = scope === "root" ? "items" : scope === "items" ? "sub" : null;
  const kind = rng.weighted(
    [
      [70, "field"],
      [10, "presence"],
      [scope === "root" ? 5 : 0, "has_id"],
      [scope === "root" ? 1.5 : 0, "has_vector"],
      [nestedKey !== null && depth > 1 ? 10 : 0, "nested"],
      [3, "double"],
    ] as const,
  );
  switch (kind) {
    case "field":
      return fieldCondition(rng, profile, scope);
    case "presence":
      return presenceCondition(rng, scope);
    case "has_id":
      return hasId(rng, profile);
    case "has_vector":
      return { has_vector: rng.chance(0.85) ? "" : "image" };
    case "double":
      return scope === "root" ? doubleCondition(rng, profile) : fieldCondition(rng, profile, scope);
    case "nested": {
      const inner: Scope = scope === "root" ? "items" : "sub";
      // Occasionally nest over a key that is not an array of objects (Qdrant then matches nothing).
      const key = scope === "root" && rng.chance(0.08) ? rng.pick(["meta", "items[]"]) : nestedKey!;
      return { nested: { key, filter: filterIn(rng, depth - 1, profile, inner) } };
    }
  }
}

function conditionList(rng: Rng, profile: Profile, scope: Scope, depth: number, n: number): JsonObject[] {
  return Array.from(
    { length: n },
    () =>
      depth > 1 && rng.chance(0.22)
        ? filterIn(rng, depth - 1, profile, scope)
        : leafCondition(rng, profile, scope, depth),
  );
}

function filterIn(rng: Rng, depth: number, profile: Profile, scope: Scope): Filter {
  const filter: Filter = {};
  const clauses = rng.sample(
    ["must", "should", "must_not", "min_should"] as const,
    rng.weighted([[5, 1], [4, 2], [
      1,
      3,
    ]]),
  );
  for (const clause of clauses) {
    if (clause === "min_should") {
      if (rng.chance(0.6)) continue; // rarer than the other three
      const conditions = conditionList(rng, profile, scope, depth, rng.int(2, 4));
      // min_count 0 is refused by the REST API (and by @x/edge); the Python binding alone accepts it.
      const minCount = rng.weighted([[10, 1], [8, 2], [3, 3], [1, conditions.length + 1]]);
      filter.min_should = { conditions, min_count: minCount };
      continue;
    }
    const n = clause === "should" ? rng.int(1, 3) : rng.int(1, 2);
    const list = conditionList(rng, profile, scope, depth, n);
    // REST also takes a single condition in place of a list.
    filter[clause] = list.length === 1 && rng.chance(0.1) ? list[0] : list;
  }
  if (Object.keys(filter).length === 0) filter.must = [leafCondition(rng, profile, scope, depth)];
  return filter;
}

/**
 * A random REST filter of at most `depth` (1 to 4) levels: each level is a `Filter` whose `must`, `should`,
 * `must_not` and `min_should` hold leaf conditions, sub-filters, or `nested` conditions over `items` (and `sub`
 * within it), which open a level of their own. Leaves use every condition type: match value / any / except /
 * text / text_any / phrase / prefix, numeric and datetime range, geo radius / bounding box / polygon (with
 * holes), values_count, is_empty, is_null (both spellings), has_id, has_vector, and field conditions with two
 * clauses. Operands come from `profile` (see {@linkcode profilePoints}), plus a few values absent from the data.
 */
export function generateFilter(rng: Rng, depth: number, profile: Profile): Filter {
  if (depth < 1 || depth > 4) throw new RangeError(`generateFilter: depth must be 1 to 4, got ${depth}`);
  return filterIn(rng, depth, profile, "root");
}

// ---------------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------------

/** Keys with a range-capable index in the indexed pass (order_by). */
const ORDER_KEYS = ["count", "price", "created", "meta.level"];
/** Keys with a map index (keyword, integer, bool, uuid) in the indexed pass (facet). */
const FACET_KEYS = ["color", "count", "active", "uid", "tags", "meta.level", "items[].name"];

/** Options of {@linkcode generateWorkload}. */
export interface WorkloadOptions {
  /** Whether the shard has {@linkcode FIELD_INDEXES}: facets and order_by need them (else they are errors). */
  indexed: boolean;
}

function startFrom(rng: Rng, profile: Profile, key: string): number | string {
  if (key === "created") {
    const pool = drawn(profile, key, (v) => typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v));
    return pool.length === 0 || rng.chance(0.3) ? randomDatetime(rng) : rng.pick(pool) as string;
  }
  const pool = drawn(profile, key, isNumber) as number[];
  return pool.length === 0 ? 0 : rng.pick(pool);
}

/**
 * `cases` filters (depth 1 to 4, shallow ones more often; one in fifty is "no filter"), each turned into an
 * exact count and a scroll (random limit, offset from the ids or a missing id, sometimes every page, sometimes
 * with payloads, in the indexed pass sometimes `order_by` a numeric or datetime key), and about one in four
 * into a facet. Without indexes, one case in a hundred is an `order_by` or facet that Qdrant refuses, to
 * compare error messages.
 */
export function generateWorkload(
  seed: number,
  points: readonly GenPoint[],
  cases: number,
  options: WorkloadOptions,
): Workload {
  const rng = new Rng(seed ^ 0x5eed);
  const profile = profilePoints(points);
  const workload: Workload = { counts: [], scrolls: [], facets: [] };
  for (let i = 0; i < cases; i++) {
    const depth = rng.weighted([[30, 1], [35, 2], [20, 3], [15, 4]]);
    const filter = rng.chance(0.02) ? undefined : generateFilter(rng, depth, profile);
    workload.counts.push(filter === undefined ? { exact: true } : { filter, exact: true });

    const scroll: ScrollCase = { with_payload: rng.chance(0.05) };
    if (filter !== undefined) scroll.filter = filter;
    if (!rng.chance(0.15)) {
      scroll.limit = rng.weighted([[6, rng.int(1, 20)], [3, rng.int(21, 100)], [1, 1000]]);
    }
    const orderBy = options.indexed ? rng.chance(0.12) : rng.chance(0.005);
    if (orderBy) {
      const key = rng.pick(ORDER_KEYS);
      scroll.order_by = { key };
      if (rng.chance(0.5)) scroll.order_by.direction = rng.pick(["asc", "desc"]);
      if (rng.chance(0.3)) scroll.order_by.start_from = startFrom(rng, profile, key);
      if (!options.indexed && rng.chance(0.3)) scroll.offset = rng.pick(profile.ids);
    } else {
      if (rng.chance(0.3)) {
        scroll.offset = rng.chance(0.7) ? rng.pick(profile.ids) : rng.int(0, 4 * points.length);
      }
      if (rng.chance(0.1)) {
        scroll.all_pages = true;
        scroll.limit = rng.int(1, 25);
      }
    }
    workload.scrolls.push(scroll);

    if (options.indexed ? rng.chance(0.25) : rng.chance(0.005)) {
      const facet: FacetCase = { key: options.indexed ? rng.pick(FACET_KEYS) : rng.pick(["color", "mixed"]) };
      if (filter !== undefined && rng.chance(0.8)) facet.filter = filter;
      if (rng.chance(0.6)) facet.limit = rng.int(1, 15);
      if (rng.chance(0.5)) facet.exact = rng.chance(0.5);
      workload.facets.push(facet);
    }
  }
  return workload;
}
