/**
 * Building blocks shared by the payload indexes: per-offset value lists in CSR form (one array of list
 * starts, one of values), an offset collector that picks a sorted array or a bitset for its result, and a
 * stable radix sort over 64-bit keys given as two 32-bit halves.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { bitsetBytes, bitsetCount, OffsetSet } from "./offset_set.ts";

type Column = Uint32Array | Float64Array;

/**
 * Per offset, a list of numbers: offset `o` owns `data[starts[o], starts[o + 1])`. Offsets are appended in
 * increasing order; a skipped offset owns an empty list. Nothing is ever rewritten.
 */
export class ListColumn<A extends Column> {
  #starts: Uint32Array;
  #data: A;
  #offsets = 0;
  #size = 0;
  readonly #make: (length: number) => A;

  constructor(make: (length: number) => A, starts?: Uint32Array, data?: A) {
    this.#make = make;
    if (starts === undefined || data === undefined) {
      this.#starts = new Uint32Array(1024);
      this.#data = make(1024);
      return;
    }
    // Restored columns own copies of exactly the persisted lengths; growth reallocates.
    this.#offsets = starts.length - 1;
    this.#size = starts[starts.length - 1];
    this.#starts = starts;
    this.#data = data;
  }

  /** Number of offsets covered: [0, length). */
  get length(): number {
    return this.#offsets;
  }

  /** Total number of values. */
  get size(): number {
    return this.#size;
  }

  /** The value array (valid up to `size`); re-read after every append. */
  get data(): A {
    return this.#data;
  }

  /** Start of the list of `offset` in `data`. */
  start(offset: number): number {
    return this.#starts[offset];
  }

  /** End (exclusive) of the list of `offset` in `data`. */
  end(offset: number): number {
    return this.#starts[offset + 1];
  }

  /** Number of values of `offset` (0 beyond the end). */
  count(offset: number): number {
    return offset < this.#offsets ? this.#starts[offset + 1] - this.#starts[offset] : 0;
  }

  /** Appends the list of `offset` (above every offset appended so far); offsets in between get empty lists. */
  append(offset: number, values: ArrayLike<number>, count = values.length): void {
    if (offset < this.#offsets) {
      throw new InvalidArgumentError(
        `Cannot index offset ${offset}: offsets are append-only and the index already covers [0, ${this.#offsets})`,
      );
    }
    if (this.#starts.length < offset + 2) this.#starts = growU32(this.#starts, offset + 2);
    for (let o = this.#offsets + 1; o <= offset; o++) this.#starts[o] = this.#size;
    if (this.#data.length < this.#size + count) {
      const grown = this.#make(Math.max(this.#size + count, this.#data.length * 2));
      grown.set(this.#data.subarray(0, this.#size) as never);
      this.#data = grown;
    }
    for (let i = 0; i < count; i++) this.#data[this.#size + i] = values[i];
    this.#size += count;
    this.#offsets = offset + 1;
    this.#starts[this.#offsets] = this.#size;
  }

  /** Extends the covered range to `offsets` with empty lists. */
  extend(offsets: number): void {
    if (offsets > this.#offsets) this.append(offsets - 1, [], 0);
  }

  /** The list starts, `length + 1` of them (a view). */
  startsView(): Uint32Array {
    return this.#starts.subarray(0, this.#offsets + 1);
  }

  /** The values (a view). */
  dataView(): A {
    return this.#data.subarray(0, this.#size) as A;
  }
}

/** A copy of `array` with room for at least `length` elements. */
export function growU32(array: Uint32Array, length: number): Uint32Array {
  if (array.length >= length) return array;
  const grown = new Uint32Array(Math.max(length, array.length * 2, 64));
  grown.set(array);
  return grown;
}

/** A copy of `bits` with room for at least `offsets` bits. */
export function growBits(bits: Uint8Array, offsets: number): Uint8Array {
  const bytes = bitsetBytes(offsets);
  if (bits.length >= bytes) return bits;
  const grown = new Uint8Array(Math.max(bytes, bits.length * 2, 64));
  grown.set(bits);
  return grown;
}

/**
 * Gathers offsets (in any order, with repeats) and returns them as an {@linkcode OffsetSet} without the
 * removed ones. Starts as a list and switches to a bitset once the list would be larger than the bitset.
 */
export class OffsetCollector {
  readonly #universe: number;
  #list: Uint32Array | undefined = new Uint32Array(64);
  #count = 0;
  #sorted = true;
  #bits: Uint8Array | undefined;

  constructor(universe: number) {
    this.#universe = universe;
  }

  add(offset: number): void {
    if (this.#bits !== undefined) {
      this.#bits[offset >>> 3] |= 1 << (offset & 7);
      return;
    }
    const list = this.#list!;
    if (this.#count > 0 && offset <= list[this.#count - 1]) {
      if (offset === list[this.#count - 1]) return;
      this.#sorted = false;
    }
    if (this.#count === list.length) {
      // A list of n offsets costs 4n bytes, a bitset universe / 8: switch when the list would be larger.
      if (this.#count * 32 >= this.#universe) {
        this.#toBits();
        this.#bits![offset >>> 3] |= 1 << (offset & 7);
        return;
      }
      this.#list = growU32(list, this.#count + 1);
    }
    this.#list![this.#count++] = offset;
  }

  /** Adds `offsets[from, to)`. */
  addAll(offsets: ArrayLike<number>, from = 0, to = offsets.length): void {
    for (let i = from; i < to; i++) this.add(offsets[i]);
  }

  #toBits(): void {
    const bits = new Uint8Array(bitsetBytes(this.#universe));
    const list = this.#list!;
    for (let i = 0; i < this.#count; i++) bits[list[i] >>> 3] |= 1 << (list[i] & 7);
    this.#bits = bits;
    this.#list = undefined;
  }

  /** The collected offsets minus those whose bit is set in `removed`. */
  finish(removed: Uint8Array): OffsetSet {
    if (this.#bits !== undefined) {
      const bits = this.#bits;
      const bytes = Math.min(bits.length, removed.length);
      for (let i = 0; i < bytes; i++) bits[i] &= ~removed[i];
      return OffsetSet.fromBitset(bits, this.#universe, bitsetCount(bits));
    }
    let list = this.#list!.subarray(0, this.#count);
    if (!this.#sorted) list.sort();
    let n = 0;
    let previous = -1;
    for (let i = 0; i < list.length; i++) {
      const offset = list[i];
      if (offset === previous) continue;
      previous = offset;
      if ((removed[offset >>> 3] & (1 << (offset & 7))) !== 0) continue;
      list[n++] = offset;
    }
    list = list.slice(0, n);
    return OffsetSet.fromSorted(list, this.#universe);
  }
}

/**
 * The order (a permutation of `0..n-1`) that sorts entries by the unsigned 64-bit key `hi * 2^32 + lo`,
 * stable: equal keys keep their input order. LSD radix sort over four 16-bit digits.
 */
export function radixOrder(hi: Uint32Array, lo: Uint32Array, n: number): Uint32Array {
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < 2) return order;
  let scratch = new Uint32Array(n);
  const counts = new Uint32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    const keys = pass < 2 ? lo : hi;
    const shift = (pass & 1) * 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[((keys[order[i]] >>> shift) & 0xffff) + 1]++;
    // A pass whose digit is the same everywhere moves nothing.
    if (counts[((keys[order[0]] >>> shift) & 0xffff) + 1] === n) continue;
    for (let d = 1; d <= 65536; d++) counts[d] += counts[d - 1];
    for (let i = 0; i < n; i++) {
      const entry = order[i];
      scratch[counts[(keys[entry] >>> shift) & 0xffff]++] = entry;
    }
    const swap = order;
    order = scratch;
    scratch = swap;
  }
  return order;
}

const F64 = new Float64Array(1);
const F64_WORDS = new Uint32Array(F64.buffer);
/** Index of the high word of a float64 in F64_WORDS (platform byte order). */
const HIGH = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 1 : 0;

/**
 * Writes into `hi[i]`, `lo[i]` a 64-bit key whose unsigned order is the numeric order of `value`
 * (`-0` sorts as `0`; NaN never occurs in payloads).
 */
export function sortableFloatKey(value: number, hi: Uint32Array, lo: Uint32Array, i: number): void {
  F64[0] = value === 0 ? 0 : value;
  const high = F64_WORDS[HIGH];
  const low = F64_WORDS[1 - HIGH];
  if (high & 0x80000000) {
    hi[i] = ~high >>> 0;
    lo[i] = ~low >>> 0;
  } else {
    hi[i] = (high | 0x80000000) >>> 0;
    lo[i] = low;
  }
}

/** The high 32 bits of the IEEE-754 representation of `value`. */
export function float64HighWord(value: number): number {
  F64[0] = value;
  return F64_WORDS[HIGH];
}

/** The low 32 bits of the IEEE-754 representation of `value`. */
export function float64LowWord(value: number): number {
  F64[0] = value;
  return F64_WORDS[1 - HIGH];
}

/** Unicode code point order (= UTF-8 byte order, Rust's `str` order) of two strings. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800-DFFF) stand for code points above U+FFFF, so they sort after U+E000-FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
