/**
 * Random update operations over a small id space (so that ids collide and updates hit existing points),
 * and reading a whole shard back into a {@linkcode Model}. Shared by the crash campaign's writer
 * (tests/fixtures/crash_writer.ts) and its checker (tests/crash.test.ts).
 *
 * Vector components are multiples of 1/64 in [-1, 1]: exact in float32, so stored vectors compare bit
 * for bit, and Dot scores of such vectors (dimension ≤ 8) are exact too.
 *
 * @module
 */
import type { EdgeConfig, EdgeShard } from "../mod.ts";
import {
  type Id,
  idKey,
  type Json,
  type JsonObject,
  Model,
  type ModelOp,
  type ModelPointStruct,
  type OpName,
  type Vectors,
} from "./_model.ts";

/** The shard the campaign writes: two named vectors, Dot, float32. */
export const CONFIG: EdgeConfig = {
  vectors: { a: { size: 8, distance: "Dot" }, b: { size: 3, distance: "Dot" } },
};
const DIMS: Record<string, number> = { a: 8, b: 3 };
const NAMES = Object.keys(DIMS);

/** Every id the campaign may use: the integers 0..199 and four UUIDs (canonical form). */
export const ALL_IDS: Id[] = [
  ...Array.from({ length: 200 }, (_, i) => i),
  "00000000-0000-0000-0000-000000000000",
  "5c56c793-69f3-4fbf-87e6-c4bf54c28c26",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
];

/** Every operation name, and each one's weight in the random mix. */
export const OP_WEIGHTS: Record<OpName, number> = {
  upsert_points: 30,
  delete_points: 12,
  set_payload: 12,
  overwrite_payload: 8,
  delete_payload: 8,
  clear_payload: 5,
  update_vectors: 12,
  delete_vectors: 8,
};

const KEYS = ["a", "b", "c", "n", "s", "t"];
const STRINGS = ["", "red", "green", "blue", "ü", "日本", 'a"b\\c', "line\nbreak"];

/** What the generator may use: the operations the shard accepts, and whether it honours `update_mode`. */
export interface OpMix {
  ops: readonly OpName[];
  updateMode: boolean;
}

/**
 * A random valid operation against `model`: payload and vector operations only name existing points
 * (Qdrant fails on others); upserts and deletes take any id of {@linkcode ALL_IDS}.
 */
export function randomOp(random: () => number, model: Model, mix: OpMix): ModelOp {
  const int = (n: number) => Math.floor(random() * n);
  const chance = (p: number) => random() < p;
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const anyId = (): Id => (chance(0.04) ? pick(ALL_IDS.slice(200)) : int(200));
  const existing = [...model.points.values()].map((p) => p.id);
  const someExisting = (max: number): Id[] => {
    const ids = new Set<Id>();
    const n = 1 + int(max);
    for (let i = 0; i < n; i++) ids.add(pick(existing));
    return [...ids];
  };
  const component = () => (int(129) - 64) / 64;
  const vector = (name: string) => Array.from({ length: DIMS[name] }, component);
  const someNames = (): string[] => {
    const names = NAMES.filter(() => chance(0.6));
    return names.length > 0 ? names : [pick(NAMES)];
  };
  const scalar = (): Json => {
    switch (int(5)) {
      case 0:
        return int(2001) - 1000 + 0; // `+ 0` turns -0 into 0, as JSON does
      case 1:
        return (int(1025) - 512) / 64 + 0;
      case 2:
        return pick(STRINGS);
      case 3:
        return chance(0.5);
      default:
        return null;
    }
  };
  const value = (depth: number): Json => {
    const r = random();
    if (depth < 2 && r < 0.15) return Array.from({ length: int(4) }, () => value(depth + 1));
    if (depth < 2 && r < 0.3) return object(depth + 1, 3);
    return scalar();
  };
  const object = (depth: number, max: number): JsonObject => {
    const out: JsonObject = {};
    const n = int(max + 1);
    for (let i = 0; i < n; i++) out[pick(KEYS)] = value(depth);
    return out;
  };
  const point = (): ModelPointStruct => {
    const vectors: Vectors = {};
    for (const name of NAMES) if (chance(0.85)) vectors[name] = vector(name);
    const p: ModelPointStruct = { id: anyId(), vector: vectors };
    const r = random();
    if (r < 0.1) p.payload = null;
    else if (r < 0.8) p.payload = object(0, 4);
    return p;
  };

  const candidates = mix.ops.filter((name) =>
    name === "upsert_points" || name === "delete_points" || existing.length > 0
  );
  let total = 0;
  for (const name of candidates) total += OP_WEIGHTS[name];
  let r = random() * total;
  const name = candidates.find((n) => (r -= OP_WEIGHTS[n]) < 0) ?? candidates[0];

  switch (name) {
    case "upsert_points": {
      const points = Array.from({ length: 1 + (chance(0.1) ? int(32) : int(6)) }, point);
      const mode = mix.updateMode && chance(0.3)
        ? pick(["upsert", "insert_only", "update_only"] as const)
        : undefined;
      if (mode !== undefined) return { upsert_points: { points, update_mode: mode } };
      return { upsert_points: chance(0.7) ? points : { points } };
    }
    case "delete_points": {
      const ids = Array.from(
        { length: 1 + int(4) },
        () => (existing.length > 0 && chance(0.7) ? pick(existing) : anyId()),
      );
      return { delete_points: chance(0.5) ? ids : { points: ids } };
    }
    case "set_payload": {
      const body: { points: Id[]; payload: JsonObject; key?: string } = {
        points: someExisting(3),
        payload: object(0, 3),
      };
      if (chance(0.25)) body.key = pick(["n", "s", "n.x", "t.y"]);
      return { set_payload: body };
    }
    case "overwrite_payload":
      return { overwrite_payload: { points: someExisting(3), payload: object(0, 4) } };
    case "delete_payload": {
      const keys = Array.from(
        { length: 1 + int(3) },
        () => (chance(0.2) ? pick(["n.x", "t.y", "s.q"]) : pick(KEYS)),
      );
      return { delete_payload: { points: someExisting(3), keys } };
    }
    case "clear_payload": {
      const ids = someExisting(2);
      return { clear_payload: chance(0.5) ? ids : { points: ids } };
    }
    case "update_vectors":
      return {
        update_vectors: {
          points: someExisting(3).map((id) => ({
            id,
            vector: Object.fromEntries(someNames().map((n) => [n, vector(n)])),
          })),
        },
      };
    case "delete_vectors":
      return { delete_vectors: { points: someExisting(3), vector: someNames() } };
  }
}

/** Reads every point of {@linkcode ALL_IDS} from `shard` into a model (vectors as plain numbers). */
export function readShard(shard: EdgeShard): Model {
  const model = new Model();
  for (const record of shard.retrieve(ALL_IDS, { with_payload: true, with_vector: true })) {
    const id = record.id as Id;
    if (model.points.has(idKey(id))) throw new Error(`retrieve returned id ${id} twice`);
    model.points.set(idKey(id), {
      id,
      vector: Array.isArray(record.vector) ? { "": record.vector } : (record.vector ?? {}) as Vectors,
      payload: (record.payload ?? {}) as JsonObject,
    });
  }
  return model;
}
