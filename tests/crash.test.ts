/**
 * SIGKILL campaign: a writer process (tests/fixtures/crash_writer.ts, same runtime as the tests) applies
 * random update operations to a shard and reports each one; it is killed with SIGKILL at a random moment,
 * the shard is loaded again, and its whole contents are checked against a model (tests/_model.ts) fed
 * with the reported operations:
 *
 * - every acknowledged op is visible: the shard equals the model after the last acknowledged op, or after
 *   the one op in flight (reported as attempted, not acknowledged);
 * - no phantom points, no duplicates (retrieve and an exhaustive search each give an id at most once),
 *   `count()` equals the number of points found;
 * - vectors bit-exact (and exact Dot scores over every point), payloads deep-equal.
 *
 * Then the next cycle starts a new writer with a new seed on the same directory. On odd cycles the check
 * runs on a copy, so the next writer is the one that recovers the crashed state (and may be killed while
 * doing so); one cycle in ten kills the writer at a random moment of its start (within about the time it
 * takes to report ready). Each cycle's writer report, with the verdict on its op in flight, is kept in
 * `reports/` next to the shard, and both are left in place when the test fails.
 *
 * Environment: `EDGE_CRASH_CYCLES` (default 50 per runtime), `EDGE_CRASH_SEED` (default: from the clock;
 * printed in the summary and in failures), `EDGE_CRASH_VERBOSE=1` (one line per cycle).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { EdgeShard } from "../mod.ts";
import { rng, RUNTIME, tempDir } from "./_helpers.ts";
import { Model, type ModelOp, type OpName, type Vectors } from "./_model.ts";
import { ALL_IDS, readShard } from "./_ops.ts";

const WRITER = fileURLToPath(new URL("./fixtures/crash_writer.ts", import.meta.url));
const CYCLES = Number(process.env.EDGE_CRASH_CYCLES ?? 50);
const SEED = Number(process.env.EDGE_CRASH_SEED ?? Date.now() % 1_000_000_000);
/** One line per cycle on stdout. */
const VERBOSE = process.env.EDGE_CRASH_VERBOSE === "1";
/** The kill lands this long (uniform) after the writer reports ready. */
const KILL_MAX_MS = 200;
/**
 * Or, in early cycles, within 1.2 × the time the last writer took to report ready after its start, so
 * that most early kills land while it loads (and recovers) the shard.
 */
const EARLY_SHARE = 0.1;
/** A writer that is still alive this long after its start has hung. */
const WATCHDOG_MS = 30_000;
/** Bun's default of 5 s per test is far too short; the campaign takes about 25 s per 50 cycles. */
const TIMEOUT_MS = Math.max(120_000, CYCLES * 2_000);
/** Queries for the exhaustive searches: components are multiples of 1/64, so Dot scores are exact. */
const QUERIES: Record<string, number[]> = {
  a: [0.5, -0.25, 1, 0.015625, -1, 0.75, 0.125, -0.5],
  b: [-0.5, 1, 0.25],
};

interface Ready {
  ops: OpName[];
  update_mode: boolean;
  lenient: string[];
  points: number;
}

interface WriterRun {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  /** Milliseconds from the start to the ready line; undefined if the writer never reported ready. */
  readyAfterMs: number | undefined;
  hung: boolean;
}

/** Starts the writer and SIGKILLs it `killAfterMs` after it reports ready (or after its start, if `early`). */
function runWriter(
  dir: string,
  seed: number,
  create: boolean,
  killAfterMs: number,
  early: boolean,
): Promise<WriterRun> {
  const args = [WRITER, dir, String(seed), create ? "1" : "0"];
  const child = spawn(process.execPath, RUNTIME === "deno" ? ["run", "-A", ...args] : args, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const startedAt = performance.now();
    let readyAfterMs: number | undefined;
    let hung = false;
    const kill = () => child.kill("SIGKILL");
    let timer = early ? setTimeout(kill, killAfterMs) : undefined;
    const watchdog = setTimeout(() => {
      hung = true;
      kill();
    }, WATCHDOG_MS);
    child.stdout!.on("data", (chunk: Uint8Array) => {
      out.push(chunk);
      if (readyAfterMs === undefined && chunk.includes(10)) {
        readyAfterMs = performance.now() - startedAt;
        if (!early) timer = setTimeout(kill, killAfterMs);
      }
    });
    child.stderr!.on("data", (chunk: Uint8Array) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(watchdog);
      const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString("utf8");
      resolve({ stdout: text(out), stderr: text(err), code, signal, readyAfterMs, hung });
    });
  });
}

/** The writer's report: what it found ready, the acknowledged ops, and the op in flight (if any). */
function parseReport(stdout: string): { ready?: Ready; acked: ModelOp[]; inFlight?: ModelOp } {
  const lines = stdout.split("\n");
  lines.pop(); // unterminated: cut by the kill (or the empty string after the last newline)
  let ready: Ready | undefined;
  const acked: ModelOp[] = [];
  let pending: { op: ModelOp; n: number } | undefined;
  for (const [i, line] of lines.entries()) {
    const message = JSON.parse(line);
    if ("ready" in message && ready === undefined && i === 0) {
      ready = message.ready;
    } else if (
      "attempt" in message && ready !== undefined && pending === undefined && message.n === acked.length + 1
    ) {
      pending = { op: message.attempt, n: message.n };
    } else if ("ack" in message && pending !== undefined && message.ack === pending.n) {
      acked.push(pending.op);
      pending = undefined;
    } else {
      throw new Error(`writer report line ${i + 1} breaks the protocol: ${line.slice(0, 200)}`);
    }
  }
  return { ready, acked, inFlight: pending?.op };
}

function sameVectors(expected: Vectors, actual: Vectors): boolean {
  const names = Object.keys(expected).sort();
  if (!isDeepStrictEqual(names, Object.keys(actual).sort())) return false;
  // Both sides hold float32 values widened to doubles: equal doubles are equal bits.
  return names.every((n) =>
    expected[n].length === actual[n].length && expected[n].every((x, i) => Object.is(x, actual[n][i]))
  );
}

/** How `actual` differs from `expected`, at most `limit` lines. */
function differences(expected: Model, actual: Model, limit = 6): string[] {
  const out: string[] = [];
  for (const [key, e] of expected.points) {
    const a = actual.points.get(key);
    if (a === undefined) out.push(`point ${JSON.stringify(e.id)} is missing`);
    else {
      if (!sameVectors(e.vector, a.vector)) {
        out.push(
          `point ${JSON.stringify(e.id)}: vectors ${JSON.stringify(a.vector)}, expected ${
            JSON.stringify(e.vector)
          }`,
        );
      }
      if (!isDeepStrictEqual(a.payload, e.payload)) {
        out.push(
          `point ${JSON.stringify(e.id)}: payload ${JSON.stringify(a.payload)}, expected ${
            JSON.stringify(e.payload)
          }`,
        );
      }
    }
  }
  for (const [key, a] of actual.points) {
    if (!expected.points.has(key)) out.push(`phantom point ${JSON.stringify(a.id)}`);
  }
  return out.length > limit ? [...out.slice(0, limit), `… ${out.length - limit} more`] : out;
}

/** Loads the shard, reads it whole and checks it is self-consistent; returns its points. */
async function inspect(path: string): Promise<Model> {
  const shard = await EdgeShard.load(path);
  try {
    const actual = readShard(shard); // throws on an id retrieved twice
    assert.equal(shard.count(), actual.points.size, "count() differs from the number of points retrieved");
    assert.equal(
      shard.info().points_count,
      actual.points.size,
      "info().points_count differs from the points retrieved",
    );
    // An exhaustive search per vector: each point that has the vector exactly once, with its exact score.
    for (const [name, query] of Object.entries(QUERIES)) {
      const hits = shard.query({ query, using: name, limit: ALL_IDS.length + 10 });
      const expected = new Map<string, number>();
      for (const [key, point] of actual.points) {
        const v = point.vector[name];
        if (v !== undefined) expected.set(key, v.reduce((s, x, i) => s + x * query[i], 0));
      }
      const seen = new Set<string>();
      for (const hit of hits) {
        const key = String(hit.id);
        assert.ok(!seen.has(key), `search on ${JSON.stringify(name)} returned id ${key} twice`);
        seen.add(key);
        assert.ok(
          expected.has(key),
          `search on ${
            JSON.stringify(name)
          } returned id ${key}, which retrieve() lacks or has no such vector`,
        );
        assert.equal(hit.score, expected.get(key), `search on ${JSON.stringify(name)}: score of id ${key}`);
      }
      assert.equal(
        seen.size,
        expected.size,
        `search on ${JSON.stringify(name)} found ${seen.size} points, retrieve() ${expected.size}`,
      );
    }
    return actual;
  } finally {
    shard.close();
  }
}

describe("SIGKILL campaign", () => {
  it(`every acknowledged update survives SIGKILL (${CYCLES} kill cycles under ${RUNTIME})`, {
    timeout: TIMEOUT_MS,
  }, async () => {
    const dir = tempDir("edge-crash-");
    const shardPath = join(dir.path, "shard");
    const reports = join(dir.path, "reports");
    mkdirSync(reports);
    const random = rng(SEED);
    const started = Date.now();
    let model = new Model();
    let startupMs = 50;
    const stats = {
      acked: 0,
      applied: 0,
      notApplied: 0,
      same: 0,
      idle: 0,
      early: 0,
      beforeReady: 0,
      copies: 0,
    };
    const perOp = new Map<string, number>();
    const covered = new Set<string>();
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const seed = (SEED * 7919 + cycle) >>> 0;
        const early = cycle > 0 && random() < EARLY_SHARE;
        const delay = Math.floor(random() * (early ? 1.2 * startupMs : KILL_MAX_MS + 1));
        const report = join(reports, `${String(cycle).padStart(4, "0")}.log`);
        const context =
          `EDGE_CRASH_SEED=${SEED}, cycle ${cycle}: writer seed ${seed}, killed ${delay} ms after its ` +
          `${
            early ? "start" : "ready line"
          }; shard ${shardPath}, writer reports (one file per cycle) in ${reports}`;
        const run = await runWriter(shardPath, seed, cycle === 0, delay, early);
        writeFileSync(report, run.stdout);
        assert.ok(!run.hung, `the writer hung (${context})\n${run.stderr}`);
        assert.equal(
          run.signal,
          "SIGKILL",
          `the writer ended by itself, code ${run.code} (${context})\n${run.stderr}`,
        );
        const { ready, acked, inFlight } = parseReport(run.stdout);
        if (early) stats.early += 1;
        if (ready === undefined) {
          assert.ok(early, `the writer never reported ready (${context})\n${run.stderr}`);
          stats.beforeReady += 1;
        } else {
          if (!early) startupMs = run.readyAfterMs!;
          for (const op of ready.ops) covered.add(op);
          assert.deepEqual(
            ready.lenient,
            [],
            `update() accepted a malformed body of ${ready.lenient} (${context})`,
          );
          assert.equal(
            ready.points,
            model.points.size,
            `the writer found ${ready.points} points (${context})`,
          );
        }

        const afterAcked = model.clone();
        for (const op of acked) afterAcked.apply(op);
        const afterInFlight = inFlight === undefined ? undefined : afterAcked.clone();
        if (inFlight !== undefined) afterInFlight!.apply(inFlight);

        // Odd cycles check a copy, so that the next writer recovers the crashed state itself.
        const copy = cycle % 2 === 1 ? join(dir.path, "copy") : undefined;
        if (copy !== undefined) {
          cpSync(shardPath, copy, { recursive: true });
          stats.copies += 1;
        }
        const inspectStart = performance.now();
        const actual = await inspect(copy ?? shardPath);
        const inspectMs = performance.now() - inspectStart;
        if (copy !== undefined) rmSync(copy, { recursive: true, force: true });

        const vsAcked = differences(afterAcked, actual);
        const vsInFlight = afterInFlight === undefined ? undefined : differences(afterInFlight, actual);
        let verdict: string;
        if (vsAcked.length === 0 && vsInFlight?.length === 0) {
          verdict = "either (the op in flight changes nothing)";
        } else if (vsAcked.length === 0) {
          verdict = afterInFlight === undefined ? "no op in flight" : "op in flight not applied";
        } else if (vsInFlight?.length === 0) verdict = "op in flight applied";
        else {
          assert.fail(
            `after ${acked.length} acknowledged ops the shard matches neither the last acknowledged state nor the ` +
              `one after the op in flight (${context})\n` +
              `against the state after the last acknowledged op:\n  ${vsAcked.join("\n  ")}\n` +
              (vsInFlight === undefined
                ? "no op was in flight"
                : `against the state after the op in flight ${JSON.stringify(inFlight).slice(0, 300)}:\n  ` +
                  vsInFlight.join("\n  ")),
          );
        }
        appendFileSync(report, JSON.stringify({ verdict }) + "\n");
        if (VERBOSE) {
          console.log(
            `cycle ${cycle}: ready after ${
              run.readyAfterMs?.toFixed(0) ?? "-"
            } ms, killed after ${delay} ms, ` +
              `${acked.length} acked, ${verdict}; load and check ${inspectMs.toFixed(0)} ms` +
              `${copy === undefined ? "" : " (on a copy)"}, ${actual.points.size} points`,
          );
        }
        if (verdict === "op in flight applied") {
          model = afterInFlight!;
          stats.applied += 1;
        } else {
          model = afterAcked;
          stats[
            verdict === "op in flight not applied"
              ? "notApplied"
              : afterInFlight === undefined
              ? "idle"
              : "same"
          ] += 1;
        }
        stats.acked += acked.length;
        for (const op of acked) {
          const name = Object.keys(op)[0];
          perOp.set(name, (perOp.get(name) ?? 0) + 1);
        }
      }
    } catch (error) {
      // Keep the directory for a post-mortem.
      console.error(`crash campaign failed; shard and writer reports kept in ${dir.path}`);
      throw error;
    }
    dir.cleanup();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const ops = [...perOp].map(([name, n]) => `${name} ${n}`).join(", ");
    console.log(
      `crash campaign (${RUNTIME}, EDGE_CRASH_SEED=${SEED}): ${CYCLES} kill cycles in ${seconds} s ` +
        `(${stats.early} killed while starting, ${stats.beforeReady} of them before ready; ${stats.copies} checked ` +
        `on a copy), ${stats.acked} acknowledged ops; op in flight applied ${stats.applied}, not applied ` +
        `${stats.notApplied}, either (a no-op) ${stats.same}, none in flight ${stats.idle}; ops covered: ` +
        `${[...covered].join(", ")}; acknowledged per op: ${ops}; ${model.points.size} points at the end`,
    );
  });
});
