// Qdrant's filter model (lib/filter): parsing REST filters and evaluating them on points.
//
// Every "odd corner" below was established against the real engine, qdrant-edge-py 0.9.0, by running the same
// payloads and filters through it (scripts under /tmp, not kept); the comment on each test says what the engine
// does. Random differential runs (about 25,000 filters over random payloads, 3,000 polygon, box and radius
// cases at exact boundaries, 5,000 datetime strings) agreed with it, apart from the two differences named in
// the last describe block.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../lib/errors.ts";
import { compileFilter, type PointView } from "../lib/filter/evaluate.ts";
import { parseFilter } from "../lib/filter/parse.ts";
import type { Filter } from "../lib/filter/types.ts";
import { type IdKey, idKey } from "../lib/shard/point_id.ts";

type Json = Record<string, unknown>;

function view(payload: Json, options: { key?: IdKey; vectors?: string[] } = {}): PointView {
  const vectors = options.vectors ?? [""];
  return { key: options.key ?? "1", payload: () => payload, hasVector: (name) => vectors.includes(name) };
}

/** Whether `payload` passes the REST filter `filter`. */
function passes(filter: unknown, payload: Json, options?: { key?: IdKey; vectors?: string[] }): boolean {
  return compileFilter(parseFilter(filter))(view(payload, options));
}

/** The indexes of the payloads that pass. */
function select(filter: unknown, payloads: Json[]): number[] {
  const predicate = compileFilter(parseFilter(filter));
  return payloads.flatMap((payload, i) => predicate(view(payload)) ? [i] : []);
}

/** A single field condition on key `a`. */
const on = (clause: Json, key = "a") => ({ must: [{ key, ...clause }] });

/** The smallest double above a positive `x`. */
function nextUp(x: number): number {
  const bits = new BigUint64Array(new Float64Array([x]).buffer);
  bits[0] += 1n;
  return new Float64Array(bits.buffer)[0];
}

/** The message of the InvalidArgumentError that parsing `filter` throws. */
function parseError(filter: unknown): string {
  try {
    parseFilter(filter);
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError, `expected an InvalidArgumentError, got ${error}`);
    return error.message;
  }
  assert.fail(`parseFilter accepted ${JSON.stringify(filter)}`);
}

// The payload shapes most corners are about, by index.
const SHAPES: Json[] = [
  { a: 1 }, // 0
  { a: [1, 2] }, // 1
  { a: "1" }, // 2
  { a: null }, // 3
  {}, // 4
  { a: [] }, // 5
  { a: [null] }, // 6
  { a: true }, // 7
  { a: 1.5 }, // 8
  { a: [[1]] }, // 9
  { a: { b: 1 } }, // 10
  { a: [1, null] }, // 11
];

describe("match.value", () => {
  it("matches an integer, also inside an array, and never the string or boolean look-alikes", () => {
    // Engine: {value: 1} matches 1, [1, 2] and [1, null], not "1", true, 1.5 or [[1]].
    assert.deepEqual(select(on({ match: { value: 1 } }), SHAPES), [0, 1, 11]);
  });

  it("matches a boolean only against a boolean", () => {
    // Engine (through REST's boolean, not Python's True, which qdrant_edge reads as the integer 1): only true.
    assert.deepEqual(select(on({ match: { value: true } }), SHAPES), [7]);
  });

  it("matches a string exactly and case-sensitively", () => {
    assert.deepEqual(select(on({ match: { value: "1" } }), SHAPES), [2]);
    assert.equal(passes(on({ match: { value: "red" } }), { a: "Red" }), false);
    assert.equal(passes(on({ match: { value: "" } }), { a: "" }), true);
  });

  it("looks one level into arrays, not deeper", () => {
    // Engine: [[1]] does not match 1 (an array inside an array is not flattened).
    assert.equal(passes(on({ match: { value: 1 } }), { a: [[1]] }), false);
  });
});

describe("match.any", () => {
  it("matches when the value (or an element) is in the list", () => {
    assert.deepEqual(select(on({ match: { any: [1, 2] } }), SHAPES), [0, 1, 11]);
    assert.deepEqual(select(on({ match: { any: ["1", "x"] } }), SHAPES), [2]);
  });

  it("matches nothing when the list is empty", () => {
    // Engine: any: [] matches no point.
    assert.deepEqual(select(on({ match: { any: [] } }), SHAPES), []);
  });
});

describe("match.except", () => {
  it("passes values of another type, fails null, and has nothing to pass on a missing key or []", () => {
    // Engine, except: [1]: [1, 2] (through 2), "1", true, 1.5, [[1]] and {b: 1} pass; 1, null, a missing key,
    // [], [null] and [1, null] do not (no value of theirs passes).
    assert.deepEqual(select(on({ match: { except: [1] } }), SHAPES), [1, 2, 7, 8, 9, 10]);
  });

  it("with a list of strings passes numbers, booleans, arrays and objects", () => {
    // Engine, except: ["x"]: every value but null (and missing, and []).
    assert.deepEqual(select(on({ match: { except: ["x"] } }), SHAPES), [0, 1, 2, 7, 8, 9, 10, 11]);
  });

  it("with an empty list passes every value but null", () => {
    // Engine: except: [] matches every point that has a non-null value.
    assert.deepEqual(select(on({ match: { except: [] } }), SHAPES), [0, 1, 2, 7, 8, 9, 10, 11]);
  });

  it("is not the negation of any: must_not any also keeps points without the key", () => {
    const payloads = [{ a: "x" }, { a: "y" }, {}, { a: null }];
    assert.deepEqual(select(on({ match: { except: ["x"] } }), payloads), [1]);
    assert.deepEqual(select({ must_not: [{ key: "a", match: { any: ["x"] } }] }, payloads), [1, 2, 3]);
  });
});

describe("match.text", () => {
  const texts: Json[] = [
    { a: "Hello World" }, // 0
    { a: "hello, world!" }, // 1
    { a: "world hello" }, // 2
    { a: "goodness" }, // 3
    { a: ["foo bar", "Hello"] }, // 4
    { a: "foo_bar-baz" }, // 5
    { a: 5 }, // 6
  ];

  it("needs every query word as a whole word of the string, in any order, ignoring case", () => {
    // Engine 0.9 tokenises unindexed text with the default word tokenizer (lowercase): not a substring test.
    assert.deepEqual(select(on({ match: { text: "world HELLO" } }, "a"), texts), [0, 1, 2]);
    assert.deepEqual(select(on({ match: { text: "good" } }), texts), []);
    assert.deepEqual(select(on({ match: { text: "lo Wo" } }), texts), []);
  });

  it("splits words at every character that is not a letter or digit, including _ and -", () => {
    // Engine: "foo_bar" is the words foo and bar, so it matches "foo_bar-baz" and "foo bar".
    assert.deepEqual(select(on({ match: { text: "foo_bar" } }), texts), [4, 5]);
  });

  it("tests each string of an array on its own", () => {
    // Engine: ["foo bar", "Hello"] matches "hello" but not "hello bar" (words from two elements).
    assert.equal(passes(on({ match: { text: "hello" } }), texts[4]), true);
    assert.equal(passes(on({ match: { text: "hello bar" } }), texts[4]), false);
  });

  it("matches nothing when the query has no words", () => {
    // Engine: text "" and text "!!!" match no point.
    assert.deepEqual(select(on({ match: { text: "" } }), texts), []);
    assert.deepEqual(select(on({ match: { text: "!!!" } }), texts), []);
  });

  it("lowercases with Unicode rules, without folding accents", () => {
    // Engine: "ΣΊΣΥΦΟΣ" matches "σίσυφος" (final sigma), "école" matches "ÉCOLE", "eleve" does not match "élève".
    assert.equal(passes(on({ match: { text: "σίσυφος" } }), { a: "ΣΊΣΥΦΟΣ" }), true);
    assert.equal(passes(on({ match: { text: "école" } }), { a: "ÉCOLE élève" }), true);
    assert.equal(passes(on({ match: { text: "eleve" } }), { a: "ÉCOLE élève" }), false);
    assert.equal(passes(on({ match: { text: "日本語" } }), { a: "日本語テキスト" }), false);
  });
});

describe("match.text_any", () => {
  it("needs one query word as a whole word of the string", () => {
    // Engine: "good World" matches "Hello World" but not "goodness".
    const payloads = [{ a: "Hello World" }, { a: "goodness" }, { a: "BAZ" }];
    assert.deepEqual(select(on({ match: { text_any: "good World" } }), payloads), [0]);
    assert.deepEqual(select(on({ match: { text_any: "baz,zzz" } }), payloads), [2]);
  });

  it("matches nothing when the query has no words", () => {
    assert.equal(passes(on({ match: { text_any: "   " } }), { a: "x" }), false);
  });
});

describe("match.phrase", () => {
  const payloads = [{ a: "Hello World" }, { a: "hello, world!" }, { a: "world hello" }, {
    a: "hello hello world",
  }];

  it("needs the query words consecutively and in order", () => {
    // Engine: "hello world" matches 0, 1 and 3; "world hello" only 2; punctuation in the query is ignored.
    assert.deepEqual(select(on({ match: { phrase: "hello world" } }), payloads), [0, 1, 3]);
    assert.deepEqual(select(on({ match: { phrase: "Hello, World" } }), payloads), [0, 1, 3]);
    assert.deepEqual(select(on({ match: { phrase: "world hello" } }), payloads), [2]);
    assert.deepEqual(select(on({ match: { phrase: "hello hello" } }), payloads), [3]);
  });

  it("matches nothing when the phrase has no words", () => {
    assert.deepEqual(select(on({ match: { phrase: "" } }), payloads), []);
  });
});

describe("match.prefix", () => {
  it("is a case-sensitive prefix test on strings", () => {
    // Engine: "hel" matches "hello world" only; "" matches every string and nothing else.
    const payloads = [{ a: "Hello" }, { a: "hello world" }, { a: 5 }, { a: "" }];
    assert.deepEqual(select(on({ match: { prefix: "hel" } }), payloads), [1]);
    assert.deepEqual(select(on({ match: { prefix: "" } }), payloads), [0, 1, 3]);
  });
});

describe("match.substring", () => {
  it("is a case-sensitive substring test on strings and on string elements", () => {
    // Engine (MatchSubstring, 0.9): "o, w" matches "hello, world!"; "hello" misses "Hello World".
    const payloads = [{ a: "Hello World" }, { a: "hello, world!" }, { a: ["x", "say hello"] }, { a: 0 }];
    assert.deepEqual(select(on({ match: { substring: "hello" } }), payloads), [1, 2]);
    assert.deepEqual(select(on({ match: { substring: "o, w" } }), payloads), [1]);
    assert.deepEqual(select(on({ match: { substring: "" } }), payloads), [0, 1, 2]);
  });
});

describe("range", () => {
  it("compares numbers only, integers and floats alike", () => {
    // Engine, gte 1: 1, [1, 2], 1.5 (and the float 1.0); never "1", true or null.
    assert.deepEqual(select(on({ range: { gte: 1 } }), SHAPES), [0, 1, 8, 11]);
    assert.deepEqual(select(on({ range: { gt: 0.5, lt: 1.2 } }), SHAPES), [0, 1, 11]);
  });

  it("with no bounds matches every number and nothing else", () => {
    // Engine: range {} matches 1, [1, 2], 1.5, not strings, booleans, null or missing keys.
    assert.deepEqual(select(on({ range: {} }), SHAPES), [0, 1, 8, 11]);
  });

  it("treats bounds as strict or inclusive as named", () => {
    const payloads = [{ a: 1 }, { a: 2 }, { a: 3 }];
    assert.deepEqual(select(on({ range: { gt: 1, lte: 3 } }), payloads), [1, 2]);
    assert.deepEqual(select(on({ range: { gte: 1, lt: 3 } }), payloads), [0, 1]);
  });
});

describe("datetime range", () => {
  const at = (a: string) => ({ a });

  it("reads RFC 3339 and the looser forms Qdrant accepts, without an offset as UTC", () => {
    // Engine: all of these equal 2014-01-01T00:00:00Z.
    for (
      const text of [
        "2014-01-01T00:00:00Z",
        "2014-01-01t00:00:00z",
        "2014-01-01 00:00:00Z",
        "2014-01-01",
        "2014-01-01T00:00",
        "2014-01-01 00:00:00",
        "2014-01-01T01:00:00+01:00",
        "2014-01-01T01:00:00+0100",
        "2014-01-01T01:00:00+01",
        "2013-12-31T23:00:00 −01:00",
        "2014-1-1T0:0:0 UTC",
        " 2014-01-01",
        "2014-01-01T00:00:00Z  ",
      ]
    ) {
      const filter = on({ range: { gte: "2014-01-01T00:00:00Z", lte: "2014-01-01T00:00:00Z" } });
      assert.equal(passes(filter, at(text)), true, text);
    }
  });

  it("ignores strings that are not datetimes, and non-strings", () => {
    // Engine: "2014-01-01 " (date, then a space), "2014/01/01", "2014-02-30", hour 24, offset +24:00, a bare
    // dot before the offset, and numbers never match a datetime range.
    const filter = on({ range: { gte: "0001-01-01T00:00:00Z" } });
    for (
      const value of [
        "2014-01-01 ",
        "2014/01/01",
        "20140101",
        "2014-02-30",
        "2014-01-01T24:00:00Z",
        "2014-01-01T00:00:00+24:00",
        "2014-01-01T00:00:00.Z",
        "2014-01-01t00:00:00",
        "+262143-01-01",
        1388534400,
      ]
    ) {
      assert.equal(passes(filter, { a: value }), false, String(value));
    }
  });

  it("compares to the microsecond: later digits are dropped", () => {
    // Engine: 00:00:00.0000005Z equals 00:00:00Z; 1969-12-31T23:59:59.9999995Z equals ...59.999999Z.
    assert.equal(
      passes(on({ range: { lte: "2020-01-01T00:00:00Z" } }), at("2020-01-01T00:00:00.0000005Z")),
      true,
    );
    assert.equal(
      passes(on({ range: { gt: "2020-01-01T00:00:00.0000009Z" } }), at("2020-01-01T00:00:00.0000015Z")),
      true,
    );
    const micro = "1969-12-31T23:59:59.999999Z";
    assert.equal(passes(on({ range: { gte: micro, lte: micro } }), at("1969-12-31T23:59:59.9999995Z")), true);
  });

  it("orders a leap second after :59.999999 and before the next minute", () => {
    // Engine: "23:59:60Z" and "23:59:60.5Z" lie strictly between 23:59:59.999999 and the next 00:00:00.
    const filter = on({ range: { gt: "2016-12-31T23:59:59.999999Z", lt: "2017-01-01T00:00:00Z" } });
    assert.deepEqual(
      select(filter, [at("2016-12-31T23:59:60Z"), at("2016-12-31T23:59:60.5Z"), at("2017-01-01T00:00:00Z")]),
      [0, 1],
    );
  });

  it("applies to each string of an array", () => {
    assert.equal(
      passes(on({ range: { gte: "2020-01-01" } }), { a: ["junk", 5, "2021-06-01T00:00:00Z"] }),
      true,
    );
  });
});

describe("geo_bounding_box", () => {
  const box = { top_left: { lon: 0, lat: 10 }, bottom_right: { lon: 10, lat: 0 } };

  it("holds strictly inside; a point on an edge is outside", () => {
    // Engine: strict comparisons on both axes.
    const points = [{ a: { lon: 5, lat: 5 } }, { a: { lon: 0, lat: 5 } }, { a: { lon: 5, lat: 10 } }, {
      a: { lon: 11, lat: 5 },
    }];
    assert.deepEqual(select(on({ geo_bounding_box: box }), points), [0]);
  });

  it("wraps across the antimeridian when the left edge is east of the right edge", () => {
    const wrap = { top_left: { lon: 170, lat: 10 }, bottom_right: { lon: -170, lat: -10 } };
    const points = [{ a: { lon: 175, lat: 0 } }, { a: { lon: -175, lat: 0 } }, { a: { lon: 0, lat: 0 } }];
    assert.deepEqual(select(on({ geo_bounding_box: wrap }), points), [0, 1]);
  });

  it("reads {lon, lat} objects (with extra keys), also inside arrays, and nothing else", () => {
    const points = [
      { a: [{ lon: 50, lat: 50 }, { lon: 5, lat: 5, name: "x" }] },
      { a: { lon: "5", lat: 5 } },
      { a: [5, 5] },
      { a: { lat: 5 } },
    ];
    assert.deepEqual(select(on({ geo_bounding_box: box }), points), [0]);
  });
});

describe("geo_radius", () => {
  it("uses haversine distance on a 6,371,008.8 m sphere, strictly less than the radius", () => {
    // Engine: one degree of longitude at the equator is 111195.0802335329 m (bisected to the last bit).
    const center = { lon: 0, lat: 0 };
    const point = { a: { lon: 1, lat: 0 } };
    assert.equal(passes(on({ geo_radius: { center, radius: 111195.0802335329 } }), point), false);
    assert.equal(passes(on({ geo_radius: { center, radius: nextUp(111195.0802335329) } }), point), true);
  });

  it("agrees with the engine to the last bit away from the axes", () => {
    // Engine: (10, 20) to (11, 20) is 104489.04122102127 m.
    const point = { a: { lon: 11, lat: 20 } };
    const center = { lon: 10, lat: 20 };
    assert.equal(passes(on({ geo_radius: { center, radius: 104489.04122102127 } }), point), false);
    assert.equal(passes(on({ geo_radius: { center, radius: nextUp(104489.04122102127) } }), point), true);
  });

  it("matches nothing with a negative radius", () => {
    assert.equal(
      passes(on({ geo_radius: { center: { lon: 0, lat: 0 }, radius: -1 } }), { a: { lon: 0, lat: 0 } }),
      false,
    );
  });
});

describe("geo_polygon", () => {
  const square = (x0: number, y0: number, x1: number, y1: number) => ({
    points: [{ lon: x0, lat: y0 }, { lon: x1, lat: y0 }, { lon: x1, lat: y1 }, { lon: x0, lat: y1 }, {
      lon: x0,
      lat: y0,
    }],
  });
  const at = (lon: number, lat: number) => ({ a: { lon, lat } });

  it("holds strictly inside; vertices and edges are outside", () => {
    // Engine (geo's Polygon::contains): the boundary is not contained.
    const filter = on({ geo_polygon: { exterior: square(0, 0, 4, 4) } });
    assert.deepEqual(select(filter, [at(2, 2), at(0, 0), at(0, 2), at(4, 4), at(2, 4), at(5, 2)]), [0]);
  });

  it("excludes holes and their boundaries", () => {
    const filter = on({ geo_polygon: { exterior: square(0, 0, 4, 4), interiors: [square(1, 1, 3, 3)] } });
    assert.deepEqual(select(filter, [at(0.5, 0.5), at(2, 2), at(1, 2), at(3, 3), at(3.5, 2)]), [0, 4]);
  });

  it("counts a region a self-intersecting ring winds around as inside", () => {
    // Engine: winding number, not even-odd. This ring goes around the square [1,2]x[1,2] twice.
    const twice = {
      points: [
        { lon: 0, lat: 0 },
        { lon: 3, lat: 0 },
        { lon: 3, lat: 3 },
        { lon: 1, lat: 3 },
        { lon: 1, lat: 1 },
        { lon: 2, lat: 1 },
        { lon: 2, lat: 2 },
        { lon: 0, lat: 2 },
        { lon: 0, lat: 0 },
      ],
    };
    assert.equal(passes(on({ geo_polygon: { exterior: twice } }), at(1.5, 1.5)), true);
  });
});

describe("values_count", () => {
  it("counts array elements, 1 for any other value, and 0 for null or a missing key", () => {
    // Engine, gte 1: every shape but null, missing and []; [null] counts 1, an object counts 1.
    assert.deepEqual(select(on({ values_count: { gte: 1 } }), SHAPES), [0, 1, 2, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual(select(on({ values_count: { lt: 1 } }), SHAPES), [3, 4, 5]);
    assert.deepEqual(select(on({ values_count: { gte: 2 } }), SHAPES), [1, 11]);
  });

  it("with no bounds matches every point, including those without the key", () => {
    assert.deepEqual(select(on({ values_count: {} }), SHAPES), SHAPES.map((_, i) => i));
  });

  it("counts each value of a multi-valued path on its own", () => {
    // Engine: n[].x over [{x: 1}, {x: 2}] is two values of count 1, so gte 2 fails and lt 2 holds.
    const payload = { n: [{ x: 1 }, { x: 2 }] };
    assert.equal(passes(on({ values_count: { gte: 2 } }, "n[].x"), payload), false);
    assert.equal(passes(on({ values_count: { lt: 2 } }, "n[].x"), payload), true);
  });
});

describe("is_empty and is_null in a field condition", () => {
  it("is_empty: true holds for null, [] and a missing key", () => {
    assert.deepEqual(select(on({ is_empty: true }), SHAPES), [3, 4, 5]);
    assert.deepEqual(select(on({ is_empty: false }), SHAPES), [0, 1, 2, 6, 7, 8, 9, 10, 11]);
  });

  it("is_null: true holds for null and arrays containing null; false also for a missing key", () => {
    // Engine: is_null: false matches the missing key and [], not null, [null] or [1, null].
    assert.deepEqual(select(on({ is_null: true }), SHAPES), [3, 6, 11]);
    assert.deepEqual(select(on({ is_null: false }), SHAPES), [0, 1, 2, 4, 5, 7, 8, 9, 10]);
  });

  it("is_empty: true holds when any value of a multi-valued path is empty", () => {
    // Engine: a[] over [1, null] holds (the null element), unlike the is_empty condition.
    assert.equal(passes(on({ is_empty: true }, "a[]"), { a: [1, null] }), true);
    assert.equal(passes({ must: [{ is_empty: { key: "a[]" } }] }, { a: [1, null] }), false);
  });
});

describe("is_empty", () => {
  it("holds for null, [] and a missing key, not for [null]", () => {
    assert.deepEqual(select({ must: [{ is_empty: { key: "a" } }] }, SHAPES), [3, 4, 5]);
  });

  it("holds when every value of a path is empty, or the path reaches nothing", () => {
    // Engine: a[] is empty for [], [null], [[]], a non-array and a missing key; not for [1, null].
    const payloads = [{ a: [] }, { a: [null] }, { a: [[]] }, { a: { b: 1 } }, {}, { a: [1, null] }, {
      a: [[null]],
    }];
    assert.deepEqual(select({ must: [{ is_empty: { key: "a[]" } }] }, payloads), [0, 1, 2, 3, 4]);
  });
});

describe("is_null", () => {
  it("holds for null and for an array containing null, never for a missing key", () => {
    // Engine: [null] and [1, null] are null; [[null]] and {} are not.
    const payloads = [{ a: null }, { a: [null] }, { a: [1, null] }, { a: [[null]] }, {}, { a: { b: null } }];
    assert.deepEqual(select({ must: [{ is_null: { key: "a" } }] }, payloads), [0, 1, 2]);
    assert.deepEqual(select({ must: [{ is_null: { key: "a[]" } }] }, payloads), [1, 2, 3]);
    assert.deepEqual(select({ must: [{ is_null: { key: "a.b" } }] }, payloads), [5]);
  });
});

describe("has_id", () => {
  it("holds for listed integer and UUID ids, in any UUID spelling", () => {
    const uuid = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26";
    const filter = { must: [{ has_id: [2, "5C56C79369F34FBF87E6C4BF54C28C26"] }] };
    assert.equal(passes(filter, {}, { key: "2" }), true);
    assert.equal(passes(filter, {}, { key: uuid }), true);
    assert.equal(passes(filter, {}, { key: "3" }), false);
  });

  it("with an empty list holds for no point", () => {
    assert.equal(passes({ must: [{ has_id: [] }] }, {}), false);
    assert.equal(passes({ must_not: [{ has_id: [] }] }, {}), true);
  });

  it("normalises ids when parsing", () => {
    assert.deepEqual(parseFilter({ must: { has_id: ["{5C56C793-69F3-4FBF-87E6-C4BF54C28C26}", 7] } }), {
      must: [{ has_id: ["5c56c793-69f3-4fbf-87e6-c4bf54c28c26", 7] }],
    });
  });
});

describe("has_vector", () => {
  it("holds when the point has the named vector; a vector it lacks or an unknown name does not", () => {
    // Engine: has_vector "nope" (no such vector) matches no point, and must_not of it matches every point.
    assert.equal(passes({ must: [{ has_vector: "img" }] }, {}, { vectors: ["", "img"] }), true);
    assert.equal(passes({ must: [{ has_vector: "img" }] }, {}, { vectors: [""] }), false);
    assert.equal(passes({ must: [{ has_vector: "" }] }, {}, { vectors: [""] }), true);
    assert.equal(passes({ must_not: [{ has_vector: "nope" }] }, {}), true);
  });
});

describe("slice", () => {
  it("puts each point in exactly one of `total` slices", () => {
    const keys = [
      ...Array.from({ length: 50 }, (_, i) => String(i)),
      idKey("5c56c793-69f3-4fbf-87e6-c4bf54c28c26", ""),
    ];
    for (const total of [1, 3, 7]) {
      for (const key of keys) {
        const hits = Array.from({ length: total }, (_, index) => index)
          .filter((index) => passes({ must: [{ slice: { total, index } }] }, {}, { key }));
        assert.equal(hits.length, 1, `id ${key} in ${hits.length} of ${total} slices`);
      }
    }
  });

  it("uses Qdrant's SipHash-2-4 of the id bytes", () => {
    // Engine: the slices of 4 that ids 0..9 fall in (probed with SliceCondition(4, i)).
    const slices = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((id) =>
      [0, 1, 2, 3].find((index) =>
        passes({ must: [{ slice: { total: 4, index } }] }, {}, { key: String(id) })
      )
    );
    assert.deepEqual(slices, ENGINE_SLICES_OF_4);
  });
});

// qdrant_edge 0.9.0: for id in 0..9, the index i with SliceCondition(4, i) matching the point.
const ENGINE_SLICES_OF_4 = [3, 2, 1, 2, 0, 0, 1, 0, 1, 2];

describe("nested", () => {
  const payloads = [
    { n: [{ x: 1, y: 2 }, { x: 2, y: 1 }] }, // 0
    { n: [{ x: 1, y: 1 }] }, // 1
    { n: { x: 1, y: 2 } }, // 2
    { n: [[{ x: 1, y: 2 }]] }, // 3
    { n: [] }, // 4
    {}, // 5
  ];
  const both = { must: [{ key: "x", match: { value: 1 } }, { key: "y", match: { value: 2 } }] };

  it("needs one array element to pass the whole filter, unlike a[].b paths", () => {
    // Engine: nested matches only point 0 here, and so does the flat filter; nested differs on x: 2, y: 2.
    assert.deepEqual(select({ must: [{ nested: { key: "n", filter: both } }] }, payloads), [0]);
    const crossed = [{ n: [{ x: 1, y: 1 }, { x: 2, y: 2 }] }];
    const flat = { must: [{ key: "n[].x", match: { value: 1 } }, { key: "n[].y", match: { value: 2 } }] };
    assert.deepEqual(select(flat, crossed), [0]);
    assert.deepEqual(select({ must: [{ nested: { key: "n", filter: both } }] }, crossed), []);
  });

  it("skips a key that is an object, elements that are not objects, and accepts a key ending in []", () => {
    // Engine: {n: {...}} and {n: [[{...}]]} never match; "n[]" means the same as "n".
    assert.deepEqual(select({ must: [{ nested: { key: "n[]", filter: both } }] }, payloads), [0]);
    assert.deepEqual(select({ must: [{ nested: { key: "n", filter: {} } }] }, payloads), [0, 1]);
  });

  it("treats an empty should inside its filter as matching nothing", () => {
    // Engine: nested filter {should: []} matches no point, although {should: []} at the top matches every point.
    assert.deepEqual(select({ must: [{ nested: { key: "n", filter: { should: [] } } }] }, payloads), []);
    assert.deepEqual(
      select({ must: [{ nested: { key: "n", filter: { must: [{ should: [] }] } } }] }, payloads),
      [],
    );
  });

  it("never lets has_id or has_vector hold inside", () => {
    // Engine: nested {must: has_id [...]} matches nothing; {must_not: has_id} matches every element.
    const filter = (clause: Json) => ({ must: [{ nested: { key: "n", filter: clause } }] });
    const v = (p: Json) => view(p, { key: "1", vectors: [""] });
    assert.equal(compileFilter(parseFilter(filter({ must: [{ has_id: [1] }] })))(v(payloads[0])), false);
    assert.equal(compileFilter(parseFilter(filter({ must_not: [{ has_id: [1] }] })))(v(payloads[0])), true);
    assert.equal(compileFilter(parseFilter(filter({ must: [{ has_vector: "" }] })))(v(payloads[0])), false);
    assert.equal(
      compileFilter(parseFilter(filter({ must: [{ slice: { total: 1, index: 0 } }] })))(v(payloads[0])),
      false,
    );
  });

  it("nests, with paths relative to each element", () => {
    const payload = { a: [{ b: [{ c: 1 }, { c: 2 }] }, { b: [{ c: 3 }] }] };
    const inner = { nested: { key: "b", filter: { must: [{ key: "c", match: { value: 3 } }] } } };
    assert.equal(passes({ must: [{ nested: { key: "a", filter: { must: [inner] } } }] }, payload), true);
  });
});

describe("JSON paths", () => {
  const payload = { n: [{ x: 1, y: [5, 6] }, { x: 2 }], o: { x: 3 }, "a.b": 4, "": 5, "b c": { d: 6 } };

  it("a.b does not look through arrays; a[].b does", () => {
    // Engine: n.x on an array of objects reaches nothing; n[].x reaches 1 and 2.
    assert.equal(passes(on({ match: { value: 1 } }, "n.x"), payload), false);
    assert.equal(passes(on({ match: { value: 2 } }, "n[].x"), payload), true);
    assert.equal(passes(on({ match: { value: 3 } }, "o.x"), payload), true);
  });

  it("[n] picks one element and [] every element, at any depth", () => {
    assert.equal(passes(on({ match: { value: 2 } }, "n[1].x"), payload), true);
    assert.equal(passes(on({ match: { value: 2 } }, "n[0].x"), payload), false);
    assert.equal(passes(on({ match: { value: 6 } }, "n[].y[]"), payload), true);
    assert.equal(passes(on({ match: { value: 6 } }, "n[0].y[1]"), payload), true);
    assert.equal(passes(on({ match: { value: 1 } }, "n[00].x"), payload), true);
  });

  it("quoted keys may hold dots, spaces or nothing", () => {
    assert.equal(passes(on({ match: { value: 4 } }, '"a.b"'), payload), true);
    assert.equal(passes(on({ match: { value: 5 } }, '""'), payload), true);
    assert.equal(passes(on({ match: { value: 6 } }, '"b c".d'), payload), true);
  });

  it("does not see inherited properties of payload objects", () => {
    assert.equal(passes(on({ is_empty: false }, "constructor"), {}), false);
    assert.equal(passes(on({ values_count: { gte: 1 } }, "toString"), {}), false);
  });
});

describe("must, should, must_not and min_should", () => {
  const payloads = [{ a: 1 }, { a: 2 }, { a: 3 }, {}];
  const is = (v: number) => ({ key: "a", match: { value: v } });

  it("an empty filter and empty must or must_not match every point", () => {
    assert.deepEqual(select({}, payloads), [0, 1, 2, 3]);
    assert.deepEqual(select({ must: [] }, payloads), [0, 1, 2, 3]);
    assert.deepEqual(select({ must_not: [] }, payloads), [0, 1, 2, 3]);
    assert.deepEqual(select(null, payloads), [0, 1, 2, 3]);
  });

  it("an empty should constrains nothing, at the top and in nested filters", () => {
    // Engine: {should: []}, {must: [{should: []}]} and {should: [{should: []}, ...]} match every point;
    // {must_not: [{should: []}]} matches none.
    assert.deepEqual(select({ should: [] }, payloads), [0, 1, 2, 3]);
    assert.deepEqual(select({ must: [{ should: [] }] }, payloads), [0, 1, 2, 3]);
    assert.deepEqual(select({ should: [{ should: [] }, is(1)] }, payloads), [0, 1, 2, 3]);
    assert.deepEqual(select({ must_not: [{ must: [{ should: [] }] }] }, payloads), []);
  });

  it("should needs one condition, must all, must_not none, all together", () => {
    assert.deepEqual(select({ should: [is(1), is(3)] }, payloads), [0, 2]);
    assert.deepEqual(select({ should: [is(9)], must: [is(1)] }, payloads), []);
    assert.deepEqual(select({ should: [is(1), is(2)], must_not: [is(2)] }, payloads), [0]);
  });

  it("min_should needs min_count of its conditions", () => {
    const conditions = [is(1), { key: "a", range: { lte: 2 } }, { key: "a", match: { any: [1, 3] } }];
    assert.deepEqual(select({ min_should: { conditions, min_count: 2 } }, payloads), [0]);
    assert.deepEqual(select({ min_should: { conditions, min_count: 1 } }, payloads), [0, 1, 2]);
    // Engine: more than there are conditions, and an empty list with min_count 1, match nothing.
    assert.deepEqual(select({ min_should: { conditions: [is(1)], min_count: 2 } }, payloads), []);
    assert.deepEqual(select({ min_should: { conditions: [], min_count: 1 } }, payloads), []);
  });

  it("an empty object as a condition is an empty filter, which every point passes", () => {
    assert.deepEqual(select({ must: [{}] }, payloads), [0, 1, 2, 3]);
  });
});

describe("field conditions with several tests", () => {
  it("OR their match, range and geo tests", () => {
    // Engine: {match: 1, range: gte 1.5} matches 1, [1, 2] and 1.5.
    assert.deepEqual(select(on({ match: { value: 1 }, range: { gte: 1.5 } }), SHAPES), [0, 1, 8, 11]);
  });

  it("let values_count, then is_empty, then is_null decide alone", () => {
    // Engine: {match: 1, values_count: gte 2} matches only the two-element arrays; {match: "1", is_null: true}
    // is just is_null.
    assert.deepEqual(select(on({ match: { value: 1 }, values_count: { gte: 2 } }), SHAPES), [1, 11]);
    assert.deepEqual(select(on({ match: { value: "1" }, is_null: true }), SHAPES), [3, 6, 11]);
    assert.deepEqual(select(on({ is_empty: true, is_null: true }), SHAPES), [3, 4, 5]);
  });
});

describe("compileFilter", () => {
  it("reads the payload at most once per point, and not at all when no condition needs it", () => {
    let reads = 0;
    const point: PointView = { key: "1", payload: () => (reads++, { a: 1, b: 2 }), hasVector: () => true };
    const many = compileFilter(
      parseFilter({ must: [on({ match: { value: 1 } }), on({ range: { gte: 2 } }, "b")] }),
    );
    assert.equal(many(point), true);
    assert.equal(reads, 1);
    const idsOnly = compileFilter(parseFilter({ must: [{ has_id: [1] }, { has_vector: "" }] }));
    assert.equal(idsOnly(point), true);
    assert.equal(reads, 1);
  });

  it("can be called for many points in turn, each read fresh", () => {
    const predicate = compileFilter(parseFilter(on({ match: { value: 1 } })));
    const results = [{ a: 1 }, { a: 2 }, { a: 1 }].map((payload) => predicate(view(payload)));
    assert.deepEqual(results, [true, false, true]);
  });

  it("accepts filters built in code", () => {
    const filter: Filter = { must: [{ key: "a", match: { any: ["x"] } }] };
    assert.equal(compileFilter(filter)(view({ a: ["y", "x"] })), true);
  });
});

describe("parseFilter normalisation", () => {
  it("reads one condition where Qdrant allows one or many, and drops nulls", () => {
    assert.deepEqual(parseFilter({ must: { key: "a", match: { value: 1 }, range: null }, should: null }), {
      must: [{ key: "a", match: { value: 1 } }],
    });
  });

  it("keeps an empty should, which means something inside nested filters", () => {
    assert.deepEqual(parseFilter({ should: [] }), { should: [] });
  });

  it("reads null and undefined as the empty filter", () => {
    assert.deepEqual(parseFilter(null), {});
    assert.deepEqual(parseFilter(undefined), {});
  });

  it("ignores unknown keys beside a condition, as Qdrant does", () => {
    assert.deepEqual(parseFilter({ must: [{ key: "a", match: { value: 1 }, note: "x" }] }), {
      must: [{ key: "a", match: { value: 1 } }],
    });
    assert.deepEqual(parseFilter({ must: [{ has_id: [1], must: [] }] }), { must: [{ has_id: [1] }] });
  });

  it("recognises a range with a string bound as a datetime range", () => {
    assert.deepEqual(parseFilter(on({ range: { gte: "2020-01-01", lt: null } })), {
      must: [{ key: "a", range: { gte: "2020-01-01" } }],
    });
  });
});

describe("parse error: not a filter", () => {
  it("names the filter and what it received", () => {
    assert.equal(
      parseError(5),
      "filter: expected a filter object ({must, should, must_not, min_should}), got 5",
    );
    assert.equal(
      parseError([]),
      "filter: expected a filter object ({must, should, must_not, min_should}), got []",
    );
    assert.throws(
      () => parseFilter("x", "request.filter"),
      new InvalidArgumentError(
        'request.filter: expected a filter object ({must, should, must_not, min_should}), got "x"',
      ),
    );
  });
});

describe("parse error: unknown filter field", () => {
  it("names the field", () => {
    assert.equal(
      parseError({ must: [], filter: {} }),
      "filter.filter: unknown field; a filter has only must, should, must_not and min_should",
    );
  });
});

describe("parse error: clause", () => {
  it("wants a condition or an array of conditions", () => {
    assert.equal(
      parseError({ must: "a" }),
      'filter.must: expected a condition or an array of conditions, got "a"',
    );
    assert.equal(parseError({ should: [3] }), "filter.should[0]: expected a condition object, got 3");
  });
});

describe("parse error: condition shape", () => {
  it("lists the condition kinds when none is recognised", () => {
    assert.equal(
      parseError({ must: [{ foo: 1 }] }),
      "filter.must[0]: expected a condition: an object with key (a field condition), is_empty, is_null, " +
        'has_id, has_vector, slice, nested, or a filter (must, should, must_not, min_should), got {"foo":1}',
    );
  });
});

describe("parse error: field condition key", () => {
  it("wants a JSON path string", () => {
    assert.equal(
      parseError({ must: [{ key: 5, match: { value: 1 } }] }),
      'filter.must[0].key: expected a JSON path string such as "a.b" or "a[].b", got 5',
    );
  });

  it("rejects what Qdrant's path grammar rejects", () => {
    // Engine: "a b", "a.", ".a", "a[-1]", "a[]b", "a$" and a quoted key with a backslash are invalid paths.
    const message = (key: string) => parseError({ must: [{ key, match: { value: 1 } }] });
    assert.equal(message("a b"), 'filter.must[0].key: "a b" is not a JSON path: unexpected " " at offset 1');
    assert.equal(message("a."), 'filter.must[0].key: "a." is not a JSON path: expected a key at the end');
    assert.equal(
      message(".a"),
      'filter.must[0].key: ".a" is not a JSON path: expected a key at offset 0, got "." (quote keys with other characters)',
    );
    assert.equal(
      message("a[-1]"),
      'filter.must[0].key: "a[-1]" is not a JSON path: expected "[]" or "[<index>]" at offset 1',
    );
    assert.equal(
      message("a[]b"),
      'filter.must[0].key: "a[]b" is not a JSON path: unexpected "b" at offset 3',
    );
    assert.equal(message("a$"), 'filter.must[0].key: "a$" is not a JSON path: unexpected "$" at offset 1');
    assert.equal(
      message('"a\\b"'),
      'filter.must[0].key: "\\"a\\\\b\\"" is not a JSON path: a quoted key cannot contain a backslash (offset 2)',
    );
    assert.equal(
      message('"ab'),
      'filter.must[0].key: "\\"ab" is not a JSON path: unterminated quoted key at offset 0',
    );
  });
});

describe("parse error: field condition without a test", () => {
  it("needs at least one of the tests", () => {
    assert.equal(
      parseError({ must: [{ key: "a", match: null }] }),
      "filter.must[0]: a field condition needs at least one of match, range, geo_bounding_box, geo_radius, " +
        "geo_polygon, values_count, is_empty, is_null; it has only key",
    );
  });
});

describe("parse error: match", () => {
  it("wants one of the match kinds", () => {
    assert.equal(
      parseError(on({ match: { values: 1 } })),
      "filter.must[0].match: expected an object with one of value, text, text_any, phrase, prefix, substring, any, " +
        'except, got {"values":1}',
    );
  });

  it("match.value wants a string, an integer or a boolean", () => {
    assert.equal(
      parseError(on({ match: { value: 1.5 } })),
      "filter.must[0].match.value: expected a string, an integer or a boolean, got 1.5",
    );
    assert.equal(
      parseError(on({ match: { value: null } })),
      "filter.must[0].match.value: expected a string, an integer or a boolean, got null",
    );
  });

  it("text kinds want a string", () => {
    assert.equal(
      parseError(on({ match: { text: 5 } })),
      "filter.must[0].match.text: expected a string, got 5",
    );
  });

  it("any and except want a list of strings or of integers", () => {
    assert.equal(
      parseError(on({ match: { any: "a" } })),
      'filter.must[0].match.any: expected an array of strings or an array of integers, got "a"',
    );
    assert.equal(
      parseError(on({ match: { except: ["a", 1] } })),
      "filter.must[0].match.except[1]: expected a string like the first item, got 1",
    );
    assert.equal(
      parseError(on({ match: { any: [1, true] } })),
      "filter.must[0].match.any[1]: expected an integer like the first item, got true",
    );
  });
});

describe("parse error: range", () => {
  it("wants numbers, or datetime strings throughout", () => {
    assert.equal(
      parseError(on({ range: { gte: true } })),
      "filter.must[0].range.gte: expected a number or a datetime string, got true",
    );
    assert.equal(
      parseError(on({ range: { gte: "2020-01-01", lt: 5 } })),
      "filter.must[0].range.lt: expected a datetime string, as the other bounds are datetimes, got 5",
    );
    assert.equal(
      parseError(on({ range: 5 })),
      "filter.must[0].range: expected an object with lt, gt, gte or lte, got 5",
    );
  });

  it("names a bound that is not a datetime", () => {
    assert.equal(
      parseError({ must: [{ key: "a" }, { key: "b" }, { key: "price", range: { gte: "abc" } }] }),
      // The first two conditions are incomplete too, but the first error found is reported.
      "filter.must[0]: a field condition needs at least one of match, range, geo_bounding_box, geo_radius, " +
        "geo_polygon, values_count, is_empty, is_null; it has only key",
    );
    assert.equal(
      parseError({ must: [{ key: "price", range: { gte: "abc" } }] }),
      'filter.must[0].range.gte: expected an RFC 3339 datetime such as "2014-01-01T00:00:00Z", got "abc"',
    );
  });
});

describe("parse error: values_count", () => {
  it("wants non-negative integers", () => {
    assert.equal(
      parseError(on({ values_count: { gte: -1 } })),
      "filter.must[0].values_count.gte: expected a non-negative integer, got -1",
    );
    assert.equal(
      parseError(on({ values_count: { lt: 1.5 } })),
      "filter.must[0].values_count.lt: expected a non-negative integer, got 1.5",
    );
  });
});

describe("parse error: geo point", () => {
  it("wants numeric lon and lat within range", () => {
    const center = (c: unknown) => on({ geo_radius: { center: c, radius: 1 } });
    assert.equal(
      parseError(center({ lon: 181, lat: 0 })),
      "filter.must[0].geo_radius.center.lon: expected a longitude within [-180, 180], got 181",
    );
    assert.equal(
      parseError(center({ lon: 0, lat: -91 })),
      "filter.must[0].geo_radius.center.lat: expected a latitude within [-90, 90], got -91",
    );
    assert.equal(
      parseError(center({ lon: 0 })),
      "filter.must[0].geo_radius.center.lat: expected a number, got nothing",
    );
    assert.equal(
      parseError(on({ geo_radius: { center: { lon: 0, lat: 0 } } })),
      "filter.must[0].geo_radius.radius: expected a number of meters, got nothing",
    );
    assert.equal(
      parseError(on({ geo_bounding_box: { top_left: { lon: 0, lat: 0 } } })),
      "filter.must[0].geo_bounding_box.bottom_right: expected a geo point {lon, lat}, got nothing",
    );
  });
});

describe("parse error: geo polygon ring", () => {
  it("wants closed rings of at least 4 points", () => {
    const p = (lon: number, lat: number) => ({ lon, lat });
    assert.equal(
      parseError(on({ geo_polygon: { exterior: { points: [p(0, 0), p(1, 0), p(0, 0)] } } })),
      "filter.must[0].geo_polygon.exterior.points: a polygon ring needs at least 4 points, got 3",
    );
    assert.equal(
      parseError(on({ geo_polygon: { exterior: { points: [p(0, 0), p(1, 0), p(1, 1), p(0, 1)] } } })),
      "filter.must[0].geo_polygon.exterior.points: a polygon ring must be closed (its last point equal to its " +
        'first), got first {"lon":0,"lat":0} and last {"lon":0,"lat":1}',
    );
    const square = { points: [p(0, 0), p(1, 0), p(1, 1), p(0, 0)] };
    assert.equal(
      parseError(on({ geo_polygon: { exterior: square, interiors: [{ points: [] }] } })),
      "filter.must[0].geo_polygon.interiors[0].points: a polygon ring needs at least 4 points, got 0",
    );
  });
});

describe("parse error: is_empty and is_null", () => {
  it("want {key} with a JSON path", () => {
    assert.equal(
      parseError({ must: [{ is_empty: "a" }] }),
      'filter.must[0].is_empty: expected an object {key}, got "a"',
    );
    assert.equal(
      parseError({ must: [{ is_null: { key: "a b" } }] }),
      'filter.must[0].is_null.key: "a b" is not a JSON path: unexpected " " at offset 1',
    );
    assert.equal(
      parseError(on({ is_empty: "yes" })),
      'filter.must[0].is_empty: expected true or false, got "yes"',
    );
  });
});

describe("parse error: has_id", () => {
  it("wants an array of point ids", () => {
    assert.equal(
      parseError({ must: [{ has_id: 1 }] }),
      "filter.must[0].has_id: expected an array of point ids, got 1",
    );
    assert.equal(
      parseError({ must: [{ has_id: [1, "42"] }] }),
      'filter.must[0].has_id[1]: point id must be an unsigned integer or a UUID, got "42"',
    );
    assert.equal(
      parseError({ must: [{ has_id: [-1] }] }),
      "filter.must[0].has_id[0]: point id must be an unsigned integer or a UUID, got -1",
    );
  });
});

describe("parse error: has_vector", () => {
  it("wants a vector name", () => {
    assert.equal(
      parseError({ must: [{ has_vector: 1 }] }),
      "filter.must[0].has_vector: expected a vector name (a string), got 1",
    );
  });
});

describe("parse error: slice", () => {
  it("wants 1 <= total < 2^32 and index < total", () => {
    assert.equal(
      parseError({ must: [{ slice: { total: 0, index: 0 } }] }),
      "filter.must[0].slice.total: expected an integer from 1 to 4294967295, got 0",
    );
    assert.equal(
      parseError({ must: [{ slice: { total: 2, index: 2 } }] }),
      "filter.must[0].slice.index: must be less than total (2), got 2",
    );
  });
});

describe("parse error: nested", () => {
  it("wants a key and a filter", () => {
    assert.equal(
      parseError({ must: [{ nested: { key: "n" } }] }),
      "filter.must[0].nested.filter: expected a filter, got nothing",
    );
    assert.equal(
      parseError({
        must: [{ nested: { key: "n", filter: { must: [{ key: "x", match: { value: 1.5 } }] } } }],
      }),
      "filter.must[0].nested.filter.must[0].match.value: expected a string, an integer or a boolean, got 1.5",
    );
  });
});

describe("parse error: min_should", () => {
  it("wants conditions and a positive min_count", () => {
    assert.equal(
      parseError({ min_should: { conditions: [], min_count: 0 } }),
      "filter.min_should.min_count: must be greater than 0 (a min_should of 0 matches everything)",
    );
    assert.equal(
      parseError({ min_should: { conditions: {}, min_count: 1 } }),
      "filter.min_should.conditions: expected an array of conditions, got {}",
    );
    assert.equal(
      parseError({ min_should: { conditions: [], min_count: "1" } }),
      'filter.min_should.min_count: expected a positive integer, got "1"',
    );
  });
});

describe("parse error: nesting depth", () => {
  it("refuses filters nested deeper than Qdrant's JSON reader allows", () => {
    let deep: Json = {};
    for (let i = 0; i < 70; i++) deep = { must: [deep] };
    assert.match(parseError(deep), /filters nest more than 64 levels deep$/);
    let fine: Json = {};
    for (let i = 0; i < 60; i++) fine = { must: [fine] };
    assert.equal(compileFilter(parseFilter(fine))(view({})), true);
  });
});

describe("where this differs from Qdrant Edge 0.9", () => {
  it("matches an integral float as the integer, because JSON.parse cannot keep 1.0 apart from 1", () => {
    // Engine: {value: 1} does not match a stored 1.0, and except: [1] passes it. A JavaScript payload holds the
    // number 1 either way, so here both treat it as 1.
    assert.equal(passes(on({ match: { value: 1 } }), JSON.parse('{"a": 1.0}')), true);
    assert.equal(passes(on({ match: { except: [1] } }), JSON.parse('{"a": 1.0}')), false);
  });

  it("compares stored floats exactly, where the engine's payload storage may have moved them by an ulp", () => {
    // Engine: payload floats go through a float parser that is not correctly rounded; about one random double
    // in ten comes back one ulp off (24.570979250431062 becomes 24.570979250431066), so there
    // range gte = lte = 24.570979250431062 misses the payload 24.570979250431062. We keep the value exact.
    const x = 24.570979250431062;
    assert.equal(passes(on({ range: { gte: x, lte: x } }), { a: x }), true);
  });
});
