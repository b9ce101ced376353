/**
 * A hash map from integer point ids (below 2^53) to offsets, held in two typed arrays so that it can be
 * saved and loaded as bytes: opening a 1M-point segment copies 12 MB instead of inserting a million
 * entries into a `Map` (which took most of the open time).
 *
 * Open addressing with linear probing and backward-shift deletion (no tombstones, so probe sequences never
 * grow with churn). The load factor stays at or below one half.
 *
 * @module
 */

const EMPTY = 0;
const CAPACITY_MIN = 1024;

/** An id → offset map over typed arrays. */
export class NumberMap {
  /** Slot keys; meaningful where the slot's value is not EMPTY. */
  #keys: Float64Array;
  /** Slot values: offset + 1, or EMPTY. */
  #values: Uint32Array;
  #size = 0;

  constructor(keys?: Float64Array, values?: Uint32Array, size = 0) {
    this.#keys = keys ?? new Float64Array(CAPACITY_MIN);
    this.#values = values ?? new Uint32Array(CAPACITY_MIN);
    this.#size = size;
    if (this.#keys.length !== this.#values.length || !isPowerOfTwo(this.#keys.length)) {
      throw new RangeError(`NumberMap needs two arrays of one power-of-two length, got ${this.#keys.length}`);
    }
  }

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** The slot arrays, for saving (see {@linkcode NumberMap} constructor to load). */
  get slots(): { keys: Float64Array; values: Uint32Array } {
    return { keys: this.#keys, values: this.#values };
  }

  /** The offset stored for `id`. */
  get(id: number): number | undefined {
    const mask = this.#keys.length - 1;
    // Probing stops at an empty slot, and at most half of the slots are full.
    for (let slot = hash(id) & mask;; slot = (slot + 1) & mask) {
      const value = this.#values[slot];
      if (value === EMPTY) return undefined;
      if (this.#keys[slot] === id) return value - 1;
    }
  }

  /** Stores `offset` for `id` (offsets below 2^32 - 1). */
  set(id: number, offset: number): void {
    if ((this.#size + 1) * 2 > this.#keys.length) this.#resize(this.#keys.length * 2);
    const mask = this.#keys.length - 1;
    for (let slot = hash(id) & mask;; slot = (slot + 1) & mask) {
      const value = this.#values[slot];
      if (value === EMPTY) {
        this.#keys[slot] = id;
        this.#values[slot] = offset + 1;
        this.#size++;
        return;
      }
      if (this.#keys[slot] === id) {
        this.#values[slot] = offset + 1;
        return;
      }
    }
  }

  /** Removes `id`; returns its offset if it was present. */
  delete(id: number): number | undefined {
    const mask = this.#keys.length - 1;
    let slot = hash(id) & mask;
    for (;; slot = (slot + 1) & mask) {
      const value = this.#values[slot];
      if (value === EMPTY) return undefined;
      if (this.#keys[slot] === id) break;
    }
    const offset = this.#values[slot] - 1;
    // Backward shift: move later entries of the probe run into the hole when their home slot allows it.
    let hole = slot;
    for (let next = (hole + 1) & mask; this.#values[next] !== EMPTY; next = (next + 1) & mask) {
      const home = hash(this.#keys[next]) & mask;
      // The entry at `next` may move to `hole` unless its home lies cyclically in (hole, next].
      const homeAfterHole = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (homeAfterHole) continue;
      this.#keys[hole] = this.#keys[next];
      this.#values[hole] = this.#values[next];
      hole = next;
    }
    this.#values[hole] = EMPTY;
    this.#size--;
    return offset;
  }

  #resize(capacity: number): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#keys = new Float64Array(capacity);
    this.#values = new Uint32Array(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < keys.length; i++) {
      if (values[i] === EMPTY) continue;
      let slot = hash(keys[i]) & mask;
      while (this.#values[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.#keys[slot] = keys[i];
      this.#values[slot] = values[i];
    }
  }
}

/** Mixes both 32-bit halves of an integer below 2^53 (murmur3's finaliser). */
function hash(id: number): number {
  let h = (id >>> 0) ^ Math.imul(Math.floor(id / 4294967296), 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && (n & (n - 1)) === 0;
}
