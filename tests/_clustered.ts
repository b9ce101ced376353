/**
 * Clustered vector sets for the recall tests: `clusters` Gaussian centres and points scattered around
 * them, from one seed, the same in Deno and Bun. Real embeddings are clustered too; uniform random
 * vectors would make every neighbour nearly as far as every other and say little about a graph.
 *
 * @module
 */
import { gaussianVector, seededRandom } from "../scripts/_random.ts";

/** `n` points of `dim` values around `clusters` centres, rows back to back, plus `queries` more from the same mix. */
export function clusteredVectors(
  n: number,
  dim: number,
  options: { clusters?: number; spread?: number; seed?: number } = {},
): Float32Array {
  const { clusters = 100, spread = 0.35, seed = 7 } = options;
  const random = seededRandom(seed);
  const centres = Array.from({ length: clusters }, () => gaussianVector(random, dim));
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const centre = centres[Math.floor(random() * clusters)];
    const noise = gaussianVector(random, dim, spread);
    for (let j = 0; j < dim; j++) out[i * dim + j] = centre[j] + noise[j];
  }
  return out;
}

/** Row `i` of a flat set as a plain array (what `update` takes). */
export function row(data: Float32Array, dim: number, i: number): number[] {
  return Array.from(data.subarray(i * dim, (i + 1) * dim));
}

/** Share of `expected` ids found in `actual` (recall@k with k = expected.length). */
export function recall(expected: readonly unknown[], actual: readonly unknown[]): number {
  if (expected.length === 0) return 1;
  const found = new Set(actual);
  return expected.filter((id) => found.has(id)).length / expected.length;
}
