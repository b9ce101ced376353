/**
 * Typed wrappers over the native vector indexes of one vector file: HNSW graphs and quantized vectors,
 * their builders (driven in bounded steps by `optimize()`), and the one search call that combines them
 * with exact scanning. Inputs are validated by the callers; these classes check their own handles and
 * turn native statuses into errors.
 *
 * @module
 */
import { ShardClosedError } from "../errors.ts";
import type { NativeLibrary } from "../ffi/loader.ts";
import { checkSyncFault } from "../storage/fsync.ts";
import { checkStatus } from "./status.ts";
import { type Distance, type ExactSearchResult, METRIC_CODES, type VectorStorage } from "./vector_storage.ts";

const encoder = new TextEncoder();

/** Quantization methods, as the ABI numbers them. */
export type QuantizationKind = "int8" | "binary";
const QUANTIZATION_CODES: Record<QuantizationKind, number> = { int8: 1, binary: 2 };

const SEARCH_EXACT = 1;
const SEARCH_RESCORE = 2;

/** A native handle owned by one object until it is closed. */
abstract class NativeHandle {
  protected readonly native: NativeLibrary;
  readonly path: string;
  #handle: bigint;

  protected constructor(native: NativeLibrary, path: string, handle: bigint) {
    this.native = native;
    this.path = path;
    this.#handle = handle;
  }

  /** The handle; throws once closed. */
  nativeHandle(): bigint {
    if (this.#handle === 0n) throw new ShardClosedError(this.describe());
    return this.#handle;
  }

  /** Releases the native object. Idempotent. */
  close(): void {
    if (this.#handle === 0n) return;
    const handle = this.#handle;
    this.#handle = 0n;
    this.release(handle);
  }

  /** Whether {@linkcode NativeHandle.close} was called. */
  get closed(): boolean {
    return this.#handle === 0n;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  protected abstract describe(): string;
  protected abstract release(handle: bigint): void;
}

/** An HNSW graph file, mmap'd read-only. */
export class HnswGraph extends NativeHandle {
  /** Offsets below this are nodes of the graph (or were never inserted); the rest are the unindexed tail. */
  readonly nodeCount: number;

  private constructor(native: NativeLibrary, path: string, handle: bigint, nodeCount: number) {
    super(native, path, handle);
    this.nodeCount = nodeCount;
  }

  /** Maps the graph at `path`, checking its header, checksums and links (CORRUPT when wrong). */
  static open(native: NativeLibrary, path: string): HnswGraph {
    const bytes = encoder.encode(path);
    const out = new BigUint64Array(1);
    checkStatus(
      native,
      native.symbols.edge_hnsw_open(bytes, bytes.length, out),
      `Cannot open HNSW graph ${path}`,
    );
    const count = new BigUint64Array(1);
    const status = native.symbols.edge_hnsw_node_count(out[0], count);
    if (status !== 0) native.symbols.edge_hnsw_close(out[0]);
    checkStatus(native, status, `Cannot read HNSW graph ${path}`);
    return new HnswGraph(native, path, out[0], Number(count[0]));
  }

  protected describe(): string {
    return `HNSW graph ${this.path}`;
  }

  protected release(handle: bigint): void {
    checkStatus(this.native, this.native.symbols.edge_hnsw_close(handle), `Cannot close ${this.path}`);
  }
}

/** Quantized copies of a vector file's records (int8 or binary), mmap'd or held in memory. */
export class QuantizedVectors extends NativeHandle {
  private constructor(native: NativeLibrary, path: string, handle: bigint) {
    super(native, path, handle);
  }

  /** Opens the quantized file at `path`; `alwaysRam` reads it into memory instead of mapping it. */
  static open(native: NativeLibrary, path: string, alwaysRam: boolean): QuantizedVectors {
    const bytes = encoder.encode(path);
    const out = new BigUint64Array(1);
    const status = native.symbols.edge_quant_open(bytes, bytes.length, alwaysRam ? 1 : 0, out);
    checkStatus(native, status, `Cannot open quantized vectors ${path}`);
    return new QuantizedVectors(native, path, out[0]);
  }

  protected describe(): string {
    return `Quantized vectors ${this.path}`;
  }

  protected release(handle: bigint): void {
    checkStatus(this.native, this.native.symbols.edge_quant_close(handle), `Cannot close ${this.path}`);
  }
}

/** Parameters of an HNSW build. */
export interface GraphBuildParams {
  distance: Distance;
  m: number;
  efConstruct: number;
  seed: bigint;
}

/**
 * Builds an HNSW graph over records of a vector file, a batch of offsets per {@linkcode insert} call (each
 * call is one bounded native step), then writes it with {@linkcode write}.
 */
export class GraphBuilder extends NativeHandle {
  private constructor(native: NativeLibrary, handle: bigint) {
    super(native, "(graph builder)", handle);
  }

  /** Starts an empty graph over the records of `storage`. */
  static create(native: NativeLibrary, storage: VectorStorage, params: GraphBuildParams): GraphBuilder {
    const out = new BigUint64Array(1);
    const status = native.symbols.edge_hnsw_builder_new(
      storage.nativeHandle(),
      METRIC_CODES[params.distance],
      params.m,
      params.efConstruct,
      params.seed,
      out,
    );
    checkStatus(native, status, "Cannot start an HNSW build");
    return new GraphBuilder(native, out[0]);
  }

  /** Links the records at `offsets` into the graph, on `threads` threads. */
  insert(storage: VectorStorage, offsets: Uint32Array, threads: number): void {
    if (offsets.length === 0) return;
    const status = this.native.symbols.edge_hnsw_builder_insert(
      this.nativeHandle(),
      storage.nativeHandle(),
      offsets,
      offsets.length,
      threads,
    );
    checkStatus(this.native, status, `Cannot insert ${offsets.length} points into an HNSW graph`);
  }

  /** Writes the graph to `path` (a new file) and fsyncs it. */
  write(path: string): void {
    checkSyncFault(path);
    const bytes = encoder.encode(path);
    const status = this.native.symbols.edge_hnsw_builder_write(this.nativeHandle(), bytes, bytes.length);
    checkStatus(this.native, status, `Cannot write HNSW graph ${path}`);
  }

  protected describe(): string {
    return "HNSW graph builder";
  }

  protected release(handle: bigint): void {
    checkStatus(
      this.native,
      this.native.symbols.edge_hnsw_builder_free(handle),
      "Cannot free an HNSW builder",
    );
  }
}

/**
 * Quantizes the records of a vector file: training happens when the builder is created, then
 * {@linkcode encode} converts a range of offsets per call, and {@linkcode write} saves the file.
 */
export class QuantizedBuilder extends NativeHandle {
  private constructor(native: NativeLibrary, handle: bigint) {
    super(native, "(quantization builder)", handle);
  }

  /** Trains the quantizer on the records of `storage` (for int8: the value range holding `quantile`). */
  static create(
    native: NativeLibrary,
    storage: VectorStorage,
    distance: Distance,
    kind: QuantizationKind,
    quantile: number,
  ): QuantizedBuilder {
    const out = new BigUint64Array(1);
    const status = native.symbols.edge_quant_builder_new(
      storage.nativeHandle(),
      METRIC_CODES[distance],
      QUANTIZATION_CODES[kind],
      quantile,
      out,
    );
    checkStatus(native, status, `Cannot train ${kind} quantization`);
    return new QuantizedBuilder(native, out[0]);
  }

  /** Encodes the records at offsets `start..end`. */
  encode(storage: VectorStorage, start: number, end: number): void {
    const status = this.native.symbols.edge_quant_builder_encode(
      this.nativeHandle(),
      storage.nativeHandle(),
      BigInt(start),
      BigInt(end),
    );
    checkStatus(this.native, status, `Cannot quantize vectors ${start}..${end}`);
  }

  /** Writes the quantized vectors to `path` (a new file) and fsyncs it. */
  write(path: string): void {
    checkSyncFault(path);
    const bytes = encoder.encode(path);
    const status = this.native.symbols.edge_quant_builder_write(this.nativeHandle(), bytes, bytes.length);
    checkStatus(this.native, status, `Cannot write quantized vectors ${path}`);
  }

  protected describe(): string {
    return "Quantization builder";
  }

  protected release(handle: bigint): void {
    checkStatus(
      this.native,
      this.native.symbols.edge_quant_builder_free(handle),
      "Cannot free a quantization builder",
    );
  }
}

/** How {@linkcode searchIndexed} searches. */
export interface IndexedSearchParams {
  distance: Distance;
  k: number;
  /** Candidates kept while walking the graph (at least `k`). */
  ef: number;
  /** Scan every allowed record instead of walking the graph. */
  exact: boolean;
  /** With quantized vectors: re-score the best `k · oversampling` candidates with the originals. */
  rescore: boolean;
  /** With quantized vectors: how many more candidates than `k` to keep before rescoring (≥ 1). */
  oversampling: number;
}

/**
 * Top-`k` for a batch of queries over `storage`, walking `graph` for the offsets it covers and scanning the
 * rest, scoring with `quantized` when given. Scores are raw (`ABI.md`). Returns fresh arrays.
 */
export function searchIndexed(
  native: NativeLibrary,
  storage: VectorStorage,
  graph: HnswGraph | undefined,
  quantized: QuantizedVectors | undefined,
  queries: Float32Array,
  params: IndexedSearchParams,
  allow: Uint8Array | null,
): ExactSearchResult {
  const nq = queries.length / storage.dim;
  const result: ExactSearchResult = {
    offsets: new BigUint64Array(nq * params.k),
    scores: new Float32Array(nq * params.k),
    counts: new Uint32Array(nq),
  };
  // An empty allow-list admits nothing; Deno may pass an empty array as NULL, which would admit all.
  if (allow !== null && allow.length === 0) return result;
  const flags = (params.exact ? SEARCH_EXACT : 0) | (params.rescore ? SEARCH_RESCORE : 0);
  const status = native.symbols.edge_search(
    storage.nativeHandle(),
    graph?.nativeHandle() ?? 0n,
    quantized?.nativeHandle() ?? 0n,
    METRIC_CODES[params.distance],
    queries,
    nq,
    params.k,
    params.ef,
    flags,
    params.oversampling,
    allow,
    allow === null ? 0 : allow.length,
    result.offsets,
    result.scores,
    result.counts,
  );
  checkStatus(native, status, "Cannot search");
  return result;
}
