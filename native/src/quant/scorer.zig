//! Scorers bind one encoded query to a view of encoded records and estimate the query's score against
//! any record, higher is better for every metric (distances are negated). This is the contract that
//! searches are generic over:
//!
//!   pub fn score(self: *const S, offset: u32) f32
//!
//! plus `scoreBatch`, several records at once with the query loaded once per step (a record's score
//! never depends on its batch: the sums are exact integers), and `scoreMany` over a list of offsets.
//!
//! Both estimates have the form `scale * sum + query correction + record correction`:
//! - int8: `sum` is Σ ca·cb (dot, cosine; scale alpha², the corrections as in `quantizer.zig`),
//!   Σ (ca - cb)² (euclid; scale -alpha²) or Σ |ca - cb| (manhattan; scale -alpha), corrections 0;
//! - binary: `sum` is the Hamming distance h; dot and cosine score `dim - 2h` (the agreement of signs),
//!   euclid and manhattan `-h`.

const std = @import("std");
const assert = std.debug.assert;
const int8 = @import("../distance/int8.zig");
const simd = @import("../distance/simd.zig");
const binary = @import("binary.zig");
const quantizer_module = @import("quantizer.zig");

const View = quantizer_module.View;

/// Records scored side by side by `scoreMany` and `scan`: with 256-bit or wider registers, four keep
/// more loads in flight (as in the exact search over original vectors).
pub const batch_records = if (simd.register_bytes >= 32) 4 else 2;

pub const Int8Scorer = struct {
    records: [*]const u8,
    count: u64,
    record_size_bytes: u32,
    dim: u32,
    /// Where the f32 correction starts in a record.
    codes_bytes: u32,
    sum: int8.Sum,
    scale: f32,
    query_correction: f32,
    /// The encoded query, a record of the view's layout.
    query: []const u8,
    /// Set when `query` was allocated by `init`.
    query_owned: bool,

    /// Encodes the f32 `query` (`dim` values) with the view's parameters.
    pub fn init(allocator: std.mem.Allocator, view: View, query: []const f32) error{OutOfMemory}!Int8Scorer {
        const encoded = try allocator.alloc(u8, view.quantizer.recordSizeBytes());
        view.quantizer.encodeQuery(query, encoded);
        var scorer = bind(view, encoded);
        scorer.query_owned = true;
        return scorer;
    }

    /// Uses stored record `offset` as the query (for scores between stored records); allocates nothing.
    pub fn initStored(view: View, offset: u64) Int8Scorer {
        return bind(view, view.record(offset));
    }

    pub fn deinit(scorer: *Int8Scorer, allocator: std.mem.Allocator) void {
        if (scorer.query_owned) allocator.free(scorer.query);
        scorer.* = undefined;
    }

    fn bind(view: View, query: []const u8) Int8Scorer {
        view.assertValid();
        const quantizer = view.quantizer;
        assert(quantizer.kind == .int8);
        assert(query.len == quantizer.recordSizeBytes());
        const alpha = quantizer.alpha;
        return .{
            .records = view.records.ptr,
            .count = view.count,
            .record_size_bytes = quantizer.recordSizeBytes(),
            .dim = quantizer.dim,
            .codes_bytes = quantizer_module.codesBytes(quantizer.dim),
            .sum = switch (quantizer.metric) {
                .cosine, .dot => .dot,
                .euclid => .l2_squared,
                .manhattan => .l1,
            },
            .scale = switch (quantizer.metric) {
                .cosine, .dot => alpha * alpha,
                .euclid => -alpha * alpha,
                .manhattan => -alpha,
            },
            .query_correction = quantizer.correctionOf(query),
            .query = query,
            .query_owned = false,
        };
    }

    pub inline fn score(scorer: *const Int8Scorer, offset: u32) f32 {
        return scorer.scoreBatch(1, .{offset})[0];
    }

    /// Asks for the record's cache lines ahead of `score` (the graph search calls it for the next
    /// neighbours while it scores this one).
    pub inline fn prefetch(scorer: *const Int8Scorer, offset: u32) void {
        prefetchRecord(scorer.records + @as(usize, offset) * scorer.record_size_bytes, scorer.record_size_bytes);
    }

    /// Scores of `R` records, the query loaded once per step.
    pub inline fn scoreBatch(scorer: *const Int8Scorer, comptime R: comptime_int, offsets: [R]u64) [R]f32 {
        var pointers: [R][*]const u8 = undefined;
        for (&pointers, offsets) |*pointer, offset| {
            assert(offset < scorer.count);
            pointer.* = scorer.records + offset * scorer.record_size_bytes;
        }
        const codes = scorer.query[0..scorer.dim];
        const sums = switch (scorer.sum) {
            inline else => |sum| int8.vectorizedBatch(sum, R, codes, pointers),
        };
        var scores: [R]f32 = undefined;
        inline for (&scores, sums, pointers) |*out, sum, pointer| {
            const correction: *const f32 = @ptrCast(@alignCast(pointer + scorer.codes_bytes));
            out.* = @as(f32, @floatFromInt(sum)) * scorer.scale + scorer.query_correction + correction.*;
        }
        return scores;
    }

    /// `out[i]` is the score of record `offsets[i]`.
    pub fn scoreMany(scorer: *const Int8Scorer, offsets: []const u32, out: []f32) void {
        scoreManyWith(Int8Scorer, scorer, offsets, out);
    }
};

pub const BinaryScorer = struct {
    records: [*]const u64,
    count: u64,
    words: u32,
    /// The score is `base + scale * hamming`.
    base: f32,
    scale: f32,
    query: []const u64,
    query_owned: bool,

    /// Encodes the f32 `query` (`dim` values) into bits.
    pub fn init(allocator: std.mem.Allocator, view: View, query: []const f32) error{OutOfMemory}!BinaryScorer {
        const encoded = try allocator.alloc(u64, binary.wordCount(view.quantizer.dim));
        view.quantizer.encodeQuery(query, std.mem.sliceAsBytes(encoded));
        var scorer = bind(view, encoded);
        scorer.query_owned = true;
        return scorer;
    }

    /// Uses stored record `offset` as the query; allocates nothing.
    pub fn initStored(view: View, offset: u64) BinaryScorer {
        const record: []const u64 = @ptrCast(@alignCast(view.record(offset)));
        return bind(view, record);
    }

    pub fn deinit(scorer: *BinaryScorer, allocator: std.mem.Allocator) void {
        if (scorer.query_owned) allocator.free(scorer.query);
        scorer.* = undefined;
    }

    fn bind(view: View, query: []const u64) BinaryScorer {
        view.assertValid();
        const quantizer = view.quantizer;
        assert(quantizer.kind == .binary);
        assert(query.len == binary.wordCount(quantizer.dim));
        const similarity = quantizer.metric.higherIsBetter();
        return .{
            .records = @ptrCast(@alignCast(view.records.ptr)),
            .count = view.count,
            .words = @intCast(query.len),
            .base = if (similarity) @floatFromInt(quantizer.dim) else 0,
            .scale = if (similarity) -2 else -1,
            .query = query,
            .query_owned = false,
        };
    }

    pub inline fn score(scorer: *const BinaryScorer, offset: u32) f32 {
        return scorer.scoreBatch(1, .{offset})[0];
    }

    /// As `Int8Scorer.prefetch`.
    pub inline fn prefetch(scorer: *const BinaryScorer, offset: u32) void {
        const record: [*]const u8 = @ptrCast(scorer.records + @as(usize, offset) * scorer.words);
        prefetchRecord(record, scorer.words * 8);
    }

    /// Scores of `R` records, the query loaded once per step.
    pub inline fn scoreBatch(scorer: *const BinaryScorer, comptime R: comptime_int, offsets: [R]u64) [R]f32 {
        var pointers: [R][*]const u64 = undefined;
        for (&pointers, offsets) |*pointer, offset| {
            assert(offset < scorer.count);
            pointer.* = scorer.records + offset * scorer.words;
        }
        const distances = binary.hammingBatch(R, scorer.query, pointers);
        var scores: [R]f32 = undefined;
        for (&scores, distances) |*out, hamming| out.* = scorer.base + scorer.scale * @as(f32, @floatFromInt(hamming));
        return scores;
    }

    /// `out[i]` is the score of record `offsets[i]`.
    pub fn scoreMany(scorer: *const BinaryScorer, offsets: []const u32, out: []f32) void {
        scoreManyWith(BinaryScorer, scorer, offsets, out);
    }
};

/// Cache lines prefetched per record at most: a 384-d int8 record takes 7.
const prefetch_lines_max = 16;
const cache_line_bytes = 64;

inline fn prefetchRecord(record: [*]const u8, bytes: usize) void {
    const lines = @min(prefetch_lines_max, (bytes + cache_line_bytes - 1) / cache_line_bytes);
    for (0..lines) |line| {
        @prefetch(record + line * cache_line_bytes, .{ .rw = .read, .locality = 3, .cache = .data });
    }
}

fn scoreManyWith(comptime S: type, scorer: *const S, offsets: []const u32, out: []f32) void {
    assert(offsets.len == out.len);
    var i: usize = 0;
    while (i + batch_records <= offsets.len) : (i += batch_records) {
        var batch: [batch_records]u64 = undefined;
        for (&batch, offsets[i..][0..batch_records]) |*wide, offset| wide.* = offset;
        out[i..][0..batch_records].* = scorer.scoreBatch(batch_records, batch);
    }
    for (offsets[i..], out[i..]) |offset, *score| score.* = scorer.score(offset);
}

test "int8 scores of stored records follow the estimate formulas" {
    const Quantizer = quantizer_module.Quantizer;
    const quantizer: Quantizer = .{ .kind = .int8, .metric = .dot, .datatype = .f32, .dim = 3, .alpha = 0.5, .min = -1 };
    var records: [2 * 8]u8 align(8) = undefined;
    quantizer.encodeQuery(&.{ -1, 0, 1 }, records[0..8]); // codes 0, 2, 4: exact
    quantizer.encodeQuery(&.{ 1, 1, -0.5 }, records[8..16]); // codes 4, 4, 1: exact
    const view: View = .{ .quantizer = quantizer, .count = 2, .records = &records };
    var scorer = Int8Scorer.initStored(view, 0);
    try std.testing.expectApproxEqAbs(@as(f32, -1 + 0 - 0.5), scorer.score(1), 1e-6);
    try std.testing.expectApproxEqAbs(@as(f32, 2), scorer.score(0), 1e-6);

    var euclid_quantizer = quantizer;
    euclid_quantizer.metric = .euclid;
    euclid_quantizer.encodeQuery(&.{ -1, 0, 1 }, records[0..8]);
    euclid_quantizer.encodeQuery(&.{ 1, 1, -0.5 }, records[8..16]);
    scorer = Int8Scorer.initStored(.{ .quantizer = euclid_quantizer, .count = 2, .records = &records }, 0);
    try std.testing.expectApproxEqAbs(@as(f32, -(4 + 1 + 2.25)), scorer.score(1), 1e-6);

    var manhattan_quantizer = quantizer;
    manhattan_quantizer.metric = .manhattan;
    scorer = Int8Scorer.initStored(.{ .quantizer = manhattan_quantizer, .count = 2, .records = &records }, 0);
    try std.testing.expectApproxEqAbs(@as(f32, -(2 + 1 + 1.5)), scorer.score(1), 1e-6);
}

test "binary scores are the sign agreement for dot and the negated Hamming distance for distances" {
    const Quantizer = quantizer_module.Quantizer;
    var quantizer: Quantizer = .{ .kind = .binary, .metric = .cosine, .datatype = .f32, .dim = 3, .alpha = 0, .min = 0 };
    var records: [2]u64 = undefined;
    quantizer.encodeQuery(&.{ 1, -1, 1 }, std.mem.sliceAsBytes(records[0..1]));
    quantizer.encodeQuery(&.{ 1, 1, -1 }, std.mem.sliceAsBytes(records[1..2]));
    const bytes = std.mem.sliceAsBytes(&records);
    var scorer = BinaryScorer.initStored(.{ .quantizer = quantizer, .count = 2, .records = bytes }, 0);
    try std.testing.expectEqual(@as(f32, 3 - 2 * 2), scorer.score(1));
    try std.testing.expectEqual(@as(f32, 3), scorer.score(0));
    quantizer.metric = .manhattan;
    scorer = BinaryScorer.initStored(.{ .quantizer = quantizer, .count = 2, .records = bytes }, 0);
    try std.testing.expectEqual(@as(f32, -2), scorer.score(1));
}
