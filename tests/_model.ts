/**
 * An in-memory model of a shard's points: update operations (the JSON shapes of `EdgeShard.update`)
 * applied to a plain `Map`, with Qdrant Edge's semantics. Every rule below was checked against
 * qdrant-edge-py 0.9.0 (tests/oracle/qdrant_oracle.py):
 *
 * - `upsert_points` replaces the whole point (vectors not given are gone, a missing payload is `{}`);
 *   later points of one op win over earlier ones with the same id. `insert_only` skips the ids that
 *   existed before the op, `update_only` the ids that did not.
 * - `delete_points` ignores ids that do not exist.
 * - `set_payload` merges top-level keys, and a key given `null` is removed. With `key` (a dotted
 *   path), the merge goes into the object at that path; every step of the path that is missing or not
 *   an object becomes `{}` first.
 * - `overwrite_payload` replaces the payload (nulls kept); `clear_payload` empties it.
 * - `delete_payload` removes each key (a dotted path; a step that is not an object stops it).
 * - `update_vectors` replaces only the vectors given; `delete_vectors` removes the named vectors.
 * - The payload and vector operations fail on an id that does not exist ("No point with id N"). The
 *   model then throws before changing anything; Qdrant's partial effects are not modelled, so the
 *   generators never produce such ops.
 *
 * Array paths (`a[]`, `a[0]`) are not modelled.
 *
 * @module
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: Json;
}
/** A point id: an integer, or a canonical (lowercase, hyphenated) UUID. */
export type Id = number | string;
/** Named vectors; the default vector is named `""`. */
export type Vectors = Record<string, number[]>;

/** A point of the model, as `retrieve(..., { with_payload: true, with_vector: true })` gives it. */
export interface ModelPoint {
  id: Id;
  vector: Vectors;
  payload: JsonObject;
}

/** A point to upsert. */
export interface ModelPointStruct {
  id: Id;
  vector: number[] | Vectors;
  payload?: JsonObject | null;
}

type Ids = Id[] | { points: Id[] };

/** One update operation (one key per object). */
export type ModelOp =
  | {
    upsert_points:
      | ModelPointStruct[]
      | { points: ModelPointStruct[]; update_mode?: "upsert" | "insert_only" | "update_only" };
  }
  | { delete_points: Ids }
  | { set_payload: { points: Id[]; payload: JsonObject; key?: string } }
  | { overwrite_payload: { points: Id[]; payload: JsonObject } }
  | { delete_payload: { points: Id[]; keys: string[] } }
  | { clear_payload: Ids }
  | { update_vectors: { points: { id: Id; vector: number[] | Vectors }[] } }
  | { delete_vectors: { points: Id[]; vector: string[] } };

/** The names of the update operations. */
export type OpName =
  | "upsert_points"
  | "delete_points"
  | "set_payload"
  | "overwrite_payload"
  | "delete_payload"
  | "clear_payload"
  | "update_vectors"
  | "delete_vectors";

/** The map key of an id (the engine's: decimal digits, or the lowercase UUID). */
export function idKey(id: Id): string {
  return typeof id === "number" ? String(id) : id.toLowerCase();
}

/** The points of a shard, changed by {@linkcode Model.apply}. */
export class Model {
  /** By {@linkcode idKey}. */
  readonly points = new Map<string, ModelPoint>();

  /** A deep copy. */
  clone(): Model {
    const copy = new Model();
    for (const [key, point] of this.points) copy.points.set(key, structuredClone(point));
    return copy;
  }

  /** Applies one operation; throws (leaving the model unchanged) where Qdrant Edge fails. */
  apply(op: ModelOp): void {
    const names = Object.keys(op);
    if (names.length !== 1) throw new Error(`expected one operation, got ${names.join(", ") || "none"}`);
    const o = op as Record<string, unknown>;
    switch (names[0] as OpName) {
      case "upsert_points": {
        const body = o.upsert_points as Extract<ModelOp, { upsert_points: unknown }>["upsert_points"];
        const [points, mode] = Array.isArray(body)
          ? [body, "upsert"]
          : [body.points, body.update_mode ?? "upsert"];
        const existed = new Set(this.points.keys());
        for (const p of points) {
          const key = idKey(p.id);
          if (mode === "insert_only" && existed.has(key)) continue;
          if (mode === "update_only" && !existed.has(key)) continue;
          this.points.set(key, {
            id: p.id,
            vector: namedVectors(p.vector),
            payload: structuredClone(p.payload ?? {}),
          });
        }
        return;
      }
      case "delete_points":
        for (const id of idList(o.delete_points as Ids)) this.points.delete(idKey(id));
        return;
      case "set_payload": {
        const { points, payload, key } = o.set_payload as { points: Id[]; payload: JsonObject; key?: string };
        for (const point of this.#existing(points)) {
          let target = point.payload;
          for (const step of key === undefined ? [] : path(key)) {
            const next = target[step];
            target = isJsonObject(next) ? next : (target[step] = {});
          }
          for (const [k, v] of Object.entries(payload)) {
            if (v === null) delete target[k];
            else target[k] = structuredClone(v);
          }
        }
        return;
      }
      case "overwrite_payload": {
        const { points, payload } = o.overwrite_payload as { points: Id[]; payload: JsonObject };
        for (const point of this.#existing(points)) point.payload = structuredClone(payload);
        return;
      }
      case "delete_payload": {
        const { points, keys } = o.delete_payload as { points: Id[]; keys: string[] };
        for (const point of this.#existing(points)) {
          for (const key of keys) {
            const steps = path(key);
            let target: Json = point.payload;
            for (const step of steps.slice(0, -1)) target = isJsonObject(target) ? target[step] : null;
            if (isJsonObject(target)) delete target[steps[steps.length - 1]];
          }
        }
        return;
      }
      case "clear_payload":
        for (const point of this.#existing(idList(o.clear_payload as Ids))) point.payload = {};
        return;
      case "update_vectors": {
        const { points } = o.update_vectors as { points: { id: Id; vector: number[] | Vectors }[] };
        const found = this.#existing(points.map((p) => p.id));
        points.forEach((p, i) => Object.assign(found[i].vector, structuredClone(namedVectors(p.vector))));
        return;
      }
      case "delete_vectors": {
        const { points, vector } = o.delete_vectors as { points: Id[]; vector: string[] };
        for (const point of this.#existing(points)) for (const name of vector) delete point.vector[name];
        return;
      }
      default:
        throw new Error(`unknown operation ${JSON.stringify(names[0])}`);
    }
  }

  /** The points with these ids, or an error naming the first that does not exist. */
  #existing(ids: Id[]): ModelPoint[] {
    return ids.map((id) => {
      const point = this.points.get(idKey(id));
      if (point === undefined) throw new Error(`No point with id ${id}`);
      return point;
    });
  }
}

/** Whether a JSON value is an object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function idList(ids: Ids): Id[] {
  return Array.isArray(ids) ? ids : ids.points;
}

function namedVectors(vector: number[] | Vectors): Vectors {
  return Array.isArray(vector) ? { "": [...vector] } : structuredClone(vector);
}

function path(key: string): string[] {
  if (key.includes("[")) throw new Error(`array paths are not modelled: ${JSON.stringify(key)}`);
  return key.split(".");
}
