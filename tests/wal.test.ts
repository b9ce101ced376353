import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  cpSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { EdgeShard, OperationError } from "../mod.ts";
import { tempDir } from "./_helpers.ts";

let dir: { path: string; cleanup: () => void };
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

const config = { vectors: { size: 2, distance: "Dot" as const } };
const segmentDir = (path: string) => join(path, "segments", readdirSync(join(path, "segments"))[0]);
const walFiles = (path: string) => readdirSync(join(path, "wal")).sort();

describe("write-ahead log", () => {
  it("replays an update the segments lost, with its op number as version", async () => {
    const live = join(dir.path, "live");
    const shard = await EdgeShard.create(live, config);
    shard.update({ upsert_points: [{ id: 1, vector: [1, 0], payload: { a: 1 } }] });
    shard.flush();
    const trackerBytes = statSync(join(segmentDir(live), "id_tracker.log")).size;
    shard.update({ upsert_points: [{ id: 2, vector: [0, 1], payload: { b: 2 } }] });
    shard.update({ set_payload: { points: [1], payload: { c: 3 } } });
    // A copy of the directory as a killed process leaves it, minus the segments' commit records after the
    // flush: only the WAL still knows about ops 1 and 2.
    const copy = join(dir.path, "copy");
    cpSync(live, copy, { recursive: true });
    shard.close();
    truncateSync(join(segmentDir(copy), "id_tracker.log"), trackerBytes);
    using again = await EdgeShard.load(copy);
    assert.deepEqual(again.retrieve([1, 2]), [{ id: 1, payload: { a: 1, c: 3 } }, {
      id: 2,
      payload: { b: 2 },
    }]);
    assert.deepEqual(again.query({ query: [1, 1] }).map((h) => [h.id, h.version]).sort(), [[1, 2], [2, 1]]);
    again.update({ delete_points: [2] });
    assert.equal(again.query({ query: [1, 1] }).length, 1);
  });

  it("replaying records the segments already hold changes nothing (replay is idempotent)", async () => {
    const live = join(dir.path, "live");
    const shard = await EdgeShard.create(live, config);
    shard.update({ upsert_points: [{ id: 1, vector: [1, 0] }] });
    shard.update({ delete_vectors: { points: [1], vector: [""] } });
    shard.update({ upsert_points: [{ id: 2, vector: [0, 1] }] });
    const copy = join(dir.path, "copy");
    cpSync(live, copy, { recursive: true });
    shard.close();
    for (let round = 0; round < 2; round++) {
      using again = await EdgeShard.load(copy);
      assert.deepEqual(again.retrieve([1, 2], { with_vector: true }), [{ id: 1, payload: {}, vector: {} }, {
        id: 2,
        payload: {},
        vector: [0, 1],
      }]);
    }
  });

  it("flush() empties the log; nothing is preallocated", async () => {
    const shard = await EdgeShard.create(dir.path, config);
    assert.equal(statSync(join(dir.path, "wal", walFiles(dir.path)[0])).size, 16);
    shard.update({ upsert_points: [{ id: 1, vector: [1, 0] }] });
    shard.update({ upsert_points: [{ id: 2, vector: [1, 0] }] });
    assert.ok(statSync(join(dir.path, "wal", walFiles(dir.path)[0])).size > 16);
    shard.flush();
    assert.deepEqual(walFiles(dir.path), ["00000000000000000002.wal"]);
    assert.equal(statSync(join(dir.path, "wal", "00000000000000000002.wal")).size, 16);
    shard.update({ upsert_points: [{ id: 3, vector: [1, 0] }] });
    shard.close();
    using again = await EdgeShard.load(dir.path);
    assert.equal(again.count(), 3);
    again.update({ upsert_points: [{ id: 4, vector: [1, 0] }] });
    assert.equal(again.query({ query: [1, 0], limit: 1, offset: 3 })[0].version, 3);
  });

  it("a torn record at the end of the log is cut; a damaged record before the end is an error naming the file", async () => {
    const live = join(dir.path, "live");
    const shard = await EdgeShard.create(live, config);
    shard.update({ upsert_points: [{ id: 1, vector: [1, 0] }] });
    shard.update({ upsert_points: [{ id: 2, vector: [1, 0] }] });
    const torn = join(dir.path, "torn");
    cpSync(live, torn, { recursive: true });
    const damaged = join(dir.path, "damaged");
    cpSync(live, damaged, { recursive: true });
    shard.close();

    const tornWal = join(torn, "wal", walFiles(torn)[0]);
    appendFileSync(tornWal, new Uint8Array([200, 0, 0, 0, 1, 2, 3]));
    using fromTorn = await EdgeShard.load(torn);
    assert.equal(fromTorn.count(), 2);

    // Flip a byte of the first record's body and drop the segments' view, so the WAL must be read.
    const damagedWal = join(damaged, "wal", walFiles(damaged)[0]);
    const bytes = readFileSync(damagedWal);
    bytes[16 + 8 + 2] ^= 0xff;
    writeFileSync(damagedWal, bytes);
    await assert.rejects(
      EdgeShard.load(damaged),
      (e: unknown) =>
        e instanceof OperationError && e.status === "CORRUPT" && e.message.includes(damagedWal) &&
        e.message.includes("byte 16"),
    );
  });

  it("a vector file older than the id tracker that points into it is CORRUPT, not a crash", async () => {
    const shard = await EdgeShard.create(dir.path, config);
    shard.update({ upsert_points: [{ id: 1, vector: [1, 0] }] });
    shard.flush();
    const vec = join(segmentDir(dir.path), "vectors", "0.vec");
    const old = readFileSync(vec);
    shard.update({ upsert_points: [{ id: 2, vector: [0, 1] }, { id: 3, vector: [1, 1] }] });
    shard.close();
    writeFileSync(vec, old);
    await assert.rejects(EdgeShard.load(dir.path), (e: unknown) => {
      return e instanceof OperationError && e.status === "CORRUPT" && e.message.includes(vec) &&
        /holds 1 vectors/.test(e.message);
    });
  });

  it("fsync_on_update is validated and persisted in edge_config.json", async () => {
    await assert.rejects(
      EdgeShard.create(dir.path, { ...config, fsync_on_update: "yes" as unknown as boolean }),
      /config\.fsync_on_update: expected a boolean, got "yes"/,
    );
    using shard = await EdgeShard.create(dir.path, { ...config, fsync_on_update: true });
    shard.update({ upsert_points: [{ id: 1, vector: [1, 0] }] });
    assert.equal(JSON.parse(readFileSync(join(dir.path, "edge_config.json"), "utf8")).fsync_on_update, true);
    assert.equal(shard.config().fsync_on_update, true);
  });
});
