import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { basename } from "node:path";
import { EdgeShard, OperationError } from "../mod.ts";
import { injectSyncFault } from "../lib/storage/fsync.ts";
import { tempDir } from "./_helpers.ts";

let dir: { path: string; cleanup: () => void };
beforeEach(() => (dir = tempDir()));
afterEach(() => {
  injectSyncFault(undefined);
  dir.cleanup();
});

const config = { vectors: { size: 2, distance: "Dot" as const } };
const eio = () => Object.assign(new Error("EIO: i/o error, fsync (injected)"), { code: "EIO" });

function read(shard: EdgeShard): unknown {
  return shard.retrieve([1, 2, 3], { with_vector: true });
}

/** What a flush syncs, by the file or directory it syncs. */
const targets: [string, (path: string) => boolean][] = [
  ["the vector file", (path) => path.endsWith(".vec")],
  ["the payload log", (path) => basename(path) === "payload.log"],
  ["the id tracker log", (path) => basename(path) === "id_tracker.log"],
  ["segment.json", (path) => basename(path) === "segment.json.tmp"],
  ["the segment directory", (path) => /segments\/[0-9a-f-]{36}$/.test(path)],
];

describe("fsync failures", () => {
  for (const [what, matches] of targets) {
    it(`a failed fsync of ${what} in flush() poisons the shard, and a reload keeps every acknowledged update`, async () => {
      const shard = await EdgeShard.create(dir.path, config);
      shard.update({ upsert_points: [{ id: 1, vector: [1, 0], payload: { a: 1 } }] });
      shard.flush();
      shard.update({ upsert_points: [{ id: 2, vector: [0, 1], payload: { b: 2 } }] });
      shard.update({ set_payload: { points: [1], payload: { c: 3 } } });
      const acknowledged = read(shard);
      let failures = 0;
      injectSyncFault((path) => matches(path) ? (failures++, eio()) : undefined);
      assert.throws(
        () => shard.flush(),
        (e: unknown) => e instanceof OperationError && /EIO/.test(e.message),
      );
      assert.ok(failures > 0, `no sync of ${what} was attempted`);
      injectSyncFault(undefined);
      // Poisoned: writes fail with the first error as cause, reads still answer.
      assert.throws(
        () => shard.update({ upsert_points: [{ id: 3, vector: [1, 1] }] }),
        (e: unknown) => e instanceof OperationError && /an earlier write failed \(.*EIO/.test(e.message),
      );
      assert.throws(() => shard.flush(), OperationError);
      assert.deepEqual(read(shard), acknowledged);
      shard.close();
      using reloaded = await EdgeShard.load(dir.path);
      assert.deepEqual(read(reloaded), acknowledged);
    });
  }

  it("with fsync_on_update, a failed fsync of the write-ahead log fails the update and poisons the shard", async () => {
    const shard = await EdgeShard.create(dir.path, { ...config, fsync_on_update: true });
    shard.update({ upsert_points: [{ id: 1, vector: [1, 0] }] });
    const before = read(shard);
    injectSyncFault((path) => path.endsWith(".wal") ? eio() : undefined);
    assert.throws(
      () => shard.update({ upsert_points: [{ id: 2, vector: [0, 1] }] }),
      (e: unknown) => e instanceof OperationError && /EIO/.test(e.message),
    );
    injectSyncFault(undefined);
    assert.throws(() => shard.update({ delete_points: [1] }), OperationError);
    shard.close();
    // The failed update was never acknowledged: after a reload it is either wholly there or wholly absent.
    using reloaded = await EdgeShard.load(dir.path);
    const after = reloaded.retrieve([1, 2], { with_vector: true });
    assert.ok(
      JSON.stringify(after) === JSON.stringify(before) ||
        JSON.stringify(after) ===
          JSON.stringify([...before as unknown[], { id: 2, payload: {}, vector: [0, 1] }]),
      `unexpected state after reload: ${JSON.stringify(after)}`,
    );
  });
});
