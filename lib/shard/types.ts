/**
 * Request and response shapes of `EdgeShard`, with Qdrant's names and JSON layout, so that the HTTP
 * façade and sync map them one to one.
 *
 * @module
 */
import type { Payload } from "../segment/payload_storage.ts";
import type { PointId } from "./point_id.ts";

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

/** The `upsert_points` operation: a list of points, or `{ points, update_mode }`. */
export type UpsertPoints = PointStruct[] | {
  points: PointStruct[];
  update_mode?: "upsert" | "insert_only" | "update_only";
};

/** Points selected by id: a list, or `{ points }`. */
export type PointsSelector = PointId[] | { points: PointId[] };

/**
 * One update operation, as Qdrant Edge's `UpdateOperation`: an object with exactly one of these keys.
 * `set_payload` merges into the payload (or into the object at the JSON path `key`); `overwrite_payload`
 * replaces it; `delete_payload` removes JSON paths; `update_vectors` replaces only the vectors given.
 */
export type UpdateOperation =
  | { upsert_points: UpsertPoints }
  | { delete_points: PointsSelector }
  | { set_payload: { points: PointId[]; payload: Payload; key?: string } }
  | { overwrite_payload: { points: PointId[]; payload: Payload } }
  | { delete_payload: { points: PointId[]; keys: string[] } }
  | { clear_payload: PointsSelector }
  | { update_vectors: { points: { id: PointId; vector: VectorStruct }[] } }
  | { delete_vectors: { points: PointId[]; vector: string[] } }
  | {
    create_vector_name: {
      vector_name: string;
      size: number;
      distance: "Cosine" | "Dot" | "Euclid" | "Manhattan";
      datatype?: "float32" | "float16" | "uint8";
    };
  }
  | { delete_vector_name: { vector_name: string } };

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
  /** Accepted for Qdrant compatibility: counts are always exact. */
  exact?: boolean;
}

/** Summary of a shard, as Qdrant Edge's `ShardInfo`. */
export interface ShardInfo {
  /** Number of segments. */
  segments_count: number;
  /** Number of live points. */
  points_count: number;
  /** Vectors in an HNSW index (0 until `optimize()` exists). */
  indexed_vectors_count: number;
  /** Indexed payload fields (none until payload indexes exist). */
  payload_schema: Record<string, unknown>;
  /** Bytes of every file in the shard's directory. */
  disk_size_bytes: number;
}
