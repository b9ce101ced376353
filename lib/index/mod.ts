/**
 * Payload indexes: per field, the values of each point offset of a segment, organised to answer Qdrant's
 * field conditions without reading payloads. One index per schema type (keyword, integer, float, geo,
 * text, bool, datetime, uuid), created from the field schema `create_field_index` takes.
 *
 * The caller adds, for each offset in increasing order, the JSON values found at the indexed key; reads
 * conditions in Qdrant's JSON shapes and gets back an {@linkcode OffsetSet} (a sorted array or a bitset),
 * a cardinality estimate, or a per-offset checker; and persists the index with `serialize()` /
 * {@linkcode deserializeFieldIndex} (a snapshot covering offsets [0, n): on open, the caller adds the offsets
 * from n on again). The index classes (`MapIndex`, `IntegerIndex`, `NumericIndex`, `BoolIndex`, `GeoIndex`,
 * `FullTextIndex`) live in their own files; callers use them through {@linkcode PayloadFieldIndex}.
 *
 * @example
 * ```ts
 * import { createFieldIndex, facetIndexOf, topFacetHits } from "./mod.ts";
 * const colors = createFieldIndex("keyword");
 * colors.add(0, ["red"]);
 * colors.add(1, [["red", "green"]]);
 * colors.add(2, ["blue"]);
 * colors.remove(2); // the point moved to another offset
 * console.log([...colors.filter({ match: { value: "red" } })!.toArray()]); // [ 0, 1 ]
 * console.log(colors.estimate({ match: { value: "red" } })); // { min: 2, exp: 2, max: 2 }
 * console.log(topFacetHits(facetIndexOf(colors)!.facet(), 10)); // [ { value: "red", count: 2 }, { value: "green", count: 1 } ]
 * ```
 *
 * @module
 */
export type {
  CardinalityEstimation,
  FacetHit,
  FacetIndex,
  FieldQuery,
  GeoLineString,
  GeoPoint,
  MatchCondition,
  OffsetChecker,
  OrderByOptions,
  OrderedIndex,
  PayloadFieldIndex,
  RangeCondition,
} from "./types.ts";
export type {
  BoolIndexParams,
  DatetimeIndexParams,
  FieldSchema,
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
} from "./schema.ts";
export { parseFieldSchema, schemaInfoOf } from "./schema.ts";
export { bitsetBytes, bitsetCount, bitsetHas, OffsetSet } from "./offset_set.ts";
export { createFieldIndex, deserializeFieldIndex, facetIndexOf, orderedIndexOf } from "./factory.ts";
export { compareFacetValues, mergeFacetHits, topFacetHits } from "./facet.ts";
export { datetimeMicros } from "./numeric_index.ts";
export { Tokenizer } from "./tokenizer.ts";
export { canonicalUuid } from "./uuid.ts";
