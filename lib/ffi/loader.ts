/**
 * Finds, opens and checks the native library, once per process.
 *
 * Resolution order (the first that exists wins; a failure lists every path tried):
 * 1. the explicit option given to {@linkcode useNativeLibrary};
 * 2. the `EDGE_LIB_PATH` environment variable (a library file);
 * 3. the installed per-platform package `@x/edge-<platform>` (for example `@x/edge-linux-x64`);
 * 4. the local build output `native/zig-out/lib/<variant>/`.
 *
 * On x86-64 the loader opens the baseline build first, asks it which CPU features the machine has, and
 * switches to the x86-64-v3 build when AVX2, FMA and F16C are all present. `EDGE_LIB_VARIANT=baseline`
 * forces the baseline build (tests use it to exercise both).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { OperationError } from "../errors.ts";
import { ABI_VERSION, type NativeSymbols, type OpenedLibrary, type OpenLibrary } from "./symbols.ts";

/** A build of the native library for one platform and CPU level. */
export type LibraryVariant = "linux-x64-baseline" | "linux-x64-v3" | "linux-arm64";

/** Where to find the native library, overriding the default search. */
export interface NativeLibraryOptions {
  /** One library file, loaded as is (no CPU-level choice). */
  path?: string;
  /** Library files per variant; the best one the CPU supports is chosen. Used by single-file executables. */
  variants?: Partial<Record<LibraryVariant, string>>;
}

/** A loaded, ABI-checked native library. */
export interface NativeLibrary {
  readonly symbols: NativeSymbols;
  /** The file that was loaded. */
  readonly path: string;
  /** The variant the library reports it was built as. */
  readonly variant: LibraryVariant;
}

const VARIANT_CODES: Record<number, LibraryVariant> = {
  0: "linux-x64-baseline",
  1: "linux-x64-v3",
  2: "linux-arm64",
};
const CPU_AVX2 = 1 << 0;
const CPU_FMA = 1 << 1;
const CPU_F16C = 1 << 2;
const LIBRARY_FILE = "libedge.so";

let explicit: NativeLibraryOptions | undefined;
let loaded: NativeLibrary | undefined;
const closers = new WeakMap<NativeLibrary, () => void>();

/**
 * Tells the loader where the native library is, before the first shard is opened. Calling it after the
 * library was loaded with a different choice throws an {@linkcode OperationError}.
 *
 * @example Embedding the library in a single-file Bun executable
 * ```ts
 * import { useNativeLibrary } from "@x/edge";
 * useNativeLibrary({ path: "/opt/app/libedge.so" });
 * ```
 */
export function useNativeLibrary(options: NativeLibraryOptions): void {
  if (loaded !== undefined) {
    throw new OperationError(
      `Cannot change the native library: ${loaded.path} is already loaded; call useNativeLibrary() before opening a shard`,
    );
  }
  explicit = { ...options };
}

/** Returns the loaded native library, loading it on first use. */
export async function nativeLibrary(): Promise<NativeLibrary> {
  if (loaded === undefined) {
    loaded = resolveLibrary(await runtimeAdapter(), defaultCandidates());
  }
  return loaded;
}

/** The library if it is already loaded; for synchronous callers that ran {@linkcode nativeLibrary} first. */
export function loadedNativeLibrary(): NativeLibrary {
  if (loaded === undefined) throw new OperationError("The native library is not loaded yet");
  return loaded;
}

/** The `dlopen` of the runtime this code runs in. */
export async function runtimeAdapter(): Promise<OpenLibrary> {
  if ("Deno" in globalThis) return (await import("./deno.ts")).openLibrary;
  if ("Bun" in globalThis) return (await import("./bun.ts")).openLibrary;
  throw new OperationError("@x/edge runs on Deno or Bun; this runtime has neither Deno.dlopen nor bun:ffi");
}

interface Attempt {
  readonly path: string;
  readonly reason: string;
}

/**
 * Opens the first candidate that exists, loads and speaks our ABI; throws an OperationError listing every
 * path tried and why it was passed over.
 */
export function resolveLibrary(open: OpenLibrary, candidates: readonly Candidate[]): NativeLibrary {
  const attempts: Attempt[] = [];
  for (const candidate of candidates) {
    if (candidate.kind === "missing") {
      attempts.push({ path: candidate.path, reason: candidate.reason });
      continue;
    }
    const library = candidate.kind === "file"
      ? openChecked(open, candidate.path, attempts)
      : openBestVariant(open, candidate.files, attempts);
    if (library !== undefined) return library;
  }
  const tried = attempts.map((a) => `  - ${a.path}: ${a.reason}`).join("\n");
  throw new OperationError(
    `Cannot load the @x/edge native library (${process.platform}-${process.arch}). Tried:\n${tried}\n` +
      "Run `bash scripts/setup.sh` to build it, or set EDGE_LIB_PATH to a libedge.so.",
  );
}

/** A place the library may be: one file, a set of variant files, or a source known to be absent. */
export type Candidate =
  | { kind: "file"; path: string }
  | { kind: "variants"; files: Partial<Record<LibraryVariant, string>> }
  | { kind: "missing"; path: string; reason: string };

/** The candidates in the documented order: option, environment, platform package, local build. */
export function defaultCandidates(): Candidate[] {
  const list: Candidate[] = [];
  if (explicit?.path !== undefined) list.push({ kind: "file", path: explicit.path });
  if (explicit?.variants !== undefined) list.push({ kind: "variants", files: explicit.variants });
  const fromEnv = readEnv("EDGE_LIB_PATH");
  if (fromEnv) list.push({ kind: "file", path: fromEnv });
  list.push(platformPackage());
  const buildDir = fileURLToPath(new URL("../../native/zig-out/lib/", import.meta.url));
  list.push({ kind: "variants", files: variantFiles(buildDir) });
  return list;
}

function platformVariants(): LibraryVariant[] {
  if (process.platform !== "linux") return [];
  if (process.arch === "x64") return ["linux-x64-baseline", "linux-x64-v3"];
  if (process.arch === "arm64") return ["linux-arm64"];
  return [];
}

function variantFiles(dir: string): Partial<Record<LibraryVariant, string>> {
  const files: Partial<Record<LibraryVariant, string>> = {};
  for (const variant of platformVariants()) files[variant] = join(dir, variant, LIBRARY_FILE);
  return files;
}

function platformPackage(): Candidate {
  const name = `@x/edge-${process.platform}-${process.arch}`;
  try {
    const dir = dirname(fileURLToPath(import.meta.resolve(`${name}/package.json`)));
    return { kind: "variants", files: variantFiles(join(dir, "lib")) };
  } catch {
    return { kind: "missing", path: name, reason: "package not installed" };
  }
}

function openBestVariant(
  open: OpenLibrary,
  files: Partial<Record<LibraryVariant, string>>,
  attempts: Attempt[],
): NativeLibrary | undefined {
  const arm = files["linux-arm64"];
  if (arm !== undefined) return openChecked(open, arm, attempts);
  const baselinePath = files["linux-x64-baseline"];
  if (baselinePath === undefined) {
    attempts.push({
      path: JSON.stringify(files),
      reason: `no build for ${process.platform}-${process.arch}`,
    });
    return undefined;
  }
  const baseline = openChecked(open, baselinePath, attempts);
  if (baseline === undefined) return undefined;
  const v3Path = files["linux-x64-v3"];
  if (v3Path === undefined || readEnv("EDGE_LIB_VARIANT") === "baseline") return baseline;
  const features = baseline.symbols.edge_cpu_features();
  const v3Capable = (features & CPU_AVX2) !== 0 && (features & CPU_FMA) !== 0 && (features & CPU_F16C) !== 0;
  if (!v3Capable) return baseline;
  const v3 = openChecked(open, v3Path, attempts);
  if (v3 === undefined) return baseline;
  // The baseline library handed out no handles, so it can go.
  closers.get(baseline)?.();
  return v3;
}

function openChecked(open: OpenLibrary, path: string, attempts: Attempt[]): NativeLibrary | undefined {
  if (!existsSync(path)) {
    attempts.push({ path, reason: "no such file" });
    return undefined;
  }
  let library: OpenedLibrary;
  try {
    library = open(path);
  } catch (error) {
    attempts.push({ path, reason: `cannot open: ${(error as Error).message}` });
    return undefined;
  }
  const abi = library.symbols.edge_abi_version();
  if (abi !== ABI_VERSION) {
    library.close();
    attempts.push({ path, reason: `ABI version ${abi}, this @x/edge expects ${ABI_VERSION}` });
    return undefined;
  }
  const variant = VARIANT_CODES[library.symbols.edge_build_variant()];
  if (variant === undefined) {
    library.close();
    attempts.push({ path, reason: "reports an unknown build variant" });
    return undefined;
  }
  const native: NativeLibrary = { symbols: library.symbols, path, variant };
  closers.set(native, () => library.close());
  return native;
}

function readEnv(name: string): string | undefined {
  try {
    return process.env[name] || undefined;
  } catch {
    // Deno without --allow-env: behave as if the variable were unset.
    return undefined;
  }
}
