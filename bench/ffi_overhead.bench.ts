/**
 * FFI call overhead in Deno and Bun: a no-op native call, a 1-query top-10 search through the raw symbol,
 * through the kernel wrapper, and through `EdgeShard.query()`, over a small collection so that the call
 * itself dominates. Target: ≤ 2 µs per query call.
 *
 * Run: `deno run -A bench/ffi_overhead.bench.ts [--full]` or `bun bench/ffi_overhead.bench.ts [--full]`.
 *
 * @module
 */
import { Bench } from "tinybench";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EdgeShard } from "../mod.ts";
import { nativeLibrary } from "../lib/ffi/loader.ts";
import { checkStatus } from "../lib/kernel/status.ts";
import { VectorStorage } from "../lib/kernel/vector_storage.ts";
import { fullSize, latencyOf, machine, runtime, saveResult } from "./_report.ts";

const CALLS = 1_000;
const POINTS = 64;
const DIM = 8;

const native = await nativeLibrary();
const dir = mkdtempSync(join(tmpdir(), "edge-bench-ffi-"));
const shard = await EdgeShard.create(dir, { vectors: { size: DIM, distance: "Dot" } });
const data = Array.from(
  { length: POINTS },
  (_, i) => Array.from({ length: DIM }, (_, j) => Math.sin(i * 31 + j)),
);
shard.update({ upsert_points: data.map((vector, id) => ({ id, vector })) });

// The same vectors in a bare vector file, reached through the kernel wrapper and through raw symbols.
const flat = new Float32Array(data.flat());
const storage = VectorStorage.open(native, join(dir, "wrapper.vec"), {
  dim: DIM,
  datatype: "float32",
  create: true,
});
storage.put(0, flat);
const handle = rawStorage(join(dir, "raw.vec"));
const query = new Float32Array(data[3]);
const offsets = new BigUint64Array(10);
const scores = new Float32Array(10);
const counts = new Uint32Array(1);
let checksum = 0;

const bench = new Bench({ time: fullSize() ? 2000 : 300, warmupTime: 100 });
bench
  .add("edge_noop (raw symbol)", () => {
    for (let i = 0; i < CALLS; i++) checksum += native.symbols.edge_noop();
  })
  .add("edge_search_exact 1 query top-10 (raw symbol)", () => {
    for (let i = 0; i < CALLS; i++) {
      native.symbols.edge_search_exact(handle, 1, query, 1, 10, null, 0, offsets, scores, counts);
      checksum += counts[0];
    }
  })
  .add("VectorStorage.searchExact (kernel wrapper)", () => {
    for (let i = 0; i < CALLS; i++) checksum += storage.searchExact("Dot", query, 10, null).counts[0];
  })
  .add("EdgeShard.query (validation + results)", () => {
    for (let i = 0; i < CALLS; i++) checksum += shard.query({ query: data[3], limit: 10 }).length;
  });
await bench.run();

const rows = bench.tasks.map((task) => {
  const latency = latencyOf(task);
  return {
    task: task.name,
    us_per_call: Number(((latency.mean * 1000) / CALLS).toFixed(3)),
    p99_us_per_call: Number(((latency.p99 * 1000) / CALLS).toFixed(3)),
    rme_percent: Number(latency.rme.toFixed(1)),
  };
});
console.log(`FFI overhead — ${runtime()}, ${machine()}, native ${native.variant}; ${POINTS} × ${DIM}-d, Dot`);
console.table(rows);
const file = saveResult("ffi_overhead", native, {
  points: POINTS,
  dim: DIM,
  callsPerSample: CALLS,
  rows,
  checksum,
});
console.log(`checksum ${checksum}; saved ${file}`);
shard.close();
storage.close();
native.symbols.edge_storage_close(handle);
rmSync(dir, { recursive: true, force: true });

function rawStorage(path: string): bigint {
  const bytes = new TextEncoder().encode(path);
  const out = new BigUint64Array(1);
  const create = 1;
  checkStatus(native, native.symbols.edge_storage_open(bytes, bytes.length, DIM, 0, create, out), path);
  checkStatus(native, native.symbols.edge_storage_put(out[0], 0n, flat, POINTS), path);
  return out[0];
}
