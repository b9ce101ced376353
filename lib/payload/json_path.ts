/**
 * Qdrant's JSON paths into payloads: `a.b`, `a[]` (every element), `a[0]` (one element), `a[].b`, and
 * `"a.b"` for a key that contains a dot.
 *
 * The grammar (Qdrant `lib/segment/src/json_path/parse.rs`), the one place it is parsed: a first key,
 * then any number of `.key`, `[n]` and `[]`. A bare key is one or more characters that are alphanumeric
 * (Unicode), `_` or `-`; any other key is written in double quotes (`"a.b"`, `"with space"`), and a
 * quoted key cannot contain `"` or `\`. Nothing may follow the path: `a.`, `a[`, `a b` and `.a` are errors.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import type { Payload } from "../segment/payload_storage.ts";

/** One step of a path: an object key, one array element, or every element. */
export type PathStep = { key: string } | { index: number } | { every: true };

const BARE_KEY_CHAR = /[\p{Alphabetic}\p{N}_-]/u;
const DIGIT = /[0-9]/;

/** Parses `path`; returns the steps, or a sentence saying why it is not a JSON path. */
export function parseJsonPath(path: string): PathStep[] | string {
  const steps: PathStep[] = [];
  let at = 0;
  const first = readKey(path, at);
  if (typeof first === "string") return first;
  steps.push({ key: first.key });
  at = first.end;
  // Each pass consumes at least one character, so the loop ends within path.length passes.
  while (at < path.length) {
    const c = path[at];
    if (c === ".") {
      const next = readKey(path, at + 1);
      if (typeof next === "string") return next;
      steps.push({ key: next.key });
      at = next.end;
    } else if (c === "[") {
      if (path[at + 1] === "]") {
        steps.push({ every: true });
        at += 2;
        continue;
      }
      let end = at + 1;
      while (end < path.length && DIGIT.test(path[end])) end++;
      if (end === at + 1 || path[end] !== "]") return `expected "[]" or "[<index>]" at offset ${at}`;
      const index = Number(path.slice(at + 1, end));
      if (!Number.isSafeInteger(index)) return `array index ${path.slice(at + 1, end)} is too large`;
      steps.push({ index });
      at = end + 1;
    } else {
      return `unexpected ${JSON.stringify(c)} at offset ${at}`;
    }
  }
  return steps;
}

function readKey(path: string, at: number): { key: string; end: number } | string {
  if (path[at] === '"') {
    let end = at + 1;
    while (end < path.length && path[end] !== '"' && path[end] !== "\\") end++;
    if (path[end] === "\\") return `a quoted key cannot contain a backslash (offset ${end})`;
    if (path[end] !== '"') return `unterminated quoted key at offset ${at}`;
    return { key: path.slice(at + 1, end), end: end + 1 };
  }
  let end = at;
  // Iterate by code point so that astral letters count as one character.
  while (end < path.length) {
    const cp = path.codePointAt(end)!;
    const ch = String.fromCodePoint(cp);
    if (!BARE_KEY_CHAR.test(ch)) break;
    end += ch.length;
  }
  if (end === at) {
    return at >= path.length
      ? `expected a key at the end`
      : `expected a key at offset ${at}, got ${JSON.stringify(path[at])} (quote keys with other characters)`;
  }
  return { key: path.slice(at, end), end };
}

/** Parses a JSON path, or throws an InvalidArgumentError naming `where` and the path. */
export function parsePath(path: unknown, where: string): PathStep[] {
  if (typeof path !== "string") {
    throw new InvalidArgumentError(
      `${where}: expected a JSON path such as "a.b" or "a[].b", got ${JSON.stringify(path)}`,
    );
  }
  const steps = parseJsonPath(path);
  if (typeof steps === "string") {
    throw new InvalidArgumentError(`${where}: ${JSON.stringify(path)} is not a JSON path: ${steps}`);
  }
  return steps;
}

/**
 * The values `steps` reaches in `payload`, as Qdrant's `value_get`: a key reads an object's property (an
 * array is not looked through), `[n]` one element, `[]` every element. Arrays at the end come back whole.
 */
export function valuesAt(payload: unknown, steps: readonly PathStep[]): unknown[] {
  let values: unknown[] = [payload];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of values) {
      if ("key" in step) {
        if (isPlainObject(value) && Object.hasOwn(value, step.key)) next.push(value[step.key]);
      } else if (Array.isArray(value)) {
        if ("every" in step) next.push(...value);
        else if (step.index < value.length) next.push(value[step.index]);
      }
    }
    values = next;
  }
  return values;
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
