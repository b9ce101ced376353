/**
 * The write-ahead log of a shard: every update operation is appended here, as one CRC-checked record with
 * its op number, before it is applied to the segments. Loading replays the records above what the
 * segments hold, so an operation is all-or-nothing across a crash even when applying it touches several
 * files. Nothing is preallocated: the files are exactly as long as what was written.
 *
 * ```
 * wal/<first op number, 20 digits>.wal   record logs (kind 3), oldest first
 * ```
 * Record body: `u64 op number, u32 JSON length, JSON of the operation, zero padding to 4 bytes, f32
 * values`. The `vectors` of the points of `upsert` and `update_vectors` operations are written in the
 * JSON as `{ name: [start, length] }` ranges of the f32 values, so a batch of vectors costs its raw bytes,
 * not their decimal text. (Only those two fields hold vectors, so payloads are never mistaken for them.)
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../errors.ts";
import { syncDirectory } from "../storage/atomic_file.ts";
import { KeptBuffer } from "../storage/growable.ts";
import { LogKind, RECORD_FRAME_BYTES, RecordLog } from "../storage/record_log.ts";
import { isObject } from "./config.ts";
import type { Operation } from "./operations.ts";

const FILE = /^(\d{20})\.wal$/;
const encoder = new TextEncoder();
// Fatal: text that is not UTF-8 is damage, not something to patch with replacement characters.
const decoder = new TextDecoder("utf-8", { fatal: true });

/** An open write-ahead log. */
export class Wal {
  readonly dir: string;
  #active: RecordLog;
  #older: string[];
  #lastOp: number;
  /** Memory for the records (see `KeptBuffer`). */
  readonly #record = new KeptBuffer();

  private constructor(dir: string, active: RecordLog, older: string[], lastOp: number) {
    this.dir = dir;
    this.#active = active;
    this.#older = older;
    this.#lastOp = lastOp;
  }

  /**
   * Opens (or creates) the log in `dir` and calls `onRecord` for every record, oldest first. `firstOp` names
   * the file of a new log. A torn tail of the newest file is cut; damage anywhere else is an error.
   */
  static open(
    dir: string,
    firstOp: number,
    onRecord: (op: number, operation: Operation, file: string) => void,
  ): Wal {
    if (existsSync(dir) && !statSync(dir).isDirectory()) {
      throw new OperationError(`Cannot open the write-ahead log: ${dir} is not a directory`, {
        status: "IO",
      });
    }
    mkdirSync(dir, { recursive: true });
    const files = readdirSync(dir).filter((name) => FILE.test(name)).sort();
    if (files.length === 0) {
      const log = RecordLog.create(join(dir, fileName(firstOp)), LogKind.wal);
      syncDirectory(dir);
      return new Wal(dir, log, [], firstOp - 1);
    }
    let lastOp = -1;
    let active: RecordLog | undefined;
    for (const [i, name] of files.entries()) {
      const path = join(dir, name);
      const newest = i === files.length - 1;
      // Only the newest file can end in a torn write: older ones were complete when a newer one began.
      const log = RecordLog.open(path, LogKind.wal, (record) => {
        const { op, operation } = decode(record.body, path);
        if (op <= lastOp) {
          throw new OperationError(`${path}: op ${op} follows op ${lastOp}; op numbers must rise`, {
            status: "CORRUPT",
          });
        }
        if (lastOp >= 0 && op !== lastOp + 1) {
          throw new OperationError(`${path}: op ${op} follows op ${lastOp}; the ops between are missing`, {
            status: "CORRUPT",
          });
        }
        lastOp = op;
        onRecord(op, operation, path);
      }, { durableBytes: newest ? undefined : Infinity });
      if (newest) active = log;
      else log.close();
    }
    return new Wal(dir, active!, files.slice(0, -1).map((name) => join(dir, name)), lastOp);
  }

  /** The highest op number in the log (-1 when it holds none). */
  get lastOp(): number {
    return this.#lastOp;
  }

  /** Appends `operation` as op number `op` (which must exceed every earlier one). */
  append(op: number, operation: Operation): void {
    if (op <= this.#lastOp) throw new OperationError(`WAL op ${op} does not follow ${this.#lastOp}`);
    this.#active.appendFramed(encode(op, operation, this.#record));
    this.#lastOp = op;
  }

  /** Makes every appended record survive power loss. */
  sync(): void {
    this.#active.sync();
  }

  /**
   * Drops every record: call only once the segments hold all of them durably. A new, empty file named
   * `nextOp` is made durable before the old ones are removed, so a crash leaves a usable log either way.
   */
  truncate(nextOp: number): void {
    const path = join(this.dir, fileName(nextOp));
    // The active file already starts at nextOp, so it holds no record: only older files can go.
    if (path === this.#active.path) {
      for (const old of this.#older) rmSync(old, { force: true });
      this.#older = [];
      return;
    }
    const fresh = RecordLog.create(path, LogKind.wal);
    syncDirectory(this.dir);
    this.#active.close();
    const old = [...this.#older, this.#active.path];
    this.#active = fresh;
    this.#older = [];
    for (const path of old) rmSync(path, { force: true });
    syncDirectory(this.dir);
  }

  /** Closes the active file. Idempotent. */
  close(): void {
    this.#active.close();
  }
}

function fileName(op: number): string {
  return `${String(op).padStart(20, "0")}.wal`;
}

type VectorRanges = Record<string, [number, number]>;

/**
 * The record of `operation`, with room for its frame in front (see `RecordLog.appendFramed`), in memory
 * from `memory`.
 */
function encode(op: number, operation: Operation, memory: KeptBuffer): Uint8Array {
  const vectors: Float32Array[] = [];
  let floats = 0;
  const ranges = (named: Record<string, Float32Array>): VectorRanges => {
    const out: VectorRanges = {};
    for (const [name, vector] of Object.entries(named)) {
      out[name] = [floats, vector.length];
      vectors.push(vector);
      floats += vector.length;
    }
    return out;
  };
  const plain = operation.kind === "upsert" || operation.kind === "update_vectors"
    ? { ...operation, points: operation.points.map((p) => ({ ...p, vectors: ranges(p.vectors) })) }
    : operation;
  const json = encoder.encode(JSON.stringify(plain));
  // The body starts after the frame; its f32 values start 4-aligned within the body (the frame is 8 bytes).
  const blobAt = align4(12 + json.length);
  const bytes = RECORD_FRAME_BYTES + blobAt + floats * 4;
  const record = new Uint8Array(memory.take(bytes), 0, bytes);
  const view = new DataView(record.buffer, RECORD_FRAME_BYTES);
  view.setBigUint64(0, BigInt(op), true);
  view.setUint32(8, json.length, true);
  record.set(json, RECORD_FRAME_BYTES + 12);
  const blob = new Float32Array(record.buffer, RECORD_FRAME_BYTES + blobAt, floats);
  let at = 0;
  for (const vector of vectors) {
    blob.set(vector, at);
    at += vector.length;
  }
  return record;
}

function decode(body: Uint8Array, path: string): { op: number; operation: Operation } {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const jsonLength = body.length >= 12 ? view.getUint32(8, true) : -1;
  const blobAt = align4(12 + jsonLength);
  if (jsonLength < 0 || blobAt > body.length || (body.length - blobAt) % 4 !== 0) {
    throw new OperationError(`${path}: a WAL record of ${body.length} bytes is malformed`, {
      status: "CORRUPT",
    });
  }
  // Copy the f32 values out: the body's buffer need not be 4-byte aligned.
  const blob = new Float32Array(body.slice(blobAt).buffer);
  const op = Number(view.getBigUint64(0, true));
  const bad = (what: string): never => {
    throw new OperationError(`${path}: the WAL record of op ${op} ${what}`, { status: "CORRUPT" });
  };
  let operation: Operation;
  try {
    operation = JSON.parse(decoder.decode(body.subarray(12, 12 + jsonLength)));
  } catch (error) {
    return bad(`is not JSON text: ${(error as Error).message}`);
  }
  checkShape(operation, bad);
  if (operation.kind === "upsert" || operation.kind === "update_vectors") {
    for (const point of operation.points) {
      const named: Record<string, Float32Array> = {};
      for (const [name, range] of Object.entries(point.vectors as unknown as VectorRanges)) {
        const [start, length] = Array.isArray(range) ? range : [-1, -1];
        if (
          !Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 1 ||
          start + length > blob.length
        ) {
          bad(
            `holds vector ${JSON.stringify(name)} at ${
              JSON.stringify(range)
            }, outside its ${blob.length} values`,
          );
        }
        named[name] = blob.slice(start, start + length);
      }
      point.vectors = named;
    }
  }
  return { op, operation };
}

const KINDS_WITH_KEYS = [
  "delete",
  "set_payload",
  "overwrite_payload",
  "delete_payload",
  "clear_payload",
  "delete_vectors",
];

/** The structure every operation kind must have; values are checked again when the op is replayed. */
function checkShape(operation: unknown, bad: (what: string) => never): asserts operation is Operation {
  if (!isObject(operation) || typeof operation.kind !== "string") return bad("is not an operation object");
  const { kind } = operation;
  if (KINDS_WITH_KEYS.includes(kind)) {
    if (!Array.isArray(operation.keys) || operation.keys.some((k) => typeof k !== "string")) {
      bad(`(${kind}) has no list of ids`);
    }
  } else if (kind === "upsert" || kind === "update_vectors") {
    const points = operation.points;
    if (
      !Array.isArray(points) ||
      points.some((p) => !isObject(p) || typeof p.key !== "string" || !isObject(p.vectors))
    ) {
      bad(`(${kind}) has no list of points`);
    }
  } else if (kind === "create_vector" || kind === "delete_vector") {
    if (typeof operation.name !== "string") bad(`(${kind}) names no vector`);
  } else if (kind === "create_index" || kind === "delete_index") {
    if (typeof operation.field !== "string") bad(`(${kind}) names no field`);
  } else {
    bad(`has the unknown kind ${JSON.stringify(kind)}`);
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
