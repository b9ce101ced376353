/**
 * Payload keys in filters: Qdrant's JSON path grammar, parsed strictly, and a walker that visits every value a
 * path reaches without allocating.
 *
 * The grammar is parsed in `lib/payload/json_path.ts` (one place for the whole engine).
 *
 * Walking a path (Qdrant `JsonPath::value_get`): a key step reads a property of an object (an array is not looked
 * through: `a.b` on `{"a": [{"b": 1}]}` reaches nothing), `[n]` reads one element of an array, `[]` reads every
 * element. The values at the end of the path are returned as they are, so `a` on `{"a": [1, 2]}` reaches one
 * value, the array.
 *
 * @module
 */
import { parseJsonPath, type PathStep } from "../payload/json_path.ts";

export { parseJsonPath, type PathStep };

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
