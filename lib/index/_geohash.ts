/**
 * Geohashes exactly as Qdrant's geo index computes them (Qdrant `geo_hash.rs` over the `geohash` crate
 * 0.13.2), because Qdrant's geo `filter` only looks at points inside the geohash tiles it picks, and its
 * choice of tiles has quirks that decide results:
 *
 * - Encoding takes the top 32 mantissa bits of `lat / 180 + 1.5` and `lon / 360 + 1.5`, so latitude 90 and
 *   longitude 180 wrap to the tile of -90 and -180.
 * - A region is covered by the tiles of its bounding box at the finest precision (0 to 12 characters) that
 *   needs at most 12 tiles, walking east from the north-west tile and south row by row.
 * - A circle's bounding box uses an earth radius of 6,371 km; a tile is kept when the haversine distance from
 *   its centre to its south-west corner plus the radius exceeds the distance from its centre to the circle's
 *   centre (which can drop tiles that hold matching points).
 *
 * A full-precision geohash (12 characters, 60 bits) is kept as two 30-bit halves: `a` (characters 1-6) and
 * `b` (characters 7-12), so that (a, b) order is geohash order.
 *
 * @module
 */
import { haversineMeters } from "../payload/geo.ts";

const BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz";
const MAX_LEN = 12;
/** Qdrant's `GEO_QUERY_MAX_REGION`. */
const MAX_REGIONS = 12;
const COORD_EPS = 1e-12;
/** The earth radius of Qdrant's circle bounding box (the haversine tests use 6,371,008.8 m). */
const MBR_EARTH_RADIUS_M = 6371.0 * 1000;
const TO_RADIANS = Math.PI / 180;
const TO_DEGREES = 180 / Math.PI;

const SCRATCH = new DataView(new ArrayBuffer(8));

/** The top 32 mantissa bits of a double in [1, 2] (`(x.to_bits() >> 20) as u32`). */
function mantissa32(x: number): number {
  SCRATCH.setFloat64(0, x);
  const high = SCRATCH.getUint32(0);
  const low = SCRATCH.getUint32(4);
  return (((high & 0xfffff) << 12) | (low >>> 20)) >>> 0;
}

/** Spreads the 15 low bits of `x` to the even bit positions 0, 2, ..., 28. */
function spread15(x: number): number {
  x &= 0x7fff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x;
}

/** Whether (lon, lat) can be encoded (the `geohash` crate refuses coordinates out of range). */
export function encodable(lon: number, lat: number): boolean {
  return lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90;
}

/** The 60-bit geohash of (lon, lat) as [a, b] (coordinates must be encodable). */
export function geohashKey(lon: number, lat: number): [number, number] {
  const lat32 = mantissa32(lat * 0.005555555555555556 + 1.5);
  const lon32 = mantissa32(lon * 0.002777777777777778 + 1.5);
  // Bits alternate lon, lat from the most significant: bit 29 of `a` is the top longitude bit.
  const a = ((spread15(lon32 >>> 17) << 1) | spread15(lat32 >>> 17)) >>> 0;
  const b = ((spread15(lon32 >>> 2) << 1) | spread15(lat32 >>> 2)) >>> 0;
  return [a, b];
}

/** The geohash of (lon, lat) as a string of `length` characters. */
function encode(lon: number, lat: number, length: number): string {
  const [a, b] = geohashKey(lon, lat);
  let out = "";
  for (let i = 0; i < length; i++) {
    const half = i < 6 ? a : b;
    out += BASE32[(half >>> (25 - 5 * (i % 6))) & 31];
  }
  return out;
}

interface Rect {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
}

/** The `geohash` crate's `decode_bbox`. */
function decodeBox(hash: string): Rect {
  let lonInt = 0;
  let latInt = 0;
  let lonBits = 0;
  let latBits = 0;
  for (let i = 0; i < hash.length; i++) {
    const value = BASE32.indexOf(hash[i]);
    for (let bit = 4; bit >= 0; bit--) {
      const b = (value >>> bit) & 1;
      if ((lonBits + latBits) % 2 === 0) {
        lonInt = lonInt * 2 + b;
        lonBits++;
      } else {
        latInt = latInt * 2 + b;
        latBits++;
      }
    }
  }
  const lon = decodeRange(lonInt * 2 ** (32 - lonBits), 180);
  const lat = decodeRange(latInt * 2 ** (32 - latBits), 90);
  return { minLon: lon, minLat: lat, maxLon: lon + 360 * 2 ** -lonBits, maxLat: lat + 180 * 2 ** -latBits };
}

function decodeRange(x: number, r: number): number {
  const p = 1 + x * 2 ** -32;
  return 2.0 * r * (p - 1.0) - r;
}

function sphereLon(lon: number): number {
  let result = lon;
  if (result > 180) result = -180 + result - 180;
  if (result < -180) result = 180 + result + 180;
  return result;
}

function sphereLat(lat: number): number {
  let result = lat;
  if (result > 90) result = 90 - COORD_EPS;
  if (result < -90) result = -90 + COORD_EPS;
  return result;
}

/** Qdrant's `sphere_neighbor` to the east (`dlng = 1`) or the south (`dlat = -1`). */
function neighbor(hash: string, direction: "E" | "S"): string {
  const box = decodeBox(hash);
  const lonErr = (box.maxLon - box.minLon) / 2;
  const latErr = (box.maxLat - box.minLat) / 2;
  const lon = (box.minLon + box.maxLon) / 2;
  const lat = (box.minLat + box.maxLat) / 2;
  const dlng = direction === "E" ? 1 : 0;
  const dlat = direction === "S" ? -1 : 0;
  return encode(
    sphereLon(lon + 2 * Math.abs(lonErr) * dlng),
    sphereLat(lat + 2 * Math.abs(latErr) * dlat),
    hash.length,
  );
}

/** The tiles of a box at `precision`, or undefined when there are more than `MAX_REGIONS`. */
function boxRegions(
  corners: { nw: string; sw: string; ne: string },
  precision: number,
): string[] | undefined {
  const seen: string[] = [];
  let fromRow = corners.nw.slice(0, precision);
  let toRow = corners.ne.slice(0, precision);
  const toColumn = corners.sw.slice(0, precision);
  // Every pass of either loop adds a tile, and more than MAX_REGIONS tiles returns: at most 13 passes.
  for (;;) {
    let current = fromRow;
    for (;;) {
      seen.push(current);
      if (seen.length > MAX_REGIONS) return undefined;
      if (current === toRow) break;
      current = neighbor(current, "E");
    }
    if (fromRow === toColumn) break;
    fromRow = neighbor(fromRow, "S");
    toRow = neighbor(toRow, "S");
  }
  return seen;
}

/** The tiles of the finest precision with at most `MAX_REGIONS` tiles, each kept when `keep` says so. */
function cover(
  topLeftLon: number,
  topLeftLat: number,
  bottomRightLon: number,
  bottomRightLat: number,
  keep: (hash: string) => boolean = () => true,
): string[] {
  const corners = {
    nw: encode(topLeftLon, topLeftLat, MAX_LEN),
    sw: encode(topLeftLon, bottomRightLat, MAX_LEN),
    ne: encode(bottomRightLon, topLeftLat, MAX_LEN),
  };
  let last: string[] = [""];
  for (let precision = 0; precision <= MAX_LEN; precision++) {
    const regions = boxRegions(corners, precision);
    if (regions === undefined) break;
    last = regions.filter(keep);
  }
  return last;
}

/**
 * The geohash tiles Qdrant searches for a bounding box.
 *
 * @example
 * ```ts
 * import { rectangleTiles } from "./_geohash.ts";
 * console.log(rectangleTiles(-180, 90, 180, -90)); // [ "000000000000" ]: Qdrant's whole-world quirk
 * ```
 */
export function rectangleTiles(
  topLeftLon: number,
  topLeftLat: number,
  bottomRightLon: number,
  bottomRightLat: number,
): string[] {
  return cover(topLeftLon, topLeftLat, bottomRightLon, bottomRightLat);
}

/** The geohash tiles Qdrant searches for a circle; undefined when Qdrant rejects the circle. */
export function circleTiles(lon: number, lat: number, radiusM: number): string[] | undefined {
  const angularRadius = radiusM / MBR_EARTH_RADIUS_M;
  const angularLat = lat * TO_RADIANS;
  let minLat = (angularLat - angularRadius) * TO_DEGREES;
  let maxLat = (angularLat + angularRadius) * TO_DEGREES;
  let minLon: number;
  let maxLon: number;
  if (-90 < minLat && maxLat < 90) {
    const angularLon = lon * TO_RADIANS;
    const deltaLon = Math.asin(Math.sin(angularRadius) / Math.cos(angularLat));
    minLon = (angularLon - deltaLon) * TO_DEGREES;
    maxLon = (angularLon + deltaLon) * TO_DEGREES;
  } else {
    if (-90 > minLat) minLat = -90 + COORD_EPS;
    if (maxLat > 90) maxLat = 90 - COORD_EPS;
    minLon = -180 + COORD_EPS;
    maxLon = 180 - COORD_EPS;
  }
  const box = [sphereLon(minLon), maxLat, sphereLon(maxLon), minLat];
  if (box.some(Number.isNaN) || !encodable(box[0], box[1]) || !encodable(box[2], box[3])) return undefined;
  return cover(box[0], box[1], box[2], box[3], (hash) => {
    if (hash.length === 0) return true;
    const tile = decodeBox(hash);
    const centerLon = (tile.minLon + tile.maxLon) / 2;
    const centerLat = (tile.minLat + tile.maxLat) / 2;
    const halfDiagonal = haversineMeters(centerLon, centerLat, tile.minLon, tile.minLat);
    return halfDiagonal + radiusM > haversineMeters(centerLon, centerLat, lon, lat);
  });
}

/**
 * The geohash tiles Qdrant searches for a polygon: the tiles of its exterior's bounding box. (Qdrant also
 * drops tiles that miss the polygon; no point in such a tile passes the polygon test, so it changes nothing.)
 */
export function polygonTiles(exterior: Float64Array): string[] {
  let minLon = Infinity;
  let maxLon = -Infinity;
  let minLat = Infinity;
  let maxLat = -Infinity;
  for (let i = 0; i < exterior.length; i += 2) {
    minLon = Math.min(minLon, exterior[i]);
    maxLon = Math.max(maxLon, exterior[i]);
    minLat = Math.min(minLat, exterior[i + 1]);
    maxLat = Math.max(maxLat, exterior[i + 1]);
  }
  if (!encodable(minLon, maxLat) || !encodable(maxLon, minLat)) return [];
  return cover(minLon, maxLat, maxLon, minLat);
}

/**
 * The keys of the full geohashes under `tile`: `a` in [aLow, aHigh] and `b` in [bLow, bHigh]; `wide` when the
 * tile has at most 6 characters (any `b`).
 */
export function tileRange(
  tile: string,
): { aLow: number; aHigh: number; bLow: number; bHigh: number; wide: boolean } {
  let a = 0;
  let b = 0;
  for (let i = 0; i < tile.length; i++) {
    const value = BASE32.indexOf(tile[i]);
    if (i < 6) a = a * 32 + value;
    else b = b * 32 + value;
  }
  const aFree = 30 - 5 * Math.min(tile.length, 6);
  const bFree = 30 - 5 * Math.max(0, tile.length - 6);
  const aLow = a * 2 ** aFree;
  const bLow = tile.length > 6 ? b * 2 ** bFree : 0;
  const wide = tile.length <= 6;
  return {
    aLow,
    aHigh: aLow + 2 ** aFree - 1,
    bLow,
    bHigh: wide ? 2 ** 30 - 1 : bLow + 2 ** bFree - 1,
    wide,
  };
}
