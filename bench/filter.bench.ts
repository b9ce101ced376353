/**
 * Filtered search and count: `count` and a top-10 exact query with the filter `price < 100·s` at
 * selectivity s = 1 %, 10 % and 50 % (prices are `(i % 1000) / 10`), on 384-d f32 Cosine points, without
 * and with a float payload index on `price`, against Qdrant Edge (`qdrant-edge-py`, via
 * `bench/peers/qdrant_edge_peer.py`) on the same data in the same run. Queries are the rows after the
 * points. Both engines search exactly, so their top-10 ids must agree: the agreement is reported as recall.
 * Target: ≥ qdrant-edge-py at each selectivity.
 *
 * Small size (CI): 20,000 points, 20 queries. Full size (`--full`): 100,000 points, 100 queries.
 * Run: `deno run -A bench/filter.bench.ts [--full]` or `bun bench/filter.bench.ts [--full]`.
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EdgeShard } from "../mod.ts";
import { nativeLibrary } from "../lib/ffi/loader.ts";
import { fullSize, machine, runtime, saveResult } from "./_report.ts";
import {
  BUILD_BATCH,
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

const N = fullSize() ? 100_000 : 20_000;
const QUERIES = fullSize() ? 100 : 20;
const SELECTIVITIES = [0.01, 0.1, 0.5];

const native = await nativeLibrary();
const loadBefore = load();
const vectors = vectorFile(N + QUERIES);
const data = readVectors(vectors, 0, N + QUERIES);
mkdirSync(DATA_DIR, { recursive: true });
const workdir = mkdtempSync(join(DATA_DIR, "filter-"));

interface Row {
  selectivity: number;
  count: number;
  count_ms: number;
  query_ms: number;
  hits: unknown[][];
}

async function edgeRun(indexed: boolean): Promise<Row[]> {
  const shard = await EdgeShard.create(join(workdir, `edge-${indexed}`), {
    vectors: { size: DIM, distance: DISTANCE },
  });
  if (indexed) shard.update({ create_field_index: { field_name: "price", field_schema: "float" } });
  for (let at = 0; at < N; at += BUILD_BATCH) {
    shard.update({
      upsert_points: Array.from({ length: Math.min(BUILD_BATCH, N - at) }, (_, k) => {
        const i = at + k;
        return { id: i, vector: data.subarray(i * DIM, (i + 1) * DIM), payload: payloadOf(i) };
      }),
    });
  }
  const rows: Row[] = [];
  for (const selectivity of SELECTIVITIES) {
    const filter = { must: [{ key: "price", range: { lt: 100 * selectivity } }] };
    const countMs: number[] = [];
    const queryMs: number[] = [];
    const hits: unknown[][] = [];
    let count = 0;
    // One untimed pass first, so that JIT compilation is not measured.
    shard.count({ filter });
    for (let q = 0; q < QUERIES; q++) {
      let t = performance.now();
      count = shard.count({ filter });
      countMs.push(performance.now() - t);
      const query = data.subarray((N + q) * DIM, (N + q + 1) * DIM);
      t = performance.now();
      hits.push(shard.query({ query, limit: 10, filter }).map((p) => p.id));
      queryMs.push(performance.now() - t);
    }
    rows.push({ selectivity, count, count_ms: median(countMs), query_ms: median(queryMs), hits });
  }
  shard.close();
  return rows;
}

const table: Record<string, unknown>[] = [];
const targets: Record<string, boolean> = {};
try {
  for (const indexed of [false, true]) {
    const edge = await edgeRun(indexed);
    const peer = runPeer("filter", {
      vectors,
      n: N,
      dim: DIM,
      distance: DISTANCE,
      workdir,
      selectivities: SELECTIVITIES,
      queries: QUERIES,
      indexed,
    }).rows as Row[];
    edge.forEach((e, i) => {
      const p = peer[i];
      if (e.count !== p.count) throw new Error(`count differs at ${e.selectivity}: ${e.count} vs ${p.count}`);
      let agree = 0;
      e.hits.forEach((ids, q) => (agree += ids.filter((id) => p.hits[q].includes(id)).length));
      const row = {
        index: indexed ? "float on price" : "none",
        selectivity: `${e.selectivity * 100} %`,
        points: e.count,
        edge_count_ms: round(e.count_ms, 3),
        qdrant_count_ms: round(p.count_ms, 3),
        count_vs_qdrant: round(p.count_ms / e.count_ms, 2),
        edge_query_ms: round(e.query_ms, 3),
        qdrant_query_ms: round(p.query_ms, 3),
        query_vs_qdrant: round(p.query_ms / e.query_ms, 2),
        recall_vs_qdrant: round(agree / (e.hits.length * 10), 4),
      };
      table.push(row);
      targets[`count ≥ qdrant-edge-py, index ${row.index}, ${row.selectivity}`] = row.count_vs_qdrant >= 1;
      targets[`query ≥ qdrant-edge-py, index ${row.index}, ${row.selectivity}`] = row.query_vs_qdrant >= 1;
    });
  }
} finally {
  rmSync(workdir, { recursive: true, force: true });
}

const loadAfter = load();
console.log(
  `Filtered count and top-10 query, ${N} points × ${DIM}-d f32 ${DISTANCE}, ${QUERIES} queries — ${runtime()}, ` +
    `${machine()}, native ${native.variant}; peer ${qdrantPeerName()}; load average ${loadBefore} → ${loadAfter}`,
);
console.table(table);
for (const [target, met] of Object.entries(targets)) console.log(`${met ? "met    " : "NOT met"}  ${target}`);
const file = saveResult("filter", native, {
  dataset: dataset(N),
  queries: QUERIES,
  filter: "price < 100 × selectivity (price = (i % 1000) / 10)",
  timed: "median of per-call times; count exact; query exact top-10 with the filter",
  peer: qdrantPeerName(),
  load_average: { before: loadBefore, after: loadAfter },
  rows: table,
  targets,
});
console.log(`saved ${file}`);
