/**
 * Differential test against real Qdrant Edge (`qdrant-edge-py`, driven by tests/oracle/qdrant_oracle.py):
 * the same 2,000 random points go into both engines, in the same batches, for every distance and
 * datatype; exact top-10 ids, scores (1e-4 relative), versions, payloads and retrieved vectors must agree.
 */
import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Datatype, type Distance, EdgeShard, type PointStruct, type ScoredPoint } from "../mod.ts";
import { rng, tempDir } from "./_helpers.ts";

const PYTHON = fileURLToPath(new URL("../.venv/bin/python", import.meta.url));
const ORACLE = fileURLToPath(new URL("./oracle/qdrant_oracle.py", import.meta.url));
const POINTS = 2_000;
const DIM = 48;
const BATCH = 256;
const QUERIES = 25;
const RELATIVE = 1e-4;

let dir: { path: string; cleanup: () => void };
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

interface OracleHit {
  id: number | string;
  score: number;
  version: number;
  payload?: Record<string, unknown>;
  vector?: number[];
}

function oracle(request: unknown): { results: OracleHit[][]; retrieve: OracleHit[]; count: number } {
  const run = spawnSync(PYTHON, [ORACLE], {
    input: JSON.stringify(request),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  assert.equal(run.status, 0, `oracle failed: ${run.stdout} ${run.stderr}`);
  return JSON.parse(run.stdout);
}

function scenario(datatype: Datatype, seed: number) {
  const random = rng(seed);
  const value = () => (datatype === "uint8" ? Math.floor(random() * 256) : random() * 2 - 1);
  const uuid = () => Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join("");
  const points: PointStruct[] = Array.from({ length: POINTS }, (_, i) => ({
    // Every fifth id is a UUID (given without hyphens, so both engines must canonicalise it).
    id: i % 5 === 4 ? uuid() : i * 3,
    vector: Array.from({ length: DIM }, value),
    payload: i % 7 === 0
      ? null
      : { n: i, tag: ["red", "green", "blue"][i % 3], nested: { x: random(), list: [i, "s"] } },
  }));
  const queries = Array.from({ length: QUERIES }, (_, q) => ({
    query: Array.from({ length: DIM }, value),
    limit: 10,
    offset: q % 5 === 1 ? 3 : 0,
    with_payload: true,
    with_vector: q % 4 === 0,
  }));
  return { points, queries };
}

function closeEnough(a: number, b: number): boolean {
  return Math.abs(a - b) <= RELATIVE * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * Equal results: scores agree position by position; ids agree, except that results whose scores tie
 * (which Qdrant returns in no stable order) are compared as sets, and a tie at the cut-off is not compared.
 */
function assertSameHits(ours: ScoredPoint[], theirs: OracleHit[], what: string): void {
  assert.equal(ours.length, theirs.length, `${what}: result count`);
  ours.forEach((hit, i) =>
    assert.ok(
      closeEnough(hit.score, theirs[i].score),
      `${what}[${i}]: score ${hit.score} vs ${theirs[i].score}`,
    )
  );
  let start = 0;
  while (start < ours.length) {
    let end = start + 1;
    while (end < ours.length && closeEnough(ours[end].score, ours[start].score)) end++;
    const tiedAtCutoff = end === ours.length && end - start > 1;
    if (!tiedAtCutoff) {
      const a = ours.slice(start, end).map((h) => String(h.id)).sort();
      const b = theirs.slice(start, end).map((h) => String(h.id)).sort();
      assert.deepEqual(a, b, `${what}[${start}..${end}): ids`);
      for (let i = start; i < end; i++) {
        const mine = ours[i];
        const other = theirs.find((h) => String(h.id) === String(mine.id))!;
        assert.equal(mine.version, other.version, `${what}: version of ${mine.id}`);
        assertSameJson(mine.payload, other.payload, `${what}: payload of ${mine.id}`);
        if (other.vector !== undefined) {
          const v = mine.vector as number[];
          other.vector.forEach((x, j) =>
            assert.ok(Math.abs(x - v[j]) <= 1e-6, `${what}: vector of ${mine.id}[${j}]`)
          );
        }
      }
    }
    start = end;
  }
}

/**
 * Deep equality where numbers may differ in the last bit: Qdrant parses payload JSON with serde_json's
 * default float parser, which is not always correctly rounded, while JavaScript round-trips exactly.
 */
function assertSameJson(ours: unknown, theirs: unknown, what: string): void {
  if (typeof ours === "number" && typeof theirs === "number") {
    assert.ok(
      Math.abs(ours - theirs) <= 4 * Number.EPSILON * Math.abs(theirs),
      `${what}: ${ours} vs ${theirs}`,
    );
    return;
  }
  if (typeof ours !== "object" || ours === null || typeof theirs !== "object" || theirs === null) {
    assert.deepEqual(ours, theirs, what);
    return;
  }
  assert.equal(Array.isArray(ours), Array.isArray(theirs), `${what}: array vs object`);
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), `${what}: keys`);
  for (const key of Object.keys(ours)) {
    assertSameJson(
      (ours as Record<string, unknown>)[key],
      (theirs as Record<string, unknown>)[key],
      `${what}.${key}`,
    );
  }
}

const CASES: [Distance, Datatype][] = [
  ["Cosine", "float32"],
  ["Dot", "float32"],
  ["Euclid", "float32"],
  ["Manhattan", "float32"],
  ["Cosine", "float16"],
  ["Euclid", "uint8"],
  ["Cosine", "uint8"],
];

describe("differential: @x/edge against real Qdrant Edge", () => {
  for (const [distance, datatype] of CASES) {
    it(`agrees on exact top-10 for ${POINTS} random points, ${distance} ${datatype}`, async () => {
      const { points, queries } = scenario(datatype, distance.length * 7 + datatype.length);
      const config = { vectors: { "": { size: DIM, distance, datatype } } };
      const retrieveIds = [points[5].id, 999_999, points[4].id, points[1].id];
      const expected = oracle({
        config,
        points,
        queries,
        retrieve: { ids: retrieveIds, with_payload: true, with_vector: true },
      });

      using shard = await EdgeShard.create(dir.path, config);
      for (let at = 0; at < points.length; at += BATCH) {
        shard.update({ upsert_points: points.slice(at, at + BATCH) });
      }
      assert.equal(shard.count(), expected.count);
      queries.forEach((query, q) => assertSameHits(shard.query(query), expected.results[q], `query ${q}`));

      const retrieved = shard.retrieve(retrieveIds, { with_payload: true, with_vector: true });
      assert.deepEqual(retrieved.map((r) => String(r.id)), expected.retrieve.map((r) => String(r.id)));
      retrieved.forEach((record, i) => {
        assertSameJson(record.payload, expected.retrieve[i].payload, `retrieve ${record.id}: payload`);
        const theirs = expected.retrieve[i].vector!;
        (record.vector as number[]).forEach((x, j) =>
          assert.ok(Math.abs(x - theirs[j]) <= 1e-6, `retrieve ${record.id}[${j}]`)
        );
      });
    });
  }

  it("agrees on score_threshold (strict, compared as a 32-bit float) and offset", async () => {
    const config = { vectors: { "": { size: 2, distance: "Cosine" as const } } };
    const points = [{ id: 1, vector: [3, 4] }, { id: 2, vector: [4, 3] }, { id: 3, vector: [1, 0] }];
    const queries = [0.6, 0.8, 0.5, 0.0].map((t) => ({
      query: [1, 0],
      limit: 10,
      offset: 0,
      score_threshold: t,
    }))
      .concat([{ query: [1, 0], limit: 1, offset: 1, score_threshold: 0.5 }]);
    const expected = oracle({ config, points, queries });
    using shard = await EdgeShard.create(dir.path, config);
    shard.update({ upsert_points: points });
    queries.forEach((query, q) =>
      assertSameHits(shard.query(query), expected.results[q], `threshold query ${q}`)
    );
  });
});
