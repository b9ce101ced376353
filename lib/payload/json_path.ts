/**
 * Qdrant's JSON paths into payloads: `a.b`, `a[]` (every element), `a[0]` (one element), `a[].b`, and
 * `"a.b"` for a key that contains a dot.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import type { Payload } from "../segment/payload_storage.ts";

/** One step of a path: an object key, one array element, or every element. */
export type PathStep = { key: string } | { index: number } | { every: true };

const INDEX = /^\[(\d*)\]/;

/** Parses a JSON path, or throws an InvalidArgumentError naming `where` and the path. */
export function parsePath(path: unknown, where: string): PathStep[] {
  if (typeof path !== "string" || path.length === 0) {
    throw new InvalidArgumentError(
      `${where}: expected a JSON path such as "a.b" or "a[].b", got ${JSON.stringify(path)}`,
    );
  }
  const steps: PathStep[] = [];
  let rest = path;
  // Each pass consumes at least one character, so the loop ends within path.length passes.
  while (rest.length > 0) {
    let key: string;
    if (rest.startsWith('"')) {
      const end = rest.indexOf('"', 1);
      if (end < 0) {
        throw new InvalidArgumentError(`${where}: unterminated quote in JSON path ${JSON.stringify(path)}`);
      }
      key = rest.slice(1, end);
      rest = rest.slice(end + 1);
    } else {
      const end = rest.search(/[.[]/);
      key = end < 0 ? rest : rest.slice(0, end);
      rest = end < 0 ? "" : rest.slice(end);
    }
    if (key.length === 0) {
      throw new InvalidArgumentError(`${where}: empty key in JSON path ${JSON.stringify(path)}`);
    }
    steps.push({ key });
    for (let m = rest.match(INDEX); m !== null; m = rest.match(INDEX)) {
      steps.push(m[1] === "" ? { every: true } : { index: Number(m[1]) });
      rest = rest.slice(m[0].length);
    }
    if (rest.startsWith(".")) rest = rest.slice(1);
    else if (rest.length > 0) {
      throw new InvalidArgumentError(
        `${where}: unexpected ${JSON.stringify(rest[0])} in JSON path ${JSON.stringify(path)}`,
      );
    }
  }
  return steps;
}

/** Removes what `steps` points at from `payload` (in place); a path that leads nowhere changes nothing. */
export function deleteAtPath(payload: Payload, steps: readonly PathStep[]): void {
  deleteFrom(payload, steps, 0);
}

function deleteFrom(value: unknown, steps: readonly PathStep[], at: number): void {
  const step = steps[at];
  const last = at === steps.length - 1;
  if ("key" in step) {
    if (!isPlainObject(value) || !(step.key in value)) return;
    if (last) delete value[step.key];
    else deleteFrom(value[step.key], steps, at + 1);
    return;
  }
  if (!Array.isArray(value)) return;
  if ("every" in step) {
    if (last) value.length = 0;
    else for (const item of value) deleteFrom(item, steps, at + 1);
    return;
  }
  if (step.index >= value.length) return;
  if (last) value.splice(step.index, 1);
  else deleteFrom(value[step.index], steps, at + 1);
}

/**
 * Merges `values` into the object at the key path `steps` (in place), as Qdrant's `set_payload` with a
 * `key`: missing objects on the way are created, and anything that is not an object is replaced by one.
 * A top-level `null` in `values` removes that key, as in Qdrant.
 */
export function mergeAtPath(payload: Payload, steps: readonly PathStep[], values: Payload): void {
  let target: Payload = payload;
  for (const step of steps) {
    if (!("key" in step)) {
      throw new InvalidArgumentError("set_payload.key: array steps ([] or [n]) cannot be set into");
    }
    const next = target[step.key];
    if (!isPlainObject(next)) target[step.key] = {};
    target = target[step.key] as Payload;
  }
  for (const [key, value] of Object.entries(values)) {
    if (value === null) delete target[key];
    else target[key] = value;
  }
}

function isPlainObject(value: unknown): value is Payload {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
