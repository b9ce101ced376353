/**
 * Payload indexes (`lib/index`): every index type against a brute-force scan of the same values, the
 * Qdrant semantics that were checked against Qdrant Edge 0.9 (fixed cases below, each noted "engine"),
 * persistence, and damaged bytes.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError, OperationError } from "../lib/errors.ts";
import { nativeLibrary } from "../lib/ffi/loader.ts";
import {
  bitsetBytes,
  canonicalUuid,
  createFieldIndex,
  datetimeMicros,
  deserializeFieldIndex,
  facetIndexOf,
  type FieldQuery,
  mergeFacetHits,
  OffsetSet,
  orderedIndexOf,
  parseFieldSchema,
  type PayloadFieldIndex,
  Tokenizer,
  topFacetHits,
} from "../lib/index/mod.ts";
import { rng } from "./_helpers.ts";

before(async () => void (await nativeLibrary()));

type Values = unknown[];

/** Builds an index from per-offset values (undefined: the offset has no payload for the field). */
function build(schema: unknown, rows: (Values | undefined)[]): PayloadFieldIndex {
  const index = createFieldIndex(schema);
  rows.forEach((values, offset) => {
    if (values !== undefined) index.add(offset, values);
  });
  return index;
}

function offsets(index: PayloadFieldIndex, condition: FieldQuery): number[] {
  const result = index.filter(condition);
  assert.ok(result !== null, `expected ${JSON.stringify(condition)} to be answered`);
  return [...result.toArray()];
}

/** The offsets (not removed) whose flattened values satisfy `test`. */
function bruteForce(
  rows: (Values | undefined)[],
  removed: Set<number>,
  test: (value: unknown) => boolean,
): number[] {
  const out: number[] = [];
  rows.forEach((values, offset) => {
    if (values === undefined || removed.has(offset)) return;
    const flat = values.flatMap((v) => (Array.isArray(v) ? v : [v]));
    if (flat.some(test)) out.push(offset);
  });
  return out;
}

/** Checks filter(), checker(), the bitset form and the estimate of `condition` against `expected`. */
function assertAnswers(
  index: PayloadFieldIndex,
  condition: FieldQuery,
  expected: number[],
  label = "",
): void {
  const what = `${label} ${JSON.stringify(condition)}`;
  const result = index.filter(condition)!;
  assert.deepEqual([...result.toArray()], expected, what);
  const bits = result.toBitset();
  assert.equal(bits.length, bitsetBytes(index.offsetCount), what);
  for (let o = 0; o < index.offsetCount; o++) {
    assert.equal((bits[o >> 3] >> (o & 7)) & 1, expected.includes(o) ? 1 : 0, `${what} bit ${o}`);
  }
  const check = index.checker(condition)!;
  const viaChecker = [];
  for (let o = 0; o < index.offsetCount; o++) if (check(o)) viaChecker.push(o);
  assert.deepEqual(viaChecker, expected, `${what} (checker)`);
  const estimate = index.estimate(condition)!;
  assert.ok(
    estimate.min <= estimate.exp && estimate.exp <= estimate.max,
    `${what} estimate ${JSON.stringify(estimate)}`,
  );
  assert.ok(
    estimate.min <= expected.length && expected.length <= estimate.max,
    `${what} ${expected.length} outside ${JSON.stringify(estimate)}`,
  );
}

/** Removes a few random offsets from both the index and the model. */
function removeSome(index: PayloadFieldIndex, random: () => number, count: number): Set<number> {
  const removed = new Set<number>();
  for (let i = 0; i < count; i++) {
    const offset = Math.floor(random() * index.offsetCount);
    index.remove(offset);
    removed.add(offset);
  }
  return removed;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

describe("OffsetSet", () => {
  it("converts between a sorted array and a little-endian bitset", () => {
    const set = OffsetSet.fromSorted(Uint32Array.of(0, 3, 8, 15), 17);
    assert.deepEqual([...set.toBitset()], [0b0000_1001, 0b1000_0001, 0]);
    const back = OffsetSet.fromBitset(Uint8Array.of(0b0000_1001, 0b1000_0001, 0), 17);
    assert.deepEqual([...back.toArray()], [0, 3, 8, 15]);
    assert.equal(back.size, 4);
    assert.ok(back.has(15) && !back.has(16) && !back.has(-1));
    assert.equal(set.toBitset(8).length, 8);
  });

  it("refuses offsets outside its universe", () => {
    assert.throws(() => OffsetSet.fromSorted(Uint32Array.of(5), 5), RangeError);
    assert.throws(() => OffsetSet.fromBitset(new Uint8Array(1), 9), RangeError);
  });
});

describe("field schemas", () => {
  it("parse type names and parameter objects, dropping unknown keys", () => {
    assert.deepEqual(parseFieldSchema("datetime"), { dataType: "datetime" });
    assert.deepEqual(parseFieldSchema({ type: "keyword", is_tenant: true, future_flag: 1 }), {
      dataType: "keyword",
      params: { type: "keyword", is_tenant: true },
    });
  });

  it("reject unknown types, wrong parameter types and unsupported features with InvalidArgumentError", () => {
    const bad: [unknown, RegExp][] = [
      ["keywords", /expected one of "keyword"/],
      [{ type: "number" }, /"type" must be one of/],
      [42, /received 42/],
      [{ type: "integer", lookup: false, range: false }, /can't be both disabled/],
      [{ type: "text", tokenizer: "ngram" }, /"tokenizer" must be one of/],
      [{ type: "text", min_token_len: -1 }, /"min_token_len" must be a non-negative integer/],
      [{ type: "keyword", is_tenant: "yes" }, /"is_tenant" must be a boolean/],
      [{ type: "text", ascii_folding: true }, /ASCII folding is not supported/],
      [{ type: "text", stopwords: "english" }, /language stop words/],
      [{ type: "text", stemmer: { type: "snowball", language: "english" } }, /stemming is not supported/],
      [{ type: "geo", nested: "offers" }, /"nested"/],
      [{ type: "uuid", memory: "disk" }, /"memory" must be one of/],
    ];
    for (const [schema, message] of bad) {
      assert.throws(
        () => createFieldIndex(schema),
        (e) => e instanceof InvalidArgumentError && message.test(e.message),
      );
    }
  });

  it("schemaInfo() shows params only for parameter objects, with Qdrant's nullable flags (engine)", () => {
    assert.deepEqual(build("keyword", [["a"], [5], [["a", "b"]]]).schemaInfo(), {
      data_type: "keyword",
      points: 2,
    });
    assert.deepEqual(build({ type: "integer", lookup: true, range: false }, [[1]]).schemaInfo(), {
      data_type: "integer",
      params: { type: "integer", lookup: true, range: false, is_principal: null },
      points: 1,
    });
    assert.deepEqual(build({ type: "text", phrase_matching: true }, [["x"]]).schemaInfo(), {
      data_type: "text",
      params: { type: "text", tokenizer: "word", phrase_matching: true },
      points: 1,
    });
    assert.deepEqual(build({ type: "uuid", is_tenant: true }, [["nope"]]).schemaInfo().points, 0);
  });
});

describe("offsets", () => {
  it("are append-only: adding at or below a covered offset throws, gaps are empty", () => {
    const index = build("keyword", [["a"], undefined, undefined, ["a"]]);
    assert.equal(index.offsetCount, 4);
    assert.throws(() => index.add(2, ["a"]), InvalidArgumentError);
    assert.throws(() => index.add(-1, ["a"]), InvalidArgumentError);
    assert.throws(() => index.remove(4), InvalidArgumentError);
    assert.deepEqual(offsets(index, { match: { value: "a" } }), [0, 3]);
  });

  it("remove() takes an offset out of answers, estimates, counts and facets, once", () => {
    const index = build("keyword", [["a"], ["a", "b"], ["b"]]);
    index.remove(1);
    index.remove(1);
    assert.ok(index.isRemoved(1) && !index.isRemoved(0));
    assert.deepEqual(offsets(index, { match: { value: "a" } }), [0]);
    assert.deepEqual(index.estimate({ match: { value: "a" } }), { min: 1, exp: 1, max: 1 });
    assert.equal(index.indexedPointCount(), 2);
    assert.equal(index.valuesCount(1), 0);
    assert.deepEqual(facetIndexOf(index)!.facet(), [{ value: "a", count: 1 }, { value: "b", count: 1 }]);
  });
});

describe("keyword index", () => {
  const WORDS = ["a", "b", "ab", "abc", "B", "é", "😀", "", "ａ", "a b"];

  it("answers value, any, except and prefix like a scan of the string values", () => {
    const random = rng(11);
    const rows: Values[] = Array.from({ length: 1500 }, () => {
      const r = random();
      if (r < 0.1) return [];
      if (r < 0.6) return [pick(random, [...WORDS, 3, true, null])];
      return [Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(random, [...WORDS, 7]))];
    });
    const index = build("keyword", rows);
    const removed = removeSome(index, random, 50);
    const strings = (v: unknown): v is string => typeof v === "string";
    for (let q = 0; q < 60; q++) {
      const word = pick(random, WORDS);
      const list = Array.from({ length: Math.floor(random() * 3) }, () => pick(random, WORDS));
      assertAnswers(index, { match: { value: word } }, bruteForce(rows, removed, (v) => v === word));
      assertAnswers(
        index,
        { match: { any: list } },
        bruteForce(rows, removed, (v) => strings(v) && list.includes(v)),
      );
      assertAnswers(
        index,
        { match: { except: list } },
        bruteForce(rows, removed, (v) => strings(v) && !list.includes(v)),
      );
      const prefix = pick(random, ["", "a", "ab", "😀", "é", "z"]);
      assertAnswers(
        index,
        { match: { prefix } },
        bruteForce(rows, removed, (v) => strings(v) && v.startsWith(prefix)),
      );
    }
  });

  it("leaves other types to the payload check (engine: value 5 on a keyword index scans payloads)", () => {
    const index = build("keyword", [["5"], [5]]);
    assert.equal(index.filter({ match: { value: 5 } }), null);
    assert.equal(index.filter({ match: { any: [5] } }), null);
    assert.equal(index.filter({ match: { except: [5] } }), null);
    assert.equal(index.filter({ match: { text: "5" } }), null);
    assert.equal(index.filter({ range: { gt: 1 } }), null);
    assert.equal(index.checker({ match: { value: true } }), null);
    assert.deepEqual(offsets(index, { match: { any: [] } }), []);
  });

  it("except never matches points without string values (engine)", () => {
    // Engine: [{k:"a"},{k:5},{k:["a","b"]},{k:null},{},{k:["b",5]},{k:[["a"]]},{k:"A"}], except ["a"] -> ids 3, 6, 8.
    const index = build("keyword", [["a"], [5], [["a", "b"]], [null], [], [["b", 5]], [[["a"]]], ["A"]]);
    assert.deepEqual(offsets(index, { match: { except: ["a"] } }), [2, 5, 7]);
    assert.equal(index.indexedPointCount(), 4);
  });

  it("facets count each value once per point, ties by code point order (engine)", () => {
    const index = build("keyword", [["b"], ["a"], [["a", "a", "c"]], ["é"], ["z"], ["😀"], ["Ａ"], ["B"]]);
    const hits = topFacetHits(facetIndexOf(index)!.facet(), 20).map((h) => [h.value, h.count]);
    assert.deepEqual(hits, [["a", 2], ["B", 1], ["b", 1], ["c", 1], ["z", 1], ["é", 1], ["Ａ", 1], [
      "😀",
      1,
    ]]);
    const live = new Uint8Array(1);
    live[0] = 0b0000_0110; // offsets 1 and 2
    assert.deepEqual(topFacetHits(facetIndexOf(index)!.facet(live), 2), [{ value: "a", count: 2 }, {
      value: "c",
      count: 1,
    }]);
    assert.deepEqual(
      topFacetHits(
        mergeFacetHits([[{ value: "x", count: 1 }], [{ value: "x", count: 2 }, { value: "y", count: 3 }]]),
        1,
      ),
      [{ value: "x", count: 3 }],
    );
  });
});

describe("integer index", () => {
  const VALUES = [-3, -1, 0, 1, 2, 3, 5, 1.5, 2.0, "3", true, 1e300, null, 9007199254740992];
  const isInt = (v: unknown): v is number =>
    typeof v === "number" && Number.isInteger(v) && Math.abs(v) <= 2 ** 63;

  it("answers value, any, except and range like a scan of the integral values", () => {
    const random = rng(12);
    const rows: Values[] = Array.from(
      { length: 1200 },
      () =>
        random() < 0.5
          ? [pick(random, VALUES)]
          : [Array.from({ length: Math.floor(random() * 4) }, () => pick(random, VALUES))],
    );
    const index = build("integer", rows);
    const removed = removeSome(index, random, 40);
    for (let q = 0; q < 60; q++) {
      const value = pick(random, [-3, 0, 1, 2, 3, 5, 4]);
      const list = [pick(random, [0, 1, 2]), pick(random, [5, -3])];
      assertAnswers(index, { match: { value } }, bruteForce(rows, removed, (v) => v === value));
      assertAnswers(
        index,
        { match: { any: list } },
        bruteForce(rows, removed, (v) => isInt(v) && list.includes(v)),
      );
      assertAnswers(
        index,
        { match: { except: list } },
        bruteForce(rows, removed, (v) => isInt(v) && !list.includes(v)),
      );
      // One bound per side: filter() reads gt before gte and lt before lte, as Qdrant's index.
      const low = pick(random, [-2.5, -1, 0, 1.5, 2]);
      const high = pick(random, [0.5, 2, 3, 4.5]);
      const range = random() < 0.5 ? { gt: low, lte: high } : { gte: low, lt: high };
      const test = (v: number) =>
        ("gt" in range ? v > range.gt! : v >= range.gte!) &&
        ("lt" in range ? v < range.lt! : v <= range.lte!);
      assertAnswers(index, { range }, bruteForce(rows, removed, (v) => isInt(v) && test(v)));
    }
  });

  it("rounds fractional bounds away from the range and compares datetimes as microseconds (engine)", () => {
    const index = build("integer", [[1], [1.5], [2.0], [[3, 4]], ["5"], [true], [-7], [2 ** 53], [1e300]]);
    assert.deepEqual(offsets(index, { range: { gte: 1.2 } }), [2, 3, 7]);
    assert.deepEqual(offsets(index, { range: { lt: 2 } }), [0, 6]);
    assert.deepEqual(offsets(index, { range: { gt: 1, lt: 2 } }), []);
    assert.deepEqual(offsets(index, { range: { gte: "1970-01-01T00:00:00Z" } }), [0, 2, 3, 7]);
    assert.equal(index.indexedPointCount(), 5);
  });

  it("filter() takes gt over gte, the checker applies every bound (engine)", () => {
    const index = build("integer", Array.from({ length: 10 }, (_, i) => [i]));
    assert.deepEqual(offsets(index, { range: { gt: 1, gte: 5 } }), [2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(offsets(index, { range: { lt: 8, lte: 3 } }), [0, 1, 2, 3, 4, 5, 6, 7]);
    const check = index.checker({ range: { gt: 1, gte: 5 } })!;
    assert.deepEqual([...Array(10).keys()].filter(check), [5, 6, 7, 8, 9]);
  });

  it("without lookup leaves matches to the payload, without range leaves ranges (engine)", () => {
    const rangeOnly = build({ type: "integer", lookup: false }, [[1], [2]]);
    assert.equal(rangeOnly.filter({ match: { value: 1 } }), null);
    assert.equal(facetIndexOf(rangeOnly), undefined);
    const lookupOnly = build({ type: "integer", range: false }, [[1], [2]]);
    assert.equal(lookupOnly.filter({ range: { gt: 1 } }), null);
    assert.equal(orderedIndexOf(lookupOnly), undefined);
    assert.deepEqual(offsets(lookupOnly, { match: { value: 2 } }), [1]);
  });

  it("answers a UUID string match by the UUID's low 64 bits, as Qdrant's numeric index does (engine)", () => {
    const index = build({ type: "integer", lookup: false }, [[5], [6], [
      "00000000-0000-0000-0000-000000000005",
    ]]);
    assert.deepEqual(offsets(index, { match: { value: "00000000-0000-0000-0000-000000000005" } }), [0]);
    const floats = build("float", [[5], [6]]);
    assert.deepEqual(offsets(floats, { match: { value: "00000000-0000-0000-0000-000000000005" } }), [0]);
    assert.equal(floats.filter({ match: { value: "not a uuid" } }), null);
  });

  it("facets and orders by value, a point once per distinct value (engine)", () => {
    const index = build("integer", [[3], [[1, 5]], [2.5], [[5, 5]], [-1]]);
    assert.deepEqual(topFacetHits(facetIndexOf(index)!.facet(), 10), [
      { value: 5, count: 2 },
      { value: -1, count: 1 },
      { value: 1, count: 1 },
      { value: 3, count: 1 },
    ]);
    const walk = (options: object) => {
      const seen: [number, number][] = [];
      orderedIndexOf(index)!.forEachOrdered(options, (value, offset) => void seen.push([offset, value]));
      return seen;
    };
    assert.deepEqual(walk({}), [[4, -1], [1, 1], [0, 3], [1, 5], [3, 5]]);
    assert.deepEqual(walk({ direction: "desc" }), [[3, 5], [1, 5], [0, 3], [1, 1], [4, -1]]);
    assert.deepEqual(walk({ start_from: 2.5 }), [[0, 3], [1, 5], [3, 5]]);
    assert.deepEqual(walk({ direction: "desc", start_from: 3 }), [[0, 3], [1, 1], [4, -1]]);
  });
});

describe("float index", () => {
  it("answers ranges like a scan of the numbers, before and after the sorted part is rebuilt", () => {
    const random = rng(13);
    const rows: Values[] = [];
    const index = createFieldIndex("float");
    let removed = new Set<number>();
    // Enough offsets that later additions land in the unsorted tail and then trigger a merge.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 6000; i++) {
        const values = random() < 0.2
          ? [Array.from({ length: 3 }, () => Math.round(random() * 200 - 100) / 4)]
          : [pick(random, [Math.round(random() * 200 - 100) / 4, "1", false, -0])];
        rows.push(values);
        index.add(rows.length - 1, values);
      }
      removed = new Set([...removed, ...removeSome(index, random, 30)]);
      for (let q = 0; q < 15; q++) {
        const range: Record<string, number> = {};
        for (const bound of ["gt", "gte", "lt", "lte"]) {
          if (random() < 0.4) range[bound] = Math.round(random() * 200 - 100) / 4;
        }
        const low = range.gt ?? range.gte;
        const high = range.lt ?? range.lte;
        const test = (v: unknown) =>
          typeof v === "number" &&
          (low === undefined || ("gt" in range ? v > low : v >= low)) &&
          (high === undefined || ("lt" in range ? v < high : v <= high));
        const expected = (low !== undefined && high !== undefined &&
            (low > high || (low === high && ("gt" in range || "lt" in range))))
          ? []
          : bruteForce(rows, removed, test);
        assert.deepEqual(offsets(index, { range }), expected, JSON.stringify(range));
      }
    }
  });

  it("walks values in order from start_from, skipping removed offsets", () => {
    const random = rng(14);
    const rows: number[][] = Array.from({ length: 5000 }, () => [Math.round(random() * 100) / 2]);
    const index = build("float", rows);
    index.remove(17);
    const pairs = rows.flatMap((values, offset) => (offset === 17 ? [] : values.map((v) => [v, offset])));
    const asc = [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]).filter(([v]) => v >= 10);
    const seen: number[][] = [];
    orderedIndexOf(index)!.forEachOrdered(
      { start_from: 10 },
      (value, offset) => void seen.push([value, offset]),
    );
    assert.deepEqual(seen, asc);
    const desc: number[][] = [];
    orderedIndexOf(index)!.forEachOrdered({ direction: "desc" }, (value, offset) => {
      desc.push([value, offset]);
      return desc.length < 5;
    });
    assert.deepEqual(desc, [...pairs].sort((a, b) => b[0] - a[0] || b[1] - a[1]).slice(0, 5));
  });

  it("leaves match conditions to the payload check and reads a datetime range as microseconds (engine)", () => {
    const index = build("float", [[1], [1.5], [-7], [1e300]]);
    assert.equal(index.filter({ match: { value: 1 } }), null);
    assert.deepEqual(offsets(index, { range: { gte: "1970-01-01T00:00:00Z" } }), [0, 1, 3]);
  });
});

describe("datetime index", () => {
  // Engine: the order value (microseconds) Qdrant Edge gives each string, or null when it is not a datetime.
  const PARSED: [string, number | null][] = [
    ["2024-01-01T00:00:00Z", 1704067200000000],
    ["2024-01-01 00:00", 1704067200000000],
    ["2024-01-01T00:00:00+0100", 1704063600000000],
    ["2024-01-01T00:00:00+01", 1704063600000000],
    ["2024-01-01T00:00:00.123456789Z", 1704067200123456],
    ["2024-1-1", 1704067200000000],
    ["2024-01-01T00:00:60Z", 1704067260000000],
    ["1969-12-31T23:59:59.9999999Z", -1],
    ["2024-01-01T00:00:00 UTC", 1704067200000000],
    ["20240101", null],
    ["2024-02-30", null],
    ["2024-01-01T00:00:00GMT", null],
  ];

  it("parses datetimes as Qdrant does (engine)", () => {
    for (const [text, micros] of PARSED) assert.equal(datetimeMicros(text) ?? null, micros, text);
  });

  it("answers datetime and numeric ranges like a scan of the parsed values", () => {
    const random = rng(15);
    const texts = PARSED.map(([text]) => text).concat([
      "2023-06-01T12:00:00Z",
      "1970-01-01T00:00:00Z",
      "bad",
    ]);
    const rows: Values[] = Array.from({ length: 800 }, () => [pick(random, [...texts, 5])]);
    const index = build("datetime", rows);
    const removed = removeSome(index, random, 20);
    const micros = (v: unknown) => (typeof v === "string" ? datetimeMicros(v) : undefined);
    for (const bound of ["2024-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2023-06-01T12:00:00Z"]) {
      const at = datetimeMicros(bound)!;
      assertAnswers(
        index,
        { range: { gte: bound } },
        bruteForce(rows, removed, (v) => (micros(v) ?? -Infinity) >= at),
      );
      assertAnswers(
        index,
        { range: { lt: bound } },
        bruteForce(rows, removed, (v) => (micros(v) ?? Infinity) < at),
      );
    }
    assertAnswers(index, { range: { gt: 0 } }, bruteForce(rows, removed, (v) => (micros(v) ?? 0) > 0));
    assert.throws(() => index.filter({ range: { gte: "yesterday" } }), InvalidArgumentError);
  });
});

describe("uuid index", () => {
  it("reads the uuid crate's formats and keeps values canonical (engine)", () => {
    const forms = [
      "550e8400-e29b-41d4-a716-446655440000",
      "550E8400E29B41D4A716446655440000",
      "{550e8400-e29b-41d4-a716-446655440000}",
      "URN:UUID:550e8400-e29b-41d4-a716-446655440000",
    ];
    for (const form of forms) assert.equal(canonicalUuid(form), forms[0], form);
    for (
      const bad of ["{550e8400e29b41d4a716446655440000}", " 550e8400-e29b-41d4-a716-446655440000", "nope"]
    ) {
      assert.equal(canonicalUuid(bad), undefined, bad);
    }
    const index = build("uuid", [...forms.map((f) => [f]), ["00000000-0000-0000-0000-000000000001"], [
      "nope",
    ]]);
    assert.equal(index.indexedPointCount(), 5);
    assert.deepEqual(offsets(index, { match: { value: "550E8400-E29B-41D4-A716-446655440000" } }), [
      0,
      1,
      2,
      3,
    ]);
    assert.deepEqual(offsets(index, { match: { except: ["00000000-0000-0000-0000-000000000001"] } }), [
      0,
      1,
      2,
      3,
    ]);
    assert.equal(index.filter({ match: { value: "nope" } }), null);
    assert.equal(index.filter({ match: { any: ["nope", forms[0]] } }), null);
    assert.deepEqual(topFacetHits(facetIndexOf(index)!.facet(), 5), [
      { value: forms[0], count: 4 },
      { value: "00000000-0000-0000-0000-000000000001", count: 1 },
    ]);
  });

  it("answers value, any and except like a scan of the canonical values", () => {
    const random = rng(16);
    const ids = Array.from({ length: 6 }, (_, i) => `0000000${i}-0000-4000-8000-00000000000${i}`);
    const rows: Values[] = Array.from({ length: 600 }, () => [
      Array.from(
        { length: Math.floor(random() * 3) },
        () => (random() < 0.3 ? pick(random, ids).toUpperCase() : pick(random, ids)),
      ),
    ]);
    const index = build("uuid", rows);
    const removed = removeSome(index, random, 20);
    const canon = (v: unknown) => (typeof v === "string" ? canonicalUuid(v) : undefined);
    for (const id of ids) {
      assertAnswers(
        index,
        { match: { value: id.toUpperCase() } },
        bruteForce(rows, removed, (v) => canon(v) === id),
      );
      const list = [id, pick(random, ids)];
      assertAnswers(
        index,
        { match: { any: list } },
        bruteForce(rows, removed, (v) => list.includes(canon(v)!)),
      );
      assertAnswers(
        index,
        { match: { except: list } },
        bruteForce(rows, removed, (v) => !list.includes(canon(v)!)),
      );
    }
  });
});

describe("bool index", () => {
  it("answers value matches like a scan of the booleans, and facets false before true (engine)", () => {
    const random = rng(17);
    const rows: Values[] = Array.from(
      { length: 900 },
      () => [pick(random, [true, false, "true", 1, null, [true, false], [false, false]])],
    );
    const index = build("bool", rows);
    const removed = removeSome(index, random, 25);
    assertAnswers(index, { match: { value: true } }, bruteForce(rows, removed, (v) => v === true));
    assertAnswers(index, { match: { value: false } }, bruteForce(rows, removed, (v) => v === false));
    assert.equal(index.filter({ match: { value: "true" } }), null);
    assert.equal(index.filter({ match: { any: ["true"] } }), null);
    const small = build("bool", [[true], [[true, false]], [false], ["true"], [[false, false]]]);
    assert.deepEqual(facetIndexOf(small)!.facet(), [{ value: false, count: 3 }, { value: true, count: 2 }]);
    assert.equal(small.indexedPointCount(), 4);
  });
});

describe("geo index", () => {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const haversine = (lon1: number, lat1: number, lon2: number, lat2: number) => {
    const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
    return 2 * R * Math.asin(Math.sqrt(a));
  };
  const point = (v: unknown): v is { lon: number; lat: number } =>
    typeof v === "object" && v !== null && typeof (v as { lon: unknown }).lon === "number" &&
    typeof (v as { lat: unknown }).lat === "number" && Math.abs((v as { lon: number }).lon) <= 180 &&
    Math.abs((v as { lat: number }).lat) <= 90;

  /** Points away from the geohash wrap (lat 90, lon 180), where Qdrant's tiles lose nothing. */
  function rows(random: () => number, count: number): Values[] {
    return Array.from({ length: count }, () => {
      const p = () => ({
        lon: Math.round((random() * 40 - 20) * 100) / 100,
        lat: Math.round((random() * 40 + 10) * 100) / 100,
      });
      return random() < 0.2
        ? [[p(), p()]]
        : [pick(random, [p(), p(), { lon: 200, lat: 0 }, { lon: "1", lat: 2 }, null])];
    });
  }

  it("answers boxes, circles and polygons like a scan of the points", () => {
    const random = rng(18);
    const data = rows(random, 2000);
    const index = build("geo", data);
    const removed = removeSome(index, random, 30);
    for (let q = 0; q < 30; q++) {
      const [x1, x2] = [random() * 40 - 20, random() * 40 - 20].sort((a, b) => a - b);
      const [y1, y2] = [random() * 40 + 10, random() * 40 + 10].sort((a, b) => a - b);
      assertAnswers(
        index,
        { geo_bounding_box: { top_left: { lon: x1, lat: y2 }, bottom_right: { lon: x2, lat: y1 } } },
        bruteForce(data, removed, (v) => point(v) && x1 < v.lon && v.lon < x2 && y1 < v.lat && v.lat < y2),
      );
      const center = { lon: random() * 30 - 15, lat: random() * 30 + 15 };
      const radius = random() * 800_000;
      assertAnswers(
        index,
        { geo_radius: { center, radius } },
        bruteForce(
          data,
          removed,
          (v) => point(v) && haversine(center.lon, center.lat, v.lon, v.lat) < radius,
        ),
      );
      // An axis-aligned square with a square hole: inside the outer square, not in or on the hole.
      const square = (x: number, y: number, w: number) =>
        [[x - w, y - w], [x + w, y - w], [x + w, y + w], [x - w, y + w], [x - w, y - w]].map((
          [lon, lat],
        ) => ({ lon, lat }));
      const [cx, cy, w] = [random() * 20 - 10, random() * 20 + 20, 2 + random() * 8];
      assertAnswers(
        index,
        {
          geo_polygon: {
            exterior: { points: square(cx, cy, w) },
            interiors: [{ points: square(cx, cy, w / 2) }],
          },
        },
        bruteForce(data, removed, (v) =>
          point(v) && Math.abs(v.lon - cx) < w && Math.abs(v.lat - cy) < w &&
          !(Math.abs(v.lon - cx) <= w / 2 && Math.abs(v.lat - cy) <= w / 2)),
      );
    }
  });

  it("reproduces Qdrant's geohash tile choices: a whole-world box finds nothing, latitude 90 escapes circles (engine)", () => {
    const index = build("geo", [[{ lon: 10, lat: 10 }], [{ lon: 0, lat: 90 }], [{ lon: 0, lat: 89.99 }], [{
      lon: 179.99,
      lat: 0,
    }]]);
    const world = {
      geo_bounding_box: { top_left: { lon: -180, lat: 90 }, bottom_right: { lon: 180, lat: -90 } },
    };
    assert.deepEqual(offsets(index, world), []);
    const check = index.checker(world)!;
    assert.deepEqual([0, 1, 2, 3].filter(check), [0, 2, 3]);
    const pole = { geo_radius: { center: { lon: 0, lat: 90 }, radius: 100_000 } };
    assert.deepEqual(offsets(index, pole), [2]);
    assert.deepEqual([0, 1, 2, 3].filter(index.checker(pole)!), [1, 2]);
    const antimeridian = {
      geo_bounding_box: { top_left: { lon: 170, lat: 10 }, bottom_right: { lon: -170, lat: -10 } },
    };
    assert.deepEqual(offsets(index, antimeridian), [3]);
  });
});

describe("full-text index", () => {
  function tokens(params: object, text: string, query = false): string[] {
    const out: string[] = [];
    const tokenizer = new Tokenizer({ type: "text", ...params });
    if (query) tokenizer.query(text, (t) => void out.push(t));
    else tokenizer.document(text, (t) => void out.push(t));
    return out;
  }

  it("tokenizes as Qdrant's word, whitespace and prefix tokenizers (engine)", () => {
    assert.deepEqual(tokens({}, "Hello, World! foo_bar don't Привет a1b2"), [
      "hello",
      "world",
      "foo",
      "bar",
      "don",
      "t",
      "привет",
      "a1b2",
    ]);
    assert.deepEqual(tokens({}, "hello\u00a0world"), ["hello", "world"]);
    assert.deepEqual(tokens({ tokenizer: "whitespace" }, " foo_bar  hello! \u2003x"), [
      "foo_bar",
      "hello!",
      "x",
    ]);
    assert.deepEqual(tokens({ tokenizer: "prefix", min_token_len: 2, max_token_len: 4 }, "abcdef ab x"), [
      "ab",
      "abc",
      "abcd",
      "ab",
    ]);
    assert.deepEqual(
      tokens({ tokenizer: "prefix", min_token_len: 2, max_token_len: 3 }, "abcdef the", true),
      ["abc", "the"],
    );
    assert.deepEqual(tokens({ lowercase: false, stopwords: { custom: ["The"] } }, "The the THE"), [
      "the",
      "THE",
    ]);
    assert.deepEqual(tokens({ min_token_len: 3, max_token_len: 4 }, "ab abc abcd abcde"), ["abc", "abcd"]);
    assert.deepEqual(tokens({ tokenizer: "multilingual" }, "What are you waiting for? Café 42"), [
      "what",
      "are",
      "you",
      "waiting",
      "for",
      "cafe",
    ]);
  });

  it("matches text, text_any and phrase as Qdrant Edge does (engine)", () => {
    const docs: Values[] = [
      ["Hello, World!"],
      ["hello world foo"],
      ["HELLO"],
      ["foo_bar baz-qux"],
      ["hello world hello"],
      ["world hello"],
      [["hello big", "world"]],
      [["hello", "world"]],
      [""],
      ["!!!"],
      [42],
    ];
    const index = build({ type: "text", phrase_matching: true }, docs);
    assert.deepEqual(offsets(index, { match: { text: "Hello World" } }), [0, 1, 4, 5, 6, 7]);
    assert.deepEqual(offsets(index, { match: { phrase: "world hello" } }), [4, 5]);
    assert.deepEqual(offsets(index, { match: { phrase: "big world" } }), []);
    assert.deepEqual(offsets(index, { match: { text: "zzz hello" } }), []);
    assert.deepEqual(offsets(index, { match: { text_any: "zzz hello" } }), [0, 1, 2, 4, 5, 6, 7]);
    assert.deepEqual(offsets(index, { match: { text: "" } }), []);
    assert.deepEqual(offsets(index, { match: { text: "foo_bar" } }), [3]);
    assert.equal(index.indexedPointCount(), 8);
    assert.equal(index.filter({ match: { value: "hello" } }), null);
    const noPhrases = build("text", docs);
    assert.deepEqual(offsets(noPhrases, { match: { phrase: "hello" } }), []);
  });

  it("answers text, text_any and phrase like a scan of the tokenized documents", () => {
    const random = rng(19);
    const words = ["alpha", "beta", "Gamma", "delta", "the", "x", "don't", "über"];
    for (
      const params of [{ phrase_matching: true }, {
        tokenizer: "prefix",
        min_token_len: 2,
        phrase_matching: true,
      }]
    ) {
      const schema = { type: "text", ...params };
      const rows: Values[] = Array.from({ length: 700 }, () => {
        const sentence = () =>
          Array.from({ length: Math.floor(random() * 6) }, () => pick(random, words)).join(
            pick(random, [" ", ", ", "-"]),
          );
        return random() < 0.2 ? [[sentence(), sentence()]] : [pick(random, [sentence(), sentence(), 7])];
      });
      const index = build(schema, rows);
      const removed = removeSome(index, random, 20);
      const tokenizer = new Tokenizer(parseFieldSchema(schema).params as never);
      const documents = rows.map((values) => {
        const strings = values.flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) =>
          typeof v === "string"
        );
        const doc: string[] = [];
        strings.forEach((s, i) => {
          if (i > 0 && strings.length > 1) doc.push("\u0000");
          tokenizer.document(s as string, (t) => void doc.push(t));
        });
        return doc;
      });
      const scan = (test: (doc: string[]) => boolean) =>
        documents.flatMap((doc, offset) => (!removed.has(offset) && test(doc) ? [offset] : []));
      for (let q = 0; q < 30; q++) {
        const text = Array.from(
          { length: 1 + Math.floor(random() * 3) },
          () => pick(random, [...words, "zzz", "al"]),
        ).join(" ");
        const queryTokens: string[] = [];
        tokenizer.query(text, (t) => void queryTokens.push(t));
        const phraseTokens: string[] = [];
        tokenizer.document(text, (t) => void phraseTokens.push(t));
        const known = (t: string) => documents.some((doc) => doc.includes(t));
        assertAnswers(
          index,
          { match: { text } },
          queryTokens.length > 0 && queryTokens.every(known)
            ? scan((doc) => queryTokens.every((t) => doc.includes(t)))
            : [],
        );
        assertAnswers(
          index,
          { match: { text_any: text } },
          scan((doc) => queryTokens.some((t) => doc.includes(t))),
        );
        const hasPhrase = (doc: string[]) =>
          doc.some((_, i) => phraseTokens.every((t, k) => doc[i + k] === t));
        assertAnswers(
          index,
          { match: { phrase: text } },
          phraseTokens.length > 0 && phraseTokens.every(known) ? scan(hasPhrase) : [],
        );
      }
    }
  });
});

describe("persistence", () => {
  const SAMPLES: [unknown, Values[], FieldQuery[]][] = [
    ["keyword", [["a"], [["a", "b"]], [], ["c"]], [{ match: { value: "a" } }, { match: { prefix: "" } }]],
    [{ type: "integer", is_principal: true }, [[1], [[2, 3]], ["x"], [3]], [{ match: { value: 3 } }, {
      range: { gte: 2 },
    }]],
    [{ type: "integer", lookup: false }, [[1], [[2, 3]]], [{ range: { gt: 1 } }]],
    ["float", [[1.5], [[-2, 3]], [null]], [{ range: { lt: 2 } }]],
    ["datetime", [["2024-01-01"], ["bad"], ["2025-01-01T00:00:00Z"]], [{
      range: { gt: "2024-06-01T00:00:00Z" },
    }]],
    ["uuid", [["550e8400-e29b-41d4-a716-446655440000"], ["nope"]], [{ match: { except: [] } }]],
    ["bool", [[true], [[true, false]], []], [{ match: { value: false } }]],
    ["geo", [[{ lon: 1, lat: 1 }], [[{ lon: 50, lat: 50 }, { lon: 2, lat: 2 }]]], [
      { geo_radius: { center: { lon: 1.5, lat: 1.5 }, radius: 200_000 } },
    ]],
    [{ type: "text", phrase_matching: true, stopwords: { custom: ["the"] } }, [["the quick fox"], [[
      "quick",
      "fox",
    ]]], [
      { match: { phrase: "quick fox" } },
      { match: { text: "fox" } },
    ]],
  ];

  it("serialize() and deserializeFieldIndex() round-trip every index type, then keep appending", () => {
    for (const [schema, rows, queries] of SAMPLES) {
      const index = build(schema, rows);
      index.remove(1);
      const copy = deserializeFieldIndex(index.serialize());
      const label = JSON.stringify(schema);
      assert.equal(copy.dataType, index.dataType, label);
      assert.deepEqual(copy.schema, index.schema, label);
      assert.deepEqual(copy.schemaInfo(), index.schemaInfo(), label);
      assert.equal(copy.offsetCount, index.offsetCount, label);
      assert.ok(copy.isRemoved(1), label);
      for (const query of queries) {
        assert.deepEqual(offsets(copy, query), offsets(index, query), `${label} ${JSON.stringify(query)}`);
        assert.deepEqual(copy.estimate(query), index.estimate(query), `${label} ${JSON.stringify(query)}`);
      }
      assert.deepEqual(copy.serialize(), index.serialize(), `${label}: serialization is deterministic`);
      const next = rows.length + 2;
      copy.add(next, rows[0]);
      index.add(next, rows[0]);
      for (const query of queries) assert.deepEqual(offsets(copy, query), offsets(index, query), label);
    }
  });

  it("reads bytes from a view into a larger buffer", () => {
    const bytes = build("geo", [[{ lon: 1, lat: 2 }]]).serialize();
    const larger = new Uint8Array(bytes.length + 11);
    larger.set(bytes, 3);
    const copy = deserializeFieldIndex(larger.subarray(3, 3 + bytes.length));
    assert.equal(copy.indexedPointCount(), 1);
    larger.fill(0);
    assert.equal(copy.valuesCount(0), 1, "the index does not alias the input");
  });

  it("a round trip of a large index keeps every answer", () => {
    const random = rng(20);
    const rows: Values[] = Array.from({ length: 20000 }, () => [Math.floor(random() * 500)]);
    const index = build("integer", rows);
    removeSome(index, random, 100);
    const copy = deserializeFieldIndex(index.serialize());
    for (
      const query of [{ match: { value: 7 } }, { range: { gte: 100, lt: 180 } }, {
        match: { except: [1, 2] },
      }]
    ) {
      assert.deepEqual(offsets(copy, query), offsets(index, query));
    }
    assert.deepEqual(facetIndexOf(copy)!.facet(), facetIndexOf(index)!.facet());
  });

  it("damaged bytes throw OperationError CORRUPT naming the problem", () => {
    const bytes = build({ type: "text", phrase_matching: true }, [["hello world"], ["bye"]]).serialize();
    const corrupt = (damaged: Uint8Array, message: RegExp) =>
      assert.throws(
        () => deserializeFieldIndex(damaged),
        (e) => e instanceof OperationError && e.status === "CORRUPT" && message.test(e.message),
        message.source,
      );
    corrupt(bytes.slice(0, 20), /shorter than/);
    corrupt(bytes.slice(0, bytes.length - 8), /truncated/);
    const magic = bytes.slice();
    magic[0] ^= 1;
    corrupt(magic, /bad magic/);
    const version = bytes.slice();
    version[8] = 99;
    corrupt(version, /format version 99/);
    for (const at of [14, 40, Math.floor(bytes.length / 2), bytes.length - 5, bytes.length - 1]) {
      const flipped = bytes.slice();
      flipped[at] ^= 0x10;
      corrupt(flipped, /checksum mismatch/);
    }
    corrupt(new Uint8Array(bytes.length), /bad magic/);
    assert.throws(
      () => deserializeFieldIndex("nope" as unknown as Uint8Array),
      (e) => e instanceof OperationError,
    );
  });

  it("structurally wrong bytes with a valid checksum are CORRUPT too", async () => {
    const { crc32c } = await import("../lib/storage/crc32c.ts");
    const reseal = (bytes: Uint8Array) => {
      new DataView(bytes.buffer).setUint32(
        bytes.length - 4,
        crc32c(bytes.subarray(0, bytes.length - 4)),
        true,
      );
      return bytes;
    };
    const keyword = build("keyword", [["a"], ["b"]]).serialize();
    const wrongKind = keyword.slice();
    wrongKind[12] = 6; // bool
    assert.throws(
      () => deserializeFieldIndex(reseal(wrongKind)),
      (e) =>
        e instanceof OperationError && e.status === "CORRUPT" &&
        /keyword schema in a bool index/.test(e.message),
    );
    const moreOffsets = keyword.slice();
    moreOffsets[16] = 9;
    assert.throws(
      () => deserializeFieldIndex(reseal(moreOffsets)),
      (e) => e instanceof OperationError && e.status === "CORRUPT",
    );
    const unknownKind = keyword.slice();
    unknownKind[12] = 77;
    assert.throws(
      () => deserializeFieldIndex(reseal(unknownKind)),
      (e) => e instanceof OperationError && /unknown index kind 77/.test(e.message),
    );
  });
});
