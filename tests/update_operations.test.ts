import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { EdgeShard, InvalidArgumentError, type PointStruct, type UpdateOperation } from "../mod.ts";
import { rng, tempDir } from "./_helpers.ts";

const PYTHON = fileURLToPath(new URL("../.venv/bin/python", import.meta.url));
const ORACLE = fileURLToPath(new URL("./oracle/qdrant_oracle.py", import.meta.url));

let dir: { path: string; cleanup: () => void };
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

const named = {
  vectors: { a: { size: 3, distance: "Dot" as const }, b: { size: 2, distance: "Euclid" as const } },
};

async function shardWith(points: PointStruct[]): Promise<EdgeShard> {
  const shard = await EdgeShard.create(dir.path, named);
  shard.update({ upsert_points: points });
  return shard;
}

describe("update operations by id", () => {
  it("delete_points removes points, skips missing ids, and the deletion survives reopening", async () => {
    const shard = await shardWith([1, 2, 3].map((id) => ({ id, vector: { a: [id, 0, 0] } })));
    shard.update({ delete_points: [2, 99] });
    shard.update({ delete_points: { points: [3] } });
    assert.deepEqual(shard.retrieve([1, 2, 3]).map((r) => r.id), [1]);
    assert.deepEqual(shard.query({ query: [1, 0, 0], using: "a" }).map((h) => h.id), [1]);
    shard.close();
    using again = await EdgeShard.load(dir.path);
    assert.equal(again.count(), 1);
  });

  it("set_payload merges, into the object at `key` when given, creating or replacing what is in the way", async () => {
    using shard = await shardWith([
      { id: 1, vector: { a: [1, 0, 0] }, payload: { a: { b: { x: 0 } }, k: 1 } },
      { id: 2, vector: { a: [1, 0, 0] }, payload: { a: 5 } },
    ]);
    shard.update({ set_payload: { points: [1, 2], payload: { c: 1 }, key: "a.b" } });
    shard.update({ set_payload: { points: [1], payload: { k: 2, m: [1] } } });
    assert.deepEqual(shard.retrieve([1, 2]).map((r) => r.payload), [
      { a: { b: { x: 0, c: 1 } }, k: 2, m: [1] },
      { a: { b: { c: 1 } } },
    ]);
    // A null removes the key (top level only), as Qdrant does; overwrite keeps nulls.
    shard.update({ set_payload: { points: [1], payload: { k: null, n: null, m: [null] } } });
    shard.update({ set_payload: { points: [2], payload: { c: null }, key: "a.b" } });
    assert.deepEqual(shard.retrieve([1, 2]).map((r) => r.payload), [{ a: { b: { x: 0, c: 1 } }, m: [null] }, {
      a: { b: {} },
    }]);
    shard.update({ overwrite_payload: { points: [2], payload: { z: null } } });
    assert.deepEqual(shard.retrieve([2])[0].payload, { z: null });
  });

  it("overwrite_payload replaces, clear_payload empties, delete_payload removes JSON paths", async () => {
    using shard = await shardWith([
      { id: 1, vector: { a: [1, 0, 0] }, payload: { a: { b: 1, c: 2 }, k: 1 } },
      { id: 2, vector: { a: [1, 0, 0] }, payload: { a: [{ b: 1, c: 1 }, { b: 2 }] } },
      { id: 3, vector: { a: [1, 0, 0] }, payload: { z: 1 } },
    ]);
    shard.update({ delete_payload: { points: [1, 2], keys: ["a.b", "k", "a[].b"] } });
    shard.update({ overwrite_payload: { points: [3], payload: { y: 2 } } });
    assert.deepEqual(shard.retrieve([1, 2, 3]).map((r) => r.payload), [
      { a: { c: 2 } },
      { a: [{ c: 1 }, {}] },
      { y: 2 },
    ]);
    shard.update({ clear_payload: [1, 3] });
    assert.deepEqual(shard.retrieve([1, 3]).map((r) => r.payload), [{}, {}]);
  });

  it("update_vectors replaces only the vectors given; delete_vectors removes named vectors", async () => {
    using shard = await shardWith([{ id: 1, vector: { a: [1, 0, 0], b: [1, 1] }, payload: { keep: true } }]);
    shard.update({ update_vectors: { points: [{ id: 1, vector: { a: [0, 2, 0] } }] } });
    assert.deepEqual(shard.retrieve([1], { with_vector: true }), [{
      id: 1,
      payload: { keep: true },
      vector: { a: [0, 2, 0], b: [1, 1] },
    }]);
    shard.update({ delete_vectors: { points: [1], vector: ["b"] } });
    assert.deepEqual(shard.retrieve([1], { with_vector: true })[0].vector, { a: [0, 2, 0] });
    assert.deepEqual(shard.query({ query: [0, 0], using: "b" }), []);
  });

  it("each update's vectors stay as written when later updates of other sizes reuse the buffers", async () => {
    using shard = await shardWith([]);
    const a = (id: number) => [id, -id, 0.5];
    const b = (id: number) => [id / 2, 3];
    shard.update({ upsert_points: [1, 2, 3].map((id) => ({ id, vector: { a: a(id), b: b(id) } })) });
    shard.update({ upsert_points: [4, 5].map((id) => ({ id, vector: { a: a(id) } })) });
    shard.update({ update_vectors: { points: [{ id: 1, vector: { b: b(10) } }] } });
    shard.update({
      upsert_points: Array.from({ length: 9 }, (_, i) => ({ id: 6 + i, vector: { b: b(6 + i) } })),
    });
    const expected = (id: number) => ({
      id,
      vector: {
        ...(id <= 5 ? { a: a(id) } : {}),
        ...(id <= 3 || id >= 6 ? { b: b(id === 1 ? 10 : id) } : {}),
      },
    });
    const ids = Array.from({ length: 14 }, (_, i) => i + 1);
    assert.deepEqual(shard.retrieve(ids, { with_payload: false, with_vector: true }), ids.map(expected));
    shard.close();
    using again = await EdgeShard.load(dir.path);
    assert.deepEqual(again.retrieve(ids, { with_payload: false, with_vector: true }), ids.map(expected));
  });

  it("a batch of payloads mixing ASCII and other text reads back whole, before and after reopening", async () => {
    const payloads = [{ city: "Berlin" }, { city: "Zürich", note: "naïve 漢字 😀" }, {}, { n: 1 }, {
      s: "\u{1F600}x",
    }];
    using shard = await shardWith(
      payloads.map((payload, i) => ({ id: i, vector: { a: [i, 0, 0] }, payload })),
    );
    const read = (s: EdgeShard) => s.retrieve(payloads.map((_, i) => i)).map((r) => r.payload);
    assert.deepEqual(read(shard), payloads);
    shard.close();
    using again = await EdgeShard.load(dir.path);
    assert.deepEqual(read(again), payloads);
  });

  it("payload and vector operations on a missing id fail, as in Qdrant, and write nothing", async () => {
    using shard = await shardWith([{ id: 1, vector: { a: [1, 0, 0] }, payload: { k: 1 } }]);
    const ops: UpdateOperation[] = [
      { set_payload: { points: [1, 999], payload: { c: 1 } } },
      { overwrite_payload: { points: [1, 999], payload: { c: 1 } } },
      { delete_payload: { points: [1, 999], keys: ["k"] } },
      { clear_payload: [1, 999] },
      {
        update_vectors: {
          points: [{ id: 1, vector: { a: [0, 0, 1] } }, { id: 999, vector: { a: [0, 0, 1] } }],
        },
      },
      { delete_vectors: { points: [1, 999], vector: ["a"] } },
    ];
    for (const op of ops) assert.throws(() => shard.update(op), /No point with id 999/);
    assert.deepEqual(shard.retrieve([1], { with_vector: true }), [{
      id: 1,
      payload: { k: 1 },
      vector: { a: [1, 0, 0] },
    }]);
  });

  it("update_mode insert_only skips existing ids and update_only skips missing ones", async () => {
    using shard = await shardWith([{ id: 1, vector: { a: [1, 0, 0] }, payload: { v: "old" } }]);
    shard.update({
      upsert_points: {
        update_mode: "insert_only",
        points: [{ id: 1, vector: { a: [9, 9, 9] }, payload: { v: "new" } }, {
          id: 2,
          vector: { a: [2, 0, 0] },
        }],
      },
    });
    shard.update({
      upsert_points: {
        update_mode: "update_only",
        points: [{ id: 1, vector: { a: [3, 0, 0] }, payload: { v: "upd" } }, {
          id: 3,
          vector: { a: [3, 0, 0] },
        }],
      },
    });
    assert.deepEqual(shard.retrieve([1, 2, 3]).map((r) => [r.id, r.payload]), [[1, { v: "upd" }], [2, {}]]);
    // Existence is judged before the operation: a new id twice in one insert_only batch takes the later.
    shard.update({
      upsert_points: {
        update_mode: "insert_only",
        points: [{ id: 5, vector: { a: [1, 0, 0] }, payload: { v: 1 } }, {
          id: 5,
          vector: { a: [1, 0, 0] },
          payload: { v: 2 },
        }],
      },
    });
    assert.deepEqual(shard.retrieve([5])[0].payload, { v: 2 });
  });

  it("create_vector_name adds a searchable vector and persists it; delete_vector_name removes it", async () => {
    const shard = await shardWith([{ id: 1, vector: { a: [1, 0, 0] } }]);
    shard.update({ create_vector_name: { vector_name: "c", size: 2, distance: "Manhattan" } });
    shard.update({ update_vectors: { points: [{ id: 1, vector: { c: [1, 1] } }] } });
    assert.deepEqual(shard.query({ query: [0, 0], using: "c" }).map((h) => h.score), [2]);
    shard.close();
    const again = await EdgeShard.load(dir.path);
    assert.equal(again.config().vectors.c.distance, "Manhattan");
    assert.deepEqual(again.retrieve([1], { with_vector: ["c"] })[0].vector, { c: [1, 1] });
    again.update({ delete_vector_name: { vector_name: "c" } });
    assert.throws(() => again.query({ query: [0, 0], using: "c" }), /vector "c" does not exist/);
    again.close();
    using third = await EdgeShard.load(dir.path);
    assert.deepEqual(Object.keys(third.config().vectors).sort(), ["a", "b"]);
    assert.deepEqual(third.retrieve([1], { with_vector: true })[0].vector, { a: [1, 0, 0] });
  });

  it("recreating a vector with other parameters, or deleting an unknown one, is an invalid argument", async () => {
    using shard = await shardWith([]);
    assert.throws(
      () => shard.update({ create_vector_name: { vector_name: "a", size: 4, distance: "Dot" } }),
      /vector "a" already exists with different parameters \(3 Dot float32; asked for 4 Dot float32\)/,
    );
    shard.update({ create_vector_name: { vector_name: "a", size: 3, distance: "Dot" } });
    assert.throws(() => shard.update({ delete_vector_name: { vector_name: "zz" } }), InvalidArgumentError);
  });

  it("malformed operations name what was wrong and change nothing", async () => {
    using shard = await shardWith([{ id: 1, vector: { a: [1, 0, 0] }, payload: { k: 1 } }]);
    const bad: [unknown, RegExp][] = [
      [{ set_payload: { points: [1], payload: [1] } }, /payload must be a JSON object, got an array of 1/],
      [
        { set_payload: { points: [1], payload: {}, key: "a[].b" } },
        /set_payload\.key: expected a path of object keys/,
      ],
      [
        { delete_payload: { points: [1], keys: "k" } },
        /delete_payload\.keys: expected a list of JSON paths, got "k"/,
      ],
      [
        { delete_points: { points: [-4] } },
        /delete_points\.points: ids\[0\]: point id must be an unsigned integer/,
      ],
      [
        { update_vectors: { points: [{ id: 1, vector: { a: [1, 2] } }] } },
        /point 1: vector "a" has 2 dimensions, the shard expects 3/,
      ],
      [{ delete_vectors: { points: [1], vector: ["q"] } }, /vector "q" does not exist/],
      [
        { upsert_points: { points: [], update_mode: "merge" } },
        /update_mode: expected one of upsert, insert_only, update_only, got "merge"/,
      ],
    ];
    for (const [op, message] of bad) assert.throws(() => shard.update(op as UpdateOperation), message);
    assert.deepEqual(shard.retrieve([1], { with_vector: true }), [{
      id: 1,
      payload: { k: 1 },
      vector: { a: [1, 0, 0] },
    }]);
  });
});

describe("differential: update operations against real Qdrant Edge", () => {
  it("gives the same points, payloads, vectors and versions after the same operations", async () => {
    const random = rng(5);
    const vector = () => ({
      a: [0, 1, 2].map(() => Math.round(random() * 64) / 64),
      b: [0, 1].map(() => Math.round(random() * 64) / 64),
    });
    const points: PointStruct[] = Array.from({ length: 300 }, (_, id) => ({
      id,
      vector: vector(),
      payload: {
        n: id,
        a: { b: { x: id % 4 } },
        list: [{ b: 1, c: 2 }, { b: 3 }],
        tag: id % 2 ? "odd" : "even",
      },
    }));
    const ops = [
      { set_payload: { points: [1, 2, 3], payload: { c: 1 }, key: "a.b" } },
      { set_payload: { points: [20, 21], payload: { fresh: [1, 2], tag: null } } },
      { overwrite_payload: { points: [4, 5], payload: { z: 1 } } },
      { delete_payload: { points: [6, 7, 8], keys: ["n", "a.b.x", "list[].b"] } },
      { clear_payload: { points: [9, 10] } },
      { update_vectors: { points: [{ id: 11, vector: { a: [0.5, 0.5, 0.5] } }] } },
      { delete_vectors: { points: [12, 13], vector: ["b"] } },
      { delete_points: { points: [14, 15, 1000] } },
      {
        upsert_points: {
          update_mode: "insert_only",
          points: [{ id: 16, vector: vector(), payload: { x: 1 } }, { id: 5000, vector: vector() }],
        },
      },
      {
        upsert_points: {
          update_mode: "update_only",
          points: [{ id: 17, vector: vector(), payload: { y: 1 } }, { id: 6000, vector: vector() }],
        },
      },
      { delete_points: { points: [400] } },
    ];
    const ids = [...points.map((p) => p.id as number), 5000, 6000];
    const config = { vectors: named.vectors };
    const expected = oracle({
      config,
      points,
      ops,
      queries: [{ query: [1, 1, 1], using: "a", limit: 400, with_payload: false }],
      retrieve: { ids, with_payload: true, with_vector: true },
    });

    using shard = await EdgeShard.create(dir.path, config);
    for (let at = 0; at < points.length; at += 256) {
      shard.update({ upsert_points: points.slice(at, at + 256) });
    }
    for (const op of ops) shard.update(op as UpdateOperation);

    const ours = shard.retrieve(ids, { with_payload: true, with_vector: true });
    assert.deepEqual(ours, expected.retrieve);
    const versions = (hits: { id: unknown; version: number }[]) =>
      hits.map((h) => [h.id, h.version]).sort((x, y) => Number(x[0]) - Number(y[0]));
    assert.deepEqual(
      versions(shard.query({ query: [1, 1, 1], using: "a", limit: 400 })),
      versions(expected.results[0]),
    );
  });
});

function oracle(request: unknown) {
  const run = spawnSync(PYTHON, [ORACLE], {
    input: JSON.stringify(request),
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  assert.equal(run.status, 0, `oracle failed: ${run.stdout} ${run.stderr}`);
  return JSON.parse(run.stdout);
}
