import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EdgeShard } from "../mod.ts";
import { NumberMap } from "../lib/segment/_number_map.ts";
import { rng, tempDir } from "./_helpers.ts";

let dir: { path: string; cleanup: () => void };
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

const config = { vectors: { size: 4, distance: "Dot" as const } };
const segmentDir = (path: string) => join(path, "segments", readdirSync(join(path, "segments"))[0]);
const UUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";

/** 12,000 points: both logs pass the size from which a flush saves images. */
async function bigShard(path: string): Promise<EdgeShard> {
  const shard = await EdgeShard.create(path, config);
  for (let batch = 0; batch < 12; batch++) {
    shard.update({
      upsert_points: Array.from({ length: 1000 }, (_, i) => {
        const id = batch * 1000 + i;
        return { id, vector: [id, 1, 2, 3], payload: { n: id, tag: `tag-${id % 7}` } };
      }),
    });
  }
  shard.update({ upsert_points: [{ id: UUID, vector: [9, 9, 9, 9], payload: { uuid: true } }] });
  return shard;
}

/** Everything observable about a shard's points, for comparing two opens. */
function state(shard: EdgeShard): string {
  const ids = [...Array.from({ length: 12_100 }, (_, i) => i), UUID];
  return JSON.stringify({
    count: shard.count(),
    points: shard.retrieve(ids, { with_payload: true, with_vector: true }),
    top: shard.query({ query: [1, 0, 0, 0], limit: 5 }),
  });
}

describe("segment images", () => {
  it("a flush of a big segment saves images, and an open from them sees the same points", async () => {
    const path = join(dir.path, "s");
    const shard = await bigShard(path);
    const before = state(shard);
    shard.close();
    assert.ok(existsSync(join(segmentDir(path), "id_tracker.img")));
    assert.ok(existsSync(join(segmentDir(path), "payload.img")));
    const checkpoint = JSON.parse(readFileSync(join(segmentDir(path), "segment.json"), "utf8")).flushed;
    assert.equal(checkpoint.id_tracker_image_bytes, checkpoint.id_tracker_bytes);
    assert.equal(checkpoint.payload_image_bytes, checkpoint.payload_bytes);
    using reopened = await EdgeShard.load(path);
    assert.equal(state(reopened), before);
    assert.equal(reopened.count(), 12_001);
  });

  it("an open from a valid image does not scan the log records it covers", async () => {
    const path = join(dir.path, "s");
    (await bigShard(path)).close();
    // Damage the first tracker record: only an open that replays the log from its start notices.
    const log = join(segmentDir(path), "id_tracker.log");
    const bytes = readFileSync(log);
    bytes[16 + 8 + 20] ^= 0xff;
    writeFileSync(log, bytes);
    const reopened = await EdgeShard.load(path, { readOnly: true });
    assert.equal(reopened.count(), 12_001);
    reopened.close();
    writeFileSync(join(segmentDir(path), "id_tracker.img"), new Uint8Array(0));
    await assert.rejects(EdgeShard.load(path, { readOnly: true }), /damaged at byte 16/);
  });

  it("writes after the image are replayed from the log on top of it", async () => {
    const path = join(dir.path, "s");
    (await bigShard(path)).close();
    const imageBytes = statSync(join(segmentDir(path), "id_tracker.img")).mtimeMs;
    const shard = await EdgeShard.load(path);
    shard.update({ delete_points: [0, 1, 2, UUID] });
    shard.update({ set_payload: { points: [5], payload: { extra: "yes" } } });
    shard.update({ upsert_points: [{ id: 20_000, vector: [1, 1, 1, 1], payload: { late: 1 } }] });
    const before = state(shard);
    shard.close();
    // Too little was written to refresh the image: the checkpoint still trusts the old one.
    assert.equal(statSync(join(segmentDir(path), "id_tracker.img")).mtimeMs, imageBytes);
    using reopened = await EdgeShard.load(path);
    assert.equal(state(reopened), before);
    assert.deepEqual(reopened.retrieve([5, 0, 20_000]).map((p) => p.payload), [
      { n: 5, tag: "tag-5", extra: "yes" },
      { late: 1 },
    ]);
  });

  it("a damaged, stale or missing image is ignored and the log replayed", async () => {
    const path = join(dir.path, "s");
    const shard = await bigShard(path);
    const before = state(shard);
    shard.close();
    const tracker = join(segmentDir(path), "id_tracker.img");
    const payload = join(segmentDir(path), "payload.img");
    const pristine = { tracker: readFileSync(tracker), payload: readFileSync(payload) };
    const damages: [string, () => void][] = [
      ["a flipped byte in the tracker image", () => {
        const bytes = Uint8Array.from(pristine.tracker);
        bytes[bytes.length >> 1] ^= 0x40;
        writeFileSync(tracker, bytes);
      }],
      ["a truncated payload image", () => writeFileSync(payload, pristine.payload.subarray(0, 100))],
      ["a missing tracker image", () => writeFileSync(tracker, new Uint8Array(0))],
      ["a payload image that covers other log bytes than the checkpoint names", () => {
        const bytes = Uint8Array.from(pristine.payload);
        new DataView(bytes.buffer).setBigUint64(16, 12345n, true);
        writeFileSync(payload, bytes);
      }],
    ];
    for (const [what, damage] of damages) {
      damage();
      const reopened = await EdgeShard.load(path, { readOnly: true });
      assert.equal(state(reopened), before, what);
      reopened.close();
      writeFileSync(tracker, pristine.tracker);
      writeFileSync(payload, pristine.payload);
    }
  });
});

describe("NumberMap", () => {
  it("agrees with a Map over random sets and deletes with many collisions", () => {
    const random = rng(7);
    const map = new NumberMap();
    const model = new Map<number, number>();
    for (let step = 0; step < 50_000; step++) {
      // Few distinct ids, some above 2^32, so that probe runs form and deletes shift them.
      const id = Math.floor(random() * 3000) * (random() < 0.3 ? 2 ** 33 + 1 : 1);
      if (random() < 0.35) {
        assert.equal(map.delete(id), model.get(id), `delete ${id} at step ${step}`);
        model.delete(id);
      } else {
        const offset = Math.floor(random() * 1e6);
        map.set(id, offset);
        model.set(id, offset);
      }
      if (step % 5000 === 0) {
        for (const [key, value] of model) assert.equal(map.get(key), value);
      }
    }
    assert.equal(map.size, model.size);
    for (const [key, value] of model) assert.equal(map.get(key), value);
    assert.equal(map.get(2 ** 52), undefined);
  });

  it("restored from its slot arrays, answers the same", () => {
    const map = new NumberMap();
    for (let i = 0; i < 5000; i++) map.set(i * 7919, i);
    const { keys, values } = map.slots;
    const copy = new NumberMap(keys.slice(), values.slice(), map.size);
    for (let i = 0; i < 5000; i++) assert.equal(copy.get(i * 7919), i);
    assert.equal(copy.get(1), undefined);
  });
});
