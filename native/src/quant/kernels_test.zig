//! The SIMD kernels against their scalar references (exact, as both sum integers), and the scorers'
//! single, batched and listed scores against each other and against the exact scan.

const std = @import("std");
const testing = std.testing;
const int8 = @import("../distance/int8.zig");
const binary = @import("binary.zig");
const quant = @import("quant.zig");
const top_k = @import("../flat/top_k.zig");

const dims = [_]u32{ 1, 3, 7, 8, 63, 64, 65, 384, 1000 };

test "int8 code sums agree between the scalar and SIMD kernels, alone and batched, for odd dimensions" {
    var prng = std.Random.DefaultPrng.init(11);
    const random = prng.random();
    var codes: [5][1000]u8 = undefined;
    for (dims) |dim| {
        for (0..20) |_| {
            for (&codes) |*row| random.bytes(row[0..dim]);
            // Extremes too: the largest terms must not overflow the u16 lanes.
            if (dim % 2 == 1) @memset(codes[0][0..dim], 255);
            const query = codes[0][0..dim];
            const records = [4][*]const u8{ &codes[1], &codes[2], &codes[3], &codes[4] };
            inline for (.{ int8.Sum.dot, int8.Sum.l2_squared, int8.Sum.l1 }) |sum| {
                const batched = int8.vectorizedBatch(sum, 4, query, records);
                for (records, batched) |record, total| {
                    const expected = int8.scalar(sum, query, record[0..dim]);
                    try testing.expectEqual(expected, int8.vectorized(sum, query, record[0..dim]));
                    try testing.expectEqual(expected, total);
                }
            }
        }
    }
}

test "binary Hamming distances agree between the scalar and SIMD kernels, alone and batched" {
    var prng = std.Random.DefaultPrng.init(12);
    const random = prng.random();
    var words: [5][16]u64 = undefined;
    for (dims) |dim| {
        const n = binary.wordCount(dim);
        for (0..20) |round| {
            for (&words) |*row| {
                for (row[0..n]) |*word| word.* = random.int(u64);
                // Clear the padding bits, as encoding does.
                if (dim % 64 != 0) row[n - 1] &= (@as(u64, 1) << @intCast(dim % 64)) - 1;
            }
            if (round == 0) @memset(words[1][0..n], 0);
            const query = words[0][0..n];
            const records = [4][*]const u64{ &words[1], &words[2], &words[3], &words[4] };
            const batched = binary.hammingBatch(4, query, records);
            for (records, batched) |record, total| {
                const expected = binary.hammingScalar(query, record[0..n]);
                try testing.expect(expected <= dim);
                try testing.expectEqual(expected, binary.hamming(query, record[0..n]));
                try testing.expectEqual(expected, total);
            }
        }
    }
}

fn randomStorageView(random: std.Random, dim: u32, count: u32, values: []f32) @import("../storage/storage.zig").View {
    for (values[0 .. dim * count]) |*x| x.* = random.floatNorm(f32);
    return .{ .datatype = .f32, .dim = dim, .count = count, .records = std.mem.sliceAsBytes(values[0 .. dim * count]) };
}

fn checkScorerConsistency(scorer: anytype, count: u32) !void {
    var offsets: [37]u32 = undefined;
    for (&offsets, 0..) |*offset, i| offset.* = @intCast((i * 7) % count);
    var listed: [37]f32 = undefined;
    scorer.scoreMany(&offsets, &listed);
    for (offsets, listed) |offset, score| try testing.expectEqual(scorer.score(offset), score);
}

/// Every allowed record scored alone, sorted best first: what `scan` must return.
fn expectScanMatchesSort(scorer: anytype, count: u32, allow: ?[]const u8, k: u32) !void {
    var expected_offsets: [300]u64 = undefined;
    var expected_keys: [300]f32 = undefined;
    var n: usize = 0;
    for (0..count) |offset| {
        if (allow) |bits| {
            if (offset / 8 >= bits.len or (bits[offset / 8] >> @intCast(offset % 8)) & 1 == 0) continue;
        }
        expected_offsets[n] = offset;
        expected_keys[n] = scorer.score(@intCast(offset));
        n += 1;
    }
    // Insertion sort by (key desc, offset asc); n is small.
    for (1..n) |i| {
        var j = i;
        while (j > 0 and top_k.better(expected_keys[j], expected_offsets[j], expected_keys[j - 1], expected_offsets[j - 1])) {
            std.mem.swap(f32, &expected_keys[j], &expected_keys[j - 1]);
            std.mem.swap(u64, &expected_offsets[j], &expected_offsets[j - 1]);
            j -= 1;
        }
    }
    var offsets: [300]u64 = undefined;
    var scores: [300]f32 = undefined;
    const found = quant.scan(scorer, allow, offsets[0..k], scores[0..k]);
    try testing.expectEqual(@min(k, n), found);
    try testing.expectEqualSlices(u64, expected_offsets[0..found], offsets[0..found]);
    try testing.expectEqualSlices(f32, expected_keys[0..found], scores[0..found]);
}

test "scorers give the same score alone, batched and listed, and scan returns the sorted best" {
    const gpa = testing.allocator;
    var prng = std.Random.DefaultPrng.init(13);
    const random = prng.random();
    const count = 201;
    var values: [count * 65]f32 = undefined;
    var allow: [20]u8 = undefined; // Covers 160 of the 201 offsets.
    random.bytes(&allow);
    for ([_]u32{ 3, 64, 65 }) |dim| {
        const vectors = randomStorageView(random, dim, count, &values);
        const query = values[0..dim];
        for ([_]quant.Kind{ .int8, .binary }) |kind| {
            for ([_]@import("../types.zig").Metric{ .cosine, .dot, .euclid, .manhattan }) |metric| {
                const quantizer = try quant.Quantizer.train(gpa, vectors, metric, kind, null);
                var builder = try quant.Builder.init(gpa, quantizer, count);
                defer builder.deinit();
                builder.encodeRange(vectors, 0, 50);
                builder.encodeRange(vectors, 50, count);
                const view = builder.view();
                switch (kind) {
                    .int8 => {
                        var scorer = try quant.Int8Scorer.init(gpa, view, query);
                        defer scorer.deinit(gpa);
                        try checkScorerConsistency(&scorer, count);
                        try expectScanMatchesSort(&scorer, count, null, 10);
                        try expectScanMatchesSort(&scorer, count, &allow, 7);
                        try expectScanMatchesSort(&scorer, count, &allow, 300);
                    },
                    .binary => {
                        var scorer = try quant.BinaryScorer.init(gpa, view, query);
                        defer scorer.deinit(gpa);
                        try checkScorerConsistency(&scorer, count);
                        try expectScanMatchesSort(&scorer, count, null, 10);
                        try expectScanMatchesSort(&scorer, count, &allow, 300);
                        // Record 0 is the query itself: it agrees with itself on every bit.
                        if (metric.higherIsBetter()) try testing.expectEqual(@as(f32, @floatFromInt(dim)), scorer.score(0));
                        if (!metric.higherIsBetter()) try testing.expectEqual(@as(f32, 0), scorer.score(0));
                    },
                }
            }
        }
    }
}
