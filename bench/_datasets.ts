/**
 * The data and the child processes shared by the benchmarks that compare @x/edge with its peer, Qdrant Edge
 * (`qdrant-edge-py`, driven by `bench/peers/qdrant_edge_peer.py`):
 *
 * - vectors: `n` rows of `DIM` f32 values uniform in [-0.5, 0.5), one seeded stream (`scripts/_random.ts`),
 *   written once as a raw little-endian file under `.cache/bench-data/` that both sides read, so both
 *   engines get exactly the same data;
 * - payloads: a small object computed from the point's index by the same formula on both sides;
 * - built shards of each engine, cached under `.cache/bench-data/` keyed by engine and size, reused while
 *   they still open;
 * - child processes: the Python peer, and a fresh process of the current runtime (`bench/peers/edge_child.ts`)
 *   for measurements that must not reuse any state of the benchmark's own process.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import {
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { EdgeShard } from "../mod.ts";
import type { Payload } from "../lib/segment/payload_storage.ts";
import { seededRandom } from "../scripts/_random.ts";

/** Dimension of every benchmark vector (a small sentence-embedding model's). */
export const DIM = 384;
/** Distance of every benchmark shard: what 384-d sentence embeddings are usually compared with. */
export const DISTANCE = "Cosine";
/** Seed of the vector stream. */
export const SEED = 42;
/** Points per update when building a cached shard. */
export const BUILD_BATCH = 1_000;

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Where generated vectors and built shards are cached. */
export const DATA_DIR = join(ROOT, ".cache", "bench-data");
const PYTHON = join(ROOT, ".venv", "bin", "python");
const PEER = join(ROOT, "bench", "peers", "qdrant_edge_peer.py");
const EDGE_CHILD = join(ROOT, "bench", "peers", "edge_child.ts");

/** The payload of point `i`; `payload_of` in the Python peer is the same formula. */
export function payloadOf(i: number): Payload {
  return { i, group: `g${i % 16}`, price: (i % 1000) / 10 };
}

/** A description of the dataset for saved results. */
export function dataset(n: number): Record<string, unknown> {
  return {
    points: n,
    dim: DIM,
    distance: DISTANCE,
    vectors: `uniform [-0.5, 0.5) f32, mulberry32 seed ${SEED}`,
    payload: "{ i, group: `g${i % 16}`, price: (i % 1000) / 10 }",
  };
}

/**
 * The path of the raw f32 file of the first `n` vectors, generated (in chunks, so that a million rows never
 * sit in memory at once) if it is not cached yet.
 */
export function vectorFile(n: number): string {
  mkdirSync(DATA_DIR, { recursive: true });
  const path = join(DATA_DIR, `vectors-${n}x${DIM}-seed${SEED}.f32`);
  if (existsSync(path)) return path;
  const random = seededRandom(SEED);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    const rows = 10_000;
    const chunk = new Float32Array(rows * DIM);
    const bytes = new Uint8Array(chunk.buffer);
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
      throw new Error("the benchmarks assume a little-endian CPU");
    }
    for (let at = 0; at < n; at += rows) {
      const count = Math.min(rows, n - at);
      for (let i = 0; i < count * DIM; i++) chunk[i] = random() - 0.5;
      writeSync(fd, bytes, 0, count * DIM * 4);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return path;
}

/** Rows `start .. start + count` of a vector file. */
export function readVectors(path: string, start: number, count: number): Float32Array {
  const out = new Float32Array(count * DIM);
  const fd = openSync(path, "r");
  try {
    const bytes = new Uint8Array(out.buffer);
    let got = 0;
    while (got < bytes.length) {
      const read = readSync(fd, bytes, got, bytes.length - got, start * DIM * 4 + got);
      if (read === 0) {
        throw new Error(`${path}: expected ${count} rows from row ${start}, the file ends early`);
      }
      got += read;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Runs one command of the Python peer and returns its JSON result; throws with its stderr on failure. */
export function runPeer(command: string, request: Record<string, unknown>): Record<string, unknown> {
  const run = spawnSync(PYTHON, [PEER], {
    input: JSON.stringify({ command, ...request }),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return parseChild(`qdrant_edge_peer.py ${command}`, run);
}

/**
 * Runs one command of `bench/peers/edge_child.ts` in a fresh process of the runtime running this benchmark
 * (Deno or Bun) and returns its JSON result.
 */
export function runEdgeChild(command: string, request: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.stringify({ command, ...request });
  const args = "Deno" in globalThis ? ["run", "--allow-all", EDGE_CHILD, json] : [EDGE_CHILD, json];
  const run = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return parseChild(`edge_child.ts ${command}`, run);
}

function parseChild(
  what: string,
  run: { status: number | null; stdout: string; stderr: string; error?: Error },
): Record<string, unknown> {
  if (run.error !== undefined) throw new Error(`${what}: could not run: ${run.error.message}`);
  const last = run.stdout.trim().split("\n").at(-1) ?? "";
  let result: Record<string, unknown> | undefined;
  try {
    result = JSON.parse(last);
  } catch {
    // Reported below with the output.
  }
  if (run.status !== 0 || result === undefined || "error" in result) {
    const message = result?.error ?? `exit status ${run.status}`;
    throw new Error(
      `${what} failed: ${message}\n--- stdout\n${run.stdout.slice(-2000)}\n--- stderr\n${
        run.stderr.slice(-4000)
      }`,
    );
  }
  return result;
}

/** A built shard in the cache. */
export interface CachedShard {
  path: string;
  /** Seconds the build took, or undefined when the shard came from the cache. */
  buildSeconds: number | undefined;
}

/**
 * The cached @x/edge shard of the first `n` vectors, built (batches of 1,000, then closed) if missing or if
 * `rebuild` is set. A marker file written after the build makes a half-built shard count as missing.
 */
export async function cachedEdgeShard(n: number, rebuild = false): Promise<CachedShard> {
  const path = join(DATA_DIR, `edge-${n}x${DIM}-${DISTANCE}-seed${SEED}`);
  const marker = `${path}.built.json`;
  if (!rebuild && existsSync(marker) && existsSync(path)) return { path, buildSeconds: undefined };
  const vectors = vectorFile(n);
  rmSync(marker, { force: true });
  rmSync(path, { recursive: true, force: true });
  const started = performance.now();
  const shard = await EdgeShard.create(path, { vectors: { size: DIM, distance: DISTANCE } });
  for (let at = 0; at < n; at += BUILD_BATCH) {
    const count = Math.min(BUILD_BATCH, n - at);
    const rows = readVectors(vectors, at, count);
    const points = Array.from({ length: count }, (_, j) => ({
      id: at + j,
      vector: rows.subarray(j * DIM, (j + 1) * DIM),
      payload: payloadOf(at + j),
    }));
    shard.update({ upsert_points: points });
  }
  shard.close();
  const buildSeconds = (performance.now() - started) / 1000;
  writeFileSync(marker, JSON.stringify({ n, dim: DIM, distance: DISTANCE, seed: SEED, buildSeconds }) + "\n");
  return { path, buildSeconds };
}

/**
 * The cached @x/edge shard of the first `n` vectors after `optimize()` (HNSW m 16, ef_construct 100, the
 * defaults): a copy of {@linkcode cachedEdgeShard}'s shard, optimized once and kept (1M uniform vectors take
 * ~8 minutes on 2 cores). `buildSeconds` is the optimize's time.
 */
export async function cachedIndexedEdgeShard(n: number): Promise<CachedShard> {
  const path = join(DATA_DIR, `edge-${n}x${DIM}-${DISTANCE}-seed${SEED}-hnsw`);
  const marker = `${path}.built.json`;
  if (existsSync(marker) && existsSync(path)) return { path, buildSeconds: undefined };
  const source = await cachedEdgeShard(n);
  rmSync(marker, { force: true });
  rmSync(path, { recursive: true, force: true });
  cpSync(source.path, path, { recursive: true, filter: (file) => !file.endsWith(".lock") });
  const started = performance.now();
  const shard = await EdgeShard.load(path);
  await shard.optimize();
  const indexed = shard.info().indexed_vectors_count;
  shard.close();
  if (indexed !== n) throw new Error(`optimize indexed ${indexed} of ${n} vectors in ${path}`);
  const buildSeconds = (performance.now() - started) / 1000;
  writeFileSync(
    marker,
    JSON.stringify({ n, dim: DIM, distance: DISTANCE, seed: SEED, optimized: true, buildSeconds }) + "\n",
  );
  return { path, buildSeconds };
}

/** The cached Qdrant Edge shard of the first `n` vectors, built by the peer if missing or if `rebuild` is set. */
export function cachedQdrantShard(n: number, rebuild = false): CachedShard {
  const path = join(DATA_DIR, `qdrant-${n}x${DIM}-${DISTANCE}-seed${SEED}`);
  const marker = `${path}.built.json`;
  if (!rebuild && existsSync(marker) && existsSync(path)) return { path, buildSeconds: undefined };
  const vectors = vectorFile(n);
  rmSync(marker, { force: true });
  const result = runPeer("build", { vectors, n, dim: DIM, distance: DISTANCE, path });
  const buildSeconds = result.build_s as number;
  writeFileSync(marker, JSON.stringify({ n, dim: DIM, distance: DISTANCE, seed: SEED, buildSeconds }) + "\n");
  return { path, buildSeconds };
}

/** What an `open` child reports, from either engine (times in ms, memory in bytes). */
export type OpenRun = Record<string, unknown> & {
  import_ms: number;
  load_ms: number;
  first_query_ms: number;
  warm_query_ms: number;
  count: number;
  top_id: unknown;
  memory: Record<string, number>;
};

/** The point whose vector is the query of every open: its own point must come first. */
export function queryIndex(n: number): number {
  return 12_345 % n;
}

/** `EdgeShard.load` + first query of the @x/edge shard in `path`, in a fresh process of this runtime. */
export function openEdge(path: string, n: number): OpenRun {
  return runEdgeChild("open", {
    path,
    vectors: vectorFile(n),
    query_index: queryIndex(n),
    warm_queries: 5,
  }) as OpenRun;
}

/** `EdgeShard.load` + first query of the Qdrant Edge shard in `path`, in a fresh Python process. */
export function openQdrant(path: string, n: number): OpenRun {
  return runPeer("open", {
    path,
    vectors: vectorFile(n),
    dim: DIM,
    query_index: queryIndex(n),
    warm_queries: 5,
  }) as OpenRun;
}

/**
 * Both engines' cached shards of the first `n` vectors, each opened once (untimed) by a child: that warms
 * the page cache and checks the shard (`n` points, the query's own point first). A cached shard that no
 * longer opens or answers right (an older format, a damaged cache) is rebuilt once.
 */
export async function checkedShards(n: number): Promise<{ edge: CachedShard; qdrant: CachedShard }> {
  const check = (name: string, run: OpenRun) => {
    if (run.count !== n || run.top_id !== queryIndex(n)) {
      throw new Error(
        `${name}: expected ${n} points and point ${queryIndex(n)} first, got ${run.count} and ${run.top_id}`,
      );
    }
  };
  const edge = await cachedEdgeShard(n);
  const qdrant = cachedQdrantShard(n);
  const checked = async (
    name: string,
    shard: CachedShard,
    open: (path: string, n: number) => OpenRun,
    rebuild: () => Promise<CachedShard>,
  ) => {
    try {
      check(name, open(shard.path, n));
      return shard;
    } catch (error) {
      console.error(
        `${name}: the cached shard failed (${(error as Error).message.split("\n")[0]}); rebuilding it`,
      );
      const fresh = await rebuild();
      check(name, open(fresh.path, n));
      return fresh;
    }
  };
  return {
    edge: await checked("@x/edge", edge, openEdge, () => cachedEdgeShard(n, true)),
    qdrant: await checked(
      "qdrant-edge-py",
      qdrant,
      openQdrant,
      () => Promise.resolve(cachedQdrantShard(n, true)),
    ),
  };
}

/** Bytes of the files under `path`: their sizes (`apparent`) and the disk blocks they hold (`allocated`). */
export function directoryBytes(path: string): { apparent: number; allocated: number; files: number } {
  let apparent = 0;
  let allocated = 0;
  let files = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const stat = lstatSync(full);
      if (stat.isDirectory()) walk(full);
      else {
        apparent += stat.size;
        allocated += (stat.blocks ?? Math.ceil(stat.size / 4096) * 8) * 512;
        files += 1;
      }
    }
  };
  walk(path);
  return { apparent, allocated, files };
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Rounds for tables and saved results. */
export function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}

/** The 1-, 5- and 15-minute load averages: other work on the machine skews every timing. */
export function load(): number[] {
  return loadavg().map((x) => round(x, 2));
}

/** The peer as named in tables and saved results. */
export function qdrantPeerName(): string {
  return "qdrant-edge-py 0.9.0 (Python, bench/peers/qdrant_edge_peer.py)";
}
