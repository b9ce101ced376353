/**
 * Full-text matching without a full-text index, as Qdrant Edge 0.9 does it: both the query and the stored string
 * go through Qdrant's default text index tokenizer (`word`, lowercase, no stop words, no stemming, no length
 * limits), and tokens are compared whole. So `text: "good"` does not match `"goodness"`, and `"Hello"` matches
 * `"hello, world!"`.
 *
 * The `word` tokenizer splits on every character that is not alphanumeric in Unicode's sense (Rust's
 * `char::is_alphanumeric`: the Alphabetic property or a number category), so `_`, `-`, `'` and `.` separate
 * tokens, then lowercases each token with the full Unicode mapping.
 *
 * @module
 */

// Shared by every test. `exec` loops reset `lastIndex` before they start, and `matchAll` starts from a copy of
// `lastIndex`, so it is reset there too: a loop that returned early leaves it mid-string.
const TOKEN = /[\p{Alphabetic}\p{N}]+/gu;

/** Splits `text` into lowercase word tokens. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  for (const match of text.matchAll(TOKEN)) tokens.push(match[0].toLowerCase());
  return tokens;
}

/** A compiled text test on one stored string. */
export type TextTest = (stored: string) => boolean;

/** `match.text`: every query token occurs as a token of the stored string, in any order. No tokens: no match. */
export function textAllTokens(query: string): TextTest {
  const wanted = [...new Set(tokenize(query))];
  if (wanted.length === 0) return () => false;
  if (wanted.length === 1) return singleToken(wanted[0]);
  const slot = new Map(wanted.map((token, i) => [token, i]));
  // Reused across calls; a text test runs to completion before the next starts.
  const seen = new Uint8Array(wanted.length);
  return (stored) => {
    seen.fill(0);
    let found = 0;
    TOKEN.lastIndex = 0;
    for (let m = TOKEN.exec(stored); m !== null; m = TOKEN.exec(stored)) {
      const i = slot.get(m[0].toLowerCase());
      if (i !== undefined && seen[i] === 0) {
        seen[i] = 1;
        if (++found === wanted.length) return true;
      }
    }
    return false;
  };
}

/** `match.text_any`: at least one query token occurs as a token of the stored string. No tokens: no match. */
export function textAnyToken(query: string): TextTest {
  const wanted = new Set(tokenize(query));
  if (wanted.size === 0) return () => false;
  return (stored) => {
    TOKEN.lastIndex = 0;
    for (let m = TOKEN.exec(stored); m !== null; m = TOKEN.exec(stored)) {
      if (wanted.has(m[0].toLowerCase())) return true;
    }
    return false;
  };
}

/** `match.phrase`: the query tokens occur consecutively and in order in the stored string. No tokens: no match. */
export function textPhrase(query: string): TextTest {
  const phrase = tokenize(query);
  if (phrase.length === 0) return () => false;
  if (phrase.length === 1) return singleToken(phrase[0]);
  return (stored) => {
    const tokens = tokenize(stored);
    // The phrase is short and the loop is bounded by tokens.length × phrase.length comparisons.
    for (let start = 0; start + phrase.length <= tokens.length; start++) {
      let i = 0;
      while (i < phrase.length && tokens[start + i] === phrase[i]) i++;
      if (i === phrase.length) return true;
    }
    return false;
  };
}

function singleToken(token: string): TextTest {
  return (stored) => {
    TOKEN.lastIndex = 0;
    for (let m = TOKEN.exec(stored); m !== null; m = TOKEN.exec(stored)) {
      if (m[0].toLowerCase() === token) return true;
    }
    return false;
  };
}
