import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { grown, KeptBuffer } from "../lib/storage/growable.ts";

describe("grown", () => {
  it("returns the array when long enough, else a copy at least twice as long", () => {
    const a = Uint32Array.of(1, 2, 3);
    assert.equal(grown(a, 3), a);
    const b = grown(a, 4);
    assert.ok(b.length >= 64);
    assert.deepEqual([...b.subarray(0, 4)], [1, 2, 3, 0]);
  });
});

describe("KeptBuffer", () => {
  it("hands out the same memory while it is large enough, and grows with a quarter to spare", () => {
    const kept = new KeptBuffer();
    const first = kept.take(1000);
    assert.equal(first.byteLength, 1250);
    assert.equal(kept.take(1250), first);
    assert.equal(kept.take(10), first);
    const second = kept.take(1251);
    assert.notEqual(second, first);
    assert.ok(second.byteLength >= 1251);
    assert.equal(kept.take(1000), second);
  });

  it("does not keep memory over 64 MB", () => {
    const kept = new KeptBuffer();
    const small = kept.take(1024);
    const huge = kept.take(64 << 20);
    assert.ok(huge.byteLength >= 64 << 20);
    assert.equal(kept.take(1024), small);
  });
});
