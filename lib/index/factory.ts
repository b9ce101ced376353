/**
 * Creating payload indexes from a field schema, reading them back from their bytes, and finding the facet
 * and order-by views of an index (Qdrant's `facet_index_for` / `numeric_index_for`).
 *
 * @module
 */
import { OperationError } from "../errors.ts";
import { corrupt, IndexReader, KIND_CODES } from "./_codec.ts";
import { BoolIndex } from "./bool_index.ts";
import { FullTextIndex } from "./full_text_index.ts";
import { GeoIndex } from "./geo_index.ts";
import { IntegerIndex } from "./integer_index.ts";
import { MapIndex } from "./map_index.ts";
import { NumericIndex } from "./numeric_index.ts";
import { type FieldSchema, parseFieldSchema, type PayloadSchemaType } from "./schema.ts";
import type { FacetIndex, OrderedIndex, PayloadFieldIndex } from "./types.ts";

/**
 * An empty index for a field schema as `create_field_index` takes it (`"keyword"`, `{ type: "integer",
 * range: false }`, ...); an invalid schema throws an `InvalidArgumentError` naming the problem.
 *
 * @example
 * ```ts
 * import { createFieldIndex } from "./factory.ts";
 * const index = createFieldIndex({ type: "uuid", is_tenant: true });
 * index.add(0, ["550E8400-E29B-41D4-A716-446655440000"]);
 * console.log(index.schemaInfo());
 * // { data_type: "uuid", params: { type: "uuid", is_tenant: true }, points: 1 }
 * ```
 */
export function createFieldIndex(schema: unknown): PayloadFieldIndex {
  return indexFor(parseFieldSchema(schema));
}

function indexFor(schema: FieldSchema): PayloadFieldIndex {
  switch (schema.dataType) {
    case "keyword":
    case "uuid":
      return new MapIndex(schema, schema.dataType);
    case "integer":
      return new IntegerIndex(schema);
    case "float":
    case "datetime":
      return new NumericIndex(schema, schema.dataType);
    case "geo":
      return new GeoIndex(schema);
    case "text":
      return new FullTextIndex(schema);
    case "bool":
      return new BoolIndex(schema);
  }
}

const KIND_NAMES = Object.fromEntries(
  Object.entries(KIND_CODES).map(([name, code]) => [code, name]),
) as Record<
  number,
  PayloadSchemaType
>;

/**
 * Reads an index from the bytes its `serialize()` returned. Damaged bytes (bad magic, version, length,
 * checksum or structure) throw an `OperationError` with status `"CORRUPT"` that says what was wrong.
 *
 * @example
 * ```ts
 * import { createFieldIndex, deserializeFieldIndex } from "./factory.ts";
 * import { nativeLibrary } from "../ffi/loader.ts";
 * await nativeLibrary(); // the checksum is computed natively
 * const index = createFieldIndex("bool");
 * index.add(0, [true]);
 * const copy = deserializeFieldIndex(index.serialize());
 * console.log(copy.filter({ match: { value: true } })!.size); // 1
 * ```
 */
export function deserializeFieldIndex(bytes: Uint8Array): PayloadFieldIndex {
  const reader = new IndexReader(bytes);
  const dataType = KIND_NAMES[reader.kind];
  if (dataType === undefined) throw corrupt(`unknown index kind ${reader.kind}`);
  let schema: FieldSchema;
  try {
    schema = parseFieldSchema(JSON.parse(reader.text("schema")));
  } catch (error) {
    if (error instanceof OperationError) throw error;
    throw corrupt(`the schema is not valid: ${(error as Error).message}`);
  }
  if (schema.dataType !== dataType) throw corrupt(`a ${schema.dataType} schema in a ${dataType} index`);
  try {
    const index = restore(schema, reader);
    reader.end();
    return index;
  } catch (error) {
    if (error instanceof OperationError) throw error;
    throw corrupt(`the ${dataType} index is malformed: ${(error as Error).message}`);
  }
}

function restore(schema: FieldSchema, reader: IndexReader): PayloadFieldIndex {
  switch (schema.dataType) {
    case "keyword":
    case "uuid":
      return MapIndex.restore(schema, schema.dataType, reader);
    case "integer":
      return IntegerIndex.restore(schema, reader);
    case "float":
    case "datetime":
      return NumericIndex.restore(schema, schema.dataType, reader);
    case "geo":
      return GeoIndex.restore(schema, reader);
    case "text":
      return FullTextIndex.restore(schema, reader);
    case "bool":
      return BoolIndex.restore(schema, reader);
  }
}

/**
 * The facet view of an index: keyword, uuid, bool, and integer with `lookup`; undefined otherwise (Qdrant
 * then refuses the facet request).
 *
 * @example
 * ```ts
 * import { createFieldIndex, facetIndexOf } from "./factory.ts";
 * console.log(facetIndexOf(createFieldIndex("float"))); // undefined
 * ```
 */
export function facetIndexOf(index: PayloadFieldIndex): FacetIndex | undefined {
  if (index instanceof IntegerIndex) return index.lookup;
  if (index instanceof MapIndex || index instanceof BoolIndex) return index;
  return undefined;
}

/**
 * The order-by view of an index: float, datetime, and integer with `range`; undefined otherwise (Qdrant
 * then refuses to order by the field).
 *
 * @example
 * ```ts
 * import { createFieldIndex, orderedIndexOf } from "./factory.ts";
 * console.log(orderedIndexOf(createFieldIndex({ type: "integer", range: false }))); // undefined
 * ```
 */
export function orderedIndexOf(index: PayloadFieldIndex): OrderedIndex | undefined {
  if (index instanceof IntegerIndex) return index.range;
  if (index instanceof NumericIndex) return index;
  return undefined;
}
