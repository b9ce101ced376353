/**
 * The shard configuration, `edge_config.json`, with Qdrant Edge's names and JSON shape.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import type { Datatype, Distance } from "../kernel/vector_storage.ts";

export type { Datatype, Distance };

/** Parameters of one dense vector, as Qdrant Edge's `EdgeVectorParams`. */
export interface EdgeVectorParams {
  /** Number of dimensions (1 to 65,536). */
  size: number;
  /** How vectors are compared: `Cosine` and `Dot` are similarities, `Euclid` and `Manhattan` distances. */
  distance: Distance;
  /** Element type of stored vectors; `"float32"` by default. */
  datatype?: Datatype;
  /** Accepted for compatibility: vectors always live in an mmap'd file that the OS pages in. */
  on_disk?: boolean;
  /** This vector's HNSW parameters, over the shard's `hnsw_config`. */
  hnsw_config?: HnswConfigDiff;
  /** This vector's quantization, instead of the shard's `quantization_config`. */
  quantization_config?: QuantizationConfig | null;
}

/**
 * HNSW parameters, as Qdrant's `HnswConfig`. Used when `optimize()` builds a segment's graph.
 *
 * @example
 * ```ts
 * import type { HnswConfig } from "@x/edge";
 * const hnsw: HnswConfig = { m: 16, ef_construct: 100, full_scan_threshold: 10_000, max_indexing_threads: 0 };
 * ```
 */
export interface HnswConfig {
  /** Links per node on the upper layers (the base layer gets twice as many); 16 by default. */
  m: number;
  /** Candidates kept while linking a new node; 100 by default. */
  ef_construct: number;
  /**
   * KB of vectors below which a search scans exactly instead of walking the graph: a filtered search whose
   * matching points' vectors take fewer KB than this reads them all. 10,000 by default.
   */
  full_scan_threshold: number;
  /** Threads of a graph build; 0 (the default) uses every core, up to 16. */
  max_indexing_threads: number;
  /** Accepted for compatibility: graphs are mmap'd files that the OS pages in. */
  on_disk?: boolean;
}

/** Some HNSW parameters: the others come from the shard's (or the defaults). */
export type HnswConfigDiff = Partial<HnswConfig>;

/**
 * Quantization of a vector, in Qdrant's JSON shape: scalar int8 (`quantile` of the values kept in range,
 * 0.99 by default when absent) or binary (one bit per dimension). `always_ram` keeps the quantized
 * vectors in memory instead of mapped from disk.
 *
 * @example
 * ```ts
 * import type { QuantizationConfig } from "@x/edge";
 * const int8: QuantizationConfig = { scalar: { type: "int8", quantile: 0.99, always_ram: true } };
 * const binary: QuantizationConfig = { binary: { always_ram: true } };
 * ```
 */
export type QuantizationConfig =
  | { scalar: { type: "int8"; quantile?: number | null; always_ram?: boolean | null } }
  | { binary: { always_ram?: boolean | null } };

/**
 * When `optimize()` rewrites a segment, as Qdrant Edge's `EdgeOptimizersConfig`.
 *
 * @example
 * ```ts
 * import type { EdgeOptimizersConfig } from "@x/edge";
 * const optimizers: EdgeOptimizersConfig = { indexing_threshold: 1_000, deleted_threshold: 0.1 };
 * ```
 */
export interface EdgeOptimizersConfig {
  /** Share of dead points (deleted or overwritten) above which a segment is vacuumed; 0.2 by default. */
  deleted_threshold?: number;
  /** Fewest vectors a segment must have before it is vacuumed; 1,000 by default. */
  vacuum_min_vector_number?: number;
  /** Accepted for compatibility: a shard has one segment. */
  default_segment_number?: number;
  /** Accepted for compatibility: a shard has one segment. */
  max_segment_size?: number | null;
  /**
   * KB of unindexed vectors from which `optimize()` builds an HNSW graph (and quantized vectors);
   * 10,000 by default, 0 never.
   */
  indexing_threshold?: number | null;
}

/**
 * Configuration of a shard. `vectors` is either one `EdgeVectorParams` (the default vector, named `""`)
 * or a map from vector name to parameters.
 */
export interface EdgeConfig {
  /** The default vector (one `EdgeVectorParams`, named `""`) or named vectors. */
  vectors: EdgeVectorParams | Record<string, EdgeVectorParams>;
  /** Accepted for compatibility: payloads are always stored on disk and read on demand. */
  on_disk_payload?: boolean;
  /**
   * fsync the write-ahead log after every update, so that each acknowledged update survives power loss,
   * not only a crash of the process. Off by default: then `flush()` is the power-loss barrier.
   */
  fsync_on_update?: boolean;
  /** HNSW parameters of every vector (each may override them); Qdrant's defaults when absent. */
  hnsw_config?: HnswConfigDiff;
  /** Quantization of every vector (each may override it); none when absent. */
  quantization_config?: QuantizationConfig | null;
  /** When `optimize()` vacuums and indexes. */
  optimizers?: EdgeOptimizersConfig;
}

/** A configuration after validation: every vector named, every default filled in. */
export interface ResolvedConfig {
  /** Every vector by name, with defaults filled in. */
  vectors: Record<
    string,
    Required<Pick<EdgeVectorParams, "size" | "distance" | "datatype">> & {
      on_disk: boolean;
      hnsw_config?: HnswConfigDiff;
      quantization_config?: QuantizationConfig | null;
    }
  >;
  /** Always true: payloads live on disk and are read on demand. */
  on_disk_payload: boolean;
  /** Whether every update fsyncs the write-ahead log. */
  fsync_on_update: boolean;
  /** HNSW parameters of every vector, defaults filled in. */
  hnsw_config: HnswConfig;
  /** The shard-wide quantization, if any. */
  quantization_config?: QuantizationConfig;
  /** Optimizer thresholds, defaults filled in. */
  optimizers: Required<Omit<EdgeOptimizersConfig, "max_segment_size" | "indexing_threshold">> & {
    max_segment_size: number | null;
    indexing_threshold: number;
  };
}

/** Qdrant's HNSW defaults. */
export const HNSW_DEFAULTS: Readonly<HnswConfig> = {
  m: 16,
  ef_construct: 100,
  full_scan_threshold: 10_000,
  max_indexing_threads: 0,
};

/** Qdrant Edge's optimizer defaults. */
export const OPTIMIZER_DEFAULTS: Readonly<ResolvedConfig["optimizers"]> = {
  deleted_threshold: 0.2,
  vacuum_min_vector_number: 1000,
  default_segment_number: 0,
  max_segment_size: null,
  indexing_threshold: 10_000,
};

/** The most named vectors a shard may have. */
export const VECTOR_NAMES_MAX = 32;
/** The largest vector dimension. */
export const VECTOR_SIZE_MAX = 65536;
const DISTANCES: readonly Distance[] = ["Cosine", "Dot", "Euclid", "Manhattan"];
const DATATYPES: readonly Datatype[] = ["float32", "float16", "uint8"];

/** Validates a user-supplied configuration and fills in defaults, or throws an InvalidArgumentError. */
export function resolveConfig(config: unknown): ResolvedConfig {
  if (!isObject(config)) {
    throw new InvalidArgumentError(`config: expected an object, got ${describe(config)}`);
  }
  const vectors = config.vectors;
  if (!isObject(vectors)) {
    throw new InvalidArgumentError(
      `config.vectors: expected vector parameters or a map of them, got ${describe(vectors)}`,
    );
  }
  const named: Record<string, unknown> = typeof vectors.size === "number" ? { "": vectors } : vectors;
  const names = Object.keys(named);
  if (names.length === 0) {
    throw new InvalidArgumentError("config.vectors: expected at least one vector, got none");
  }
  if (names.length > VECTOR_NAMES_MAX) {
    throw new InvalidArgumentError(
      `config.vectors: at most ${VECTOR_NAMES_MAX} vectors, got ${names.length}`,
    );
  }
  const resolved: ResolvedConfig = {
    vectors: {},
    on_disk_payload: true,
    fsync_on_update: false,
    hnsw_config: { ...HNSW_DEFAULTS, ...resolveHnsw("config.hnsw_config", config.hnsw_config) },
    optimizers: resolveOptimizers(config.optimizers),
  };
  const quantization = resolveQuantization("config.quantization_config", config.quantization_config);
  if (quantization !== undefined && quantization !== null) resolved.quantization_config = quantization;
  for (const name of names) resolved.vectors[name] = resolveVectorParams(name, named[name]);
  for (const flag of ["on_disk_payload", "fsync_on_update"] as const) {
    const value = config[flag];
    if (value !== undefined && typeof value !== "boolean") {
      throw new InvalidArgumentError(`config.${flag}: expected a boolean, got ${describe(value)}`);
    }
    if (value !== undefined) resolved[flag] = value;
  }
  return resolved;
}

/** Parameters of one vector after validation, defaults filled in. */
export type ResolvedVectorParams = ResolvedConfig["vectors"][string];

/** Validates the parameters of the vector `name`, or throws an InvalidArgumentError naming the field. */
export function resolveVectorParams(name: string, params: unknown): ResolvedVectorParams {
  const where = `config.vectors[${JSON.stringify(name)}]`;
  if (!isObject(params)) {
    throw new InvalidArgumentError(`${where}: expected vector parameters, got ${describe(params)}`);
  }
  const { size, distance, datatype = "float32", on_disk = false, hnsw_config, quantization_config } = params;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > VECTOR_SIZE_MAX) {
    throw new InvalidArgumentError(
      `${where}.size: expected an integer from 1 to ${VECTOR_SIZE_MAX}, got ${describe(size)}`,
    );
  }
  if (!DISTANCES.includes(distance as Distance)) {
    throw new InvalidArgumentError(
      `${where}.distance: expected one of ${DISTANCES.join(", ")}, got ${describe(distance)}`,
    );
  }
  if (!DATATYPES.includes(datatype as Datatype)) {
    throw new InvalidArgumentError(
      `${where}.datatype: expected one of ${DATATYPES.join(", ")}, got ${describe(datatype)}`,
    );
  }
  if (typeof on_disk !== "boolean") {
    throw new InvalidArgumentError(`${where}.on_disk: expected a boolean, got ${describe(on_disk)}`);
  }
  const resolved: ResolvedVectorParams = {
    size,
    distance: distance as Distance,
    datatype: datatype as Datatype,
    on_disk,
  };
  const hnsw = resolveHnsw(`${where}.hnsw_config`, hnsw_config);
  if (hnsw !== undefined && Object.keys(hnsw).length > 0) resolved.hnsw_config = hnsw;
  const quantization = resolveQuantization(`${where}.quantization_config`, quantization_config);
  if (quantization !== undefined) resolved.quantization_config = quantization;
  return resolved;
}

/** The HNSW parameters of vector `name`: its own over the shard's. */
export function hnswOf(config: ResolvedConfig, name: string): HnswConfig {
  return { ...config.hnsw_config, ...config.vectors[name].hnsw_config };
}

/** The quantization of vector `name`: its own (`null` turns the shard's off), else the shard's. */
export function quantizationOf(config: ResolvedConfig, name: string): QuantizationConfig | undefined {
  const own = config.vectors[name].quantization_config;
  if (own === null) return undefined;
  return own ?? config.quantization_config;
}

const HNSW_LIMITS: Record<keyof Omit<HnswConfig, "on_disk">, [number, number]> = {
  m: [2, 64],
  ef_construct: [4, 4096],
  full_scan_threshold: [0, 2 ** 40],
  max_indexing_threads: [0, 1024],
};

function resolveHnsw(where: string, value: unknown): HnswConfigDiff | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    throw new InvalidArgumentError(`${where}: expected an object, got ${describe(value)}`);
  }
  const out: HnswConfigDiff = {};
  for (const [field, v] of Object.entries(value)) {
    if (field === "on_disk") {
      if (v !== undefined && v !== null && typeof v !== "boolean") {
        throw new InvalidArgumentError(`${where}.on_disk: expected a boolean, got ${describe(v)}`);
      }
      if (typeof v === "boolean") out.on_disk = v;
      continue;
    }
    const limits = HNSW_LIMITS[field as keyof typeof HNSW_LIMITS];
    if (limits === undefined) {
      throw new InvalidArgumentError(
        `${where}: unknown field ${JSON.stringify(field)}; expected ${
          Object.keys(HNSW_LIMITS).join(", ")
        }, on_disk`,
      );
    }
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < limits[0] || v > limits[1]) {
      throw new InvalidArgumentError(
        `${where}.${field}: expected an integer from ${limits[0]} to ${limits[1]}, got ${describe(v)}`,
      );
    }
    out[field as keyof typeof HNSW_LIMITS] = v;
  }
  return out;
}

function resolveQuantization(where: string, value: unknown): QuantizationConfig | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (!isObject(value) || Object.keys(value).length !== 1) {
    throw new InvalidArgumentError(
      `${where}: expected { scalar: {...} } or { binary: {...} }, got ${describe(value)}`,
    );
  }
  const alwaysRam = (method: string, params: Record<string, unknown>): boolean | undefined => {
    const v = params.always_ram;
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") {
      throw new InvalidArgumentError(`${where}.${method}.always_ram: expected a boolean, got ${describe(v)}`);
    }
    return v;
  };
  const [method, params] = Object.entries(value)[0];
  if (!isObject(params)) {
    throw new InvalidArgumentError(`${where}.${method}: expected an object, got ${describe(params)}`);
  }
  if (method === "scalar") {
    if (params.type !== "int8") {
      throw new InvalidArgumentError(`${where}.scalar.type: expected "int8", got ${describe(params.type)}`);
    }
    const quantile = params.quantile;
    if (
      quantile !== undefined && quantile !== null &&
      (typeof quantile !== "number" || !(quantile >= 0.5 && quantile <= 1))
    ) {
      throw new InvalidArgumentError(
        `${where}.scalar.quantile: expected a number from 0.5 to 1, got ${describe(quantile)}`,
      );
    }
    const scalar: { type: "int8"; quantile?: number; always_ram?: boolean } = { type: "int8" };
    if (typeof quantile === "number") scalar.quantile = quantile;
    const ram = alwaysRam("scalar", params);
    if (ram !== undefined) scalar.always_ram = ram;
    return { scalar };
  }
  if (method === "binary") {
    for (const [field, v] of [["encoding", "one_bit"], ["query_encoding", "default"]]) {
      if (params[field] !== undefined && params[field] !== null && params[field] !== v) {
        throw new InvalidArgumentError(
          `${where}.binary.${field}: only ${JSON.stringify(v)} is supported, got ${describe(params[field])}`,
        );
      }
    }
    const ram = alwaysRam("binary", params);
    return { binary: ram === undefined ? {} : { always_ram: ram } };
  }
  throw new InvalidArgumentError(
    `${where}: expected scalar or binary quantization (product and turbo are not supported), got ${
      JSON.stringify(method)
    }`,
  );
}

function resolveOptimizers(value: unknown): ResolvedConfig["optimizers"] {
  const out = { ...OPTIMIZER_DEFAULTS };
  if (value === undefined || value === null) return out;
  if (!isObject(value)) {
    throw new InvalidArgumentError(`config.optimizers: expected an object, got ${describe(value)}`);
  }
  const number = (field: string, min: number, max: number, integer: boolean): number | undefined => {
    const v = value[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !(v >= min && v <= max) || (integer && !Number.isInteger(v))) {
      throw new InvalidArgumentError(
        `config.optimizers.${field}: expected ${
          integer ? "an integer" : "a number"
        } from ${min} to ${max}, got ${describe(v)}`,
      );
    }
    return v;
  };
  const known = [
    "deleted_threshold",
    "vacuum_min_vector_number",
    "default_segment_number",
    "max_segment_size",
    "indexing_threshold",
    "prevent_unoptimized",
  ];
  for (const field of Object.keys(value)) {
    if (!known.includes(field)) {
      throw new InvalidArgumentError(
        `config.optimizers: unknown field ${JSON.stringify(field)}; expected ${known.join(", ")}`,
      );
    }
  }
  if (
    value.prevent_unoptimized !== undefined && value.prevent_unoptimized !== null &&
    value.prevent_unoptimized !== false
  ) {
    throw new InvalidArgumentError(
      `config.optimizers.prevent_unoptimized: deferred points are not supported, got ${
        describe(value.prevent_unoptimized)
      }`,
    );
  }
  out.deleted_threshold = number("deleted_threshold", 0, 1, false) ?? out.deleted_threshold;
  out.vacuum_min_vector_number = number("vacuum_min_vector_number", 0, 2 ** 40, true) ??
    out.vacuum_min_vector_number;
  out.default_segment_number = number("default_segment_number", 0, 1024, true) ?? out.default_segment_number;
  out.max_segment_size = number("max_segment_size", 0, 2 ** 40, true) ?? out.max_segment_size;
  out.indexing_threshold = number("indexing_threshold", 0, 2 ** 40, true) ?? out.indexing_threshold;
  return out;
}

/**
 * The configuration a shard keeps when loaded with `requested`: Qdrant's rule, provided over persisted —
 * the vectors (already checked to match) and each tunable that `given` names.
 */
export function mergeTunables(
  persisted: ResolvedConfig,
  requested: ResolvedConfig,
  given: Readonly<Record<string, unknown>>,
): ResolvedConfig {
  const merged: ResolvedConfig = { ...persisted, vectors: requested.vectors };
  if (given.hnsw_config !== undefined && given.hnsw_config !== null) {
    merged.hnsw_config = requested.hnsw_config;
  }
  if (given.optimizers !== undefined && given.optimizers !== null) merged.optimizers = requested.optimizers;
  if (given.quantization_config !== undefined) {
    if (requested.quantization_config === undefined) delete merged.quantization_config;
    else merged.quantization_config = requested.quantization_config;
  }
  if (given.fsync_on_update !== undefined) merged.fsync_on_update = requested.fsync_on_update;
  return merged;
}

/** Whether two resolved configurations describe the same vectors (names, sizes, distances, datatypes). */
export function sameVectors(a: ResolvedConfig, b: ResolvedConfig): boolean {
  const names = Object.keys(a.vectors);
  if (names.length !== Object.keys(b.vectors).length) return false;
  return names.every((name) => {
    const x = a.vectors[name];
    const y = b.vectors[name];
    return y !== undefined && x.size === y.size && x.distance === y.distance && x.datatype === y.datatype;
  });
}

/** Plain-object test used by every validator. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** A short description of a received value for error messages: `"abc"`, `42`, `an array`, `null`. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (typeof value === "object") return "an object";
  if (typeof value === "bigint") return `${value}n`;
  return String(value);
}
