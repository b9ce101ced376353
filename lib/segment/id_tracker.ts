/**
 * The id tracker of a segment: which external point id lives at which internal offset, with the point's
 * version (the op number that last wrote it) and which named vectors it has.
 *
 * Persisted as a record log (`id_tracker.log`). Each update writes ONE record holding all of its
 * entries, so that a crash leaves the whole update or none of it: the record's CRC is the commit.
 * Offsets are never reused: an overwritten point moves to a fresh offset, and its old offset becomes
 * garbage for `optimize()` to reclaim. That keeps the previous state intact until the commit record lands.
 *
 * Record body (little-endian): `u64 version, u32 entry count`, then per entry
 * `u8 kind (1 set, 2 delete), u8 id kind (0 integer, 1 UUID), 16 id bytes, u64 offset, u32 vector mask`.
 *
 * @module
 */
import { OperationError } from "../errors.ts";
import { compareKeys, type IdKey, isUuidKey } from "../shard/point_id.ts";
import { grown } from "../storage/growable.ts";
import { ImageKind, readImage, sectionAs, writeImage } from "../storage/image_file.ts";
import { OFFSET_LIMIT } from "./payload_storage.ts";
import { LogKind, RecordLog } from "../storage/record_log.ts";
import { NumberMap } from "./_number_map.ts";

const ENTRY_BYTES = 1 + 1 + 16 + 8 + 4;
const HEADER_BYTES = 8 + 4;
const KIND_SET = 1;
const KIND_DELETE = 2;

/** Options of {@linkcode IdTracker.open}. */
export interface IdTrackerOpenOptions {
  readOnly?: boolean;
  /** Log bytes known durable (see `RecordLog.open`). */
  durableBytes?: number;
  /** An image saved by {@linkcode IdTracker.saveImage}, trusted if it covers exactly `imageLogBytes`. */
  imagePath?: string;
  imageLogBytes?: number;
}

/** One change to the id tracker. */
export type TrackerEntry =
  | { kind: "set"; key: IdKey; offset: number; vectorMask: number }
  | { kind: "delete"; key: IdKey };

/** The id tracker of one segment. */
export class IdTracker {
  readonly #log: RecordLog;
  /**
   * Integer ids below 2^53 are kept as numbers in a typed-array hash map that an image restores as bytes;
   * the rest (UUIDs, larger integers) as their key text in a Map.
   */
  #byNumber = new NumberMap();
  readonly #byText = new Map<IdKey, number>();
  /** Per offset: 1 while a live point is there. */
  #liveAt = new Uint8Array(1024);
  /** Per offset: the id when it is a number; the key text otherwise lives in #textAt. */
  #numberAt = new Float64Array(1024);
  readonly #textAt = new Map<number, IdKey>();
  #versionAt = new Float64Array(1024);
  #maskAt = new Uint32Array(1024);
  #nextOffset = 0;
  #maxVersion = -1;
  /** Live offsets in id order, built on demand and dropped by every change. */
  #order: Uint32Array | undefined;

  private constructor(log: RecordLog) {
    this.#log = log;
  }

  /** Creates an empty tracker at `path`. */
  static create(path: string): IdTracker {
    return new IdTracker(RecordLog.create(path, LogKind.idTracker));
  }

  /** Opens the tracker at `path`: restores its image when there is a valid one, then replays the log after it. */
  static open(path: string, options: IdTrackerOpenOptions = {}): IdTracker {
    const restored = options.imagePath !== undefined && options.imageLogBytes !== undefined
      ? IdTracker.#restore(options.imagePath, options.imageLogBytes)
      : undefined;
    const pending: Uint8Array[] = [];
    const log = RecordLog.open(path, LogKind.idTracker, (record) => pending.push(record.body), {
      ...options,
      startAt: restored === undefined ? undefined : options.imageLogBytes,
    });
    const tracker = new IdTracker(log);
    if (restored !== undefined) restored(tracker);
    try {
      for (const body of pending) tracker.#replay(body, path);
    } catch (error) {
      log.close();
      throw error;
    }
    return tracker;
  }

  /** Writes one commit record for `entries` at `version`, then applies them in memory. */
  commit(version: number, entries: readonly TrackerEntry[]): void {
    if (entries.length === 0) return;
    this.#log.append([encode(version, entries)]);
    for (const entry of entries) {
      const id = numberOf(entry.key);
      if (entry.kind === "set") this.#set(id, entry.key, entry.offset, version, entry.vectorMask);
      else this.#remove(id, entry.key);
    }
    this.#maxVersion = Math.max(this.#maxVersion, version);
  }

  /** Offset of the point with this key, if it is live. */
  offsetOf(key: IdKey): number | undefined {
    const id = numberOf(key);
    return id === undefined ? this.#byText.get(key) : this.#byNumber.get(id);
  }

  /** Key of the live point at `offset`, if any. */
  keyAt(offset: number): IdKey | undefined {
    if (this.#liveAt[offset] !== 1) return undefined;
    return this.#textAt.get(offset) ?? String(this.#numberAt[offset]);
  }

  /** Whether a live point is at `offset`. */
  isLive(offset: number): boolean {
    return this.#liveAt[offset] === 1;
  }

  /** Version (op number) of the point at `offset`. */
  versionAt(offset: number): number {
    return this.#versionAt[offset];
  }

  /** Bit `slot` is set when the point at `offset` has the vector in that slot. */
  vectorMaskAt(offset: number): number {
    return this.#maskAt[offset];
  }

  /** Number of live points. */
  get size(): number {
    return this.#byNumber.size + this.#byText.size;
  }

  /** The first offset never assigned. */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  /** The highest version committed so far (-1 before the first commit). */
  get maxVersion(): number {
    return this.#maxVersion;
  }

  /**
   * The live offsets in Qdrant's id order (integers ascending, then UUIDs): what scroll pages through.
   * Cached until the next change.
   */
  idOrder(): Uint32Array {
    if (this.#order !== undefined) return this.#order;
    const numbers = new Float64Array(this.#byNumber.size);
    let n = 0;
    const live = this.#liveAt;
    for (let offset = 0; offset < this.#nextOffset; offset++) {
      if (live[offset] === 1 && !this.#textAt.has(offset)) numbers[n++] = this.#numberAt[offset];
    }
    numbers.sort();
    const order = new Uint32Array(this.size);
    for (let i = 0; i < n; i++) order[i] = this.#byNumber.get(numbers[i])!;
    const texts = [...this.#byText.keys()].sort(compareKeys);
    texts.forEach((key, i) => (order[n + i] = this.#byText.get(key)!));
    return (this.#order = order);
  }

  /** Calls `visit` with each live offset (ascending) and its vector mask: a tight loop for opening. */
  forEachLive(visit: (offset: number, vectorMask: number) => void): void {
    const live = this.#liveAt;
    const masks = this.#maskAt;
    for (let offset = 0; offset < this.#nextOffset; offset++) {
      if (live[offset] === 1) visit(offset, masks[offset]);
    }
  }

  /**
   * Saves the in-memory state as an image covering the whole log (the log must be synced first), so that
   * the next open restores it instead of replaying every record. Returns the log bytes it covers.
   */
  saveImage(imagePath: string): number {
    const n = this.#nextOffset;
    const { keys, values } = this.#byNumber.slots;
    const texts = new TextEncoder().encode(JSON.stringify([...this.#textAt]));
    const meta = new Float64Array([n, this.#maxVersion, this.#byNumber.size]);
    writeImage(imagePath, ImageKind.idTracker, this.#log.sizeBytes, [
      meta,
      this.#numberAt.subarray(0, n),
      this.#versionAt.subarray(0, n),
      this.#maskAt.subarray(0, n),
      this.#liveAt.subarray(0, n),
      keys,
      values,
      texts,
    ]);
    return this.#log.sizeBytes;
  }

  /** Reads an image; returns how to install it into a fresh tracker, or undefined if it is not usable. */
  static #restore(imagePath: string, logBytes: number): ((tracker: IdTracker) => void) | undefined {
    const image = readImage(imagePath, ImageKind.idTracker, logBytes);
    if (image === undefined || image.sections.length !== 8) return undefined;
    const [metaBytes, numberBytes, versionBytes, maskBytes, live, keyBytes, valueBytes, textBytes] =
      image.sections;
    const meta = sectionAs(Float64Array, metaBytes);
    const numbers = sectionAs(Float64Array, numberBytes);
    const versions = sectionAs(Float64Array, versionBytes);
    const masks = sectionAs(Uint32Array, maskBytes);
    const keys = sectionAs(Float64Array, keyBytes);
    const values = sectionAs(Uint32Array, valueBytes);
    if (
      meta?.length !== 3 || numbers === undefined || versions === undefined || masks === undefined ||
      keys === undefined || values === undefined
    ) {
      return undefined;
    }
    const [n, maxVersion, numberCount] = meta;
    if (numbers.length !== n || versions.length !== n || masks.length !== n || live.length !== n) {
      return undefined;
    }
    let texts: [number, IdKey][];
    let map: NumberMap;
    try {
      texts = JSON.parse(new TextDecoder().decode(textBytes));
      map = new NumberMap(keys, values, numberCount);
    } catch {
      return undefined;
    }
    return (tracker) => {
      tracker.#byNumber = map;
      for (const [offset, key] of texts) {
        tracker.#textAt.set(offset, key);
        if (live[offset] === 1) tracker.#byText.set(key, offset);
      }
      tracker.#numberAt = numbers;
      tracker.#versionAt = versions;
      tracker.#maskAt = masks;
      tracker.#liveAt = live;
      tracker.#nextOffset = n;
      tracker.#maxVersion = maxVersion;
    };
  }

  /** Bytes used on disk. */
  get sizeBytes(): number {
    return this.#log.sizeBytes;
  }

  /** Makes committed records survive power loss. */
  sync(): void {
    this.#log.sync();
  }

  /** Closes the log. Idempotent. */
  close(): void {
    this.#log.close();
  }

  /** Applies one record read back from the log, without building entry objects (1M entries on a big open). */
  #replay(body: Uint8Array, path: string): void {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const count = body.length >= HEADER_BYTES ? view.getUint32(8, true) : -1;
    if (count < 0 || body.length !== HEADER_BYTES + count * ENTRY_BYTES) {
      throw new OperationError(
        `${path}: a record of ${body.length} bytes does not hold whole tracker entries`,
        {
          status: "CORRUPT",
        },
      );
    }
    const version = Number(view.getBigUint64(0, true));
    for (let i = 0, at = HEADER_BYTES; i < count; i++, at += ENTRY_BYTES) {
      const kind = view.getUint8(at);
      const { id, key } = readId(view, at + 1, path);
      if (kind === KIND_SET) {
        // Offsets stay below 2^32 (OFFSET_LIMIT), so two u32 reads avoid a BigInt per entry.
        const offset = view.getUint32(at + 22, true) === 0 ? view.getUint32(at + 18, true) : OFFSET_LIMIT;
        if (offset >= OFFSET_LIMIT) {
          throw new OperationError(`${path}: tracker entry ${i} is at offset ${offset}, beyond any segment`, {
            status: "CORRUPT",
          });
        }
        this.#set(id, key, offset, version, view.getUint32(at + 26, true));
      } else if (kind === KIND_DELETE) {
        this.#remove(id, key);
      } else {
        throw new OperationError(`${path}: unknown tracker entry kind ${kind}`, { status: "CORRUPT" });
      }
    }
    this.#maxVersion = Math.max(this.#maxVersion, version);
  }

  /** `id` is the number form of the key when it has one (then `key` may be omitted). */
  #set(id: number | undefined, key: IdKey | undefined, offset: number, version: number, mask: number): void {
    this.#remove(id, key);
    this.#order = undefined;
    if (offset >= this.#liveAt.length) {
      this.#liveAt = grown(this.#liveAt, offset + 1);
      this.#numberAt = grown(this.#numberAt, offset + 1);
      this.#versionAt = grown(this.#versionAt, offset + 1);
      this.#maskAt = grown(this.#maskAt, offset + 1);
    }
    if (id === undefined) {
      this.#byText.set(key!, offset);
      this.#textAt.set(offset, key!);
    } else {
      this.#byNumber.set(id, offset);
      this.#numberAt[offset] = id;
    }
    this.#liveAt[offset] = 1;
    this.#versionAt[offset] = version;
    this.#maskAt[offset] = mask;
    this.#nextOffset = Math.max(this.#nextOffset, offset + 1);
  }

  #remove(id: number | undefined, key: IdKey | undefined): void {
    const old = id === undefined ? this.#byText.get(key!) : this.#byNumber.get(id);
    if (old === undefined) return;
    this.#order = undefined;
    this.#liveAt[old] = 0;
    if (id === undefined) {
      this.#byText.delete(key!);
      this.#textAt.delete(old);
    } else {
      this.#byNumber.delete(id);
    }
  }
}

/** The number form of an integer key below 2^53; undefined for UUIDs and larger integers. */
function numberOf(key: IdKey): number | undefined {
  if (isUuidKey(key)) return undefined;
  const n = Number(key);
  return Number.isSafeInteger(n) ? n : undefined;
}

function encode(version: number, entries: readonly TrackerEntry[]): Uint8Array {
  const body = new Uint8Array(HEADER_BYTES + entries.length * ENTRY_BYTES);
  const view = new DataView(body.buffer);
  view.setBigUint64(0, BigInt(version), true);
  view.setUint32(8, entries.length, true);
  let at = HEADER_BYTES;
  for (const entry of entries) {
    view.setUint8(at, entry.kind === "set" ? KIND_SET : KIND_DELETE);
    writeKey(view, at + 1, entry.key);
    if (entry.kind === "set") {
      view.setBigUint64(at + 18, BigInt(entry.offset), true);
      view.setUint32(at + 26, entry.vectorMask, true);
    }
    at += ENTRY_BYTES;
  }
  return body;
}

function writeKey(view: DataView, at: number, key: IdKey): void {
  if (isUuidKey(key)) {
    view.setUint8(at, 1);
    const hex = key.replaceAll("-", "");
    for (let i = 0; i < 16; i++) view.setUint8(at + 1 + i, parseInt(hex.slice(i * 2, i * 2 + 2), 16));
  } else {
    view.setUint8(at, 0);
    view.setBigUint64(at + 1, BigInt(key), true);
  }
}

/** Reads an id: its number form when it is an integer below 2^53 (no key text needed), else its key text. */
function readId(
  view: DataView,
  at: number,
  path: string,
): { id: number | undefined; key: IdKey | undefined } {
  const kind = view.getUint8(at);
  if (kind === 0) {
    const high = view.getUint32(at + 5, true);
    if (high < 0x200000) return { id: high * 4294967296 + view.getUint32(at + 1, true), key: undefined };
    return { id: undefined, key: view.getBigUint64(at + 1, true).toString() };
  }
  if (kind !== 1) throw new OperationError(`${path}: unknown id kind ${kind}`, { status: "CORRUPT" });
  let hex = "";
  for (let i = 0; i < 16; i++) hex += view.getUint8(at + 1 + i).toString(16).padStart(2, "0");
  return {
    id: undefined,
    key: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  };
}
