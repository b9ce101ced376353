//! CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record the TypeScript
//! layer writes (record logs, the write-ahead log). Three implementations give the same value:
//! - `hardwareX86`: the SSE4.2 `crc32` instruction, 8 bytes at a time, when the build target has it
//!   (the x86-64-v3 build);
//! - `sliced`: slicing by 8 over tables computed at compile time, for every other target;
//! - `reference`: one table lookup per byte, the scalar reference the tests hold the others to.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;

const polynomial_reflected: u32 = 0x82F63B78;

const has_crc32_instruction = builtin.cpu.arch == .x86_64 and builtin.cpu.hasAll(.x86, &.{.crc32});

/// `tables[0]` is the byte-at-a-time table; `tables[k][n]` is the CRC of byte `n` followed by `k` zeros.
const tables: [8][256]u32 = blk: {
    @setEvalBranchQuota(200_000);
    var t: [8][256]u32 = undefined;
    for (0..256) |n| {
        var c: u32 = n;
        for (0..8) |_| c = if (c & 1 != 0) polynomial_reflected ^ (c >> 1) else c >> 1;
        t[0][n] = c;
    }
    for (0..256) |n| {
        for (1..8) |k| t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
    }
    break :blk t;
};

/// Continues a CRC-32C over `bytes`: `update(update(0, a), b)` is the CRC of `a` followed by `b`.
pub fn update(crc: u32, bytes: []const u8) u32 {
    const state = ~crc;
    return ~(if (has_crc32_instruction) hardwareX86(state, bytes) else sliced(state, bytes));
}

/// The scalar reference: one table lookup per byte.
pub fn reference(crc: u32, bytes: []const u8) u32 {
    var state = ~crc;
    for (bytes) |byte| state = tables[0][(state ^ byte) & 0xff] ^ (state >> 8);
    return ~state;
}

fn sliced(state_in: u32, bytes: []const u8) u32 {
    var state = state_in;
    var i: usize = 0;
    while (i + 8 <= bytes.len) : (i += 8) {
        const low = std.mem.readInt(u32, bytes[i..][0..4], .little) ^ state;
        const high = std.mem.readInt(u32, bytes[i + 4 ..][0..4], .little);
        state = tables[7][low & 0xff] ^ tables[6][(low >> 8) & 0xff] ^
            tables[5][(low >> 16) & 0xff] ^ tables[4][low >> 24] ^
            tables[3][high & 0xff] ^ tables[2][(high >> 8) & 0xff] ^
            tables[1][(high >> 16) & 0xff] ^ tables[0][high >> 24];
    }
    while (i < bytes.len) : (i += 1) state = tables[0][(state ^ bytes[i]) & 0xff] ^ (state >> 8);
    return state;
}

fn hardwareX86(state_in: u32, bytes: []const u8) u32 {
    comptime assert(has_crc32_instruction);
    var state: u64 = state_in;
    var i: usize = 0;
    while (i + 8 <= bytes.len) : (i += 8) {
        const word = std.mem.readInt(u64, bytes[i..][0..8], .little);
        state = asm ("crc32q %[word], %[state]"
            : [state] "=r" (-> u64),
            : [word] "r" (word),
              [_] "0" (state),
        );
    }
    var state32: u32 = @truncate(state);
    while (i < bytes.len) : (i += 1) {
        state32 = asm ("crc32b %[byte], %[state]"
            : [state] "=r" (-> u32),
            : [byte] "r" (bytes[i]),
              [_] "0" (state32),
        );
    }
    return state32;
}

test "the standard check value" {
    try std.testing.expectEqual(@as(u32, 0xE3069283), update(0, "123456789"));
    try std.testing.expectEqual(@as(u32, 0xE3069283), reference(0, "123456789"));
    try std.testing.expectEqual(@as(u32, 0), update(0, ""));
}

test "every implementation agrees with the reference, whole and in pieces" {
    var prng = std.Random.DefaultPrng.init(0xC5C);
    const random = prng.random();
    var buffer: [4099]u8 = undefined;
    random.bytes(&buffer);
    for ([_]usize{ 0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099 }) |len| {
        const bytes = buffer[0..len];
        const expected = reference(0, bytes);
        try std.testing.expectEqual(expected, update(0, bytes));
        try std.testing.expectEqual(expected, ~sliced(~@as(u32, 0), bytes));
        const split = len / 3;
        try std.testing.expectEqual(expected, update(update(0, bytes[0..split]), bytes[split..]));
    }
}
