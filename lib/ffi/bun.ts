/**
 * The Bun adapter: opens the native library with `bun:ffi`. One of the two files that know the runtime.
 * `bun:ffi` is imported through a variable so that Deno's type check and JSR publishing never see it.
 *
 * @module
 */
import { type NativeSymbols, type OpenedLibrary, type OpenLibrary, SYMBOLS } from "./symbols.ts";

const bunTypes = { void: "void", i32: "i32", u32: "u32", u64: "u64", f32: "f32", buffer: "ptr" } as const;

const specifier = "bun:ffi";
// deno-lint-ignore no-explicit-any
const ffi: any = await import(specifier);

function bunSymbols(): Record<string, { args: string[]; returns: string }> {
  const out: Record<string, { args: string[]; returns: string }> = {};
  for (const [name, def] of Object.entries(SYMBOLS)) {
    out[name] = { args: def.parameters.map((t) => bunTypes[t]), returns: bunTypes[def.result] };
  }
  return out;
}

/** Opens `path` with `bun:ffi`'s `dlopen`. */
export const openLibrary: OpenLibrary = (path: string): OpenedLibrary => {
  const lib = ffi.dlopen(path, bunSymbols());
  return { symbols: lib.symbols as NativeSymbols, close: () => lib.close() };
};
