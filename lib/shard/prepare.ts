/**
 * Validation of user input and its preparation for the segment: every check that can fail happens here,
 * before anything is written, so a rejected call leaves the shard unchanged. Messages name the point, the
 * vector and what was expected against what was received.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import type { Payload } from "../segment/payload_storage.ts";
import type { SegmentVector } from "../segment/segment.ts";
import { describe, isObject } from "./config.ts";
import { type Context, type IdKey, idKey, text } from "./point_id.ts";

/** Nesting depth allowed in payloads: bounds the validator's walk. */
export const PAYLOAD_DEPTH_MAX = 64;

/**
 * Validates one vector against its parameters and returns it as the f32 values to store: normalised for
 * Cosine on float32/float16 (Qdrant stores uint8 vectors as given and computes the full cosine). `into`
 * (of the vector's size) receives the values: a view of one buffer per batch costs far less than an
 * allocation per vector, and lets the batch reach the vector file in one piece.
 */
export function prepareVector(
  value: unknown,
  target: SegmentVector,
  context: Context,
  into: Float32Array = new Float32Array(target.size),
): Float32Array {
  if (!Array.isArray(value) && !(value instanceof Float32Array) && !(value instanceof Float64Array)) {
    throw new InvalidArgumentError(`${text(context)}: expected a list of numbers, got ${describe(value)}`);
  }
  if (value.length !== target.size) {
    throw new InvalidArgumentError(
      `${text(context)} has ${value.length} dimensions, the shard expects ${target.size}`,
    );
  }
  if (Array.isArray(value)) {
    // Checked before the conversion: `Float32Array.set` would turn "1" into 1 and throw on a symbol.
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] !== "number") throw badValue(context, value[i], i);
    }
  }
  const out = into;
  out.set(value);
  // The squares of f32 values cannot overflow an f64 sum, so the sum is finite exactly when every value
  // is: one check at the end instead of one per value. (A value beyond the f32 range became an infinity.)
  let squares = 0;
  for (let i = 0; i < out.length; i++) squares += out[i] * out[i];
  if (!Number.isFinite(squares)) {
    const i = out.findIndex((x) => !Number.isFinite(x));
    throw badValue(context, value[i], i);
  }
  if (target.distance === "Cosine" && target.datatype !== "uint8") normalise(out, squares);
  return out;
}

function badValue(context: Context, x: unknown, i: number): InvalidArgumentError {
  return new InvalidArgumentError(
    `${text(context)} has ${
      describe(x)
    } at index ${i}; expected a finite number within the 32-bit float range`,
  );
}

function normalise(vector: Float32Array, squares: number): void {
  const norm = Math.sqrt(squares);
  // A zero vector stays zero, as in Qdrant: there is no direction to keep.
  if (norm < Number.EPSILON) return;
  // One division, then products: a division per value cost more than the rest of preparing a vector.
  // In f64, x·(1/n) and x/n differ by at most an ulp of f64, which changes the f32 result only when x/n
  // lies within that of an f32 rounding boundary (about one value in 2^29).
  const inverse = 1 / norm;
  for (let i = 0; i < vector.length; i++) vector[i] *= inverse;
}

/** Checks that a payload is a JSON object whose every value JSON can hold, or throws naming the spot. */
export function checkPayload(payload: unknown, context: Context): void {
  if (!isPlainObject(payload)) {
    throw new InvalidArgumentError(
      `${text(context)}: payload must be a JSON object, got ${describe(payload)}`,
    );
  }
  // The quick walk builds no paths; only a payload it refuses is walked again to name the spot.
  if (!isJson(payload, 0)) checkJson(payload, "payload", 0, text(context));
}

/** Whether `value` is something `checkJson` accepts, without building the path of each value. */
function isJson(value: unknown, depth: number): boolean {
  if (depth > PAYLOAD_DEPTH_MAX) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isJson(value[i], depth + 1)) return false;
    return true;
  }
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (Object.hasOwn(value, key) && !isJson(value[key], depth + 1)) return false;
  }
  return true;
}

/** The JSON text of a checked payload (empty for `{}`), as the payload store keeps it. */
export function encodePayload(payload: Payload): string {
  const text = JSON.stringify(payload);
  return text === "{}" ? "" : text;
}

function checkJson(value: unknown, path: string, depth: number, context: string): void {
  if (depth > PAYLOAD_DEPTH_MAX) {
    throw new InvalidArgumentError(`${context}: ${path} nests deeper than ${PAYLOAD_DEPTH_MAX} levels`);
  }
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new InvalidArgumentError(`${context}: ${path} is ${value}; JSON numbers must be finite`);
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJson(item, `${path}[${i}]`, depth + 1, context));
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) checkJson(item, `${path}.${key}`, depth + 1, context);
    return;
  }
  throw new InvalidArgumentError(`${context}: ${path} is ${describeJsType(value)}, which JSON cannot hold`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describeJsType(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    return `a ${value.constructor?.name ?? "non-plain object"}`;
  }
  return `a ${typeof value}`;
}

/** The error for a vector name the shard does not have. */
export function unknownVector(
  context: string,
  name: string,
  vectors: Readonly<Record<string, SegmentVector>>,
): InvalidArgumentError {
  const known = Object.keys(vectors).map((n) => JSON.stringify(n)).join(", ");
  return new InvalidArgumentError(
    `${context}: vector ${JSON.stringify(name)} does not exist; the shard has ${known}`,
  );
}

/** Validates a list of point ids. */
export function prepareIds(ids: unknown, context: string): IdKey[] {
  if (!Array.isArray(ids)) {
    throw new InvalidArgumentError(`${context}: expected a list of point ids, got ${describe(ids)}`);
  }
  return ids.map((id, i) => idKey(id, `${context}: ids[${i}]`));
}
