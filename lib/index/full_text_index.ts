/**
 * The full-text index: a vocabulary of tokens (see `tokenizer.ts`), per offset its distinct tokens and the
 * offsets per token (see `_postings.ts`), and, with `phrase_matching`, per offset its tokens in order.
 *
 * Semantics (Qdrant `full_text_index/{read_ops.rs, full_text_index_read.rs, inverted_index/mod.rs,
 * mutable_text_index/lifecycle.rs}`, checked against Qdrant Edge 0.9):
 * - Only strings are indexed. The tokens of all the strings of a point form one document; with
 *   `phrase_matching`, a boundary token (`"\0"`) separates the strings of an array so that a phrase never
 *   spans two of them.
 * - `text`: every query token is a token of the point. A query token the index never saw, or a query without
 *   tokens (only separators or stop words), matches nothing.
 * - `text_any`: at least one query token is a token of the point (unknown tokens are ignored).
 * - `phrase`: the query, tokenized as a document, occurs as consecutive tokens; it needs `phrase_matching`
 *   (without it nothing matches) and every token must be known.
 * - A point counts as indexed when its strings yield at least one token.
 * - Estimates use Qdrant's formulas over exact posting lengths.
 *
 * Serialized sections after the schema: removed bitset (u8), token-set starts and ids (u32), document starts
 * and ids (u32, empty lists without phrase matching), token count (u32, one), tokens (strings).
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { exact, expectedShouldEstimation, forEachValue, IndexBase, MATCH_NONE, matchKind } from "./_base.ts";
import { check, checkStarts, type IndexReader, IndexWriter, KIND_CODES } from "./_codec.ts";
import { ListColumn } from "./_columns.ts";
import { Postings } from "./_postings.ts";
import { bitsetBytes, OffsetSet } from "./offset_set.ts";
import { type FieldSchema, schemaToJson, type TextIndexParams } from "./schema.ts";
import { Tokenizer } from "./tokenizer.ts";
import type { CardinalityEstimation, FieldQuery, OffsetChecker } from "./types.ts";

/** Separates the strings of an array in a phrase-matching document (Qdrant's `ARRAY_BOUNDARY_SENTINEL`). */
const BOUNDARY = "\x00";

/** A parsed query: token ids, or `undefined` when it can match nothing. */
type Query =
  | { kind: "all"; ids: number[] }
  | { kind: "any"; ids: number[] }
  | { kind: "phrase"; ids: number[]; set: number[] };

/**
 * A full-text index.
 *
 * @example
 * ```ts
 * import { FullTextIndex } from "./full_text_index.ts";
 * import { parseFieldSchema } from "./schema.ts";
 * const index = new FullTextIndex(parseFieldSchema({ type: "text", phrase_matching: true }));
 * index.add(0, ["The quick brown fox"]);
 * index.add(1, ["Brown, quick!"]);
 * console.log([...index.filter({ match: { text: "QUICK brown" } })!.toArray()]); // [ 0, 1 ]
 * console.log([...index.filter({ match: { phrase: "quick brown" } })!.toArray()]); // [ 0 ]
 * ```
 */
export class FullTextIndex extends IndexBase {
  readonly #tokenizer: Tokenizer;
  readonly #phrases: boolean;
  readonly #vocab = new Map<string, number>();
  #tokens: string[] = [];
  readonly #postings = new Postings();
  #documents: ListColumn<Uint32Array> = new ListColumn((n) => new Uint32Array(n));
  #points = 0;
  readonly #scratch: string[] = [];
  readonly #document: number[] = [];
  #set: Uint32Array = new Uint32Array(64);
  readonly #emit = (token: string): void => void this.#document.push(this.#register(token));

  /** An empty index for `schema` (a text schema). */
  constructor(schema: FieldSchema) {
    super(schema);
    const params = schema.params as TextIndexParams | undefined;
    this.#tokenizer = new Tokenizer(params);
    this.#phrases = params?.phrase_matching ?? false;
  }

  #register(token: string): number {
    let id = this.#vocab.get(token);
    if (id === undefined) {
      id = this.#tokens.length;
      this.#vocab.set(token, id);
      this.#tokens.push(token);
      this.#postings.reserve(id + 1);
    }
    return id;
  }

  /** Indexes the strings found at the key for `offset` (not below `offsetCount`). */
  add(offset: number, values: readonly unknown[]): void {
    this.beginAdd(offset);
    const strings = this.#scratch;
    strings.length = 0;
    forEachValue(values, (value) => {
      if (typeof value === "string") strings.push(value);
    });
    const document = this.#document;
    document.length = 0;
    const boundaries = this.#phrases && strings.length > 1;
    for (let i = 0; i < strings.length; i++) {
      if (boundaries && i > 0) document.push(this.#register(BOUNDARY));
      this.#tokenizer.document(strings[i], this.#emit);
    }
    // The token set: the document's ids sorted, without repeats.
    if (this.#set.length < document.length) this.#set = new Uint32Array(document.length * 2);
    const set = this.#set.subarray(0, document.length);
    for (let i = 0; i < document.length; i++) set[i] = document[i];
    set.sort();
    let distinct = 0;
    for (let i = 0; i < set.length; i++) if (i === 0 || set[i] !== set[i - 1]) set[distinct++] = set[i];
    this.#postings.append(offset, set.subarray(0, distinct));
    if (this.#phrases) this.#documents.append(offset, document);
    if (this.#hasToken(offset)) this.#points++;
  }

  /** Whether `offset` has a token other than the array boundary (Qdrant Edge counts such points only). */
  #hasToken(offset: number): boolean {
    const count = this.#postings.forward.count(offset);
    const boundary = this.#vocab.get(BOUNDARY);
    if (count !== 1 || boundary === undefined) return count > 0;
    return this.#postings.forward.data[this.#postings.forward.start(offset)] !== boundary;
  }

  /** Updates the statistics when `offset` is removed (once per offset). */
  protected onRemove(offset: number): void {
    if (this.#hasToken(offset)) this.#points--;
    this.#postings.uncount(offset);
  }

  /** Points (not removed) whose strings yield at least one token. */
  indexedPointCount(): number {
    return this.#points;
  }

  /** Distinct tokens of `offset`. */
  valuesCount(offset: number): number {
    return this.isRemoved(offset) ? 0 : this.#postings.forward.count(offset);
  }

  /** The query of a `text`, `text_any` or `phrase` match; `null` for other conditions, `undefined` for none. */
  #parse(condition: FieldQuery): Query | undefined | null {
    const kind = matchKind(condition);
    if (kind !== "text" && kind !== "text_any" && kind !== "phrase") return null;
    const text = (condition.match as Record<string, unknown>)[kind];
    if (typeof text !== "string") {
      throw new InvalidArgumentError(`Invalid field condition: "${kind}" must be a string`);
    }
    const tokens: string[] = [];
    if (kind === "phrase") this.#tokenizer.document(text, (token) => void tokens.push(token));
    else this.#tokenizer.query(text, (token) => void tokens.push(token));
    const ids: number[] = [];
    for (const token of tokens) {
      const id = this.#vocab.get(token);
      if (id !== undefined) ids.push(id);
      else if (kind !== "text_any") return undefined;
    }
    const set = [...new Set(ids)].sort((a, b) => a - b);
    if (set.length === 0) return undefined;
    if (kind === "phrase") return this.#phrases ? { kind: "phrase", ids, set } : undefined;
    return { kind: kind === "text" ? "all" : "any", ids: set };
  }

  /** The offsets matching `condition`, or null when it is not a full-text match. */
  filter(condition: FieldQuery): OffsetSet | null {
    const query = this.#parse(condition);
    if (query === null) return null;
    if (query === undefined) return OffsetSet.empty(this.offsets);
    const tokens = this.#tokens.length;
    switch (query.kind) {
      case "all":
        return this.#postings.intersect(query.ids, tokens, this.removed, this.offsets);
      case "any":
        return this.#postings.union(query.ids, tokens, this.removed, this.offsets);
      case "phrase":
        return this.#postings.intersect(
          query.set,
          tokens,
          this.removed,
          this.offsets,
          (offset) => this.#hasPhrase(offset, query.ids),
        );
    }
  }

  /** Estimated matches of `condition` (Qdrant's formulas), or null when it is not a full-text match. */
  estimate(condition: FieldQuery): CardinalityEstimation | null {
    const query = this.#parse(condition);
    if (query === null) return null;
    if (query === undefined || this.#points === 0) return exact(0);
    const lengths = (query.kind === "phrase" ? query.set : query.ids).map((id) => this.#postings.counts[id]);
    if (lengths.length === 1) {
      return query.kind === "phrase" ? { min: 0, exp: lengths[0], max: lengths[0] } : exact(lengths[0]);
    }
    if (query.kind === "any") {
      return {
        min: Math.max(...lengths),
        exp: expectedShouldEstimation(lengths, this.#points),
        max: Math.min(lengths.reduce((a, b) => a + b, 0), this.#points),
      };
    }
    let fraction = 1;
    for (const length of lengths) fraction *= length / this.#points;
    let exp = Math.trunc(fraction * this.#points);
    // Qdrant divides a phrase's estimate by the square of its length.
    if (query.kind === "phrase") exp = Math.floor(exp / (query.ids.length * query.ids.length));
    return { min: 0, exp, max: Math.min(...lengths) };
  }

  /** A per-offset check of `condition`, or null when it is not a full-text match. */
  checker(condition: FieldQuery): OffsetChecker | null {
    const query = this.#parse(condition);
    if (query === null) return null;
    if (query === undefined) return MATCH_NONE;
    const postings = this.#postings;
    return (offset) => {
      if (offset >= this.offsets || this.isRemoved(offset)) return false;
      switch (query.kind) {
        case "all":
          return query.ids.every((id) => postings.contains(offset, id, true));
        case "any":
          return query.ids.some((id) => postings.contains(offset, id, true));
        case "phrase":
          return this.#hasPhrase(offset, query.ids);
      }
    };
  }

  /** Whether the document of `offset` has `phrase` as consecutive tokens. */
  #hasPhrase(offset: number, phrase: readonly number[]): boolean {
    const data = this.#documents.data;
    const start = this.#documents.start(offset);
    const last = this.#documents.end(offset) - phrase.length;
    for (let i = start; i <= last; i++) {
      let k = 0;
      while (k < phrase.length && data[i + k] === phrase[k]) k++;
      if (k === phrase.length) return true;
    }
    return false;
  }

  /** The index's bytes (see `_codec.ts`). */
  serialize(): Uint8Array {
    this.#documents.extend(this.offsets);
    const forward = this.#postings.forward;
    return new IndexWriter()
      .text(schemaToJson(this.schema))
      .u8(this.removedView())
      .u32(forward.startsView())
      .u32(forward.dataView())
      .u32(this.#documents.startsView())
      .u32(this.#documents.dataView())
      .u32(Uint32Array.of(this.#tokens.length))
      .strings(this.#tokens)
      .finish(KIND_CODES.text, this.offsets);
  }

  /** Restores a text index from its sections (the reader is positioned after the schema). */
  static restore(schema: FieldSchema, reader: IndexReader): FullTextIndex {
    const index = new FullTextIndex(schema);
    const n = reader.offsets;
    const removed = reader.u8("removed");
    check(removed.length === bitsetBytes(n), `removed bitset has ${removed.length} bytes for ${n} offsets`);
    const setStarts = reader.u32("token-set starts");
    const setIds = reader.u32("token-set ids");
    const docStarts = reader.u32("document starts");
    const docIds = reader.u32("document ids");
    const meta = reader.u32("token count");
    check(meta.length === 1, `token count section has ${meta.length} entries`);
    const tokens = reader.strings("tokens", meta[0]);
    for (let i = 0; i < tokens.length; i++) {
      check(!index.#vocab.has(tokens[i]), `token ${JSON.stringify(tokens[i])} appears twice`);
      index.#vocab.set(tokens[i], i);
    }
    index.#tokens = tokens;
    index.restoreRemoved(removed, n);
    index.#postings.restore(setStarts, setIds, n, tokens.length, (o) => index.isRemoved(o));
    checkStarts(docStarts, n, docIds.length, "documents");
    for (let o = 0; o < n; o++) {
      for (let i = setStarts[o] + 1; i < setStarts[o + 1]; i++) {
        check(setIds[i - 1] < setIds[i], `the token set of offset ${o} is not sorted and distinct`);
      }
      for (let i = docStarts[o]; i < docStarts[o + 1]; i++) {
        check(docIds[i] < tokens.length, `offset ${o} has token id ${docIds[i]}, there are ${tokens.length}`);
      }
    }
    check(index.#phrases || docIds.length === 0, `documents stored without phrase matching`);
    index.#documents = new ListColumn((size) => new Uint32Array(size), docStarts, docIds);
    for (let o = 0; o < n; o++) if (!index.isRemoved(o) && index.#hasToken(o)) index.#points++;
    return index;
  }
}
