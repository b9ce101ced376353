//! The read-bandwidth baseline: every byte loaded once with the widest loads the target has, folded
//! into a checksum cheap enough that memory, not arithmetic, limits it. Benchmarks compare the exact
//! scan against it. The checksum is the wrapping sum of the little-endian u64 words of the bytes, the
//! last word padded with zeros.

const std = @import("std");
const assert = std.debug.assert;
const simd = @import("../distance/simd.zig");

const words_per_register = simd.register_bytes / 8;
const Words = @Vector(words_per_register, u64);
const accumulators = simd.accumulators;
const step_bytes = accumulators * simd.register_bytes;

pub fn scalar(bytes: []const u8) u64 {
    var sum: u64 = 0;
    var i: usize = 0;
    while (i + 8 <= bytes.len) : (i += 8) sum +%= std.mem.readInt(u64, bytes[i..][0..8], .little);
    return sum +% tail(bytes[i..]);
}

pub fn vectorized(bytes: []const u8) u64 {
    var partial: [accumulators]Words = @splat(@splat(0));
    var i: usize = 0;
    {
        @setRuntimeSafety(false);
        while (i + step_bytes <= bytes.len) : (i += step_bytes) {
            inline for (&partial, 0..) |*accumulator, j| {
                const chunk: *align(1) const Words = @ptrCast(bytes.ptr + i + j * simd.register_bytes);
                accumulator.* +%= chunk.*;
            }
        }
    }
    const folded = (partial[0] +% partial[1]) +% (partial[2] +% partial[3]);
    assert(i % 8 == 0);
    var sum: u64 = 0;
    for (@as([words_per_register]u64, folded)) |word| sum +%= word;
    return sum +% scalar(bytes[i..]);
}

comptime {
    assert(accumulators == 4); // The fold above names four partial sums.
}

fn tail(bytes: []const u8) u64 {
    assert(bytes.len < 8);
    var word: [8]u8 = @splat(0);
    @memcpy(word[0..bytes.len], bytes);
    return std.mem.readInt(u64, &word, .little);
}

test "the SIMD checksum equals the scalar reference at every length" {
    var prng = std.Random.DefaultPrng.init(0xba5e);
    var bytes: [3 * 256 + 17]u8 = undefined;
    prng.random().bytes(&bytes);
    for (0..bytes.len + 1) |len| {
        try std.testing.expectEqual(scalar(bytes[0..len]), vectorized(bytes[0..len]));
    }
    try std.testing.expectEqual(@as(u64, 0x0201), scalar(&[_]u8{ 1, 2 }));
}
