/**
 * Model-based test: ≥ 10,000 random update operations go into an EdgeShard and into an in-memory model
 * (tests/_model.ts, Qdrant Edge's semantics); the shard is closed and loaded again at random points and
 * flushed now and then; at random steps (and at the end) every point, the count and a query's scores must
 * equal the model's. `EDGE_MODEL_OPS` sets the number of operations (default 10,000).
 */
import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { EdgeShard, type UpdateOperation } from "../mod.ts";
import { seededRandom } from "../scripts/_random.ts";
import { type Model, Model as EmptyModel, type OpName } from "./_model.ts";
import { CONFIG, OP_WEIGHTS, randomOp, readShard } from "./_ops.ts";
import { tempDir } from "./_helpers.ts";

const OPS = Number(process.env.EDGE_MODEL_OPS ?? 10_000);
const MIX = { ops: Object.keys(OP_WEIGHTS) as OpName[], updateMode: true };

let dir: { path: string; cleanup: () => void };
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

function sortedPoints(model: Model) {
  return [...model.points.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, point]) =>
    point
  );
}

function expectedScores(model: Model, query: number[]): number[] {
  const scores: number[] = [];
  for (const point of model.points.values()) {
    const a = point.vector.a;
    if (a !== undefined) scores.push(a.reduce((sum, x, i) => sum + x * query[i], 0));
  }
  return scores.sort((x, y) => y - x).slice(0, 5);
}

describe("model-based test", () => {
  it(
    `${OPS} random operations agree with the model across random close/load and flush`,
    { timeout: 300_000 },
    async () => {
      const random = seededRandom(20261123);
      const model = new EmptyModel();
      let shard = await EdgeShard.create(dir.path, CONFIG);
      let reopened = 0;
      let checked = 0;
      try {
        for (let step = 0; step < OPS; step++) {
          const op = randomOp(random, model, MIX);
          shard.update(op as UpdateOperation);
          model.apply(op);
          if (random() < 0.01) {
            shard.close();
            shard = await EdgeShard.load(dir.path);
            reopened++;
          } else if (random() < 0.005) {
            shard.flush();
          }
          if (random() < 0.03 || step === OPS - 1) {
            checked++;
            const where = `after step ${step} (${Object.keys(op)[0]})`;
            assert.deepEqual(sortedPoints(readShard(shard)), sortedPoints(model), where);
            assert.equal(shard.count(), model.points.size, `count ${where}`);
            const query = Array.from({ length: 8 }, () => Math.round(random() * 128 - 64) / 64);
            const scores = shard.query({ query, using: "a", limit: 5 }).map((hit) => hit.score);
            assert.deepEqual(scores, expectedScores(model, query), `query scores ${where}`);
          }
        }
      } finally {
        shard.close();
      }
      assert.ok(reopened > OPS / 200, `reopened ${reopened} times`);
      assert.ok(checked > OPS / 50, `checked ${checked} times`);
    },
  );
});
