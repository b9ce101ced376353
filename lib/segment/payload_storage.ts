/**
 * The payload storage of a segment: JSON payloads by offset, kept on disk and read on demand, so the
 * payload set never has to fit in the JS heap. Only an index (file position and length per offset) is
 * held in memory.
 *
 * Persisted as a record log (`payload.log`); each update writes one record for all of its payloads.
 * Record body (little-endian): `u32 count`, then `count × (u64 offset, u32 length)`, then the UTF-8 JSON
 * texts one after another. A length of 0 means the empty payload `{}`.
 *
 * @module
 */
import { OperationError } from "../errors.ts";
import { grown } from "../storage/growable.ts";
import { ImageKind, readImage, sectionAs, writeImage } from "../storage/image_file.ts";
import { LogKind, RecordLog } from "../storage/record_log.ts";

/** A JSON object attached to a point. */
export type Payload = Record<string, unknown>;

const ENTRY_BYTES = 12;
/** Bytes a payload cursor reads at once while its visits go through the log in order... */
const CURSOR_CHUNK_BYTES = 1 << 20;
/** ...and while they jump around it. */
const CURSOR_SMALL_CHUNK_BYTES = 4096;
/** Payloads a chunk must serve for the next one to be large. */
const CURSOR_HITS_MIN = 8;
/**
 * Offsets of a segment stay below 2^32 - 1 (the id tracker's map stores offset + 1 in a u32): a larger one
 * in a record is damage (and would exhaust memory).
 */
export const OFFSET_LIMIT = 2 ** 32 - 1;
const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** The payloads of one segment. */
export class PayloadStorage {
  readonly #log: RecordLog;
  #position = new Float64Array(1024);
  #length = new Uint32Array(1024);
  /** One past the highest offset indexed. */
  #count = 0;

  private constructor(log: RecordLog) {
    this.#log = log;
  }

  /** Creates an empty payload storage at `path`. */
  static create(path: string): PayloadStorage {
    return new PayloadStorage(RecordLog.create(path, LogKind.payload));
  }

  /**
   * Opens the payload storage at `path`: restores its index from the image when there is a valid one
   * (`imagePath`, covering exactly `imageLogBytes`), then indexes the records after it.
   */
  static open(
    path: string,
    options: { readOnly?: boolean; durableBytes?: number; imagePath?: string; imageLogBytes?: number } = {},
  ): PayloadStorage {
    const image = options.imagePath !== undefined && options.imageLogBytes !== undefined
      ? restore(options.imagePath, options.imageLogBytes)
      : undefined;
    const records: { position: number; body: Uint8Array }[] = [];
    const log = RecordLog.open(path, LogKind.payload, (record) => records.push(record), {
      ...options,
      startAt: image === undefined ? undefined : options.imageLogBytes,
    });
    const storage = new PayloadStorage(log);
    if (image !== undefined) {
      storage.#position = image.position;
      storage.#length = image.length;
      storage.#count = image.position.length;
    }
    for (const record of records) storage.#index(record.position, record.body, path);
    return storage;
  }

  /**
   * Writes the payloads (`[offset, JSON text]`, "" for `{}`) as one record. The texts are encoded to UTF-8
   * together (one encoder call per record, not per payload); only a batch with non-ASCII text, whose byte
   * lengths differ from its character counts, is encoded again one payload at a time to learn them.
   */
  write(items: readonly (readonly [number, string])[]): void {
    if (items.length === 0) return;
    const joined = items.length === 1 ? items[0][1] : items.map(([, text]) => text).join("");
    const encoded = encoder.encode(joined);
    const lengths = encoded.length === joined.length
      ? items.map(([, text]) => text.length)
      : items.map(([, text]) => encoder.encode(text).length);
    const head = 4 + items.length * ENTRY_BYTES;
    const body = new Uint8Array(head + encoded.length);
    const view = new DataView(body.buffer);
    view.setUint32(0, items.length, true);
    for (let i = 0; i < items.length; i++) {
      const offset = items[i][0];
      view.setUint32(4 + i * ENTRY_BYTES, offset % 2 ** 32, true);
      view.setUint32(4 + i * ENTRY_BYTES + 4, Math.floor(offset / 2 ** 32), true);
      view.setUint32(4 + i * ENTRY_BYTES + 8, lengths[i], true);
    }
    body.set(encoded, head);
    const [position] = this.#log.append([body]);
    this.#index(position, body, this.#log.path);
  }

  /** The payload at `offset` (`{}` when none was written). */
  read(offset: number): Payload {
    const length = offset < this.#length.length ? this.#length[offset] : 0;
    if (length === 0) return {};
    return this.#parse(offset, this.#log.read(this.#position[offset], length));
  }

  /**
   * A reader for many payloads in rising offset order (a filter scan): it reads the log in large chunks,
   * since payloads written together lie together, instead of one read per payload.
   */
  cursor(): (offset: number) => Payload {
    let chunk: Uint8Array = new Uint8Array(0);
    let chunkAt = 0;
    let hits = 0;
    return (offset) => {
      const length = offset < this.#length.length ? this.#length[offset] : 0;
      if (length === 0) return {};
      const position = this.#position[offset];
      if (position < chunkAt || position + length > chunkAt + chunk.length) {
        // A chunk that served few payloads means the visits jump around the log: read small ones then.
        const want = hits >= CURSOR_HITS_MIN ? CURSOR_CHUNK_BYTES : CURSOR_SMALL_CHUNK_BYTES;
        chunkAt = position;
        chunk = this.#log.read(position, Math.max(length, Math.min(want, this.#log.sizeBytes - position)));
        hits = 0;
      }
      hits++;
      return this.#parse(offset, chunk.subarray(position - chunkAt, position - chunkAt + length));
    };
  }

  #parse(offset: number, bytes: Uint8Array): Payload {
    try {
      return JSON.parse(decoder.decode(bytes));
    } catch (error) {
      throw new OperationError(
        `${this.#log.path}: the payload of offset ${offset} is not JSON: ${(error as Error).message}`,
        {
          status: "CORRUPT",
          cause: error,
        },
      );
    }
  }

  /**
   * Saves the index as an image covering the whole log (which must be synced first); returns the log
   * bytes it covers.
   */
  saveImage(imagePath: string): number {
    writeImage(imagePath, ImageKind.payload, this.#log.sizeBytes, [
      this.#position.subarray(0, this.#count),
      this.#length.subarray(0, this.#count),
    ]);
    return this.#log.sizeBytes;
  }

  /** Bytes used on disk. */
  get sizeBytes(): number {
    return this.#log.sizeBytes;
  }

  /** Makes written payloads survive power loss. */
  sync(): void {
    this.#log.sync();
  }

  /** Closes the log. Idempotent. */
  close(): void {
    this.#log.close();
  }

  #index(position: number, body: Uint8Array, path: string): void {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const count = body.length >= 4 ? view.getUint32(0, true) : 0;
    let text = 4 + count * ENTRY_BYTES;
    if (body.length < text) {
      throw new OperationError(
        `${path}: a payload record of ${body.length} bytes cannot hold ${count} entries`,
        {
          status: "CORRUPT",
        },
      );
    }
    for (let i = 0; i < count; i++) {
      const offset = Number(view.getBigUint64(4 + i * ENTRY_BYTES, true));
      if (offset >= OFFSET_LIMIT) {
        throw new OperationError(`${path}: payload entry ${i} is at offset ${offset}, beyond any segment`, {
          status: "CORRUPT",
        });
      }
      const length = view.getUint32(4 + i * ENTRY_BYTES + 8, true);
      if (text + length > body.length) {
        throw new OperationError(`${path}: payload entry ${i} runs past the end of its record`, {
          status: "CORRUPT",
        });
      }
      this.#position = grown(this.#position, offset + 1);
      this.#length = grown(this.#length, offset + 1);
      this.#position[offset] = position + text;
      this.#length[offset] = length;
      this.#count = Math.max(this.#count, offset + 1);
      text += length;
    }
  }
}

function restore(
  imagePath: string,
  logBytes: number,
): { position: Float64Array<ArrayBuffer>; length: Uint32Array<ArrayBuffer> } | undefined {
  const image = readImage(imagePath, ImageKind.payload, logBytes);
  if (image === undefined || image.sections.length !== 2) return undefined;
  const position = sectionAs(Float64Array, image.sections[0]);
  const length = sectionAs(Uint32Array, image.sections[1]);
  if (position === undefined || length === undefined || position.length !== length.length) return undefined;
  return { position, length };
}
