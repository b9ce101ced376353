//! Exact search against a brute-force sort of every candidate, for every datatype and metric.

const std = @import("std");
const testing = std.testing;
const types = @import("../types.zig");
const convert = @import("../convert.zig");
const distance = @import("../distance/distance.zig");
const View = @import("../storage/storage.zig").View;
const search = @import("search.zig");
const better = @import("top_k.zig").better;

const Metric = types.Metric;
const Datatype = types.Datatype;

const Candidate = struct { key: f32, offset: u64 };

fn candidateBefore(_: void, a: Candidate, b: Candidate) bool {
    return better(a.key, a.offset, b.key, b.offset);
}

/// Every allowed record scored with the same kernel, sorted best first.
fn bruteForce(comptime E: type, comptime metric: Metric, records: []const E, query: []const E, allow: ?[]const u8) ![]Candidate {
    const dim = query.len;
    var candidates: std.ArrayList(Candidate) = .empty;
    errdefer candidates.deinit(testing.allocator);
    for (0..records.len / dim) |offset| {
        if (allow) |bits| {
            if (offset / 8 >= bits.len or (bits[offset / 8] >> @intCast(offset % 8)) & 1 == 0) continue;
        }
        const score = distance.score(E, metric, query, records[offset * dim ..][0..dim]);
        const key = if (metric.higherIsBetter()) score else -score;
        try candidates.append(testing.allocator, .{ .key = key, .offset = offset });
    }
    std.mem.sort(Candidate, candidates.items, {}, candidateBefore);
    return candidates.toOwnedSlice(testing.allocator);
}

const Case = struct { n: u32, dim: u32, nq: u32, k: u32, with_allow: bool, block_bytes: u32, ties: bool };

fn runCase(comptime datatype: Datatype, comptime metric: Metric, case: Case, random: std.Random) !void {
    const E = datatype.Elem();
    const gpa = testing.allocator;
    const values = try gpa.alloc(f32, case.n * case.dim);
    defer gpa.free(values);
    for (values, 0..) |*x, i| {
        // With `ties`, records repeat every 5 offsets, so equal scores must come back by lower offset.
        const source = if (case.ties) i % (5 * case.dim) else i;
        var seeded = std.Random.DefaultPrng.init(source);
        x.* = if (datatype == .u8) @floatFromInt(seeded.random().int(u8)) else seeded.random().float(f32) * 2 - 1;
    }
    const records = try gpa.alloc(E, values.len);
    defer gpa.free(records);
    convert.fromF32(E, values, records);
    const queries = try gpa.alloc(f32, case.nq * case.dim);
    defer gpa.free(queries);
    for (queries) |*x| x.* = if (datatype == .u8) @floatFromInt(random.int(u8)) else random.float(f32) * 2 - 1;
    var allow_storage: [64]u8 = undefined;
    random.bytes(&allow_storage);
    // A bitset three bytes short of the record count: the offsets past it must never come back.
    const allow: ?[]const u8 = if (case.with_allow) allow_storage[0 .. (case.n + 7) / 8 -| 3] else null;

    const offsets = try gpa.alloc(u64, case.nq * case.k);
    defer gpa.free(offsets);
    const scores = try gpa.alloc(f32, case.nq * case.k);
    defer gpa.free(scores);
    const counts = try gpa.alloc(u32, case.nq);
    defer gpa.free(counts);
    const view: View = .{ .datatype = datatype, .dim = case.dim, .count = case.n, .records = std.mem.sliceAsBytes(records) };
    try search.searchExact(gpa, view, .{
        .metric = metric,
        .queries = queries,
        .k = case.k,
        .allow = allow,
        .block_bytes = case.block_bytes,
    }, .{ .offsets = offsets, .scores = scores, .counts = counts });

    const query_converted = try gpa.alloc(E, case.dim);
    defer gpa.free(query_converted);
    for (0..case.nq) |q| {
        convert.fromF32(E, queries[q * case.dim ..][0..case.dim], query_converted);
        const expected = try bruteForce(E, metric, records, query_converted, allow);
        defer gpa.free(expected);
        try testing.expectEqual(@min(case.k, expected.len), counts[q]);
        for (expected[0..counts[q]], 0..) |candidate, i| {
            const raw = if (metric.higherIsBetter()) candidate.key else -candidate.key;
            try testing.expectEqual(candidate.offset, offsets[q * case.k + i]);
            try testing.expectEqual(raw, scores[q * case.k + i]);
        }
    }
}

const cases = [_]Case{
    .{ .n = 300, .dim = 19, .nq = 4, .k = 10, .with_allow = false, .block_bytes = search.block_bytes_default, .ties = false },
    .{ .n = 300, .dim = 19, .nq = 4, .k = 10, .with_allow = true, .block_bytes = search.block_bytes_default, .ties = false },
    .{ .n = 300, .dim = 19, .nq = 3, .k = 1, .with_allow = false, .block_bytes = 100, .ties = false },
    .{ .n = 300, .dim = 19, .nq = 3, .k = 500, .with_allow = false, .block_bytes = 100, .ties = false },
    .{ .n = 300, .dim = 19, .nq = 3, .k = 500, .with_allow = true, .block_bytes = 1, .ties = false },
    .{ .n = 257, .dim = 8, .nq = 5, .k = 17, .with_allow = true, .block_bytes = 333, .ties = true },
    .{ .n = 257, .dim = 8, .nq = 2, .k = 300, .with_allow = false, .block_bytes = 64, .ties = true },
    .{ .n = 1, .dim = 3, .nq = 2, .k = 4, .with_allow = false, .block_bytes = search.block_bytes_default, .ties = false },
};

test "exact search equals a brute-force sort for every datatype, metric, k, bitset and block size" {
    var prng = std.Random.DefaultPrng.init(0x5ea7c4);
    inline for (comptime std.enums.values(Datatype)) |datatype| {
        inline for (comptime std.enums.values(Metric)) |metric| {
            for (cases) |case| try runCase(datatype, metric, case, prng.random());
        }
    }
}

test "an empty file or an all-zero bitset gives no results" {
    var offsets: [4]u64 = undefined;
    var scores: [4]f32 = undefined;
    var counts: [2]u32 = .{ 9, 9 };
    const queries: [6]f32 = @splat(1);
    const records: [6]f32 = @splat(1);
    const empty: View = .{ .datatype = .f32, .dim = 3, .count = 0, .records = std.mem.sliceAsBytes(records[0..0]) };
    const results: search.Results = .{ .offsets = &offsets, .scores = &scores, .counts = &counts };
    try search.searchExact(testing.allocator, empty, .{ .metric = .dot, .queries = &queries, .k = 2, .allow = null }, results);
    try testing.expectEqualSlices(u32, &.{ 0, 0 }, &counts);
    const two: View = .{ .datatype = .f32, .dim = 3, .count = 2, .records = std.mem.sliceAsBytes(&records) };
    const none = [_]u8{0};
    try search.searchExact(testing.allocator, two, .{ .metric = .euclid, .queries = &queries, .k = 2, .allow = &none }, results);
    try testing.expectEqualSlices(u32, &.{ 0, 0 }, &counts);
}

fn searchF16(allocator: std.mem.Allocator) !void {
    const records: [8]f16 = .{ 1, 0, 0, 1, 1, 1, -1, 0 };
    const view: View = .{ .datatype = .f16, .dim = 2, .count = 4, .records = std.mem.sliceAsBytes(&records) };
    const queries = [_]f32{ 1, 0 };
    var offsets: [2]u64 = undefined;
    var scores: [2]f32 = undefined;
    var counts: [1]u32 = undefined;
    try search.searchExact(allocator, view, .{ .metric = .dot, .queries = &queries, .k = 2, .allow = null }, .{
        .offsets = &offsets,
        .scores = &scores,
        .counts = &counts,
    });
    try testing.expectEqualSlices(u64, &.{ 0, 2 }, &offsets);
}

test "search releases everything when an allocation fails" {
    try testing.checkAllAllocationFailures(testing.allocator, searchF16, .{});
}
