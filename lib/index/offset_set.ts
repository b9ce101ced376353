/**
 * Sets of segment offsets, the answer of every payload index query, in the two forms callers need: a sorted
 * `Uint32Array` (for walking candidates in offset order) and a bitset (`Uint8Array`, bit `o % 8` of byte
 * `o >> 3` set when offset `o` is in the set, least significant bit first), which the native exact-search
 * kernel takes as its allow-list.
 *
 * An {@linkcode OffsetSet} holds whichever form was cheaper to build and converts on demand, once.
 *
 * @example
 * ```ts
 * import { OffsetSet } from "./offset_set.ts";
 * const set = OffsetSet.fromSorted(Uint32Array.of(1, 5, 9), 16);
 * console.log(set.size, set.has(5), set.toBitset()); // 3 true Uint8Array(2) [ 34, 2 ]
 * ```
 *
 * @module
 */

/** Number of set bits in each byte value. */
const POPCOUNT = /* @__PURE__ */ (() => {
  const table = new Uint8Array(256);
  for (let i = 1; i < 256; i++) table[i] = (i & 1) + table[i >> 1];
  return table;
})();

/**
 * A set of offsets below `universe`, kept as a sorted array or as a bitset.
 *
 * @example
 * ```ts
 * import { OffsetSet } from "./offset_set.ts";
 * const bits = new Uint8Array(2);
 * bits[0] = 0b0000_0101; // offsets 0 and 2
 * const set = OffsetSet.fromBitset(bits, 16);
 * console.log([...set.toArray()]); // [ 0, 2 ]
 * ```
 */
export class OffsetSet {
  /** Every offset in the set is below this bound; bitsets have `ceil(universe / 8)` bytes. */
  readonly universe: number;
  #sorted: Uint32Array | undefined;
  #bits: Uint8Array | undefined;
  #size: number;

  private constructor(
    universe: number,
    sorted: Uint32Array | undefined,
    bits: Uint8Array | undefined,
    size: number,
  ) {
    this.universe = universe;
    this.#sorted = sorted;
    this.#bits = bits;
    this.#size = size;
  }

  /**
   * The empty set.
   *
   * @example
   * ```ts
   * import { OffsetSet } from "./offset_set.ts";
   * console.log(OffsetSet.empty(10).size); // 0
   * ```
   */
  static empty(universe: number): OffsetSet {
    return new OffsetSet(universe, new Uint32Array(0), undefined, 0);
  }

  /**
   * Wraps a strictly increasing array of offsets below `universe` (not copied: the caller gives it up).
   *
   * @example
   * ```ts
   * import { OffsetSet } from "./offset_set.ts";
   * console.log(OffsetSet.fromSorted(Uint32Array.of(2, 3), 4).has(3)); // true
   * ```
   */
  static fromSorted(sorted: Uint32Array, universe: number): OffsetSet {
    if (sorted.length > 0 && sorted[sorted.length - 1] >= universe) {
      throw new RangeError(
        `Offset ${sorted[sorted.length - 1]} is outside the universe of ${universe} offsets`,
      );
    }
    return new OffsetSet(universe, sorted, undefined, sorted.length);
  }

  /**
   * Wraps a bitset of at least `ceil(universe / 8)` bytes (not copied); bits at or above `universe` must be 0.
   * Pass `size` when the number of set bits is already known.
   *
   * @example
   * ```ts
   * import { OffsetSet } from "./offset_set.ts";
   * console.log(OffsetSet.fromBitset(Uint8Array.of(0xff), 8).size); // 8
   * ```
   */
  static fromBitset(bits: Uint8Array, universe: number, size?: number): OffsetSet {
    if (bits.length < bitsetBytes(universe)) {
      throw new RangeError(`A bitset of ${bits.length} bytes cannot hold ${universe} offsets`);
    }
    return new OffsetSet(universe, undefined, bits, size ?? bitsetCount(bits));
  }

  /** Number of offsets in the set. */
  get size(): number {
    return this.#size;
  }

  /** Whether `offset` is in the set. */
  has(offset: number): boolean {
    if (!(offset >= 0 && offset < this.universe)) return false;
    if (this.#bits !== undefined) return (this.#bits[offset >>> 3] & (1 << (offset & 7))) !== 0;
    const sorted = this.#sorted!;
    const at = lowerBound(sorted, offset);
    return at < sorted.length && sorted[at] === offset;
  }

  /** The offsets in increasing order (cached: do not modify the returned array). */
  toArray(): Uint32Array {
    if (this.#sorted === undefined) this.#sorted = offsetsOfBitset(this.#bits!, this.universe, this.#size);
    return this.#sorted;
  }

  /**
   * The set as a bitset of `max(ceil(universe / 8), minBytes)` bytes (cached when no padding is asked for:
   * do not modify it; a padded bitset is a fresh copy).
   */
  toBitset(minBytes = 0): Uint8Array {
    if (this.#bits === undefined) this.#bits = bitsetOfOffsets(this.#sorted!, this.universe);
    if (minBytes <= this.#bits.length) return this.#bits;
    const padded = new Uint8Array(minBytes);
    padded.set(this.#bits);
    return padded;
  }
}

/**
 * Bytes of a bitset holding `universe` offsets.
 *
 * @example
 * ```ts
 * import { bitsetBytes } from "./offset_set.ts";
 * console.log(bitsetBytes(9)); // 2
 * ```
 */
export function bitsetBytes(universe: number): number {
  return (universe + 7) >>> 3;
}

/**
 * Number of set bits in `bits`.
 *
 * @example
 * ```ts
 * import { bitsetCount } from "./offset_set.ts";
 * console.log(bitsetCount(Uint8Array.of(0b1011, 0x80))); // 4
 * ```
 */
export function bitsetCount(bits: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < bits.length; i++) count += POPCOUNT[bits[i]];
  return count;
}

/**
 * Whether bit `offset` is set (false beyond the end of `bits`).
 *
 * @example
 * ```ts
 * import { bitsetHas } from "./offset_set.ts";
 * console.log(bitsetHas(Uint8Array.of(0b10), 1), bitsetHas(Uint8Array.of(0b10), 99)); // true false
 * ```
 */
export function bitsetHas(bits: Uint8Array, offset: number): boolean {
  return (bits[offset >>> 3] & (1 << (offset & 7))) !== 0;
}

/** The offsets set in `bits` below `universe`, increasing; `size` sizes the result when known. */
function offsetsOfBitset(bits: Uint8Array, universe: number, size: number): Uint32Array {
  const out = new Uint32Array(size);
  let n = 0;
  const bytes = bitsetBytes(universe);
  for (let i = 0; i < bytes; i++) {
    let byte = bits[i];
    // Each pass clears the lowest set bit, so at most 8 passes per byte.
    while (byte !== 0) {
      const low = byte & -byte;
      const offset = (i << 3) + (31 - Math.clz32(low));
      if (offset < universe) out[n++] = offset;
      byte ^= low;
    }
  }
  return n === size ? out : out.slice(0, n);
}

/** A bitset of `ceil(universe / 8)` bytes with the bits of `sorted` set. */
function bitsetOfOffsets(sorted: Uint32Array, universe: number): Uint8Array {
  const bits = new Uint8Array(bitsetBytes(universe));
  for (let i = 0; i < sorted.length; i++) bits[sorted[i] >>> 3] |= 1 << (sorted[i] & 7);
  return bits;
}

/**
 * First index in `array[from, to)` (sorted ascending) whose element is not below `value`.
 *
 * @example
 * ```ts
 * import { lowerBound } from "./offset_set.ts";
 * console.log(lowerBound(Uint32Array.of(1, 3, 3, 7), 3)); // 1
 * ```
 */
export function lowerBound(array: ArrayLike<number>, value: number, from = 0, to = array.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (array[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * First index in `array[from, to)` (sorted ascending) whose element is above `value`.
 *
 * @example
 * ```ts
 * import { upperBound } from "./offset_set.ts";
 * console.log(upperBound(Uint32Array.of(1, 3, 3, 7), 3)); // 3
 * ```
 */
export function upperBound(array: ArrayLike<number>, value: number, from = 0, to = array.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (array[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
