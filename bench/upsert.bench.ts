/**
 * Upsert throughput: 384-d f32 vectors (Cosine) with small payloads, in batches of 1, 100 and 1,000 points,
 * default durability (no fsync per update on either side), into a fresh shard, against Qdrant Edge
 * (`qdrant-edge-py`, run by `bench/peers/qdrant_edge_peer.py` as a child process) on the same data in the
 * same run. Only the update calls are timed on both sides: the point objects are built before (the JS
 * objects here, the `Point` objects there), and the final close (which flushes) is timed apart.
 * Targets: ≥ 100k points/s at batch 1,000; ≥ 2× qdrant-edge-py.
 *
 * Small size (CI): 5,000 points, one repetition. Full size (`--full`): 100,000 points, median of 3.
 * Run: `deno run -A bench/upsert.bench.ts [--full]` or `bun bench/upsert.bench.ts [--full]`.
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EdgeShard } from "../mod.ts";
import { nativeLibrary } from "../lib/ffi/loader.ts";
import { fullSize, machine, runtime, saveResult } from "./_report.ts";
import {
  DATA_DIR,
  dataset,
  DIM,
  DISTANCE,
  load,
  median,
  payloadOf,
  qdrantPeerName,
  readVectors,
  round,
  runPeer,
  vectorFile,
} from "./_datasets.ts";

const N = fullSize() ? 100_000 : 5_000;
const BATCHES = [1, 100, 1_000];
const REPS = fullSize() ? 3 : 1;
const TARGET_POINTS_S = 100_000;
const TARGET_RATIO = 2;

const native = await nativeLibrary();
const loadBefore = load();
const vectors = vectorFile(N);
const data = readVectors(vectors, 0, N);
mkdirSync(DATA_DIR, { recursive: true });
const workdir = mkdtempSync(join(DATA_DIR, "upsert-"));

/** One timed pass: every point into a fresh shard in batches of `batch`. */
async function edgeRun(count: number, batch: number, name: string) {
  const path = join(workdir, name);
  const shard = await EdgeShard.create(path, { vectors: { size: DIM, distance: DISTANCE } });
  const points = Array.from({ length: count }, (_, i) => ({
    id: i,
    vector: data.subarray(i * DIM, (i + 1) * DIM),
    payload: payloadOf(i),
  }));
  let ms = 0;
  for (let at = 0; at < count; at += batch) {
    const chunk = points.slice(at, at + batch);
    const t = performance.now();
    shard.update({ upsert_points: chunk });
    ms += performance.now() - t;
  }
  if (shard.count() !== count) {
    throw new Error(`expected ${count} points after the upserts, the shard counts ${shard.count()}`);
  }
  const t = performance.now();
  shard.close();
  const closeMs = performance.now() - t;
  rmSync(path, { recursive: true, force: true });
  return { upsert_s: ms / 1000, close_s: closeMs / 1000 };
}

const rows: Record<string, unknown>[] = [];
try {
  // JIT warm-up on a throwaway shard, so the first measured batch size does not pay for compilation.
  for (const batch of BATCHES) await edgeRun(Math.min(N, 2_000), batch, `warmup-${batch}`);
  for (const batch of BATCHES) {
    const edge = [];
    for (let rep = 0; rep < REPS; rep++) edge.push(await edgeRun(N, batch, `edge-b${batch}-r${rep}`));
    const peer = runPeer("upsert", {
      vectors,
      n: N,
      dim: DIM,
      distance: DISTANCE,
      batch,
      reps: REPS,
      workdir,
    });
    const qdrant = peer.reps as { upsert_s: number; point_construct_s: number; close_s: number }[];
    const edgeS = median(edge.map((r) => r.upsert_s));
    const qdrantS = median(qdrant.map((r) => r.upsert_s));
    const qdrantWithPoints = median(qdrant.map((r) => r.upsert_s + r.point_construct_s));
    rows.push({
      batch,
      edge_points_s: Math.round(N / edgeS),
      qdrant_points_s: Math.round(N / qdrantS),
      edge_vs_qdrant: round(qdrantS / edgeS, 2),
      qdrant_points_s_incl_Point: Math.round(N / qdrantWithPoints),
      edge_us_per_call: round((edgeS * 1e6 * batch) / N, 1),
      qdrant_us_per_call: round((qdrantS * 1e6 * batch) / N, 1),
      edge_close_ms: round(median(edge.map((r) => r.close_s)) * 1000, 1),
      qdrant_close_ms: round(median(qdrant.map((r) => r.close_s)) * 1000, 1),
      edge_upsert_s_reps: edge.map((r) => round(r.upsert_s, 4)),
      qdrant_upsert_s_reps: qdrant.map((r) => round(r.upsert_s, 4)),
    });
  }
} finally {
  rmSync(workdir, { recursive: true, force: true });
}

const at1000 = rows.find((r) => r.batch === 1_000)!;
const targets = {
  [`≥ ${TARGET_POINTS_S} points/s at batch 1,000`]: (at1000.edge_points_s as number) >= TARGET_POINTS_S,
  [`≥ ${TARGET_RATIO}× qdrant-edge-py at batch 1,000`]: (at1000.edge_vs_qdrant as number) >= TARGET_RATIO,
};
const loadAfter = load();
console.log(
  `Upsert throughput, ${N} points × ${DIM}-d f32 ${DISTANCE} + small payload, default durability — ${runtime()}, ` +
    `${machine()}, native ${native.variant}; peer ${qdrantPeerName()}; load average ${loadBefore} → ${loadAfter}`,
);
console.table(rows.map(({ edge_upsert_s_reps: _a, qdrant_upsert_s_reps: _b, ...row }) => row));
for (const [target, met] of Object.entries(targets)) console.log(`${met ? "met    " : "NOT met"}  ${target}`);
const file = saveResult("upsert", native, {
  dataset: dataset(N),
  batches: BATCHES,
  repetitions: REPS,
  timed: "update calls only (points built before); close (flush) timed apart",
  peer: qdrantPeerName(),
  load_average: { before: loadBefore, after: loadAfter },
  rows,
  targets,
});
console.log(`saved ${file}`);
