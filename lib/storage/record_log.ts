/**
 * An append-only file of framed records: a 16-byte header (magic `XEDGELOG`, format version, kind), then
 * records of `[u32 body length][u32 CRC-32C of body][body]`, little-endian (see `native/FORMAT.md`).
 *
 * Opening scans every record. A record cut short by a crash at the end of the file (its declared length
 * runs to or past the end, or only part of its frame was written) is a torn tail: it is cut off, because
 * the write that produced it was never acknowledged. A bad record with more data after it is damage, not
 * a torn write, and gives an {@linkcode OperationError} naming the file and the byte offset.
 *
 * @module
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { OperationError } from "../errors.ts";
import { crc32c } from "./crc32c.ts";
import { syncFd } from "./fsync.ts";

const MAGIC = "XEDGELOG";
const FORMAT_VERSION = 1;
/** Size of the file header in bytes. */
export const LOG_HEADER_BYTES = 16;
/** Size of a record's frame (length + CRC) in bytes. */
export const RECORD_FRAME_BYTES = 8;
/** Largest body a record may have: bounds every read of a length field. */
export const RECORD_BODY_BYTES_MAX = 64 * 1024 * 1024;

/** What a log file holds; stored in its header so that files cannot be swapped by mistake. */
export const LogKind = { idTracker: 1, payload: 2, wal: 3 } as const;

/** One record met while scanning: where its body starts and the body itself. */
export interface ScannedRecord {
  /** File position of the body's first byte. */
  position: number;
  body: Uint8Array;
}

/** An open record log. */
export class RecordLog {
  readonly path: string;
  #fd: number;
  #size: number;
  readonly #readOnly: boolean;

  private constructor(path: string, fd: number, size: number, readOnly: boolean) {
    this.path = path;
    this.#fd = fd;
    this.#size = size;
    this.#readOnly = readOnly;
  }

  /** Creates a new, empty log; fails if the file exists. */
  static create(path: string, kind: number): RecordLog {
    const fd = openOrThrow(path, "wx+", "create");
    const header = new Uint8Array(LOG_HEADER_BYTES);
    header.set(new TextEncoder().encode(MAGIC), 0);
    const view = new DataView(header.buffer);
    view.setUint32(8, FORMAT_VERSION, true);
    view.setUint32(12, kind, true);
    writeSync(fd, header, 0, header.length, 0);
    return new RecordLog(path, fd, LOG_HEADER_BYTES, false);
  }

  /**
   * Opens an existing log and calls `onRecord` for each valid record in file order. A torn tail is cut
   * off (in read-only mode it is only skipped).
   */
  static open(
    path: string,
    kind: number,
    onRecord: (record: ScannedRecord) => void,
    options: {
      readOnly?: boolean;
      /**
       * Bytes known to be durable (fsynced): a bad record inside them cannot be a torn write, so it is
       * damage. Infinity for a file that was complete when it was closed.
       */
      durableBytes?: number;
      /**
       * Where scanning starts: the end of a record (or of the header) whose records the caller already
       * holds, from an image (see `image_file.ts`). The header is still checked.
       */
      startAt?: number;
    } = {},
  ): RecordLog {
    if (!existsSync(path)) {
      throw new OperationError(`Cannot open ${path}: the file is missing`, { status: "NOT_FOUND" });
    }
    const readOnly = options.readOnly ?? false;
    const fd = openOrThrow(path, readOnly ? "r" : "r+", "open");
    try {
      const fileSize = fstatSync(fd).size;
      checkHeader(fd, path, kind, fileSize);
      const startAt = options.startAt ?? LOG_HEADER_BYTES;
      if (startAt < LOG_HEADER_BYTES || startAt > fileSize) {
        throw new OperationError(
          `Cannot open ${path}: its records are known up to byte ${startAt}, the file has ${fileSize} bytes`,
          { status: "CORRUPT" },
        );
      }
      const end = scan(fd, path, fileSize, startAt, options.durableBytes ?? LOG_HEADER_BYTES, onRecord);
      if (end < fileSize && !readOnly) ftruncateSync(fd, end);
      return new RecordLog(path, fd, end, readOnly);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** Appends the given bodies as one write; returns the file position of each body. */
  append(bodies: readonly Uint8Array[]): number[] {
    this.#checkWritable();
    let total = 0;
    for (const body of bodies) total += RECORD_FRAME_BYTES + body.length;
    const buffer = new Uint8Array(total);
    const view = new DataView(buffer.buffer);
    const positions: number[] = [];
    let at = 0;
    for (const body of bodies) {
      view.setUint32(at, body.length, true);
      view.setUint32(at + 4, crc32c(body), true);
      buffer.set(body, at + RECORD_FRAME_BYTES);
      positions.push(this.#size + at + RECORD_FRAME_BYTES);
      at += RECORD_FRAME_BYTES + body.length;
    }
    writeFully(this.#fd, buffer, this.#size, this.path);
    this.#size += total;
    return positions;
  }

  /**
   * Appends one record whose frame the caller left room for: `record` holds RECORD_FRAME_BYTES of space,
   * then the body. Saves copying a large body into a framed buffer. Returns the body's file position.
   */
  appendFramed(record: Uint8Array): number {
    this.#checkWritable();
    const body = record.subarray(RECORD_FRAME_BYTES);
    const view = new DataView(record.buffer, record.byteOffset, RECORD_FRAME_BYTES);
    view.setUint32(0, body.length, true);
    view.setUint32(4, crc32c(body), true);
    writeFully(this.#fd, record, this.#size, this.path);
    const position = this.#size + RECORD_FRAME_BYTES;
    this.#size += record.length;
    return position;
  }

  /** Reads `length` bytes of a record body at `position` (as returned by append or scan). */
  read(position: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const got = readSync(this.#liveFd(), out, 0, length, position);
    if (got !== length) {
      throw new OperationError(`Cannot read ${length} bytes at ${position} of ${this.path}: got ${got}`, {
        status: "CORRUPT",
      });
    }
    return out;
  }

  /** Size of the valid part of the file in bytes. */
  get sizeBytes(): number {
    return this.#size;
  }

  /** Makes every appended record survive power loss. */
  sync(): void {
    syncFd(this.#liveFd(), this.path);
  }

  /** Closes the file. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #checkWritable(): void {
    this.#liveFd();
    if (this.#readOnly) throw new OperationError(`Cannot append to ${this.path}: opened read-only`);
  }

  #liveFd(): number {
    if (this.#fd < 0) throw new OperationError(`Cannot use ${this.path}: the log is closed`);
    return this.#fd;
  }
}

function openOrThrow(path: string, flags: string, verb: string): number {
  try {
    return openSync(path, flags);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const status = code === "EEXIST" ? "EXISTS" : code === "ENOENT" ? "NOT_FOUND" : "IO";
    throw new OperationError(`Cannot ${verb} ${path}: ${(error as Error).message}`, { status, cause: error });
  }
}

function writeFully(fd: number, buffer: Uint8Array, position: number, path: string): void {
  let written = 0;
  // Each pass writes at least one byte or throws, so the loop ends after at most buffer.length passes.
  while (written < buffer.length) {
    try {
      written += writeSync(fd, buffer, written, buffer.length - written, position + written);
    } catch (error) {
      throw new OperationError(
        `Cannot write ${buffer.length} bytes to ${path}: ${(error as Error).message}`,
        {
          status: "IO",
          cause: error,
        },
      );
    }
  }
}

function checkHeader(fd: number, path: string, kind: number, fileSize: number): void {
  const header = new Uint8Array(LOG_HEADER_BYTES);
  const got = fileSize >= LOG_HEADER_BYTES ? readSync(fd, header, 0, LOG_HEADER_BYTES, 0) : 0;
  if (got !== LOG_HEADER_BYTES) {
    throw new OperationError(
      `Cannot open ${path}: expected a ${LOG_HEADER_BYTES}-byte header, the file has ${fileSize} bytes`,
      { status: "CORRUPT" },
    );
  }
  const magic = new TextDecoder().decode(header.subarray(0, 8));
  const view = new DataView(header.buffer);
  const version = view.getUint32(8, true);
  const fileKind = view.getUint32(12, true);
  if (magic !== MAGIC || version !== FORMAT_VERSION || fileKind !== kind) {
    throw new OperationError(
      `Cannot open ${path}: expected magic ${MAGIC}, version ${FORMAT_VERSION}, kind ${kind}; ` +
        `found ${JSON.stringify(magic)}, version ${version}, kind ${fileKind}`,
      { status: "CORRUPT" },
    );
  }
}

function scan(
  fd: number,
  path: string,
  fileSize: number,
  startAt: number,
  durableBytes: number,
  onRecord: (r: ScannedRecord) => void,
): number {
  const frame = new Uint8Array(RECORD_FRAME_BYTES);
  const frameView = new DataView(frame.buffer);
  let at = startAt;
  // Every pass advances `at` by at least one frame, so the loop is bounded by the file size.
  while (at < fileSize) {
    if (fileSize - at < RECORD_FRAME_BYTES) {
      return tornOrDamaged(fd, path, at, fileSize, fileSize, durableBytes);
    }
    readSync(fd, frame, 0, RECORD_FRAME_BYTES, at);
    const length = frameView.getUint32(0, true);
    const crc = frameView.getUint32(4, true);
    const bodyEnd = at + RECORD_FRAME_BYTES + length;
    if (length > RECORD_BODY_BYTES_MAX) {
      return damaged(path, at, `declares ${length} bytes, more than any record has`);
    }
    if (bodyEnd > fileSize) return tornOrDamaged(fd, path, at, bodyEnd, fileSize, durableBytes);
    const body = new Uint8Array(length);
    readSync(fd, body, 0, length, at + RECORD_FRAME_BYTES);
    if (crc32c(body) !== crc) return tornOrDamaged(fd, path, at, bodyEnd, fileSize, durableBytes);
    onRecord({ position: at + RECORD_FRAME_BYTES, body });
    at = bodyEnd;
  }
  return at;
}

function tornOrDamaged(
  fd: number,
  path: string,
  at: number,
  bodyEnd: number,
  fileSize: number,
  durableBytes: number,
): number {
  // The last write, interrupted, leaves a record that reaches the end of the file: a torn tail. Within the
  // bytes known to be durable, or with data after it, a bad record is damage. A damaged length field can
  // also make a record seem to reach the end: whole records after it that end exactly at the end of the
  // file show that it was not the last write.
  if (bodyEnd >= fileSize && at >= durableBytes) {
    const next = wholeRecordsAfter(fd, at, fileSize);
    if (next === undefined) return at;
    return damaged(
      path,
      at,
      `has a length that runs past the end, but whole records follow it from byte ${next}`,
    );
  }
  const after = fileSize - bodyEnd;
  return damaged(
    path,
    at,
    after > 0
      ? `fails its checksum and ${after} bytes follow it`
      : "fails its checksum within data already made durable",
  );
}

/**
 * The first position after the record at `at` from which valid records follow one another up to exactly
 * the end of the file, if there is one. A torn write holds a prefix of one append, whose bytes cannot chain
 * valid records to the end unless the CRCs of a forged chain all match: only a damaged record is followed
 * by such a chain.
 */
function wholeRecordsAfter(fd: number, at: number, fileSize: number): number | undefined {
  const tail = new Uint8Array(fileSize - at);
  readSync(fd, tail, 0, tail.length, at);
  const view = new DataView(tail.buffer);
  const validAt = (p: number): number | undefined => {
    if (tail.length - p < RECORD_FRAME_BYTES) return undefined;
    const length = view.getUint32(p, true);
    const end = p + RECORD_FRAME_BYTES + length;
    if (length > RECORD_BODY_BYTES_MAX || end > tail.length) return undefined;
    return crc32c(tail.subarray(p + RECORD_FRAME_BYTES, end)) === view.getUint32(p + 4, true)
      ? end
      : undefined;
  };
  // Candidates start after the damaged record's frame; each chain advances by at least one frame per step.
  for (let start = RECORD_FRAME_BYTES; start + RECORD_FRAME_BYTES <= tail.length; start++) {
    let p: number | undefined = start;
    while (p !== undefined && p < tail.length) p = validAt(p);
    if (p === tail.length) return at + start;
  }
  return undefined;
}

function damaged(path: string, at: number, what: string): never {
  throw new OperationError(`${path} is damaged at byte ${at}: the record there ${what}`, {
    status: "CORRUPT",
  });
}
