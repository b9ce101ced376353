/**
 * The byte layout of a serialized payload index (all integers little-endian):
 *
 * | bytes | field |
 * |---|---|
 * | 0..8 | magic `XEDGEPIX` |
 * | 8..12 | u32 format version (1) |
 * | 12..16 | u32 index kind: 1 keyword, 2 integer, 3 float, 4 geo, 5 text, 6 bool, 7 datetime, 8 uuid |
 * | 16..20 | u32 offsets covered, n: the index holds offsets [0, n) |
 * | 20..24 | u32 section count |
 * | 24..28 | u32 total byte length, trailer included |
 * | 28..32 | u32 zero |
 * | 32.. | sections: u32 byte length, u32 element type (1 u8, 2 u32, 3 f64, 4 UTF-8), the bytes, zeros up to a multiple of 8 |
 * | last 4 | u32 CRC-32C of every byte before it |
 *
 * Section 0 is always the field schema as JSON (the shape `create_field_index` takes); the others depend on the
 * kind and are listed in each index's module doc.
 *
 * @module
 */
import { OperationError } from "../errors.ts";
import { crc32c } from "../storage/crc32c.ts";

const MAGIC = "XEDGEPIX";
export const FORMAT_VERSION = 1;
const HEADER_BYTES = 32;
const TRAILER_BYTES = 4;
/** Bounds the section loop of damaged bytes. */
const SECTIONS_MAX = 64;

/** Index kinds as stored in the header. */
export const KIND_CODES = {
  keyword: 1,
  integer: 2,
  float: 3,
  geo: 4,
  text: 5,
  bool: 6,
  datetime: 7,
  uuid: 8,
} as const;

const TYPE_U8 = 1;
const TYPE_U32 = 2;
const TYPE_F64 = 3;
const TYPE_TEXT = 4;

type Section = { type: number; bytes: Uint8Array };

/** Collects the sections of one index and lays them out. */
export class IndexWriter {
  readonly #sections: Section[] = [];

  u8(array: Uint8Array): this {
    this.#sections.push({ type: TYPE_U8, bytes: array });
    return this;
  }

  u32(array: Uint32Array): this {
    this.#sections.push({
      type: TYPE_U32,
      bytes: new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
    });
    return this;
  }

  f64(array: Float64Array): this {
    this.#sections.push({
      type: TYPE_F64,
      bytes: new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
    });
    return this;
  }

  text(value: string): this {
    this.#sections.push({ type: TYPE_TEXT, bytes: new TextEncoder().encode(value) });
    return this;
  }

  /** Strings as one UTF-8 section of `u32 length, bytes` records. */
  strings(values: readonly string[]): this {
    const encoder = new TextEncoder();
    const encoded = values.map((value) => encoder.encode(value));
    let total = 0;
    for (const bytes of encoded) total += 4 + bytes.length;
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    let at = 0;
    for (const bytes of encoded) {
      view.setUint32(at, bytes.length, true);
      out.set(bytes, at + 4);
      at += 4 + bytes.length;
    }
    this.#sections.push({ type: TYPE_U8, bytes: out });
    return this;
  }

  finish(kind: number, offsets: number): Uint8Array {
    let total = HEADER_BYTES + TRAILER_BYTES;
    for (const section of this.#sections) total += 8 + padded(section.bytes.length);
    if (total > 0xffffffff) {
      throw new OperationError(`Cannot serialize a payload index of ${total} bytes (limit 4 GiB)`);
    }
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    out.set(new TextEncoder().encode(MAGIC), 0);
    view.setUint32(8, FORMAT_VERSION, true);
    view.setUint32(12, kind, true);
    view.setUint32(16, offsets, true);
    view.setUint32(20, this.#sections.length, true);
    view.setUint32(24, total, true);
    let at = HEADER_BYTES;
    for (const section of this.#sections) {
      view.setUint32(at, section.bytes.length, true);
      view.setUint32(at + 4, section.type, true);
      out.set(section.bytes, at + 8);
      at += 8 + padded(section.bytes.length);
    }
    view.setUint32(total - TRAILER_BYTES, crc32c(out.subarray(0, total - TRAILER_BYTES)), true);
    return out;
  }
}

/** Reads the sections of serialized index bytes back, checking every length it trusts. */
export class IndexReader {
  readonly kind: number;
  readonly offsets: number;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #sectionCount: number;
  #at = HEADER_BYTES;
  #read = 0;

  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) {
      throw corrupt(`expected a Uint8Array, received ${bytes === null ? "null" : typeof bytes}`);
    }
    if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
      throw corrupt(`${bytes.length} bytes is shorter than the ${HEADER_BYTES + TRAILER_BYTES}-byte minimum`);
    }
    const magic = new TextDecoder().decode(bytes.subarray(0, 8));
    if (magic !== MAGIC) {
      throw corrupt(`bad magic ${JSON.stringify(magic)}, expected ${JSON.stringify(MAGIC)}`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = view.getUint32(8, true);
    if (version !== FORMAT_VERSION) throw corrupt(`format version ${version}, expected ${FORMAT_VERSION}`);
    const total = view.getUint32(24, true);
    if (total !== bytes.length) {
      throw corrupt(`header says ${total} bytes, received ${bytes.length} (truncated?)`);
    }
    const stored = view.getUint32(total - TRAILER_BYTES, true);
    const actual = crc32c(bytes.subarray(0, total - TRAILER_BYTES));
    if (stored !== actual) {
      throw corrupt(`checksum mismatch: stored CRC-32C ${hex(stored)}, computed ${hex(actual)}`);
    }
    this.kind = view.getUint32(12, true);
    this.offsets = view.getUint32(16, true);
    this.#sectionCount = view.getUint32(20, true);
    if (this.#sectionCount > SECTIONS_MAX) {
      throw corrupt(`${this.#sectionCount} sections, at most ${SECTIONS_MAX}`);
    }
    this.#bytes = bytes;
    this.#view = view;
  }

  #next(type: number, what: string): Uint8Array {
    if (this.#read >= this.#sectionCount) throw corrupt(`section ${what} is missing`);
    const end = this.#bytes.length - TRAILER_BYTES;
    if (this.#at + 8 > end) throw corrupt(`section ${what} runs past the end`);
    const length = this.#view.getUint32(this.#at, true);
    const actualType = this.#view.getUint32(this.#at + 4, true);
    if (actualType !== type) {
      throw corrupt(`section ${what} has element type ${actualType}, expected ${type}`);
    }
    if (this.#at + 8 + length > end) throw corrupt(`section ${what} (${length} bytes) runs past the end`);
    const start = this.#at + 8;
    this.#at += 8 + padded(length);
    this.#read++;
    // A copy: the index must not alias memory the caller may reuse, and copies are aligned.
    return this.#bytes.slice(start, start + length);
  }

  u8(what: string): Uint8Array {
    return this.#next(TYPE_U8, what);
  }

  u32(what: string): Uint32Array {
    const bytes = this.#next(TYPE_U32, what);
    if (bytes.length % 4 !== 0) {
      throw corrupt(`section ${what} has ${bytes.length} bytes, not a multiple of 4`);
    }
    return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  }

  f64(what: string): Float64Array {
    const bytes = this.#next(TYPE_F64, what);
    if (bytes.length % 8 !== 0) {
      throw corrupt(`section ${what} has ${bytes.length} bytes, not a multiple of 8`);
    }
    return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
  }

  text(what: string): string {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.#next(TYPE_TEXT, what));
    } catch (error) {
      if (error instanceof OperationError) throw error;
      throw corrupt(`section ${what} is not valid UTF-8`);
    }
  }

  strings(what: string, count: number): string[] {
    const bytes = this.#next(TYPE_U8, what);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const out: string[] = new Array(count);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 4 > bytes.length) throw corrupt(`section ${what} ends after ${i} of ${count} strings`);
      const length = view.getUint32(at, true);
      if (at + 4 + length > bytes.length) throw corrupt(`section ${what}: string ${i} runs past the end`);
      try {
        out[i] = decoder.decode(bytes.subarray(at + 4, at + 4 + length));
      } catch {
        throw corrupt(`section ${what}: string ${i} is not valid UTF-8`);
      }
      at += 4 + length;
    }
    if (at !== bytes.length) {
      throw corrupt(`section ${what} has ${bytes.length - at} bytes after its ${count} strings`);
    }
    return out;
  }

  /** Checks that every section was read. */
  end(): void {
    if (this.#read !== this.#sectionCount) {
      throw corrupt(`${this.#sectionCount - this.#read} unexpected trailing sections`);
    }
  }
}

/** The error every damaged input raises. */
export function corrupt(detail: string): OperationError {
  return new OperationError(`Cannot read payload index: ${detail}`, { status: "CORRUPT" });
}

/** Throws a CORRUPT error unless `ok`. */
export function check(ok: boolean, detail: string): asserts ok {
  if (!ok) throw corrupt(detail);
}

/** Checks that `starts` is a valid CSR start array over `size` values for `offsets` offsets. */
export function checkStarts(starts: Uint32Array, offsets: number, size: number, what: string): void {
  check(starts.length === offsets + 1, `${what}: ${starts.length} list starts for ${offsets} offsets`);
  check(starts[0] === 0, `${what}: the first list starts at ${starts[0]}`);
  for (let i = 0; i < offsets; i++) {
    if (starts[i + 1] < starts[i]) throw corrupt(`${what}: list ${i} ends before it starts`);
  }
  check(starts[offsets] === size, `${what}: lists end at ${starts[offsets]}, the values number ${size}`);
}

function padded(bytes: number): number {
  return Math.ceil(bytes / 8) * 8;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}
