/**
 * Geometric growth for the typed arrays that index segments by offset.
 *
 * @module
 */

type Growable = Float64Array | Uint32Array | Uint8Array;

/** Returns `array` if it has at least `length` elements, else a copy at least twice as long. */
export function grown<T extends Growable>(array: T, length: number): T {
  if (length <= array.length) return array;
  const capacity = Math.max(length, array.length * 2, 64);
  const copy = new (array.constructor as new (n: number) => T)(capacity);
  copy.set(array);
  return copy;
}
