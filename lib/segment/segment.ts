/**
 * A segment: one directory holding an id tracker, a payload storage and one vector file per named vector.
 *
 * ```
 * segments/<uuid>/
 *   segment.json       format version and vector slots (name → slot, size, datatype, distance)
 *   id_tracker.log     committed id → offset mappings with versions (the commit point of every write)
 *   id_tracker.img     the tracker's in-memory maps as of a flush (so opening need not replay the log)
 *   payload.log        payload JSON by offset
 *   payload.img        the payload index (offset → position, length) as of a flush
 *   vectors/<slot>.vec native mmap'd vector file per named vector
 *   hnsw/<slot>.hnsw   HNSW graph over the vector's first `indexes[slot].points` offsets (built by optimize)
 *   quant/<slot>.qnt   quantized copies of those vectors (built by optimize when configured)
 * ```
 *
 * A segment written by `optimize()` has its indexes from the start; later writes land past the indexed
 * offsets (offsets are never reused), where searches scan them exactly.
 *
 * Writes go to fresh offsets, vectors and payloads first and the id tracker's commit record last, so a
 * crash at any point leaves the previous state readable.
 *
 * @module
 */
import { existsSync, mkdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { basename, join } from "node:path";
import { OperationError } from "../errors.ts";
import type { NativeLibrary } from "../ffi/loader.ts";
import {
  type Datatype,
  type Distance,
  type ExactSearchResult,
  VectorStorage,
} from "../kernel/vector_storage.ts";
import type { IdKey } from "../shard/point_id.ts";
import { readJson, syncDirectory, writeJsonAtomic } from "../storage/atomic_file.ts";
import { grown } from "../storage/growable.ts";
import { resolveVectorParams } from "../shard/config.ts";
import { IdTracker, type TrackerEntry } from "./id_tracker.ts";
import { type Payload, PayloadStorage } from "./payload_storage.ts";
import { type IndexedPoints, PayloadIndexes } from "./payload_indexes.ts";
import { bitsetCount, type PayloadFieldIndex } from "../index/mod.ts";
import type { QuantizationConfig } from "../shard/config.ts";
import { HnswGraph, QuantizedVectors, searchIndexed } from "../kernel/vector_index.ts";

const SEGMENT_FORMAT_VERSION = 1;

/** One named vector's place in a segment. */
export interface SegmentVector {
  slot: number;
  size: number;
  datatype: Datatype;
  distance: Distance;
}

/** A point ready to be written: validated, vectors in slot order (normalised for Cosine), payload encoded. */
export interface PreparedPoint {
  key: IdKey;
  /** Indexed by slot; undefined where the point has no such vector. */
  vectors: (Float32Array | undefined)[];
  /** JSON text of the payload; empty for `{}`. */
  payload: string;
  /** The payload itself, for the payload indexes. */
  payloadObject: Payload;
}

/** What `optimize()` built for one vector of a segment, recorded in `segment.json`. */
export interface VectorIndexState {
  /** Offsets below this are covered by the graph and the quantized vectors. */
  points: number;
  /** The graph's parameters, when there is a graph. */
  hnsw?: { m: number; ef_construct: number; seed: number };
  /** The quantization, when there are quantized vectors. */
  quantization?: QuantizationConfig;
}

/** How a segment searches one vector (Qdrant's `SearchParams`, resolved). */
export interface SegmentSearchParams {
  /** Candidates kept while walking the graph. */
  ef: number;
  /** Scan instead of walking the graph. */
  exact: boolean;
  /** Score with the original vectors only. */
  ignoreQuantization: boolean;
  rescore: boolean;
  oversampling: number;
}

/** A live point as copied into a new segment by `optimize()`. */
export interface CopiedPoint {
  key: IdKey;
  version: number;
  /** Indexed by slot of the NEW segment. */
  vectors: (Float32Array | undefined)[];
  /** JSON text of the payload; empty for `{}`. */
  payload: string;
  payloadObject: Payload;
}

/** The contents of `segment.json`. */
interface SegmentState {
  format_version: number;
  vectors: Record<string, SegmentVector>;
  /** Per slot, the indexes `optimize()` built. */
  indexes?: Record<string, VectorIndexState>;
  /** The segment this one replaced (an optimize publishes it; loading removes the replaced one if left). */
  replaces?: string;
  /** The slot the next created vector gets: slots are never reused, so old vector masks stay meaningful. */
  next_slot: number;
  /** What the last flush made durable: a writer that opens the segment discards what came after. */
  flushed?: Checkpoint;
}

/**
 * The durable state of a segment at its last flush. Log records after these sizes may have been written
 * back to disk in any order before a power cut (a commit without its payload, say), so a writer cuts the
 * logs back to here on open and the shard replays the write-ahead log, which holds every later operation.
 */
interface Checkpoint {
  /** The op number of the last operation applied before the flush. */
  version: number;
  id_tracker_bytes: number;
  payload_bytes: number;
  /** The id tracker log bytes that `id_tracker.img` covers, when the image is to be trusted. */
  id_tracker_image_bytes?: number;
  /** The payload log bytes that `payload.img` covers, when the image is to be trusted. */
  payload_image_bytes?: number;
}

/**
 * A flush saves a fresh image only once the log has grown past the old image by this share of its size,
 * so that frequent flushes of a big segment do not rewrite megabytes each time; the open replays at most
 * this share of the log.
 */
const IMAGE_REFRESH_SHARE = 1 / 16;
/** Logs smaller than this are replayed whole: an image would save nothing measurable. */
const IMAGE_LOG_BYTES_MIN = 256 * 1024;

/** Slots are bits of a u32 vector mask. */
export const SLOTS_MAX = 32;

/** One segment directory, open for reading and (unless read-only) writing. */
export class Segment {
  readonly dir: string;
  readonly #native: NativeLibrary;
  #state: SegmentState;
  /** Indexed by slot (sparse: deleted vectors leave holes). */
  readonly #storages: (VectorStorage | undefined)[];
  readonly #tracker: IdTracker;
  readonly #payloads: PayloadStorage;
  /** Per slot, a bitset of the offsets whose point is live and has that vector: the search allow-list. */
  readonly #present: (Uint8Array | undefined)[] = [];
  #indexes: PayloadIndexes;
  /** Per slot, the HNSW graph `optimize()` built. */
  readonly #graphs: (HnswGraph | undefined)[] = [];
  /** Per slot, the quantized vectors `optimize()` built. */
  readonly #quantized: (QuantizedVectors | undefined)[] = [];
  /** Per slot, the live points that have the vector: counted on demand, forgotten by every write. */
  #liveCounts: (number | undefined)[] = [];

  private constructor(
    native: NativeLibrary,
    dir: string,
    state: SegmentState,
    storages: (VectorStorage | undefined)[],
    tracker: IdTracker,
    payloads: PayloadStorage,
  ) {
    this.#native = native;
    this.dir = dir;
    this.#state = state;
    this.#storages = storages;
    this.#tracker = tracker;
    this.#payloads = payloads;
    this.#indexes = new PayloadIndexes(dir);
    for (const v of Object.values(state.vectors)) {
      this.#present[v.slot] = new Uint8Array(Math.max(128, (tracker.nextOffset >> 3) + 1));
    }
    const present = this.#present;
    tracker.forEachLive((offset, mask) => {
      for (let slot = 0; slot < present.length; slot++) {
        const bits = present[slot];
        if (bits !== undefined && (mask & (1 << slot)) !== 0) bits[offset >> 3] |= 1 << (offset & 7);
      }
    });
  }

  /** Creates a new, empty segment directory. */
  static create(
    native: NativeLibrary,
    dir: string,
    vectors: Record<string, Omit<SegmentVector, "slot">>,
  ): Segment {
    if (existsSync(dir)) {
      throw new OperationError(`Cannot create segment ${dir}: it exists`, { status: "EXISTS" });
    }
    mkdirSync(join(dir, "vectors"), { recursive: true });
    const slots: Record<string, SegmentVector> = {};
    Object.entries(vectors).forEach(([name, params], slot) => (slots[name] = { slot, ...params }));
    const storages: VectorStorage[] = [];
    for (const v of Object.values(slots)) {
      storages[v.slot] = VectorStorage.open(native, vectorPath(dir, v.slot), {
        dim: v.size,
        datatype: v.datatype,
        create: true,
      });
    }
    const tracker = IdTracker.create(join(dir, "id_tracker.log"));
    const payloads = PayloadStorage.create(join(dir, "payload.log"));
    const state: SegmentState = {
      format_version: SEGMENT_FORMAT_VERSION,
      vectors: slots,
      next_slot: storages.length,
    };
    writeJsonAtomic(join(dir, "segment.json"), state);
    syncDirectory(join(dir, "vectors"));
    return new Segment(native, dir, state, storages, tracker, payloads);
  }

  /**
   * Opens an existing segment directory, with payload indexes on the fields of `payloadSchema` (field →
   * schema, as `create_field_index` took it).
   */
  static open(
    native: NativeLibrary,
    dir: string,
    options: { readOnly?: boolean; payloadSchema?: Readonly<Record<string, unknown>> } = {},
  ): Segment {
    const state = readState(dir);
    if (!options.readOnly && state.flushed !== undefined) rollBack(dir, state.flushed);
    const opened: VectorStorage[] = [];
    let tracker: IdTracker | undefined;
    let payloads: PayloadStorage | undefined;
    const segments: Segment[] = [];
    try {
      for (const v of Object.values(state.vectors)) {
        opened[v.slot] = VectorStorage.open(native, vectorPath(dir, v.slot), {
          dim: v.size,
          datatype: v.datatype,
          ...options,
        });
      }
      const flushed = options.readOnly ? undefined : state.flushed;
      tracker = IdTracker.open(join(dir, "id_tracker.log"), {
        ...options,
        durableBytes: flushed?.id_tracker_bytes,
        imagePath: join(dir, "id_tracker.img"),
        imageLogBytes: state.flushed?.id_tracker_image_bytes,
      });
      payloads = PayloadStorage.open(join(dir, "payload.log"), {
        ...options,
        durableBytes: flushed?.payload_bytes,
        imagePath: join(dir, "payload.img"),
        imageLogBytes: state.flushed?.payload_image_bytes,
      });
      checkVectorsCovered(dir, state, opened, tracker);
      const segment = new Segment(native, dir, state, opened, tracker, payloads);
      segments.push(segment);
      segment.#openVectorIndexes();
      segment.#indexes = PayloadIndexes.open(
        dir,
        options.payloadSchema ?? {},
        segment.#indexedPoints(),
        state.flushed?.version ?? -1,
      );
      return segment;
    } catch (error) {
      for (const segment of segments) segment.#closeVectorIndexes();
      for (const storage of opened) storage?.close();
      tracker?.close();
      payloads?.close();
      throw error;
    }
  }

  /** Opens the graphs and quantized vectors that segment.json names. */
  /**
   * Opens the graphs and quantized vectors that segment.json names. They are derived data: one that is
   * missing or damaged is dropped (searches scan instead, and the next `optimize()` rebuilds it) rather
   * than making the segment's points unreadable.
   */
  #openVectorIndexes(): void {
    const dropped: string[] = [];
    for (const [slotText, index] of Object.entries(this.#state.indexes ?? {})) {
      const slot = Number(slotText);
      try {
        if (index.hnsw !== undefined) {
          this.#graphs[slot] = HnswGraph.open(this.#native, graphPath(this.dir, slot));
        }
        const quantization = index.quantization;
        if (quantization !== undefined) {
          const alwaysRam = "scalar" in quantization
            ? quantization.scalar.always_ram
            : quantization.binary.always_ram;
          this.#quantized[slot] = QuantizedVectors.open(
            this.#native,
            quantizedPath(this.dir, slot),
            alwaysRam ?? false,
          );
        }
      } catch (error) {
        const status = (error as OperationError).status;
        if (status !== "CORRUPT" && status !== "NOT_FOUND" && status !== "INVALID_ARGUMENT") throw error;
        this.#graphs[slot]?.close();
        this.#graphs[slot] = undefined;
        dropped.push(slotText);
      }
    }
    if (dropped.length === 0) return;
    const indexes = { ...this.#state.indexes };
    for (const slot of dropped) delete indexes[slot];
    // Not written here (a read-only opener must not write): a writer's next flush records the drop.
    this.#state = { ...this.#state, indexes };
  }

  #closeVectorIndexes(): void {
    for (const graph of this.#graphs) graph?.close();
    for (const quantized of this.#quantized) quantized?.close();
  }

  /** What `optimize()` built for vector `name`, if anything. */
  vectorIndex(name: string): VectorIndexState | undefined {
    const v = this.#state.vectors[name];
    return v === undefined ? undefined : this.#state.indexes?.[v.slot];
  }

  /**
   * Records the indexes built for this segment's vectors (files already written under `hnsw/` and
   * `quant/`) in segment.json, and opens them.
   */
  attachVectorIndexes(indexes: Record<string, VectorIndexState>): void {
    const bySlot: Record<string, VectorIndexState> = {};
    for (const [name, index] of Object.entries(indexes)) bySlot[this.#state.vectors[name].slot] = index;
    this.#closeVectorIndexes();
    this.#state = { ...this.#state, indexes: bySlot };
    writeJsonAtomic(join(this.dir, "segment.json"), this.#state);
    this.#openVectorIndexes();
  }

  /** Records the segment this one replaces (see {@linkcode SegmentState.replaces}). */
  markReplacing(id: string): void {
    this.#state = { ...this.#state, replaces: id };
    writeJsonAtomic(join(this.dir, "segment.json"), this.#state);
  }

  /** The vector file of `name`, for the index builders. */
  storageOf(name: string): VectorStorage {
    return this.#storages[this.#state.vectors[name].slot]!;
  }

  /** Number of live points that have vector `name` and are in its HNSW graph. */
  indexedVectorCount(name: string): number {
    const v = this.#state.vectors[name];
    const graph = this.#graphs[v.slot];
    if (graph === undefined) return 0;
    const present = this.#present[v.slot]!;
    const end = Math.min(graph.nodeCount, present.length * 8);
    let n = bitsetCount(present.subarray(0, end >> 3));
    for (let offset = end & ~7; offset < end; offset++) {
      if ((present[offset >> 3] & (1 << (offset & 7))) !== 0) n++;
    }
    return n;
  }

  /** Number of live points that have vector `name` (counted once between writes). */
  liveVectorCount(name: string): number {
    const v = this.#state.vectors[name];
    let live = this.#liveCounts[v.slot];
    if (live === undefined) {
      live = bitsetCount(this.#present[v.slot]!);
      this.#liveCounts[v.slot] = live;
    }
    return live;
  }

  /**
   * Writes copies of live points (from the segment this one replaces) at fresh offsets, each keeping its
   * version; one tracker commit per run of equal versions.
   */
  appendCopies(points: readonly CopiedPoint[]): void {
    if (points.length === 0) return;
    const base = this.#tracker.nextOffset;
    for (const v of Object.values(this.#state.vectors)) this.#putVectors(v, base, points);
    this.#payloads.write(points.map((p, i) => [base + i, p.payload] as const));
    let start = 0;
    for (let i = 1; i <= points.length; i++) {
      if (i < points.length && points[i].version === points[start].version) continue;
      const entries: TrackerEntry[] = [];
      for (let j = start; j < i; j++) {
        entries.push({ kind: "set", key: points[j].key, offset: base + j, vectorMask: maskOf(points[j]) });
      }
      this.#commit(points[start].version, entries);
      start = i;
    }
    points.forEach((p, i) => this.#indexes.add(base + i, p.payloadObject));
  }

  /** The segment's id: the name of its directory (a UUID). */
  get id(): string {
    return basename(this.dir);
  }

  /** Named vectors of this segment. */
  get vectors(): Readonly<Record<string, SegmentVector>> {
    return this.#state.vectors;
  }

  /** Adds an empty vector file for a new named vector (no point has it yet). */
  addVector(name: string, params: Omit<SegmentVector, "slot">): void {
    const slot = this.#state.next_slot;
    if (slot >= SLOTS_MAX) {
      throw new OperationError(
        `Cannot create vector ${
          JSON.stringify(name)
        }: segment ${this.dir} has used all ${SLOTS_MAX} vector slots`,
      );
    }
    // A file at this slot can only be left over from a crash before segment.json named it: garbage.
    rmSync(vectorPath(this.dir, slot), { force: true });
    const storage = VectorStorage.open(this.#native, vectorPath(this.dir, slot), {
      dim: params.size,
      datatype: params.datatype,
      create: true,
    });
    this.#storages[slot] = storage;
    this.#present[slot] = new Uint8Array(128);
    this.#state = {
      ...this.#state,
      vectors: { ...this.#state.vectors, [name]: { slot, ...params } },
      next_slot: slot + 1,
    };
    writeJsonAtomic(join(this.dir, "segment.json"), this.#state);
  }

  /** Drops a named vector: its slot is retired and its file removed once segment.json no longer names it. */
  removeVector(name: string): void {
    const v = this.#state.vectors[name];
    const vectors = { ...this.#state.vectors };
    delete vectors[name];
    this.#state = { ...this.#state, vectors };
    writeJsonAtomic(join(this.dir, "segment.json"), this.#state);
    this.#storages[v.slot]?.close();
    this.#storages[v.slot] = undefined;
    this.#present[v.slot] = undefined;
    this.#graphs[v.slot]?.close();
    this.#graphs[v.slot] = undefined;
    this.#quantized[v.slot]?.close();
    this.#quantized[v.slot] = undefined;
    if (this.#state.indexes?.[v.slot] !== undefined) {
      const indexes = { ...this.#state.indexes };
      delete indexes[v.slot];
      this.#state = { ...this.#state, indexes };
      writeJsonAtomic(join(this.dir, "segment.json"), this.#state);
    }
    rmSync(vectorPath(this.dir, v.slot), { force: true });
    rmSync(graphPath(this.dir, v.slot), { force: true });
    rmSync(quantizedPath(this.dir, v.slot), { force: true });
  }

  /** Number of live points. */
  get pointCount(): number {
    return this.#tracker.size;
  }

  /** The highest op number this segment has applied (-1 when none). */
  get version(): number {
    return Math.max(this.#tracker.maxVersion, this.#state.flushed?.version ?? -1);
  }

  /** Writes `points` as one update with op number `version`; later points win over earlier equal ids. */
  upsert(version: number, points: readonly PreparedPoint[]): void {
    const base = this.#tracker.nextOffset;
    for (const v of Object.values(this.#state.vectors)) this.#putVectors(v, base, points);
    this.#payloads.write(points.map((p, i) => [base + i, p.payload] as const));
    const entries: TrackerEntry[] = points.map((p, i) => ({
      kind: "set",
      key: p.key,
      offset: base + i,
      vectorMask: maskOf(p),
    }));
    this.#commit(version, entries);
    points.forEach((p, i) => {
      if (this.#tracker.offsetOf(p.key) === base + i) this.#indexes.add(base + i, p.payloadObject);
    });
  }

  /** Deletes the points with these keys as one update; returns how many were live. */
  delete(version: number, keys: readonly IdKey[]): number {
    const live = keys.filter((key) => this.#tracker.offsetOf(key) !== undefined);
    this.#commit(version, live.map((key) => ({ kind: "delete", key })));
    return live.length;
  }

  /** Offset of a live point. */
  offsetOf(key: IdKey): number | undefined {
    return this.#tracker.offsetOf(key);
  }

  /** Key of the live point at an offset. */
  keyAt(offset: number): IdKey | undefined {
    return this.#tracker.keyAt(offset);
  }

  /** Version of the point at an offset. */
  versionAt(offset: number): number {
    return this.#tracker.versionAt(offset);
  }

  /** The first offset never assigned: every offset of a point is below it. */
  get nextOffset(): number {
    return this.#tracker.nextOffset;
  }

  /** The payload index on exactly this key, if any. */
  payloadIndex(field: string): PayloadFieldIndex | undefined {
    return this.#indexes.get(field);
  }

  /** The indexed payload fields. */
  get indexedFields(): string[] {
    return this.#indexes.fields;
  }

  /** Builds a payload index on `field` over the live points (replacing one with another schema). */
  createPayloadIndex(field: string, schema: unknown): void {
    this.#indexes.create(field, schema, this.#indexedPoints());
  }

  /** The schema the payload index on `field` was created with. */
  payloadSchemaOf(field: string): unknown {
    return this.#indexes.schemaOf(field);
  }

  /** Drops the payload index on `field`. */
  dropPayloadIndex(field: string): void {
    this.#indexes.drop(field);
  }

  /** Whether a live point is at `offset`. */
  isLive(offset: number): boolean {
    return this.#tracker.isLive(offset);
  }

  #indexedPoints(): IndexedPoints {
    return {
      nextOffset: this.#tracker.nextOffset,
      isLive: (offset) => this.#tracker.isLive(offset),
      forEachLive: (visit) => this.#tracker.forEachLive(visit),
      payloadCursor: () => this.#payloads.cursor(),
    };
  }

  /** Live offsets in Qdrant's id order (integers, then UUIDs), cached until the next write. */
  idOrder(): Uint32Array {
    return this.#tracker.idOrder();
  }

  /** Calls `visit` with each live offset, ascending. */
  forEachLive(visit: (offset: number) => void): void {
    this.#tracker.forEachLive(visit);
  }

  /** Whether the point at `offset` has the vector `name` (false for a name the segment lacks). */
  hasVector(name: string, offset: number): boolean {
    const v = this.#state.vectors[name];
    return v !== undefined && (this.#tracker.vectorMaskAt(offset) & (1 << v.slot)) !== 0;
  }

  /** The stored vector `name` of the point at `offset`, or undefined if the point has none. */
  vector(name: string, offset: number): Float32Array | undefined {
    const v = this.#state.vectors[name];
    if (v === undefined || (this.#tracker.vectorMaskAt(offset) & (1 << v.slot)) === 0) return undefined;
    return this.#storages[v.slot]!.get(offset, 1);
  }

  /** The payload of the point at `offset`. */
  payload(offset: number): Payload {
    return this.#payloads.read(offset);
  }

  /** A reader of payloads for offsets visited in rising order (it reads the log in chunks). */
  payloadCursor(): (offset: number) => Payload {
    return this.#payloads.cursor();
  }

  /**
   * Exact top-`k` over the live points that have vector `name` and, with `allow`, whose bit is set in it
   * (bit `o` of byte `o >> 3` for offset `o`; the search clears the bits of other points in it). Queries
   * must be prepared (normalised).
   */
  searchExact(name: string, queries: Float32Array, k: number, allow?: Uint8Array): ExactSearchResult {
    const v = this.#state.vectors[name];
    return this.#storages[v.slot]!.searchExact(v.distance, queries, k, this.#allowed(v.slot, allow));
  }

  /**
   * Top-`k` over the live points that have vector `name` (and, with `allow`, whose bit is set): through
   * the HNSW graph and the quantized vectors where `optimize()` built them and `params` allow, exactly
   * otherwise. Queries must be prepared (normalised).
   */
  search(
    name: string,
    queries: Float32Array,
    k: number,
    allow: Uint8Array | undefined,
    params: SegmentSearchParams,
  ): ExactSearchResult {
    const v = this.#state.vectors[name];
    const graph = params.exact ? undefined : this.#graphs[v.slot];
    const quantized = params.ignoreQuantization ? undefined : this.#quantized[v.slot];
    if (graph === undefined && quantized === undefined) return this.searchExact(name, queries, k, allow);
    return searchIndexed(this.#native, this.#storages[v.slot]!, graph, quantized, queries, {
      distance: v.distance,
      k,
      ef: Math.max(params.ef, k),
      exact: graph === undefined,
      rescore: params.rescore,
      oversampling: params.oversampling,
    }, this.#allowed(v.slot, allow));
  }

  /** The live points with vector `slot`; with `allow`, ANDed into it in place (it must be the caller's own). */
  #allowed(slot: number, allow: Uint8Array | undefined): Uint8Array {
    const present = this.#present[slot]!;
    if (allow === undefined) return present;
    const n = Math.min(present.length, allow.length);
    for (let i = 0; i < n; i++) allow[i] &= present[i];
    allow.fill(0, n);
    return allow;
  }

  /**
   * Makes everything written survive power loss, and records it as the checkpoint that `version` (the
   * last op applied) reached. Refreshes the images of the id tracker and the payload index when their
   * logs have grown enough since the last ones.
   */
  flush(version: number): void {
    for (const storage of this.#storages) storage?.flush();
    this.#payloads.sync();
    this.#tracker.sync();
    const old = this.#state.flushed;
    const flushed: Checkpoint = {
      version,
      id_tracker_bytes: this.#tracker.sizeBytes,
      payload_bytes: this.#payloads.sizeBytes,
      id_tracker_image_bytes: refreshedImage(
        this.#tracker,
        join(this.dir, "id_tracker.img"),
        old?.id_tracker_image_bytes,
      ),
      payload_image_bytes: refreshedImage(
        this.#payloads,
        join(this.dir, "payload.img"),
        old?.payload_image_bytes,
      ),
    };
    this.#indexes.save(version);
    this.#state = { ...this.#state, flushed };
    writeJsonAtomic(join(this.dir, "segment.json"), this.#state);
  }

  /** Closes every file. Idempotent. */
  close(): void {
    this.#closeVectorIndexes();
    for (const storage of this.#storages) storage?.close();
    this.#payloads.close();
    this.#tracker.close();
  }

  #putVectors(
    v: SegmentVector,
    base: number,
    points: readonly { vectors: readonly (Float32Array | undefined)[] }[],
  ): void {
    if (points.length === 0) return;
    const rows = contiguousRows(points, v);
    const data = rows ?? new Float32Array(points.length * v.size);
    if (rows === undefined) {
      points.forEach((p, i) => {
        const vector = p.vectors[v.slot];
        if (vector !== undefined) data.set(vector, i * v.size);
      });
    }
    const storage = this.#storages[v.slot]!;
    fillGap(storage, base);
    storage.put(base, data);
  }

  #commit(version: number, entries: readonly TrackerEntry[]): void {
    for (const entry of entries) {
      const old = this.#tracker.offsetOf(entry.key);
      if (old === undefined) continue;
      this.#clearPresent(old);
      this.#indexes.remove(old);
    }
    this.#tracker.commit(version, entries);
    for (const entry of entries) {
      if (entry.kind === "set" && this.#tracker.offsetOf(entry.key) === entry.offset) {
        this.#markPresent(entry.offset, entry.vectorMask);
      }
    }
  }

  #markPresent(offset: number, mask: number): void {
    this.#liveCounts = [];
    const byte = offset >> 3;
    for (let slot = 0; slot < this.#present.length; slot++) {
      const bits = this.#present[slot];
      if (bits === undefined || (mask & (1 << slot)) === 0) continue;
      const enough = grown(bits, byte + 1);
      enough[byte] |= 1 << (offset & 7);
      this.#present[slot] = enough;
    }
  }

  #clearPresent(offset: number): void {
    this.#liveCounts = [];
    const byte = offset >> 3;
    for (const bits of this.#present) {
      if (bits !== undefined && byte < bits.length) bits[byte] &= ~(1 << (offset & 7));
    }
  }
}

/**
 * Saves a new image of `structure` when its log has outgrown the last image (see IMAGE_REFRESH_SHARE);
 * returns the log bytes of the image the checkpoint should trust (the old one when none was saved).
 */
function refreshedImage(
  structure: { sizeBytes: number; saveImage(path: string): number },
  path: string,
  imageBytes: number | undefined,
): number | undefined {
  const logBytes = structure.sizeBytes;
  if (logBytes < IMAGE_LOG_BYTES_MIN) return imageBytes;
  if (imageBytes !== undefined && logBytes - imageBytes < logBytes * IMAGE_REFRESH_SHARE) return imageBytes;
  return structure.saveImage(path);
}

/** Cuts the logs back to the checkpoint (see {@linkcode Checkpoint}); a log shorter than it lost data. */
function rollBack(dir: string, flushed: Checkpoint): void {
  const logs: [string, number][] = [["id_tracker.log", flushed.id_tracker_bytes], [
    "payload.log",
    flushed.payload_bytes,
  ]];
  for (const [name, bytes] of logs) {
    const path = join(dir, name);
    // A missing log, or a directory in its place, is reported when the log is opened.
    if (!existsSync(path) || !statSync(path).isFile()) continue;
    const size = statSync(path).size;
    if (size < bytes) {
      throw new OperationError(
        `Cannot open segment ${dir}: ${path} has ${size} bytes, fewer than the ${bytes} flushed`,
        {
          status: "CORRUPT",
        },
      );
    }
    if (size > bytes) truncateSync(path, bytes);
  }
}

/**
 * Every vector the id tracker says a point has must lie inside its vector file. The kernel asserts this
 * (reading past a file is a bug in the caller), so a damaged shard is caught here, as CORRUPT, instead.
 */
function checkVectorsCovered(
  dir: string,
  state: SegmentState,
  storages: VectorStorage[],
  tracker: IdTracker,
): void {
  const counts = Object.values(state.vectors).map((v) => ({ v, count: storages[v.slot].count }));
  tracker.forEachLive((offset, mask) => {
    for (const { v, count } of counts) {
      if ((mask & (1 << v.slot)) !== 0 && offset >= count) {
        throw new OperationError(
          `Cannot open segment ${dir}: point ${
            tracker.keyAt(offset)
          } has its vector in slot ${v.slot} at offset ${offset}, ` +
            `but ${vectorPath(dir, v.slot)} holds ${count} vectors`,
          { status: "CORRUPT" },
        );
      }
    }
  });
}

/**
 * The points' vectors in `v` as one array, when they already are consecutive rows of one buffer (as an
 * upsert prepares them): then they go to the vector file without another copy.
 */
function contiguousRows(
  points: readonly { vectors: readonly (Float32Array | undefined)[] }[],
  v: SegmentVector,
): Float32Array | undefined {
  const first = points[0].vectors[v.slot];
  if (first === undefined) return undefined;
  const rowBytes = v.size * 4;
  for (let i = 1; i < points.length; i++) {
    const vector = points[i].vectors[v.slot];
    if (vector?.buffer !== first.buffer || vector.byteOffset !== first.byteOffset + i * rowBytes) {
      return undefined;
    }
  }
  return new Float32Array(first.buffer, first.byteOffset, points.length * v.size);
}

/** Rows written per call when zero-filling a vector file up to an offset. */
const GAP_FILL_ROWS = 4096;

/**
 * A vector created after points were written has a shorter file than the segment's offsets: fill the gap
 * with zero records (which no point's mask claims), because the kernel only appends at `count`.
 */
function fillGap(storage: VectorStorage, offset: number): void {
  let count = storage.count;
  if (count >= offset) return;
  const zeros = new Float32Array(Math.min(offset - count, GAP_FILL_ROWS) * storage.dim);
  // Each pass writes at least one row, so the loop ends after offset - count rows.
  while (count < offset) {
    const rows = Math.min(offset - count, GAP_FILL_ROWS);
    storage.put(count, zeros.subarray(0, rows * storage.dim));
    count += rows;
  }
}

function vectorPath(dir: string, slot: number): string {
  return join(dir, "vectors", `${slot}.vec`);
}

/** Where the HNSW graph of vector `slot` lives. */
export function graphPath(dir: string, slot: number): string {
  return join(dir, "hnsw", `${slot}.hnsw`);
}

/** Where the quantized vectors of vector `slot` live. */
export function quantizedPath(dir: string, slot: number): string {
  return join(dir, "quant", `${slot}.qnt`);
}

function maskOf(point: { vectors: readonly (Float32Array | undefined)[] }): number {
  let mask = 0;
  point.vectors.forEach((vector, slot) => {
    if (vector !== undefined) mask |= 1 << slot;
  });
  return mask >>> 0;
}

function readState(dir: string): SegmentState {
  const path = join(dir, "segment.json");
  const state = readJson(path) as Partial<SegmentState> | null;
  if (
    state?.format_version !== SEGMENT_FORMAT_VERSION || typeof state.vectors !== "object" ||
    state.vectors === null ||
    typeof state.next_slot !== "number"
  ) {
    throw new OperationError(
      `Cannot open segment ${dir}: segment.json has format version ${
        JSON.stringify(state?.format_version)
      }, ` +
        `expected ${SEGMENT_FORMAT_VERSION} with a vectors map and next_slot`,
      { status: "CORRUPT" },
    );
  }
  for (const [name, v] of Object.entries(state.vectors as Record<string, unknown>)) {
    const entry = v as Partial<SegmentVector> | null;
    const slotOk = Number.isInteger(entry?.slot) && entry!.slot! >= 0 &&
      entry!.slot! < Math.min(state.next_slot!, SLOTS_MAX);
    try {
      if (!slotOk) {
        throw new Error(`slot ${JSON.stringify(entry?.slot)} is not below next_slot ${state.next_slot}`);
      }
      resolveVectorParams(name, entry);
    } catch (error) {
      throw new OperationError(
        `Cannot open segment ${dir}: segment.json's vector ${JSON.stringify(name)}: ${
          (error as Error).message
        }`,
        {
          status: "CORRUPT",
        },
      );
    }
  }
  return state as SegmentState;
}
