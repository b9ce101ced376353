//! Conversions between the f32 values of the ABI and the stored datatypes (`ABI.md`, edge_storage_put):
//! f16 rounds to nearest even; u8 follows Rust's `as u8`, which Qdrant uses: truncate toward zero,
//! saturate to 0..255, NaN → 0.

const std = @import("std");
const assert = std.debug.assert;

pub fn toU8(value: f32) u8 {
    // `!(value > 0)` also catches NaN.
    if (!(value > 0)) return 0;
    if (value >= 255) return 255;
    return @intFromFloat(@trunc(value));
}

pub fn toF16(value: f32) f16 {
    return @floatCast(value);
}

/// Converts f32 values to element type `E`.
pub fn fromF32(comptime E: type, source: []const f32, target: []E) void {
    assert(source.len == target.len);
    for (source, target) |value, *out| {
        out.* = switch (E) {
            f32 => value,
            f16 => toF16(value),
            u8 => toU8(value),
            else => @compileError("unsupported element type"),
        };
    }
}

/// Converts elements of type `E` to f32 values (exact for every datatype).
pub fn toF32(comptime E: type, source: []const E, target: []f32) void {
    assert(source.len == target.len);
    for (source, target) |value, *out| {
        out.* = switch (E) {
            f32, f16 => value,
            u8 => @floatFromInt(value),
            else => @compileError("unsupported element type"),
        };
    }
}

test "u8 conversion truncates toward zero, saturates and maps NaN to 0" {
    const cases = [_]struct { f32, u8 }{
        .{ 0, 0 },               .{ 0.99, 0 },         .{ 1, 1 },   .{ 1.5, 1 },
        .{ 254.999, 254 },       .{ 255, 255 },        .{ 256, 255 }, .{ 1e30, 255 },
        .{ -0.5, 0 },            .{ -1, 0 },           .{ -1e30, 0 }, .{ std.math.nan(f32), 0 },
        .{ std.math.inf(f32), 255 }, .{ -std.math.inf(f32), 0 }, .{ -0.0, 0 }, .{ 127.7, 127 },
    };
    for (cases) |case| try std.testing.expectEqual(case[1], toU8(case[0]));
}

test "f16 conversion rounds to nearest even" {
    // 1 + 2^-11 lies halfway between 1 and the next f16 (1 + 2^-10): ties go to the even mantissa, 1.
    try std.testing.expectEqual(@as(f16, 1), toF16(1 + 0x1p-11));
    // 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
    try std.testing.expectEqual(@as(f16, 1 + 0x1p-9), toF16(1 + 3 * 0x1p-11));
    try std.testing.expectEqual(std.math.inf(f16), toF16(1e6));
    try std.testing.expectEqual(@as(f16, 65504), toF16(65504));
}

test "conversions round trip the values each datatype can hold" {
    const source = [_]f32{ 0, 1, 2.5, 255, 17 };
    var halves: [5]f16 = undefined;
    var bytes: [5]u8 = undefined;
    var back: [5]f32 = undefined;
    fromF32(f16, &source, &halves);
    toF32(f16, &halves, &back);
    try std.testing.expectEqualSlices(f32, &source, &back);
    fromF32(u8, &source, &bytes);
    toF32(u8, &bytes, &back);
    try std.testing.expectEqualSlices(f32, &[_]f32{ 0, 1, 2, 255, 17 }, &back);
}
