/**
 * The geo index: per offset its points (lon, lat pairs), and every point's 60-bit geohash, sorted (a stable
 * radix sort) for tile lookups and extended by a scan of the points added since the last sort.
 *
 * Semantics (Qdrant `geo_index/read_ops.rs`, `geo_hash.rs`, `types.rs`, checked against Qdrant Edge 0.9):
 * - Kept: objects with numeric `lon` in [-180, 180] and `lat` in [-90, 90]; everything else is ignored.
 * - Tests: bounding box strictly inside (a box with `top_left.lon > bottom_right.lon` crosses the
 *   antimeridian); radius: haversine distance (earth radius 6,371,008.8 m) strictly below the radius;
 *   polygon: strictly inside the exterior and outside every interior ring.
 * - `filter()` answers as Qdrant's index does: the points whose geohash lies in the tiles Qdrant picks for
 *   the region (see `_geohash.ts`) and that have at least one value passing the test. Qdrant's tile choice
 *   misses points in a few cases (a whole-world box, latitude 90, some circles near a pole or in the south),
 *   and so does `filter()`. `checker()` tests every value without tiles, as Qdrant's condition checker.
 *   With several geo clauses, `filter()` reads the box first, then the radius, then the polygon; `checker()`
 *   the radius, then the box, then the polygon (as Qdrant).
 * - Estimates count the values in the tiles (min 0: the tiles hold candidates, not matches).
 *
 * Serialized sections after the schema: removed bitset (u8), list starts (u32, n + 1, counting
 * coordinates), coordinates (f64, lon then lat per point).
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { boxContains, haversineMeters, polygonContains } from "../payload/geo.ts";
import { clampEstimate, exact, forEachValue, IndexBase, multiValueSelection } from "./_base.ts";
import { check, checkStarts, type IndexReader, IndexWriter, KIND_CODES } from "./_codec.ts";
import { growU32, ListColumn, OffsetCollector, radixOrder } from "./_columns.ts";
import { circleTiles, encodable, geohashKey, polygonTiles, rectangleTiles, tileRange } from "./_geohash.ts";
import { bitsetBytes, OffsetSet } from "./offset_set.ts";
import { type FieldSchema, schemaToJson } from "./schema.ts";
import type { CardinalityEstimation, FieldQuery, GeoLineString, GeoPoint, OffsetChecker } from "./types.ts";

const TAIL_MIN = 4096;

type PointTest = (lon: number, lat: number) => boolean;

/**
 * An index of geo points.
 *
 * @example
 * ```ts
 * import { GeoIndex } from "./geo_index.ts";
 * import { parseFieldSchema } from "./schema.ts";
 * const index = new GeoIndex(parseFieldSchema("geo"));
 * index.add(0, [{ lon: 13.404, lat: 52.52 }]); // Berlin
 * index.add(1, [{ lon: 2.352, lat: 48.857 }]); // Paris
 * const near = index.filter({ geo_radius: { center: { lon: 13.4, lat: 52.5 }, radius: 10_000 } })!;
 * console.log([...near.toArray()]); // [ 0 ]
 * ```
 */
export class GeoIndex extends IndexBase {
  /** Coordinates per offset: lon, lat, lon, lat, ... */
  #forward: ListColumn<Float64Array> = new ListColumn((n) => new Float64Array(n));
  /** Per point (coordinate pair index): geohash halves and owning offset. */
  #keyA: Uint32Array = new Uint32Array(64);
  #keyB: Uint32Array = new Uint32Array(64);
  #owner: Uint32Array = new Uint32Array(64);
  /** Points [0, #builtPoints) sorted by geohash: their halves and owners. */
  #sortedA: Uint32Array = new Uint32Array(0);
  #sortedB: Uint32Array = new Uint32Array(0);
  #sortedOwner: Uint32Array = new Uint32Array(0);
  #builtPoints = 0;
  #points = 0;
  #values = 0;
  #removedValues = 0;
  readonly #scratch: number[] = [];

  /** An empty index for `schema` (a geo schema). */
  constructor(schema: FieldSchema) {
    super(schema);
  }

  /** Indexes the values found at the key for `offset` (not below `offsetCount`). */
  add(offset: number, values: readonly unknown[]): void {
    this.beginAdd(offset);
    const coordinates = this.#scratch;
    coordinates.length = 0;
    forEachValue(values, (value) => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return;
      const { lon, lat } = value as { lon?: unknown; lat?: unknown };
      if (typeof lon !== "number" || typeof lat !== "number" || !encodable(lon, lat)) return;
      coordinates.push(lon, lat);
    });
    this.#appendKeys(offset, coordinates, this.#forward.size / 2);
    this.#forward.append(offset, coordinates);
    const count = coordinates.length / 2;
    if (count > 0) this.#points++;
    this.#values += count;
  }

  /** Records the geohash and owner of each point of `offset`, the first being point `first`. */
  #appendKeys(offset: number, coordinates: ArrayLike<number>, first: number): void {
    const count = coordinates.length / 2;
    this.#keyA = growU32(this.#keyA, first + count);
    this.#keyB = growU32(this.#keyB, first + count);
    this.#owner = growU32(this.#owner, first + count);
    for (let i = 0; i < count; i++) {
      const [a, b] = geohashKey(coordinates[2 * i], coordinates[2 * i + 1]);
      this.#keyA[first + i] = a;
      this.#keyB[first + i] = b;
      this.#owner[first + i] = offset;
    }
  }

  /** Updates the statistics when `offset` is removed (once per offset). */
  protected onRemove(offset: number): void {
    const count = this.#forward.count(offset) / 2;
    if (count > 0) this.#points--;
    this.#values -= count;
    this.#removedValues += count;
  }

  /** Points (not removed) with at least one geo point. */
  indexedPointCount(): number {
    return this.#points;
  }

  /** Geo points of `offset`. */
  valuesCount(offset: number): number {
    return this.isRemoved(offset) ? 0 : this.#forward.count(offset) / 2;
  }

  /** The tiles and the test of the clause `filter()` reads, or null when there is no geo clause. */
  #region(condition: FieldQuery): { tiles: string[]; test: PointTest } | null {
    if (condition.geo_bounding_box !== undefined && condition.geo_bounding_box !== null) {
      const { top_left: tl, bottom_right: br } = condition.geo_bounding_box;
      const test = boxTest(tl, br);
      return { tiles: rectangleTiles(tl.lon, tl.lat, br.lon, br.lat), test };
    }
    if (condition.geo_radius !== undefined && condition.geo_radius !== null) {
      const { center, radius } = condition.geo_radius;
      const test = radiusTest(center, radius);
      const tiles = circleTiles(center.lon, center.lat, radius);
      if (tiles === undefined) {
        throw new InvalidArgumentError(`Invalid geo_radius: the circle has no bounding box`);
      }
      return { tiles, test };
    }
    if (condition.geo_polygon !== undefined && condition.geo_polygon !== null) {
      const [exterior, test] = polygonTest(condition.geo_polygon);
      return { tiles: polygonTiles(exterior), test };
    }
    return null;
  }

  /** Sorts the points added since the last sort in when there are too many of them. */
  #sortedReady(): void {
    const points = this.#forward.size / 2;
    if (points - this.#builtPoints <= Math.max(TAIL_MIN, points >>> 3)) return;
    const order = radixOrder(this.#keyA, this.#keyB, points);
    this.#sortedA = new Uint32Array(points);
    this.#sortedB = new Uint32Array(points);
    this.#sortedOwner = new Uint32Array(points);
    for (let i = 0; i < points; i++) {
      this.#sortedA[i] = this.#keyA[order[i]];
      this.#sortedB[i] = this.#keyB[order[i]];
      this.#sortedOwner[i] = this.#owner[order[i]];
    }
    this.#builtPoints = points;
  }

  /** First sorted position whose key is not below (a, b). */
  #lowerBound(a: number, b: number): number {
    let lo = 0;
    let hi = this.#builtPoints;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ma = this.#sortedA[mid];
      if (ma < a || (ma === a && this.#sortedB[mid] < b)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Calls `visit(owner)` for every point under one of `tiles` (removed offsets included). */
  #forEachInTiles(tiles: readonly string[], visit: (owner: number) => void): void {
    this.#sortedReady();
    const ranges = tiles.map(tileRange);
    for (const range of ranges) {
      const from = this.#lowerBound(range.aLow, range.bLow);
      const to = range.wide
        ? this.#lowerBound(range.aHigh + 1, 0)
        : this.#lowerBound(range.aHigh, range.bHigh + 1);
      for (let i = from; i < to; i++) visit(this.#sortedOwner[i]);
    }
    const points = this.#forward.size / 2;
    for (let p = this.#builtPoints; p < points; p++) {
      const a = this.#keyA[p];
      const b = this.#keyB[p];
      for (const range of ranges) {
        if (a >= range.aLow && a <= range.aHigh && b >= range.bLow && b <= range.bHigh) {
          visit(this.#owner[p]);
          break;
        }
      }
    }
  }

  /** Whether any point of `offset` passes `test`. */
  #anyPasses(offset: number, test: PointTest): boolean {
    const data = this.#forward.data;
    const end = this.#forward.end(offset);
    for (let i = this.#forward.start(offset); i < end; i += 2) if (test(data[i], data[i + 1])) return true;
    return false;
  }

  /** The offsets Qdrant's geo index returns for `condition`, or null when it has no geo clause. */
  filter(condition: FieldQuery): OffsetSet | null {
    const region = this.#region(condition);
    if (region === null) return null;
    const collector = new OffsetCollector(this.offsets);
    this.#forEachInTiles(region.tiles, (owner) => collector.add(owner));
    const candidates = collector.finish(this.removed).toArray();
    const out = new Uint32Array(candidates.length);
    let n = 0;
    for (const offset of candidates) if (this.#anyPasses(offset, region.test)) out[n++] = offset;
    return OffsetSet.fromSorted(out.slice(0, n), this.offsets);
  }

  /** Estimated matches of `condition` from the values in its tiles, or null when it has no geo clause. */
  estimate(condition: FieldQuery): CardinalityEstimation | null {
    const region = this.#region(condition);
    if (region === null) return null;
    if (this.#points === 0) return exact(0);
    let inTiles = 0;
    this.#forEachInTiles(region.tiles, () => inTiles++);
    const total = this.#values + this.#removedValues;
    const live = total === 0 ? 0 : Math.round(inTiles * this.#values / total);
    const max = Math.min(inTiles, this.#points);
    return {
      min: 0,
      exp: clampEstimate(Math.round(multiValueSelection(this.#points, this.#values, live)), 0, max),
      max,
    };
  }

  /** A per-offset test of every value (Qdrant's condition checker), or null when there is no geo clause. */
  checker(condition: FieldQuery): OffsetChecker | null {
    let test: PointTest;
    if (condition.geo_radius !== undefined && condition.geo_radius !== null) {
      test = radiusTest(condition.geo_radius.center, condition.geo_radius.radius);
    } else if (condition.geo_bounding_box !== undefined && condition.geo_bounding_box !== null) {
      test = boxTest(condition.geo_bounding_box.top_left, condition.geo_bounding_box.bottom_right);
    } else if (condition.geo_polygon !== undefined && condition.geo_polygon !== null) {
      test = polygonTest(condition.geo_polygon)[1];
    } else {
      return null;
    }
    return (offset) => offset < this.offsets && !this.isRemoved(offset) && this.#anyPasses(offset, test);
  }

  /** The index's bytes (see `_codec.ts`). */
  serialize(): Uint8Array {
    return new IndexWriter()
      .text(schemaToJson(this.schema))
      .u8(this.removedView())
      .u32(this.#forward.startsView())
      .f64(this.#forward.dataView())
      .finish(KIND_CODES.geo, this.offsets);
  }

  /** Restores a geo index from its sections (the reader is positioned after the schema). */
  static restore(schema: FieldSchema, reader: IndexReader): GeoIndex {
    const index = new GeoIndex(schema);
    const n = reader.offsets;
    const removed = reader.u8("removed");
    check(removed.length === bitsetBytes(n), `removed bitset has ${removed.length} bytes for ${n} offsets`);
    const starts = reader.u32("list starts");
    const data = reader.f64("coordinates");
    checkStarts(starts, n, data.length, "coordinate lists");
    index.restoreRemoved(removed, n);
    for (let o = 0; o < n; o++) {
      const count = starts[o + 1] - starts[o];
      check(count % 2 === 0, `offset ${o} has an odd number of coordinates`);
      for (let i = starts[o]; i < starts[o + 1]; i += 2) {
        check(encodable(data[i], data[i + 1]), `offset ${o} has the point (${data[i]}, ${data[i + 1]})`);
      }
      index.#appendKeys(o, data.subarray(starts[o], starts[o + 1]), starts[o] / 2);
      if (index.isRemoved(o)) {
        index.#removedValues += count / 2;
      } else if (count > 0) {
        index.#points++;
        index.#values += count / 2;
      }
    }
    index.#forward = new ListColumn((size) => new Float64Array(size), starts, data);
    return index;
  }
}

function geoPoint(point: GeoPoint, where: string): GeoPoint {
  if (
    typeof point !== "object" || point === null || typeof point.lon !== "number" ||
    typeof point.lat !== "number"
  ) {
    throw new InvalidArgumentError(
      `Invalid ${where}: expected { lon, lat } numbers, received ${JSON.stringify(point)}`,
    );
  }
  if (!encodable(point.lon, point.lat)) {
    throw new InvalidArgumentError(
      `Invalid ${where}: expected lat within [-90;90] and lon within [-180;180], received lat ${point.lat}, lon ${point.lon}`,
    );
  }
  return point;
}

function boxTest(topLeft: GeoPoint, bottomRight: GeoPoint): PointTest {
  const tl = geoPoint(topLeft, "geo_bounding_box.top_left");
  const br = geoPoint(bottomRight, "geo_bounding_box.bottom_right");
  return (lon, lat) => boxContains(tl.lon, tl.lat, br.lon, br.lat, lon, lat);
}

function radiusTest(center: GeoPoint, radius: number): PointTest {
  const c = geoPoint(center, "geo_radius.center");
  if (typeof radius !== "number" || Number.isNaN(radius)) {
    throw new InvalidArgumentError(
      `Invalid geo_radius: "radius" must be a number of metres, received ${radius}`,
    );
  }
  return (lon, lat) => haversineMeters(c.lon, c.lat, lon, lat) < radius;
}

function ring(line: GeoLineString, where: string): Float64Array {
  if (typeof line !== "object" || line === null || !Array.isArray(line.points)) {
    throw new InvalidArgumentError(`Invalid ${where}: expected { points: [...] }`);
  }
  const out = new Float64Array(line.points.length * 2);
  line.points.forEach((point, i) => {
    const p = geoPoint(point, where);
    out[2 * i] = p.lon;
    out[2 * i + 1] = p.lat;
  });
  return out;
}

function polygonTest(polygon: NonNullable<FieldQuery["geo_polygon"]>): [Float64Array, PointTest] {
  const exterior = ring(polygon.exterior, "geo_polygon.exterior");
  const interiors = (polygon.interiors ?? []).map((line, i) => ring(line, `geo_polygon.interiors[${i}]`));
  return [exterior, (lon, lat) => polygonContains(exterior, interiors, lon, lat)];
}
