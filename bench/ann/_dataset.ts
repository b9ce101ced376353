/**
 * The dataset of the approximate-nearest-neighbour benchmark: real 384-d sentence embeddings
 * (all-MiniLM-L6-v2 over Debian package synopses) with exact top-100 ground truth, unfiltered and under the
 * filters `bucket < 1`, `< 10` and `< 50` (base point `i` has the payload `{ bucket: i % 100 }`).
 *
 * `bench/ann/make_dataset.py` generates it offline into `.cache/bench-data/ann/<n>-<q>/`; this module runs
 * that script (with the project's `.venv` Python), which only checks the cache (~60 ms) when it is there and
 * generates the files when not, then reads the raw files. Node built-ins only, so it runs under Deno and
 * Bun alike.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = join(ROOT, ".venv", "bin", "python");
const SCRIPT = join(ROOT, "bench", "ann", "make_dataset.py");

/** Ground-truth neighbours kept per query (rows of the `gt*.i32` files). */
export const GT_K = 100;

/** Filter selectivities (percent of the base points) that have ground truth. */
export const SELECTIVITIES = [1, 10, 50] as const;

/** A filter selectivity in percent: the filter `bucket < s` keeps s % of the base points. */
export type Selectivity = typeof SELECTIVITIES[number];

/** A loaded dataset. Vectors are unit length (the distance is Cosine); ids are base row numbers. */
export interface AnnDataset {
  /** Directory of the raw files. */
  dir: string;
  /** Number of base vectors. */
  n: number;
  /** Number of queries. */
  q: number;
  /** Vector dimension (384). */
  dim: number;
  /** Base vectors, row-major `n × dim`. */
  base: Float32Array;
  /** Query vectors, row-major `q × dim` (texts held out of the base set). */
  queries: Float32Array;
  /** Exact top-`GT_K` base ids of each query by cosine, row-major `q × GT_K`, best first. */
  gt: Int32Array;
  /**
   * The same under the filter `bucket < s` (`{"must": [{"key": "bucket", "range": {"lt": s}}]}`), keyed by
   * the selectivity `s` in percent; rows with fewer matching points are padded with -1.
   */
  gtFiltered: Record<Selectivity, Int32Array>;
  /** The generator's `meta.json`: model, package, corpus, seed, creation time, embedding throughput. */
  meta: Record<string, unknown>;
}

/**
 * The payload field of base point `i` that the filters test.
 *
 * @example
 * ```ts
 * bucketOf(1234); // 34: the point matches the 50 % filter (bucket < 50) but not the 10 % one
 * ```
 */
export function bucketOf(i: number): number {
  return i % 100;
}

/**
 * The dataset of `n` base vectors and `q` queries, generated first (which takes about a second per 500
 * texts on two cores, plus a few seconds) when it is not cached yet.
 *
 * @example
 * ```ts
 * const ds = annDataset(10_000, 100);
 * const query0 = ds.queries.subarray(0, ds.dim);
 * const nearestId = ds.gt[0]; // the base row closest to query 0
 * ```
 */
export function annDataset(n: number, q: number): AnnDataset {
  const run = spawnSync(PYTHON, [SCRIPT, "--n", String(n), "--queries", String(q)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (run.error !== undefined) {
    throw new Error(`make_dataset.py: could not run ${PYTHON}: ${run.error.message}`);
  }
  if (run.status !== 0) {
    throw new Error(`make_dataset.py --n ${n} --queries ${q} failed (exit status ${run.status})`);
  }
  const dir = run.stdout.trim().split("\n").at(-1) ?? "";
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as Record<string, unknown>;
  const dim = meta.dim as number;
  if (meta.n !== n || meta.q !== q || meta.gt_k !== GT_K) {
    throw new Error(`${dir}/meta.json describes n=${meta.n}, q=${meta.q}, gt_k=${meta.gt_k}, not ${n}, ${q}`);
  }
  const gtFiltered = {} as Record<Selectivity, Int32Array>;
  for (const s of SELECTIVITIES) gtFiltered[s] = readInt32(join(dir, `gt_f${s}.i32`), q * GT_K);
  return {
    dir,
    n,
    q,
    dim,
    base: readFloat32(join(dir, "base.f32"), n * dim),
    queries: readFloat32(join(dir, "queries.f32"), q * dim),
    gt: readInt32(join(dir, "gt.i32"), q * GT_K),
    gtFiltered,
    meta,
  };
}

/**
 * Mean recall@k over the queries: for each query, the share of its first `k` ground-truth ids (fewer when a
 * filter matches fewer points; -1 padding is skipped) that appear among its first `k` results. Queries whose
 * ground truth is empty are not counted.
 *
 * @param k neighbours per query
 * @param results per query, the ids found (best first); or a row-major `queries × k` Int32Array
 * @param gt a ground-truth matrix of `GT_K` ids per query (`AnnDataset.gt` or one of `gtFiltered`)
 * @example
 * ```ts
 * const ds = annDataset(10_000, 100);
 * const results = [...]; // per query, the ids an index returned
 * recallAt(10, results, ds.gt); // 0.97
 * ```
 */
export function recallAt(k: number, results: ArrayLike<number>[] | Int32Array, gt: Int32Array): number {
  const rows = gt.length / GT_K;
  const resultOf = (row: number): ArrayLike<number> =>
    results instanceof Int32Array ? results.subarray(row * k, (row + 1) * k) : results[row];
  if (!(results instanceof Int32Array) && results.length !== rows) {
    throw new Error(`recallAt: ${results.length} result rows for ${rows} ground-truth rows`);
  }
  let sum = 0;
  let counted = 0;
  for (let row = 0; row < rows; row++) {
    const expected = new Set<number>();
    for (let j = 0; j < k; j++) {
      const id = gt[row * GT_K + j];
      if (id >= 0) expected.add(id);
    }
    if (expected.size === 0) continue;
    const found = resultOf(row);
    let hits = 0;
    for (let j = 0; j < Math.min(k, found.length); j++) if (expected.has(found[j])) hits++;
    sum += hits / expected.size;
    counted++;
  }
  return counted === 0 ? 1 : sum / counted;
}

function readBytes(path: string, bytes: number): Uint8Array {
  const data = readFileSync(path);
  if (data.length !== bytes) throw new Error(`${path}: expected ${bytes} bytes, found ${data.length}`);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("the dataset is little-endian");
  // A copy into a buffer of its own: readFileSync may return a slice of a shared pool at an offset that a
  // Float32Array cannot start at.
  const out = new Uint8Array(bytes);
  out.set(data);
  return out;
}

function readFloat32(path: string, count: number): Float32Array {
  return new Float32Array(readBytes(path, count * 4).buffer);
}

function readInt32(path: string, count: number): Int32Array {
  return new Int32Array(readBytes(path, count * 4).buffer);
}
