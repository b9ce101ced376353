/**
 * Payload index schemas as `create_field_index` takes them (Qdrant's `PayloadFieldSchema` JSON): a type name
 * such as `"keyword"`, or an object of parameters with a `type`, such as
 * `{ "type": "integer", "lookup": true, "range": false }`. {@linkcode parseFieldSchema} validates them, and
 * {@linkcode schemaInfoOf} renders what Qdrant Edge's `info().payload_schema[field]` shows.
 *
 * Accepted but without effect here (they steer Qdrant's storage and HNSW): `is_tenant`, `is_principal`,
 * `on_disk`, `memory`, `enable_hnsw`, keyword `prefix` (prefix matching always works). Refused with an
 * {@linkcode InvalidArgumentError} because they are not implemented: text `ascii_folding: true`, language
 * stop-word lists, Snowball stemmers, `scoring`, and `nested`.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";

/**
 * The eight payload schema types.
 *
 * @example
 * ```ts
 * import type { PayloadSchemaType } from "./schema.ts";
 * const type: PayloadSchemaType = "keyword";
 * console.log(type); // "keyword"
 * ```
 */
export type PayloadSchemaType =
  | "keyword"
  | "integer"
  | "float"
  | "geo"
  | "text"
  | "bool"
  | "datetime"
  | "uuid";

/**
 * Qdrant's `Memory` placement of an index (accepted, without effect here).
 *
 * @example
 * ```ts
 * import type { Memory } from "./schema.ts";
 * const memory: Memory = "pinned";
 * console.log(memory); // "pinned"
 * ```
 */
export type Memory = "cold" | "cached" | "pinned";

/**
 * Full-text tokenizers. `multilingual` is approximated (see `tokenizer.ts`).
 *
 * @example
 * ```ts
 * import type { TokenizerType } from "./schema.ts";
 * const tokenizer: TokenizerType = "word";
 * console.log(tokenizer); // "word"
 * ```
 */
export type TokenizerType = "prefix" | "whitespace" | "word" | "multilingual";

/**
 * Parameters every index type accepts (without effect here).
 *
 * @example
 * ```ts
 * import type { StorageIndexParams } from "./schema.ts";
 * const storage: StorageIndexParams = { memory: "cached", enable_hnsw: false };
 * console.log(storage.memory); // "cached"
 * ```
 */
export interface StorageIndexParams {
  /** Deprecated in Qdrant for `memory`. */
  on_disk?: boolean;
  /** Where Qdrant keeps the index. */
  memory?: Memory;
  /** Whether Qdrant builds extra HNSW links for this field. */
  enable_hnsw?: boolean;
}

/**
 * `{ type: "keyword", ... }`.
 *
 * @example
 * ```ts
 * import type { KeywordIndexParams } from "./schema.ts";
 * const params: KeywordIndexParams = { type: "keyword", is_tenant: true };
 * console.log(params.is_tenant); // true
 * ```
 */
export interface KeywordIndexParams extends StorageIndexParams {
  /** The schema type. */
  type: "keyword";
  /** The field separates tenants. */
  is_tenant?: boolean;
  /** Qdrant builds prefix structures (prefix matching works either way here). */
  prefix?: boolean;
}

/**
 * `{ type: "integer", ... }`: `lookup` (exact match) and `range` (range and order by) default to true and
 * cannot both be false.
 *
 * @example
 * ```ts
 * import type { IntegerIndexParams } from "./schema.ts";
 * const params: IntegerIndexParams = { type: "integer", lookup: true, range: false };
 * console.log(params.range); // false
 * ```
 */
export interface IntegerIndexParams extends StorageIndexParams {
  /** The schema type. */
  type: "integer";
  /** Answer `match` conditions. */
  lookup?: boolean | null;
  /** Answer `range` conditions and `order_by`. */
  range?: boolean | null;
  /** The field is the main filter of most queries. */
  is_principal?: boolean | null;
}

/**
 * `{ type: "float", ... }`.
 *
 * @example
 * ```ts
 * import type { FloatIndexParams } from "./schema.ts";
 * const params: FloatIndexParams = { type: "float" };
 * console.log(params.type); // "float"
 * ```
 */
export interface FloatIndexParams extends StorageIndexParams {
  /** The schema type. */
  type: "float";
  /** The field is the main filter of most queries. */
  is_principal?: boolean | null;
}

/**
 * `{ type: "geo", ... }`.
 *
 * @example
 * ```ts
 * import type { GeoIndexParams } from "./schema.ts";
 * const params: GeoIndexParams = { type: "geo" };
 * console.log(params.type); // "geo"
 * ```
 */
export interface GeoIndexParams extends StorageIndexParams {
  /** The schema type. */
  type: "geo";
}

/**
 * `{ type: "bool", ... }`.
 *
 * @example
 * ```ts
 * import type { BoolIndexParams } from "./schema.ts";
 * const params: BoolIndexParams = { type: "bool" };
 * console.log(params.type); // "bool"
 * ```
 */
export interface BoolIndexParams extends StorageIndexParams {
  /** The schema type. */
  type: "bool";
}

/**
 * `{ type: "datetime", ... }`.
 *
 * @example
 * ```ts
 * import type { DatetimeIndexParams } from "./schema.ts";
 * const params: DatetimeIndexParams = { type: "datetime", is_principal: true };
 * console.log(params.is_principal); // true
 * ```
 */
export interface DatetimeIndexParams extends StorageIndexParams {
  /** The schema type. */
  type: "datetime";
  /** The field is the main filter of most queries. */
  is_principal?: boolean | null;
}

/**
 * `{ type: "uuid", ... }`.
 *
 * @example
 * ```ts
 * import type { UuidIndexParams } from "./schema.ts";
 * const params: UuidIndexParams = { type: "uuid", is_tenant: true };
 * console.log(params.is_tenant); // true
 * ```
 */
export interface UuidIndexParams extends StorageIndexParams {
  /** The schema type. */
  type: "uuid";
  /** The field separates tenants. */
  is_tenant?: boolean;
}

/**
 * Custom stop words (language lists are not supported here).
 *
 * @example
 * ```ts
 * import type { StopwordsSet } from "./schema.ts";
 * const stopwords: StopwordsSet = { custom: ["the", "a"] };
 * console.log(stopwords.custom?.length); // 2
 * ```
 */
export interface StopwordsSet {
  /** Language lists: refused here (not implemented). */
  languages?: readonly string[];
  /** Words dropped from documents and queries (lowercased when `lowercase` is on). */
  custom?: readonly string[];
}

/**
 * `{ type: "text", ... }`: tokenizer `word` by default, `lowercase` true by default.
 *
 * @example
 * ```ts
 * import type { TextIndexParams } from "./schema.ts";
 * const params: TextIndexParams = { type: "text", tokenizer: "prefix", min_token_len: 2, phrase_matching: true };
 * console.log(params.tokenizer); // "prefix"
 * ```
 */
export interface TextIndexParams extends StorageIndexParams {
  /** The schema type. */
  type: "text";
  /** How text is split into tokens. */
  tokenizer?: TokenizerType;
  /** Shorter tokens are dropped (in characters). */
  min_token_len?: number;
  /** Longer tokens are dropped (prefix tokenizer: the longest prefix). */
  max_token_len?: number;
  /** Lowercase tokens (default true). */
  lowercase?: boolean;
  /** Only `false` is supported here. */
  ascii_folding?: boolean;
  /** Keep token positions so that `phrase` conditions can match (default false). */
  phrase_matching?: boolean;
  /** Stop words: a custom set (language names are refused). */
  stopwords?: StopwordsSet | string;
  /** Only `{ type: "none" }` is supported here. */
  stemmer?: { type: string; language?: string };
}

/**
 * The parameter objects of `create_field_index`.
 *
 * @example
 * ```ts
 * import type { PayloadSchemaParams } from "./schema.ts";
 * const params: PayloadSchemaParams = { type: "uuid" };
 * console.log(params.type); // "uuid"
 * ```
 */
export type PayloadSchemaParams =
  | KeywordIndexParams
  | IntegerIndexParams
  | FloatIndexParams
  | GeoIndexParams
  | TextIndexParams
  | BoolIndexParams
  | DatetimeIndexParams
  | UuidIndexParams;

/**
 * What `create_field_index` takes: a type name or parameters.
 *
 * @example
 * ```ts
 * import type { PayloadFieldSchema } from "./schema.ts";
 * const schemas: PayloadFieldSchema[] = ["geo", { type: "text", lowercase: false }];
 * console.log(schemas.length); // 2
 * ```
 */
export type PayloadFieldSchema = PayloadSchemaType | PayloadSchemaParams;

/**
 * A validated schema: the type, and the parameters when the schema was given as an object.
 *
 * @example
 * ```ts
 * import { parseFieldSchema } from "./schema.ts";
 * const schema = parseFieldSchema({ type: "integer", range: false });
 * console.log(schema.dataType, schema.params); // integer { type: "integer", range: false }
 * ```
 */
export interface FieldSchema {
  /** The schema type. */
  dataType: PayloadSchemaType;
  /** The parameters as given (unknown keys dropped), or undefined for a bare type name. */
  params?: PayloadSchemaParams;
}

/**
 * One entry of Qdrant Edge's `info().payload_schema`, in Qdrant's REST JSON shape.
 *
 * @example
 * ```ts
 * import type { PayloadIndexInfo } from "./schema.ts";
 * const info: PayloadIndexInfo = { data_type: "keyword", points: 10 };
 * console.log(info.points); // 10
 * ```
 */
export interface PayloadIndexInfo {
  /** The schema type. */
  data_type: PayloadSchemaType;
  /** The parameters, present only when the index was created with a parameter object. */
  params?: Record<string, unknown>;
  /** Points with at least one indexed value. */
  points: number;
}

const TYPES: readonly PayloadSchemaType[] = [
  "keyword",
  "integer",
  "float",
  "geo",
  "text",
  "bool",
  "datetime",
  "uuid",
];
const TOKENIZERS: readonly TokenizerType[] = ["prefix", "whitespace", "word", "multilingual"];
const MEMORIES: readonly Memory[] = ["cold", "cached", "pinned"];

/** Per type, the keys it accepts and how to check them. */
const PARAM_KEYS: Record<PayloadSchemaType, readonly string[]> = {
  keyword: ["is_tenant", "prefix"],
  integer: ["lookup", "range", "is_principal"],
  float: ["is_principal"],
  geo: [],
  text: [
    "tokenizer",
    "min_token_len",
    "max_token_len",
    "lowercase",
    "ascii_folding",
    "phrase_matching",
    "stopwords",
    "stemmer",
  ],
  bool: [],
  datetime: ["is_principal"],
  uuid: ["is_tenant"],
};

/**
 * Validates a field schema given as a type name or a parameter object. Unknown keys are ignored, as Qdrant
 * ignores them; known keys of the wrong type, unknown types and unsupported features throw an
 * {@linkcode InvalidArgumentError} naming the problem.
 *
 * @example
 * ```ts
 * import { parseFieldSchema } from "./schema.ts";
 * console.log(parseFieldSchema("keyword")); // { dataType: "keyword" }
 * try { parseFieldSchema({ type: "integer", lookup: false, range: false }); } catch (e) { console.log((e as Error).message); }
 * ```
 */
export function parseFieldSchema(schema: unknown): FieldSchema {
  if (typeof schema === "string") {
    if (!(TYPES as readonly string[]).includes(schema)) {
      throw new InvalidArgumentError(
        `Invalid field schema: expected one of ${
          TYPES.map((t) => `"${t}"`).join(", ")
        } or a parameter object, received ${JSON.stringify(schema)}`,
      );
    }
    return { dataType: schema as PayloadSchemaType };
  }
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    throw new InvalidArgumentError(
      `Invalid field schema: expected a type name or a parameter object, received ${describe(schema)}`,
    );
  }
  const input = schema as Record<string, unknown>;
  const type = input.type;
  if (typeof type !== "string" || !(TYPES as readonly string[]).includes(type)) {
    throw new InvalidArgumentError(
      `Invalid field schema: "type" must be one of ${TYPES.map((t) => `"${t}"`).join(", ")}, received ${
        describe(type)
      }`,
    );
  }
  const dataType = type as PayloadSchemaType;
  const params: Record<string, unknown> = { type: dataType };
  for (const key of ["on_disk", "enable_hnsw", ...PARAM_KEYS[dataType]]) {
    const value = input[key];
    if (value === undefined) continue;
    const checked = checkParam(dataType, key, value);
    // null means "not set", as Qdrant's Option fields read it.
    if (checked !== undefined && checked !== null) params[key] = checked;
  }
  if (input.memory !== undefined && input.memory !== null) {
    if (!(MEMORIES as readonly unknown[]).includes(input.memory)) {
      throw invalid(dataType, "memory", `one of ${MEMORIES.map((m) => `"${m}"`).join(", ")}`, input.memory);
    }
    params.memory = input.memory;
  }
  if (input.nested !== undefined && input.nested !== null) {
    throw new InvalidArgumentError(
      `Cannot create a ${dataType} index with "nested": indexing array elements as separate entries is not supported`,
    );
  }
  if (dataType === "integer" && params.lookup === false && params.range === false) {
    throw new InvalidArgumentError(
      `Invalid field schema: the 'lookup' and 'range' capabilities of an integer index can't be both disabled`,
    );
  }
  if (dataType === "text") checkTextSupport(input, params);
  return { dataType, params: params as unknown as PayloadSchemaParams };
}

function checkParam(type: PayloadSchemaType, key: string, value: unknown): unknown {
  switch (key) {
    case "tokenizer":
      if (!(TOKENIZERS as readonly unknown[]).includes(value)) {
        throw invalid(type, key, `one of ${TOKENIZERS.map((t) => `"${t}"`).join(", ")}`, value);
      }
      return value;
    case "min_token_len":
    case "max_token_len":
      if (value === null) return undefined;
      if (!Number.isSafeInteger(value) || (value as number) < 0) {
        throw invalid(type, key, "a non-negative integer", value);
      }
      return value;
    case "stopwords":
      return value === null ? undefined : checkStopwords(type, value);
    case "stemmer":
      if (value === null) return undefined;
      if (
        typeof value !== "object" || Array.isArray(value) ||
        typeof (value as { type?: unknown }).type !== "string"
      ) {
        throw invalid(type, key, `an object with a "type"`, value);
      }
      return { ...(value as object) };
    case "lookup":
    case "range":
    case "is_principal":
      if (value !== null && typeof value !== "boolean") throw invalid(type, key, "a boolean or null", value);
      return value;
    default:
      if (value === null) return undefined;
      if (typeof value !== "boolean") throw invalid(type, key, "a boolean", value);
      return value;
  }
}

function checkStopwords(type: PayloadSchemaType, value: unknown): unknown {
  if (typeof value === "string") return value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(type, "stopwords", `a language name or { languages, custom }`, value);
  }
  const set = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of ["languages", "custom"]) {
    const list = set[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || !list.every((word) => typeof word === "string")) {
      throw invalid(type, `stopwords.${key}`, "a list of strings", list);
    }
    // Qdrant keeps these as sets (BTreeSet): sorted, without repeats.
    out[key] = [...new Set(list as string[])].sort();
  }
  return out;
}

function checkTextSupport(input: Record<string, unknown>, params: Record<string, unknown>): void {
  if (params.ascii_folding === true) {
    throw new InvalidArgumentError(
      `Cannot create a text index with "ascii_folding": true: ASCII folding is not supported`,
    );
  }
  const stopwords = params.stopwords;
  if (typeof stopwords === "string" || (stopwords as StopwordsSet | undefined)?.languages !== undefined) {
    throw new InvalidArgumentError(
      `Cannot create a text index with language stop words (${
        JSON.stringify(stopwords)
      }): only { "custom": [...] } stop words are supported`,
    );
  }
  const stemmer = params.stemmer as { type: string } | undefined;
  if (stemmer !== undefined && stemmer.type !== "none") {
    throw new InvalidArgumentError(
      `Cannot create a text index with the ${
        JSON.stringify(stemmer.type)
      } stemmer: stemming is not supported`,
    );
  }
  if (input.scoring !== undefined && input.scoring !== null && input.scoring !== false) {
    throw new InvalidArgumentError(
      `Cannot create a text index with "scoring": ranking text indexes is not supported`,
    );
  }
}

/**
 * The `info().payload_schema[field]` entry of an index with this schema and point count, in Qdrant's REST
 * JSON: `params` only when the schema was a parameter object; for integer, float and datetime the nullable
 * flags are present (as `null` when unset) and a text index always shows its tokenizer.
 *
 * @example
 * ```ts
 * import { parseFieldSchema, schemaInfoOf } from "./schema.ts";
 * console.log(schemaInfoOf(parseFieldSchema({ type: "integer", range: false }), 3));
 * // { data_type: "integer", params: { type: "integer", lookup: null, range: false, is_principal: null }, points: 3 }
 * ```
 */
export function schemaInfoOf(schema: FieldSchema, points: number): PayloadIndexInfo {
  if (schema.params === undefined) return { data_type: schema.dataType, points };
  const given = schema.params as unknown as Record<string, unknown>;
  const params: Record<string, unknown> = { type: schema.dataType };
  switch (schema.dataType) {
    case "integer":
      params.lookup = given.lookup ?? null;
      params.range = given.range ?? null;
      params.is_principal = given.is_principal ?? null;
      break;
    case "float":
    case "datetime":
      params.is_principal = given.is_principal ?? null;
      break;
    case "text":
      params.tokenizer = given.tokenizer ?? "word";
      break;
  }
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined && value !== null && !(key in params)) params[key] = value;
  }
  return { data_type: schema.dataType, params, points };
}

/** The schema as JSON that {@linkcode parseFieldSchema} reads back to the same schema. */
export function schemaToJson(schema: FieldSchema): string {
  return JSON.stringify(schema.params ?? schema.dataType);
}

function invalid(
  type: PayloadSchemaType,
  key: string,
  expected: string,
  received: unknown,
): InvalidArgumentError {
  return new InvalidArgumentError(
    `Invalid ${type} index parameters: "${key}" must be ${expected}, received ${describe(received)}`,
  );
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
