//! Scalar reference against SIMD kernel, for every metric and datatype, on seeded random vectors.

const std = @import("std");
const types = @import("../types.zig");
const distance = @import("distance.zig");

const Metric = types.Metric;
const dims = [_]u32{ 1, 3, 17, 383, 384, 1536, 4096 };
const seed: u64 = 0x5eed_d157;

fn fillFloat(comptime E: type, random: std.Random, out: []E) void {
    for (out) |*x| x.* = @floatCast(random.float(f32) * 2 - 1);
}

/// Small integers: every partial sum is exact in f32, so any evaluation order gives the same result.
fn fillSmallIntegers(comptime E: type, random: std.Random, out: []E) void {
    for (out) |*x| x.* = @floatFromInt(random.intRangeAtMost(i8, -8, 8));
}

/// Bound on the rounding difference between two summation orders of the same terms:
/// each order errs by at most (n - 1) * 2^-24 * sum(|term|).
fn tolerance(comptime E: type, comptime metric: Metric, a: []const E, b: []const E) f64 {
    var magnitude: f64 = 0;
    for (a, b) |x_elem, y_elem| {
        const x: f64 = @floatCast(@as(f32, x_elem));
        const y: f64 = @floatCast(@as(f32, y_elem));
        magnitude += switch (metric) {
            .cosine, .dot => @abs(x * y),
            .euclid => (x - y) * (x - y),
            .manhattan => @abs(x - y),
        };
    }
    return 2 * @as(f64, @floatFromInt(a.len)) * 0x1p-24 * magnitude + 1e-30;
}

fn expectAgreementFloat(comptime E: type, comptime metric: Metric, a: []const E, b: []const E) !void {
    const reference = distance.scoreScalar(E, metric, a, b);
    const got = distance.score(E, metric, a, b);
    const difference: f64 = @abs(@as(f64, reference) - @as(f64, got));
    const bound = tolerance(E, metric, a, b);
    if (difference > bound) {
        std.debug.print("{s} {s} dim {d}: scalar {d}, simd {d}, bound {d}\n", .{
            @typeName(E), @tagName(metric), a.len, reference, got, bound,
        });
        return error.TestExpectedApproxEq;
    }
}

fn checkFloat(comptime E: type, exact: bool) !void {
    var prng = std.Random.DefaultPrng.init(seed);
    const random = prng.random();
    var a: [4096]E = undefined;
    var b: [4096]E = undefined;
    for (dims) |dim| {
        if (exact) {
            fillSmallIntegers(E, random, a[0..dim]);
            fillSmallIntegers(E, random, b[0..dim]);
        } else {
            fillFloat(E, random, a[0..dim]);
            fillFloat(E, random, b[0..dim]);
        }
        inline for (comptime std.enums.values(Metric)) |metric| {
            if (exact) {
                try std.testing.expectEqual(
                    distance.scoreScalar(E, metric, a[0..dim], b[0..dim]),
                    distance.score(E, metric, a[0..dim], b[0..dim]),
                );
            } else {
                try expectAgreementFloat(E, metric, a[0..dim], b[0..dim]);
            }
        }
    }
}

test "f32 SIMD kernels agree with the scalar reference within rounding" {
    try checkFloat(f32, false);
}

test "f32 SIMD kernels equal the scalar reference when sums are exact" {
    try checkFloat(f32, true);
}

test "f16 SIMD kernels agree with the scalar reference within rounding" {
    try checkFloat(f16, false);
}

test "f16 SIMD kernels equal the scalar reference when sums are exact" {
    try checkFloat(f16, true);
}

test "u8 SIMD kernels equal the scalar reference exactly" {
    var prng = std.Random.DefaultPrng.init(seed);
    const random = prng.random();
    var a: [4096]u8 = undefined;
    var b: [4096]u8 = undefined;
    for (dims) |dim| {
        random.bytes(a[0..dim]);
        random.bytes(b[0..dim]);
        inline for (comptime std.enums.values(Metric)) |metric| {
            try std.testing.expectEqual(
                distance.scoreScalar(u8, metric, a[0..dim], b[0..dim]),
                distance.score(u8, metric, a[0..dim], b[0..dim]),
            );
        }
    }
}

test "scoreRaw dispatches on metric and datatype" {
    const a = [_]f32{ 0.6, 0.8 };
    const b = [_]f32{ 0.8, 0.6 };
    const raw_a: [*]const u8 = @ptrCast(&a);
    const raw_b: [*]const u8 = @ptrCast(&b);
    try std.testing.expectApproxEqAbs(@as(f32, 0.96), distance.scoreRaw(.cosine, .f32, raw_a, raw_b, 2), 1e-6);
    try std.testing.expectApproxEqAbs(@as(f32, 0.08), distance.scoreRaw(.euclid, .f32, raw_a, raw_b, 2), 1e-6);
    try std.testing.expectApproxEqAbs(@as(f32, 0.4), distance.scoreRaw(.manhattan, .f32, raw_a, raw_b, 2), 1e-6);
    const x = [_]u8{ 3, 4 };
    const y = [_]u8{ 4, 3 };
    try std.testing.expectApproxEqAbs(@as(f32, 24.0 / 25.0), distance.scoreRaw(.cosine, .u8, &x, &y, 2), 1e-6);
    try std.testing.expectEqual(@as(f32, 24), distance.scoreRaw(.dot, .u8, &x, &y, 2));
    const h = [_]f16{ 1.5, -2 };
    const g = [_]f16{ 2, 0.5 };
    try std.testing.expectEqual(@as(f32, 2), distance.scoreRaw(.dot, .f16, @ptrCast(&h), @ptrCast(&g), 2));
}

fn checkBatchEqualsSingle(comptime E: type) !void {
    var prng = std.Random.DefaultPrng.init(seed + 1);
    const random = prng.random();
    const batch = 4;
    var query: [4096]E = undefined;
    var records: [batch][4096]E = undefined;
    for (dims) |dim| {
        if (E == u8) {
            random.bytes(query[0..dim]);
            for (&records) |*record| random.bytes(record[0..dim]);
        } else {
            fillFloat(E, random, query[0..dim]);
            for (&records) |*record| fillFloat(E, random, record[0..dim]);
        }
        var pointers: [batch][*]const E = undefined;
        for (&pointers, &records) |*pointer, *record| pointer.* = record;
        inline for (comptime std.enums.values(Metric)) |metric| {
            const scores = distance.scoreBatch(E, metric, batch, query[0..dim], pointers);
            for (scores, &records) |got, *record| {
                try std.testing.expectEqual(distance.score(E, metric, query[0..dim], record[0..dim]), got);
            }
        }
    }
}

test "a batch of records scores exactly as each record alone" {
    try checkBatchEqualsSingle(f32);
    try checkBatchEqualsSingle(f16);
    try checkBatchEqualsSingle(u8);
}
