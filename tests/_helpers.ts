/**
 * Shared helpers of the test suites (run by both `deno test` and `bun test`).
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
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

function scriptArgv(file: string, args: string[]): string[] {
  return RUNTIME === "deno" ? ["run", "-A", file, ...args] : [file, ...args];
}

/** Runs a TypeScript file in a child process of the same runtime, with extra environment variables. */
export function runScript(
  file: string,
  args: string[] = [],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, scriptArgv(file, args), {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Starts a TypeScript file in a child process of the same runtime, as {@linkcode runScript} does, without
 * waiting for it: for children that must be running while the test acts (stop them with
 * {@linkcode killScript}).
 */
export function startScript(
  file: string,
  args: string[] = [],
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, scriptArgv(file, args), {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Resolves once `child` prints the line `line`; rejects, quoting its stderr, if it exits or times out first. */
export function waitForLine(child: ChildProcess, line: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(
      () => finish(new Error(`no line "${line}" after ${timeoutMs} ms:\n${stderr}`)),
      timeoutMs,
    );
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off("data", onStdout);
      child.stderr?.off("data", onStderr);
      child.off("exit", onExit);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onStdout = (chunk: Buffer): void => {
      stdout += chunk.toString();
      if (stdout.split("\n").includes(line)) finish();
    };
    const onStderr = (chunk: Buffer): void => {
      stderr += chunk.toString();
    };
    const onExit = (code: number | null, signal: string | null): void => {
      finish(new Error(`exited (code ${code}, signal ${signal}) before printing "${line}":\n${stderr}`));
    };
    child.stdout?.on("data", onStdout);
    child.stderr?.on("data", onStderr);
    child.on("exit", onExit);
  });
}

/** Sends `signal` (SIGKILL by default) to `child` and resolves once it has exited. */
export function killScript(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** `n` random vectors of dimension `dim` with components in [-1, 1). */
export function randomVectors(random: () => number, n: number, dim: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: dim }, () => random() * 2 - 1));
}
