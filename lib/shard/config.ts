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
}

/** A configuration after validation: every vector named, every default filled in. */
export interface ResolvedConfig {
  /** Every vector by name, with defaults filled in. */
  vectors: Record<
    string,
    Required<Pick<EdgeVectorParams, "size" | "distance" | "datatype">> & { on_disk: boolean }
  >;
  /** Always true: payloads live on disk and are read on demand. */
  on_disk_payload: boolean;
  /** Whether every update fsyncs the write-ahead log. */
  fsync_on_update: boolean;
}

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
  const resolved: ResolvedConfig = { vectors: {}, on_disk_payload: true, fsync_on_update: false };
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
  const { size, distance, datatype = "float32", on_disk = false } = params;
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
  return { size, distance: distance as Distance, datatype: datatype as Datatype, on_disk };
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
