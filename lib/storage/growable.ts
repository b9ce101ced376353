/**
 * Geometric growth for the typed arrays that index segments by offset, and memory kept from one write to
 * the next.
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

/** Kept memory up to this size; a larger request gets memory of its own, let go after use. */
const KEPT_BYTES_MAX = 64 << 20;

/**
 * Memory reused from one write to the next (an update's prepared vectors, its WAL record). A fresh buffer
 * per write costs a page fault per 4 KB on its first use (1.5 MB per batch of 1,000 384-d points: most of
 * a batch's time in a VM); kept memory is already mapped. What `take` returned is valid until the next
 * `take`. Memory over 64 MB is not kept: one huge batch should not hold it for the shard's lifetime.
 *
 * @example
 * ```ts
 * const kept = new KeptBuffer();
 * const a = kept.take(1024);
 * const b = kept.take(512); // the same memory as `a`
 * console.log(a === b, a.byteLength >= 1024); // true true
 * ```
 */
export class KeptBuffer {
  #buffer = new ArrayBuffer(0);

  /** An ArrayBuffer of at least `bytes` bytes (contents undefined), with a quarter to spare when fresh. */
  take(bytes: number): ArrayBuffer {
    if (bytes <= this.#buffer.byteLength) return this.#buffer;
    const fresh = new ArrayBuffer(bytes + (bytes >> 2));
    if (fresh.byteLength <= KEPT_BYTES_MAX) this.#buffer = fresh;
    return fresh;
  }
}
