/**
 * Child of `hnsw_runtimes.test.ts`: builds a shard with a one-thread HNSW build (deterministic for its
 * seed), optimizes it, and prints the results of a few graph searches as JSON, so that the test can
 * compare what Deno and Bun compute.
 *
 * Usage: `<runtime> tests/_hnsw_child.ts <dir>`
 *
 * @module
 */
import process from "node:process";
import { EdgeShard } from "../mod.ts";
import { clusteredVectors, row } from "./_clustered.ts";

const N = 3000;
const DIM = 32;
const data = clusteredVectors(N + 10, DIM, { clusters: 30, seed: 11 });
const shard = await EdgeShard.create(process.argv[2], {
  vectors: { size: DIM, distance: "Euclid" },
  optimizers: { indexing_threshold: 1 },
  hnsw_config: { m: 8, ef_construct: 32, full_scan_threshold: 1, max_indexing_threads: 1 },
  quantization_config: { scalar: { type: "int8" } },
});
shard.update({
  upsert_points: Array.from({ length: N }, (_, i) => ({ id: i, vector: row(data, DIM, i) })),
});
await shard.optimize();
const results = [];
for (let q = 0; q < 10; q++) {
  const query = row(data, DIM, N + q);
  results.push(shard.query({ query, limit: 5, params: { hnsw_ef: 16, quantization: { ignore: true } } }));
  results.push(shard.query({ query, limit: 5, params: { hnsw_ef: 16, quantization: { rescore: false } } }));
}
shard.close();
console.log(JSON.stringify(results));
