/**
 * The Deno adapter: opens the native library with `Deno.dlopen`. One of the two files that know the runtime.
 *
 * @module
 */
import { type NativeSymbols, type OpenedLibrary, type OpenLibrary, SYMBOLS } from "./symbols.ts";

const denoTypes = { void: "void", i32: "i32", u32: "u32", u64: "u64", f32: "f32", buffer: "buffer" } as const;

function denoSymbols(): Record<string, { parameters: string[]; result: string }> {
  const out: Record<string, { parameters: string[]; result: string }> = {};
  for (const [name, def] of Object.entries(SYMBOLS)) {
    out[name] = { parameters: def.parameters.map((t) => denoTypes[t]), result: denoTypes[def.result] };
  }
  return out;
}

/** Opens `path` with `Deno.dlopen` (needs `--allow-ffi`). */
export const openLibrary: OpenLibrary = (path: string): OpenedLibrary => {
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno;
  const lib = deno.dlopen(path, denoSymbols());
  return { symbols: lib.symbols as NativeSymbols, close: () => lib.close() };
};
