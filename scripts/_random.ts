/**
 * Seeded pseudo-random data for the demo, the tests and the benchmarks: the same seed gives the same data
 * in every runtime, so results can be compared across Deno, Bun and Python.
 *
 * @module
 */

/** A mulberry32 generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `dim` normally distributed values with standard deviation `scale` (Box–Muller). */
export function gaussianVector(random: () => number, dim: number, scale = 1): number[] {
  return Array.from({ length: dim }, () => {
    const u = Math.max(random(), 1e-12);
    return scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  });
}

/** A flat `Float32Array` of `length` values uniform in [-0.5, 0.5). */
export function uniformFloats(length: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random() - 0.5;
  return out;
}
