/**
 * Approximate nearest-neighbour search on real sentence embeddings (all-MiniLM-L6-v2 over Debian package
 * synopses, 384-d Cosine; `bench/ann/make_dataset.py`), against Qdrant Edge (`qdrant-edge-py`, via
 * `bench/peers/ann_peer.py`), USearch and hnswlib-node (npm, in this process), in the same run:
 *
 * - recall@10 / QPS over an `hnsw_ef` sweep, one query per call on one thread (m 16, ef_construct 100 for
 *   every engine);
 * - build time (upsert + `optimize()` on 2 threads for @x/edge; the peers' own builds);
 * - filtered recall / QPS at 1, 10 and 50 % (`bucket < s`, with an integer payload index);
 * - int8 and binary quantization (with rescoring), and the resident memory of a fresh process that opens
 *   the shard and runs every query, for f32, int8 and binary.
 *
 * Targets (issue 6): at recall@10 ≥ 0.95, QPS ≥ 1.5× qdrant-edge-py, ≥ 1.0× usearch, ≥ 2× hnswlib-node;
 * build throughput ≥ usearch; RSS with int8 ≤ 0.35× f32.
 *
 * Small size (CI): 10,000 points, 100 queries. Full size (`--full`): 50,000 points, 1,000 queries.
 * Run: `deno run -A bench/ann.bench.ts [--full]` or `bun bench/ann.bench.ts [--full]`.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { EdgeShard, type QuantizationConfig, type SearchParams } from "../mod.ts";
import { nativeLibrary } from "../lib/ffi/loader.ts";
import { fullSize, machine, runtime, saveResult } from "./_report.ts";
import { DATA_DIR, load, round } from "./_datasets.ts";
import { annDataset, SELECTIVITIES, type Selectivity } from "./ann/_dataset.ts";
import {
  type FilteredRow,
  type PeerRun,
  runHnswlib,
  runUsearch,
  sweep,
  type SweepRow,
} from "./ann/_peers_js.ts";

const N = fullSize() ? 50_000 : 10_000;
const Q = fullSize() ? 1_000 : 100;
const EFS = [16, 32, 64, 128, 256];
const FILTERED_EFS = [16, 64];
const M = 16;
const EF_CONSTRUCT = 100;
const THREADS = 2;
const K = 10;
const RECALL_TARGET = 0.95;
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PYTHON = join(ROOT, ".venv", "bin", "python");

const native = await nativeLibrary();
const loadBefore = load();
const ds = annDataset(N, Q);
mkdirSync(DATA_DIR, { recursive: true });
const workdir = mkdtempSync(join(DATA_DIR, "ann-"));
const queries = Array.from({ length: Q }, (_, q) => ds.queries.subarray(q * ds.dim, (q + 1) * ds.dim));

interface EdgeRun {
  engine: string;
  config: Record<string, unknown>;
  build_ms: number;
  build_points_per_s: number;
  upsert_ms: number;
  optimize_ms: number;
  unfiltered: SweepRow[];
  filtered: FilteredRow[];
  rss?: { rss_before: number; rss_after: number; rss_delta: number };
}

/** One row of a sweep of @x/edge: every query once after a warm-up, timed one by one (`sweep`). */
function edgeSweep(
  shard: EdgeShard,
  ef: number,
  gt: Int32Array,
  extra: { filter?: unknown; quantization?: SearchParams["quantization"] } = {},
): SweepRow {
  const params = { hnsw_ef: ef, quantization: extra.quantization };
  const search = (query: unknown) =>
    shard.query({ query: query as Float32Array, limit: K, filter: extra.filter as never, params });
  return { ef, ...sweep(ds, gt, K, queries, search, (hits) => hits.map((hit) => hit.id as number)) };
}

async function edgeRun(name: string, quantization?: QuantizationConfig, oversampling = 1): Promise<EdgeRun> {
  const path = join(workdir, `edge-${name}`);
  const shard = await EdgeShard.create(path, {
    vectors: { size: ds.dim, distance: "Cosine" },
    hnsw_config: { m: M, ef_construct: EF_CONSTRUCT, max_indexing_threads: THREADS },
    optimizers: { indexing_threshold: 1 },
    quantization_config: quantization,
  });
  shard.update({ create_field_index: { field_name: "bucket", field_schema: "integer" } });
  let t = performance.now();
  for (let at = 0; at < N; at += 1000) {
    shard.update({
      upsert_points: Array.from({ length: Math.min(1000, N - at) }, (_, j) => ({
        id: at + j,
        vector: ds.base.subarray((at + j) * ds.dim, (at + j + 1) * ds.dim),
        payload: { bucket: (at + j) % 100 },
      })),
    });
  }
  const upsertMs = performance.now() - t;
  t = performance.now();
  await shard.optimize();
  const optimizeMs = performance.now() - t;
  const searchQuantization = quantization === undefined ? undefined : { rescore: true, oversampling };
  const unfiltered = EFS.map((ef) => edgeSweep(shard, ef, ds.gt, { quantization: searchQuantization }));
  const filtered: FilteredRow[] = [];
  if (quantization === undefined) {
    for (const s of SELECTIVITIES) {
      const filter = { must: [{ key: "bucket", range: { lt: s } }] };
      for (const ef of FILTERED_EFS) {
        filtered.push({
          selectivity: s,
          ...edgeSweep(shard, ef, ds.gtFiltered[s as Selectivity], { filter }),
        });
      }
    }
  }
  shard.close();
  return {
    engine: `@x/edge ${runtime()} (${name})`,
    config: { m: M, ef_construct: EF_CONSTRUCT, threads: THREADS, quantization, oversampling, k: K },
    build_ms: round(upsertMs + optimizeMs, 1),
    build_points_per_s: round((N * 1000) / (upsertMs + optimizeMs), 1),
    upsert_ms: round(upsertMs, 1),
    optimize_ms: round(optimizeMs, 1),
    unfiltered,
    filtered,
    rss: rssOf(path, searchQuantization),
  };
}

/** Resident memory of a fresh process of this runtime that opens the shard and runs every query at ef 64. */
function rssOf(
  shard: string,
  quantization: SearchParams["quantization"],
): { rss_before: number; rss_after: number; rss_delta: number } {
  const child = join(ROOT, "bench", "peers", "ann_rss_child.ts");
  const args = "Deno" in globalThis ? ["run", "-A", child] : [child];
  const request = { shard, queries: join(ds.dir, "queries.f32"), dim: ds.dim, q: Q, ef: 64, quantization };
  const result = spawnSync(process.execPath, [...args, JSON.stringify(request)], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`RSS child failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

function qdrantRun(quantization: "int8" | null): Record<string, unknown> {
  const request = {
    dataset: ds.dir,
    workdir,
    m: M,
    ef_construct: EF_CONSTRUCT,
    quantization,
    efs: EFS,
    filtered_efs: FILTERED_EFS,
    exact: false,
  };
  const result = spawnSync(PYTHON, [join(ROOT, "bench", "peers", "ann_peer.py"), JSON.stringify(request)], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  const parsed = JSON.parse(result.stdout || "{}");
  if (result.status !== 0 || parsed.error) {
    throw new Error(`ann_peer.py failed: ${parsed.error ?? result.stderr}`);
  }
  return parsed;
}

/** QPS of the first (smallest-ef) row whose recall reaches the target, or undefined when none does. */
function qpsAtTarget(rows: readonly SweepRow[]): { ef: number; qps: number; recall: number } | undefined {
  const row = rows.find((r) => r.recall >= RECALL_TARGET);
  return row === undefined ? undefined : { ef: row.ef, qps: row.qps, recall: row.recall };
}

let edge: EdgeRun;
let edgeInt8: EdgeRun;
let edgeBinary: EdgeRun;
let qdrant: Record<string, unknown>;
let qdrantInt8: Record<string, unknown>;
let usearch: PeerRun;
let hnswlib: PeerRun;
try {
  edge = await edgeRun("f32");
  edgeInt8 = await edgeRun("int8", { scalar: { type: "int8", always_ram: true } }, 2);
  edgeBinary = await edgeRun("binary", { binary: { always_ram: true } }, 4);
  qdrant = qdrantRun(null);
  qdrantInt8 = qdrantRun("int8");
  const peerOptions = {
    m: M,
    efConstruction: EF_CONSTRUCT,
    efs: EFS,
    filteredEfs: FILTERED_EFS,
    buildThreads: THREADS,
  };
  usearch = runUsearch(ds, peerOptions);
  hnswlib = runHnswlib(ds, peerOptions);
} finally {
  rmSync(workdir, { recursive: true, force: true });
}

const qdrantRows = qdrant.unfiltered as SweepRow[];
const sweepTable = EFS.map((ef, i) => ({
  ef,
  edge: `${edge.unfiltered[i].qps} / ${edge.unfiltered[i].recall}`,
  edge_int8: `${edgeInt8.unfiltered[i].qps} / ${edgeInt8.unfiltered[i].recall}`,
  edge_binary: `${edgeBinary.unfiltered[i].qps} / ${edgeBinary.unfiltered[i].recall}`,
  qdrant: `${qdrantRows[i].qps} / ${qdrantRows[i].recall}`,
  qdrant_int8: `${(qdrantInt8.unfiltered as SweepRow[])[i].qps} / ${
    (qdrantInt8.unfiltered as SweepRow[])[i].recall
  }`,
  usearch: `${usearch.unfiltered[i].qps} / ${usearch.unfiltered[i].recall}`,
  hnswlib: `${hnswlib.unfiltered[i].qps} / ${hnswlib.unfiltered[i].recall}`,
}));
const qdrantFiltered = qdrant.filtered as FilteredRow[];
const hnswlibFiltered = Array.isArray(hnswlib.filtered) ? hnswlib.filtered : [];
const filteredTable = edge.filtered.map((row, i) => ({
  filter: `${row.selectivity} %`,
  ef: row.ef,
  edge: `${row.qps} / ${row.recall}`,
  qdrant: `${qdrantFiltered[i]?.qps} / ${qdrantFiltered[i]?.recall}`,
  hnswlib: `${hnswlibFiltered[i]?.qps} / ${hnswlibFiltered[i]?.recall}`,
  vs_qdrant: round(row.qps / qdrantFiltered[i]?.qps, 2),
}));

const atTarget = {
  edge: qpsAtTarget(edge.unfiltered),
  qdrant: qpsAtTarget(qdrantRows),
  usearch: qpsAtTarget(usearch.unfiltered),
  hnswlib: qpsAtTarget(hnswlib.unfiltered),
};
const ratio = (peer: { qps: number } | undefined) =>
  atTarget.edge === undefined || peer === undefined ? undefined : round(atTarget.edge.qps / peer.qps, 2);
const ratios = {
  vs_qdrant: ratio(atTarget.qdrant),
  vs_usearch: ratio(atTarget.usearch),
  vs_hnswlib: ratio(atTarget.hnswlib),
  build_vs_usearch: round(edge.build_points_per_s / usearch.build_points_per_s, 2),
  rss_int8_vs_f32: round(edgeInt8.rss!.rss_delta / edge.rss!.rss_delta, 2),
  rss_binary_vs_f32: round(edgeBinary.rss!.rss_delta / edge.rss!.rss_delta, 2),
};
const targets: Record<string, boolean> = {
  [`QPS at recall ≥ ${RECALL_TARGET} ≥ 1.5× qdrant-edge-py`]: (ratios.vs_qdrant ?? 0) >= 1.5,
  [`QPS at recall ≥ ${RECALL_TARGET} ≥ 1.0× usearch`]: (ratios.vs_usearch ?? 0) >= 1,
  [`QPS at recall ≥ ${RECALL_TARGET} ≥ 2× hnswlib-node`]: (ratios.vs_hnswlib ?? 0) >= 2,
  "build throughput ≥ usearch": ratios.build_vs_usearch >= 1,
  "RSS with int8 ≤ 0.35× f32": ratios.rss_int8_vs_f32 <= 0.35,
};
const builds = [
  {
    engine: "@x/edge",
    threads: THREADS,
    build_s: round(edge.build_ms / 1000, 2),
    points_per_s: edge.build_points_per_s,
  },
  {
    engine: "@x/edge int8",
    threads: THREADS,
    build_s: round(edgeInt8.build_ms / 1000, 2),
    points_per_s: edgeInt8.build_points_per_s,
  },
  {
    engine: "qdrant-edge-py",
    threads: "auto (2 cores)",
    build_s: round((qdrant.upsert_s as number) + (qdrant.build_s as number), 2),
    points_per_s: round(N / ((qdrant.upsert_s as number) + (qdrant.build_s as number)), 1),
  },
  {
    engine: "usearch",
    threads: THREADS,
    build_s: round(usearch.build_ms / 1000, 2),
    points_per_s: usearch.build_points_per_s,
  },
  {
    engine: "hnswlib-node",
    threads: 1,
    build_s: round(hnswlib.build_ms / 1000, 2),
    points_per_s: hnswlib.build_points_per_s,
  },
];
const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
const memory = [
  { engine: "@x/edge f32", rss_delta_mb: mb(edge.rss!.rss_delta) },
  { engine: "@x/edge int8 (rescore)", rss_delta_mb: mb(edgeInt8.rss!.rss_delta) },
  { engine: "@x/edge binary (rescore)", rss_delta_mb: mb(edgeBinary.rss!.rss_delta) },
];

const loadAfter = load();
console.log(
  `ANN on ${N} × ${ds.dim}-d ${
    String(ds.meta.model)
  } embeddings, ${Q} queries, k ${K}, m ${M}, ef_construct ` +
    `${EF_CONSTRUCT} — ${runtime()}, ${machine()}, native ${native.variant}; load average ${loadBefore} → ${loadAfter}`,
);
console.log("QPS / recall@10 per hnsw_ef (one thread, one query per call):");
console.table(sweepTable);
console.log(`QPS at the smallest ef with recall ≥ ${RECALL_TARGET}:`, atTarget);
console.log("Filtered (QPS / recall@10):");
console.table(filteredTable);
console.log("Builds:");
console.table(builds);
console.log("Resident memory of a fresh process that opens the shard and runs every query at ef 64:");
console.table(memory);
for (const [target, met] of Object.entries(targets)) console.log(`${met ? "met    " : "NOT met"}  ${target}`);
const file = saveResult("ann", native, {
  dataset: { n: N, q: Q, dim: ds.dim, meta: ds.meta },
  params: { m: M, ef_construct: EF_CONSTRUCT, threads: THREADS, k: K, efs: EFS, filtered_efs: FILTERED_EFS },
  load_average: { before: loadBefore, after: loadAfter },
  at_target: atTarget,
  ratios,
  targets,
  edge,
  edge_int8: edgeInt8,
  edge_binary: edgeBinary,
  qdrant,
  qdrant_int8: qdrantInt8,
  usearch,
  hnswlib,
});
console.log(`saved ${file}`);
