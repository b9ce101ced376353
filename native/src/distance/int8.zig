//! Kernels for u8 vectors in exact integer arithmetic: a scalar reference and a SIMD version.
//!
//! Every per-element term fits in 16 bits (255 * 255 = 65025 < 2^16, and so does (a - b)^2), so the
//! SIMD version multiplies in u16 lanes (one instruction even on SSE2) and widens each term to u32 lanes
//! to add. A u32 lane sums at most `dim_max / lanes` terms: 65536 / 8 * 65025 < 2^32. Totals are u64.

const std = @import("std");
const assert = std.debug.assert;
const simd = @import("simd.zig");
const types = @import("../types.zig");

pub const Sum = enum { dot, l2_squared, l1 };

/// The three sums cosine needs, from one pass.
pub const CosineSums = struct { dot: u64, norm_a: u64, norm_b: u64 };

/// u16 lanes in one register; loads read this many bytes.
const lanes = simd.register_bytes / 2;
const Bytes = @Vector(lanes, u8);
const Wide = @Vector(lanes, u16);
const Acc = @Vector(lanes, u32);

comptime {
    assert(@as(u64, types.dim_max / lanes) * 65025 < std.math.maxInt(u32));
}

pub fn scalar(comptime sum: Sum, a: []const u8, b: []const u8) u64 {
    assert(a.len == b.len);
    assert(a.len <= types.dim_max);
    var total: u64 = 0;
    for (a, b) |x, y| total += termScalar(sum, x, y);
    return total;
}

pub fn vectorized(comptime sum: Sum, a: []const u8, b: []const u8) u64 {
    assert(a.len == b.len);
    return vectorizedBatch(sum, 1, a, .{b.ptr})[0];
}

/// Sums of `query` against `R` records of `query.len` bytes each, the query loaded once per step.
/// Integer sums are exact, so a record's sum never depends on its batch.
pub fn vectorizedBatch(comptime sum: Sum, comptime R: comptime_int, query: []const u8, records: [R][*]const u8) [R]u64 {
    comptime assert(R >= 1 and R <= 8);
    assert(query.len <= types.dim_max);
    var accumulators: [R]Acc = @splat(@splat(0));
    var i: usize = 0;
    {
        @setRuntimeSafety(false);
        while (i + lanes <= query.len) : (i += lanes) {
            const x = load(query.ptr, i);
            inline for (records, &accumulators) |record, *accumulator| {
                accumulator.* += termVector(sum, x, load(record, i));
            }
        }
    }
    var totals: [R]u64 = undefined;
    inline for (&totals, records, accumulators) |*total, record, accumulator| {
        total.* = reduce(accumulator);
        for (query[i..], record[i..query.len]) |x, y| total.* += termScalar(sum, x, y);
    }
    return totals;
}

pub fn cosineScalar(a: []const u8, b: []const u8) CosineSums {
    return .{ .dot = scalar(.dot, a, b), .norm_a = scalar(.dot, a, a), .norm_b = scalar(.dot, b, b) };
}

pub fn cosineVectorized(a: []const u8, b: []const u8) CosineSums {
    assert(a.len == b.len);
    return cosineBatch(1, a, .{b.ptr})[0];
}

/// The cosine sums of `query` against `R` records. Each record's norm is summed right after its dot
/// product, while the record is still in L1 cache.
pub fn cosineBatch(comptime R: comptime_int, query: []const u8, records: [R][*]const u8) [R]CosineSums {
    const dots = vectorizedBatch(.dot, R, query, records);
    const norm_query = vectorized(.dot, query, query);
    var sums: [R]CosineSums = undefined;
    inline for (&sums, dots, records) |*out, dot, record| {
        const own = record[0..query.len];
        out.* = .{ .dot = dot, .norm_a = norm_query, .norm_b = vectorized(.dot, own, own) };
    }
    return sums;
}

/// `dot / (|a| * |b|)`, 0 when either norm is 0 (as Qdrant does for u8 vectors).
pub fn cosineScore(sums: CosineSums) f32 {
    assert(@as(u128, sums.dot) * sums.dot <= @as(u128, sums.norm_a) * sums.norm_b); // Cauchy-Schwarz.
    if (sums.norm_a == 0 or sums.norm_b == 0) return 0;
    const norms = @sqrt(@as(f64, @floatFromInt(sums.norm_a))) * @sqrt(@as(f64, @floatFromInt(sums.norm_b)));
    return @floatCast(@as(f64, @floatFromInt(sums.dot)) / norms);
}

inline fn load(p: [*]const u8, i: usize) Wide {
    const bytes: Bytes = p[i..][0..lanes].*;
    return bytes;
}

inline fn reduce(accumulator: Acc) u64 {
    return @reduce(.Add, @as(@Vector(lanes, u64), accumulator));
}

/// Each term is exact in u16 (see the file comment), then widened for the sum.
inline fn termVector(comptime sum: Sum, x: Wide, y: Wide) Acc {
    const term: Wide = switch (sum) {
        .dot => x *% y,
        .l2_squared => (x -% y) *% (x -% y),
        .l1 => @bitCast(@abs(@as(@Vector(lanes, i16), @bitCast(x -% y)))),
    };
    return term;
}

inline fn termScalar(comptime sum: Sum, x: u8, y: u8) u64 {
    const difference = @as(i32, x) - @as(i32, y);
    return switch (sum) {
        .dot => @as(u64, x) * y,
        .l2_squared => @intCast(difference * difference),
        .l1 => @abs(difference),
    };
}

test "u8 kernels give the textbook values" {
    const a = [_]u8{ 1, 2, 255 };
    const b = [_]u8{ 4, 0, 255 };
    inline for (.{ scalar, vectorized }) |kernel| {
        try std.testing.expectEqual(@as(u64, 4 + 0 + 65025), kernel(.dot, &a, &b));
        try std.testing.expectEqual(@as(u64, 9 + 4 + 0), kernel(.l2_squared, &a, &b));
        try std.testing.expectEqual(@as(u64, 3 + 2 + 0), kernel(.l1, &a, &b));
    }
    try std.testing.expectEqual(@as(f32, 0), cosineScore(cosineVectorized(&a, &[_]u8{ 0, 0, 0 })));
    try std.testing.expectApproxEqRel(@as(f32, 1), cosineScore(cosineVectorized(&a, &a)), 1e-6);
}

test "u8 sums at 255 do not overflow at the largest dimension" {
    const a = try std.testing.allocator.alloc(u8, types.dim_max);
    defer std.testing.allocator.free(a);
    const b = try std.testing.allocator.alloc(u8, types.dim_max);
    defer std.testing.allocator.free(b);
    @memset(a, 255);
    @memset(b, 0);
    const expected_square: u64 = @as(u64, types.dim_max) * 65025;
    try std.testing.expectEqual(expected_square, vectorized(.dot, a, a));
    try std.testing.expectEqual(expected_square, vectorized(.l2_squared, a, b));
    try std.testing.expectEqual(@as(u64, types.dim_max) * 255, vectorized(.l1, a, b));
    const sums = cosineVectorized(a, a);
    try std.testing.expectEqual(expected_square, sums.norm_b);
}
