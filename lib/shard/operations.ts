/**
 * Update operations: their JSON shapes (Qdrant Edge's `UpdateOperation` names) and their validation into
 * an {@linkcode Operation}, the checked form that is applied to segments (and written to the WAL). Every
 * check that can fail is made here, before anything is written.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { parsePath, type PathStep } from "../payload/json_path.ts";
import type { Payload } from "../segment/payload_storage.ts";
import type { SegmentVector } from "../segment/segment.ts";
import { describe, isObject, type ResolvedVectorParams, resolveVectorParams } from "./config.ts";
import { type Context, describeKey, type IdKey, idKey, text } from "./point_id.ts";
import { checkPayload, prepareIds, prepareVector, unknownVector } from "./prepare.ts";
import { parseFilter } from "../filter/parse.ts";
import { parseFieldSchema } from "../index/mod.ts";
import { KeptBuffer } from "../storage/growable.ts";
import type { Filter } from "../filter/types.ts";

/** How an upsert treats ids that exist or not, as Qdrant's `update_mode`. */
export type UpdateMode = "upsert" | "insert_only" | "update_only";

/** Named vectors of one point, validated and prepared (normalised for Cosine). */
export type PreparedVectors = Record<string, Float32Array>;

/** A validated update operation. */
export type Operation =
  | { kind: "upsert"; mode: UpdateMode; points: { key: IdKey; vectors: PreparedVectors; payload: Payload }[] }
  | { kind: "delete"; keys: IdKey[] }
  | { kind: "set_payload"; keys: IdKey[]; payload: Payload; path: PathStep[] }
  | { kind: "overwrite_payload"; keys: IdKey[]; payload: Payload }
  | { kind: "delete_payload"; keys: IdKey[]; paths: PathStep[][] }
  | { kind: "clear_payload"; keys: IdKey[] }
  | { kind: "update_vectors"; points: { key: IdKey; vectors: PreparedVectors }[] }
  | { kind: "delete_vectors"; keys: IdKey[]; names: string[] }
  | { kind: "create_vector"; name: string; params: ResolvedVectorParams }
  | { kind: "delete_vector"; name: string }
  | { kind: "create_index"; field: string; schema: unknown }
  | { kind: "delete_index"; field: string };

/** The names `update()` accepts, one per operation object. */
export const OPERATION_NAMES = [
  "upsert_points",
  "delete_points",
  "set_payload",
  "overwrite_payload",
  "delete_payload",
  "clear_payload",
  "update_vectors",
  "delete_vectors",
  "create_vector_name",
  "delete_vector_name",
  "create_field_index",
  "delete_field_index",
] as const;

type Vectors = Readonly<Record<string, SegmentVector>>;
const UPDATE_MODES: readonly UpdateMode[] = ["upsert", "insert_only", "update_only"];

/**
 * How operations that select points by filter find them: resolved when the operation is parsed, so the
 * WAL holds the ids it touched, and a filter is judged against the points as they were before it (as
 * `update_mode` is).
 */
export interface PointSelector {
  /** Keys of the live points that match `filter`. */
  select(filter: Filter): IdKey[];
  /** A test of keys: whether the point matches, or undefined when no point has that key. */
  matches(filter: Filter): (key: IdKey) => boolean | undefined;
}

/**
 * Validates one `update()` argument against the shard's vectors. With `staging`, the prepared vectors are
 * views of its buffers, valid until the next operation parsed with it (see {@linkcode Staging}).
 */
export function parseOperation(
  operation: unknown,
  vectors: Vectors,
  selector: PointSelector,
  staging?: Staging,
): Operation {
  if (!isObject(operation)) {
    throw new InvalidArgumentError(`update: expected an operation object, got ${describe(operation)}`);
  }
  const names = Object.keys(operation);
  const name = names[0] as typeof OPERATION_NAMES[number];
  if (names.length !== 1 || !OPERATION_NAMES.includes(name)) {
    const got = names.map((n) => JSON.stringify(n)).join(", ") || "none";
    throw new InvalidArgumentError(
      `update: expected exactly one of ${OPERATION_NAMES.join(", ")}, got ${got}`,
    );
  }
  const body = operation[name];
  switch (name) {
    case "upsert_points":
      return parseUpsert(body, vectors, selector, staging);
    case "delete_points":
      return { kind: "delete", keys: pointsOf(body, name, selector) };
    case "set_payload": {
      const b = objectBody(body, name);
      const path = b.key === undefined ? [] : parsePath(b.key, `${name}.key`);
      if (path.some((step) => !("key" in step))) {
        throw new InvalidArgumentError(
          `${name}.key: expected a path of object keys, got ${JSON.stringify(b.key)}`,
        );
      }
      return {
        kind: "set_payload",
        keys: pointsOf(b, name, selector),
        payload: payloadOf(b.payload, name),
        path,
      };
    }
    case "overwrite_payload": {
      const b = objectBody(body, name);
      return {
        kind: "overwrite_payload",
        keys: pointsOf(b, name, selector),
        payload: payloadOf(b.payload, name),
      };
    }
    case "delete_payload": {
      const b = objectBody(body, name);
      if (!Array.isArray(b.keys)) {
        throw new InvalidArgumentError(
          `${name}.keys: expected a list of JSON paths, got ${describe(b.keys)}`,
        );
      }
      const paths = b.keys.map((key, i) => parsePath(key, `${name}.keys[${i}]`));
      return { kind: "delete_payload", keys: pointsOf(b, name, selector), paths };
    }
    case "clear_payload":
      return { kind: "clear_payload", keys: pointsOf(body, name, selector) };
    case "update_vectors":
      return parseUpdateVectors(body, vectors, selector, staging);
    case "delete_vectors": {
      const b = objectBody(body, name);
      if (!Array.isArray(b.vector) || b.vector.some((n) => typeof n !== "string")) {
        throw new InvalidArgumentError(
          `${name}.vector: expected a list of vector names, got ${describe(b.vector)}`,
        );
      }
      for (const vectorName of b.vector as string[]) {
        if (!(vectorName in vectors)) throw unknownVector(`Cannot ${name}`, vectorName, vectors);
      }
      return {
        kind: "delete_vectors",
        keys: pointsOf(b, name, selector),
        names: [...new Set(b.vector as string[])],
      };
    }
    case "create_vector_name":
      return parseCreateVector(body, vectors);
    case "create_field_index": {
      const b = objectBody(body, name);
      const field = fieldName(b.field_name, name);
      if (b.field_schema === undefined || b.field_schema === null) {
        throw new InvalidArgumentError(`${name}.field_schema: expected a payload schema, got nothing`);
      }
      // Validated now (it throws InvalidArgumentError naming what is wrong), kept as given.
      parseFieldSchema(b.field_schema);
      return { kind: "create_index", field, schema: b.field_schema };
    }
    case "delete_field_index":
      return { kind: "delete_index", field: fieldName(objectBody(body, name).field_name, name) };
    case "delete_vector_name": {
      const b = objectBody(body, name);
      if (typeof b.vector_name !== "string" || !(b.vector_name in vectors)) {
        throw unknownVector(`Cannot ${name}`, String(b.vector_name), vectors);
      }
      if (Object.keys(vectors).length === 1) {
        throw new InvalidArgumentError(
          `Cannot ${name} ${JSON.stringify(b.vector_name)}: it is the shard's only vector`,
        );
      }
      return { kind: "delete_vector", name: b.vector_name };
    }
  }
}

function parseUpsert(
  body: unknown,
  vectors: Vectors,
  selector: PointSelector,
  staging: Staging | undefined,
): Operation {
  if (!Array.isArray(body) && !isObject(body)) {
    throw new InvalidArgumentError(
      `upsert_points: expected a list of points or { points }, got ${describe(body)}`,
    );
  }
  const b = Array.isArray(body) ? { points: body } : body;
  const mode = (b.update_mode ?? "upsert") as UpdateMode;
  if (!UPDATE_MODES.includes(mode)) {
    throw new InvalidArgumentError(
      `upsert_points.update_mode: expected one of ${UPDATE_MODES.join(", ")}, got ${describe(b.update_mode)}`,
    );
  }
  if (!Array.isArray(b.points)) {
    throw new InvalidArgumentError(
      `upsert_points: expected a list of points or { points }, got ${describe(b.points)}`,
    );
  }
  const slabs = new Slabs(vectors, b.points.length, staging);
  const points = b.points.map((point, index) => {
    const { key, context, fields } = pointFields(point, index, "upsert");
    if (fields.vector === undefined) {
      throw new InvalidArgumentError(`${text(context)}: expected a vector, got nothing`);
    }
    return {
      key,
      vectors: vectorsOf(fields.vector, vectors, context, slabs, index),
      payload: checkedPayload(fields.payload, context),
    };
  });
  // With update_filter, an existing point that does not match is left as it is; new points are inserted.
  const condition = updateFilter(b, "upsert_points", selector);
  return {
    kind: "upsert",
    mode,
    points: condition ? points.filter((p) => condition(p.key) !== false) : points,
  };
}

function updateFilter(
  body: Record<string, unknown>,
  name: string,
  selector: PointSelector,
): ((key: IdKey) => boolean | undefined) | undefined {
  const filter = body.update_filter;
  if (filter === undefined || filter === null) return undefined;
  return selector.matches(parseFilter(filter, `${name}.update_filter`));
}

function parseUpdateVectors(
  body: unknown,
  vectors: Vectors,
  selector: PointSelector,
  staging: Staging | undefined,
): Operation {
  const b = objectBody(body, "update_vectors");
  if (!Array.isArray(b.points)) {
    throw new InvalidArgumentError(
      `update_vectors.points: expected a list of { id, vector }, got ${describe(b.points)}`,
    );
  }
  const slabs = new Slabs(vectors, b.points.length, staging);
  const points = b.points.map((point, index) => {
    const { key, context, fields } = pointFields(point, index, "update vectors of");
    return { key, vectors: vectorsOf(fields.vector, vectors, context, slabs, index) };
  });
  // With update_filter, existing points that do not match are skipped (missing ones are still an error).
  const condition = updateFilter(b, "update_vectors", selector);
  return {
    kind: "update_vectors",
    points: condition ? points.filter((p) => condition(p.key) !== false) : points,
  };
}

function parseCreateVector(body: unknown, vectors: Vectors): Operation {
  const b = objectBody(body, "create_vector_name");
  const name = b.vector_name;
  if (typeof name !== "string") {
    throw new InvalidArgumentError(
      `create_vector_name.vector_name: expected a string, got ${describe(name)}`,
    );
  }
  const params = resolveVectorParams(name, {
    size: b.size,
    distance: b.distance,
    datatype: b.datatype,
    on_disk: b.on_disk,
  });
  const existing = vectors[name];
  if (
    existing !== undefined &&
    (existing.size !== params.size || existing.distance !== params.distance ||
      existing.datatype !== params.datatype)
  ) {
    throw new InvalidArgumentError(
      `Cannot create_vector_name: vector ${JSON.stringify(name)} already exists with different parameters ` +
        `(${existing.size} ${existing.distance} ${existing.datatype}; asked for ${params.size} ${params.distance} ${params.datatype})`,
    );
  }
  return { kind: "create_vector", name, params };
}

function pointFields(point: unknown, index: number, verb: string) {
  if (!isObject(point)) {
    throw new InvalidArgumentError(
      `Cannot ${verb} points[${index}]: expected a point object, got ${describe(point)}`,
    );
  }
  const key = idKey(point.id, () => `Cannot ${verb} points[${index}]`);
  return { key, context: () => `Cannot ${verb} point ${describeKey(key)}`, fields: point };
}

/**
 * One buffer per vector name for the points of one operation, allocated on first use; point `i` writes its
 * vector into row `i`. Rows of points without that vector stay zero and are never read.
 */
class Slabs {
  readonly #vectors: Vectors;
  readonly #rows: number;
  readonly #staging: Staging | undefined;
  readonly #slabs = new Map<string, Float32Array>();

  constructor(vectors: Vectors, rows: number, staging: Staging | undefined) {
    this.#vectors = vectors;
    this.#rows = rows;
    this.#staging = staging;
  }

  row(name: string, index: number): Float32Array {
    const size = this.#vectors[name].size;
    let slab = this.#slabs.get(name);
    if (slab === undefined) {
      const floats = this.#rows * size;
      slab = this.#staging?.take(name, floats) ?? new Float32Array(floats);
      this.#slabs.set(name, slab);
    }
    return slab.subarray(index * size, (index + 1) * size);
  }
}

/**
 * Memory for prepared vectors, kept from one operation to the next: one {@linkcode KeptBuffer} per vector
 * name. What an operation got from `take` is overwritten by the next operation's: whoever keeps an
 * operation past its `update()` must {@linkcode detached} it first.
 *
 * @example
 * ```ts
 * const staging = new Staging();
 * const a = staging.take("", 768);
 * const b = staging.take("", 768); // the same memory as `a`: `a` was the previous operation's
 * console.log(a.buffer === b.buffer); // true
 * ```
 */
export class Staging {
  readonly #buffers = new Map<string, KeptBuffer>();

  /** `floats` values for vector `name` (contents undefined). */
  take(name: string, floats: number): Float32Array {
    let kept = this.#buffers.get(name);
    if (kept === undefined) this.#buffers.set(name, kept = new KeptBuffer());
    return new Float32Array(kept.take(floats * 4), 0, floats);
  }
}

/** `operation` with vectors of its own, for keeping it after the staging buffers are reused. */
export function detached(operation: Operation): Operation {
  if (operation.kind !== "upsert" && operation.kind !== "update_vectors") return operation;
  const points = operation.points.map((p) => {
    const vectors: PreparedVectors = {};
    for (const [name, vector] of Object.entries(p.vectors)) vectors[name] = vector.slice();
    return { ...p, vectors };
  });
  return { ...operation, points } as Operation;
}

function vectorsOf(
  input: unknown,
  vectors: Vectors,
  context: Context,
  slabs: Slabs,
  index: number,
): PreparedVectors {
  if (Array.isArray(input) || ArrayBuffer.isView(input)) {
    // The common case, one unnamed vector: no map to build and walk.
    const target = vectors[""];
    if (target === undefined) throw unknownVector(text(context), "", vectors);
    return { "": prepareVector(input, target, () => `${text(context)}: vector ""`, slabs.row("", index)) };
  }
  if (!isObject(input)) {
    invalid(`${text(context)}: expected a vector or a map of named vectors, got ${describe(input)}`);
  }
  const out: PreparedVectors = {};
  for (const [name, value] of Object.entries(input)) {
    const target = vectors[name];
    if (target === undefined) throw unknownVector(text(context), name, vectors);
    out[name] = prepareVector(
      value,
      target,
      () => `${text(context)}: vector ${JSON.stringify(name)}`,
      slabs.row(name, index),
    );
  }
  return out;
}

function checkedPayload(payload: unknown, context: Context): Payload {
  if (payload === undefined || payload === null) return {};
  checkPayload(payload, context);
  return payload as Payload;
}

function payloadOf(payload: unknown, name: string): Payload {
  if (payload === undefined) {
    throw new InvalidArgumentError(`${name}.payload: expected a JSON object, got nothing`);
  }
  return checkedPayload(payload, `Cannot ${name}`);
}

/** The points an operation names: a list of ids, `{ points }`, or `{ filter }` (resolved now). */
function pointsOf(body: unknown, name: string, selector: PointSelector): IdKey[] {
  if (Array.isArray(body)) return prepareIds(body, `${name}.points`);
  const b = objectBody(body, name);
  const hasFilter = b.filter !== undefined && b.filter !== null;
  if (hasFilter && b.points !== undefined) {
    throw new InvalidArgumentError(`${name}: expected either points or filter, got both`);
  }
  if (hasFilter) return selector.select(parseFilter(b.filter, `${name}.filter`));
  return prepareIds(b.points, `${name}.points`);
}

function fieldName(value: unknown, name: string): string {
  if (typeof value !== "string") {
    throw new InvalidArgumentError(`${name}.field_name: expected a JSON path, got ${describe(value)}`);
  }
  parsePath(value, `${name}.field_name`);
  return value;
}

function objectBody(body: unknown, name: string): Record<string, unknown> {
  if (!isObject(body)) throw new InvalidArgumentError(`${name}: expected an object, got ${describe(body)}`);
  return body;
}

function invalid(message: string): never {
  throw new InvalidArgumentError(message);
}
