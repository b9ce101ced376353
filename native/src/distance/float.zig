//! Kernels for f32 and f16 vectors: a scalar reference and a SIMD version of each sum, in f32.
//! f16 elements are widened to f32 in registers. Cosine is the dot product (inputs are normalised by the
//! caller), so there are three sums: dot, squared L2 and L1.
//!
//! The SIMD kernel scores one query against `R` records at once: the query is loaded once per step
//! and the records stream side by side, which keeps more loads in flight and halves the query loads.
//! Every record gets exactly the arithmetic it would get alone (two accumulators, the same steps, the
//! same reduction), so a score never depends on the batch a record was scored in.

const std = @import("std");
const assert = std.debug.assert;
const simd = @import("simd.zig");
const types = @import("../types.zig");

pub const Sum = enum { dot, l2_squared, l1 };

const lanes = simd.lanes_f32;
const V = simd.VectorF32;

/// Reference: one element at a time, accumulated in order.
pub fn scalar(comptime E: type, comptime sum: Sum, a: []const E, b: []const E) f32 {
    comptime assert(E == f32 or E == f16);
    assert(a.len == b.len);
    assert(a.len <= types.dim_max);
    var total: f32 = 0;
    for (a, b) |x, y| total += term(sum, x, y);
    return total;
}

/// SIMD sum of one pair of vectors.
pub fn vectorized(comptime E: type, comptime sum: Sum, a: []const E, b: []const E) f32 {
    assert(a.len == b.len);
    return vectorizedBatch(E, sum, 1, a, .{b.ptr})[0];
}

/// SIMD sums of `query` against `R` records of `query.len` elements each. Per record: two accumulators
/// of `lanes` take alternate steps, one more single step if a full register remains, a reduction, then
/// a scalar tail.
pub fn vectorizedBatch(
    comptime E: type,
    comptime sum: Sum,
    comptime R: comptime_int,
    query: []const E,
    records: [R][*]const E,
) [R]f32 {
    comptime assert(E == f32 or E == f16);
    comptime assert(R >= 1 and R <= 8);
    assert(query.len <= types.dim_max);
    const n = query.len;
    var even: [R]V = @splat(@splat(0));
    var odd: [R]V = @splat(@splat(0));
    var i: usize = 0;
    {
        @setRuntimeSafety(false);
        while (i + 2 * lanes <= n) : (i += 2 * lanes) {
            const q_even = load(E, query.ptr, i);
            const q_odd = load(E, query.ptr, i + lanes);
            inline for (records, &even, &odd) |record, *accumulator_even, *accumulator_odd| {
                accumulator_even.* = accumulate(sum, accumulator_even.*, q_even, load(E, record, i));
                accumulator_odd.* = accumulate(sum, accumulator_odd.*, q_odd, load(E, record, i + lanes));
            }
        }
        if (i + lanes <= n) {
            const q_even = load(E, query.ptr, i);
            inline for (records, &even) |record, *accumulator| {
                accumulator.* = accumulate(sum, accumulator.*, q_even, load(E, record, i));
            }
            i += lanes;
        }
    }
    assert(n - i < lanes);
    var totals: [R]f32 = undefined;
    inline for (&totals, records, even, odd) |*total, record, accumulator_even, accumulator_odd| {
        total.* = simd.sumLanes(accumulator_even + accumulator_odd);
        for (query[i..n], record[i..n]) |x, y| total.* += term(sum, x, y);
    }
    return totals;
}

inline fn load(comptime E: type, p: [*]const E, i: usize) V {
    if (E == f32) return p[i..][0..lanes].*;
    const halves: @Vector(lanes, f16) = p[i..][0..lanes].*;
    return simd.f16ToF32(@bitCast(halves));
}

inline fn accumulate(comptime sum: Sum, accumulator: V, x: V, y: V) V {
    return switch (sum) {
        .dot => simd.mulAdd(x, y, accumulator),
        .l2_squared => simd.mulAdd(x - y, x - y, accumulator),
        .l1 => accumulator + @abs(x - y),
    };
}

inline fn term(comptime sum: Sum, x_elem: anytype, y_elem: anytype) f32 {
    const x: f32 = x_elem;
    const y: f32 = y_elem;
    return switch (sum) {
        .dot => x * y,
        .l2_squared => (x - y) * (x - y),
        .l1 => @abs(x - y),
    };
}

test "f32 kernels give the textbook values" {
    const a = [_]f32{ 1, 2, 3 };
    const b = [_]f32{ 4, -5, 6 };
    inline for (.{ scalar, vectorized }) |kernel| {
        try std.testing.expectEqual(@as(f32, 12), kernel(f32, .dot, &a, &b));
        try std.testing.expectEqual(@as(f32, 9 + 49 + 9), kernel(f32, .l2_squared, &a, &b));
        try std.testing.expectEqual(@as(f32, 3 + 7 + 3), kernel(f32, .l1, &a, &b));
    }
}
