//! Exact search over quantized records, and re-scoring of its candidates with the original vectors.
//!
//! `scan` keeps the best `k` records by estimated score (the exact search "with quantization", and the
//! oversampled candidate list before rescoring); `rescore` computes the raw scores of a candidate list
//! with the original vectors (`ABI.md`, "Raw scores") and sorts it best first.

const std = @import("std");
const assert = std.debug.assert;
const types = @import("../types.zig");
const convert = @import("../convert.zig");
const distance = @import("../distance/distance.zig");
const StorageView = @import("../storage/storage.zig").View;
const top_k = @import("../flat/top_k.zig");
const quantizer_module = @import("quantizer.zig");
const scorer_module = @import("scorer.zig");

const TopK = top_k.TopK;
const View = quantizer_module.View;
const Metric = types.Metric;
const batch_records = scorer_module.batch_records;

/// The best `offsets.len` records by the estimates of `scorer` (an `Int8Scorer` or a `BinaryScorer`),
/// into `offsets` and `scores`, best first, ties by lower offset. `allow` is an optional bitset: bit `i`
/// (byte `i >> 3`, bit `i & 7`, LSB first) allows offset `i`, and offsets past its end are excluded.
/// Returns how many were found.
pub fn scan(scorer: anytype, allow: ?[]const u8, offsets: []u64, scores: []f32) u32 {
    assert(offsets.len == scores.len);
    assert(offsets.len > 0);
    var top: TopK = .init(offsets, scores, 0);
    const end: u64 = if (allow) |bits| @min(scorer.count, @as(u64, bits.len) * 8) else scorer.count;
    var pending: [batch_records]u64 = undefined;
    var pending_count: usize = 0;
    for (0..end) |offset| {
        if (allow) |bits| {
            if ((bits[offset >> 3] >> @intCast(offset & 7)) & 1 == 0) continue;
        }
        pending[pending_count] = offset;
        pending_count += 1;
        if (pending_count == batch_records) {
            const batch_scores = scorer.scoreBatch(batch_records, pending);
            for (pending, batch_scores) |at, score| top.push(at, score);
            pending_count = 0;
        }
    }
    for (pending[0..pending_count]) |at| top.push(at, scorer.scoreBatch(1, .{at})[0]);
    return top.finish();
}

/// `scan` for an f32 `query`, with the scorer of the view's kind.
pub fn searchExact(
    allocator: std.mem.Allocator,
    view: View,
    query: []const f32,
    allow: ?[]const u8,
    offsets: []u64,
    scores: []f32,
) error{OutOfMemory}!u32 {
    assert(query.len == view.quantizer.dim);
    switch (view.quantizer.kind) {
        .int8 => {
            var scorer = try scorer_module.Int8Scorer.init(allocator, view, query);
            defer scorer.deinit(allocator);
            return scan(&scorer, allow, offsets, scores);
        },
        .binary => {
            var scorer = try scorer_module.BinaryScorer.init(allocator, view, query);
            defer scorer.deinit(allocator);
            return scan(&scorer, allow, offsets, scores);
        },
    }
}

/// Replaces `scores` with the raw scores of the candidates `offsets` against the f32 `query`, computed
/// with the original vectors as the exact search does (the query converted to their datatype), and
/// sorts both best first, ties by lower offset: cosine and dot higher first, euclid (squared L2) and
/// manhattan lower first. Allocates only the converted query, for f16 and u8.
pub fn rescore(
    allocator: std.mem.Allocator,
    vectors: StorageView,
    metric: Metric,
    query: []const f32,
    offsets: []u64,
    scores: []f32,
) error{OutOfMemory}!void {
    assert(offsets.len == scores.len);
    assert(query.len == vectors.dim);
    switch (vectors.datatype) {
        inline else => |datatype| switch (metric) {
            inline else => |metric_comptime| {
                try rescoreTyped(datatype.Elem(), metric_comptime, allocator, vectors, query, offsets, scores);
            },
        },
    }
    sortBestFirst(metric, offsets, scores);
}

fn rescoreTyped(
    comptime E: type,
    comptime metric: Metric,
    allocator: std.mem.Allocator,
    vectors: StorageView,
    query: []const f32,
    offsets: []const u64,
    scores: []f32,
) error{OutOfMemory}!void {
    if (offsets.len == 0) return;
    const converted = if (E == f32) query else try allocator.alloc(E, query.len);
    defer if (E != f32) allocator.free(converted);
    if (E != f32) convert.fromF32(E, query, converted);
    const dim = vectors.dim;
    const records: [*]const E = @ptrCast(@alignCast(vectors.records.ptr));
    for (offsets, scores) |offset, *score| {
        assert(offset < vectors.count);
        score.* = distance.score(E, metric, converted, records[offset * dim ..][0..dim]);
    }
}

const SortContext = struct {
    offsets: []u64,
    keys: []f32,
    higher_is_better: bool,

    fn key(context: SortContext, i: usize) f32 {
        const raw = context.keys[i];
        if (std.math.isNan(raw)) return -std.math.inf(f32);
        return if (context.higher_is_better) raw else -raw;
    }

    pub fn lessThan(context: SortContext, a: usize, b: usize) bool {
        return top_k.better(context.key(a), context.offsets[a], context.key(b), context.offsets[b]);
    }

    pub fn swap(context: SortContext, a: usize, b: usize) void {
        std.mem.swap(u64, &context.offsets[a], &context.offsets[b]);
        std.mem.swap(f32, &context.keys[a], &context.keys[b]);
    }
};

fn sortBestFirst(metric: Metric, offsets: []u64, scores: []f32) void {
    const context: SortContext = .{ .offsets = offsets, .keys = scores, .higher_is_better = metric.higherIsBetter() };
    std.sort.pdqContext(0, offsets.len, context);
    for (1..@max(offsets.len, 1)) |i| assert(!context.lessThan(i, i - 1));
}

test "rescore sorts candidates by raw score, distances lower first, ties by lower offset" {
    const records = [_]f32{ 0, 0, 1, 0, 0, 1, 1, 0, 3, 4 };
    const vectors: StorageView = .{ .datatype = .f32, .dim = 2, .count = 5, .records = std.mem.sliceAsBytes(&records) };
    var offsets = [_]u64{ 4, 3, 1, 0, 2 };
    var scores: [5]f32 = undefined;
    try rescore(std.testing.allocator, vectors, .euclid, &.{ 1, 0 }, &offsets, &scores);
    try std.testing.expectEqualSlices(u64, &.{ 1, 3, 0, 2, 4 }, &offsets);
    try std.testing.expectEqualSlices(f32, &.{ 0, 0, 1, 2, 20 }, &scores);
    try rescore(std.testing.allocator, vectors, .dot, &.{ 1, 0 }, &offsets, &scores);
    try std.testing.expectEqualSlices(u64, &.{ 4, 1, 3, 0, 2 }, &offsets);
    try std.testing.expectEqualSlices(f32, &.{ 3, 1, 1, 0, 0 }, &scores);
}
