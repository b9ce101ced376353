/**
 * Payload keys in filters: Qdrant's JSON path grammar, parsed strictly, and a walker that visits every value a
 * path reaches without allocating.
 *
 * The grammar (Qdrant `lib/segment/src/json_path/parse.rs`): a first key, then any number of `.key`, `[n]` and
 * `[]`. A bare key is one or more characters that are alphanumeric (Unicode), `_` or `-`; any other key is
 * written in double quotes (`"a.b"`, `"with space"`), and a quoted key cannot contain `"` or `\`. Nothing may
 * follow the path: `a.`, `a[`, `a b` and `.a` are errors.
 *
 * Walking a path (Qdrant `JsonPath::value_get`): a key step reads a property of an object (an array is not looked
 * through: `a.b` on `{"a": [{"b": 1}]}` reaches nothing), `[n]` reads one element of an array, `[]` reads every
 * element. The values at the end of the path are returned as they are, so `a` on `{"a": [1, 2]}` reaches one
 * value, the array.
 *
 * @module
 */
/**
 * One step of a path: an object key, one array element, or every element (the same shape as
 * `lib/payload/json_path.ts` uses; kept here so that filters do not depend on the payload module).
 */
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

/** Returns `steps` with a trailing `[]` added unless it already ends in one (Qdrant's `array_key`). */
export function arrayKey(steps: readonly PathStep[]): PathStep[] {
  const last = steps[steps.length - 1];
  return last !== undefined && "every" in last ? [...steps] : [...steps, { every: true }];
}

/** What a walk found: no value at all (0), values none of which passed (1), or a value that passed (2). */
export type Reach = 0 | 1 | 2;
/** The path reached no value. */
export const REACH_NONE = 0;
/** The path reached values, none of which passed. */
export const REACH_SOME = 1;
/** The path reached a value that passed. */
export const REACH_MATCH = 2;

/** A compiled path: `(document, test)` visits the values the path reaches and stops at the first that passes. */
export type PathWalker = (
  document: Readonly<Record<string, unknown>>,
  test: (value: unknown) => boolean,
) => Reach;

type Step = { kind: 0; key: string } | { kind: 1; index: number } | { kind: 2 };

/** Compiles parsed steps into a walker. A single key (the common case) gets a walker without a loop. */
export function compileWalker(steps: readonly PathStep[]): PathWalker {
  const compiled: Step[] = steps.map((step) =>
    "key" in step
      ? { kind: 0, key: step.key }
      : "index" in step
      ? { kind: 1, index: step.index }
      : { kind: 2 }
  );
  if (compiled.length === 1) {
    const key = (compiled[0] as { key: string }).key;
    return (document, test) => {
      if (!Object.hasOwn(document, key)) return REACH_NONE;
      return test(document[key]) ? REACH_MATCH : REACH_SOME;
    };
  }
  return (document, test) => walk(document, compiled, 0, test);
}

function walk(
  value: unknown,
  steps: readonly Step[],
  from: number,
  test: (value: unknown) => boolean,
): Reach {
  let current = value;
  for (let i = from; i < steps.length; i++) {
    const step = steps[i];
    if (step.kind === 0) {
      if (!isObject(current) || !Object.hasOwn(current, step.key)) return REACH_NONE;
      current = current[step.key];
    } else if (step.kind === 1) {
      if (!Array.isArray(current) || step.index >= current.length) return REACH_NONE;
      current = current[step.index];
    } else {
      if (!Array.isArray(current)) return REACH_NONE;
      let reach: Reach = REACH_NONE;
      // Recursion depth is bounded by the number of `[]` steps in the path.
      for (const element of current) {
        const found = walk(element, steps, i + 1, test);
        if (found === REACH_MATCH) return REACH_MATCH;
        if (found > reach) reach = found;
      }
      return reach;
    }
  }
  return test(current) ? REACH_MATCH : REACH_SOME;
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
