/**
 * Point ids, as Qdrant has them: an unsigned 64-bit integer or a UUID. Integers up to 2^53-1 are plain
 * numbers; larger ones (up to 2^64-1) are bigints. UUIDs are accepted in any of the `uuid` crate's forms
 * (hyphenated, simple, braced, `urn:uuid:`) and always come back lowercase and hyphenated.
 *
 * Inside the engine an id is a string key: the decimal digits of an integer id, or the canonical UUID
 * (which contains hyphens, so the two kinds never collide).
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";

/**
 * Where a message about bad input points to: the text, or a function that makes it. Batches pass
 * functions, so that a per-point context costs nothing until a point is actually rejected.
 *
 * @example
 * ```ts
 * const context: Context = () => `Cannot upsert points[${7}]`;
 * console.log(text(context)); // Cannot upsert points[7]
 * ```
 */
export type Context = string | (() => string);

/** The text of a {@linkcode Context}. */
export function text(context: Context): string {
  return typeof context === "string" ? context : context();
}

/** A point id: an unsigned integer (bigint above 2^53-1) or a UUID string. */
export type PointId = number | bigint | string;

/** The engine's internal form of a point id. */
export type IdKey = string;

const U64_MAX = (1n << 64n) - 1n;
const HEX32 = /^[0-9a-f]{32}$/;

/** Converts a user-supplied id to its key, or throws an {@linkcode InvalidArgumentError}. */
export function idKey(id: unknown, context: Context): IdKey {
  if (typeof id === "number") {
    if (!Number.isInteger(id) || id < 0) {
      throw new InvalidArgumentError(
        `${text(context)}: point id must be an unsigned integer or a UUID, got ${id}`,
      );
    }
    if (!Number.isSafeInteger(id)) {
      throw new InvalidArgumentError(
        `${
          text(context)
        }: point id ${id} is above 2^53-1 and cannot be represented exactly as a number; pass it as a bigint`,
      );
    }
    return String(id);
  }
  if (typeof id === "bigint") {
    if (id < 0n || id > U64_MAX) {
      throw new InvalidArgumentError(`${text(context)}: point id must be between 0 and 2^64-1, got ${id}`);
    }
    return id.toString();
  }
  if (typeof id === "string") {
    const uuid = canonicalUuid(id);
    if (uuid === undefined) {
      throw new InvalidArgumentError(
        `${text(context)}: point id must be an unsigned integer or a UUID, got ${JSON.stringify(id)}`,
      );
    }
    return uuid;
  }
  throw new InvalidArgumentError(
    `${text(context)}: point id must be an unsigned integer or a UUID, got ${
      id === null ? "null" : typeof id
    }`,
  );
}

/** Converts a key back to the id users see: a number, a bigint above 2^53-1, or a UUID string. */
export function keyToId(key: IdKey): PointId {
  if (isUuidKey(key)) return key;
  const n = Number(key);
  return Number.isSafeInteger(n) ? n : BigInt(key);
}

/** Whether a key is a UUID (as opposed to an integer). */
export function isUuidKey(key: IdKey): boolean {
  return key.length === 36 && key.charCodeAt(8) === 45; // '-'
}

/**
 * Qdrant's order of point ids (scroll pages through it): integers ascending, then UUIDs ascending (as
 * 128-bit numbers, which is the order of their canonical text).
 */
export function compareKeys(a: IdKey, b: IdKey): number {
  const aUuid = isUuidKey(a);
  if (aUuid !== isUuidKey(b)) return aUuid ? 1 : -1;
  // Integer keys have no leading zeros, so a shorter one is smaller.
  if (!aUuid && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Renders a key for messages: `42` or `"5c56c793-…"`. */
export function describeKey(key: IdKey): string {
  return isUuidKey(key) ? JSON.stringify(key) : key;
}

function canonicalUuid(text: string): string | undefined {
  let hex = text.toLowerCase();
  if (hex.startsWith("urn:uuid:")) hex = hex.slice(9);
  else if (hex.startsWith("{") && hex.endsWith("}")) hex = hex.slice(1, -1);
  if (hex.length === 36) {
    if (hex[8] !== "-" || hex[13] !== "-" || hex[18] !== "-" || hex[23] !== "-") return undefined;
    hex = hex.replaceAll("-", "");
  }
  if (!HEX32.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
