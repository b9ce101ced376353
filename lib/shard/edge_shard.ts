/**
 * `EdgeShard`: one directory holding points (id, named vectors, JSON payload), queried by vector
 * similarity. The API follows Qdrant Edge's `EdgeShard` (names, defaults, JSON shapes).
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { InvalidArgumentError, OperationError, ShardClosedError } from "../errors.ts";
import { loadedNativeLibrary, type NativeLibrary, nativeLibrary } from "../ffi/loader.ts";
import { elementBytes } from "../kernel/vector_storage.ts";
import type { Payload } from "../segment/payload_storage.ts";
import { type PreparedPoint, Segment } from "../segment/segment.ts";
import { readJson, syncDirectory, writeJsonAtomic } from "../storage/atomic_file.ts";
import {
  describe,
  type EdgeConfig,
  hnswOf,
  isObject,
  mergeTunables,
  resolveConfig,
  type ResolvedConfig,
  sameVectors,
} from "./config.ts";
import { buildSegment, type OptimizeOptions, planOptimization, snapshotSegment } from "./optimize.ts";
import { compareKeys, describeKey, type IdKey, idKey, keyToId } from "./point_id.ts";
import { parseFilter } from "../filter/parse.ts";
import type { Filter } from "../filter/types.ts";
import { exactCandidates, type FilterPlan, forEachMatch, offsetTest, planFilter } from "./select.ts";
import { facetIndexOf, orderedIndexOf, parseFieldSchema, topFacetHits } from "../index/mod.ts";
import { encodePayload, prepareIds, prepareVector, unknownVector } from "./prepare.ts";
import {
  detached,
  type Operation,
  parseOperation,
  type PointSelector,
  type PreparedVectors,
  Staging,
} from "./operations.ts";
import { Wal } from "./wal.ts";
import { DirectoryLock } from "./lock.ts";
import { deleteAtPath, mergeAtPath, parsePath } from "../payload/json_path.ts";
import type {
  CountRequest,
  FacetRequest,
  FacetResponse,
  FilterInput,
  PointRecord,
  QueryPlan,
  QueryRequest,
  RetrieveOptions,
  ScoredPoint,
  ScrollRequest,
  ScrollResult,
  SearchParams,
  ShardInfo,
  UpdateOperation,
  VectorOutput,
  WithPayload,
  WithVector,
} from "./types.ts";

const CONFIG_FILE = "edge_config.json";
/** Indexed payload fields and their schemas (as `create_field_index` took them). */
const PAYLOAD_INDEX_FILE = "payload_index.json";
const SEGMENTS_DIR = "segments";
const WAL_DIR = "wal";
const DEFAULT_LIMIT = 10;

/**
 * An Edge Shard: create it once with {@linkcode EdgeShard.create}, open it again with
 * {@linkcode EdgeShard.load}, write with {@linkcode EdgeShard.update}, search with
 * {@linkcode EdgeShard.query}, and {@linkcode EdgeShard.close} it (or let `using` do so).
 *
 * @example
 * ```ts
 * import { EdgeShard } from "@x/edge";
 *
 * const path = await Deno.makeTempDir();
 * using shard = await EdgeShard.create(path, { vectors: { size: 4, distance: "Cosine" } });
 * shard.update({
 *   upsert_points: [
 *     { id: 1, vector: [0.05, 0.61, 0.76, 0.74], payload: { city: "Berlin" } },
 *     { id: 2, vector: [0.19, 0.81, 0.75, 0.11], payload: { city: "London" } },
 *   ],
 * });
 * const hits = shard.query({ query: [0.2, 0.1, 0.9, 0.7], limit: 1, with_payload: true });
 * console.log(hits[0].id, hits[0].payload); // 1 { city: "Berlin" }
 * ```
 */
export class EdgeShard {
  /** The shard's directory. */
  readonly path: string;
  #config: ResolvedConfig;
  #segment: Segment | undefined;
  /** Absent when the shard was loaded read-only. */
  readonly #wal: Wal | undefined;
  readonly #lock: DirectoryLock;
  /** The op number the next update gets; op numbers start at 0, as Qdrant's WAL indexes do. */
  #nextOp: number;
  /** Set when a write failed after its WAL record was written: the state on disk is then uncertain. */
  #poisoned: Error | undefined;
  /** While an optimize runs: the updates applied since it took its snapshot, to apply to its result. */
  #optimizing: [number, Operation][] | undefined;
  /** Reused buffers for the vectors of each update (see `Staging`). */
  readonly #staging = new Staging();

  private constructor(
    path: string,
    config: ResolvedConfig,
    segment: Segment,
    wal: Wal | undefined,
    lock: DirectoryLock,
  ) {
    this.path = path;
    this.#lock = lock;
    this.#config = config;
    this.#segment = segment;
    this.#wal = wal;
    this.#nextOp = Math.max(segment.version, wal?.lastOp ?? -1) + 1;
  }

  /**
   * Creates a new shard in `path` (created if missing). Fails with an {@linkcode OperationError}
   * (status `EXISTS`) if `path` already holds a shard, and with an {@linkcode InvalidArgumentError} if the
   * configuration is wrong.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * const shard = await EdgeShard.create(await Deno.makeTempDir(), {
   *   vectors: { image: { size: 512, distance: "Cosine" }, text: { size: 384, distance: "Dot" } },
   * });
   * shard.close();
   * ```
   */
  static async create(path: string, config: EdgeConfig): Promise<EdgeShard> {
    const resolved = resolveConfig(config);
    const native = await nativeLibrary();
    mkdirSync(path, { recursive: true });
    // Lock first, so that two processes creating the same shard cannot both pass the check below.
    const lock = DirectoryLock.acquire(native, path, "write");
    const segmentDir = join(path, SEGMENTS_DIR, crypto.randomUUID());
    try {
      if (holdsShard(path)) {
        throw new OperationError(
          `Cannot create a shard in ${path}: it already holds a shard; use EdgeShard.load()`,
          {
            status: "EXISTS",
          },
        );
      }
      mkdirSync(join(path, SEGMENTS_DIR), { recursive: true });
      try {
        const segment = Segment.create(native, segmentDir, resolved.vectors);
        const wal = Wal.open(join(path, WAL_DIR), 0, () => {});
        writeJsonAtomic(join(path, CONFIG_FILE), resolved);
        syncDirectory(join(path, SEGMENTS_DIR));
        return new EdgeShard(path, resolved, segment, wal, lock);
      } catch (error) {
        rmSync(segmentDir, { recursive: true, force: true });
        rmSync(join(path, WAL_DIR), { recursive: true, force: true });
        throw error;
      }
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /**
   * Opens the shard in `path`. Without `config`, the persisted `edge_config.json` is used; with it, the
   * vectors must match the persisted ones, else an {@linkcode InvalidArgumentError} says how they differ.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * const path = await Deno.makeTempDir();
   * (await EdgeShard.create(path, { vectors: { size: 2, distance: "Dot" } })).close();
   * using shard = await EdgeShard.load(path);
   * console.log(shard.count()); // 0
   * ```
   */
  static async load(path: string, configOrOptions?: EdgeConfig | LoadOptions): Promise<EdgeShard> {
    const options: LoadOptions = configOrOptions === undefined
      ? {}
      : "vectors" in configOrOptions
      ? { config: configOrOptions }
      : configOrOptions;
    const requested = options.config === undefined ? undefined : resolveConfig(options.config);
    const given = options.config as Record<string, unknown> | undefined;
    const native = await nativeLibrary();
    if (!existsSync(path)) {
      throw new OperationError(
        `Cannot load a shard from ${path}: the directory does not exist; use EdgeShard.create()`,
        {
          status: "NOT_FOUND",
        },
      );
    }
    const lock = DirectoryLock.acquire(native, path, options.readOnly ? "read" : "write");
    try {
      const shard = EdgeShard.#openLocked(native, path, requested, options.readOnly ?? false, lock);
      if (requested !== undefined && !options.readOnly) shard.#adoptTunables(requested, given!);
      return shard;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  static #openLocked(
    native: NativeLibrary,
    path: string,
    requested: ResolvedConfig | undefined,
    readOnly: boolean,
    lock: DirectoryLock,
  ): EdgeShard {
    const persisted = readPersistedConfig(path);
    if (persisted === undefined) {
      throw new OperationError(
        `Cannot load a shard from ${path}: there is no ${CONFIG_FILE}; use EdgeShard.create()`,
        {
          status: "NOT_FOUND",
        },
      );
    }
    if (requested !== undefined && !sameVectors(requested, persisted)) {
      throw new InvalidArgumentError(
        `Cannot load ${path}: the given vectors ${
          JSON.stringify(requested.vectors)
        } differ from the shard's ` +
          `${JSON.stringify(persisted.vectors)}`,
      );
    }
    const segmentDir = currentSegment(path, !readOnly);
    if (readOnly) {
      return new EdgeShard(
        path,
        persisted,
        Segment.open(native, segmentDir, { readOnly: true, payloadSchema: readPayloadSchema(path) }),
        undefined,
        lock,
      );
    }
    const segment = Segment.open(native, segmentDir, { payloadSchema: readPayloadSchema(path) });
    const pending: [number, Operation, string][] = [];
    let wal: Wal;
    try {
      wal = Wal.open(join(path, WAL_DIR), segment.version + 1, (op, operation, file) => {
        if (op > segment.version) pending.push([op, operation, file]);
      });
    } catch (error) {
      segment.close();
      throw error;
    }
    const shard = new EdgeShard(path, persisted, segment, wal, lock);
    try {
      // Replay what the segments had not persisted, in order; each op is applied as it was the first time.
      for (const [op, operation, file] of pending) {
        checkReplayable(segment, operation, op, file);
        shard.#apply(segment, operation, op);
      }
      checkSameVectors(path, persisted, segment);
    } catch (error) {
      segment.close();
      wal.close();
      throw error;
    }
    return shard;
  }

  /**
   * Applies one update operation. It is validated whole before anything is written: on an
   * {@linkcode InvalidArgumentError} the shard is unchanged. Later points win over earlier ones with the
   * same id.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 2, distance: "Euclid" } });
   * shard.update({ upsert_points: [{ id: "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", vector: [1, 2] }] });
   * console.log(shard.count()); // 1
   * ```
   */
  update(operation: UpdateOperation): void {
    const { segment, wal } = this.#writable();
    const op = parseOperation(operation, segment.vectors, this.#selector(segment), this.#staging);
    checkTargets(segment, op);
    const version = this.#nextOp;
    wal.append(version, op);
    this.#nextOp += 1;
    try {
      this.#apply(segment, op, version);
      this.#optimizing?.push([version, detached(op)]);
      if (this.#config.fsync_on_update) wal.sync();
    } catch (error) {
      this.#poisoned = error as Error;
      throw new OperationError(
        `Cannot apply update ${version} to ${this.path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Exact nearest-neighbour search. Scores are similarities for Cosine and Dot (higher is better) and
   * distances for Euclid and Manhattan (lower is better); `score_threshold` keeps only strictly better
   * scores; `offset` skips the best results after the threshold.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 2, distance: "Euclid" } });
   * shard.update({ upsert_points: [{ id: 1, vector: [0, 0] }, { id: 2, vector: [3, 4] }] });
   * console.log(shard.query({ query: [0, 0], limit: 2 }).map((p) => p.score)); // [0, 5]
   * ```
   */
  query(request: QueryRequest): ScoredPoint[] {
    const segment = this.#live();
    if (!isObject(request)) {
      throw new InvalidArgumentError(`query: expected a request object, got ${describe(request)}`);
    }
    const using = request.using ?? "";
    const target = segment.vectors[using];
    if (target === undefined) throw unknownVector("Cannot query", using, segment.vectors);
    const input = isObject(request.query) && "nearest" in request.query
      ? request.query.nearest
      : request.query;
    const vector = prepareVector(input, target, `Cannot query: query vector ${JSON.stringify(using)}`);
    const limit = nonNegativeInteger(request.limit ?? DEFAULT_LIMIT, "query.limit");
    const offset = nonNegativeInteger(request.offset ?? 0, "query.offset");
    const given = request.score_threshold ?? undefined;
    if (given !== undefined && (typeof given !== "number" || !Number.isFinite(given))) {
      throw new InvalidArgumentError(
        `query.score_threshold: expected a finite number, got ${describe(given)}`,
      );
    }
    // Scores are 32-bit floats, and Qdrant compares the threshold as one too.
    const threshold = given === undefined ? undefined : Math.fround(given);
    const selection = this.#selection(request.with_payload ?? false, request.with_vector ?? false);
    const filter = optionalFilter(request.filter, "query.filter");
    const params = parseSearchParams(request.params);
    const k = limit + offset;
    if (k === 0) return [];
    const matched = filter && this.#matches(segment, filter);
    const allow = matched?.bits;
    const plan = this.#planSearch(segment, using, params, matched?.count);
    const found = plan.search === "exact"
      ? segment.searchExact(using, vector, k, allow)
      : segment.search(using, vector, k, allow, {
        ef: params.hnsw_ef ?? segment.vectorIndex(using)!.hnsw!.ef_construct,
        exact: false,
        ignoreQuantization: params.quantization?.ignore ?? false,
        rescore: params.quantization?.rescore ?? true,
        oversampling: params.quantization?.oversampling ?? 1,
      });
    const isDistance = target.distance === "Euclid" || target.distance === "Manhattan";
    const hits: ScoredPoint[] = [];
    for (let i = 0; i < found.counts[0]; i++) {
      const raw = found.scores[i];
      const score = target.distance === "Euclid" ? Math.fround(Math.sqrt(Math.max(raw, 0))) : raw;
      if (threshold !== undefined && (isDistance ? !(score < threshold) : !(score > threshold))) break;
      if (i < offset) continue;
      const at = Number(found.offsets[i]);
      const hit: ScoredPoint = { id: keyToId(segment.keyAt(at)!), version: segment.versionAt(at), score };
      this.#attach(hit, at, selection);
      hits.push(hit);
    }
    return hits;
  }

  /**
   * How {@linkcode EdgeShard.query} would search for `request`: walking the HNSW graph (`"hnsw"`) or
   * scanning every candidate (`"exact"`), and why. Qdrant's rule: a filtered search scans its matching
   * points when their vectors take fewer KB than `hnsw_config.full_scan_threshold`, and walks the graph
   * otherwise; a vector without a graph (no `optimize()` yet, or too small to index) is always scanned.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 2, distance: "Dot" } });
   * console.log(shard.explainQuery({ query: [1, 0] }).search); // "exact"
   * ```
   */
  explainQuery(request: QueryRequest): QueryPlan {
    const segment = this.#live();
    if (!isObject(request)) {
      throw new InvalidArgumentError(`explainQuery: expected a request object, got ${describe(request)}`);
    }
    const using = request.using ?? "";
    if (segment.vectors[using] === undefined) throw unknownVector("Cannot query", using, segment.vectors);
    const filter = optionalFilter(request.filter, "query.filter");
    const params = parseSearchParams(request.params);
    return this.#planSearch(segment, using, params, filter && this.#matches(segment, filter).count);
  }

  /** `matched`: how many live points the filter matches, when there is a filter. */
  #planSearch(
    segment: Segment,
    using: string,
    params: SearchParams,
    matched: number | undefined,
  ): QueryPlan {
    const index = segment.vectorIndex(using);
    const v = segment.vectors[using];
    const live = segment.liveVectorCount(using);
    const candidates = matched === undefined ? live : Math.min(matched, live);
    if (params.exact === true) return { search: "exact", reason: "params.exact", candidates };
    if (index?.hnsw === undefined) return { search: "exact", reason: "no_graph", candidates };
    const kb = (candidates * v.size * elementBytes(v.datatype)) / 1024;
    const threshold = hnswOf(this.#config, using).full_scan_threshold;
    if (kb < threshold) return { search: "exact", reason: "below_full_scan_threshold", candidates };
    return { search: "hnsw", reason: "above_full_scan_threshold", candidates };
  }

  /**
   * Returns the points with the given ids, in the order asked; ids that do not exist are skipped. Payloads
   * are included and vectors left out unless the options say otherwise.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 2, distance: "Dot" } });
   * shard.update({ upsert_points: [{ id: 7, vector: [1, 0], payload: { tag: "a" } }] });
   * console.log(shard.retrieve([8, 7], { with_vector: true })); // [{ id: 7, payload: { tag: "a" }, vector: [1, 0] }]
   * ```
   */
  retrieve(ids: readonly (number | bigint | string)[], options: RetrieveOptions = {}): PointRecord[] {
    const segment = this.#live();
    const keys = prepareIds(ids, "retrieve");
    const selection = this.#selection(options.with_payload ?? true, options.with_vector ?? false);
    const records: PointRecord[] = [];
    for (const key of keys) {
      const offset = segment.offsetOf(key);
      if (offset === undefined) continue;
      const record: PointRecord = { id: keyToId(key) };
      this.#attach(record, offset, selection);
      records.push(record);
    }
    return records;
  }

  /**
   * Number of points in the shard (always exact).
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 1, distance: "Dot" } });
   * console.log(shard.count()); // 0
   * ```
   */
  count(request: CountRequest = {}): number {
    const segment = this.#live();
    if (!isObject(request)) {
      throw new InvalidArgumentError(`count: expected a request object, got ${describe(request)}`);
    }
    const filter = optionalFilter(request.filter, "count.filter");
    if (filter === undefined) return segment.pointCount;
    const planned = planFilter(segment, filter);
    const exact = exactCandidates(segment, filter, planned);
    if (exact !== undefined) return exact.size;
    let n = 0;
    forEachMatch(segment, filter, () => n++, planned);
    return n;
  }

  /**
   * Counts the values of a payload field over the points (that match `filter`), most frequent first, as
   * Qdrant's facet. The field needs a keyword, integer, uuid or bool payload index.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 1, distance: "Dot" } });
   * shard.update({ create_field_index: { field_name: "color", field_schema: "keyword" } });
   * shard.update({ upsert_points: ["red", "red", "blue"].map((color, id) => ({ id, vector: [1], payload: { color } })) });
   * console.log(shard.facet({ key: "color" }).hits); // [{ value: "red", count: 2 }, { value: "blue", count: 1 }]
   * ```
   */
  facet(request: FacetRequest): FacetResponse {
    const segment = this.#live();
    if (!isObject(request) || typeof request.key !== "string") {
      throw new InvalidArgumentError(
        `facet: expected a request { key, limit?, filter? }, got ${describe(request)}`,
      );
    }
    const limit = nonNegativeInteger(request.limit ?? DEFAULT_LIMIT, "facet.limit");
    const filter = optionalFilter(request.filter, "facet.filter");
    const index = segment.payloadIndex(request.key);
    const values = index && facetIndexOf(index);
    if (values === undefined) {
      throw new OperationError(
        `No appropriate index for faceting: \`${request.key}\`. Please create one to facet on this field. ` +
          "Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Match conditions",
        { status: "INVALID_ARGUMENT" },
      );
    }
    const points = filter === undefined ? undefined : this.#matchBits(segment, filter);
    return { hits: topFacetHits(values.facet(points), limit) };
  }

  /**
   * How a filter's points are found: through the payload index of one of its `must` conditions, or by
   * checking every point (what `count`, `scroll`, `query` and the by-filter operations do with it).
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 1, distance: "Dot" } });
   * const filter = { must: [{ key: "city", match: { value: "Paris" } }] };
   * console.log(shard.explainFilter(filter).path); // "full_scan"
   * shard.update({ create_field_index: { field_name: "city", field_schema: "keyword" } });
   * console.log(shard.explainFilter(filter).path); // "payload_index"
   * ```
   */
  explainFilter(filter: FilterInput): FilterPlan {
    const segment = this.#live();
    return planFilter(segment, parseFilter(filter, "filter")).plan;
  }

  /**
   * Pages through the points in id order (integers, then UUIDs), `limit` (10) at a time: pass a page's
   * `next_page_offset` as the next request's `offset`. Payloads are included unless `with_payload` is
   * false.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 1, distance: "Dot" } });
   * shard.update({ upsert_points: [1, 2, 3].map((id) => ({ id, vector: [id], payload: { odd: id % 2 === 1 } })) });
   * const page = shard.scroll({ limit: 1, filter: { must: [{ key: "odd", match: { value: true } }] } });
   * console.log(page.points.map((p) => p.id), page.next_page_offset); // [1] 3
   * ```
   */
  scroll(request: ScrollRequest = {}): ScrollResult {
    const segment = this.#live();
    if (!isObject(request)) {
      throw new InvalidArgumentError(`scroll: expected a request object, got ${describe(request)}`);
    }
    const limit = nonNegativeInteger(request.limit ?? DEFAULT_LIMIT, "scroll.limit");
    const filter = optionalFilter(request.filter, "scroll.filter");
    const selection = this.#selection(
      (request as ScrollRequest).with_payload ?? true,
      (request as ScrollRequest).with_vector ?? false,
    );
    if (request.order_by !== undefined && request.order_by !== null) {
      return this.#scrollOrdered(segment, request as ScrollRequest, limit, filter, selection);
    }
    const order = segment.idOrder();
    let at = 0;
    if (request.offset !== undefined && request.offset !== null) {
      const start = idKey(request.offset, "scroll.offset");
      // The first position whose id is not below the offset (the offset is inclusive).
      let high = order.length;
      while (at < high) {
        const middle = (at + high) >>> 1;
        if (compareKeys(segment.keyAt(order[middle])!, start) < 0) at = middle + 1;
        else high = middle;
      }
    }
    // With an index to find the matches, mark them all first; else test the points as the page needs them.
    const planned = filter === undefined ? undefined : planFilter(segment, filter);
    const bits = planned?.condition !== undefined ? this.#matchBits(segment, filter!, planned) : undefined;
    const test = bits !== undefined
      ? (offset: number) => (bits[offset >> 3] & (1 << (offset & 7))) !== 0
      : filter === undefined
      ? undefined
      : offsetTest(segment, filter);
    const points: PointRecord[] = [];
    // One point beyond the page, as Qdrant fetches it: its id is the next page's offset.
    for (; at < order.length && points.length <= limit; at++) {
      const offset = order[at];
      if (test !== undefined && !test(offset)) continue;
      const record: PointRecord = { id: keyToId(segment.keyAt(offset)!) };
      if (points.length < limit) this.#attach(record, offset, selection);
      points.push(record);
    }
    const next = points.length > limit ? points.pop()!.id : null;
    return { points, next_page_offset: next };
  }

  /**
   * Summary of the shard, as Qdrant Edge's `ShardInfo`.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 1, distance: "Dot" } });
   * console.log(shard.info().points_count); // 0
   * ```
   */
  info(): ShardInfo {
    const segment = this.#live();
    return {
      segments_count: 1,
      points_count: segment.pointCount,
      indexed_vectors_count: Object.keys(segment.vectors).reduce(
        (sum, name) => sum + segment.indexedVectorCount(name),
        0,
      ),
      payload_schema: Object.fromEntries(
        segment.indexedFields.map((field) => [field, segment.payloadIndex(field)!.schemaInfo()]),
      ),
      disk_size_bytes: directorySizeBytes(this.path),
    };
  }

  /**
   * The shard's configuration, as persisted in `edge_config.json`.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 3, distance: "Dot" } });
   * console.log(shard.config().vectors[""].size); // 3
   * ```
   */
  config(): ResolvedConfig {
    this.#live();
    return structuredClone(this.#config);
  }

  /**
   * Makes every acknowledged update survive power loss (fsync of every file and directory). Updates
   * already survive a crash of the process without it.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 1, distance: "Dot" } });
   * shard.update({ upsert_points: [{ id: 1, vector: [1] }] });
   * shard.flush();
   * ```
   */
  flush(): void {
    if (this.#wal === undefined) return void this.#live();
    const { segment, wal } = this.#writable();
    try {
      segment.flush(this.#nextOp - 1);
      syncDirectory(segment.dir);
      // Every record is now held durably by the segments.
      wal.truncate(this.#nextOp);
    } catch (error) {
      // After a failed fsync the kernel may have dropped the dirty pages: nothing written since the last
      // good flush can be trusted to reach the disk, so refuse further writes (as PostgreSQL does).
      this.#poisoned = error as Error;
      throw new OperationError(`Cannot flush ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Rewrites the shard's segment when Qdrant's optimizers would: vacuums dead points (deleted or
   * overwritten) past `optimizers.deleted_threshold`, and builds an HNSW graph (and quantized vectors, when
   * configured) for each vector whose unindexed points take at least `optimizers.indexing_threshold` KB or
   * whose index no longer matches `hnsw_config` / `quantization_config`. The new segment is written beside
   * the old one and published with an atomic rename; the write-ahead log is truncated only after. Resolves
   * to whether anything changed.
   *
   * The work runs in bounded steps between which the event loop turns, so queries and updates keep
   * working (updates made meanwhile are carried over). `onProgress` reports each step; aborting `signal`
   * cancels the optimize, leaving the shard as it was.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * using shard = await EdgeShard.create(await Deno.makeTempDir(), {
   *   vectors: { size: 2, distance: "Cosine" },
   *   optimizers: { indexing_threshold: 1 },
   * });
   * shard.update({ upsert_points: Array.from({ length: 1000 }, (_, i) => ({ id: i, vector: [1, i] })) });
   * console.log(await shard.optimize()); // true
   * console.log(shard.info().indexed_vectors_count); // 1000
   * ```
   */
  async optimize(options: OptimizeOptions = {}): Promise<boolean> {
    const { segment } = this.#writable();
    if (this.#optimizing !== undefined) {
      throw new OperationError(`Cannot optimize ${this.path}: an optimize is already running`);
    }
    options.signal?.throwIfAborted();
    const plan = planOptimization(segment, this.#config);
    if (plan === undefined) return false;
    const log: [number, Operation][] = [];
    this.#optimizing = log;
    const dir = join(this.path, SEGMENTS_DIR, `.optimizing-${crypto.randomUUID()}`);
    try {
      const built = await buildSegment(segment, snapshotSegment(segment), dir, {
        native: loadedNativeLibrary(),
        config: this.#config,
        payloadSchema: readPayloadSchema(this.path),
        checkpoint: () => {
          if (this.#writable().segment !== segment) {
            throw new OperationError(`Cannot optimize ${this.path}: its segment was replaced meanwhile`);
          }
          options.signal?.throwIfAborted();
        },
        onProgress: options.onProgress,
      });
      options.onProgress?.({ phase: "publish", done: 0, total: 1 });
      this.#publish(segment, built, log);
      options.onProgress?.({ phase: "publish", done: 1, total: 1 });
      return true;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    } finally {
      this.#optimizing = undefined;
    }
  }

  /**
   * Makes `built` (written from `old` as of an earlier op) the shard's segment: applies the updates made
   * since, flushes it, and renames it into place — the commit point — then drops `old` and the WAL.
   */
  #publish(old: Segment, built: Segment, log: readonly [number, Operation][]): void {
    const building = built.dir;
    try {
      for (const [version, op] of log) this.#apply(built, op, version);
      built.markReplacing(old.id);
      built.flush(this.#nextOp - 1);
      syncDirectory(building);
    } finally {
      built.close();
    }
    const published = join(this.path, SEGMENTS_DIR, crypto.randomUUID());
    renameSync(building, published);
    try {
      syncDirectory(join(this.path, SEGMENTS_DIR));
      this.#segment = Segment.open(loadedNativeLibrary(), published, {
        payloadSchema: readPayloadSchema(this.path),
      });
    } catch (error) {
      // On disk the new segment is the shard's; in memory the old one is stale: refuse further writes.
      this.#poisoned = error as Error;
      throw new OperationError(
        `Cannot publish the optimized segment of ${this.path}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    old.close();
    rmSync(old.dir, { recursive: true, force: true });
    this.#wal!.truncate(this.#nextOp);
  }

  /** Takes the tunables `given` names from a configuration passed to load, and persists them. */
  #adoptTunables(requested: ResolvedConfig, given: Record<string, unknown>): void {
    const merged = mergeTunables(this.#config, requested, given);
    if (JSON.stringify(merged) === JSON.stringify(this.#config)) return;
    writeJsonAtomic(join(this.path, CONFIG_FILE), merged);
    this.#config = merged;
  }

  /**
   * For a shard loaded with `readOnly`: reopens it to see what writers have committed since it was opened
   * (a read-only shard otherwise keeps the state as of opening).
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * const path = await Deno.makeTempDir();
   * using writer = await EdgeShard.create(path, { vectors: { size: 1, distance: "Dot" } });
   * using reader = await EdgeShard.load(path, { readOnly: true });
   * writer.update({ upsert_points: [{ id: 1, vector: [1] }] });
   * reader.refresh();
   * console.log(reader.count()); // 1
   * ```
   */
  refresh(): void {
    const segment = this.#live();
    if (this.#wal !== undefined) {
      throw new OperationError(`Cannot refresh ${this.path}: only a shard loaded read-only needs it`, {
        status: "INVALID_ARGUMENT",
      });
    }
    const fresh = Segment.open(loadedNativeLibrary(), currentSegment(this.path, false), {
      readOnly: true,
      payloadSchema: readPayloadSchema(this.path),
    });
    segment.close();
    this.#segment = fresh;
  }

  /**
   * Flushes and closes the shard. Idempotent; every other method throws {@linkcode ShardClosedError}
   * afterwards.
   *
   * @example
   * ```ts
   * import { EdgeShard } from "@x/edge";
   * const shard = await EdgeShard.create(await Deno.makeTempDir(), { vectors: { size: 1, distance: "Dot" } });
   * shard.close();
   * shard.close(); // no-op
   * ```
   */
  close(): void {
    const segment = this.#segment;
    if (segment === undefined) return;
    try {
      if (this.#poisoned === undefined) this.flush();
    } finally {
      this.#segment = undefined;
      segment.close();
      this.#wal?.close();
      this.#lock.release();
    }
  }

  /** Whether {@linkcode EdgeShard.close} was called. */
  get closed(): boolean {
    return this.#segment === undefined;
  }

  /** Closes the shard at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  #live(): Segment {
    if (this.#segment === undefined) throw new ShardClosedError(`EdgeShard at ${this.path}`);
    return this.#segment;
  }

  #writable(): { segment: Segment; wal: Wal } {
    const segment = this.#live();
    const wal = this.#wal;
    if (wal === undefined) {
      throw new OperationError(`Cannot write to ${this.path}: it was loaded read-only`, {
        status: "INVALID_ARGUMENT",
      });
    }
    if (this.#poisoned !== undefined) {
      throw new OperationError(
        `Cannot write to ${this.path}: an earlier write failed (${this.#poisoned.message}); close and load the shard again`,
        { cause: this.#poisoned },
      );
    }
    return { segment, wal };
  }

  #apply(segment: Segment, op: Operation, version: number): void {
    switch (op.kind) {
      case "upsert": {
        // As in Qdrant, update_mode looks at the points as they were before this operation, so an id that
        // comes twice in an insert_only batch of new points is written twice (and the later one wins).
        const existed = (key: IdKey) => segment.offsetOf(key) !== undefined;
        const points = op.mode === "upsert"
          ? op.points
          : op.points.filter((p) => existed(p.key) === (op.mode === "update_only"));
        segment.upsert(version, points.map((p) => preparedPoint(segment, p.key, p.vectors, p.payload)));
        return;
      }
      case "delete":
        segment.delete(version, op.keys);
        return;
      case "set_payload":
        return this.#rewrite(
          segment,
          version,
          op.keys,
          (point) => mergeAtPath(point.payload, op.path, structuredClone(op.payload)),
        );
      case "overwrite_payload":
        return this.#rewrite(
          segment,
          version,
          op.keys,
          (point) => (point.payload = structuredClone(op.payload)),
        );
      case "delete_payload":
        return this.#rewrite(
          segment,
          version,
          op.keys,
          (point) => op.paths.forEach((path) => deleteAtPath(point.payload, path)),
        );
      case "clear_payload":
        return this.#rewrite(segment, version, op.keys, (point) => (point.payload = {}));
      case "update_vectors": {
        // The same id may come more than once: its vectors apply in order, as Qdrant applies each entry.
        const byKey = new Map<IdKey, PreparedVectors>();
        for (const p of op.points) byKey.set(p.key, { ...byKey.get(p.key), ...p.vectors });
        return this.#rewrite(
          segment,
          version,
          [...byKey.keys()],
          (point) => Object.assign(point.vectors, byKey.get(point.key)),
        );
      }
      case "delete_vectors":
        return this.#rewrite(
          segment,
          version,
          op.keys,
          (point) => op.names.forEach((name) => delete point.vectors[name]),
        );
      case "create_vector":
        if (!(op.name in segment.vectors)) segment.addVector(op.name, op.params);
        if (!(op.name in this.#config.vectors)) {
          this.#saveConfig({ ...this.#config.vectors, [op.name]: op.params });
        }
        return;
      case "create_index":
        segment.createPayloadIndex(op.field, op.schema);
        return this.#savePayloadSchema(segment);
      case "delete_index":
        segment.dropPayloadIndex(op.field);
        return this.#savePayloadSchema(segment);
      case "delete_vector": {
        if (op.name in segment.vectors) segment.removeVector(op.name);
        const vectors = { ...this.#config.vectors };
        delete vectors[op.name];
        this.#saveConfig(vectors);
        return;
      }
    }
  }

  /** Writes each point of `keys` (all exist: see checkTargets) again, after `change` edits a copy of it. */
  #rewrite(
    segment: Segment,
    version: number,
    keys: readonly IdKey[],
    change: (point: StoredPoint) => void,
  ): void {
    const points: PreparedPoint[] = [];
    for (const key of new Set(keys)) {
      const offset = segment.offsetOf(key)!;
      const vectors: PreparedVectors = {};
      for (const name of Object.keys(segment.vectors)) {
        const vector = segment.vector(name, offset);
        if (vector !== undefined) vectors[name] = vector;
      }
      const point: StoredPoint = { key, vectors, payload: segment.payload(offset) };
      change(point);
      points.push(preparedPoint(segment, key, point.vectors, point.payload));
    }
    segment.upsert(version, points);
  }

  /** How by-filter operations find their points in `segment`. */
  #selector(segment: Segment): PointSelector {
    return {
      select: (filter) => {
        const keys: IdKey[] = [];
        forEachMatch(segment, filter, (offset) => keys.push(segment.keyAt(offset)!));
        return keys;
      },
      matches: (filter) => {
        const test = offsetTest(segment, filter);
        return (key) => {
          const offset = segment.offsetOf(key);
          return offset === undefined ? undefined : test(offset);
        };
      },
    };
  }

  /** The bitset of the live points that match `filter`: one bit per offset (the kernel's allow-list). */
  #matchBits(segment: Segment, filter: Filter, planned = planFilter(segment, filter)): Uint8Array {
    return this.#matches(segment, filter, planned).bits;
  }

  /** The live points that match `filter`, as a fresh bitset, and how many they are. */
  #matches(
    segment: Segment,
    filter: Filter,
    planned = planFilter(segment, filter),
  ): { bits: Uint8Array; count: number } {
    const bits = new Uint8Array((segment.nextOffset >> 3) + 1);
    const exact = exactCandidates(segment, filter, planned);
    if (exact !== undefined) {
      const indexed = exact.toBitset();
      bits.set(indexed.length > bits.length ? indexed.subarray(0, bits.length) : indexed);
      return { bits, count: exact.size };
    }
    let count = 0;
    forEachMatch(segment, filter, (offset) => {
      bits[offset >> 3] |= 1 << (offset & 7);
      count++;
    }, planned);
    return { bits, count };
  }

  /** scroll with `order_by`: by the values of a range-capable payload index, one page, no next offset. */
  #scrollOrdered(
    segment: Segment,
    request: ScrollRequest,
    limit: number,
    filter: Filter | undefined,
    selection: Selection,
  ): ScrollResult {
    const orderBy = parseOrderBy(request.order_by);
    // Checked first, with Qdrant's text: paging by value continues with order_by.start_from.
    if (request.offset !== undefined && request.offset !== null) {
      throw new InvalidArgumentError("Validation failed: Offset is not supported when ordering by field");
    }
    const index = segment.payloadIndex(orderBy.key);
    const ordered = index && orderedIndexOf(index);
    if (ordered === undefined) {
      throw new OperationError(
        `No range index for \`order_by\` key: \`${orderBy.key}\`. Please create one to use \`order_by\`. ` +
          "Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Range conditions",
        { status: "INVALID_ARGUMENT" },
      );
    }
    const bits = filter === undefined ? undefined : this.#matchBits(segment, filter);
    const points: PointRecord[] = [];
    if (limit === 0) return { points, next_page_offset: null };
    // forEachOrdered stops when the visit returns false.
    ordered.forEachOrdered(orderBy, (value, offset) => {
      if (!segment.isLive(offset)) return true;
      if (bits !== undefined && (bits[offset >> 3] & (1 << (offset & 7))) === 0) return true;
      const record: PointRecord = { id: keyToId(segment.keyAt(offset)!) };
      this.#attach(record, offset, selection);
      record.order_value = value;
      points.push(record);
      return points.length < limit;
    });
    return { points, next_page_offset: null };
  }

  #savePayloadSchema(segment: Segment): void {
    const schema: Record<string, unknown> = {};
    for (const field of segment.indexedFields) schema[field] = segment.payloadSchemaOf(field);
    writeJsonAtomic(join(this.path, PAYLOAD_INDEX_FILE), schema);
  }

  #saveConfig(vectors: ResolvedConfig["vectors"]): void {
    this.#config = { ...this.#config, vectors };
    writeJsonAtomic(join(this.path, CONFIG_FILE), this.#config);
  }

  /** Validates what to return with each point, once per request. */
  #selection(withPayload: WithPayload, withVector: WithVector): Selection {
    const vectors = this.#live().vectors;
    const names = Object.keys(vectors);
    return {
      payload: payloadSelector(withPayload),
      vectors: withVector === false
        ? undefined
        : withVector === true
        ? names
        : checkVectorNames(withVector, vectors),
      lone: names.length === 1 && names[0] === "",
    };
  }

  #attach(target: { payload?: Payload; vector?: VectorOutput }, offset: number, selection: Selection): void {
    const segment = this.#live();
    if (selection.payload !== undefined) target.payload = selection.payload(segment.payload(offset));
    if (selection.vectors === undefined) return;
    if (selection.lone) {
      // Qdrant gives a list for the lone default vector, and {} for a point that lacks it.
      const vector = selection.vectors.length > 0 ? segment.vector("", offset) : undefined;
      target.vector = vector === undefined ? {} : Array.from(vector);
      return;
    }
    const out: Record<string, number[]> = {};
    for (const name of selection.vectors) {
      const vector = segment.vector(name, offset);
      if (vector !== undefined) out[name] = Array.from(vector);
    }
    target.vector = out;
  }
}

/**
 * A WAL record passed its checksum, so a bad one was written by a bug or by hand: check what applying it
 * assumes (the ids exist, the vectors are known and of the right size) and call it CORRUPT otherwise.
 */
function checkReplayable(segment: Segment, op: Operation, version: number, walFile: string): void {
  const bad = (what: string) =>
    new OperationError(`${walFile}: op ${version} cannot be replayed: ${what}`, { status: "CORRUPT" });
  if (op.kind === "upsert" || op.kind === "update_vectors") {
    for (const point of op.points) {
      for (const [name, vector] of Object.entries(point.vectors)) {
        const target = segment.vectors[name];
        if (target === undefined) throw bad(`vector ${JSON.stringify(name)} does not exist`);
        if (vector.length !== target.size) {
          throw bad(`vector ${JSON.stringify(name)} has ${vector.length} values, not ${target.size}`);
        }
      }
    }
  }
  if (op.kind === "delete_vectors" && op.names.some((name) => !(name in segment.vectors))) {
    throw bad("it names an unknown vector");
  }
  if (op.kind === "create_index") {
    try {
      parseFieldSchema(op.schema);
      parsePath(op.field, "field_name");
    } catch (error) {
      throw bad((error as Error).message);
    }
  }
  try {
    checkTargets(segment, op);
  } catch (error) {
    throw bad((error as Error).message);
  }
}

/** After replay, the persisted configuration and the segment must describe the same vectors. */
function checkSameVectors(path: string, config: ResolvedConfig, segment: Segment): void {
  const fromSegment = Object.entries(segment.vectors).map(([name, v]) =>
    `${name}:${v.size}:${v.distance}:${v.datatype}`
  ).sort();
  const fromConfig = Object.entries(config.vectors).map(([name, v]) =>
    `${name}:${v.size}:${v.distance}:${v.datatype}`
  ).sort();
  if (fromSegment.join() !== fromConfig.join()) {
    throw new OperationError(
      `Cannot load ${path}: ${join(path, CONFIG_FILE)} describes the vectors [${
        fromConfig.join(", ")
      }] but segment ` +
        `${segment.dir} holds [${fromSegment.join(", ")}]`,
      { status: "CORRUPT" },
    );
  }
}

/**
 * Payload and vector operations need their points to exist: as in Qdrant, an id that does not fails the
 * operation, and here it fails before anything (the WAL record included) is written.
 */
function checkTargets(segment: Segment, op: Operation): void {
  const keys = op.kind === "update_vectors"
    ? op.points.map((p) => p.key)
    : "keys" in op && op.kind !== "delete"
    ? op.keys
    : [];
  const missing = keys.find((key) => segment.offsetOf(key) === undefined);
  if (missing !== undefined) throw new InvalidArgumentError(`No point with id ${describeKey(missing)}`);
}

/** A point as read back for an in-place change: vectors as stored (already normalised), payload a copy. */
interface StoredPoint {
  key: IdKey;
  vectors: PreparedVectors;
  payload: Payload;
}

function preparedPoint(
  segment: Segment,
  key: IdKey,
  vectors: PreparedVectors,
  payload: Payload,
): PreparedPoint {
  const bySlot: (Float32Array | undefined)[] = [];
  for (const [name, vector] of Object.entries(vectors)) bySlot[segment.vectors[name].slot] = vector;
  return { key, vectors: bySlot, payload: encodePayload(payload), payloadObject: payload };
}

/** What to return with each point: a payload filter (or none) and the vector names (or none). */
interface Selection {
  payload: ((payload: Payload) => Payload) | undefined;
  vectors: string[] | undefined;
  /** The shard has only the default vector, which Qdrant returns as a plain list. */
  lone: boolean;
}

function payloadSelector(selector: WithPayload): ((payload: Payload) => Payload) | undefined {
  if (selector === false) return undefined;
  if (selector === true) return (payload) => payload;
  const include = Array.isArray(selector)
    ? selector
    : isObject(selector) && "include" in selector
    ? selector.include
    : undefined;
  const exclude = isObject(selector) && "exclude" in selector ? selector.exclude : undefined;
  if (include !== undefined) {
    checkKeys(include, "with_payload.include");
    return (payload) => {
      const out: Payload = {};
      for (const key of include) if (key in payload) out[key] = payload[key];
      return out;
    };
  }
  if (exclude !== undefined) {
    checkKeys(exclude, "with_payload.exclude");
    return (payload) => {
      const out: Payload = { ...payload };
      for (const key of exclude) delete out[key];
      return out;
    };
  }
  throw new InvalidArgumentError(
    `with_payload: expected a boolean, a list of keys, { include } or { exclude }, got ${describe(selector)}`,
  );
}

function checkKeys(keys: unknown, where: string): void {
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
    throw new InvalidArgumentError(`${where}: expected a list of strings, got ${describe(keys)}`);
  }
}

function checkVectorNames(names: unknown, vectors: Readonly<Record<string, unknown>>): string[] {
  checkKeys(names, "with_vector");
  for (const name of names as string[]) {
    if (!(name in vectors)) {
      const known = Object.keys(vectors).map((n) => JSON.stringify(n)).join(", ");
      throw new InvalidArgumentError(
        `with_vector: vector ${JSON.stringify(name)} does not exist; the shard has ${known}`,
      );
    }
  }
  return names as string[];
}

/** Validates `query.params` (Qdrant's `SearchParams`). */
function parseSearchParams(value: unknown): SearchParams {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) {
    throw new InvalidArgumentError(`query.params: expected an object, got ${describe(value)}`);
  }
  const known = ["hnsw_ef", "exact", "quantization", "indexed_only", "acorn"];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(
        `query.params: unknown field ${JSON.stringify(key)}; expected ${known.join(", ")}`,
      );
    }
  }
  const params: SearchParams = {};
  const ef = value.hnsw_ef;
  if (ef !== undefined && ef !== null) {
    if (typeof ef !== "number" || !Number.isInteger(ef) || ef < 1 || ef > 1 << 20) {
      throw new InvalidArgumentError(
        `query.params.hnsw_ef: expected an integer from 1 to ${1 << 20}, got ${describe(ef)}`,
      );
    }
    params.hnsw_ef = ef;
  }
  for (const flag of ["exact", "indexed_only"] as const) {
    const v = value[flag];
    if (v !== undefined && v !== null && typeof v !== "boolean") {
      throw new InvalidArgumentError(`query.params.${flag}: expected a boolean, got ${describe(v)}`);
    }
    if (typeof v === "boolean") params[flag] = v;
  }
  const q = value.quantization;
  if (q !== undefined && q !== null) {
    if (!isObject(q)) {
      throw new InvalidArgumentError(`query.params.quantization: expected an object, got ${describe(q)}`);
    }
    const quantization: NonNullable<SearchParams["quantization"]> = {};
    for (const flag of ["ignore", "rescore"] as const) {
      const v = q[flag];
      if (v !== undefined && v !== null && typeof v !== "boolean") {
        throw new InvalidArgumentError(
          `query.params.quantization.${flag}: expected a boolean, got ${describe(v)}`,
        );
      }
      if (typeof v === "boolean") quantization[flag] = v;
    }
    const over = q.oversampling;
    if (over !== undefined && over !== null) {
      if (typeof over !== "number" || !(over >= 1 && over <= 1000)) {
        throw new InvalidArgumentError(
          `query.params.quantization.oversampling: expected a number from 1 to 1000, got ${describe(over)}`,
        );
      }
      quantization.oversampling = over;
    }
    params.quantization = quantization;
  }
  return params;
}

function nonNegativeInteger(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${where}: expected a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

/** The persisted payload schema: indexed field → schema; none when the file is missing. */
function readPayloadSchema(path: string): Record<string, unknown> {
  const file = join(path, PAYLOAD_INDEX_FILE);
  if (!existsSync(file)) return {};
  const schema = readJson(file);
  if (!isObject(schema)) {
    throw new OperationError(`Cannot load ${path}: ${file} does not hold an object of field schemas`, {
      status: "CORRUPT",
    });
  }
  return schema;
}

/** Parses an optional filter (absent or null: none). */
function optionalFilter(value: unknown, path: string): Filter | undefined {
  return value === undefined || value === null ? undefined : parseFilter(value, path);
}

/** Validates `order_by`: a key, or `{ key, direction?, start_from? }`. */
function parseOrderBy(
  orderBy: unknown,
): { key: string; direction?: "asc" | "desc"; start_from?: number | string } {
  const o = typeof orderBy === "string" ? { key: orderBy } : orderBy;
  if (!isObject(o) || typeof o.key !== "string") {
    throw new InvalidArgumentError(
      `scroll.order_by: expected a key or { key, direction?, start_from? }, got ${describe(orderBy)}`,
    );
  }
  const direction = o.direction ?? undefined;
  if (direction !== undefined && direction !== "asc" && direction !== "desc") {
    throw new InvalidArgumentError(
      `scroll.order_by.direction: expected "asc" or "desc", got ${describe(direction)}`,
    );
  }
  const start = o.start_from ?? undefined;
  if (
    start !== undefined && typeof start !== "string" && (typeof start !== "number" || !Number.isFinite(start))
  ) {
    throw new InvalidArgumentError(
      `scroll.order_by.start_from: expected a number or an RFC 3339 datetime, got ${describe(start)}`,
    );
  }
  return { key: o.key, direction, start_from: start };
}

/** Options of {@linkcode EdgeShard.load}. */
export interface LoadOptions {
  /** Must match the persisted vectors when given. */
  config?: EdgeConfig;
  /**
   * Open without taking the writer's lock, alongside a writer in another process: the shard shows what
   * the segments held when it was opened (or at the last {@linkcode EdgeShard.refresh}); writes throw.
   */
  readOnly?: boolean;
}

function directorySizeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath ?? dir, entry.name)).size;
  }
  return total;
}

function holdsShard(path: string): boolean {
  if (existsSync(join(path, CONFIG_FILE))) return true;
  const segments = join(path, SEGMENTS_DIR);
  return existsSync(segments) && readdirSync(segments).length > 0;
}

function readPersistedConfig(path: string): ResolvedConfig | undefined {
  const file = join(path, CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return resolveConfig(readJson(file));
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new OperationError(`${file} is not a valid shard configuration: ${error.message}`, {
      status: "CORRUPT",
      cause: error,
    });
  }
}

/**
 * The directory of the shard's segment. An optimize that crashed after publishing its segment may have
 * left the one it replaced (named in the new one's `replaces`): a writer removes it, as it does the
 * unfinished `.optimizing-*` directories of an optimize that never published.
 */
function currentSegment(path: string, writable: boolean): string {
  let dirs = listSegments(path);
  if (dirs.length > 1) {
    const replaced = new Set(dirs.map(replacedBy).filter((id) => id !== undefined));
    const stale = dirs.filter((dir) => replaced.has(basename(dir)));
    dirs = dirs.filter((dir) => !replaced.has(basename(dir)));
    if (writable) { for (const dir of stale) rmSync(dir, { recursive: true, force: true }); }
  }
  if (dirs.length !== 1) {
    throw new OperationError(
      `Cannot load ${path}: expected one segment in ${SEGMENTS_DIR}/, found ${dirs.length}`,
      { status: "CORRUPT" },
    );
  }
  if (writable) {
    for (const entry of readdirSync(join(path, SEGMENTS_DIR))) {
      if (entry.startsWith(".optimizing-")) {
        rmSync(join(path, SEGMENTS_DIR, entry), { recursive: true, force: true });
      }
    }
  }
  return dirs[0];
}

/** The segment id that the segment in `dir` replaced, if its segment.json names one. */
function replacedBy(dir: string): string | undefined {
  try {
    const state = readJson(join(dir, "segment.json")) as { replaces?: unknown } | null;
    return typeof state?.replaces === "string" ? state.replaces : undefined;
  } catch {
    return undefined;
  }
}

function listSegments(path: string): string[] {
  const dir = join(path, SEGMENTS_DIR);
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) {
    throw new OperationError(`Cannot load ${path}: ${dir} is not a directory`, { status: "IO" });
  }
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => join(dir, entry.name))
    .sort();
}
