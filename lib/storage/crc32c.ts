/**
 * CRC-32C (Castagnoli), the checksum of every record that `@x/edge` writes from TypeScript. Computed by the
 * native library (hardware `crc32` in the x86-64-v3 build): in TypeScript it cost a third of an upsert.
 *
 * @module
 */
import { loadedNativeLibrary } from "../ffi/loader.ts";

/**
 * CRC-32C of `bytes` (the native library must be loaded: every shard operation loads it first).
 *
 * @example
 * ```ts
 * import { crc32c } from "./crc32c.ts";
 * console.log(crc32c(new TextEncoder().encode("123456789")).toString(16)); // "e3069283"
 * ```
 */
export function crc32c(bytes: Uint8Array): number {
  return loadedNativeLibrary().symbols.edge_crc32c(0, bytes, bytes.length) >>> 0;
}
