/**
 * Open time and first query: `EdgeShard.load` of an existing 384-d f32 shard (Cosine, small payloads) and its
 * first top-10 query, each timed in a FRESH child process (page cache warm, no process state reused: no
 * loaded module, native library, JIT or heap), next to Qdrant Edge (`qdrant-edge-py`: `EdgeShard.load` +
 * first query, in a fresh Python process) on the same data. Each shard is built once (batches of 1,000,
 * then closed) and cached under `.cache/bench-data/`, keyed by engine and size. Module import is timed
 * apart and not counted in the open. A rough profile of the phases of @x/edge's open is run once.
 * @x/edge is also opened after `optimize()` (HNSW, m 16, ef_construct 100; a copy of the shard, optimized
 * once and cached): without an index a first query must read every vector, so the first-query target is
 * judged on the indexed shard. (Qdrant Edge is measured without an index: optimizing its 1M shard would
 * take over half an hour.) Targets: ≤ 100 ms open and ≤ 5 ms first query (no rebuild on open).
 *
 * Small size (CI): 50,000 points, median of 3. Full size (`--full`): 1,000,000 points, median of 7.
 * Run: `deno run -A bench/open.bench.ts [--full]` or `bun bench/open.bench.ts [--full]`.
 *
 * @module
 */
import { nativeLibrary } from "../lib/ffi/loader.ts";
import { fullSize, machine, runtime, saveResult } from "./_report.ts";
import {
  cachedIndexedEdgeShard,
  checkedShards,
  dataset,
  load,
  median,
  openEdge,
  openQdrant,
  type OpenRun,
  qdrantPeerName,
  queryIndex,
  round,
  runEdgeChild,
} from "./_datasets.ts";

const N = fullSize() ? 1_000_000 : 50_000;
const REPS = fullSize() ? 7 : 3;
const TARGET_OPEN_MS = 100;
const TARGET_FIRST_QUERY_MS = 5;

const native = await nativeLibrary();
const loadBefore = load();
const { edge, qdrant } = await checkedShards(N);
const indexed = await cachedIndexedEdgeShard(N);
const built = {
  edge_s: edge.buildSeconds ?? null,
  edge_optimize_s: indexed.buildSeconds ?? null,
  qdrant_s: qdrant.buildSeconds ?? null,
};
// One untimed open warms the page cache with the indexed shard's files and checks its answer.
const warmup = openEdge(indexed.path, N);
if (warmup.count !== N || warmup.top_id !== queryIndex(N)) {
  throw new Error(`the indexed shard has ${warmup.count} points and answers ${warmup.top_id} first`);
}

// Alternate the engines, so that other work on the machine spreads over all of them.
const edgeRuns: OpenRun[] = [];
const indexedRuns: OpenRun[] = [];
const qdrantRuns: OpenRun[] = [];
for (let rep = 0; rep < REPS; rep++) {
  edgeRuns.push(openEdge(edge.path, N));
  indexedRuns.push(openEdge(indexed.path, N));
  qdrantRuns.push(openQdrant(qdrant.path, N));
}
const profile = runEdgeChild("profile", { path: edge.path });

const summary = (runs: OpenRun[]) => ({
  load_ms: round(median(runs.map((r) => r.load_ms)), 2),
  first_query_ms: round(median(runs.map((r) => r.first_query_ms)), 2),
  open_plus_first_query_ms: round(median(runs.map((r) => r.load_ms + r.first_query_ms)), 2),
  warm_query_ms: round(median(runs.map((r) => r.warm_query_ms)), 2),
  import_ms: round(median(runs.map((r) => r.import_ms)), 2),
  load_ms_min: round(Math.min(...runs.map((r) => r.load_ms)), 2),
  load_ms_max: round(Math.max(...runs.map((r) => r.load_ms)), 2),
});
const edgeSummary = summary(edgeRuns);
const indexedSummary = summary(indexedRuns);
const qdrantSummary = summary(qdrantRuns);
const rows = [
  { engine: "@x/edge", ...edgeSummary },
  { engine: "@x/edge, HNSW", ...indexedSummary },
  { engine: "qdrant-edge-py", ...qdrantSummary },
  {
    engine: "qdrant / edge",
    ...Object.fromEntries(
      Object.keys(edgeSummary).map((key) => {
        const k = key as keyof typeof edgeSummary;
        return [key, round(qdrantSummary[k] / edgeSummary[k], 2)];
      }),
    ),
  },
];
const targets = {
  [`open ≤ ${TARGET_OPEN_MS} ms`]: edgeSummary.load_ms <= TARGET_OPEN_MS,
  [`open with HNSW ≤ ${TARGET_OPEN_MS} ms`]: indexedSummary.load_ms <= TARGET_OPEN_MS,
  [`first query with HNSW ≤ ${TARGET_FIRST_QUERY_MS} ms`]: indexedSummary.first_query_ms <=
    TARGET_FIRST_QUERY_MS,
};
const loadAfter = load();
console.log(
  `Open + first query, ${N} points × 384-d f32 Cosine, fresh process per open, median of ${REPS} — ${runtime()}, ` +
    `${machine()}, native ${native.variant}; peer ${qdrantPeerName()}; load average ${loadBefore} → ${loadAfter}`,
);
console.table(rows);
console.log(
  `@x/edge open phases (ms, one fresh process; see bench/peers/edge_child.ts); id_tracker.log ` +
    `${profile.id_tracker_log_bytes} bytes, payload.log ${profile.payload_log_bytes} bytes:`,
);
console.table((profile as { ms: Record<string, number> }).ms);
for (const [target, met] of Object.entries(targets)) console.log(`${met ? "met    " : "NOT met"}  ${target}`);
const file = saveResult("open", native, {
  dataset: dataset(N),
  repetitions: REPS,
  query: `the vector of point ${queryIndex(N)}, top 10`,
  timed: "in a fresh child process: EdgeShard.load, then the first query; module import apart",
  peer: qdrantPeerName(),
  shards: { edge: edge.path, edge_hnsw: indexed.path, qdrant: qdrant.path, built_this_run: built },
  load_average: { before: loadBefore, after: loadAfter },
  rows,
  runs: { edge: edgeRuns, edge_hnsw: indexedRuns, qdrant: qdrantRuns },
  edge_open_profile: profile,
  targets,
});
console.log(`saved ${file}`);
