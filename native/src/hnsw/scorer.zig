//! Scorers: what search and build call to rank nodes.
//!
//! The scorer contract (duck-typed, resolved at compile time): a scorer binds one query to the points and
//! has `pub fn score(self: *const S, offset: u32) f32`, where HIGHER IS BETTER. It may also have
//! `pub fn prefetch(self: *const S, offset: u32) void`, which search calls a little ahead of `score` to
//! hide memory latency, and `pub const batch_len: comptime_int` (> 1) with
//! `pub fn scoreBatch(self: *const S, offsets: [batch_len]u32) [batch_len]f32`, giving exactly the scores
//! `score` would give (so results do not depend on batching). Search never looks at anything else, so
//! quantized scorers fit the same slot.
//!
//! `RawScorer` scores the stored vectors of a `storage.View` with the SIMD kernels of
//! `distance/distance.zig`; distances (euclid, manhattan) are negated. `PairScorer` scores two stored
//! vectors by offset; build uses it (always on the raw stored vectors).

const std = @import("std");
const assert = std.debug.assert;
const types = @import("../types.zig");
const convert = @import("../convert.zig");
const distance = @import("../distance/distance.zig");
const simd = @import("../distance/simd.zig");
const View = @import("../storage/storage.zig").View;

const Datatype = types.Datatype;
const Metric = types.Metric;

/// Cache lines of a record that `prefetch` requests: enough for 512-byte records (128 f32), beyond
/// which the hardware prefetcher follows the stream.
const prefetch_lines_max = 8;
const cache_line_bytes = 64;

/// Fails compilation unless `S` has the `score` method of the scorer contract.
pub fn assertScorer(comptime S: type) void {
    if (!@hasDecl(S, "score")) @compileError(@typeName(S) ++ " has no score method");
    const Score = @TypeOf(S.score);
    const info = @typeInfo(Score).@"fn";
    const ok = info.param_types.len == 2 and info.param_types[0] == *const S and
        info.param_types[1] == u32 and info.return_type == f32;
    if (!ok) {
        @compileError(@typeName(S) ++ ".score must be fn (*const S, u32) f32");
    }
}

/// Whether `S` offers the optional `prefetch` method.
pub fn hasPrefetch(comptime S: type) bool {
    return @hasDecl(S, "prefetch");
}

/// How many nodes `S.scoreBatch` scores at once; 1 when it has no batch method.
pub fn batchLen(comptime S: type) comptime_int {
    if (!@hasDecl(S, "scoreBatch") or !@hasDecl(S, "batch_len")) return 1;
    comptime assert(S.batch_len >= 1);
    return S.batch_len;
}

/// Records `RawScorer.scoreBatch` scores side by side (see `distance.scoreBatch`): with 256-bit or wider
/// registers four records share each query load; with 128-bit registers the flat scan measured one at a
/// time faster.
const raw_batch_len = if (simd.register_bytes >= 32) 4 else 1;

/// Maps a raw kernel score to a score where higher is better; NaN ranks below everything.
inline fn higherIsBetter(comptime metric: Metric, raw: f32) f32 {
    const score = if (comptime metric.higherIsBetter()) raw else -raw;
    return if (std.math.isNan(score)) -std.math.inf(f32) else score;
}

/// Scores one query against the stored vectors of `view`, in the stored datatype.
pub fn RawScorer(comptime datatype: Datatype, comptime metric: Metric) type {
    return struct {
        const Scorer = @This();
        pub const E = datatype.Elem();

        /// `dim` elements: an owned conversion of the caller's query, or a stored record.
        query: []const E,
        records: [*]const E,
        count: u64,
        owned: bool,

        /// Converts `query` (`view.dim` f32 values) to the datatype, as `edge_storage_put` stores it.
        pub fn init(allocator: std.mem.Allocator, view: View, query: []const f32) error{OutOfMemory}!Scorer {
            assert(view.datatype == datatype);
            assert(query.len == view.dim);
            const converted = try allocator.alloc(E, view.dim);
            convert.fromF32(E, query, converted);
            return .{ .query = converted, .records = recordsOf(E, view), .count = view.count, .owned = true };
        }

        /// Binds the stored vector at `offset` as the query (build: no conversion, no allocation).
        pub fn initStored(view: View, offset: u32) Scorer {
            assert(view.datatype == datatype);
            assert(offset < view.count);
            const records = recordsOf(E, view);
            return .{
                .query = records[@as(usize, offset) * view.dim ..][0..view.dim],
                .records = records,
                .count = view.count,
                .owned = false,
            };
        }

        pub fn deinit(scorer: *Scorer, allocator: std.mem.Allocator) void {
            if (scorer.owned) allocator.free(scorer.query);
            scorer.* = undefined;
        }

        pub inline fn score(scorer: *const Scorer, offset: u32) f32 {
            assert(offset < scorer.count);
            const dim = scorer.query.len;
            const record = scorer.records[@as(usize, offset) * dim ..][0..dim];
            return higherIsBetter(metric, distance.score(E, metric, scorer.query, record));
        }

        pub const batch_len = raw_batch_len;

        /// The scores of `offsets`, each equal to `score` of it.
        pub inline fn scoreBatch(scorer: *const Scorer, offsets: [batch_len]u32) [batch_len]f32 {
            const dim = scorer.query.len;
            var records: [batch_len][*]const E = undefined;
            for (&records, offsets) |*record, offset| {
                assert(offset < scorer.count);
                record.* = scorer.records + @as(usize, offset) * dim;
            }
            var scores = distance.scoreBatch(E, metric, batch_len, scorer.query, records);
            for (&scores) |*value| value.* = higherIsBetter(metric, value.*);
            return scores;
        }

        pub inline fn prefetch(scorer: *const Scorer, offset: u32) void {
            const bytes = scorer.query.len * @sizeOf(E);
            const base: [*]const u8 = @ptrCast(scorer.records + @as(usize, offset) * scorer.query.len);
            const lines = @min(prefetch_lines_max, (bytes + cache_line_bytes - 1) / cache_line_bytes);
            for (0..lines) |line| {
                @prefetch(base + line * cache_line_bytes, .{ .rw = .read, .locality = 3, .cache = .data });
            }
        }
    };
}

/// Scores two stored vectors of `view` by offset, higher is better (symmetric for every metric).
pub fn PairScorer(comptime datatype: Datatype, comptime metric: Metric) type {
    return struct {
        const Pair = @This();
        pub const E = datatype.Elem();

        records: [*]const E,
        dim: u32,
        count: u64,

        pub fn init(view: View) Pair {
            assert(view.datatype == datatype);
            return .{ .records = recordsOf(E, view), .dim = view.dim, .count = view.count };
        }

        pub inline fn score(pair: *const Pair, a: u32, b: u32) f32 {
            assert(a < pair.count);
            assert(b < pair.count);
            const record_a = pair.records[@as(usize, a) * pair.dim ..][0..pair.dim];
            const record_b = pair.records[@as(usize, b) * pair.dim ..][0..pair.dim];
            return higherIsBetter(metric, distance.score(E, metric, record_a, record_b));
        }
    };
}

/// The records of `view` as elements. An empty view's slice may carry any address, so it is never cast.
fn recordsOf(comptime E: type, view: View) [*]const E {
    assert(view.records.len == view.count * view.dim * @sizeOf(E));
    if (view.records.len == 0) {
        const empty: [0]E = .{};
        return &empty;
    }
    assert(@intFromPtr(view.records.ptr) % @alignOf(E) == 0);
    return @ptrCast(@alignCast(view.records.ptr));
}

fn expectBatchMatchesSingle(comptime datatype: Datatype, comptime metric: Metric, values: []const f32, dim: u32) !void {
    const E = datatype.Elem();
    const n = values.len / dim;
    const records = try std.testing.allocator.alloc(E, values.len);
    defer std.testing.allocator.free(records);
    convert.fromF32(E, values, records);
    const view: View = .{ .datatype = datatype, .dim = dim, .count = n, .records = std.mem.sliceAsBytes(records) };
    const Raw = RawScorer(datatype, metric);
    var scorer: Raw = try .init(std.testing.allocator, view, values[0..dim]);
    defer scorer.deinit(std.testing.allocator);
    const stored = Raw.initStored(view, 4);
    const pair = PairScorer(datatype, metric).init(view);
    var offsets: [Raw.batch_len]u32 = undefined;
    for (&offsets, 0..) |*offset, i| offset.* = @intCast((i * 5 + 3) % n);
    const batch = scorer.scoreBatch(offsets);
    for (offsets, batch) |offset, score| {
        try std.testing.expectEqual(scorer.score(offset), score);
        try std.testing.expectEqual(pair.score(4, offset), stored.score(offset));
        try std.testing.expectEqual(pair.score(offset, 4), stored.score(offset));
    }
    const raw = distance.scoreScalar(E, metric, records[0..dim], records[dim..][0..dim]);
    const expected = if (comptime metric.higherIsBetter()) raw else -raw;
    try std.testing.expectApproxEqRel(expected, pair.score(0, 1), 1e-5);
}

test "a raw scorer's batch scores equal its single scores, for every datatype and metric" {
    const dim = 37;
    var prng = std.Random.DefaultPrng.init(12);
    var values: [9 * dim]f32 = undefined;
    for (&values) |*x| x.* = prng.random().float(f32) * 200 - 50;
    inline for (comptime std.enums.values(Datatype)) |datatype| {
        inline for (comptime std.enums.values(Metric)) |metric| {
            try expectBatchMatchesSingle(datatype, metric, &values, dim);
        }
    }
}
