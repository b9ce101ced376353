import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EdgeShard, type Filter, InvalidArgumentError, OperationError } from "../mod.ts";
import { rng, tempDir } from "./_helpers.ts";

let dir: { path: string; cleanup: () => void };
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

const COLORS = ["red", "green", "blue", "white"];
const SCHEMAS: Record<string, unknown> = {
  color: "keyword",
  n: "integer",
  price: "float",
  ok: "bool",
  at: "datetime",
  place: "geo",
  text: { type: "text", tokenizer: "word", phrase_matching: true },
  ref: "uuid",
};

function payloadOf(i: number, random: () => number): Record<string, unknown> {
  const p: Record<string, unknown> = {
    color: random() < 0.2 ? [COLORS[i % 4], COLORS[(i + 1) % 4]] : COLORS[i % 4],
    n: i % 17,
    price: Math.round(random() * 1000) / 10,
    ok: i % 3 === 0,
    at: `2026-0${1 + (i % 9)}-1${i % 10}T10:00:00Z`,
    place: { lon: -10 + (i % 20), lat: 40 + (i % 10) / 2 },
    text: `the ${COLORS[i % 4]} fox number ${i % 5}`,
    ref: `00000000-0000-0000-0000-${String(i % 7).padStart(12, "0")}`,
  };
  if (i % 11 === 0) delete p.color;
  return p;
}

async function filled(path: string, indexed: boolean): Promise<EdgeShard> {
  const shard = await EdgeShard.create(path, { vectors: { size: 2, distance: "Dot" } });
  if (indexed) {
    for (const [field_name, field_schema] of Object.entries(SCHEMAS)) {
      shard.update({ create_field_index: { field_name, field_schema } as never });
    }
  }
  const random = rng(3);
  shard.update({
    upsert_points: Array.from(
      { length: 600 },
      (_, i) => ({ id: i, vector: [1, i], payload: payloadOf(i, random) }),
    ),
  });
  shard.update({ delete_points: [1, 2, 3, 100] });
  shard.update({ set_payload: { points: [5, 6], payload: { color: "black", n: 99 } } });
  return shard;
}

const FILTERS: Filter[] = [
  { must: [{ key: "color", match: { value: "red" } }] },
  { must: [{ key: "color", match: { any: ["green", "black"] } }] },
  { must: [{ key: "color", match: { except: ["red", "blue"] } }] },
  { must: [{ key: "n", range: { gte: 3, lt: 9 } }, { key: "ok", match: { value: true } }] },
  { must: [{ key: "n", match: { value: 99 } }] },
  { must: [{ key: "price", range: { gt: 50.5 } }], must_not: [{ key: "color", match: { value: "white" } }] },
  { must: [{ key: "at", range: { gte: "2026-03-01T00:00:00Z", lt: "2026-06-01T00:00:00Z" } }] },
  { must: [{ key: "place", geo_radius: { center: { lon: 0, lat: 42 }, radius: 300_000 } }] },
  {
    must: [{
      key: "place",
      geo_bounding_box: { top_left: { lon: -5, lat: 44 }, bottom_right: { lon: 5, lat: 41 } },
    }],
  },
  { must: [{ key: "text", match: { text: "red fox" } }] },
  { must: [{ key: "text", match: { phrase: "fox number" } }] },
  { must: [{ key: "ref", match: { value: "00000000-0000-0000-0000-000000000003" } }] },
  { should: [{ key: "color", match: { value: "blue" } }, { key: "n", range: { lt: 2 } }] },
  { must: [{ is_empty: { key: "color" } }] },
];

describe("payload indexes in a shard", () => {
  it("count, scroll and query give the same points with and without the indexes", async () => {
    using plain = await filled(join(dir.path, "plain"), false);
    using indexed = await filled(join(dir.path, "indexed"), true);
    for (const filter of FILTERS) {
      const what = JSON.stringify(filter);
      assert.equal(indexed.count({ filter }), plain.count({ filter }), what);
      assert.ok(plain.count({ filter }) > 0, `${what} selects nothing: the case checks nothing`);
      assert.deepEqual(indexed.scroll({ filter, limit: 1000 }), plain.scroll({ filter, limit: 1000 }), what);
      const query = { query: [0, 1], limit: 7, filter };
      // Versions differ: the indexed shard's create_field_index operations took op numbers.
      const hits = (shard: EdgeShard) => shard.query(query).map(({ id, score }) => ({ id, score }));
      assert.deepEqual(hits(indexed), hits(plain), what);
    }
  });

  it("a must condition on an indexed key is answered from the index; explainFilter says so", async () => {
    using shard = await filled(dir.path, true);
    assert.deepEqual(shard.explainFilter(FILTERS[0]).path, "payload_index");
    assert.equal(shard.explainFilter(FILTERS[0]).key, "color");
    // Two indexed conditions: the one with the smaller estimate drives.
    assert.equal(shard.explainFilter(FILTERS[3]).key, "ok");
    assert.equal(
      shard.explainFilter({ must: [{ key: "unindexed", match: { value: 1 } }] }).path,
      "full_scan",
    );
    assert.equal(shard.explainFilter(FILTERS[12]).path, "full_scan");
  });

  it("info() lists the indexed fields with their type and number of points", async () => {
    using shard = await filled(dir.path, true);
    const schema = shard.info().payload_schema as Record<string, { data_type: string; points: number }>;
    assert.deepEqual(Object.keys(schema).sort(), Object.keys(SCHEMAS).sort());
    assert.equal(schema.n.data_type, "integer");
    assert.equal(schema.n.points, 596);
    assert.equal(
      schema.color.points,
      shard.count({ filter: { must_not: [{ is_empty: { key: "color" } }] } }),
    );
  });

  it("facet counts values most frequent first, with a filter, and needs an index", async () => {
    using shard = await filled(dir.path, true);
    const hits = shard.facet({ key: "color" }).hits;
    for (const { value, count } of hits) {
      assert.equal(
        count,
        shard.count({ filter: { must: [{ key: "color", match: { value: value as string } }] } }),
      );
    }
    assert.deepEqual(hits.map((h) => h.count), hits.map((h) => h.count).sort((a, b) => b - a));
    assert.deepEqual(shard.facet({ key: "color", limit: 1, filter: FILTERS[4] }).hits, [{
      value: "black",
      count: 2,
    }]);
    assert.throws(
      () => shard.facet({ key: "price" }),
      (e: unknown) =>
        e instanceof OperationError && /No appropriate index for faceting: `price`/.test(e.message),
    );
  });

  it("scroll with order_by pages by value, with order_value, and refuses an offset", async () => {
    using shard = await filled(dir.path, true);
    const page = shard.scroll({
      order_by: { key: "price", direction: "desc" },
      limit: 5,
      with_payload: true,
    });
    const prices = page.points.map((p) => p.payload!.price as number);
    assert.deepEqual(prices, [...prices].sort((a, b) => b - a));
    assert.deepEqual(page.points.map((p) => p.order_value), prices);
    assert.equal(page.next_page_offset, null);
    const from = shard.scroll({ order_by: { key: "n", start_from: 16 }, limit: 100, with_payload: false });
    assert.ok(from.points.every((p) => (p.order_value as number) >= 16));
    assert.throws(() => shard.scroll({ order_by: "n", offset: 4 }), InvalidArgumentError);
    assert.throws(() => shard.scroll({ order_by: "color" }), /No range index for `order_by` key: `color`/);
  });

  it("indexes survive close and load, and one whose image is lost is rebuilt from the payloads", async () => {
    const path = dir.path;
    const shard = await filled(path, true);
    const counts = FILTERS.map((filter) => shard.count({ filter }));
    shard.close();
    assert.deepEqual(
      Object.keys(JSON.parse(readFileSync(join(path, "payload_index.json"), "utf8"))).sort(),
      Object.keys(SCHEMAS).sort(),
    );
    const segment = join(path, "segments", readdirSync(join(path, "segments"))[0]);
    {
      using reopened = await EdgeShard.load(path);
      assert.deepEqual(FILTERS.map((filter) => reopened.count({ filter })), counts);
      assert.equal(reopened.explainFilter(FILTERS[0]).path, "payload_index");
      // Writes after the images are caught up with on the next open.
      reopened.update({ delete_points: [4, 8] });
      reopened.update({ upsert_points: [{ id: 1000, vector: [1, 1], payload: { color: "red" } }] });
    }
    rmSync(join(segment, "payload_index"), { recursive: true });
    using again = await EdgeShard.load(path);
    // Points 4 and 8 had "red" (i % 4 === 0); point 1000 has it.
    assert.equal(again.count({ filter: FILTERS[0] }), counts[0] - 1);
    assert.equal(again.explainFilter(FILTERS[0]).path, "payload_index");
  });

  it("delete_field_index drops the index; a malformed schema is refused and nothing changes", async () => {
    using shard = await filled(dir.path, true);
    shard.update({ delete_field_index: { field_name: "color" } });
    assert.equal(shard.explainFilter(FILTERS[0]).path, "full_scan");
    assert.ok(!("color" in shard.info().payload_schema));
    assert.throws(
      () => shard.update({ create_field_index: { field_name: "x", field_schema: "nonsense" } } as never),
      InvalidArgumentError,
    );
    assert.throws(
      () => shard.update({ create_field_index: { field_name: "a b", field_schema: "keyword" } }),
      InvalidArgumentError,
    );
    assert.ok(!("x" in shard.info().payload_schema));
  });
});
