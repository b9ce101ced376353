import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type EdgeConfig,
  EdgeShard,
  InvalidArgumentError,
  type OptimizeProgress,
  type QueryRequest,
} from "../mod.ts";
import { tempDir } from "./_helpers.ts";
import { clusteredVectors, recall, row } from "./_clustered.ts";

// The recall budgets of the HNSW search, written here as the tests' contract: on 10,000 clustered 128-d
// points, the graph (m 16, ef_construct 100) searched with ef 64 finds at least this share of the exact
// top 10, averaged over the queries.
const N = 10_000;
const DIM = 128;
const QUERIES = 50;
const RECALL_BUDGET = 0.95;
const FILTERED_RECALL_BUDGET = 0.95;
const INT8_RECALL_BUDGET = 0.95;
const BINARY_RECALL_BUDGET = 0.8;

const data = clusteredVectors(N + QUERIES, DIM);
const queries = Array.from({ length: QUERIES }, (_, q) => row(data, DIM, N + q));

function config(extra: Partial<EdgeConfig> = {}): EdgeConfig {
  return {
    vectors: { size: DIM, distance: "Cosine" },
    // 10,000 × 128 f32 is 5,000 KB: index it, and let filters under 200 KB of vectors (400 points) scan.
    optimizers: { indexing_threshold: 1_000 },
    hnsw_config: { full_scan_threshold: 200, max_indexing_threads: 2 },
    ...extra,
  };
}

async function filledShard(path: string, extra: Partial<EdgeConfig> = {}): Promise<EdgeShard> {
  const shard = await EdgeShard.create(path, config(extra));
  for (let start = 0; start < N; start += 1000) {
    shard.update({
      upsert_points: Array.from({ length: 1000 }, (_, j) => ({
        id: start + j,
        vector: row(data, DIM, start + j),
        payload: { bucket: (start + j) % 100 },
      })),
    });
  }
  return shard;
}

/** Mean recall@10 of `request` against the same request searched exactly. */
function meanRecall(shard: EdgeShard, request: Omit<QueryRequest, "query">): number {
  let total = 0;
  for (const query of queries) {
    const exact = shard.query({ ...request, query, limit: 10, params: { ...request.params, exact: true } });
    const approx = shard.query({ ...request, query, limit: 10 });
    total += recall(exact.map((p) => p.id), approx.map((p) => p.id));
  }
  return total / queries.length;
}

const bucketBelow = (n: number) => ({ must: [{ key: "bucket", range: { lt: n } }] });

describe("optimize() and HNSW search", () => {
  let dir: { path: string; cleanup: () => void };
  let shard: EdgeShard;
  const progress: OptimizeProgress[] = [];

  before(async () => {
    dir = tempDir();
    shard = await filledShard(dir.path);
    assert.equal(shard.explainQuery({ query: queries[0] }).search, "exact");
    assert.equal(await shard.optimize({ onProgress: (p) => progress.push(p) }), true);
  });
  after(() => {
    shard.close();
    dir.cleanup();
  });

  it("builds a graph over every point, reporting each phase's progress up to its total", () => {
    assert.equal(shard.info().indexed_vectors_count, N);
    assert.equal(shard.info().segments_count, 1);
    for (const phase of ["copy", "hnsw", "publish"] as const) {
      const steps = progress.filter((p) => p.phase === phase);
      assert.ok(steps.length > 0, `no ${phase} progress`);
      const last = steps[steps.length - 1];
      assert.equal(last.done, last.total, `${phase} ends at its total`);
      for (let i = 1; i < steps.length; i++) assert.ok(steps[i].done >= steps[i - 1].done);
    }
    assert.ok(progress.filter((p) => p.phase === "hnsw").length > 1, "the build ran in several steps");
  });

  it(`finds ≥ ${RECALL_BUDGET} of the exact top 10 at ef 64, through the graph`, () => {
    assert.deepEqual(shard.explainQuery({ query: queries[0] }), {
      search: "hnsw",
      reason: "above_full_scan_threshold",
      candidates: N,
    });
    const r = meanRecall(shard, { params: { hnsw_ef: 64 } });
    assert.ok(r >= RECALL_BUDGET, `recall ${r}`);
  });

  it("scores graph hits exactly as the exact search does", () => {
    const exact = shard.query({ query: queries[0], limit: 5, params: { exact: true } });
    const approx = shard.query({ query: queries[0], limit: 5, params: { hnsw_ef: 256 } });
    assert.deepEqual(approx, exact);
  });

  for (const [share, search] of [[1, "exact"], [10, "hnsw"], [50, "hnsw"]] as const) {
    it(`keeps recall ≥ ${FILTERED_RECALL_BUDGET} with a ${share} % filter (${search} search)`, () => {
      const filter = bucketBelow(share);
      const plan = shard.explainQuery({ query: queries[0], filter });
      assert.equal(plan.search, search);
      assert.equal(plan.candidates, (N * share) / 100);
      const r = meanRecall(shard, { filter, params: { hnsw_ef: 64 } });
      assert.ok(r >= FILTERED_RECALL_BUDGET, `recall ${r}`);
      for (const hit of shard.query({ query: queries[1], filter, limit: 10 })) {
        assert.ok((hit.id as number) % 100 < share);
      }
    });
  }

  it("with a payload index on the filtered key, plans and finds the same", () => {
    const filters = [1, 10, 50].map(bucketBelow);
    const before = filters.map((filter) => shard.query({ query: queries[3], filter, limit: 10 }));
    shard.update({ create_field_index: { field_name: "bucket", field_schema: "integer" } });
    filters.forEach((filter, i) => {
      assert.equal(shard.explainQuery({ query: queries[3], filter }).candidates, N * [0.01, 0.1, 0.5][i]);
      assert.equal(shard.count({ filter }), N * [0.01, 0.1, 0.5][i]);
      assert.deepEqual(shard.query({ query: queries[3], filter, limit: 10 }), before[i]);
    });
    const r = meanRecall(shard, { filter: bucketBelow(10), params: { hnsw_ef: 64 } });
    assert.ok(r >= FILTERED_RECALL_BUDGET, `recall ${r}`);
    shard.update({ delete_field_index: { field_name: "bucket" } });
  });

  it("after deletes, never returns a deleted point and keeps its recall", () => {
    const deleted = Array.from({ length: N / 5 }, (_, i) => i * 5);
    shard.update({ delete_points: { points: deleted } });
    const gone = new Set(deleted);
    for (const query of queries) {
      for (const hit of shard.query({ query, limit: 20, params: { hnsw_ef: 64 } })) {
        assert.ok(!gone.has(hit.id as number), `deleted point ${hit.id} returned`);
      }
    }
    const r = meanRecall(shard, { params: { hnsw_ef: 64 } });
    assert.ok(r >= RECALL_BUDGET, `recall ${r}`);
    assert.equal(shard.info().indexed_vectors_count, N - deleted.length);
  });

  it("searches points written after the optimize by scanning them beside the graph", () => {
    shard.update({ upsert_points: [{ id: 999_999, vector: queries[2] }] });
    const hits = shard.query({ query: queries[2], limit: 1, params: { hnsw_ef: 16 } });
    assert.equal(hits[0].id, 999_999);
  });

  it("gives the same results after reopening, without rebuilding the graph", async () => {
    const before = queries.slice(0, 5).map((query) =>
      shard.query({ query, limit: 10, params: { hnsw_ef: 64 } })
    );
    shard.close();
    const started = performance.now();
    shard = await EdgeShard.load(dir.path);
    const opened = performance.now() - started;
    const afterReopen = queries.slice(0, 5).map((query) =>
      shard.query({ query, limit: 10, params: { hnsw_ef: 64 } })
    );
    assert.deepEqual(afterReopen, before);
    assert.equal(shard.explainQuery({ query: queries[0] }).search, "hnsw");
    // A rebuild of 10,000 points takes seconds; opening maps the graph.
    assert.ok(opened < 2_000, `load took ${opened} ms`);
  });
});

describe("optimize() planning, vacuum and safety", () => {
  let dir: { path: string; cleanup: () => void };
  before(() => (dir = tempDir()));
  after(() => dir.cleanup());

  it("does nothing below the indexing threshold", async () => {
    using shard = await EdgeShard.create(join(dir.path, "small"), { vectors: { size: 4, distance: "Dot" } });
    shard.update({ upsert_points: [{ id: 1, vector: [1, 2, 3, 4] }] });
    assert.equal(await shard.optimize(), false);
    assert.equal(shard.info().indexed_vectors_count, 0);
  });

  it("vacuums dead points, keeping every live point's version, vectors and payload", async () => {
    const path = join(dir.path, "vacuum");
    using shard = await EdgeShard.create(path, {
      vectors: { size: 8, distance: "Euclid" },
      optimizers: { indexing_threshold: 0, vacuum_min_vector_number: 100 },
    });
    const points = Array.from({ length: 1000 }, (_, i) => ({
      id: i,
      vector: row(data, 8, i),
      payload: { i, tags: [`t${i % 3}`] },
    }));
    for (let i = 0; i < 1000; i += 100) shard.update({ upsert_points: points.slice(i, i + 100) });
    shard.update({ delete_points: { points: points.filter((p) => p.id % 2 === 0).map((p) => p.id) } });
    shard.update({ set_payload: { points: [1], payload: { changed: true } } });
    const before = shard.scroll({ limit: 1000, with_vector: true });
    const versions = shard.query({ query: row(data, 8, 1), limit: 1000 });
    const sizeBefore = shard.info().disk_size_bytes;
    assert.equal(await shard.optimize(), true);
    assert.deepEqual(shard.scroll({ limit: 1000, with_vector: true }), before);
    assert.deepEqual(shard.query({ query: row(data, 8, 1), limit: 1000 }), versions);
    assert.ok(shard.info().disk_size_bytes < sizeBefore);
    assert.equal(await shard.optimize(), false, "nothing left to do");
    shard.close();
    using again = await EdgeShard.load(path);
    assert.deepEqual(again.scroll({ limit: 1000, with_vector: true }), before);
  });

  it("carries over updates made while it runs, and serves queries meanwhile", async () => {
    const path = join(dir.path, "concurrent");
    using shard = await filledShard(path, {
      hnsw_config: { full_scan_threshold: 200, max_indexing_threads: 1 },
    });
    const running = shard.optimize();
    let queriesDuring = 0;
    let i = 0;
    const done = running.then(() => (i = -1));
    // What each late point reads back at once: the optimize must carry over the same vectors, although
    // each update's prepared vectors live in buffers the next update reuses.
    const lateVectors = new Map<number, unknown>();
    while (i >= 0) {
      shard.update({ upsert_points: [{ id: 100_000 + i, vector: row(data, DIM, i), payload: { late: i } }] });
      lateVectors.set(100_000 + i, shard.retrieve([100_000 + i], { with_vector: true })[0].vector);
      if (i % 2 === 0) shard.update({ delete_points: { points: [i] } });
      assert.equal(shard.query({ query: queries[0], limit: 3 }).length, 3);
      queriesDuring++;
      i++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await done;
    assert.ok(queriesDuring > 3, `only ${queriesDuring} turns of the event loop during the build`);
    const late = shard.count({ filter: { must: [{ key: "late", range: { gte: 0 } }] } });
    assert.equal(late, queriesDuring);
    assert.equal(shard.count(), N + queriesDuring - Math.ceil(queriesDuring / 2));
    assert.deepEqual(shard.retrieve([100_000]), [{ id: 100_000, payload: { late: 0 } }]);
    assert.deepEqual(shard.retrieve([0]), []);
    const ids = [...lateVectors.keys()];
    const carried = shard.retrieve(ids, { with_vector: true });
    assert.deepEqual(new Map(carried.map((p) => [p.id, p.vector])), lateVectors);
    assert.notDeepEqual(lateVectors.get(ids[0]), lateVectors.get(ids[1]));
    shard.close();
    using again = await EdgeShard.load(path);
    assert.equal(again.count(), N + queriesDuring - Math.ceil(queriesDuring / 2));
    assert.equal(again.explainQuery({ query: queries[0] }).search, "hnsw");
  });

  it("is cancelled by its signal, leaving the shard as it was", async () => {
    const path = join(dir.path, "cancel");
    using shard = await filledShard(path);
    const controller = new AbortController();
    const running = shard.optimize({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === "hnsw" && p.done > 1000) controller.abort();
      },
    });
    await assert.rejects(running, { name: "AbortError" });
    assert.equal(shard.info().indexed_vectors_count, 0);
    assert.deepEqual(readdirSync(join(path, "segments")).filter((name) => name.startsWith(".")), []);
    assert.equal(shard.count(), N);
    assert.equal(await shard.optimize(), true, "a later optimize still works");
  });

  it("loads the published segment when a crash left the one it replaced, and drops unfinished builds", async () => {
    const path = join(dir.path, "crash");
    const shard = await filledShard(path);
    await shard.optimize();
    const segments = join(path, "segments");
    const [current] = readdirSync(segments);
    const replaced = JSON.parse(readFileSync(join(segments, current, "segment.json"), "utf8")).replaces;
    shard.close();
    mkdirSync(join(segments, replaced, "vectors"), { recursive: true });
    mkdirSync(join(segments, ".optimizing-0000"), { recursive: true });
    using again = await EdgeShard.load(path);
    assert.equal(again.count(), N);
    assert.deepEqual(readdirSync(segments), [current]);
    assert.ok(!existsSync(join(segments, replaced)));
  });

  it("drops a damaged or missing graph or quantized file on load, scans instead, and rebuilds on optimize", async () => {
    const path = join(dir.path, "damaged");
    const shard = await EdgeShard.create(path, {
      vectors: { size: 16, distance: "Dot" },
      optimizers: { indexing_threshold: 1 },
      hnsw_config: { full_scan_threshold: 1 },
      quantization_config: { scalar: { type: "int8" } },
    });
    shard.update({
      upsert_points: Array.from({ length: 500 }, (_, i) => ({ id: i, vector: row(data, 16, i) })),
    });
    await shard.optimize();
    const expected = shard.query({ query: row(data, 16, 7), limit: 5, params: { exact: true } });
    shard.close();
    const segment = join(path, "segments", readdirSync(join(path, "segments"))[0]);
    const graph = join(segment, "hnsw", "0.hnsw");
    const bytes = readFileSync(graph);
    bytes[bytes.length >> 1] ^= 0x40;
    writeFileSync(graph, bytes);
    rmSync(join(segment, "quant", "0.qnt"));
    using again = await EdgeShard.load(path);
    assert.deepEqual(again.explainQuery({ query: row(data, 16, 7) }), {
      search: "exact",
      reason: "no_graph",
      candidates: 500,
    });
    assert.deepEqual(again.query({ query: row(data, 16, 7), limit: 5 }), expected);
    assert.equal(again.info().indexed_vectors_count, 0);
    assert.equal(await again.optimize(), true);
    assert.equal(again.explainQuery({ query: row(data, 16, 7) }).search, "hnsw");
    const rebuilt = join(path, "segments", readdirSync(join(path, "segments"))[0]);
    assert.deepEqual(readdirSync(join(rebuilt, "quant")), ["0.qnt"]);
    const params = { hnsw_ef: 64, quantization: { ignore: true } };
    assert.deepEqual(again.query({ query: row(data, 16, 7), limit: 5, params }), expected);
  });

  it("refuses a second optimize while one runs, and bad search params", async () => {
    using shard = await filledShard(join(dir.path, "twice"));
    const first = shard.optimize();
    await assert.rejects(shard.optimize(), /an optimize is already running/);
    await first;
    assert.throws(() => shard.query({ query: queries[0], params: { hnsw_ef: 0 } }), InvalidArgumentError);
    assert.throws(
      () => shard.query({ query: queries[0], params: { quantization: { oversampling: 0.5 } } }),
      /oversampling: expected a number from 1 to 1000, got 0.5/,
    );
    assert.throws(
      () => shard.query({ query: queries[0], params: { hnsw: 3 } as never }),
      /query.params: unknown field "hnsw"/,
    );
  });
});

describe("quantization", () => {
  let dir: { path: string; cleanup: () => void };
  before(() => (dir = tempDir()));
  after(() => dir.cleanup());

  for (
    const [name, quantization, budget, oversampling] of [
      ["int8", { scalar: { type: "int8", quantile: 0.99, always_ram: true } }, INT8_RECALL_BUDGET, 2],
      ["binary", { binary: { always_ram: false } }, BINARY_RECALL_BUDGET, 10],
    ] as const
  ) {
    it(`${name}: builds quantized vectors and keeps recall ≥ ${budget} with rescoring`, async () => {
      const path = join(dir.path, name);
      const shard = await filledShard(path, { quantization_config: quantization });
      await shard.optimize();
      assert.ok(
        readdirSync(join(path, "segments", readdirSync(join(path, "segments"))[0], "quant")).length === 1,
      );
      const r = meanRecall(shard, { params: { hnsw_ef: 64, quantization: { rescore: true, oversampling } } });
      assert.ok(r >= budget, `recall ${r}`);
      const ignored = meanRecall(shard, { params: { hnsw_ef: 64, quantization: { ignore: true } } });
      assert.ok(ignored >= RECALL_BUDGET, `recall without quantization ${ignored}`);
      shard.close();
      using again = await EdgeShard.load(path);
      const r2 = meanRecall(again, {
        params: { hnsw_ef: 64, quantization: { rescore: true, oversampling } },
      });
      assert.equal(r2, r);
    });
  }

  it("rebuilds when the quantization configured at load differs from the built one", async () => {
    const path = join(dir.path, "int8");
    using shard = await EdgeShard.load(path, config({ quantization_config: { binary: {} } }));
    assert.deepEqual(shard.config().quantization_config, { binary: {} });
    assert.equal(await shard.optimize(), true);
    assert.equal(await shard.optimize(), false);
  });
});

describe("index configuration", () => {
  let dir: { path: string; cleanup: () => void };
  before(() => (dir = tempDir()));
  after(() => dir.cleanup());

  it("validates hnsw_config, quantization_config and optimizers, naming the field", async () => {
    const base = { vectors: { size: 2, distance: "Dot" as const } };
    const cases: [unknown, RegExp][] = [
      [{ hnsw_config: { m: 1 } }, /config.hnsw_config.m: expected an integer from 2 to 64, got 1/],
      [{ hnsw_config: { ef: 3 } }, /config.hnsw_config: unknown field "ef"/],
      [{ quantization_config: { product: {} } }, /product and turbo are not supported/],
      [{ quantization_config: { scalar: { type: "int4" } } }, /scalar.type: expected "int8", got "int4"/],
      [{ quantization_config: { scalar: { type: "int8", quantile: 2 } } }, /quantile: expected a number/],
      [{ optimizers: { deleted_threshold: 1.5 } }, /deleted_threshold: expected a number from 0 to 1/],
      [{ optimizers: { prevent_unoptimized: true } }, /deferred points are not supported/],
      [
        { vectors: { a: { size: 2, distance: "Dot", hnsw_config: { ef_construct: 1 } } } },
        /config.vectors\["a"\].hnsw_config.ef_construct: expected an integer from 4/,
      ],
    ];
    for (const [extra, message] of cases) {
      await assert.rejects(
        EdgeShard.create(join(dir.path, "bad"), { ...base, ...(extra as object) } as EdgeConfig),
        (error: Error) => error instanceof InvalidArgumentError && message.test(error.message),
      );
    }
  });

  it("persists the tunables, and takes new ones given at load", async () => {
    const path = join(dir.path, "persist");
    (await EdgeShard.create(path, {
      vectors: { size: 2, distance: "Dot", quantization_config: { binary: {} } },
      hnsw_config: { m: 8 },
      optimizers: { indexing_threshold: 5 },
    })).close();
    const persisted = JSON.parse(readFileSync(join(path, "edge_config.json"), "utf8"));
    assert.equal(persisted.hnsw_config.m, 8);
    assert.equal(persisted.hnsw_config.ef_construct, 100);
    assert.equal(persisted.optimizers.indexing_threshold, 5);
    assert.deepEqual(persisted.vectors[""].quantization_config, { binary: {} });
    {
      using shard = await EdgeShard.load(path, {
        vectors: { size: 2, distance: "Dot" },
        hnsw_config: { m: 32 },
      });
      assert.equal(shard.config().hnsw_config.m, 32);
      assert.equal(shard.config().optimizers.indexing_threshold, 5, "a tunable not given is kept");
    }
    using shard = await EdgeShard.load(path);
    assert.equal(shard.config().hnsw_config.m, 32);
  });
});
