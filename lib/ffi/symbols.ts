/**
 * The one symbol table of the native library, mirroring `native/ABI.md`. Types are abstract
 * (`"buffer"` is a pointer to caller-owned memory or null); each runtime adapter maps them to its own FFI.
 * `usize` parameters and results are declared `"u64"`: the library is built for 64-bit targets only.
 *
 * @module
 */

/** The native ABI version this TypeScript layer speaks; the loader refuses any other. */
export const ABI_VERSION = 4;

/** The FFI value types used by {@linkcode SYMBOLS}. */
export type FfiType = "void" | "i32" | "u32" | "u64" | "f32" | "buffer";

/** One native function: parameter types and result type. */
export interface SymbolDefinition {
  readonly parameters: readonly FfiType[];
  readonly result: FfiType;
}

/** Every exported function of `libedge`, in the order of `native/ABI.md`. */
export const SYMBOLS = {
  edge_abi_version: { parameters: [], result: "u32" },
  edge_build_variant: { parameters: [], result: "u32" },
  edge_cpu_features: { parameters: [], result: "u32" },
  edge_noop: { parameters: [], result: "i32" },
  edge_last_error: { parameters: ["buffer", "u64"], result: "u64" },
  edge_distance: { parameters: ["u32", "u32", "buffer", "buffer", "u32"], result: "f32" },
  edge_crc32c: { parameters: ["u32", "buffer", "u64"], result: "u32" },
  edge_storage_open: { parameters: ["buffer", "u64", "u32", "u32", "u32", "buffer"], result: "i32" },
  edge_storage_close: { parameters: ["u64"], result: "i32" },
  edge_storage_count: { parameters: ["u64", "buffer"], result: "i32" },
  edge_storage_put: { parameters: ["u64", "u64", "buffer", "u32"], result: "i32" },
  edge_storage_get: { parameters: ["u64", "u64", "u32", "buffer"], result: "i32" },
  edge_storage_flush: { parameters: ["u64"], result: "i32" },
  edge_storage_read_baseline: { parameters: ["u64", "buffer"], result: "i32" },
  edge_search_exact: {
    parameters: ["u64", "u32", "buffer", "u32", "u32", "buffer", "u64", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  edge_lock_open: { parameters: ["buffer", "u64", "u32", "buffer"], result: "i32" },
  edge_lock_close: { parameters: ["u64"], result: "i32" },
  edge_hnsw_builder_new: { parameters: ["u64", "u32", "u32", "u32", "u64", "buffer"], result: "i32" },
  edge_hnsw_builder_insert: { parameters: ["u64", "u64", "buffer", "u32", "u32"], result: "i32" },
  edge_hnsw_builder_write: { parameters: ["u64", "buffer", "u64"], result: "i32" },
  edge_hnsw_builder_free: { parameters: ["u64"], result: "i32" },
  edge_hnsw_open: { parameters: ["buffer", "u64", "buffer"], result: "i32" },
  edge_hnsw_node_count: { parameters: ["u64", "buffer"], result: "i32" },
  edge_hnsw_close: { parameters: ["u64"], result: "i32" },
  edge_quant_builder_new: { parameters: ["u64", "u32", "u32", "f32", "buffer"], result: "i32" },
  edge_quant_builder_encode: { parameters: ["u64", "u64", "u64", "u64"], result: "i32" },
  edge_quant_builder_write: { parameters: ["u64", "buffer", "u64"], result: "i32" },
  edge_quant_builder_free: { parameters: ["u64"], result: "i32" },
  edge_quant_open: { parameters: ["buffer", "u64", "u32", "buffer"], result: "i32" },
  edge_quant_close: { parameters: ["u64"], result: "i32" },
  edge_search: {
    parameters: [
      "u64",
      "u64",
      "u64",
      "u32",
      "buffer",
      "u32",
      "u32",
      "u32",
      "u32",
      "f32",
      "buffer",
      "u64",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
} as const satisfies Record<string, SymbolDefinition>;

/** A pointer argument: a typed array (or DataView) the native side reads or fills, or null. */
export type BufferArg = ArrayBufferView | null;

type JsOf<T extends FfiType> = T extends "void" ? void
  : T extends "u64" ? bigint | number
  : T extends "buffer" ? BufferArg
  : number;
type ResultOf<T extends FfiType> = T extends "void" ? void : T extends "u64" ? bigint | number : number;
type ParamsOf<P extends readonly FfiType[]> = { [K in keyof P]: P[K] extends FfiType ? JsOf<P[K]> : never };

/** The callable functions of a loaded library, typed from {@linkcode SYMBOLS}. */
export type NativeSymbols = {
  [K in keyof typeof SYMBOLS]: (
    ...args: ParamsOf<(typeof SYMBOLS)[K]["parameters"]>
  ) => ResultOf<(typeof SYMBOLS)[K]["result"]>;
};

/** A library opened by a runtime adapter. */
export interface OpenedLibrary {
  readonly symbols: NativeSymbols;
  close(): void;
}

/** What each runtime adapter (`deno.ts`, `bun.ts`) provides. */
export type OpenLibrary = (path: string) => OpenedLibrary;
