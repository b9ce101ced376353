/**
 * A typed wrapper over one native mmap'd vector file: fixed-size records addressed by offset, and exact
 * top-k search over them. Inputs are validated by the callers (the shard layer); this class only checks
 * its own handle and turns native statuses into errors.
 *
 * @module
 */
import { ShardClosedError } from "../errors.ts";
import type { NativeLibrary } from "../ffi/loader.ts";
import { checkSyncFault } from "../storage/fsync.ts";
import { checkStatus } from "./status.ts";

/** Element type of stored vectors, with Qdrant's names. */
export type Datatype = "float32" | "float16" | "uint8";
/** Similarity metric, with Qdrant's names. */
export type Distance = "Cosine" | "Dot" | "Euclid" | "Manhattan";

const DATATYPE_CODES: Record<Datatype, number> = { float32: 0, float16: 1, uint8: 2 };
const ELEMENT_BYTES: Record<Datatype, number> = { float32: 4, float16: 2, uint8: 1 };

/** Bytes of one element of `datatype` (4, 2 or 1). */
export function elementBytes(datatype: Datatype): number {
  return ELEMENT_BYTES[datatype];
}
/** The ABI's metric codes. */
export const METRIC_CODES: Record<Distance, number> = { Cosine: 0, Dot: 1, Euclid: 2, Manhattan: 3 };
const FLAG_CREATE = 1;
const FLAG_READ_ONLY = 2;

/** How to open a vector file. */
export interface VectorStorageOptions {
  dim: number;
  datatype: Datatype;
  /** Create a new file; fails if it exists. */
  create?: boolean;
  readOnly?: boolean;
}

/** Best-first results of an exact search for a batch of queries. */
export interface ExactSearchResult {
  /** Record offsets, `k` slots per query. */
  offsets: BigUint64Array;
  /** Raw scores (dot product, squared L2 or L1), `k` slots per query. */
  scores: Float32Array;
  /** How many slots of each query are filled. */
  counts: Uint32Array;
}

const encoder = new TextEncoder();

/** One native vector file, owned by this object until {@linkcode VectorStorage.close}. */
export class VectorStorage {
  readonly #native: NativeLibrary;
  readonly #path: string;
  readonly #dim: number;
  #handle: bigint;
  readonly #u64 = new BigUint64Array(1);
  #scratch: ExactSearchResult = {
    offsets: new BigUint64Array(16),
    scores: new Float32Array(16),
    counts: new Uint32Array(1),
  };

  private constructor(native: NativeLibrary, path: string, dim: number, handle: bigint) {
    this.#native = native;
    this.#path = path;
    this.#dim = dim;
    this.#handle = handle;
  }

  /** Opens (or, with `create`, creates) the vector file at `path`. */
  static open(native: NativeLibrary, path: string, options: VectorStorageOptions): VectorStorage {
    const pathBytes = encoder.encode(path);
    const flags = (options.create ? FLAG_CREATE : 0) | (options.readOnly ? FLAG_READ_ONLY : 0);
    const out = new BigUint64Array(1);
    const status = native.symbols.edge_storage_open(
      pathBytes,
      pathBytes.length,
      options.dim,
      DATATYPE_CODES[options.datatype],
      flags,
      out,
    );
    checkStatus(native, status, `Cannot ${options.create ? "create" : "open"} vector file ${path}`);
    return new VectorStorage(native, path, options.dim, out[0]);
  }

  /** Dimension of every record. */
  get dim(): number {
    return this.#dim;
  }

  /** Number of records (the highest written offset + 1). */
  get count(): number {
    const status = this.#native.symbols.edge_storage_count(this.#live(), this.#u64);
    checkStatus(this.#native, status, `Cannot count vectors in ${this.#path}`);
    return Number(this.#u64[0]);
  }

  /** Writes `data.length / dim` records starting at `offset` (at most `count`), growing the file. */
  put(offset: number, data: Float32Array): void {
    const n = data.length / this.#dim;
    const status = this.#native.symbols.edge_storage_put(this.#live(), BigInt(offset), data, n);
    checkStatus(this.#native, status, `Cannot write ${n} vectors at offset ${offset} of ${this.#path}`);
  }

  /** Reads `n` records starting at `offset` as f32 values. */
  get(offset: number, n: number, out: Float32Array = new Float32Array(n * this.#dim)): Float32Array {
    const status = this.#native.symbols.edge_storage_get(this.#live(), BigInt(offset), n, out);
    checkStatus(this.#native, status, `Cannot read ${n} vectors at offset ${offset} of ${this.#path}`);
    return out;
  }

  /** Makes written records durable (msync + fsync). */
  flush(): void {
    checkSyncFault(this.#path);
    checkStatus(
      this.#native,
      this.#native.symbols.edge_storage_flush(this.#live()),
      `Cannot flush ${this.#path}`,
    );
  }

  /**
   * Exact top-`k` for `queries.length / dim` queries. `allow`, when given, is a bitset of the offsets that
   * may be returned (LSB-first); offsets beyond it are excluded.
   *
   * The result's arrays are reused by the next search on this storage: read them before searching again.
   * (Allocating three typed arrays per call costs about as much as the FFI call itself.)
   */
  searchExact(
    distance: Distance,
    queries: Float32Array,
    k: number,
    allow: Uint8Array | null,
  ): ExactSearchResult {
    const nq = queries.length / this.#dim;
    const result = this.#resultBuffers(nq, k);
    if (allow !== null && allow.length === 0) {
      // An empty allow-list admits nothing; Deno may pass an empty array as NULL, which would admit all.
      result.counts.fill(0);
      return result;
    }
    const status = this.#native.symbols.edge_search_exact(
      this.#live(),
      METRIC_CODES[distance],
      queries,
      nq,
      k,
      allow,
      allow === null ? 0 : allow.length,
      result.offsets,
      result.scores,
      result.counts,
    );
    checkStatus(this.#native, status, `Cannot search ${this.#path}`);
    return result;
  }

  /** The native handle, for the kernel wrappers that search or index this file (`vector_index.ts`). */
  nativeHandle(): bigint {
    return this.#live();
  }

  #resultBuffers(nq: number, k: number): ExactSearchResult {
    const scratch = this.#scratch;
    if (scratch.scores.length < nq * k || scratch.counts.length < nq) {
      this.#scratch = {
        offsets: new BigUint64Array(Math.max(nq * k, scratch.offsets.length * 2)),
        scores: new Float32Array(Math.max(nq * k, scratch.scores.length * 2)),
        counts: new Uint32Array(Math.max(nq, scratch.counts.length * 2)),
      };
    }
    return {
      offsets: this.#scratch.offsets.subarray(0, nq * k),
      scores: this.#scratch.scores.subarray(0, nq * k),
      counts: this.#scratch.counts.subarray(0, nq),
    };
  }

  /** Reads every record byte once and returns a checksum: the memory-bandwidth baseline of benchmarks. */
  readBaseline(): bigint {
    const status = this.#native.symbols.edge_storage_read_baseline(this.#live(), this.#u64);
    checkStatus(this.#native, status, `Cannot read ${this.#path}`);
    return this.#u64[0];
  }

  /** Unmaps and closes the file. Idempotent. */
  close(): void {
    if (this.#handle === 0n) return;
    const handle = this.#handle;
    this.#handle = 0n;
    checkStatus(this.#native, this.#native.symbols.edge_storage_close(handle), `Cannot close ${this.#path}`);
  }

  /** Whether {@linkcode VectorStorage.close} was called. */
  get closed(): boolean {
    return this.#handle === 0n;
  }

  #live(): bigint {
    if (this.#handle === 0n) throw new ShardClosedError(`Vector file ${this.#path}`);
    return this.#handle;
  }
}
