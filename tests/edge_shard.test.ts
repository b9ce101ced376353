import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import {
  type Distance,
  EdgeShard,
  InvalidArgumentError,
  OperationError,
  type PointStruct,
  ShardClosedError,
} from "../mod.ts";
import { randomVectors, rng, tempDir } from "./_helpers.ts";

let dir: { path: string; cleanup: () => void };
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

function reference(distance: Distance, a: number[], b: number[]): number {
  let s = 0;
  if (distance === "Cosine") {
    const na = Math.hypot(...a);
    const nb = Math.hypot(...b);
    for (let i = 0; i < a.length; i++) s += (a[i] / na) * (b[i] / nb);
    return s;
  }
  if (distance === "Dot") { for (let i = 0; i < a.length; i++) s += a[i] * b[i]; }
  if (distance === "Euclid") return Math.hypot(...a.map((x, i) => x - b[i]));
  if (distance === "Manhattan") { for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]); }
  return s;
}

const DISTANCES: Distance[] = ["Cosine", "Dot", "Euclid", "Manhattan"];

describe("EdgeShard lifecycle", () => {
  it("create() writes edge_config.json and one segment; load() gives back every point", async () => {
    const random = rng(1);
    const vectors = randomVectors(random, 300, 8);
    const shard = await EdgeShard.create(dir.path, { vectors: { size: 8, distance: "Dot" } });
    shard.update({
      upsert_points: vectors.map((v, i) => ({ id: i, vector: v, payload: { i, tags: ["a", { b: i % 3 }] } })),
    });
    shard.update({ upsert_points: [{ id: 5, vector: vectors[6], payload: { moved: true } }] });
    const before = shard.query({ query: vectors[0], limit: 5, with_payload: true });
    shard.close();

    const config = JSON.parse(readFileSync(join(dir.path, "edge_config.json"), "utf8"));
    assert.deepEqual(config.vectors, {
      "": { size: 8, distance: "Dot", datatype: "float32", on_disk: false },
    });

    using again = await EdgeShard.load(dir.path);
    assert.equal(again.count(), 300);
    assert.deepEqual(again.query({ query: vectors[0], limit: 5, with_payload: true }), before);
    const [p5, p7] = again.retrieve([5, 7], { with_vector: true });
    assert.deepEqual(p5.payload, { moved: true });
    assert.deepEqual(p5.vector, Array.from(new Float32Array(vectors[6])));
    assert.deepEqual(p7.payload, { i: 7, tags: ["a", { b: 1 }] });
    assert.deepEqual(p7.vector, Array.from(new Float32Array(vectors[7])));
  });

  it("create() refuses a directory that already holds a shard", async () => {
    (await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } })).close();
    await assert.rejects(
      EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } }),
      (e: unknown) => e instanceof OperationError && e.status === "EXISTS" && e.message.includes(dir.path),
    );
  });

  it("create() makes a missing directory", async () => {
    using shard = await EdgeShard.create(join(dir.path, "a", "b"), { vectors: { size: 2, distance: "Dot" } });
    assert.equal(shard.count(), 0);
  });

  it("load() refuses a directory without a shard, naming it", async () => {
    await assert.rejects(
      EdgeShard.load(dir.path),
      (e: unknown) => e instanceof OperationError && e.status === "NOT_FOUND" && e.message.includes(dir.path),
    );
  });

  it("load() with a config whose vectors differ is an invalid argument", async () => {
    (await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } })).close();
    await assert.rejects(
      EdgeShard.load(dir.path, { vectors: { size: 3, distance: "Dot" } }),
      InvalidArgumentError,
    );
    using shard = await EdgeShard.load(dir.path, { vectors: { size: 2, distance: "Dot" } });
    assert.equal(shard.count(), 0);
  });

  it("create() rejects a malformed config with a message naming the field", async () => {
    const bad: [unknown, RegExp][] = [
      [
        { vectors: { size: 0, distance: "Dot" } },
        /config\.vectors\[""\]\.size: expected an integer from 1 to 65536, got 0/,
      ],
      [
        { vectors: { size: 4, distance: "Cos" } },
        /distance: expected one of Cosine, Dot, Euclid, Manhattan, got "Cos"/,
      ],
      [
        { vectors: { a: { size: 4, distance: "Dot", datatype: "int4" } } },
        /config\.vectors\["a"\]\.datatype/,
      ],
      [{ vectors: {} }, /expected at least one vector/],
      [null, /config: expected an object, got null/],
    ];
    for (const [config, message] of bad) {
      // deno-lint-ignore no-explicit-any
      await assert.rejects(EdgeShard.create(dir.path, config as any), (e: unknown) => {
        return e instanceof InvalidArgumentError && message.test(e.message);
      });
    }
    assert.equal(existsSync(join(dir.path, "edge_config.json")), false);
  });

  it("every method throws ShardClosedError after close(), and close() is idempotent", async () => {
    const shard = await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } });
    shard.close();
    shard.close();
    assert.equal(shard.closed, true);
    const calls: (() => unknown)[] = [
      () => shard.update({ upsert_points: [] }),
      () => shard.query({ query: [1, 2] }),
      () => shard.retrieve([1]),
      () => shard.count(),
      () => shard.info(),
      () => shard.config(),
      () => shard.flush(),
    ];
    for (const call of calls) assert.throws(call, ShardClosedError);
  });

  it("using closes the shard at the end of the block", async () => {
    let escaped: EdgeShard;
    {
      using shard = await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } });
      escaped = shard;
    }
    assert.equal(escaped.closed, true);
  });
});

describe("EdgeShard.query() exact search", () => {
  for (const distance of DISTANCES) {
    it(`returns the exact top-k with ${distance} scores as Qdrant defines them`, async () => {
      const random = rng(7);
      const data = randomVectors(random, 500, 16);
      using shard = await EdgeShard.create(dir.path, { vectors: { size: 16, distance } });
      shard.update({ upsert_points: data.map((v, i) => ({ id: i, vector: v })) });
      const query = randomVectors(random, 1, 16)[0];
      const higherIsBetter = distance === "Cosine" || distance === "Dot";
      const expected = data
        .map((v, id) => ({ id, score: reference(distance, query, v) }))
        .sort((a, b) => (higherIsBetter ? b.score - a.score : a.score - b.score))
        .slice(0, 10);
      const hits = shard.query({ query, limit: 10 });
      assert.deepEqual(hits.map((h) => h.id), expected.map((e) => e.id));
      hits.forEach((h, i) =>
        assert.ok(Math.abs(h.score - expected[i].score) <= 1e-4 * Math.max(1, Math.abs(expected[i].score)))
      );
      assert.ok(hits.every((h) => h.version === 0 && h.payload === undefined && h.vector === undefined));
    });
  }

  it("score_threshold keeps only strictly better scores, then offset skips", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 1, distance: "Euclid" } });
    shard.update({ upsert_points: [0, 1, 2, 3, 4].map((x) => ({ id: x, vector: [x] })) });
    assert.deepEqual(shard.query({ query: [0], score_threshold: 2 }).map((h) => h.id), [0, 1]);
    assert.deepEqual(shard.query({ query: [0], score_threshold: 3, offset: 1 }).map((h) => h.id), [1, 2]);
    assert.deepEqual(shard.query({ query: [0], limit: 2, offset: 3 }).map((h) => h.score), [3, 4]);
    assert.deepEqual(shard.query({ query: [0], limit: 0 }), []);
  });

  it("a threshold on Dot keeps scores strictly above it", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 1, distance: "Dot" } });
    shard.update({ upsert_points: [1, 2, 3].map((x) => ({ id: x, vector: [x] })) });
    assert.deepEqual(shard.query({ query: { nearest: [1] }, score_threshold: 2 }).map((h) => h.id), [3]);
  });

  it("Cosine normalises vectors at insert", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Cosine" } });
    shard.update({ upsert_points: [{ id: 1, vector: [3, 4] }] });
    const [hit] = shard.query({ query: [6, 8], with_vector: true });
    assert.ok(Math.abs(hit.score - 1) < 1e-6);
    assert.deepEqual(hit.vector, [new Float32Array([0.6])[0], new Float32Array([0.8])[0]]);
  });

  it("returns [] for an empty shard", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 3, distance: "Cosine" } });
    assert.deepEqual(shard.query({ query: [1, 2, 3] }), []);
  });

  it("an upsert of an existing id replaces its vector, payload and version", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } });
    shard.update({
      upsert_points: [{ id: 1, vector: [1, 0], payload: { v: 1 } }, { id: 2, vector: [0, 1] }],
    });
    shard.update({ upsert_points: [{ id: 1, vector: [0, 2], payload: { v: 2 } }] });
    assert.equal(shard.count(), 2);
    const hits = shard.query({ query: [0, 1], with_payload: true });
    assert.deepEqual(hits, [
      { id: 1, version: 1, score: 2, payload: { v: 2 } },
      { id: 2, version: 0, score: 1, payload: {} },
    ]);
  });

  it("with the same id twice in one batch, the later point wins", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 1, distance: "Dot" } });
    shard.update({
      upsert_points: [{ id: 9, vector: [1], payload: { n: 1 } }, { id: 9, vector: [2], payload: { n: 2 } }],
    });
    assert.equal(shard.count(), 1);
    assert.deepEqual(shard.query({ query: [1], with_payload: true }), [{
      id: 9,
      version: 0,
      score: 2,
      payload: { n: 2 },
    }]);
  });
});

describe("named vectors, payload and vector selection", () => {
  const config = {
    vectors: { image: { size: 2, distance: "Dot" as const }, text: { size: 3, distance: "Euclid" as const } },
  };

  it("searches the vector named by `using`, and skips points without it", async () => {
    using shard = await EdgeShard.create(dir.path, config);
    shard.update({
      upsert_points: [
        { id: 1, vector: { image: [1, 0], text: [0, 0, 0] } },
        { id: 2, vector: { image: [2, 0] } },
        { id: 3, vector: { text: [1, 1, 1] } },
      ],
    });
    assert.deepEqual(shard.query({ query: [1, 0], using: "image" }).map((h) => h.id), [2, 1]);
    assert.deepEqual(shard.query({ query: [0, 0, 0], using: "text" }).map((h) => h.id), [1, 3]);
    assert.deepEqual(shard.retrieve([2], { with_vector: true }), [{
      id: 2,
      payload: {},
      vector: { image: [2, 0] },
    }]);
    assert.deepEqual(shard.retrieve([1], { with_payload: false, with_vector: ["text"] }), [{
      id: 1,
      vector: { text: [0, 0, 0] },
    }]);
  });

  it("with_payload takes a key list, include and exclude", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 1, distance: "Dot" } });
    shard.update({ upsert_points: [{ id: 1, vector: [1], payload: { a: 1, b: { c: 2 }, d: [3] } }] });
    assert.deepEqual(shard.retrieve([1], { with_payload: ["a", "d"] })[0].payload, { a: 1, d: [3] });
    assert.deepEqual(shard.retrieve([1], { with_payload: { include: ["b"] } })[0].payload, { b: { c: 2 } });
    assert.deepEqual(shard.retrieve([1], { with_payload: { exclude: ["a"] } })[0].payload, {
      b: { c: 2 },
      d: [3],
    });
    assert.deepEqual(shard.retrieve([1], { with_payload: false }), [{ id: 1 }]);
  });

  it("retrieve() follows the order asked and skips missing ids", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 1, distance: "Dot" } });
    shard.update({ upsert_points: [1, 2, 3].map((id) => ({ id, vector: [id] })) });
    assert.deepEqual(shard.retrieve([3, 99, 1]).map((r) => r.id), [3, 1]);
  });
});

describe("point ids", () => {
  it("accepts UUIDs in any form and returns them lowercase and hyphenated", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 1, distance: "Dot" } });
    const canonical = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26";
    shard.update({ upsert_points: [{ id: "5C56C79369F34FBF87E6C4BF54C28C26", vector: [1] }] });
    assert.deepEqual(shard.retrieve([`urn:uuid:${canonical}`, `{${canonical.toUpperCase()}}`]), [
      { id: canonical, payload: {} },
      { id: canonical, payload: {} },
    ]);
  });

  it("keeps integer ids above 2^53 exact as bigints, up to 2^64-1", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 1, distance: "Dot" } });
    const max = (1n << 64n) - 1n;
    shard.update({ upsert_points: [{ id: max, vector: [1] }, { id: 2n, vector: [2] }] });
    shard.close();
    using again = await EdgeShard.load(dir.path);
    assert.deepEqual(again.query({ query: [1] }).map((h) => h.id), [2, max]);
  });
});

describe("bad input is rejected whole, with a message naming what was wrong", () => {
  const cases: [string, PointStruct | Record<string, unknown>, RegExp][] = [
    [
      "a wrong dimension",
      { id: 42, vector: [1, 2, 3] },
      /point 42: vector "" has 3 dimensions, the shard expects 4/,
    ],
    [
      "NaN",
      { id: 42, vector: [1, NaN, 3, 4] },
      /point 42: vector "" has NaN at index 1; expected a finite number/,
    ],
    ["Infinity", { id: 42, vector: [1, 2, 3, -Infinity] }, /point 42: vector "" has -Infinity at index 3/],
    [
      "a value beyond the f32 range",
      { id: 42, vector: [1, 1e39, 3, 4] },
      /point 42: vector "" has 1e\+39 at index 1; expected a finite number within the 32-bit float range/,
    ],
    [
      "an unknown vector name",
      { id: 42, vector: { image: [1, 2, 3, 4] } },
      /point 42: vector "image" does not exist; the shard has ""/,
    ],
    [
      "a negative id",
      { id: -1, vector: [1, 2, 3, 4] },
      /points\[1\]: point id must be an unsigned integer or a UUID, got -1/,
    ],
    ["a fractional id", { id: 1.5, vector: [1, 2, 3, 4] }, /got 1\.5/],
    [
      "an id above 2^64-1",
      { id: 1n << 64n, vector: [1, 2, 3, 4] },
      /between 0 and 2\^64-1, got 18446744073709551616/,
    ],
    ["an unsafe integer id", { id: 2 ** 60, vector: [1, 2, 3, 4] }, /above 2\^53-1 .* pass it as a bigint/],
    ["an id that is not a UUID", { id: "not-a-uuid", vector: [1, 2, 3, 4] }, /got "not-a-uuid"/],
    [
      "a payload that is not an object",
      { id: 42, vector: [1, 2, 3, 4], payload: [1] },
      /point 42: payload must be a JSON object, got an array of 1/,
    ],
    [
      "a payload with NaN",
      { id: 42, vector: [1, 2, 3, 4], payload: { a: { b: NaN } } },
      /point 42: payload\.a\.b is NaN/,
    ],
    [
      "a payload with a Date",
      { id: 42, vector: [1, 2, 3, 4], payload: { when: new Date(0) } },
      /payload\.when is a Date/,
    ],
    ["a missing vector", { id: 42 }, /point 42: expected a vector, got nothing/],
  ];
  for (const [what, point, message] of cases) {
    it(`${what} gives an InvalidArgumentError and writes nothing`, async () => {
      using shard = await EdgeShard.create(dir.path, { vectors: { size: 4, distance: "Cosine" } });
      shard.update({ upsert_points: [{ id: 1, vector: [1, 0, 0, 0], payload: { keep: true } }] });
      const good = { id: 7, vector: [0, 1, 0, 0] };
      assert.throws(
        // deno-lint-ignore no-explicit-any
        () => shard.update({ upsert_points: [good, point as any] }),
        (e: unknown) =>
          e instanceof InvalidArgumentError && e instanceof TypeError && message.test(e.message),
      );
      assert.equal(shard.count(), 1);
      assert.deepEqual(shard.retrieve([1, 7]), [{ id: 1, payload: { keep: true } }]);
      assert.equal(shard.query({ query: [1, 0, 0, 0] })[0].version, 0);
    });
  }

  it("an unknown operation or an empty one is an invalid argument", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 1, distance: "Dot" } });
    // deno-lint-ignore no-explicit-any
    const update = (op: unknown) => shard.update(op as any);
    assert.throws(
      () => update({ upsert: [] }),
      /expected exactly one of upsert_points, delete_points, .*, got "upsert"/,
    );
    assert.throws(() => update({}), /got none/);
    assert.throws(
      () => update({ upsert_points: 5 }),
      /upsert_points: expected a list of points or \{ points \}, got 5/,
    );
  });

  it("a query with a wrong dimension, NaN, unknown vector or bad limit is an invalid argument", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } });
    assert.throws(() => shard.query({ query: [1] }), /query vector "" has 1 dimensions, the shard expects 2/);
    assert.throws(() => shard.query({ query: [1, NaN] }), /NaN at index 1/);
    assert.throws(() => shard.query({ query: [1, 2], using: "x" }), /vector "x" does not exist/);
    assert.throws(
      () => shard.query({ query: [1, 2], limit: -1 }),
      /query\.limit: expected a non-negative integer, got -1/,
    );
    assert.throws(
      () => shard.query({ query: [1, 2], score_threshold: NaN }),
      /score_threshold: expected a finite number/,
    );
    assert.throws(
      () => shard.retrieve([1], { with_vector: ["nope"] }),
      /with_vector: vector "nope" does not exist/,
    );
  });
});

describe("datatypes", () => {
  it("float16 stores vectors at half precision and searches them", async () => {
    using shard = await EdgeShard.create(dir.path, {
      vectors: { size: 3, distance: "Dot", datatype: "float16" },
    });
    shard.update({ upsert_points: [{ id: 1, vector: [0.1, 0.2, 0.3] }, { id: 2, vector: [1, 1, 1] }] });
    const hits = shard.query({ query: [1, 1, 1], with_vector: true });
    assert.deepEqual(hits.map((h) => h.id), [2, 1]);
    assert.deepEqual(hits[0].vector, [1, 1, 1]);
    assert.ok(Math.abs((hits[1].vector as number[])[0] - 0.1) < 1e-3);
  });

  it("uint8 truncates toward zero and saturates, as Qdrant's `as u8`", async () => {
    using shard = await EdgeShard.create(dir.path, {
      vectors: { size: 3, distance: "Euclid", datatype: "uint8" },
    });
    shard.update({ upsert_points: [{ id: 1, vector: [3.7, 300, -5] }] });
    assert.deepEqual(shard.retrieve([1], { with_vector: true })[0].vector, [3, 255, 0]);
  });

  it("uint8 Cosine computes the full cosine of unnormalised vectors", async () => {
    using shard = await EdgeShard.create(dir.path, {
      vectors: { size: 2, distance: "Cosine", datatype: "uint8" },
    });
    shard.update({ upsert_points: [{ id: 1, vector: [3, 4] }, { id: 2, vector: [4, 3] }] });
    const hits = shard.query({ query: [6, 8] });
    assert.deepEqual(hits.map((h) => h.id), [1, 2]);
    assert.ok(Math.abs(hits[0].score - 1) < 1e-6);
    assert.ok(Math.abs(hits[1].score - 0.96) < 1e-6);
  });
});

describe("read-only opening", () => {
  it("a read-only shard sees the state as of opening, and refresh() shows later writes", async () => {
    using writer = await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } });
    writer.update({ upsert_points: [{ id: 1, vector: [1, 0], payload: { v: 1 } }] });
    using reader = await EdgeShard.load(dir.path, { readOnly: true });
    writer.update({ upsert_points: [{ id: 2, vector: [0, 1] }] });
    writer.update({ set_payload: { points: [1], payload: { v: 2 } } });
    assert.equal(reader.count(), 1);
    assert.deepEqual(reader.retrieve([1]), [{ id: 1, payload: { v: 1 } }]);
    reader.refresh();
    assert.equal(reader.count(), 2);
    assert.deepEqual(reader.retrieve([1]), [{ id: 1, payload: { v: 2 } }]);
    assert.deepEqual(reader.query({ query: [0, 1], limit: 1 }).map((h) => h.id), [2]);
  });

  it("a read-only shard refuses writes, and a writable one refuses refresh()", async () => {
    (await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } })).close();
    using reader = await EdgeShard.load(dir.path, { readOnly: true });
    assert.throws(() => reader.update({ upsert_points: [{ id: 1, vector: [1, 0] }] }), (e: unknown) => {
      return e instanceof OperationError && /loaded read-only/.test(e.message);
    });
    reader.flush();
    using writer = await EdgeShard.load(dir.path);
    assert.throws(() => writer.refresh(), /only a shard loaded read-only needs it/);
  });
});

describe("one writer per directory", () => {
  it("a second writer is refused with an error naming the directory and the holder; readers are not", async () => {
    using writer = await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } });
    for (
      const open of [
        () => EdgeShard.load(dir.path),
        () => EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } }),
      ]
    ) {
      await assert.rejects(open(), (e: unknown) => {
        return e instanceof OperationError && e.status === "LOCKED" && e.message.includes(dir.path) &&
          e.message.includes(`process ${process.pid}`);
      });
    }
    using reader = await EdgeShard.load(dir.path, { readOnly: true });
    assert.equal(reader.count(), 0);
    writer.close();
    using next = await EdgeShard.load(dir.path);
    assert.equal(next.count(), 0);
  });
});

describe("info()", () => {
  it("reports segments and points", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 1, distance: "Dot" } });
    shard.update({ upsert_points: [{ id: 1, vector: [1] }, { id: 2, vector: [1] }] });
    const info = shard.info();
    assert.deepEqual({ ...info, disk_size_bytes: 0 }, {
      segments_count: 1,
      points_count: 2,
      indexed_vectors_count: 0,
      payload_schema: {},
      disk_size_bytes: 0,
    });
    // Two records of 4 bytes, headers, logs and config: a few KB, counted from the files themselves.
    assert.ok(info.disk_size_bytes > 4096 && info.disk_size_bytes < 100_000, `${info.disk_size_bytes} bytes`);
  });

  it("an empty shard takes less than 100 KB on disk", async () => {
    using shard = await EdgeShard.create(dir.path, { vectors: { size: 384, distance: "Cosine" } });
    assert.ok(shard.info().disk_size_bytes < 100_000, `${shard.info().disk_size_bytes} bytes`);
  });
});
