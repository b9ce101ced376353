/**
 * A cross-process lock on a shard directory, so that one process at a time opens a shard for writing.
 *
 * The native library takes `flock` on a lock file in the directory (Node's `fs` has no flock). The kernel
 * drops such a lock when its process dies, so a crashed writer never leaves a stale lock behind, and the
 * lock belongs to one open of the file, so a second writer in the same process is refused like one in
 * another process.
 *
 * - A writer holds `.lock` exclusively and writes its pid and hostname into it, so that the next writer's
 *   error can say who holds the shard.
 * - A reader holds `.readers.lock` shared. It never waits for, nor blocks, a writer (a writer does not lock
 *   that file); the lock only makes readers visible to an operation that must run with no reader at all
 *   (deleting files a reader may be opening, restoring a snapshot), which takes it exclusively.
 *
 * @module
 */
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { OperationError } from "../errors.ts";
import type { NativeLibrary } from "../ffi/loader.ts";
import { checkStatus, lastNativeError, statusName } from "../kernel/status.ts";

/** `"write"`: one holder at a time. `"read"`: any number of holders, alongside a writer. */
export type LockMode = "write" | "read";

/** The writers' lock file inside a shard directory; it holds the current writer's pid and hostname. */
export const WRITER_LOCK_FILE = ".lock";
/** The readers' lock file inside a shard directory. */
export const READERS_LOCK_FILE = ".readers.lock";

/** The process that holds a shard for writing, as it wrote itself into the lock file. */
interface LockHolder {
  pid: number;
  /** Null when the writer could not read it (Deno without `--allow-sys`). */
  hostname: string | null;
}

const LOCK_EXCLUSIVE = 1;
const LOCK_SHARED = 2;
const encoder = new TextEncoder();

/**
 * A held lock on a shard directory, released by {@linkcode DirectoryLock.release} or by the death of the
 * process.
 *
 * @example Two writers on one directory
 * ```ts
 * import { nativeLibrary } from "../ffi/loader.ts";
 * import { DirectoryLock } from "./lock.ts";
 * const native = await nativeLibrary();
 * const dir = await Deno.makeTempDir();
 * using writer = DirectoryLock.acquire(native, dir, "write");
 * using reader = DirectoryLock.acquire(native, dir, "read"); // readers never conflict with the writer
 * try {
 *   DirectoryLock.acquire(native, dir, "write");
 * } catch (error) {
 *   console.log((error as Error).message); // Cannot open /tmp/... for writing: it is locked by process ...
 * }
 * ```
 */
export class DirectoryLock {
  readonly #native: NativeLibrary;
  readonly #dir: string;
  readonly #mode: LockMode;
  #handle: bigint;

  private constructor(native: NativeLibrary, dir: string, mode: LockMode, handle: bigint) {
    this.#native = native;
    this.#dir = dir;
    this.#mode = mode;
    this.#handle = handle;
  }

  /**
   * Locks `dir` for `mode` without waiting. Throws an {@linkcode OperationError} with status `"LOCKED"`
   * when another writer holds it (naming that writer's pid and host), `"NOT_FOUND"` when `dir` does not
   * exist, `"IO"` when the lock file cannot be opened.
   */
  static acquire(native: NativeLibrary, dir: string, mode: LockMode): DirectoryLock {
    const file = mode === "write" ? WRITER_LOCK_FILE : READERS_LOCK_FILE;
    const path = join(dir, file);
    const pathBytes = encoder.encode(path);
    const out = new BigUint64Array(1);
    const code = mode === "write" ? LOCK_EXCLUSIVE : LOCK_SHARED;
    const status = native.symbols.edge_lock_open(pathBytes, pathBytes.length, code, out);
    const purpose = mode === "write" ? "writing" : "reading";
    if (statusName(status) === "LOCKED") {
      const holder = mode === "write"
        ? describeHolder(readHolder(path))
        : "an operation that excludes readers";
      throw new OperationError(`Cannot open ${dir} for ${purpose}: it is locked by ${holder} (${file})`, {
        status: "LOCKED",
        cause: new Error(lastNativeError(native)),
      });
    }
    checkStatus(native, status, `Cannot lock ${dir} for ${purpose}`);
    const lock = new DirectoryLock(native, dir, mode, out[0]);
    if (mode === "write") lock.#writeHolder(path);
    return lock;
  }

  /** The locked directory. */
  get dir(): string {
    return this.#dir;
  }

  /** What the lock was taken for. */
  get mode(): LockMode {
    return this.#mode;
  }

  /** Whether {@linkcode DirectoryLock.release} was called. */
  get released(): boolean {
    return this.#handle === 0n;
  }

  /** Releases the lock. Idempotent. */
  release(): void {
    if (this.#handle === 0n) return;
    const handle = this.#handle;
    this.#handle = 0n;
    if (this.#mode === "write") {
      // Emptied while still held, so that the file never names a process that no longer holds it (unless
      // that process died). Cosmetic: the next writer overwrites it anyway, so a failure is ignored.
      try {
        truncateSync(join(this.#dir, WRITER_LOCK_FILE), 0);
      } catch {
        // The directory may already be gone.
      }
    }
    checkStatus(this.#native, this.#native.symbols.edge_lock_close(handle), `Cannot unlock ${this.#dir}`);
  }

  /** Same as {@linkcode DirectoryLock.release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }

  #writeHolder(path: string): void {
    const holder: LockHolder = { pid: process.pid, hostname: hostName() };
    try {
      writeFileSync(path, JSON.stringify(holder) + "\n");
      // Created here as well, so that a reader that may not create files in the directory (a read-only
      // mount) finds the readers' lock file and locks it read-only.
      writeFileSync(join(this.#dir, READERS_LOCK_FILE), "", { flag: "a" });
    } catch (error) {
      this.release();
      throw new OperationError(
        `Cannot lock ${this.#dir} for writing: cannot write ${path}: ${(error as Error).message}`,
        {
          status: "IO",
          cause: error,
        },
      );
    }
  }
}

/** The holder a lock file names, or undefined when it names none (its holder has not written it yet). */
function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { pid, hostname } = parsed as Record<string, unknown>;
    if (!Number.isSafeInteger(pid) || (typeof hostname !== "string" && hostname !== null)) return undefined;
    return { pid: pid as number, hostname };
  } catch {
    return undefined;
  }
}

function describeHolder(holder: LockHolder | undefined): string {
  if (holder === undefined) return "another writer";
  return holder.hostname === null ? `process ${holder.pid}` : `process ${holder.pid} on ${holder.hostname}`;
}

function hostName(): string | null {
  try {
    return hostname();
  } catch {
    // Deno without --allow-sys: the pid alone still identifies the holder on this machine.
    return null;
  }
}
