//! Binary codes: one bit per element, packed into little-endian u64 words (element `j` is bit `j % 64`
//! of word `j / 64`; the bits past `dim` in the last word are zero). Two codes are compared by the
//! Hamming distance, `popcount(a XOR b)`, in exact integer arithmetic: a scalar reference and a SIMD
//! version over vectors of u64 lanes, which must agree exactly.

const std = @import("std");
const assert = std.debug.assert;
const simd = @import("../distance/simd.zig");
const types = @import("../types.zig");

/// u64 lanes in one SIMD register (2 on SSE2 and NEON, 4 with AVX2, 8 with AVX-512).
const lanes = simd.register_bytes / 8;
const Words = @Vector(lanes, u64);

/// Words of one code of `dim` elements.
pub fn wordCount(dim: u32) u32 {
    assert(dim > 0);
    assert(dim <= types.dim_max);
    return (dim + 63) / 64;
}

/// Reference: one word at a time.
pub fn hammingScalar(a: []const u64, b: []const u64) u64 {
    assert(a.len == b.len);
    var total: u64 = 0;
    for (a, b) |x, y| total += @popCount(x ^ y);
    return total;
}

/// SIMD Hamming distance of one pair of codes.
pub fn hamming(a: []const u64, b: []const u64) u64 {
    assert(a.len == b.len);
    return hammingBatch(1, a, .{b.ptr})[0];
}

/// Hamming distances of `query` to `R` codes of `query.len` words, the query loaded once per step.
/// Integer sums are exact, so a code's distance never depends on its batch.
pub fn hammingBatch(comptime R: comptime_int, query: []const u64, records: [R][*]const u64) [R]u64 {
    comptime assert(R >= 1 and R <= 8);
    assert(query.len <= wordCount(types.dim_max));
    var accumulators: [R]Words = @splat(@splat(0));
    var i: usize = 0;
    {
        @setRuntimeSafety(false);
        while (i + lanes <= query.len) : (i += lanes) {
            const x: Words = query[i..][0..lanes].*;
            inline for (records, &accumulators) |record, *accumulator| {
                const y: Words = record[i..][0..lanes].*;
                accumulator.* += @as(Words, @popCount(x ^ y));
            }
        }
    }
    assert(query.len - i < lanes);
    var totals: [R]u64 = undefined;
    inline for (&totals, records, accumulators) |*total, record, accumulator| {
        total.* = @reduce(.Add, accumulator);
        for (query[i..], record[i..query.len]) |x, y| total.* += @popCount(x ^ y);
    }
    return totals;
}

test "hamming distance gives the textbook values" {
    const a = [_]u64{ 0, std.math.maxInt(u64), 0b1010 };
    const b = [_]u64{ 1, 0, 0b0110 };
    try std.testing.expectEqual(@as(u64, 1 + 64 + 2), hammingScalar(&a, &b));
    try std.testing.expectEqual(@as(u64, 1 + 64 + 2), hamming(&a, &b));
    try std.testing.expectEqual(@as(u64, 0), hamming(&a, &a));
}
