//! CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every record the TypeScript
//! layer writes (record logs, the write-ahead log) and of the native index files. Three implementations
//! give the same value:
//! - `hardwareX86`: the SSE4.2 `crc32` instruction, 8 bytes at a time, when the build target has it
//!   (the x86-64-v3 build); inputs of `lanes_min_bytes` or more run as three independent lanes whose
//!   CRCs are joined by `combine`, since one lane waits out the instruction's 3-cycle latency;
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
    if (has_crc32_instruction and bytes.len >= lanes_min_bytes) return threeLanes(crc, bytes);
    const state = ~crc;
    return ~(if (has_crc32_instruction) hardwareX86(state, bytes) else sliced(state, bytes));
}

/// The CRC of `a` followed by `b`, from `crc_a` (the CRC of `a`), `crc_b` (the CRC of `b`, started from
/// 0) and the length of `b`: the register of `a` is carried over `b`'s length by one multiplication
/// by x^(8·len_b) modulo the polynomial. Lets parts of one input be checksummed apart (in lanes or on
/// threads) and joined.
pub fn combine(crc_a: u32, crc_b: u32, len_b: u64) u32 {
    return multiplyModP(powerOfX(len_b), crc_a) ^ crc_b;
}

/// Inputs from this size run as three interleaved lanes (below it the join costs more than it saves).
const lanes_min_bytes = 3 * 1024;

fn threeLanes(crc: u32, bytes: []const u8) u32 {
    const lane = bytes.len / 3 / 8 * 8;
    const lanes = hardwareX86Three(.{ ~crc, ~@as(u32, 0), ~@as(u32, 0) }, bytes[0 .. 3 * lane], lane);
    const joined = combine(combine(~lanes[0], ~lanes[1], lane), ~lanes[2], lane);
    return ~hardwareX86(~joined, bytes[3 * lane ..]);
}

/// `a·b mod P` over GF(2), both in the reflected bit order (bit 31 is x^0).
fn multiplyModP(a: u32, b_in: u32) u32 {
    var product: u32 = 0;
    var b = b_in;
    for (0..32) |bit| {
        if (a & (@as(u32, 1) << @intCast(31 - bit)) != 0) product ^= b;
        b = if (b & 1 != 0) (b >> 1) ^ polynomial_reflected else b >> 1;
    }
    return product;
}

/// x^(8·bytes) mod P (reflected), by square and multiply.
fn powerOfX(bytes: u64) u32 {
    var result: u32 = 1 << 31; // x^0
    var power: u32 = 1 << (31 - 8); // x^8: one byte
    var n = bytes;
    while (n != 0) : (n >>= 1) {
        if (n & 1 != 0) result = multiplyModP(result, power);
        power = multiplyModP(power, power);
    }
    return result;
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
        state = crc32q(state, word);
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

/// Three registers over three consecutive lanes of `lane` bytes (a multiple of 8) each, advanced in one
/// loop so that the three `crc32` chains overlap.
fn hardwareX86Three(states_in: [3]u32, bytes: []const u8, lane: usize) [3]u32 {
    comptime assert(has_crc32_instruction);
    assert(lane % 8 == 0 and bytes.len == 3 * lane);
    var s0: u64 = states_in[0];
    var s1: u64 = states_in[1];
    var s2: u64 = states_in[2];
    var i: usize = 0;
    while (i < lane) : (i += 8) {
        s0 = crc32q(s0, std.mem.readInt(u64, bytes[i..][0..8], .little));
        s1 = crc32q(s1, std.mem.readInt(u64, bytes[lane + i ..][0..8], .little));
        s2 = crc32q(s2, std.mem.readInt(u64, bytes[2 * lane + i ..][0..8], .little));
    }
    return .{ @truncate(s0), @truncate(s1), @truncate(s2) };
}

inline fn crc32q(state: u64, word: u64) u64 {
    return asm ("crc32q %[word], %[state]"
        : [state] "=r" (-> u64),
        : [word] "r" (word),
          [_] "0" (state),
    );
}

test "the standard check value" {
    try std.testing.expectEqual(@as(u32, 0xE3069283), update(0, "123456789"));
    try std.testing.expectEqual(@as(u32, 0xE3069283), reference(0, "123456789"));
    try std.testing.expectEqual(@as(u32, 0), update(0, ""));
}

test "every implementation agrees with the reference, whole and in pieces" {
    var prng = std.Random.DefaultPrng.init(0xC5C);
    const random = prng.random();
    var buffer: [20_011]u8 = undefined;
    random.bytes(&buffer);
    for ([_]usize{ 0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 3071, 3072, 3073, 3080, 4099, 20_011 }) |len| {
        const bytes = buffer[0..len];
        const expected = reference(0, bytes);
        try std.testing.expectEqual(expected, update(0, bytes));
        try std.testing.expectEqual(expected, ~sliced(~@as(u32, 0), bytes));
        const split = len / 3;
        try std.testing.expectEqual(expected, update(update(0, bytes[0..split]), bytes[split..]));
        try std.testing.expectEqual(expected, combine(update(0, bytes[0..split]), update(0, bytes[split..]), len - split));
    }
}

test "combine joins any split, including empty parts" {
    const bytes = "The quick brown fox jumps over the lazy dog";
    const whole = reference(0, bytes);
    for (0..bytes.len + 1) |split| {
        try std.testing.expectEqual(whole, combine(reference(0, bytes[0..split]), reference(0, bytes[split..]), bytes.len - split));
    }
}
