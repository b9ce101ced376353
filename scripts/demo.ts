/**
 * The demo of the README's first command: creates a shard in a local directory, inserts 20,000 384-d
 * vectors with payloads, runs queries, prints results and timings, closes, reopens and shows the data is
 * still there.
 *
 * Usage: `deno run --allow-ffi --allow-read --allow-write --allow-env scripts/demo.ts [directory]`
 * or `bun scripts/demo.ts [directory]` (default directory: `./demo-shard`, replaced if it exists).
 *
 * @module
 */
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { EdgeShard, type PointStruct, type ScoredPoint } from "../mod.ts";
import { gaussianVector, seededRandom } from "./_random.ts";

const POINTS = 20_000;
const DIM = 384;
const BATCH = 1_000;
const QUERIES = 200;
const CATEGORIES = ["kitchen", "hallway", "garage", "garden", "office", "bedroom"];

/** Runs the demo in `directory`; returns true when the reopened shard answered exactly as before. */
export async function main(directory: string): Promise<boolean> {
  const path = resolve(directory);
  rmSync(path, { recursive: true, force: true });
  const random = seededRandom(42);
  const centres = Array.from({ length: 32 }, () => gaussianVector(random, DIM, 1));
  const vectors = Array.from({ length: POINTS }, (_, i) => jitter(random, centres[i % centres.length], 0.35));

  let started = performance.now();
  const shard = await EdgeShard.create(path, { vectors: { size: DIM, distance: "Cosine" } });
  for (let at = 0; at < POINTS; at += BATCH) {
    const points: PointStruct[] = [];
    for (let i = at; i < Math.min(at + BATCH, POINTS); i++) {
      points.push({
        id: i,
        vector: vectors[i],
        payload: { category: CATEGORIES[i % CATEGORIES.length], seen: i },
      });
    }
    shard.update({ upsert_points: points });
  }
  const insertMs = performance.now() - started;
  console.log(`created ${path}`);
  console.log(
    `inserted ${POINTS} points of ${DIM} dimensions in ${insertMs.toFixed(0)} ms ` +
      `(${Math.round(POINTS / (insertMs / 1000))} points/s, batches of ${BATCH})`,
  );

  const queries = Array.from(
    { length: QUERIES },
    () => jitter(random, centres[Math.floor(random() * 32)], 0.35),
  );
  const latencies: number[] = [];
  let first: ScoredPoint[] = [];
  for (const [i, query] of queries.entries()) {
    started = performance.now();
    const hits = shard.query({ query, limit: 5, with_payload: true });
    latencies.push(performance.now() - started);
    if (i === 0) first = hits;
  }
  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  console.log(
    `ran ${QUERIES} exact top-5 queries: mean ${mean.toFixed(2)} ms, ` +
      `p50 ${latencies[QUERIES >> 1].toFixed(2)} ms, p99 ${
        latencies[Math.floor(QUERIES * 0.99)].toFixed(2)
      } ms`,
  );
  console.log("first query, top 5:");
  for (const hit of first) {
    console.log(`  id ${hit.id}  score ${hit.score.toFixed(4)}  ${JSON.stringify(hit.payload)}`);
  }
  shard.close();
  console.log("closed");

  started = performance.now();
  using reopened = await EdgeShard.load(path);
  const loadMs = performance.now() - started;
  const again = reopened.query({ query: queries[0], limit: 5, with_payload: true });
  const identical = JSON.stringify(again) === JSON.stringify(first);
  console.log(`reopened in ${loadMs.toFixed(1)} ms: ${reopened.count()} points`);
  console.log(`first query after reopening is identical: ${identical ? "yes" : "NO"}`);
  return identical && reopened.count() === POINTS;
}

function jitter(random: () => number, centre: number[], scale: number): number[] {
  const noise = gaussianVector(random, centre.length, scale);
  return centre.map((x, i) => x + noise[i]);
}

if (import.meta.main) {
  const ok = await main(process.argv[2] ?? "demo-shard");
  process.exit(ok ? 0 : 1);
}
