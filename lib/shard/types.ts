/**
 * Request and response shapes of `EdgeShard`, with Qdrant's names and JSON layout, so that the HTTP
 * façade and sync map them one to one.
 *
 * @module
 */
import type { Payload } from "../segment/payload_storage.ts";
import type { PointId } from "./point_id.ts";
import type { Filter } from "../filter/types.ts";
import type { PayloadFieldSchema } from "../index/mod.ts";

export type { Payload, PointId };

/** A dense vector as input: plain numbers or a `Float32Array`. */
export type DenseVector = number[] | Float32Array;

/** The vectors of a point: one vector (the default vector, named `""`) or a map from vector name. */
export type VectorStruct = DenseVector | Record<string, DenseVector>;

/** A point to upsert, as Qdrant's `PointStruct`. */
export interface PointStruct {
  /** An unsigned integer (bigint above 2^53-1) or a UUID. */
  id: PointId;
  /** The point's vectors. */
  vector: VectorStruct;
  /** A JSON object; `null` or absent means the empty payload. */
  payload?: Payload | null;
}

/**
 * The `upsert_points` operation: a list of points, or `{ points, update_mode, update_filter }`. With
 * `update_filter`, an existing point that does not match it is left unchanged (new points are inserted).
 */
export type UpsertPoints = PointStruct[] | {
  points: PointStruct[];
  update_mode?: "upsert" | "insert_only" | "update_only";
  update_filter?: FilterInput | null;
};

/** Points selected by id (a list, or `{ points }`) or by filter (`{ filter }`). */
export type PointsSelector = PointId[] | { points: PointId[] } | { filter: FilterInput };

/** The points an operation with more fields acts on: `points` (ids) or `filter`, not both. */
export type PointsOrFilter = { points: PointId[]; filter?: never } | { filter: FilterInput; points?: never };

/**
 * One update operation, as Qdrant Edge's `UpdateOperation`: an object with exactly one of these keys.
 * `set_payload` merges into the payload (or into the object at the JSON path `key`); `overwrite_payload`
 * replaces it; `delete_payload` removes JSON paths; `update_vectors` replaces only the vectors given.
 */
export type UpdateOperation =
  | { upsert_points: UpsertPoints }
  | { delete_points: PointsSelector }
  | { set_payload: PointsOrFilter & { payload: Payload; key?: string } }
  | { overwrite_payload: PointsOrFilter & { payload: Payload } }
  | { delete_payload: PointsOrFilter & { keys: string[] } }
  | { clear_payload: PointsSelector }
  | {
    update_vectors: { points: { id: PointId; vector: VectorStruct }[]; update_filter?: FilterInput | null };
  }
  | { delete_vectors: PointsOrFilter & { vector: string[] } }
  | {
    create_vector_name: {
      vector_name: string;
      size: number;
      distance: "Cosine" | "Dot" | "Euclid" | "Manhattan";
      datatype?: "float32" | "float16" | "uint8";
    };
  }
  | { delete_vector_name: { vector_name: string } }
  | {
    create_field_index: {
      field_name: string;
      /** `"keyword"`, `"integer"`, `"float"`, `"bool"`, `"geo"`, `"datetime"`, `"uuid"`, `"text"`, or params. */
      field_schema: PayloadFieldSchema;
    };
  }
  | { delete_field_index: { field_name: string } };

/** Which payload keys to return: all (`true`), none (`false`), a list, or an include/exclude selector. */
export type WithPayload = boolean | string[] | { include: string[] } | { exclude: string[] };

/** Which vectors to return: all (`true`), none (`false`) or the listed names. */
export type WithVector = boolean | string[];

/** A nearest-neighbour query: a vector, or `{ nearest: vector }`. */
export type QueryInput = DenseVector | { nearest: DenseVector };

/** A query, as Qdrant's `QueryRequest` (exact search). */
export interface QueryRequest {
  /** The vector to search near. */
  query: QueryInput;
  /** Name of the vector to search; the default vector `""` when absent. */
  using?: string;
  /** Number of results; 10 by default. */
  limit?: number;
  /** Number of best results to skip; 0 by default. */
  offset?: number;
  /** Keep only scores strictly better than this (greater for Cosine/Dot, smaller for Euclid/Manhattan). */
  score_threshold?: number | null;
  /** `false` by default. */
  with_payload?: WithPayload;
  /** `false` by default. */
  with_vector?: WithVector;
  /** Only points that match. */
  filter?: FilterInput | null;
  /** How to search: graph width, exact scan, use of quantized vectors. */
  params?: SearchParams | null;
}

/**
 * How a query searches, as Qdrant's `SearchParams`.
 *
 * @example
 * ```ts
 * import type { SearchParams } from "@x/edge";
 * const params: SearchParams = { hnsw_ef: 128, quantization: { rescore: true, oversampling: 2 } };
 * ```
 */
export interface SearchParams {
  /** Candidates kept while walking the HNSW graph; the graph's `ef_construct` by default. */
  hnsw_ef?: number | null;
  /** Scan every point with the original vectors instead of walking the graph; false by default. */
  exact?: boolean | null;
  /** Use of quantized vectors, where `optimize()` built them. */
  quantization?: {
    /** Score with the original vectors only; false by default. */
    ignore?: boolean | null;
    /** Re-score the best candidates with the original vectors; true by default. */
    rescore?: boolean | null;
    /** Keep `limit · oversampling` candidates before rescoring (at least 1); 1 by default. */
    oversampling?: number | null;
  } | null;
  /** Accepted for compatibility: a shard has one segment, whose unindexed points are always searched. */
  indexed_only?: boolean | null;
}

/**
 * How a query searches: through the HNSW graph, or by scanning every candidate, and why
 * (`"params.exact"`, `"no_graph"`, `"below_full_scan_threshold"`, `"above_full_scan_threshold"`).
 *
 * @example
 * ```ts
 * import type { QueryPlan } from "@x/edge";
 * const plan: QueryPlan = { search: "exact", reason: "no_graph", candidates: 10 };
 * ```
 */
export interface QueryPlan {
  /** Walk the HNSW graph, or scan every candidate. */
  search: "hnsw" | "exact";
  /** Why: asked for, no graph, or the candidates' vectors below / above `full_scan_threshold` KB. */
  reason: "params.exact" | "no_graph" | "below_full_scan_threshold" | "above_full_scan_threshold";
  /** Points the search may return: the live points that have the vector (and match the filter, if any). */
  candidates: number;
}

/** Vectors as output: a list for a shard with only the default vector, else a map from name. */
export type VectorOutput = number[] | Record<string, number[]>;

/** One query result, as Qdrant's `ScoredPoint`. */
export interface ScoredPoint {
  /** The point's id. */
  id: PointId;
  /** The op number that last wrote the point. */
  version: number;
  /** Similarity (Cosine, Dot) or distance (Euclid, Manhattan) to the query. */
  score: number;
  /** Present when `with_payload` asked for it. */
  payload?: Payload;
  /** Present when `with_vector` asked for it. */
  vector?: VectorOutput;
}

/** A point as returned by `retrieve`, as Qdrant's `Record`. */
export interface PointRecord {
  /** The point's id. */
  id: PointId;
  /** Present unless `with_payload` is false. */
  payload?: Payload;
  /** Present when `with_vector` asked for it. */
  vector?: VectorOutput;
  /** The value of the `order_by` field the point was ordered by (scroll with `order_by` only). */
  order_value?: number;
}

/** Options of `retrieve`: payload on, vectors off by default, as in Qdrant Edge. */
export interface RetrieveOptions {
  /** `true` by default. */
  with_payload?: WithPayload;
  /** `false` by default. */
  with_vector?: WithVector;
}

/** A count request; counts are always exact. */
export interface CountRequest {
  /** Count only the points that match. */
  filter?: FilterInput | null;
  /** Accepted for Qdrant compatibility: counts are always exact. */
  exact?: boolean;
}

/**
 * A filter in Qdrant's JSON shape: `must`, `should`, `must_not` and `min_should: { conditions, min_count }`
 * (see {@linkcode Filter} for every condition).
 */
export type FilterInput = Filter;

/** How `scroll` orders points by a payload field (which needs a range-capable payload index). */
export type OrderByInput = string | {
  /** The payload field. */
  key: string;
  /** `"asc"` by default. */
  direction?: "asc" | "desc";
  /** Start at this value (inclusive): a number, or an RFC 3339 datetime for datetime fields. */
  start_from?: number | string;
};

/** A scroll request, as Qdrant's `ScrollRequest`. */
export interface ScrollRequest {
  /** The first id of the page (inclusive); the start when absent. Not allowed with `order_by`. */
  offset?: PointId | null;
  /** Points per page; 10 by default. */
  limit?: number;
  /** Only points that match. */
  filter?: FilterInput | null;
  /** `true` by default. */
  with_payload?: WithPayload;
  /** `false` by default. */
  with_vector?: WithVector;
  /** Order by a payload field instead of by id. */
  order_by?: OrderByInput | null;
}

/** A page of points, as Qdrant's scroll result. */
export interface ScrollResult {
  /** The points of the page, in id order (or in `order_by` order). */
  points: PointRecord[];
  /** The id the next page starts at; null on the last page (and always with `order_by`). */
  next_page_offset: PointId | null;
}

/** A facet request, as Qdrant's `FacetRequest`: counts of the values of a field. */
export interface FacetRequest {
  /** The payload field; it needs a keyword, integer, uuid or bool payload index. */
  key: string;
  /** Number of values to return, most frequent first; 10 by default. */
  limit?: number;
  /** Accepted for Qdrant compatibility: counts are always exact. */
  exact?: boolean;
  /** Count only the points that match. */
  filter?: FilterInput | null;
}

/** One value of a facet, with the number of points that have it. */
export interface FacetHit {
  /** The value. */
  value: string | number | boolean;
  /** Number of points with this value. */
  count: number;
}

/** The result of `facet`, as Qdrant's `FacetResponse`. */
export interface FacetResponse {
  /** The values, most frequent first (ties by value). */
  hits: FacetHit[];
}

/** Summary of a shard, as Qdrant Edge's `ShardInfo`. */
export interface ShardInfo {
  /** Number of segments. */
  segments_count: number;
  /** Number of live points. */
  points_count: number;
  /** Live vectors in an HNSW graph (built by `optimize()`). */
  indexed_vectors_count: number;
  /** Indexed payload fields (none until payload indexes exist). */
  payload_schema: Record<string, unknown>;
  /** Bytes of every file in the shard's directory. */
  disk_size_bytes: number;
}
