/**
 * The one place that makes files durable, so that tests can make it fail: an fsync error must poison the
 * shard (the kernel may have dropped the dirty pages), and that path cannot be reached on a healthy disk.
 *
 * @module
 */
import { fsyncSync } from "node:fs";

let fault: ((path: string) => Error | undefined) | undefined;

/** fsyncs `fd` (open on `path`), unless an injected fault fails it first. */
export function syncFd(fd: number, path: string): void {
  checkSyncFault(path);
  fsyncSync(fd);
}

/** Throws the injected fault for `path`, if any: for syncs done elsewhere (the native `msync`). */
export function checkSyncFault(path: string): void {
  const error = fault?.(path);
  if (error !== undefined) throw error;
}

/**
 * For tests only: from now on, every sync of a path for which `decide` returns an error throws it
 * (`undefined` removes the fault).
 *
 * @example
 * ```ts
 * import { injectSyncFault } from "./fsync.ts";
 * injectSyncFault((path) => path.endsWith(".wal") ? new Error("EIO: injected") : undefined);
 * injectSyncFault(undefined);
 * ```
 */
export function injectSyncFault(decide: ((path: string) => Error | undefined) | undefined): void {
  fault = decide;
}
