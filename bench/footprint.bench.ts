/**
 * Footprint: bytes on disk of an empty shard and of a shard of N points (384-d f32 Cosine, small payloads;
 * built in batches of 1,000 and closed), and resident memory after opening it, next to Qdrant Edge
 * (`qdrant-edge-py`) on the same data.
 *
 * - Disk: every file under the shard's directory, as file sizes (`bytes`) and as disk blocks held
 *   (`allocated`; they differ for sparse, preallocated files).
 * - Memory: RSS of a fresh child process right after `EdgeShard.load` + the first query, minus the RSS of a
 *   baseline child that only imported the module (`mod.ts` here, `qdrant_edge` in Python); median of 3.
 *   The split between anonymous memory and file pages (the mmap'd vectors a scan touched, shared with the
 *   page cache) comes from `/proc/self/status`.
 * Target: an empty shard ≤ 100 KB on disk.
 *
 * Small size (CI): N = 50,000. Full size (`--full`): N = 100,000 and 1,000,000.
 * Run: `deno run -A bench/footprint.bench.ts [--full]` or `bun bench/footprint.bench.ts [--full]`.
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EdgeShard } from "../mod.ts";
import { nativeLibrary } from "../lib/ffi/loader.ts";
import { fullSize, machine, runtime, saveResult } from "./_report.ts";
import {
  checkedShards,
  DATA_DIR,
  dataset,
  DIM,
  directoryBytes,
  DISTANCE,
  load,
  median,
  openEdge,
  openQdrant,
  qdrantPeerName,
  round,
  runEdgeChild,
  runPeer,
} from "./_datasets.ts";

const SIZES = fullSize() ? [100_000, 1_000_000] : [50_000];
const REPS = 3;
const TARGET_EMPTY_BYTES = 100 * 1024;
const MB = 1024 * 1024;

const native = await nativeLibrary();
const loadBefore = load();
mkdirSync(DATA_DIR, { recursive: true });
const workdir = mkdtempSync(join(DATA_DIR, "footprint-"));

const disk: Record<string, unknown>[] = [];
const memory: Record<string, unknown>[] = [];
const diskRow = (
  state: string,
  edge: ReturnType<typeof directoryBytes>,
  qdrant: ReturnType<typeof directoryBytes>,
  n: number,
) => ({
  state,
  edge_bytes: edge.apparent,
  edge_allocated: edge.allocated,
  qdrant_bytes: qdrant.apparent,
  qdrant_allocated: qdrant.allocated,
  qdrant_vs_edge_allocated: round(qdrant.allocated / edge.allocated, 2),
  edge_files: edge.files,
  qdrant_files: qdrant.files,
  edge_allocated_per_point: n === 0 ? null : round(edge.allocated / n, 1),
  qdrant_allocated_per_point: n === 0 ? null : round(qdrant.allocated / n, 1),
});

let emptyEdge: ReturnType<typeof directoryBytes>;
try {
  const edgePath = join(workdir, "edge-empty");
  (await EdgeShard.create(edgePath, { vectors: { size: DIM, distance: DISTANCE } })).close();
  emptyEdge = directoryBytes(edgePath);
  const qdrantPath = join(workdir, "qdrant-empty");
  runPeer("empty", { path: qdrantPath, dim: DIM, distance: DISTANCE });
  disk.push(diskRow("empty", emptyEdge, directoryBytes(qdrantPath), 0));
} finally {
  rmSync(workdir, { recursive: true, force: true });
}

// Baselines: a fresh process that only imported the module.
const edgeBaselines = Array.from({ length: REPS }, () => runEdgeChild("baseline", {}));
const qdrantBaselines = Array.from({ length: REPS }, () => runPeer("baseline", {}));
const mem = (run: Record<string, unknown>, key: string) => (run.memory as Record<string, number>)[key] ?? NaN;
const edgeBaseRss = median(edgeBaselines.map((r) => r.rss as number));
const qdrantBaseRss = median(qdrantBaselines.map((r) => mem(r, "VmRSS")));
const baseline = (runs: Record<string, unknown>[], key: string) => median(runs.map((r) => mem(r, key)));

for (const n of SIZES) {
  const { edge, qdrant } = await checkedShards(n);
  const rawVectors = n * DIM * 4;
  disk.push({
    ...diskRow(`${n} points`, directoryBytes(edge.path), directoryBytes(qdrant.path), n),
    raw_vector_bytes: rawVectors,
  });
  const edgeRuns = Array.from({ length: REPS }, () => openEdge(edge.path, n));
  const qdrantRuns = Array.from({ length: REPS }, () => openQdrant(qdrant.path, n));
  const delta = (runs: typeof edgeRuns, base: Record<string, unknown>[], key: string) =>
    (median(runs.map((r) => mem(r, key))) - baseline(base, key)) / MB;
  memory.push({
    points: n,
    edge_rss_delta_mb: round(median(edgeRuns.map((r) => r.rss as number)) / MB - edgeBaseRss / MB, 1),
    qdrant_rss_delta_mb: round(median(qdrantRuns.map((r) => mem(r, "VmRSS"))) / MB - qdrantBaseRss / MB, 1),
    edge_anon_delta_mb: round(delta(edgeRuns, edgeBaselines, "RssAnon"), 1),
    qdrant_anon_delta_mb: round(delta(qdrantRuns, qdrantBaselines, "RssAnon"), 1),
    edge_file_delta_mb: round(delta(edgeRuns, edgeBaselines, "RssFile"), 1),
    qdrant_file_delta_mb: round(delta(qdrantRuns, qdrantBaselines, "RssFile"), 1),
    raw_vectors_mb: round(rawVectors / MB, 1),
    edge_baseline_rss_mb: round(edgeBaseRss / MB, 1),
    qdrant_baseline_rss_mb: round(qdrantBaseRss / MB, 1),
  });
}

const targets = {
  [`empty shard ≤ ${TARGET_EMPTY_BYTES / 1024} KB on disk`]:
    Math.max(emptyEdge.apparent, emptyEdge.allocated) <= TARGET_EMPTY_BYTES,
};
const loadAfter = load();
console.log(
  `Footprint, 384-d f32 ${DISTANCE} + small payloads — ${runtime()}, ${machine()}, native ${native.variant}; ` +
    `peer ${qdrantPeerName()}; load average ${loadBefore} → ${loadAfter}`,
);
console.log("Disk (bytes: file sizes; allocated: disk blocks held), after close:");
console.table(disk.map(({ edge_files: _a, qdrant_files: _b, ...row }) => row));
console.log(
  `Memory (MB): RSS after load + first query minus a baseline process that only imported the module, median of ${REPS}:`,
);
console.table(memory);
for (const [target, met] of Object.entries(targets)) console.log(`${met ? "met    " : "NOT met"}  ${target}`);
const file = saveResult("footprint", native, {
  datasets: SIZES.map(dataset),
  repetitions: REPS,
  peer: qdrantPeerName(),
  rss:
    "process.memoryUsage().rss here; VmRSS from /proc/self/status in Python; anon/file split from /proc/self/status",
  load_average: { before: loadBefore, after: loadAfter },
  disk,
  memory,
  baselines: { edge: edgeBaselines, qdrant: qdrantBaselines },
  targets,
});
console.log(`saved ${file}`);
