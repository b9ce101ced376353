/**
 * Differential test of filters, scroll, count and facet against real Qdrant Edge (`qdrant-edge-py`, driven by
 * tests/oracle/qdrant_oracle.py): the same 500 seeded points (tests/_filter_gen.ts) go into both engines, once
 * without payload indexes and once with an index of every schema type (keyword, integer, float, bool, geo,
 * datetime, uuid, text, plus two nested paths); then thousands of random filters (2,000 per pass; set
 * `EDGE_FILTER_CASES` for more, e.g. 100000) must give the same exact count, the same scroll ids in the same
 * order with the same `next_page_offset` (also page by page to the end), the same facet hits, and the same
 * error messages where Qdrant refuses (order_by or facet without a suitable index).
 *
 * Each pass sends its whole workload to one oracle process (in chunks of 2,500 cases), started before the
 * test needs it. On a difference the test keeps going, then reports the number of differing cases and, for
 * the first few, the seed, the request, both results, a filter shrunk while the engines still disagree
 * (one oracle run per shrinking round), and the points only one engine matched.
 *
 * Left out on purpose, because there Qdrant's own answer depends on the query planner's path (its payload
 * index and its payload check disagree): geo_radius circles that reach a pole, and is_empty / is_null:false on
 * an indexed key inside `nested`. `order_by` ties come back in hash order (they differ between two runs of
 * Qdrant), so tied points are compared as sets; the oracle is asked for the whole ordering to know the ties.
 *
 * Seed: `EDGE_FILTER_SEED` (default 20260801).
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { EdgeShard } from "../mod.ts";
import { tempDir } from "./_helpers.ts";
import {
  type CountCase,
  type FacetCase,
  FIELD_INDEXES,
  type Filter,
  generatePoints,
  generateWorkload,
  type GenPoint,
  type GenPointId,
  type Json,
  type ScrollCase,
  type Workload,
} from "./_filter_gen.ts";

const PYTHON = fileURLToPath(new URL("../.venv/bin/python", import.meta.url));
const ORACLE = fileURLToPath(new URL("./oracle/qdrant_oracle.py", import.meta.url));
const SEED = Number(process.env.EDGE_FILTER_SEED ?? 20260801);
const CASES = Number(process.env.EDGE_FILTER_CASES ?? 2_000);
const POINTS = 500;
const DIM = 4;
const BATCH = 256;
const CHUNK = 2_500;
/** The oracle's limit for order_by scrolls: everything, so that ties at our page's end are known. */
const ORDER_BY_ALL = 1_000_000;
const MAX_PAGES = 1_000;
const REPORTED = 3;
const SHRINK_ROUNDS = 40;
const CONFIG = { vectors: { "": { size: DIM, distance: "Cosine" as const } } };

// ---------------------------------------------------------------------------------------------------------------
// The two engines' results, in one JSON shape (the oracle's)
// ---------------------------------------------------------------------------------------------------------------

type Id = number | string;
interface ErrorResult {
  error: string;
  error_type?: string;
}
interface Page {
  ids: Id[];
  next_page_offset: Id | null;
  order_values?: Json[];
  payloads?: Json[];
}
type ScrollResult = Page | { pages: (Page | ErrorResult)[] } | ErrorResult;
type CountResult = number | ErrorResult;
type FacetResult = { hits: { value: string | number | boolean; count: number }[] } | ErrorResult;
interface OracleResponse {
  counts: CountResult[];
  scrolls: ScrollResult[];
  facets: FacetResult[];
}

/**
 * The part of `EdgeShard` this test drives, typed here so that the file compiles before the filter API
 * lands; the shapes are Qdrant's REST shapes.
 */
interface FilterShard {
  update(operation: unknown): void;
  count(request: { filter?: Filter; exact?: boolean }): number;
  scroll(request: Omit<ScrollCase, "all_pages">): {
    points: { id: unknown; payload?: unknown; order_value?: unknown }[];
    next_page_offset: unknown;
  };
  facet(request: FacetCase): { hits: { value: unknown; count: number }[] };
  close(): void;
}

const READY = ["scroll", "facet", "count"].every((name) =>
  typeof Reflect.get(EdgeShard.prototype, name) === "function"
);
const SKIP = READY ? false : "EdgeShard.scroll / facet are not implemented yet";

function isError(x: unknown): x is ErrorResult {
  return typeof x === "object" && x !== null && "error" in x;
}

function caught(error: unknown): ErrorResult {
  return { error: error instanceof Error ? error.message : String(error) };
}

function normId(id: unknown): Id {
  if (typeof id === "bigint") return Number.isSafeInteger(Number(id)) ? Number(id) : String(id);
  if (typeof id === "number" || typeof id === "string") return id;
  throw new TypeError(`unexpected point id ${String(id)}`);
}

function normOrderValue(v: unknown): Json {
  return typeof v === "bigint" ? Number(v) : (v as Json);
}

function ourPage(shard: FilterShard, request: Omit<ScrollCase, "all_pages">): Page | ErrorResult {
  try {
    const result = shard.scroll(request);
    const page: Page = {
      ids: result.points.map((p) => normId(p.id)),
      next_page_offset: result.next_page_offset == null ? null : normId(result.next_page_offset),
    };
    if (request.order_by !== undefined && result.points.some((p) => p.order_value !== undefined)) {
      page.order_values = result.points.map((p) => normOrderValue(p.order_value));
    }
    if (request.with_payload) page.payloads = result.points.map((p) => (p.payload ?? {}) as Json);
    return page;
  } catch (error) {
    return caught(error);
  }
}

function ourScroll(shard: FilterShard, request: ScrollCase): ScrollResult {
  const { all_pages, ...single } = request;
  if (!all_pages) return ourPage(shard, single);
  const pages: (Page | ErrorResult)[] = [];
  let offset: GenPointId | undefined = single.offset;
  for (;;) {
    const page = ourPage(shard, offset === undefined ? single : { ...single, offset });
    if (isError(page) && pages.length === 0) return page;
    pages.push(page);
    if (isError(page) || page.next_page_offset === null || pages.length >= MAX_PAGES) break;
    offset = page.next_page_offset;
  }
  return { pages };
}

function ourCount(shard: FilterShard, request: CountCase): CountResult {
  try {
    return shard.count(request);
  } catch (error) {
    return caught(error);
  }
}

function ourFacet(shard: FilterShard, request: FacetCase): FacetResult {
  try {
    const hits = shard.facet(request).hits.map((h) => ({
      value: (typeof h.value === "bigint" ? Number(h.value) : h.value) as string | number | boolean,
      count: h.count,
    }));
    return { hits };
  } catch (error) {
    return caught(error);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison: null when the results agree, else what differs
// ---------------------------------------------------------------------------------------------------------------

const show = (x: unknown): string => JSON.stringify(x);

function sameError(ours: unknown, theirs: ErrorResult): string | null {
  if (!isError(ours)) return `Qdrant refused (${show(theirs.error)}), we did not`;
  return ours.error === theirs.error ? null : `error message ${show(ours.error)} vs ${show(theirs.error)}`;
}

/** Equal JSON, except that numbers may differ in the last bits (Qdrant's float parsing is not always exact). */
function sameJson(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") {
    return a === b || Math.abs(a - b) <= 4 * Number.EPSILON * Math.abs(b);
  }
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return show(ka) === show(kb) &&
    ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function comparePage(ours: Page | ErrorResult, theirs: Page | ErrorResult): string | null {
  if (isError(theirs)) return sameError(ours, theirs);
  if (isError(ours)) return `we refused (${show(ours.error)}), Qdrant did not`;
  if (show(ours.ids) !== show(theirs.ids)) return `ids ${show(ours.ids)} vs ${show(theirs.ids)}`;
  if (ours.next_page_offset !== theirs.next_page_offset) {
    return `next_page_offset ${show(ours.next_page_offset)} vs ${show(theirs.next_page_offset)}`;
  }
  if (theirs.payloads !== undefined) {
    const i = theirs.payloads.findIndex((p, j) => !sameJson(ours.payloads?.[j], p));
    if (i >= 0) {
      return `payload of ${show(theirs.ids[i])}: ${show(ours.payloads?.[i])} vs ${show(theirs.payloads[i])}`;
    }
  }
  return null;
}

/**
 * order_by results: `theirs` is Qdrant's whole ordering (limit ORDER_BY_ALL). Our page must have the length
 * of its prefix, the same order values if we report them, and, run by run of equal values, the same ids; in
 * the run cut by the page's end, ours must be among Qdrant's.
 */
function compareOrdered(
  request: ScrollCase,
  ours: Page | ErrorResult,
  theirs: Page | ErrorResult,
): string | null {
  if (isError(theirs)) return sameError(ours, theirs);
  if (isError(ours)) return `we refused (${show(ours.error)}), Qdrant did not`;
  const limit = request.limit ?? 10;
  const values = theirs.order_values ?? [];
  const n = Math.min(limit, theirs.ids.length);
  if (ours.ids.length !== n) return `${ours.ids.length} records vs ${n}`;
  if (ours.next_page_offset !== null) return `next_page_offset ${show(ours.next_page_offset)} vs null`;
  if (ours.order_values !== undefined && !sameJson(ours.order_values, values.slice(0, n))) {
    return `order values ${show(ours.order_values)} vs ${show(values.slice(0, n))}`;
  }
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < theirs.ids.length && show(values[end]) === show(values[start])) end++;
    const mine = ours.ids.slice(start, Math.min(end, n)).map(String).sort();
    const group = theirs.ids.slice(start, end).map(String).sort();
    if (end <= n ? show(mine) !== show(group) : !isSubMultiset(mine, group)) {
      return `ids ordered by ${show(values[start])} at [${start}, ${Math.min(end, n)}): ${show(mine)} vs ${
        show(group)
      }${end > n ? " (any of them)" : ""}`;
    }
    start = end;
  }
  return null;
}

function isSubMultiset(small: string[], big: string[]): boolean {
  const left = new Map<string, number>();
  for (const x of big) left.set(x, (left.get(x) ?? 0) + 1);
  return small.every((x) => {
    const k = left.get(x) ?? 0;
    left.set(x, k - 1);
    return k > 0;
  });
}

function compareScroll(request: ScrollCase, ours: ScrollResult, theirs: ScrollResult): string | null {
  if (isError(theirs)) return sameError(ours, theirs);
  if (isError(ours)) return `we refused (${show(ours.error)}), Qdrant did not`;
  if (request.order_by !== undefined) return compareOrdered(request, ours as Page, theirs as Page);
  if ("pages" in theirs) {
    const mine = "pages" in ours ? ours.pages : [ours];
    for (let i = 0; i < Math.max(mine.length, theirs.pages.length); i++) {
      if (mine[i] === undefined || theirs.pages[i] === undefined) {
        return `${mine.length} pages vs ${theirs.pages.length}`;
      }
      const diff = comparePage(mine[i], theirs.pages[i]);
      if (diff !== null) return `page ${i}: ${diff}`;
    }
    return null;
  }
  return comparePage(ours as Page, theirs);
}

function compareCount(ours: CountResult, theirs: CountResult): string | null {
  if (isError(theirs)) return sameError(ours, theirs);
  if (isError(ours)) return `we refused (${show(ours.error)}), Qdrant did not`;
  return ours === theirs ? null : `count ${ours} vs ${theirs}`;
}

function compareFacet(ours: FacetResult, theirs: FacetResult): string | null {
  if (isError(theirs)) return sameError(ours, theirs);
  if (isError(ours)) return `we refused (${show(ours.error)}), Qdrant did not`;
  return show(ours.hits) === show(theirs.hits) ? null : `hits ${show(ours.hits)} vs ${show(theirs.hits)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------------------------

/** The oracle's form of a scroll: order_by asks for the whole ordering (see compareOrdered). */
function oracleScroll(request: ScrollCase): ScrollCase {
  return request.order_by === undefined ? request : { ...request, limit: ORDER_BY_ALL };
}

function runOracle(request: unknown): Promise<OracleResponse> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [ORACLE], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const stdout = Buffer.concat(out).toString("utf8");
      if (code !== 0) {
        reject(
          new Error(`oracle exited with ${code}: ${stdout.slice(0, 2000)} ${Buffer.concat(err).toString()}`),
        );
        return;
      }
      resolve(JSON.parse(stdout));
    });
    child.stdin.end(JSON.stringify(request));
  });
}

type Pass = "plain" | "indexed";

function oracleRequest(pass: Pass, points: GenPoint[], work: Partial<Workload>): unknown {
  return {
    config: CONFIG,
    points,
    ops: pass === "indexed" ? FIELD_INDEXES.map((index) => ({ create_field_index: index })) : [],
    counts: work.counts ?? [],
    scrolls: (work.scrolls ?? []).map(oracleScroll),
    facets: work.facets ?? [],
  };
}

const POINTS_OF_SEED = generatePoints(SEED, POINTS);

/** Chunk `k` of a pass: its workload (seed SEED + k) and the oracle's answer, started at most once. */
const chunks = new Map<string, { workload: Workload; response: Promise<OracleResponse> }>();
function chunk(pass: Pass, k: number): { workload: Workload; response: Promise<OracleResponse> } {
  const key = `${pass}/${k}`;
  let entry = chunks.get(key);
  if (entry === undefined) {
    const size = Math.min(CHUNK, CASES - k * CHUNK);
    const workload = generateWorkload(SEED + k, POINTS_OF_SEED, size, { indexed: pass === "indexed" });
    const response = runOracle(oracleRequest(pass, POINTS_OF_SEED, workload));
    response.catch(() => {}); // awaited by the test; this only keeps an early failure from going unhandled
    entry = { workload, response };
    chunks.set(key, entry);
  }
  return entry;
}

// ---------------------------------------------------------------------------------------------------------------
// Shrinking a failing filter
// ---------------------------------------------------------------------------------------------------------------

const CLAUSES = ["must", "should", "must_not"] as const;

function asList(x: Json | undefined): Json[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

function isFilter(c: Json): boolean {
  return typeof c === "object" && c !== null && !Array.isArray(c) &&
    (Object.keys(c).length === 0 || ["must", "should", "must_not", "min_should"].some((k) => k in c));
}

/** Filters one step smaller than `f`: a clause or a condition dropped, a sub-filter hoisted or shrunk. */
function shrinks(f: Filter): Filter[] {
  const out: Filter[] = [];
  const clauses = Object.keys(f);
  if (clauses.length > 1) {
    for (const clause of clauses) {
      const rest = { ...f };
      delete rest[clause];
      out.push(rest);
    }
  }
  const lists: [string, Json[]][] = CLAUSES.filter((c) => f[c] !== undefined).map((c) => [c, asList(f[c])]);
  const minShould = f.min_should as { conditions: Json[]; min_count: number } | undefined;
  if (minShould !== undefined) lists.push(["min_should", minShould.conditions]);
  const rebuilt = (clause: string, list: Json[]): Filter =>
    clause === "min_should"
      ? { ...f, min_should: { conditions: list, min_count: minShould!.min_count } }
      : { ...f, [clause]: list };
  for (const [clause, list] of lists) {
    for (let i = 0; i < list.length; i++) {
      if (list.length > 1) out.push(rebuilt(clause, list.filter((_, j) => j !== i)));
      const c = list[i];
      if (typeof c !== "object" || c === null || Array.isArray(c)) continue;
      if (isFilter(c)) {
        out.push(c);
        for (const smaller of shrinks(c)) {
          out.push(rebuilt(clause, list.map((x, j) => (j === i ? smaller : x))));
        }
      } else if (c.nested !== undefined) {
        const nested = c.nested as { key: string; filter: Filter };
        for (const smaller of shrinks(nested.filter)) {
          out.push(
            rebuilt(clause, list.map((x, j) => (j === i ? { nested: { ...nested, filter: smaller } } : x))),
          );
        }
      }
    }
  }
  if (minShould !== undefined && minShould.min_count > 1) {
    out.push({ ...f, min_should: { ...minShould, min_count: minShould.min_count - 1 } });
  }
  return out;
}

type Kind = "count" | "scroll" | "facet";
type AnyCase = CountCase | ScrollCase | FacetCase;

interface Mismatch {
  pass: Pass;
  chunk: number;
  index: number;
  kind: Kind;
  request: AnyCase;
  ours: unknown;
  theirs: unknown;
  diff: string;
}

function runOurs(shard: FilterShard, kind: Kind, request: AnyCase): unknown {
  if (kind === "count") return ourCount(shard, request as CountCase);
  if (kind === "scroll") return ourScroll(shard, request as ScrollCase);
  return ourFacet(shard, request as FacetCase);
}

function compare(kind: Kind, request: AnyCase, ours: unknown, theirs: unknown): string | null {
  if (kind === "count") return compareCount(ours as CountResult, theirs as CountResult);
  if (kind === "scroll") {
    return compareScroll(request as ScrollCase, ours as ScrollResult, theirs as ScrollResult);
  }
  return compareFacet(ours as FacetResult, theirs as FacetResult);
}

function batchOf(kind: Kind, requests: AnyCase[]): Partial<Workload> {
  if (kind === "count") return { counts: requests as CountCase[] };
  if (kind === "scroll") return { scrolls: requests as ScrollCase[] };
  return { facets: requests as FacetCase[] };
}

function answersOf(kind: Kind, response: OracleResponse): unknown[] {
  return kind === "count" ? response.counts : kind === "scroll" ? response.scrolls : response.facets;
}

interface Shrunk {
  filter: Filter;
  ours: unknown;
  theirs: unknown;
  diff: string;
  rounds: number;
}

/** Greedy shrinking: each round sends every one-step-smaller filter to the oracle and keeps a failing one. */
async function shrink(shard: FilterShard, m: Mismatch): Promise<Shrunk | null> {
  if (m.request.filter === undefined) return null;
  let filter: Filter = m.request.filter;
  let best: Shrunk | null = null;
  for (let round = 1; round <= SHRINK_ROUNDS; round++) {
    const candidates: AnyCase[] = shrinks(filter).map((f) => ({ ...m.request, filter: f }));
    if (candidates.length === 0) break;
    const response = await runOracle(oracleRequest(m.pass, POINTS_OF_SEED, batchOf(m.kind, candidates)));
    const answers = answersOf(m.kind, response);
    let smallest: Shrunk | null = null;
    for (let i = 0; i < candidates.length; i++) {
      const request = candidates[i];
      const ours = runOurs(shard, m.kind, request);
      const diff = compare(m.kind, request, ours, answers[i]);
      const size = show(request.filter).length;
      if (diff !== null && (smallest === null || size < show(smallest.filter).length)) {
        smallest = { filter: request.filter!, ours, theirs: answers[i], diff, rounds: round };
      }
    }
    if (smallest === null) break;
    best = smallest;
    filter = smallest.filter;
  }
  return best;
}

/** Ids matched by only one engine (a full scroll of each), with their payloads, for the report. */
async function onlyOne(shard: FilterShard, m: Mismatch, filter: Filter | undefined): Promise<string> {
  const request: ScrollCase = { limit: 100_000, with_payload: false };
  if (filter !== undefined) request.filter = filter;
  const theirs = (await runOracle(oracleRequest(m.pass, POINTS_OF_SEED, { scrolls: [request] }))).scrolls[0];
  const ours = ourScroll(shard, request);
  if (isError(theirs) || isError(ours) || "pages" in ours || "pages" in theirs) return "";
  const a = new Set(ours.ids.map(String));
  const b = new Set(theirs.ids.map(String));
  const payloads = new Map(POINTS_OF_SEED.map((p) => [String(p.id), p.payload]));
  const lines = [
    ...[...a].filter((id) => !b.has(id)).map((id) => `  only ours:   ${id} ${show(payloads.get(id))}`),
    ...[...b].filter((id) => !a.has(id)).map((id) => `  only Qdrant: ${id} ${show(payloads.get(id))}`),
  ];
  if (lines.length === 0) return "";
  return `points matched by one engine only (${lines.length}):\n${lines.slice(0, 6).join("\n")}\n`;
}

/** A result for the report: Qdrant's whole order_by ordering is cut to the part our page covers. */
function brief(request: AnyCase, result: unknown): string {
  const limit = ((request as ScrollCase).limit ?? 10) + 3;
  if ((request as ScrollCase).order_by === undefined || isError(result)) return show(result);
  const page = result as Page;
  if (page.ids.length <= limit) return show(result);
  const cut = { ...page, ids: page.ids.slice(0, limit), order_values: page.order_values?.slice(0, limit) };
  return `${show(cut)} (+${page.ids.length - limit} more)`;
}

async function report(shard: FilterShard, mismatches: Mismatch[], cases: number): Promise<string> {
  const tally = new Map<string, number>();
  for (const m of mismatches) {
    const what = m.kind === "scroll" && (m.request as ScrollCase).order_by !== undefined
      ? "scroll with order_by"
      : m.kind;
    tally.set(what, (tally.get(what) ?? 0) + 1);
  }
  const parts = [
    `${mismatches.length} of ${cases} cases differ from Qdrant Edge (${
      [...tally].map(([what, n]) => `${what}: ${n}`).join(", ")
    }; seed ${SEED}; reproduce with EDGE_FILTER_SEED=${SEED} EDGE_FILTER_CASES=${CASES}).`,
  ];
  for (const m of mismatches.slice(0, REPORTED)) {
    const shrunk = await shrink(shard, m);
    const filter = shrunk?.filter ?? m.request.filter;
    parts.push(
      `\n--- ${m.pass} pass, chunk ${m.chunk} (workload seed ${
        SEED + m.chunk
      }), case ${m.index}: ${m.kind}\n` +
        `request: ${show(m.request)}\nours:    ${show(m.ours)}\nQdrant:  ${brief(m.request, m.theirs)}\n` +
        `diff:    ${m.diff}\n` +
        (shrunk === null ? "" : `shrunk filter (${shrunk.rounds} rounds): ${show(shrunk.filter)}\n` +
          `  ours:   ${show(shrunk.ours)}\n  Qdrant: ${
            brief(m.request, shrunk.theirs)
          }\n  diff:   ${shrunk.diff}\n`) +
        (m.kind === "facet" ? "" : await onlyOne(shard, m, filter)),
    );
  }
  const rest = mismatches.slice(REPORTED, REPORTED + 20);
  if (rest.length > 0) {
    parts.push(
      `\nalso: ${rest.map((m) => `${m.pass}/${m.chunk}#${m.index} ${m.kind}: ${m.diff}`).join("\n      ")}`,
    );
  }
  return parts.join("\n").slice(0, 60_000);
}

// ---------------------------------------------------------------------------------------------------------------

async function openShard(path: string, pass: Pass): Promise<FilterShard> {
  const shard = (await EdgeShard.create(path, CONFIG)) as unknown as FilterShard;
  for (let at = 0; at < POINTS_OF_SEED.length; at += BATCH) {
    shard.update({ upsert_points: POINTS_OF_SEED.slice(at, at + BATCH) });
  }
  if (pass === "indexed") { for (const index of FIELD_INDEXES) shard.update({ create_field_index: index }); }
  return shard;
}

async function runPass(pass: Pass): Promise<void> {
  const dir = tempDir("edge-filter-");
  const shard = await openShard(dir.path, pass);
  try {
    const mismatches: Mismatch[] = [];
    const chunkCount = Math.ceil(CASES / CHUNK);
    for (let k = 0; k < chunkCount; k++) {
      const { workload, response } = chunk(pass, k);
      if (k + 1 < chunkCount) chunk(pass, k + 1); // the oracle works on the next chunk while we compare
      const theirs = await response;
      const check = (kind: Kind, requests: AnyCase[], answers: unknown[]): void => {
        assert.equal(answers.length, requests.length, `oracle answers for ${kind}`);
        requests.forEach((request, index) => {
          const ours = runOurs(shard, kind, request);
          const diff = compare(kind, request, ours, answers[index]);
          if (diff !== null) {
            mismatches.push({ pass, chunk: k, index, kind, request, ours, theirs: answers[index], diff });
          }
        });
      };
      check("count", workload.counts, theirs.counts);
      check("scroll", workload.scrolls, theirs.scrolls);
      check("facet", workload.facets, theirs.facets);
      chunks.delete(`${pass}/${k}`);
    }
    if (mismatches.length > 0) assert.fail(await report(shard, mismatches, CASES));
  } finally {
    shard.close();
    dir.cleanup();
  }
}

const TIMEOUT_MS = Math.max(300_000, CASES * 30);

describe("filter differential: @x/edge against real Qdrant Edge", () => {
  before(() => {
    // Both passes' first chunks start now, in parallel; each test awaits its own.
    if (READY) { for (const pass of ["plain", "indexed"] as const) chunk(pass, 0); }
  });

  it(
    `agrees on count, scroll and facet for ${CASES} random filters without payload indexes`,
    { timeout: TIMEOUT_MS, skip: SKIP },
    () => runPass("plain"),
  );

  it(
    `agrees on count, scroll and facet for ${CASES} random filters with an index of every schema type`,
    { timeout: TIMEOUT_MS, skip: SKIP },
    () => runPass("indexed"),
  );

  it(
    "reproduces Qdrant's error messages for order_by and facet without a suitable index",
    { timeout: 60_000, skip: SKIP },
    async () => {
      const scrolls: ScrollCase[] = [
        { order_by: { key: "count" } }, // no index at all
        { order_by: { key: "color" } }, // a keyword index cannot order
        { order_by: { key: "price" }, offset: POINTS_OF_SEED[0].id }, // offset is checked before the index
        { order_by: { key: "nothing_here" } },
      ];
      const facets: FacetCase[] = [{ key: "count" }, { key: "price" }, { key: "title" }, {
        key: "nothing_here",
      }];
      const ops = [{ create_field_index: { field_name: "color", field_schema: "keyword" } }, {
        create_field_index: { field_name: "price", field_schema: "float" },
      }, { create_field_index: { field_name: "title", field_schema: "text" } }];
      const theirs = await runOracle({
        config: CONFIG,
        points: POINTS_OF_SEED.slice(0, 20),
        ops,
        scrolls,
        facets,
      });
      const dir = tempDir("edge-filter-");
      const shard = (await EdgeShard.create(dir.path, CONFIG)) as unknown as FilterShard;
      try {
        shard.update({ upsert_points: POINTS_OF_SEED.slice(0, 20) });
        for (const op of ops) shard.update(op);
        scrolls.forEach((request, i) => {
          assert.ok(isError(theirs.scrolls[i]), `Qdrant refuses scroll ${show(request)}`);
          assert.equal(
            compareScroll(request, ourScroll(shard, request), theirs.scrolls[i]),
            null,
            show(request),
          );
        });
        facets.forEach((request, i) => {
          assert.ok(isError(theirs.facets[i]), `Qdrant refuses facet ${show(request)}`);
          assert.equal(compareFacet(ourFacet(shard, request), theirs.facets[i]), null, show(request));
        });
      } finally {
        shard.close();
        dir.cleanup();
      }
    },
  );
});
