/**
 * The in-process peers of the approximate-nearest-neighbour benchmark, two HNSW libraries from npm run on the
 * dataset of `./_dataset.ts`:
 *
 * - `usearch` (its JS binding): inner product on the unit-length vectors (the Cosine order), f32, graph
 *   built by `Index.add` with `buildThreads` threads (the binding's own parallel insert). The binding fixes
 *   `expansion_search` when an index is constructed and has no setter, so the built index is saved once and
 *   loaded into a fresh `Index` per ef of the sweep (loading keeps the constructor's `expansion_search`).
 *   Its `search` takes no filter or predicate: filtered search is reported as unsupported.
 * - `hnswlib-node`: the `ip` space, single-threaded `addPoint` (the binding has no parallel insert),
 *   `setEf` per ef, filtered search through `searchKnn`'s label callback (`bucket < s`). Its binding takes
 *   plain JS arrays of numbers, not typed arrays: query arrays are converted before the clock starts, base
 *   rows inside the build (about 1 µs per row, against ~1 ms for the insert).
 *
 * Every query is one vector, top-`k`, on one thread: one untimed pass over up to 20 queries, then every
 * query once, each timed with `performance.now()`. Recall@k is against the exact ground truth. Results are
 * plain JSON-able objects; RSS is `process.memoryUsage().rss` before and after the build and after the
 * queries (the dataset is already loaded before the first; see `rss` below).
 *
 * Standalone: `bun bench/ann/_peers_js.ts [--n 10000] [--q 100] [--m 16] [--ef-construction 100]
 * [--efs 16,32,64,128,256] [--threads 2] [--only usearch|hnswlib]` (or
 * `deno run -A bench/ann/_peers_js.ts ...`) prints a JSON summary.
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Index, MetricKind, ScalarKind } from "usearch";
import hnswlib from "hnswlib-node";
import {
  type AnnDataset,
  annDataset,
  bucketOf,
  GT_K,
  recallAt,
  SELECTIVITIES,
  type Selectivity,
} from "./_dataset.ts";

/** Build and search parameters shared by the peers; every field has a default. */
export interface AnnPeerOptions {
  /** Graph connectivity: usearch `connectivity`, hnswlib `M` (default 16). */
  m?: number;
  /** Candidates while building: usearch `expansion_add`, hnswlib `efConstruction` (default 100). */
  efConstruction?: number;
  /** Candidates while searching, one run each: usearch `expansion_search`, hnswlib `ef`. */
  efs?: number[];
  /** The ef values of the filtered runs (default `efs`). */
  filteredEfs?: number[];
  /** Neighbours per query (default 10). */
  k?: number;
  /** Filter selectivities in percent (default 1, 10 and 50). */
  selectivities?: Selectivity[];
  /** Threads of usearch's `add` (default 2); hnswlib-node always builds on one thread. */
  buildThreads?: number;
}

/** One configuration's queries: throughput, recall@k and per-query latency. */
export interface SweepRow {
  /** The ef of the run. */
  ef: number;
  /** Queries per second over the timed pass (one thread, one query per call). */
  qps: number;
  /** Mean recall@k against the exact ground truth. */
  recall: number;
  /** Mean, median and 99th-percentile milliseconds per query. */
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
}

/** A filtered run: `bucket < selectivity`. */
export interface FilteredRow extends SweepRow {
  /** Percent of the base points the filter keeps. */
  selectivity: number;
}

/** What one peer measured. */
export interface PeerRun {
  /** Library, version and binding, e.g. `usearch 2.26.2 (npm)`. */
  engine: string;
  /** The parameters used, including threads and metric. */
  config: Record<string, unknown>;
  /** Milliseconds to build the index over the base vectors. */
  build_ms: number;
  build_points_per_s: number;
  /** CPU milliseconds of the process over the build: over `build_ms`, the threads the build kept busy. */
  build_cpu_ms: number;
  /**
   * Resident memory in bytes, and its growth over the build. usearch's `after_queries` also holds the
   * indexes loaded for the sweep whose finalizers have not run yet.
   */
  rss: { before_build: number; after_build: number; after_queries: number; build_delta: number };
  unfiltered: SweepRow[];
  /** The filtered runs, or why there are none. */
  filtered: FilteredRow[] | { unsupported: string };
}

const WARMUP = 20;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function resolved(options: AnnPeerOptions): Required<AnnPeerOptions> {
  const efs = options.efs ?? [16, 32, 64, 128, 256];
  return {
    m: options.m ?? 16,
    efConstruction: options.efConstruction ?? 100,
    efs,
    filteredEfs: options.filteredEfs ?? efs,
    k: options.k ?? 10,
    selectivities: options.selectivities ?? [...SELECTIVITIES],
    buildThreads: options.buildThreads ?? 2,
  };
}

/**
 * Resident memory in bytes after a full garbage collection where the runtime offers one (always in Bun; in
 * Deno with `--v8-flags=--expose-gc`), so that garbage does not count. The C++ heap reuses memory it freed
 * earlier (the dataset's file buffers), so a growth can read lower than what an index holds.
 */
function rss(): number {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (g.Bun !== undefined) g.Bun.gc(true);
  else g.gc?.();
  return process.memoryUsage().rss;
}

/** The build fields of a {@linkcode PeerRun}; the RSS after the queries is read when it is called. */
function buildReport(
  n: number,
  buildMs: number,
  buildCpu: { user: number; system: number },
  before: number,
  afterBuild: number,
): Pick<PeerRun, "build_ms" | "build_points_per_s" | "build_cpu_ms" | "rss"> {
  return {
    build_ms: round(buildMs, 1),
    build_points_per_s: round((n * 1000) / buildMs, 1),
    build_cpu_ms: round((buildCpu.user + buildCpu.system) / 1000, 1),
    rss: {
      before_build: before,
      after_build: afterBuild,
      after_queries: rss(),
      build_delta: afterBuild - before,
    },
  };
}

function packageVersion(name: string): string {
  return JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
}

function round(x: number, digits = 4): number {
  return Number(x.toFixed(digits));
}

/**
 * Times `search` over every query (after an untimed warm-up) and scores its results; `ids` turns a raw
 * result into base ids outside the timed region. `bench/ann.bench.ts` times @x/edge with it too.
 *
 * @example
 * ```ts
 * const ds = annDataset(10_000, 100);
 * const queries = Array.from({ length: ds.q }, (_, i) => ds.queries.subarray(i * ds.dim, (i + 1) * ds.dim));
 * const row = sweep(ds, ds.gt, 10, queries, (q) => shard.query({ query: q as Float32Array }), (hits) =>
 *   hits.map((hit) => hit.id as number));
 * ```
 */
export function sweep<R>(
  ds: AnnDataset,
  gt: Int32Array,
  k: number,
  queries: readonly unknown[],
  search: (query: unknown) => R,
  ids: (result: R) => ArrayLike<number>,
): Omit<SweepRow, "ef"> {
  for (let i = 0; i < Math.min(WARMUP, ds.q); i++) search(queries[i]);
  const found: ArrayLike<number>[] = [];
  const ms: number[] = [];
  for (let i = 0; i < ds.q; i++) {
    const t = performance.now();
    const result = search(queries[i]);
    ms.push(performance.now() - t);
    found.push(ids(result));
  }
  const total = ms.reduce((a, b) => a + b, 0);
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    qps: round((ds.q * 1000) / total, 1),
    recall: round(recallAt(k, found, gt)),
    mean_ms: round(total / ds.q),
    p50_ms: round(sorted[sorted.length >> 1]),
    p99_ms: round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]),
  };
}

/**
 * Builds a usearch HNSW index over `ds.base` and measures the ef sweep, unfiltered only.
 *
 * @example
 * ```ts
 * const run = runUsearch(annDataset(10_000, 100), { efs: [32, 64] });
 * console.log(run.build_ms, run.unfiltered[1].recall);
 * ```
 */
export function runUsearch(ds: AnnDataset, options: AnnPeerOptions = {}): PeerRun {
  const o = resolved(options);
  const make = (ef: number) =>
    new Index({
      dimensions: ds.dim,
      metric: MetricKind.IP,
      quantization: ScalarKind.F32,
      connectivity: o.m,
      expansion_add: o.efConstruction,
      expansion_search: ef,
      multi: false,
    });
  const keys = BigUint64Array.from({ length: ds.n }, (_, i) => BigInt(i));
  const before = rss();
  const cpu = process.cpuUsage();
  const t = performance.now();
  const index = make(o.efs[0]);
  index.add(keys, ds.base, o.buildThreads);
  const buildMs = performance.now() - t;
  const buildCpu = process.cpuUsage(cpu);
  const afterBuild = rss();
  if (index.size() !== ds.n) throw new Error(`usearch: ${index.size()} vectors indexed, expected ${ds.n}`);

  const queries = Array.from({ length: ds.q }, (_, i) => ds.queries.subarray(i * ds.dim, (i + 1) * ds.dim));
  const dir = mkdtempSync(join(tmpdir(), "usearch-ann-"));
  const unfiltered: SweepRow[] = [];
  try {
    const file = join(dir, "index.usearch");
    index.save(file);
    for (const ef of o.efs) {
      const searcher = make(ef);
      searcher.load(file);
      const row = sweep(
        ds,
        ds.gt,
        o.k,
        queries,
        (query) => searcher.search(query as Float32Array, o.k, 1),
        (matches) => Array.from(matches.keys, Number),
      );
      unfiltered.push({ ef, ...row });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    engine: `usearch ${packageVersion("usearch")} (npm)`,
    config: {
      metric: "ip (unit-length vectors: the Cosine order)",
      quantization: "f32",
      connectivity: o.m,
      expansion_add: o.efConstruction,
      k: o.k,
      build_threads: o.buildThreads,
      search_threads: 1,
      ef_sweep: "expansion_search is fixed per Index: the saved index is loaded into a fresh Index per ef",
    },
    ...buildReport(ds.n, buildMs, buildCpu, before, afterBuild),
    unfiltered,
    filtered: { unsupported: "usearch's JS binding has no filter or predicate in search()" },
  };
}

/**
 * Builds an hnswlib-node HNSW index over `ds.base` and measures the ef sweep, unfiltered and filtered.
 *
 * @example
 * ```ts
 * const run = runHnswlib(annDataset(10_000, 100), { efs: [32, 64], selectivities: [10] });
 * console.log(run.build_ms, run.filtered);
 * ```
 */
export function runHnswlib(ds: AnnDataset, options: AnnPeerOptions = {}): PeerRun {
  const o = resolved(options);
  const before = rss();
  const cpu = process.cpuUsage();
  const t = performance.now();
  const index = new hnswlib.HierarchicalNSW("ip", ds.dim);
  index.initIndex({ maxElements: ds.n, m: o.m, efConstruction: o.efConstruction, randomSeed: 100 });
  for (let i = 0; i < ds.n; i++) {
    index.addPoint(Array.from(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim)), i);
  }
  const buildMs = performance.now() - t;
  const buildCpu = process.cpuUsage(cpu);
  const afterBuild = rss();
  if (index.getCurrentCount() !== ds.n) {
    throw new Error(`hnswlib-node: ${index.getCurrentCount()} vectors indexed, expected ${ds.n}`);
  }

  const queries = Array.from(
    { length: ds.q },
    (_, i) => Array.from(ds.queries.subarray(i * ds.dim, (i + 1) * ds.dim)),
  );
  const neighbours = (result: { neighbors: number[] }) => result.neighbors;
  const unfiltered: SweepRow[] = [];
  for (const ef of o.efs) {
    index.setEf(ef);
    unfiltered.push({
      ef,
      ...sweep(ds, ds.gt, o.k, queries, (q) => index.searchKnn(q as number[], o.k), neighbours),
    });
  }
  const filtered: FilteredRow[] = [];
  for (const selectivity of o.selectivities) {
    const keep = (label: number) => bucketOf(label) < selectivity;
    for (const ef of o.filteredEfs) {
      index.setEf(ef);
      const row = sweep(
        ds,
        ds.gtFiltered[selectivity],
        o.k,
        queries,
        (q) => index.searchKnn(q as number[], o.k, keep),
        neighbours,
      );
      filtered.push({ selectivity, ef, ...row });
    }
  }
  return {
    engine: `hnswlib-node ${packageVersion("hnswlib-node")} (npm)`,
    config: {
      space: "ip (unit-length vectors: the Cosine order)",
      m: o.m,
      ef_construction: o.efConstruction,
      random_seed: 100,
      k: o.k,
      build_threads: 1,
      search_threads: 1,
      filter: "searchKnn's label callback, bucket(label) < selectivity",
    },
    ...buildReport(ds.n, buildMs, buildCpu, before, afterBuild),
    unfiltered,
    filtered,
  };
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function numberArgument(name: string): number | undefined {
  const value = argument(name);
  return value === undefined ? undefined : Number(value);
}

if (import.meta.main) {
  const n = numberArgument("--n") ?? 10_000;
  const q = numberArgument("--q") ?? 100;
  const only = argument("--only");
  const options: AnnPeerOptions = {
    m: numberArgument("--m"),
    efConstruction: numberArgument("--ef-construction"),
    efs: argument("--efs")?.split(",").map(Number),
    buildThreads: numberArgument("--threads"),
  };
  const ds = annDataset(n, q);
  const runs: PeerRun[] = [];
  if (only === undefined || only === "usearch") runs.push(runUsearch(ds, options));
  if (only === undefined || only === "hnswlib") runs.push(runHnswlib(ds, options));
  const summary = {
    dataset: { dir: ds.dir, n, q, dim: ds.dim, gt_k: GT_K, model: ds.meta.model },
    // Other work on the machine skews every timing: the 1-, 5- and 15-minute load averages at the end.
    load: loadavg().map((x) => round(x, 2)),
    runs,
  };
  console.log(JSON.stringify(summary, null, 2));
}
