/**
 * Child process of `bench/ann.bench.ts`: opens a built shard in a fresh process, runs every query of a
 * dataset once, and prints the resident memory before opening and after the queries as JSON — the memory
 * a device pays for the shard (vectors, graph and quantized vectors as the searches touched them).
 *
 * Usage: `<runtime> bench/peers/ann_rss_child.ts '{"shard": dir, "queries": file, "dim": 384, "q": 1000,
 * "ef": 64, "quantization": {...} | null}'`
 *
 * @module
 */
import { closeSync, openSync, readSync } from "node:fs";
import process from "node:process";
import { EdgeShard, type SearchParams } from "../../mod.ts";

const request = JSON.parse(process.argv[2]) as {
  shard: string;
  queries: string;
  dim: number;
  q: number;
  ef: number;
  quantization: SearchParams["quantization"];
};
const queries = new Float32Array(request.q * request.dim);
const fd = openSync(request.queries, "r");
readSync(fd, new Uint8Array(queries.buffer));
closeSync(fd);
const before = process.memoryUsage().rss;
const shard = await EdgeShard.load(request.shard, { readOnly: true });
for (let q = 0; q < request.q; q++) {
  shard.query({
    query: queries.subarray(q * request.dim, (q + 1) * request.dim),
    limit: 10,
    params: { hnsw_ef: request.ef, quantization: request.quantization },
  });
}
const after = process.memoryUsage().rss;
shard.close();
console.log(JSON.stringify({ rss_before: before, rss_after: after, rss_delta: after - before }));
