/**
 * Shared helpers of the test suites (run by both `deno test` and `bun test`).
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { seededRandom } from "../scripts/_random.ts";

/** A seeded generator of numbers in [0, 1), the same in every runtime. */
export const rng = seededRandom;

/** A fresh temporary directory; removed by the returned cleanup function. */
export function tempDir(prefix = "edge-test-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Which runtime runs the tests. */
export const RUNTIME: "deno" | "bun" = "Deno" in globalThis ? "deno" : "bun";

/** Runs a TypeScript file in a child process of the same runtime, with extra environment variables. */
export function runScript(
  file: string,
  args: string[] = [],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const argv = RUNTIME === "deno" ? ["run", "-A", file, ...args] : [file, ...args];
  const result = spawnSync(process.execPath, argv, {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}


/** `n` random vectors of dimension `dim` with components in [-1, 1). */
export function randomVectors(random: () => number, n: number, dim: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: dim }, () => random() * 2 - 1));
}
