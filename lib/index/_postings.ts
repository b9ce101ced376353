/**
 * Per offset a list of dense ids (value ids of a map index, token ids of a full-text index), with the
 * inverted view: per id the offsets that list it. The inverted view is built by counting sort for the
 * offsets added so far and extended by a scan of the offsets added since, and rebuilt once that tail
 * outgrows an eighth of the lists.
 *
 * @module
 */
import { check, checkStarts } from "./_codec.ts";
import { growU32, ListColumn, OffsetCollector } from "./_columns.ts";
import { OffsetSet } from "./offset_set.ts";

/** Offsets scanned without postings before a rebuild: an eighth of the lists, at least this many. */
const TAIL_MIN = 4096;

/** Id lists per offset and their inverted postings. */
export class Postings {
  /** The id lists, by offset. */
  forward: ListColumn<Uint32Array> = new ListColumn((n) => new Uint32Array(n));
  /** Per id, the number of offsets not removed that list it. */
  counts: Uint32Array = new Uint32Array(64);
  #starts: Uint32Array = new Uint32Array(1);
  #postings: Uint32Array = new Uint32Array(0);
  /** Postings cover offsets [0, #builtOffsets) and ids [0, #builtIds). */
  #builtOffsets = 0;
  #builtIds = 0;

  /** Makes room for ids below `ids`. */
  reserve(ids: number): void {
    this.counts = growU32(this.counts, ids);
  }

  /** Appends the list of `offset` (every id must be reserved) and counts it. */
  append(offset: number, ids: ArrayLike<number>): void {
    this.forward.append(offset, ids);
    for (let i = 0; i < ids.length; i++) this.counts[ids[i]]++;
  }

  /** Uncounts the list of a removed offset; returns its length. */
  uncount(offset: number): number {
    if (offset >= this.forward.length) return 0;
    const data = this.forward.data;
    const end = this.forward.end(offset);
    for (let i = this.forward.start(offset); i < end; i++) this.counts[data[i]]--;
    return end - this.forward.start(offset);
  }

  /** Whether the list of `offset` contains `id` (lists sorted ascending when `sorted`). */
  contains(offset: number, id: number, sorted: boolean): boolean {
    const data = this.forward.data;
    let lo = this.forward.start(offset);
    let hi = this.forward.end(offset);
    if (!sorted) {
      for (let i = lo; i < hi; i++) if (data[i] === id) return true;
      return false;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (data[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.forward.end(offset) && data[lo] === id;
  }

  #ready(ids: number): void {
    const tail = this.forward.length - this.#builtOffsets;
    if (tail > Math.max(TAIL_MIN, this.forward.length >>> 3)) this.#rebuild(ids);
  }

  #rebuild(ids: number): void {
    const offsets = this.forward.length;
    const data = this.forward.data;
    const starts = new Uint32Array(ids + 1);
    for (let i = 0; i < this.forward.size; i++) starts[data[i] + 1]++;
    for (let id = 0; id < ids; id++) starts[id + 1] += starts[id];
    const fill = starts.slice(0, ids);
    const postings = new Uint32Array(this.forward.size);
    for (let o = 0; o < offsets; o++) {
      const end = this.forward.end(o);
      for (let i = this.forward.start(o); i < end; i++) postings[fill[data[i]]++] = o;
    }
    this.#starts = starts;
    this.#postings = postings;
    this.#builtOffsets = offsets;
    this.#builtIds = ids;
  }

  /** Calls `visit` with each offset that lists `id`, in increasing order (removed ones included). */
  #forEachOffset(id: number, ids: number, visit: (offset: number) => void): void {
    this.#ready(ids);
    if (id < this.#builtIds) {
      const end = this.#starts[id + 1];
      for (let i = this.#starts[id]; i < end; i++) visit(this.#postings[i]);
    }
    // New ids only appear in new offsets, so the tail scan also covers ids added since the build.
    const data = this.forward.data;
    for (let o = this.#builtOffsets; o < this.forward.length; o++) {
      const end = this.forward.end(o);
      for (let i = this.forward.start(o); i < end; i++) {
        if (data[i] === id) {
          visit(o);
          break;
        }
      }
    }
  }

  /** The offsets that list `id`, without removed ones. */
  offsetsOf(id: number, ids: number, removed: Uint8Array, universe: number): OffsetSet {
    const out = new Uint32Array(this.counts[id]);
    let n = 0;
    this.#forEachOffset(id, ids, (o) => {
      if ((removed[o >>> 3] & (1 << (o & 7))) === 0) out[n++] = o;
    });
    return OffsetSet.fromSorted(n === out.length ? out : out.slice(0, n), universe);
  }

  /** The offsets that list any of `wanted`, without removed ones. */
  union(wanted: readonly number[], ids: number, removed: Uint8Array, universe: number): OffsetSet {
    if (wanted.length === 0) return OffsetSet.empty(universe);
    if (wanted.length === 1) return this.offsetsOf(wanted[0], ids, removed, universe);
    this.#ready(ids);
    const collector = new OffsetCollector(universe);
    const marks = new Uint8Array(ids);
    for (const id of wanted) {
      marks[id] = 1;
      if (id < this.#builtIds) collector.addAll(this.#postings, this.#starts[id], this.#starts[id + 1]);
    }
    const data = this.forward.data;
    for (let o = this.#builtOffsets; o < this.forward.length; o++) {
      const end = this.forward.end(o);
      for (let i = this.forward.start(o); i < end; i++) {
        if (marks[data[i]] === 1) {
          collector.add(o);
          break;
        }
      }
    }
    return collector.finish(removed);
  }

  /** The offsets that list at least one id outside `excluded`, without removed ones. */
  except(excluded: readonly number[], ids: number, removed: Uint8Array, universe: number): OffsetSet {
    const marks = new Uint8Array(ids);
    for (const id of excluded) marks[id] = 1;
    const collector = new OffsetCollector(universe);
    const data = this.forward.data;
    for (let o = 0; o < this.forward.length; o++) {
      const end = this.forward.end(o);
      for (let i = this.forward.start(o); i < end; i++) {
        if (marks[data[i]] === 0) {
          collector.add(o);
          break;
        }
      }
    }
    return collector.finish(removed);
  }

  /**
   * The offsets that list every id of `wanted` (lists sorted) and pass `accept`, without removed ones:
   * walks the rarest id's postings and checks the others per offset.
   */
  intersect(
    wanted: readonly number[],
    ids: number,
    removed: Uint8Array,
    universe: number,
    accept?: (offset: number) => boolean,
  ): OffsetSet {
    if (wanted.length === 0) return OffsetSet.empty(universe);
    let rarest = wanted[0];
    for (const id of wanted) if (this.counts[id] < this.counts[rarest]) rarest = id;
    const out = new Uint32Array(this.counts[rarest]);
    let n = 0;
    this.#forEachOffset(rarest, ids, (o) => {
      if ((removed[o >>> 3] & (1 << (o & 7))) !== 0) return;
      for (const id of wanted) if (id !== rarest && !this.contains(o, id, true)) return;
      if (accept !== undefined && !accept(o)) return;
      out[n++] = o;
    });
    return OffsetSet.fromSorted(n === out.length ? out : out.slice(0, n), universe);
  }

  /** Restores the lists of a deserialized index and recounts the ids of offsets not removed. */
  restore(
    starts: Uint32Array,
    data: Uint32Array,
    offsets: number,
    ids: number,
    isRemoved: (o: number) => boolean,
  ): void {
    checkStarts(starts, offsets, data.length, "id lists");
    this.counts = new Uint32Array(Math.max(64, ids));
    for (let o = 0; o < offsets; o++) {
      const live = !isRemoved(o);
      for (let i = starts[o]; i < starts[o + 1]; i++) {
        check(data[i] < ids, `offset ${o} lists id ${data[i]}, there are ${ids}`);
        if (live) this.counts[data[i]]++;
      }
    }
    this.forward = new ListColumn((n) => new Uint32Array(n), starts, data);
  }
}
