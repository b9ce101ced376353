/**
 * Image files: the in-memory arrays of a segment structure (the id tracker's maps, the payload
 * storage's index) saved at a flush, so that opening reads them back instead of replaying a whole log.
 *
 * An image is a cache of its log, never the only copy of anything: it records how many bytes of the log
 * it covers, and the segment's checkpoint (in `segment.json`) names the image it trusts by that number.
 * A missing, stale or damaged image is ignored and the log is replayed from its start.
 *
 * Layout (little-endian): a 32-byte header — magic `XEDGEIMG`, u32 format version, u32 kind, u64 covered
 * log bytes, u32 section count, u32 CRC-32C of everything after the header — then per section a u64 byte
 * length followed by the bytes, padded with zeros to a multiple of 8 so that every section can be viewed
 * as a `Float64Array` in place.
 *
 * @module
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { OperationError } from "../errors.ts";
import { crc32c } from "./crc32c.ts";
import { syncFd } from "./fsync.ts";

const MAGIC = "XEDGEIMG";
const FORMAT_VERSION = 1;
const HEADER_BYTES = 32;
/** Bounds the section loop of a damaged file whose CRC happens to pass. */
const SECTIONS_MAX = 64;

/** What an image holds; stored in its header so that files cannot be swapped by mistake. */
export const ImageKind = { idTracker: 1, payload: 2, payloadIndex: 3 } as const;

/** An image read back: the log bytes it covers and its sections, as 8-aligned byte views. */
export interface Image {
  logBytes: number;
  sections: Uint8Array<ArrayBuffer>[];
}

/** Writes an image of `sections` covering `logBytes` of its log, atomically and durably (no dir sync). */
export function writeImage(path: string, kind: number, logBytes: number, sections: ArrayBufferView[]): void {
  let total = HEADER_BYTES;
  for (const section of sections) total += 8 + padded(section.byteLength);
  const file = new Uint8Array(total);
  const view = new DataView(file.buffer);
  file.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, kind, true);
  view.setBigUint64(16, BigInt(logBytes), true);
  view.setUint32(24, sections.length, true);
  let at = HEADER_BYTES;
  for (const section of sections) {
    view.setBigUint64(at, BigInt(section.byteLength), true);
    file.set(new Uint8Array(section.buffer, section.byteOffset, section.byteLength), at + 8);
    at += 8 + padded(section.byteLength);
  }
  view.setUint32(28, crc32c(file.subarray(HEADER_BYTES)), true);
  const temporary = `${path}.tmp`;
  try {
    const fd = openSync(temporary, "w");
    try {
      let written = 0;
      // Each pass writes at least one byte or throws.
      while (written < file.length) written += writeSync(fd, file, written, file.length - written, written);
      syncFd(fd, temporary);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    throw new OperationError(`Cannot write ${path}: ${(error as Error).message}`, {
      status: "IO",
      cause: error,
    });
  }
}

/**
 * Reads the image at `path` if it is whole, of this kind, and (when given) covers exactly `logBytes`;
 * otherwise returns undefined (the caller replays the log instead). A payload index image records an op
 * number in place of log bytes.
 */
export function readImage(path: string, kind: number, logBytes?: number): Image | undefined {
  let file: Uint8Array<ArrayBuffer>;
  try {
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      if (size < HEADER_BYTES) return undefined;
      file = new Uint8Array(size);
      let got = 0;
      // Each pass reads at least one byte, or the file shrank and the read is abandoned.
      while (got < size) {
        const n = readSync(fd, file, got, size - got, got);
        if (n === 0) return undefined;
        got += n;
      }
    } finally {
      closeSync(fd);
    }
  } catch {
    // Missing, unreadable or a directory: the log is replayed instead.
    return undefined;
  }
  const view = new DataView(file.buffer);
  const magic = new TextDecoder().decode(file.subarray(0, 8));
  if (
    magic !== MAGIC || view.getUint32(8, true) !== FORMAT_VERSION || view.getUint32(12, true) !== kind ||
    (logBytes !== undefined && Number(view.getBigUint64(16, true)) !== logBytes) ||
    view.getUint32(28, true) !== crc32c(file.subarray(HEADER_BYTES))
  ) {
    return undefined;
  }
  const count = view.getUint32(24, true);
  if (count > SECTIONS_MAX) return undefined;
  const sections: Uint8Array<ArrayBuffer>[] = [];
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + 8 > file.length) return undefined;
    const bytes = Number(view.getBigUint64(at, true));
    if (at + 8 + bytes > file.length) return undefined;
    sections.push(file.subarray(at + 8, at + 8 + bytes));
    at += 8 + padded(bytes);
  }
  return { logBytes: Number(view.getBigUint64(16, true)), sections };
}

/** Removes an image (and a leftover temporary file). */
export function removeImage(path: string): void {
  for (const file of [path, `${path}.tmp`]) {
    if (existsSync(file)) rmSync(file, { recursive: true, force: true });
  }
}

/** A typed view of a section, or undefined when its length does not fit the element size. */
export function sectionAs<T>(
  type: { new (buffer: ArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number },
  section: Uint8Array<ArrayBuffer>,
): T | undefined {
  if (section.byteLength % type.BYTES_PER_ELEMENT !== 0) return undefined;
  return new type(section.buffer, section.byteOffset, section.byteLength / type.BYTES_PER_ELEMENT);
}

function padded(bytes: number): number {
  return Math.ceil(bytes / 8) * 8;
}
