/**
 * `optimize()`: rewrites a shard's segment into a new one beside it — only the live points, compacted
 * (vacuum), with an HNSW graph and quantized vectors for each vector big enough to index — in bounded
 * steps between which the event loop runs, so queries and updates keep working. The shard publishes the
 * result with one rename (see `EdgeShard.optimize`).
 *
 * What triggers a rewrite (Qdrant's optimizers, for a shard of one segment):
 * - vacuum: the share of dead offsets (deleted or overwritten points) passes `deleted_threshold`, in a
 *   segment of at least `vacuum_min_vector_number` offsets;
 * - indexing: a vector's unindexed points take at least `indexing_threshold` KB;
 * - config mismatch: a built graph or quantization differs from the configured one.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { setImmediate } from "node:timers";
import type { NativeLibrary } from "../ffi/loader.ts";
import { GraphBuilder, QuantizedBuilder } from "../kernel/vector_index.ts";
import { elementBytes } from "../kernel/vector_storage.ts";
import { encodePayload } from "./prepare.ts";
import type { IdKey } from "./point_id.ts";
import {
  type CopiedPoint,
  graphPath,
  quantizedPath,
  Segment,
  type SegmentVector,
  type VectorIndexState,
} from "../segment/segment.ts";
import { hnswOf, type QuantizationConfig, quantizationOf, type ResolvedConfig } from "./config.ts";
import { join } from "node:path";

/** One step of an optimize, as reported to `onProgress`. */
export interface OptimizeProgress {
  /** `"copy"` (live points into the new segment), `"hnsw"` (graph build), `"quantization"`, `"publish"`. */
  phase: "copy" | "hnsw" | "quantization" | "publish";
  /** The vector being indexed, in the `"hnsw"` and `"quantization"` phases. */
  vector?: string;
  /** Units done so far in this phase (points). */
  done: number;
  /** Units of this phase. */
  total: number;
}

/**
 * Options of `EdgeShard.optimize`.
 *
 * @example
 * ```ts
 * import type { OptimizeOptions } from "@x/edge";
 * const controller = new AbortController();
 * const options: OptimizeOptions = {
 *   onProgress: ({ phase, done, total }) => console.log(phase, done, total),
 *   signal: controller.signal,
 * };
 * ```
 */
export interface OptimizeOptions {
  /** Called after every step with the phase and how far it got. */
  onProgress?: (progress: OptimizeProgress) => void;
  /** Aborting it cancels the optimize: the new files are removed and the shard is unchanged. */
  signal?: AbortSignal;
}

/** Why a segment is rewritten. */
export interface OptimizationPlan {
  vacuum: boolean;
  /** Vectors whose unindexed points passed the indexing threshold. */
  index: string[];
  /** Vectors whose built indexes differ from the configuration. */
  mismatch: string[];
}

/** What an optimize would do to `segment` under `config`; undefined when nothing. */
export function planOptimization(segment: Segment, config: ResolvedConfig): OptimizationPlan | undefined {
  const { deleted_threshold, vacuum_min_vector_number } = config.optimizers;
  const written = segment.nextOffset;
  const dead = written - segment.pointCount;
  const vacuum = written > 0 && written >= vacuum_min_vector_number && dead / written > deleted_threshold;
  const index: string[] = [];
  const mismatch: string[] = [];
  for (const [name, v] of Object.entries(segment.vectors)) {
    const built = segment.vectorIndex(name);
    const wanted = wantedIndex(config, name, v, segment.liveVectorCount(name));
    if (built !== undefined && !sameIndex(built, wanted, config, name)) mismatch.push(name);
    else if (wanted.hnsw && unindexedKb(segment, name, v) >= config.optimizers.indexing_threshold) {
      index.push(name);
    }
  }
  if (!vacuum && index.length === 0 && mismatch.length === 0) return undefined;
  return { vacuum, index, mismatch };
}

/** KB taken by vectors written past what the graph covers (live or not: they all cost a scan). */
function unindexedKb(segment: Segment, name: string, v: SegmentVector): number {
  const built = segment.vectorIndex(name);
  const graphPoints = built?.hnsw === undefined ? 0 : built.points;
  const unindexed = Math.min(segment.liveVectorCount(name), segment.nextOffset - graphPoints);
  return (unindexed * v.size * elementBytes(v.datatype)) / 1024;
}

/** What the configuration asks for a vector with `live` points after a rewrite. */
function wantedIndex(
  config: ResolvedConfig,
  name: string,
  v: SegmentVector,
  live: number,
): { hnsw: boolean; quantization?: QuantizationConfig } {
  const threshold = config.optimizers.indexing_threshold;
  const hnsw = threshold > 0 && (live * v.size * elementBytes(v.datatype)) / 1024 >= threshold;
  return { hnsw, quantization: hnsw ? quantizationOf(config, name) : undefined };
}

function sameIndex(
  built: VectorIndexState,
  wanted: { hnsw: boolean; quantization?: QuantizationConfig },
  config: ResolvedConfig,
  name: string,
): boolean {
  const hnsw = hnswOf(config, name);
  if (
    built.hnsw !== undefined && (built.hnsw.m !== hnsw.m || built.hnsw.ef_construct !== hnsw.ef_construct)
  ) {
    return false;
  }
  // A graph is never dropped because the threshold rose: only its parameters and quantization count.
  return !wanted.hnsw ||
    JSON.stringify(built.quantization ?? null) === JSON.stringify(wanted.quantization ?? null);
}

/** The live points of a segment as of the start of an optimize: what the new segment will hold. */
export interface SegmentSnapshot {
  offsets: Uint32Array;
  keys: IdKey[];
  versions: Float64Array;
}

/** Takes the live points of `segment` now (their offsets' contents never change afterwards). */
export function snapshotSegment(segment: Segment): SegmentSnapshot {
  const offsets = new Uint32Array(segment.pointCount);
  let n = 0;
  segment.forEachLive((offset) => (offsets[n++] = offset));
  const keys: IdKey[] = new Array(n);
  const versions = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    keys[i] = segment.keyAt(offsets[i])!;
    versions[i] = segment.versionAt(offsets[i]);
  }
  return { offsets, keys, versions };
}

/** Milliseconds of work between two turns of the event loop. */
const STEP_MS = 25;

/** What the build needs from the shard besides the source segment. */
export interface BuildContext {
  native: NativeLibrary;
  config: ResolvedConfig;
  payloadSchema: Readonly<Record<string, unknown>>;
  /** Throws when the build must stop (shard closed, or the signal aborted). */
  checkpoint: () => void;
  onProgress?: (progress: OptimizeProgress) => void;
}

/**
 * Writes the points of `snapshot` from `source` into a new segment at `dir`, with payload indexes, HNSW
 * graphs and quantized vectors; yields to the event loop between bounded steps. Returns the new segment,
 * open; on failure or cancellation removes nothing (the caller removes `dir`).
 */
export async function buildSegment(
  source: Segment,
  snapshot: SegmentSnapshot,
  dir: string,
  context: BuildContext,
): Promise<Segment> {
  const vectors = Object.fromEntries(
    Object.entries(source.vectors).map(([name, { size, datatype, distance }]) => [name, {
      size,
      datatype,
      distance,
    }]),
  );
  const target = Segment.create(context.native, dir, vectors);
  try {
    for (const [field, schema] of Object.entries(context.payloadSchema)) {
      target.createPayloadIndex(field, schema);
    }
    await copyPoints(source, target, snapshot, context);
    const indexes: Record<string, VectorIndexState> = {};
    for (const [name, v] of Object.entries(target.vectors)) {
      const live = target.liveVectorCount(name);
      const wanted = wantedIndex(context.config, name, v, live);
      if (!wanted.hnsw) continue;
      const index: VectorIndexState = { points: target.nextOffset };
      index.hnsw = await buildGraph(target, name, v, context);
      if (wanted.quantization !== undefined) {
        await quantize(target, name, v, wanted.quantization, context);
        index.quantization = wanted.quantization;
      }
      indexes[name] = index;
    }
    target.attachVectorIndexes(indexes);
    return target;
  } catch (error) {
    target.close();
    throw error;
  }
}

async function copyPoints(
  source: Segment,
  target: Segment,
  snapshot: SegmentSnapshot,
  context: BuildContext,
): Promise<void> {
  const total = snapshot.offsets.length;
  const names = Object.keys(source.vectors);
  const slots = names.map((name) => target.vectors[name].slot);
  let done = 0;
  while (done < total) {
    context.checkpoint();
    const started = performance.now();
    const cursor = source.payloadCursor();
    while (done < total && performance.now() - started < STEP_MS) {
      const end = Math.min(total, done + 512);
      const batch: CopiedPoint[] = [];
      for (let i = done; i < end; i++) {
        const offset = snapshot.offsets[i];
        const copied: (Float32Array | undefined)[] = [];
        names.forEach((name, j) => (copied[slots[j]] = source.vector(name, offset)));
        const payloadObject = cursor(offset);
        batch.push({
          key: snapshot.keys[i],
          version: snapshot.versions[i],
          vectors: copied,
          payload: encodePayload(payloadObject),
          payloadObject,
        });
      }
      target.appendCopies(batch);
      done = end;
    }
    context.onProgress?.({ phase: "copy", done, total });
    await nextTurn();
  }
}

/** Threads of a graph build: `max_indexing_threads`, or every core (up to 16) for 0. */
function indexingThreads(configured: number): number {
  if (configured > 0) return configured;
  const cores = (globalThis.navigator as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency ??
    1;
  return Math.max(1, Math.min(16, cores));
}

async function buildGraph(
  target: Segment,
  name: string,
  v: SegmentVector,
  context: BuildContext,
): Promise<VectorIndexState["hnsw"]> {
  const hnsw = hnswOf(context.config, name);
  const seed = 0x5eed + v.slot;
  const storage = target.storageOf(name);
  const offsets = offsetsWithVector(target, name);
  const threads = indexingThreads(hnsw.max_indexing_threads);
  using builder = GraphBuilder.create(context.native, storage, {
    distance: v.distance,
    m: hnsw.m,
    efConstruct: hnsw.ef_construct,
    seed: BigInt(seed),
  });
  let done = 0;
  let batch = 64;
  while (done < offsets.length) {
    context.checkpoint();
    const end = Math.min(offsets.length, done + batch);
    const started = performance.now();
    builder.insert(storage, offsets.subarray(done, end), threads);
    const elapsed = performance.now() - started;
    // Aim each step at STEP_MS: the cost per point grows slowly with the graph, so adapt as it goes.
    batch = Math.max(16, Math.min(1 << 16, Math.round((batch * STEP_MS) / Math.max(elapsed, 0.5))));
    done = end;
    context.onProgress?.({ phase: "hnsw", vector: name, done, total: offsets.length });
    await nextTurn();
  }
  context.checkpoint();
  mkdirSync(join(target.dir, "hnsw"), { recursive: true });
  builder.write(graphPath(target.dir, v.slot));
  return { m: hnsw.m, ef_construct: hnsw.ef_construct, seed };
}

async function quantize(
  target: Segment,
  name: string,
  v: SegmentVector,
  quantization: QuantizationConfig,
  context: BuildContext,
): Promise<void> {
  const storage = target.storageOf(name);
  const total = target.nextOffset;
  const [kind, quantile] = "scalar" in quantization
    ? ["int8" as const, quantization.scalar.quantile ?? 0.99]
    : ["binary" as const, 1];
  context.checkpoint();
  using builder = QuantizedBuilder.create(context.native, storage, v.distance, kind, quantile);
  let done = 0;
  const rows = Math.max(256, Math.floor((4 << 20) / (v.size * 4)));
  while (done < total) {
    context.checkpoint();
    const end = Math.min(total, done + rows);
    builder.encode(storage, done, end);
    done = end;
    context.onProgress?.({ phase: "quantization", vector: name, done, total });
    await nextTurn();
  }
  mkdirSync(join(target.dir, "quant"), { recursive: true });
  builder.write(quantizedPath(target.dir, v.slot));
}

/** Offsets of the live points of `target` that have vector `name`, ascending. */
function offsetsWithVector(target: Segment, name: string): Uint32Array {
  const out: number[] = [];
  target.forEachLive((offset) => {
    if (target.hasVector(name, offset)) out.push(offset);
  });
  return Uint32Array.from(out);
}

/** Lets the event loop run (timers, I/O, other calls into the shard) before the next step. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
