/**
 * Full-text tokenizers as Qdrant's text index runs them (Qdrant `full_text_index/tokenizers/mod.rs` and
 * `tokens_processor.rs`, checked against Qdrant Edge 0.9):
 *
 * - `word` (default): splits on every character that is not alphanumeric in Unicode's sense (Rust's
 *   `char::is_alphanumeric`), so `_`, `-`, `'` and `.` separate tokens.
 * - `whitespace`: splits on Unicode white space (`str::split_whitespace`).
 * - `prefix`: a document word yields its prefixes of `min_token_len` (default 1) to `max_token_len` characters
 *   (the whole word when shorter); a query word is kept whole, cut to `max_token_len` characters, and is not
 *   checked against stop words.
 * - `multilingual`: APPROXIMATED. Qdrant runs charabia (dictionary segmentation for Chinese, Japanese, Thai;
 *   lossy normalization). Here: `Intl.Segmenter` word boundaries, then the `word` split, diacritics removed
 *   (NFKD without combining marks), and tokens without a letter dropped. Latin text tokenizes as in Qdrant;
 *   CJK and Thai segmentation may differ.
 *
 * Every token is then lowercased (when `lowercase`, the default), dropped if it is a stop word, and dropped
 * if shorter than `min_token_len` or longer than `max_token_len` characters (code points).
 *
 * @module
 */
import type { TextIndexParams } from "./schema.ts";

const NOT_ALPHANUMERIC = /[^\p{Alphabetic}\p{N}]+/u;
const WHITE_SPACE = /\p{White_Space}+/u;
const LETTER = /\p{Alphabetic}/u;
const COMBINING_MARK = /\p{M}+/gu;

/**
 * Splits text into tokens for a text index with the given parameters.
 *
 * @example
 * ```ts
 * import { Tokenizer } from "./tokenizer.ts";
 * const tokens: string[] = [];
 * new Tokenizer({ type: "text", tokenizer: "prefix", max_token_len: 3 }).document("Hello", (t) => void tokens.push(t));
 * console.log(tokens); // [ "h", "he", "hel" ]
 * ```
 */
export class Tokenizer {
  readonly #kind: NonNullable<TextIndexParams["tokenizer"]>;
  readonly #lowercase: boolean;
  readonly #min: number | undefined;
  readonly #max: number | undefined;
  readonly #stopwords: Set<string>;
  #segmenter: Intl.Segmenter | undefined;

  /** A tokenizer for `params` (the defaults of Qdrant's text index when absent). */
  constructor(params?: TextIndexParams) {
    this.#kind = params?.tokenizer ?? "word";
    this.#lowercase = params?.lowercase ?? true;
    this.#min = params?.min_token_len;
    this.#max = params?.max_token_len;
    const custom = typeof params?.stopwords === "object" ? params.stopwords.custom ?? [] : [];
    this.#stopwords = new Set(custom.map((word) => (this.#lowercase ? word.toLowerCase() : word)));
  }

  /** Qdrant's `process_token`: lowercase, stop words, length limits. */
  #process(token: string, checkMax: boolean): string | undefined {
    if (token.length === 0) return undefined;
    const processed = this.#lowercase ? token.toLowerCase() : token;
    if (this.#stopwords.has(processed)) return undefined;
    if (this.#min !== undefined || (checkMax && this.#max !== undefined)) {
      const length = codePoints(processed);
      if (this.#min !== undefined && length < this.#min) return undefined;
      if (checkMax && this.#max !== undefined && length > this.#max) return undefined;
    }
    return processed;
  }

  /** Calls `emit` with each token of a stored document, in order. */
  document(text: string, emit: (token: string) => void): void {
    switch (this.#kind) {
      case "whitespace":
        return this.#split(text, WHITE_SPACE, emit);
      case "word":
        return this.#split(text, NOT_ALPHANUMERIC, emit);
      case "multilingual":
        return this.#multilingual(text, emit);
      case "prefix":
        return this.#prefixDocument(text, emit);
    }
  }

  /** Calls `emit` with each token of a query (differs from `document` for the prefix tokenizer). */
  query(text: string, emit: (token: string) => void): void {
    if (this.#kind !== "prefix") return this.document(text, emit);
    const max = this.#max ?? Infinity;
    for (const word of text.split(NOT_ALPHANUMERIC)) {
      if (word.length === 0) continue;
      const lowered = this.#lowercase ? word.toLowerCase() : word;
      if (this.#min !== undefined && codePoints(lowered) < this.#min) continue;
      emit(firstCodePoints(lowered, max));
    }
  }

  #split(text: string, separator: RegExp, emit: (token: string) => void): void {
    for (const piece of text.split(separator)) {
      const token = this.#process(piece, true);
      if (token !== undefined) emit(token);
    }
  }

  #prefixDocument(text: string, emit: (token: string) => void): void {
    const min = this.#min ?? 1;
    const max = this.#max ?? Infinity;
    for (const piece of text.split(NOT_ALPHANUMERIC)) {
      const word = this.#process(piece, false);
      if (word === undefined) continue;
      const chars = Array.from(word);
      // Prefixes of n characters while the word is longer; the whole word ends the run.
      for (let n = min; n <= max; n++) {
        if (n >= chars.length) {
          emit(word);
          break;
        }
        emit(chars.slice(0, n).join(""));
      }
    }
  }

  #multilingual(text: string, emit: (token: string) => void): void {
    this.#segmenter ??= new Intl.Segmenter(undefined, { granularity: "word" });
    for (const { segment } of this.#segmenter.segment(text)) {
      for (const piece of segment.split(NOT_ALPHANUMERIC)) {
        const lossy = piece.normalize("NFKD").replace(COMBINING_MARK, "");
        if (!LETTER.test(lossy)) continue;
        const token = this.#process(lossy, true);
        if (token !== undefined) emit(token);
      }
    }
  }
}

function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

function firstCodePoints(text: string, n: number): string {
  if (n === Infinity || codePoints(text) <= n) return text;
  return Array.from(text).slice(0, n).join("");
}
