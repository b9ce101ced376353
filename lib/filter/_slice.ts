/**
 * Slice membership for the `slice` condition: SipHash-2-4 with a zero key over the id's canonical bytes (8
 * little-endian bytes for an integer id, the 16 bytes of a UUID), taken modulo `total` (Qdrant's
 * `slice_point_id_hash`, a public contract of the slice condition). 64-bit arithmetic is done on pairs of 32-bit
 * halves, so hashing allocates nothing.
 *
 * @module
 */
import { type IdKey, isUuidKey } from "../shard/point_id.ts";

// The state v0..v3 as high and low 32-bit halves.
let v0h = 0, v0l = 0, v1h = 0, v1l = 0, v2h = 0, v2l = 0, v3h = 0, v3l = 0;

function round(): void {
  let l: number, h: number;
  // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
  l = v0l + v1l;
  v0h = (v0h + v1h + (l > 0xffffffff ? 1 : 0)) >>> 0;
  v0l = l >>> 0;
  h = ((v1h << 13) | (v1l >>> 19)) >>> 0;
  l = ((v1l << 13) | (v1h >>> 19)) >>> 0;
  v1h = (h ^ v0h) >>> 0;
  v1l = (l ^ v0l) >>> 0;
  h = v0h;
  v0h = v0l;
  v0l = h;
  // v2 += v3; v3 = rotl(v3, 16) ^ v2
  l = v2l + v3l;
  v2h = (v2h + v3h + (l > 0xffffffff ? 1 : 0)) >>> 0;
  v2l = l >>> 0;
  h = ((v3h << 16) | (v3l >>> 16)) >>> 0;
  l = ((v3l << 16) | (v3h >>> 16)) >>> 0;
  v3h = (h ^ v2h) >>> 0;
  v3l = (l ^ v2l) >>> 0;
  // v0 += v3; v3 = rotl(v3, 21) ^ v0
  l = v0l + v3l;
  v0h = (v0h + v3h + (l > 0xffffffff ? 1 : 0)) >>> 0;
  v0l = l >>> 0;
  h = ((v3h << 21) | (v3l >>> 11)) >>> 0;
  l = ((v3l << 21) | (v3h >>> 11)) >>> 0;
  v3h = (h ^ v0h) >>> 0;
  v3l = (l ^ v0l) >>> 0;
  // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
  l = v2l + v1l;
  v2h = (v2h + v1h + (l > 0xffffffff ? 1 : 0)) >>> 0;
  v2l = l >>> 0;
  h = ((v1h << 17) | (v1l >>> 15)) >>> 0;
  l = ((v1l << 17) | (v1h >>> 15)) >>> 0;
  v1h = (h ^ v2h) >>> 0;
  v1l = (l ^ v2l) >>> 0;
  h = v2h;
  v2h = v2l;
  v2l = h;
}

function compress(mh: number, ml: number): void {
  v3h = (v3h ^ mh) >>> 0;
  v3l = (v3l ^ ml) >>> 0;
  round();
  round();
  v0h = (v0h ^ mh) >>> 0;
  v0l = (v0l ^ ml) >>> 0;
}

// Words are given as (high, low) halves of little-endian 64-bit words; `byteLength` is 8 or 16.
const words = new Uint32Array(4);

function sipHash(wordCount: number): void {
  // Zero key: the initial state is the constants "somepseudorandomlygeneratedbytes".
  v0h = 0x736f6d65, v0l = 0x70736575;
  v1h = 0x646f7261, v1l = 0x6e646f6d;
  v2h = 0x6c796765, v2l = 0x6e657261;
  v3h = 0x74656462, v3l = 0x79746573;
  for (let i = 0; i < wordCount; i++) compress(words[2 * i], words[2 * i + 1]);
  // The final block holds the message length in its top byte (no bytes are left over from 8 or 16).
  compress(((wordCount * 8) << 24) >>> 0, 0);
  v2l = (v2l ^ 0xff) >>> 0;
  round();
  round();
  round();
  round();
}

const TWO_32 = 2 ** 32;

/** Loads a point id's canonical bytes into `words`; returns the number of 64-bit words (1 or 2). */
function loadId(key: IdKey): number {
  if (isUuidKey(key)) {
    const hex = key.replaceAll("-", "");
    // UUID bytes in order; each 8-byte group is read as a little-endian u64.
    for (let w = 0; w < 2; w++) {
      const at = w * 16;
      words[2 * w] = swap32(parseInt(hex.slice(at + 8, at + 16), 16));
      words[2 * w + 1] = swap32(parseInt(hex.slice(at, at + 8), 16));
    }
    return 2;
  }
  const n = Number(key);
  if (Number.isSafeInteger(n)) {
    words[0] = Math.floor(n / TWO_32) >>> 0;
    words[1] = n >>> 0;
  } else {
    const big = BigInt(key);
    words[0] = Number(big >> 32n) >>> 0;
    words[1] = Number(big & 0xffffffffn) >>> 0;
  }
  return 1;
}

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** Whether the point with id key `key` lies in slice `index` of `total`. */
export function inSlice(key: IdKey, total: number, index: number): boolean {
  sipHash(loadId(key));
  const hi = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  const lo = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  // (hi × 2^32 + lo) mod total, keeping every intermediate below 2^53.
  let r = hi % total;
  r = (r * 65536) % total;
  r = (r * 65536) % total;
  return (r + lo) % total === index;
}

/** The 64-bit slice hash of a point id as a bigint (for tests against published values). */
export function sliceHash(key: IdKey): bigint {
  sipHash(loadId(key));
  const hi = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  const lo = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
