/**
 * `@x/edge`: embedded vector search for Deno and Bun, with Qdrant Edge's API over a Zig kernel.
 *
 * An {@linkcode EdgeShard} is one directory of points (id, named vectors, JSON payload) that you query
 * by vector similarity. It is created once, loaded again later, and closed when done.
 *
 * @example
 * ```ts
 * import { EdgeShard } from "@x/edge";
 *
 * const path = await Deno.makeTempDir();
 * using shard = await EdgeShard.create(path, { vectors: { size: 3, distance: "Cosine" } });
 * shard.update({ upsert_points: [{ id: 1, vector: [1, 0, 0], payload: { kind: "door" } }] });
 * console.log(shard.query({ query: [0.9, 0.1, 0], limit: 1, with_payload: true }));
 * ```
 *
 * Run with `deno run --allow-ffi --allow-read --allow-write --allow-env` or with `bun`.
 *
 * @module
 */
export { EdgeShard, type LoadOptions } from "./lib/shard/edge_shard.ts";
export type { FilterPlan } from "./lib/shard/select.ts";
export type { OptimizeOptions, OptimizeProgress } from "./lib/shard/optimize.ts";
export type {
  BoolIndexParams,
  CardinalityEstimation,
  DatetimeIndexParams,
  FloatIndexParams,
  GeoIndexParams,
  IntegerIndexParams,
  KeywordIndexParams,
  Memory,
  PayloadFieldSchema,
  PayloadIndexInfo,
  PayloadSchemaParams,
  PayloadSchemaType,
  StopwordsSet,
  StorageIndexParams,
  TextIndexParams,
  TokenizerType,
  UuidIndexParams,
} from "./lib/index/mod.ts";
export type {
  Datatype,
  Distance,
  EdgeConfig,
  EdgeOptimizersConfig,
  EdgeVectorParams,
  HnswConfig,
  HnswConfigDiff,
  QuantizationConfig,
  ResolvedConfig,
} from "./lib/shard/config.ts";
export type * from "./lib/filter/types.ts";
export type {
  CountRequest,
  DenseVector,
  FacetHit,
  FacetRequest,
  FacetResponse,
  FilterInput,
  OrderByInput,
  Payload,
  PointId,
  PointRecord,
  PointsOrFilter,
  PointsSelector,
  PointStruct,
  QueryInput,
  QueryPlan,
  QueryRequest,
  RetrieveOptions,
  ScoredPoint,
  ScrollRequest,
  ScrollResult,
  SearchParams,
  ShardInfo,
  UpdateOperation,
  UpsertPoints,
  VectorOutput,
  VectorStruct,
  WithPayload,
  WithVector,
} from "./lib/shard/types.ts";
export {
  InvalidArgumentError,
  type NativeStatusName,
  OperationError,
  ShardClosedError,
} from "./lib/errors.ts";
export { type LibraryVariant, type NativeLibraryOptions, useNativeLibrary } from "./lib/ffi/loader.ts";
