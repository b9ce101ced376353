//! The search of one vector file through its indexes (`ABI.md`, `edge_search`): an HNSW graph walk over
//! the offsets the graph covers and a scan of the records written after it, scored with the original
//! vectors or with quantized ones; quantized candidates are oversampled and re-scored with the originals.
//!
//! Scores are collected "higher is better" (as every scorer gives them) and turned back into raw scores
//! (`ABI.md`, "Raw scores") at the end.

const std = @import("std");
const assert = std.debug.assert;
const types = @import("../types.zig");
const hnsw = @import("../hnsw/hnsw.zig");
const quant = @import("../quant/quant.zig");
const View = @import("../storage/storage.zig").View;
const flat = @import("../flat/search.zig");
const TopK = @import("../flat/top_k.zig").TopK;

const Metric = types.Metric;

/// Most candidates kept before rescoring: the graph search's own limit on `ef`.
pub const candidates_max: u32 = hnsw.ef_max;

/// What a search reads: the original vectors, and the indexes built over their first records.
pub const Sources = struct {
    vectors: View,
    /// The graph's view; it covers offsets `0..node_count`.
    graph: ?*const hnsw.GraphView = null,
    /// Working memory for walking `graph` (serving its node count and `candidates_max`).
    scratch: ?*hnsw.Scratch = null,
    /// Quantized copies of records `0..quantized.count`.
    quantized: ?quant.View = null,
};

pub const Request = struct {
    metric: Metric,
    /// `nq` queries of `vectors.dim` f32 values (prepared: normalised for cosine).
    queries: []const f32,
    k: u32,
    /// Graph search width; the search uses at least the number of candidates it keeps.
    ef: u32,
    /// Scan every allowed record instead of walking the graph.
    exact: bool,
    /// With quantized vectors: re-score the kept candidates with the originals.
    rescore: bool,
    /// With quantized vectors: keep `ceil(k · oversampling)` candidates (>= 1).
    oversampling: f32,
    /// Bit `i` allows offset `i`; offsets past its end are excluded. Null allows all.
    allow: ?[]const u8,
};

/// Searches every query; results laid out as `flat.Results` (raw scores, best first).
pub fn search(allocator: std.mem.Allocator, sources: Sources, request: Request, results: flat.Results) error{OutOfMemory}!void {
    const dim = sources.vectors.dim;
    const nq = results.counts.len;
    assert(request.k > 0);
    assert(request.queries.len == nq * dim);
    assert(request.oversampling >= 1);
    assert(sources.graph == null or sources.scratch != null);
    assert(sources.graph == null or sources.graph.?.node_count <= sources.vectors.count);
    if (sources.quantized) |q| assert(q.count <= sources.vectors.count and q.quantizer.dim == dim);
    const kept = candidatesKept(request.k, request.oversampling, sources.quantized != null);
    const offsets = try allocator.alloc(u64, kept);
    defer allocator.free(offsets);
    const scores = try allocator.alloc(f32, kept);
    defer allocator.free(scores);
    const merged_offsets = try allocator.alloc(u64, kept);
    defer allocator.free(merged_offsets);
    const merged_scores = try allocator.alloc(f32, kept);
    defer allocator.free(merged_scores);
    const buffers: Buffers = .{
        .offsets = offsets,
        .scores = scores,
        .merged_offsets = merged_offsets,
        .merged_scores = merged_scores,
    };
    for (0..nq) |q| {
        const query = request.queries[q * dim ..][0..dim];
        const out_offsets = results.offsets[q * request.k ..][0..request.k];
        const out_scores = results.scores[q * request.k ..][0..request.k];
        results.counts[q] = try searchOne(allocator, sources, request, query, buffers, out_offsets, out_scores);
    }
}

/// How many candidates a query keeps before the final top `k`.
fn candidatesKept(k: u32, oversampling: f32, quantized: bool) u32 {
    if (!quantized) return @min(k, candidates_max);
    const wanted = @ceil(@as(f64, @floatFromInt(k)) * oversampling);
    return @intFromFloat(@min(@max(wanted, @as(f64, @floatFromInt(k))), @as(f64, @floatFromInt(candidates_max))));
}

const Buffers = struct {
    offsets: []u64,
    scores: []f32,
    merged_offsets: []u64,
    merged_scores: []f32,
};

fn searchOne(
    allocator: std.mem.Allocator,
    sources: Sources,
    request: Request,
    query: []const f32,
    buffers: Buffers,
    out_offsets: []u64,
    out_scores: []f32,
) error{OutOfMemory}!u32 {
    const vectors = sources.vectors;
    var top: TopK = .init(buffers.merged_offsets, buffers.merged_scores, 0);
    const covered: u64 = if (sources.quantized) |q| blk: {
        switch (q.quantizer.kind) {
            .int8 => {
                var scorer = try quant.Int8Scorer.init(allocator, q, query);
                defer scorer.deinit(allocator);
                collect(quant.Int8Scorer, &scorer, sources, request, buffers, &top);
            },
            .binary => {
                var scorer = try quant.BinaryScorer.init(allocator, q, query);
                defer scorer.deinit(allocator);
                collect(quant.BinaryScorer, &scorer, sources, request, buffers, &top);
            },
        }
        break :blk q.count;
    } else 0;
    // The records past the quantized ones (all of them without quantization) are scored with the originals.
    switch (vectors.datatype) {
        inline else => |datatype| switch (request.metric) {
            inline else => |metric| {
                const Raw = hnsw.RawScorer(datatype, metric);
                var raw = try Raw.init(allocator, vectors, query);
                defer raw.deinit(allocator);
                if (sources.quantized == null) {
                    collect(Raw, &raw, sources, request, buffers, &top);
                } else {
                    scanRange(Raw, &raw, covered, vectors.count, request.allow, &top);
                }
            },
        },
    }
    const found = top.finish();
    const candidates_offsets = buffers.merged_offsets[0..found];
    const candidates_scores = buffers.merged_scores[0..found];
    if (sources.quantized != null and request.rescore) {
        // Raw scores, best first.
        try quant.rescore(allocator, vectors, request.metric, query, candidates_offsets, candidates_scores);
        const count: u32 = @min(found, request.k);
        @memcpy(out_offsets[0..count], candidates_offsets[0..count]);
        @memcpy(out_scores[0..count], candidates_scores[0..count]);
        return count;
    }
    const count: u32 = @min(found, request.k);
    for (0..count) |i| {
        out_offsets[i] = candidates_offsets[i];
        const score = candidates_scores[i];
        out_scores[i] = if (request.metric.higherIsBetter()) score else -score;
    }
    return count;
}

/// Adds to `top` the best records for `scorer` among those it covers: by walking the graph over the
/// offsets the graph covers and scanning the rest, or by scanning all of them.
fn collect(comptime S: type, scorer: *const S, sources: Sources, request: Request, buffers: Buffers, top: *TopK) void {
    const end: u64 = scorer.count;
    const kept: u32 = @intCast(buffers.offsets.len);
    var scanned_from: u64 = 0;
    if (sources.graph) |graph| {
        if (!request.exact) {
            const found = hnsw.search(S, graph, scorer, .{
                .ef = @min(@max(request.ef, kept), candidates_max),
                .k = kept,
                .allow = request.allow,
            }, sources.scratch.?, .{ .offsets = buffers.offsets, .scores = buffers.scores });
            for (buffers.offsets[0..found], buffers.scores[0..found]) |offset, score| top.push(offset, score);
            scanned_from = @min(graph.node_count, end);
        }
    }
    scanRange(S, scorer, scanned_from, end, request.allow, top);
}

/// Adds every allowed record of `start..end` to `top`.
fn scanRange(comptime S: type, scorer: *const S, start: u64, end: u64, allow: ?[]const u8, top: *TopK) void {
    var next = start;
    // Each pass takes an offset at or after `next` and moves past it: at most end - start passes.
    while (flat.nextAllowed(allow, next, end)) |offset| : (next = offset + 1) {
        top.push(offset, scorer.score(@intCast(offset)));
    }
}
