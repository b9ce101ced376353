//! Vector widths and helpers chosen at compile time from the target CPU, so that one source gives
//! 4 f32 lanes on SSE2 and NEON, 8 with AVX2 and 16 with AVX-512.

const std = @import("std");
const builtin = @import("builtin");

const is_x86_64 = builtin.cpu.arch == .x86_64;
const is_aarch64 = builtin.cpu.arch == .aarch64;

pub const has_avx512 = is_x86_64 and builtin.cpu.has(.x86, .avx512f);
pub const has_avx2 = is_x86_64 and builtin.cpu.has(.x86, .avx2);
/// A fused multiply-add instruction exists; without one `@mulAdd` would become a slow library call.
pub const has_fma = is_aarch64 or (is_x86_64 and builtin.cpu.has(.x86, .fma));
/// f16 to f32 conversion has an instruction (F16C or AArch64 FCVTL); otherwise it is done with
/// integer bit manipulation, which vectorises on plain SSE2.
pub const has_f16_convert = is_aarch64 or (is_x86_64 and builtin.cpu.has(.x86, .f16c));

/// Width of one SIMD register.
pub const register_bytes: comptime_int = if (has_avx512) 64 else if (has_avx2) 32 else 16;
/// f32 lanes per register.
pub const lanes_f32: comptime_int = register_bytes / 4;
/// Independent accumulators per kernel: enough to hide the latency of add or FMA chains.
pub const accumulators: comptime_int = 4;

pub const VectorF32 = @Vector(lanes_f32, f32);

/// `accumulator + a * b`, fused when the target has FMA.
pub inline fn mulAdd(a: VectorF32, b: VectorF32, accumulator: VectorF32) VectorF32 {
    if (has_fma) return @mulAdd(VectorF32, a, b, accumulator);
    return accumulator + a * b;
}

/// Sum of the lanes by halving: (lanes 0..n/2 + lanes n/2..n), and again, so the reduction is
/// log2(lanes) vector adds instead of a chain of scalar adds. The order is fixed, so results are
/// deterministic.
pub inline fn sumLanes(v: VectorF32) f32 {
    const two = switch (lanes_f32) {
        4 => fold(4, v),
        8 => fold(4, fold(8, v)),
        16 => fold(4, fold(8, fold(16, v))),
        else => @compileError("unsupported lane count"),
    };
    return fold(2, two)[0];
}

inline fn fold(comptime width: comptime_int, v: @Vector(width, f32)) @Vector(width / 2, f32) {
    const half = width / 2;
    const low = @shuffle(f32, v, undefined, laneMask(half, 0));
    const high = @shuffle(f32, v, undefined, laneMask(half, half));
    return low + high;
}

fn laneMask(comptime len: comptime_int, comptime first: i32) @Vector(len, i32) {
    var mask: [len]i32 = undefined;
    for (&mask, 0..) |*lane, i| lane.* = first + @as(i32, @intCast(i));
    return mask;
}

/// Exact conversion of f16 bit patterns to f32, vectorised.
pub inline fn f16ToF32(bits: @Vector(lanes_f32, u16)) VectorF32 {
    if (has_f16_convert) {
        const halves: @Vector(lanes_f32, f16) = @bitCast(bits);
        return @floatCast(halves);
    }
    return f16ToF32Bits(bits);
}

/// f16 → f32 without a conversion instruction. The magnitude bits, moved into f32 position, read as an
/// f32 that is 2^112 too small (for subnormals too), so one multiply by 2^112 rescales it exactly;
/// infinities and NaNs get the all-ones f32 exponent; the sign is moved last.
pub inline fn f16ToF32Bits(bits: @Vector(lanes_f32, u16)) VectorF32 {
    const U = @Vector(lanes_f32, u32);
    const wide: U = bits;
    const sign = (wide & @as(U, @splat(0x8000))) << @splat(16);
    const magnitude = (wide & @as(U, @splat(0x7fff))) << @splat(13);
    const scaled: VectorF32 = @as(VectorF32, @bitCast(magnitude)) * @as(VectorF32, @splat(0x1p112));
    const special = (wide & @as(U, @splat(0x7c00))) == @as(U, @splat(0x7c00));
    const finite_bits: U = @bitCast(scaled);
    const special_bits = magnitude | @as(U, @splat(0x7f80_0000));
    return @bitCast(@select(u32, special, special_bits, finite_bits) | sign);
}

test "f16 bit conversion is exact for every f16 value" {
    var bits: u32 = 0;
    while (bits < 0x1_0000) : (bits += lanes_f32) {
        var input: [lanes_f32]u16 = undefined;
        for (&input, 0..) |*lane, i| lane.* = @intCast(bits + i);
        const converted: [lanes_f32]f32 = f16ToF32Bits(input);
        const reference: [lanes_f32]f32 = f16ToF32(input);
        for (input, converted, reference) |half_bits, got, vector_ref| {
            const expected: f32 = @floatCast(@as(f16, @bitCast(half_bits)));
            if (std.math.isNan(expected)) {
                try std.testing.expect(std.math.isNan(got));
                try std.testing.expect(std.math.isNan(vector_ref));
            } else {
                try std.testing.expectEqual(@as(u32, @bitCast(expected)), @as(u32, @bitCast(got)));
                try std.testing.expectEqual(@as(u32, @bitCast(expected)), @as(u32, @bitCast(vector_ref)));
            }
        }
    }
}

test "sumLanes adds every lane" {
    var values: [lanes_f32]f32 = undefined;
    for (&values, 0..) |*x, i| x.* = @floatFromInt(i + 1);
    try std.testing.expectEqual(@as(f32, @floatFromInt(lanes_f32 * (lanes_f32 + 1) / 2)), sumLanes(values));
}
