/**
 * Small files replaced atomically: write a temporary file beside the target, fsync it, rename it over the
 * target, fsync the directory. A crash leaves either the old or the new content, never a mix.
 *
 * @module
 */
import { closeSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { OperationError } from "../errors.ts";
import { syncFd } from "./fsync.ts";

/** Replaces `path` with the JSON text of `value`, atomically and durably. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const temporary = `${path}.tmp`;
  const bytes = new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
  try {
    const fd = openSync(temporary, "w");
    try {
      writeSync(fd, bytes, 0, bytes.length, 0);
      syncFd(fd, temporary);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    syncDirectory(dirname(path));
  } catch (error) {
    throw new OperationError(`Cannot write ${path}: ${(error as Error).message}`, {
      status: "IO",
      cause: error,
    });
  }
}

/** Reads and parses a JSON file, turning I/O and syntax errors into an OperationError naming the file. */
export function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const missing = (error as { code?: string }).code === "ENOENT";
    throw new OperationError(`Cannot read ${path}: ${(error as Error).message}`, {
      status: missing ? "NOT_FOUND" : "IO",
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new OperationError(`Cannot parse ${path}: ${(error as Error).message}`, {
      status: "CORRUPT",
      cause: error,
    });
  }
}

/** fsyncs a directory so that entries created or renamed in it survive power loss. */
export function syncDirectory(path: string): void {
  const fd = openSync(path, "r");
  try {
    syncFd(fd, path);
  } finally {
    closeSync(fd);
  }
}
