//! The one HNSW search: a greedy descent through the upper levels, then a best-first search of `ef` on
//! level 0. Build runs the same two functions (`descend`, `searchLevel`) with `locking` on, so that
//! records are copied under their node's lock while other threads rewrite them.
//!
//! Filtering: every node may be traversed, but only allowed nodes enter the results, and the search keeps
//! expanding while the results hold fewer than `ef` allowed nodes. Each node is expanded at most once,
//! so the search ends after at most `node_count` expansions whatever the filter.

const std = @import("std");
const assert = std.debug.assert;
const types = @import("../types.zig");
const View = @import("../storage/storage.zig").View;
const layout = @import("layout.zig");
const scorer_module = @import("scorer.zig");
const Scratch = @import("scratch.zig").Scratch;

const Candidate = layout.Candidate;
const GraphView = layout.GraphView;
const NodeLock = layout.NodeLock;
const better = layout.better;
const links_max = layout.links_max;

/// How many neighbours ahead of the one being scored `prefetch` is asked for.
const prefetch_distance = 2;

pub const Options = struct {
    /// Size of the dynamic candidate list; the search uses `max(ef, k)`.
    ef: u32,
    /// Results wanted.
    k: u32,
    /// Bit `i` (byte `i >> 3`, bit `i & 7`, LSB first) allows offset `i`; offsets past the end are not
    /// allowed. `null` allows every node.
    allow: ?[]const u8 = null,
};

/// Caller-owned output, at least `k` slots each.
pub const Results = struct {
    offsets: []u64,
    /// The scorer's scores: higher is better (euclid and manhattan distances come back negated).
    scores: []f32,
};

/// Searches `graph` for the `k` best nodes for `scorer`. Writes them best first, ties by lower offset,
/// to `out` and returns how many there are (fewer than `k` when the graph or the filter has fewer).
/// `scratch` must serve `graph.node_count` nodes and `max(ef, k)`.
pub fn search(
    comptime S: type,
    graph: *const GraphView,
    scorer: *const S,
    options: Options,
    scratch: *Scratch,
    out: Results,
) u32 {
    comptime scorer_module.assertScorer(S);
    assert(options.k > 0);
    assert(out.offsets.len >= options.k);
    assert(out.scores.len >= options.k);
    const ef = @max(options.ef, options.k);
    assert(ef <= scratch.efCapacity());
    assert(graph.node_count <= scratch.nodeCapacity());
    if (graph.isEmpty()) return 0;

    var entry: Candidate = .{ .score = scoreOf(S, scorer, graph.entry_point), .node = graph.entry_point };
    var level = graph.max_level;
    while (level > 0) : (level -= 1) entry = descend(S, false, graph, &.{}, scorer, entry, level);
    searchLevel(S, false, graph, &.{}, scorer, entry, 0, ef, options.allow, scratch);

    const results = scratch.resultsSorted();
    const count: u32 = @intCast(@min(results.len, options.k));
    for (results[0..count], out.offsets[0..count], out.scores[0..count]) |result, *offset, *score| {
        if (options.allow) |bits| assert(layout.allowed(bits, result.node));
        offset.* = result.node;
        score.* = result.score;
    }
    return count;
}

/// `search` with a `RawScorer` for `query` (`view.dim` f32 values), dispatched on the view's datatype and
/// `metric`. Allocates only the converted query.
pub fn searchRaw(
    allocator: std.mem.Allocator,
    graph: *const GraphView,
    view: View,
    metric: types.Metric,
    query: []const f32,
    options: Options,
    scratch: *Scratch,
    out: Results,
) error{OutOfMemory}!u32 {
    switch (view.datatype) {
        inline else => |datatype| switch (metric) {
            inline else => |metric_comptime| {
                const Raw = scorer_module.RawScorer(datatype, metric_comptime);
                var scorer: Raw = try .init(allocator, view, query);
                defer scorer.deinit(allocator);
                return search(Raw, graph, &scorer, options, scratch, out);
            },
        },
    }
}

/// Greedy search on one upper `level`: moves to the best neighbour while one is better, and returns the
/// best node reached. Every move is to a strictly better node in a total order, so no node is reached
/// twice and there are fewer than `node_count` moves.
pub fn descend(
    comptime S: type,
    comptime locking: bool,
    graph: *const GraphView,
    locks: []NodeLock,
    scorer: *const S,
    entry: Candidate,
    level: u32,
) Candidate {
    assert(level > 0);
    var current = entry;
    var buffer: [links_max]u32 = undefined;
    for (0..graph.node_count) |_| {
        const links = linksOf(locking, graph, locks, current.node, level, &buffer);
        const before = current.node;
        prefetchRange(S, scorer, links, 0, prefetch_distance);
        for (links, 0..) |neighbour, i| {
            prefetchRange(S, scorer, links, i + prefetch_distance, 1);
            const candidate: Candidate = .{ .score = scoreOf(S, scorer, neighbour), .node = neighbour };
            if (better(candidate, current)) current = candidate;
        }
        if (current.node == before) return current;
    }
    unreachable;
}

/// Best-first search of `ef` on `level` from `entry`. Leaves the best `ef` nodes (allowed ones only, when
/// `allow` is given) in `scratch`'s result heap; `scratch.resultsSorted()` returns them.
pub fn searchLevel(
    comptime S: type,
    comptime locking: bool,
    graph: *const GraphView,
    locks: []NodeLock,
    scorer: *const S,
    entry: Candidate,
    level: u32,
    ef: u32,
    allow: ?[]const u8,
    scratch: *Scratch,
) void {
    assert(ef > 0);
    assert(ef <= scratch.efCapacity());
    assert(graph.node_count <= scratch.nodeCapacity());
    scratch.begin();
    _ = scratch.visit(entry.node);
    scratch.candidatePush(entry);
    if (isAllowed(allow, entry.node)) scratch.resultPush(entry, ef);

    var buffer: [links_max]u32 = undefined;
    var pending: [links_max]u32 = undefined;
    // Each node enters the candidates at most once (it is marked visited first), so this many
    // expansions empty them.
    for (0..@as(usize, graph.node_count) + 1) |_| {
        if (scratch.candidatesEmpty()) return;
        const best = scratch.candidateBest();
        if (scratch.results_len == ef and better(scratch.resultWorst(), best)) return;
        _ = scratch.candidatePop();

        const links = linksOf(locking, graph, locks, best.node, level, &buffer);
        var pending_count: u32 = 0;
        for (links) |neighbour| {
            pending[pending_count] = neighbour;
            pending_count += @intFromBool(scratch.visit(neighbour));
        }
        scoreFresh(S, scorer, pending[0..pending_count], ef, allow, scratch);
    }
    unreachable;
}

/// Scores the newly visited neighbours `fresh` (in batches when the scorer has them) and keeps those that
/// may still improve the results.
inline fn scoreFresh(
    comptime S: type,
    scorer: *const S,
    fresh: []const u32,
    ef: u32,
    allow: ?[]const u8,
    scratch: *Scratch,
) void {
    const batch = comptime scorer_module.batchLen(S);
    const ahead = @max(batch, prefetch_distance);
    prefetchRange(S, scorer, fresh, 0, ahead);
    var i: usize = 0;
    if (batch > 1) {
        while (i + batch <= fresh.len) : (i += batch) {
            prefetchRange(S, scorer, fresh, i + ahead, batch);
            const scores = scorer.scoreBatch(fresh[i..][0..batch].*);
            inline for (scores, 0..) |score, j| consider(fresh[i + j], sanitized(score), ef, allow, scratch);
        }
    }
    while (i < fresh.len) : (i += 1) {
        prefetchRange(S, scorer, fresh, i + ahead, 1);
        consider(fresh[i], scoreOf(S, scorer, fresh[i]), ef, allow, scratch);
    }
}

inline fn consider(node: u32, score: f32, ef: u32, allow: ?[]const u8, scratch: *Scratch) void {
    const candidate: Candidate = .{ .score = score, .node = node };
    if (scratch.results_len < ef or better(candidate, scratch.resultWorst())) {
        scratch.candidatePush(candidate);
        if (isAllowed(allow, node)) scratch.resultPush(candidate, ef);
    }
}

/// Prefetches the vectors of `nodes[start..start + count]` (those that exist).
inline fn prefetchRange(comptime S: type, scorer: *const S, nodes: []const u32, start: usize, count: usize) void {
    if (comptime !scorer_module.hasPrefetch(S)) return;
    const end = @min(nodes.len, start + count);
    var i = start;
    while (i < end) : (i += 1) scorer.prefetch(nodes[i]);
}

/// The links of `node` on `level`. While building with several threads, they are copied to `buffer`
/// under the node's lock; otherwise the record is read in place.
inline fn linksOf(
    comptime locking: bool,
    graph: *const GraphView,
    locks: []NodeLock,
    node: u32,
    level: u32,
    buffer: *[links_max]u32,
) []const u32 {
    if (!locking) return graph.links(node, level);
    locks[node].lock();
    defer locks[node].unlock();
    const record = graph.record(node, level);
    const count = record[0];
    assert(count < record.len);
    @memcpy(buffer[0..count], record[1..][0..count]);
    return buffer[0..count];
}

/// The scorer's score, NaN mapped to -inf so that the heaps keep a total order.
inline fn scoreOf(comptime S: type, scorer: *const S, node: u32) f32 {
    return sanitized(scorer.score(node));
}

inline fn sanitized(score: f32) f32 {
    return if (std.math.isNan(score)) -std.math.inf(f32) else score;
}

inline fn isAllowed(allow: ?[]const u8, node: u32) bool {
    const bits = allow orelse return true;
    return layout.allowed(bits, node);
}
