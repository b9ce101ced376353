/**
 * What every benchmark reports beside its numbers: the machine, the runtime, the native build, and a
 * place to keep the raw JSON (`bench/results/`).
 *
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import process from "node:process";
import type { Task } from "tinybench";
import type { NativeLibrary } from "../lib/ffi/loader.ts";

/** Runtime name and version, e.g. `deno 2.9.6` or `bun 1.4.4`. */
export function runtime(): string {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  return "Deno" in g ? `deno ${g.Deno.version.deno}` : `bun ${g.Bun.version}`;
}

/** The machine: CPU model and core count, from the OS. */
export function machine(): string {
  let model = cpus()[0]?.model ?? "unknown CPU";
  try {
    model = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? model;
  } catch {
    // Not Linux: keep what node:os said.
  }
  return `${model}, ${cpus().length} cores`;
}

/** Whether `--full` was passed: the full-size run instead of the small one CI runs. */
export function fullSize(): boolean {
  return process.argv.includes("--full");
}

/**
 * Writes `<name>-<runtime>.json` with the context every result needs: full-size runs to `bench/results/`
 * (kept in git), small runs to `.cache/bench-results/` (what CI runs; not kept).
 */
export function saveResult(name: string, native: NativeLibrary, data: Record<string, unknown>): string {
  const dir = new URL(fullSize() ? "./results/" : "../.cache/bench-results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const runtimeName = runtime().split(" ")[0];
  const file = new URL(`${name}-${runtimeName}.json`, dir);
  const record = {
    benchmark: name,
    date: new Date().toISOString(),
    runtime: runtime(),
    machine: machine(),
    native: { variant: native.variant, path: native.path },
    ...data,
  };
  writeFileSync(file, JSON.stringify(record, null, 2) + "\n");
  return file.pathname;
}

/** Latency statistics (ms) of a finished tinybench task; throws if the task did not complete. */
export function latencyOf(task: Task): { mean: number; p50: number; p99: number; rme: number } {
  const result = task.result;
  if (result === undefined || !("latency" in result)) {
    throw new Error(`benchmark task ${task.name} did not complete: ${JSON.stringify(result)}`);
  }
  return result.latency;
}
