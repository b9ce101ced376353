/**
 * Geo tests as Qdrant runs them on payload values (`CheckGeoPoint` in Qdrant's `types.rs`, over the `geo` crate),
 * shared by filter evaluation and the geo payload index so that the two cannot disagree.
 *
 * - Radius: haversine distance on a sphere of radius 6,371,008.8 m (the IUGG mean earth radius the `geo` crate
 *   uses), strictly less than the radius.
 * - Bounding box: strictly inside on both axes (a point on an edge is outside); when `top_left.lon` is greater
 *   than `bottom_right.lon` the box crosses the antimeridian.
 * - Polygon: `geo`'s `Polygon::contains`: strictly inside the exterior ring and not inside or on any interior
 *   ring. A point on any ring is outside. Rings are judged by winding number with exact orientation tests, so a
 *   self-intersecting ring counts a region covered twice as inside.
 *
 * @module
 */

/** Mean earth radius in meters, as the `geo` crate's haversine uses it. */
export const EARTH_RADIUS_M = 6371008.8;

const DEG_TO_RAD = Math.PI / 180;

/** Haversine distance in meters between two lon/lat points given in degrees (the `geo` crate's formula). */
export function haversineMeters(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const theta1 = lat1 * DEG_TO_RAD;
  const theta2 = lat2 * DEG_TO_RAD;
  const deltaTheta = (lat2 - lat1) * DEG_TO_RAD;
  const deltaLambda = (lon2 - lon1) * DEG_TO_RAD;
  const sinTheta = Math.sin(deltaTheta / 2);
  const sinLambda = Math.sin(deltaLambda / 2);
  // Same operation order as the geo crate, so that results agree to the last bit wherever the libm calls do.
  const a = sinTheta * sinTheta + Math.cos(theta1) * Math.cos(theta2) * (sinLambda * sinLambda);
  return EARTH_RADIUS_M * (2 * Math.asin(Math.sqrt(a)));
}

/** A closed ring as flat coordinates: lon0, lat0, lon1, lat1, … (first point repeated last). */
export type Ring = Float64Array;

/** Where a point lies relative to a ring. */
export const OUTSIDE = 0;
/** The point lies on the ring. */
export const ON_BOUNDARY = 1;
/** The point lies inside the ring. */
export const INSIDE = 2;

/** Position of (x, y) relative to a closed ring: winding number with an on-boundary short cut (`geo` crate). */
export function ringPosition(ring: Ring, x: number, y: number): 0 | 1 | 2 {
  const n = ring.length / 2;
  if (n === 0) return OUTSIDE;
  if (n === 1) return ring[0] === x && ring[1] === y ? ON_BOUNDARY : OUTSIDE;
  let winding = 0;
  // Edge rules: an upward edge includes its start and excludes its end, a downward edge the reverse, horizontal
  // edges are skipped, and a crossing must lie strictly to the right of the point.
  for (let i = 0; i + 1 < n; i++) {
    const sx = ring[2 * i], sy = ring[2 * i + 1], ex = ring[2 * i + 2], ey = ring[2 * i + 3];
    if (sy <= y) {
      if (ey >= y) {
        const o = orient2d(sx, sy, ex, ey, x, y);
        if (o > 0 && ey !== y) winding++;
        else if (o === 0 && between(x, sx, ex)) return ON_BOUNDARY;
      }
    } else if (ey <= y) {
      const o = orient2d(sx, sy, ex, ey, x, y);
      if (o < 0) winding--;
      else if (o === 0 && between(x, sx, ex)) return ON_BOUNDARY;
    }
  }
  return winding === 0 ? OUTSIDE : INSIDE;
}

function between(x: number, a: number, b: number): boolean {
  return a <= b ? a <= x && x <= b : b <= x && x <= a;
}

/** Whether (x, y) is strictly inside the polygon made of `exterior` and the holes `interiors`. */
export function polygonContains(exterior: Ring, interiors: readonly Ring[], x: number, y: number): boolean {
  if (exterior.length === 0) return false;
  if (ringPosition(exterior, x, y) !== INSIDE) return false;
  for (const hole of interiors) {
    if (ringPosition(hole, x, y) !== OUTSIDE) return false;
  }
  return true;
}

// Shewchuk's error bound for the first, floating-point stage of orient2d.
const CCW_ERROR_BOUND = (3 + 16 * Number.EPSILON / 2) * (Number.EPSILON / 2);

/**
 * Sign of the orientation of (a, b, c): positive when counter-clockwise, negative when clockwise, zero when
 * collinear. Exact: the floating-point determinant is used when its error bound proves the sign, and otherwise
 * the determinant is recomputed exactly in rational arithmetic (every double is a dyadic rational).
 */
export function orient2d(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const dax = ax - cx, dby = by - cy, day = ay - cy, dbx = bx - cx;
  const left = dax * dby;
  const right = day * dbx;
  const det = left - right;
  const bound = CCW_ERROR_BOUND * (Math.abs(left) + Math.abs(right));
  if (det > bound || -det > bound) return det > 0 ? 1 : -1;
  // A difference of doubles is zero only when they are equal, and otherwise has the exact difference's sign, so a
  // zero factor settles the sign without exact arithmetic (the common case of axis-aligned edges).
  const leftZero = dax === 0 || dby === 0;
  const rightZero = day === 0 || dbx === 0;
  if (leftZero) return rightZero ? 0 : -Math.sign(day) * Math.sign(dbx);
  if (rightZero) return Math.sign(dax) * Math.sign(dby);
  return exactOrient(ax, ay, bx, by, cx, cy);
}

function exactOrient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const [nax, nay, nbx, nby, ncx, ncy] = [ax, ay, bx, by, cx, cy].map(toScaled);
  const det = (nax - ncx) * (nby - ncy) - (nay - ncy) * (nbx - ncx);
  return det > 0n ? 1 : det < 0n ? -1 : 0;
}

// Scales a finite double to an integer by 2^1074, the smallest subnormal step, so that sums and products of
// scaled values are exact bigints.
function toScaled(value: number): bigint {
  if (value === 0) return 0n;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const exponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  if (exponent !== 0) mantissa |= 1n << 52n;
  // value = mantissa × 2^(max(exponent, 1) − 1075); scaled by 2^1074.
  const shift = BigInt(Math.max(exponent, 1) - 1);
  const scaled = mantissa << shift;
  return negative ? -scaled : scaled;
}

/** Whether (lon, lat) is strictly inside the box; a box with `topLeftLon > bottomRightLon` wraps the antimeridian. */
export function boxContains(
  topLeftLon: number,
  topLeftLat: number,
  bottomRightLon: number,
  bottomRightLat: number,
  lon: number,
  lat: number,
): boolean {
  const lonInside = topLeftLon > bottomRightLon
    ? lon > topLeftLon || lon < bottomRightLon
    : topLeftLon < lon && lon < bottomRightLon;
  return lonInside && bottomRightLat < lat && lat < topLeftLat;
}
