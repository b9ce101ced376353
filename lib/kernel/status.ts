/**
 * Turns native status codes into {@linkcode OperationError}s carrying the library's last-error message.
 *
 * @module
 */
import { type NativeStatusName, OperationError } from "../errors.ts";
import type { NativeLibrary } from "../ffi/loader.ts";

const STATUS_NAMES: readonly NativeStatusName[] = [
  "OK",
  "INVALID_ARGUMENT",
  "IO",
  "CORRUPT",
  "OUT_OF_MEMORY",
  "BAD_HANDLE",
  "EXISTS",
  "NOT_FOUND",
  "LOCKED",
];

/** Status code 0: success. */
export const STATUS_OK = 0;

const messageBuffer = new Uint8Array(2048);
const decoder = new TextDecoder();

/** The native library's message for its last failure on this thread. */
export function lastNativeError(native: NativeLibrary): string {
  const length = Number(native.symbols.edge_last_error(messageBuffer, messageBuffer.length));
  return decoder.decode(messageBuffer.subarray(0, Math.min(length, messageBuffer.length)));
}

/** Name of a status code (`"UNKNOWN"` for codes outside the pinned table). */
export function statusName(status: number): NativeStatusName {
  return STATUS_NAMES[status] ?? "UNKNOWN";
}

/** Throws an {@linkcode OperationError} `"<context>: <native message>"` unless `status` is OK. */
export function checkStatus(native: NativeLibrary, status: number, context: string): void {
  if (status === STATUS_OK) return;
  const name = statusName(status);
  throw new OperationError(`${context}: ${lastNativeError(native)} (${name})`, { status: name });
}
