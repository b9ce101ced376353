import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { EdgeShard, InvalidArgumentError } from "../mod.ts";
import { tempDir } from "./_helpers.ts";

let dir: { path: string; cleanup: () => void };
let shard: EdgeShard;
const UUID_A = "00000000-0000-0000-0000-00000000000a";
const UUID_B = "ffffffff-0000-0000-0000-000000000000";

beforeEach(async () => {
  dir = tempDir();
  shard = await EdgeShard.create(dir.path, { vectors: { size: 2, distance: "Dot" } });
  // Inserted out of order, with integers above 2^53 and UUIDs, to check the id order.
  const ids: (number | bigint | string)[] = [UUID_B, 30, 2n ** 60n, 4, UUID_A, 12, ...[
    5,
    6,
    7,
    8,
    9,
    10,
    11,
  ]];
  shard.update({
    upsert_points: ids.map((id, i) => ({
      id,
      vector: [1, i],
      payload: { i, even: i % 2 === 0, tag: i < 5 ? "low" : "high" },
    })),
  });
});
afterEach(() => {
  shard.close();
  dir.cleanup();
});

const ids = (page: { points: { id: unknown }[] }) => page.points.map((p) => p.id);

describe("scroll", () => {
  it("returns 10 points in id order by default: integers ascending, then UUIDs, with payloads", () => {
    const page = shard.scroll();
    assert.deepEqual(ids(page), [4, 5, 6, 7, 8, 9, 10, 11, 12, 30]);
    assert.equal(page.next_page_offset, 2n ** 60n);
    assert.deepEqual(page.points[0], { id: 4, payload: { i: 3, even: false, tag: "low" } });
  });

  it("pages with an inclusive offset until next_page_offset is null", () => {
    const seen: unknown[] = [];
    let offset: number | bigint | string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: ReturnType<EdgeShard["scroll"]> = shard.scroll({ limit: 3, offset, with_payload: false });
      seen.push(...ids(page));
      offset = page.next_page_offset;
      if (offset === null) break;
    }
    assert.deepEqual(seen, [4, 5, 6, 7, 8, 9, 10, 11, 12, 30, 2n ** 60n, UUID_A, UUID_B]);
  });

  it("an offset between ids starts at the next id; a UUID offset skips every integer", () => {
    assert.deepEqual(ids(shard.scroll({ offset: 13, limit: 2 })), [30, 2n ** 60n]);
    assert.deepEqual(ids(shard.scroll({ offset: "00000000-0000-0000-0000-000000000001" })), [UUID_A, UUID_B]);
  });

  it("limit 0 returns no points and the first id as next_page_offset, as Qdrant Edge does", () => {
    assert.deepEqual(shard.scroll({ limit: 0 }), { points: [], next_page_offset: 4 });
  });

  it("a filter keeps only matching points, and next_page_offset is the next match", () => {
    const page = shard.scroll({ limit: 2, filter: { must: [{ key: "tag", match: { value: "low" } }] } });
    assert.deepEqual(ids(page), [4, 30]);
    assert.equal(page.next_page_offset, 2n ** 60n);
  });

  it("order_by without a range index fails with Qdrant's message", () => {
    assert.throws(() => shard.scroll({ order_by: "i" }), /No range index for `order_by` key: `i`/);
  });

  it("a malformed filter is an InvalidArgumentError naming the path inside it", () => {
    assert.throws(
      () => shard.scroll({ filter: { must: [{ key: "i", range: { gte: "abc" } }] } }),
      (e: unknown) =>
        e instanceof InvalidArgumentError && /scroll\.filter\.must\[0\]\.range\.gte/.test(e.message),
    );
  });
});

describe("count, query and retrieve with filters", () => {
  it("count with a filter counts the matching points", () => {
    assert.equal(shard.count(), 13);
    assert.equal(shard.count({ filter: { must: [{ key: "even", match: { value: true } }] } }), 7);
    assert.equal(shard.count({ filter: { must_not: [{ key: "even", match: { value: true } }] } }), 6);
  });

  it("query with a filter searches only the matching points", () => {
    const hits = shard.query({
      query: [0, 1],
      limit: 3,
      filter: { must: [{ key: "tag", match: { value: "low" } }] },
      with_payload: true,
    });
    assert.deepEqual(hits.map((h) => h.payload?.tag), ["low", "low", "low"]);
    assert.deepEqual(hits.map((h) => h.score), [4, 3, 2]);
  });

  it("has_id and has_vector work in query filters", () => {
    const hits = shard.query({ query: [1, 0], limit: 10, filter: { must: [{ has_id: [4, UUID_A] }] } });
    assert.deepEqual(hits.map((h) => h.id).sort(), [4, UUID_A].sort());
  });
});

describe("update operations that select points by filter", () => {
  const low = { must: [{ key: "tag", match: { value: "low" } }] };

  it("delete_points with a filter deletes the matching points", () => {
    shard.update({ delete_points: { filter: low } });
    assert.equal(shard.count(), 8);
    assert.equal(shard.count({ filter: low }), 0);
  });

  it("set_payload, overwrite_payload, delete_payload and clear_payload accept a filter", () => {
    shard.update({ set_payload: { filter: low, payload: { seen: true } } });
    assert.equal(shard.count({ filter: { must: [{ key: "seen", match: { value: true } }] } }), 5);
    shard.update({ delete_payload: { filter: low, keys: ["seen"] } });
    assert.equal(shard.count({ filter: { must: [{ key: "seen", match: { value: true } }] } }), 0);
    shard.update({ overwrite_payload: { filter: low, payload: { tag: "replaced" } } });
    assert.deepEqual(shard.retrieve([4]).map((p) => p.payload), [{ tag: "replaced" }]);
    shard.update({ clear_payload: { filter: { must: [{ key: "tag", match: { value: "replaced" } }] } } });
    assert.deepEqual(shard.retrieve([4]).map((p) => p.payload), [{}]);
  });

  it("points and filter together are refused, and nothing changes", () => {
    assert.throws(
      () => shard.update({ delete_points: { points: [4], filter: low } } as never),
      /delete_points: expected either points or filter, got both/,
    );
    assert.equal(shard.count(), 13);
  });

  it("upsert_points with update_filter leaves existing non-matching points and inserts new ones", () => {
    shard.update({
      upsert_points: {
        points: [4, 5, 99].map((id) => ({ id, vector: [9, 9], payload: { updated: true } })),
        update_filter: { must: [{ key: "i", match: { value: 3 } }] },
      },
    });
    // Point 4 has i = 3 and matches; 5 exists and does not; 99 is new.
    assert.deepEqual(shard.retrieve([4, 5, 99]).map((p) => p.payload?.updated ?? false), [true, false, true]);
  });

  it("update_vectors with update_filter changes only the matching points", () => {
    shard.update({
      update_vectors: {
        points: [{ id: 4, vector: [7, 7] }, { id: 5, vector: [7, 7] }],
        update_filter: { must: [{ key: "i", match: { value: 3 } }] },
      },
    });
    assert.deepEqual(shard.retrieve([4, 5], { with_vector: true }).map((p) => p.vector), [[7, 7], [1, 6]]);
  });
});
