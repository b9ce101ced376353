/**
 * The error taxonomy of `@x/edge`. Callers branch on three classes, the ones Qdrant Edge's FFI uses:
 *
 * - {@linkcode ShardClosedError}: the shard (or another handle) was closed, so nothing can be done with it.
 * - {@linkcode InvalidArgumentError}: the caller passed something wrong; nothing was written.
 * - {@linkcode OperationError}: the request was valid but the engine could not carry it out (I/O, corrupt
 *   file, out of memory, a shard another writer holds); it carries the native status and the cause.
 *
 * @example Branching on the kind of error
 * ```ts
 * import { EdgeShard, InvalidArgumentError } from "@x/edge";
 * const shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 3, distance: "Dot" } });
 * try {
 *   shard.update({ upsert_points: [{ id: 1, vector: [1, 2] }] });
 * } catch (error) {
 *   if (error instanceof InvalidArgumentError) console.log(error.message);
 * }
 * shard.close();
 * ```
 * @module
 */

/**
 * Thrown by every method of a shard (or native handle) after `close()`.
 *
 * @example
 * ```ts
 * import { EdgeShard, ShardClosedError } from "@x/edge";
 * const shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 2, distance: "Dot" } });
 * shard.close();
 * try { shard.count(); } catch (e) { console.log(e instanceof ShardClosedError); } // true
 * ```
 */
export class ShardClosedError extends Error {
  /** Creates the error for the resource described by `what` (for example `"EdgeShard at /data/shard"`). */
  constructor(what: string) {
    super(`${what} is closed`);
    this.name = "ShardClosedError";
  }
}

/**
 * Thrown when an argument is wrong: a vector of the wrong dimension, a NaN, an unknown vector name, a bad
 * point id, a malformed request. The message names what was wrong, what was expected and what was
 * received. Nothing is written by the call that throws it.
 *
 * It extends `TypeError`, so code that already catches `TypeError` for bad input keeps working.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError } from "@x/edge";
 * const error = new InvalidArgumentError("Cannot upsert point 42: vector '' has 3 dimensions, the shard expects 4");
 * console.log(error instanceof TypeError); // true
 * ```
 */
export class InvalidArgumentError extends TypeError {
  /** Creates the error with a message that says what was expected and what was received. */
  constructor(message: string) {
    super(message);
    this.name = "InvalidArgumentError";
  }
}

/** Names of the pinned native status codes (see `native/ABI.md`). */
export type NativeStatusName =
  | "OK"
  | "INVALID_ARGUMENT"
  | "IO"
  | "CORRUPT"
  | "OUT_OF_MEMORY"
  | "BAD_HANDLE"
  | "EXISTS"
  | "NOT_FOUND"
  | "LOCKED"
  | "UNKNOWN";

/**
 * Thrown when a valid request could not be carried out: the operating system refused a file operation, a
 * file on disk is corrupt, memory ran out, another process holds the shard for writing (`"LOCKED"`), or the
 * native library could not be loaded. `status` is the native status name when the failure came from the
 * native library (`"NONE"` otherwise).
 *
 * @example
 * ```ts
 * import { OperationError } from "@x/edge";
 * const error = new OperationError("Cannot open vectors file", { status: "CORRUPT" });
 * console.log(error.status); // "CORRUPT"
 * ```
 */
export class OperationError extends Error {
  /** The native status name, or `"NONE"` when the failure did not come from native code. */
  readonly status: NativeStatusName | "NONE";

  /** Creates the error; pass the native status and, where there is one, the underlying cause. */
  constructor(message: string, options: { status?: NativeStatusName; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "OperationError";
    this.status = options.status ?? "NONE";
  }
}
