//! Raw scores of two vectors, per metric and datatype (`ABI.md`, "Raw scores"):
//! cosine and dot give the dot product (for u8, cosine is the full `dot / (|a| |b|)`), euclid the squared
//! L2 distance, manhattan the L1 distance. `score` uses the SIMD kernels, `scoreScalar` the references.

const std = @import("std");
const assert = std.debug.assert;
const types = @import("../types.zig");
const float = @import("float.zig");
const int8 = @import("int8.zig");

const Datatype = types.Datatype;
const Metric = types.Metric;

/// SIMD score of two vectors of `E`.
pub inline fn score(comptime E: type, comptime metric: Metric, a: []const E, b: []const E) f32 {
    assert(a.len == b.len);
    return scoreBatch(E, metric, 1, a, .{b.ptr})[0];
}

/// SIMD scores of `query` against `R` records of `query.len` elements. A record's score is the same
/// whatever `R` and its place in the batch.
pub inline fn scoreBatch(
    comptime E: type,
    comptime metric: Metric,
    comptime R: comptime_int,
    query: []const E,
    records: [R][*]const E,
) [R]f32 {
    if (E == u8) return scoreBatchU8(metric, R, query, records);
    return float.vectorizedBatch(E, floatSum(metric), R, query, records);
}

fn scoreBatchU8(comptime metric: Metric, comptime R: comptime_int, query: []const u8, records: [R][*]const u8) [R]f32 {
    var scores: [R]f32 = undefined;
    if (metric == .cosine) {
        for (&scores, int8.cosineBatch(R, query, records)) |*out, sums| out.* = int8.cosineScore(sums);
    } else {
        for (&scores, int8.vectorizedBatch(int8Sum(metric), R, query, records)) |*out, total| {
            out.* = @floatFromInt(total);
        }
    }
    return scores;
}

/// Scalar reference score of two vectors of `E`.
pub fn scoreScalar(comptime E: type, comptime metric: Metric, a: []const E, b: []const E) f32 {
    if (E != u8) return float.scalar(E, floatSum(metric), a, b);
    if (metric == .cosine) return int8.cosineScore(int8.cosineScalar(a, b));
    return @floatFromInt(int8.scalar(int8Sum(metric), a, b));
}

fn floatSum(comptime metric: Metric) float.Sum {
    return switch (metric) {
        .cosine, .dot => .dot,
        .euclid => .l2_squared,
        .manhattan => .l1,
    };
}

fn int8Sum(comptime metric: Metric) int8.Sum {
    return switch (metric) {
        .cosine => unreachable, // Cosine needs three sums; see `int8.cosineBatch`.
        .dot => .dot,
        .euclid => .l2_squared,
        .manhattan => .l1,
    };
}

/// Score of two vectors given as raw element memory, dispatched at run time (for `edge_distance`).
pub fn scoreRaw(metric: Metric, datatype: Datatype, a: [*]const u8, b: [*]const u8, dim: u32) f32 {
    assert(dim > 0);
    assert(dim <= types.dim_max);
    switch (datatype) {
        inline else => |datatype_comptime| {
            const E = datatype_comptime.Elem();
            assert(@intFromPtr(a) % @alignOf(E) == 0);
            assert(@intFromPtr(b) % @alignOf(E) == 0);
            const a_typed: [*]const E = @ptrCast(@alignCast(a));
            const b_typed: [*]const E = @ptrCast(@alignCast(b));
            switch (metric) {
                inline else => |metric_comptime| {
                    return score(E, metric_comptime, a_typed[0..dim], b_typed[0..dim]);
                },
            }
        },
    }
}

test {
    _ = @import("simd.zig");
    _ = @import("float.zig");
    _ = @import("int8.zig");
    _ = @import("distance_test.zig");
}
