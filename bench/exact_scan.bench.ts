/**
 * Exact scan throughput: f32 vectors, Dot, top-10 for one query over the whole collection, in GB/s of
 * vector data scanned, against
 * - a single-thread memory-read baseline over the same mmap'd buffer (`edge_storage_read_baseline`), and
 * - `usearch` (npm) `exactSearch` on the same data with one thread,
 * all measured in the same run. Recall of both against a brute-force reference is reported beside speed.
 * Targets: ≥ 80 % of the read baseline; ≥ 1.2× usearch.
 *
 * Small size (CI): n = 20,000, d = 384. Full size (`--full`): n = 100,000, d = 384 and 768.
 * Run: `deno run -A bench/exact_scan.bench.ts [--full]` or `bun bench/exact_scan.bench.ts [--full]`.
 *
 * @module
 */
import { Bench } from "tinybench";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exactSearch, MetricKind } from "usearch";
import { nativeLibrary } from "../lib/ffi/loader.ts";
import { VectorStorage } from "../lib/kernel/vector_storage.ts";
import { fullSize, latencyOf, machine, runtime, saveResult } from "./_report.ts";
import { uniformFloats } from "../scripts/_random.ts";

const K = 10;
const QUERIES = 16;
const sizes = fullSize() ? [{ n: 100_000, dim: 384 }, { n: 100_000, dim: 768 }] : [{ n: 20_000, dim: 384 }];
const native = await nativeLibrary();
const dir = mkdtempSync(join(tmpdir(), "edge-bench-scan-"));
const rows: Record<string, unknown>[] = [];
let checksum = 0n;

for (const { n, dim } of sizes) {
  const data = uniformFloats(n * dim, 1234 + dim);
  const queries = uniformFloats(QUERIES * dim, 99 + dim);
  // One array per query: usearch's addon reads a typed array from the start of its buffer, ignoring the
  // byte offset of a subarray view, so views would all be query 0.
  const perQuery = Array.from({ length: QUERIES }, (_, q) => queries.slice(q * dim, (q + 1) * dim));
  const storage = VectorStorage.open(native, join(dir, `scan-${dim}.vec`), {
    dim,
    datatype: "float32",
    create: true,
  });
  for (let at = 0; at < n; at += 10_000) {
    storage.put(at, data.subarray(at * dim, Math.min(n, at + 10_000) * dim));
  }

  const truth = perQuery.map((query) => bruteForce(data, query, dim));
  const edgeRecall = recall(truth, (q) => {
    const r = storage.searchExact("Dot", perQuery[q], K, null);
    return Array.from(r.offsets.subarray(0, r.counts[0]), Number);
  });
  const usearchRecall = recall(truth, (q) => {
    const r = exactSearch(data, perQuery[q], dim, K, MetricKind.IP, 1);
    return Array.from(r.keys as BigUint64Array, Number);
  });

  let q = 0;
  const next = () => perQuery[q = (q + 1) % QUERIES];
  const bench = new Bench({ time: fullSize() ? 3000 : 500, warmupTime: 200 });
  bench
    .add("read baseline (1 thread)", () => {
      checksum ^= storage.readBaseline();
    })
    .add("@x/edge exact top-10", () => {
      checksum += BigInt(storage.searchExact("Dot", next(), K, null).counts[0]);
    })
    .add("usearch exactSearch top-10 (1 thread)", () => {
      checksum += BigInt(exactSearch(data, next(), dim, K, MetricKind.IP, 1).keys.length);
    });
  await bench.run();

  const bytes = n * dim * 4;
  const gbps = (name: string) => {
    const mean = latencyOf(bench.tasks.find((t) => t.name === name)!).mean;
    return bytes / (mean / 1000) / 1e9;
  };
  const baseline = gbps("read baseline (1 thread)");
  const edge = gbps("@x/edge exact top-10");
  const usearch = gbps("usearch exactSearch top-10 (1 thread)");
  rows.push({
    n,
    dim,
    baseline_gb_s: round(baseline),
    edge_gb_s: round(edge),
    usearch_gb_s: round(usearch),
    edge_vs_baseline: round(edge / baseline),
    edge_vs_usearch: round(edge / usearch),
    edge_recall_at_10: edgeRecall,
    usearch_recall_at_10: usearchRecall,
  });
  storage.close();
}

console.log(`Exact scan, f32 Dot, top-${K} — ${runtime()}, ${machine()}, native ${native.variant}`);
console.table(rows);
const file = saveResult("exact_scan", native, { k: K, rows, checksum: checksum.toString() });
console.log(`checksum ${checksum}; saved ${file}`);
rmSync(dir, { recursive: true, force: true });

function bruteForce(data: Float32Array, query: Float32Array, dim: number): number[] {
  const scores: { id: number; score: number }[] = [];
  for (let i = 0; i < data.length / dim; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[i * dim + j] * query[j];
    scores.push({ id: i, score: s });
  }
  return scores.sort((a, b) => b.score - a.score).slice(0, K).map((s) => s.id);
}

function recall(truth: number[][], search: (q: number) => number[]): number {
  let hits = 0;
  truth.forEach((expected, q) => {
    const got = new Set(search(q));
    hits += expected.filter((id) => got.has(id)).length;
  });
  return hits / (truth.length * K);
}

function round(x: number): number {
  return Number(x.toFixed(3));
}
