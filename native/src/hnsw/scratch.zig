//! Per-search working memory, allocated once and reused: a visited set marked with a generation counter
//! (so it is never cleared between searches), a best-first candidate heap and a worst-first result heap.
//! A search allocates nothing; every heap has a fixed capacity known up front.

const std = @import("std");
const assert = std.debug.assert;
const layout = @import("layout.zig");

const Candidate = layout.Candidate;
const better = layout.better;

/// log2 of the largest heap (node ids are u32), bounding every sift loop.
const depth_max = 33;

pub const Scratch = struct {
    /// `visited[node] == generation` when node was seen by the current search.
    visited: []u16,
    generation: u16,
    /// Best-first heap of nodes to expand. Each node enters at most once per search, so `node_count`
    /// slots always suffice.
    candidates: []Candidate,
    candidates_len: u32,
    /// Worst-first heap of the best `ef` nodes found (only allowed nodes when a filter is given).
    results: []Candidate,
    results_len: u32,

    /// Working memory for searches of graphs of up to `node_count` offsets with `ef` (and `k`) up to
    /// `ef_max`.
    pub fn init(allocator: std.mem.Allocator, node_count: u32, ef_max: u32) error{OutOfMemory}!Scratch {
        assert(node_count <= layout.node_count_max);
        assert(ef_max > 0 and ef_max <= layout.ef_max);
        const visited = try allocator.alloc(u16, node_count);
        errdefer allocator.free(visited);
        @memset(visited, 0);
        const candidates = try allocUntouched(Candidate, allocator, node_count);
        errdefer freeUntouched(Candidate, allocator, candidates);
        const results = try allocator.alloc(Candidate, ef_max);
        return .{
            .visited = visited,
            .generation = 0,
            .candidates = candidates,
            .candidates_len = 0,
            .results = results,
            .results_len = 0,
        };
    }

    pub fn deinit(scratch: *Scratch, allocator: std.mem.Allocator) void {
        allocator.free(scratch.visited);
        freeUntouched(Candidate, allocator, scratch.candidates);
        allocator.free(scratch.results);
        scratch.* = undefined;
    }

    /// The candidate heap has a slot per node, yet a search fills a few thousand at most. The safe
    /// build's `alloc` and `free` write `undefined` bytes over the whole slice, which would fault in
    /// 8 bytes per node (8 MB at a million nodes) for nothing; these leave the pages alone.
    fn allocUntouched(comptime T: type, allocator: std.mem.Allocator, n: usize) error{OutOfMemory}![]T {
        if (n == 0) return &.{};
        const bytes = std.math.mul(usize, @sizeOf(T), n) catch return error.OutOfMemory;
        const ptr = allocator.rawAlloc(bytes, .of(T), @returnAddress()) orelse return error.OutOfMemory;
        const items: [*]T = @ptrCast(@alignCast(ptr));
        return items[0..n];
    }

    fn freeUntouched(comptime T: type, allocator: std.mem.Allocator, items: []T) void {
        if (items.len > 0) allocator.rawFree(std.mem.sliceAsBytes(items), .of(T), @returnAddress());
    }

    /// Largest node count this scratch serves.
    pub fn nodeCapacity(scratch: *const Scratch) u32 {
        return @intCast(scratch.visited.len);
    }

    /// Largest `ef` this scratch serves.
    pub fn efCapacity(scratch: *const Scratch) u32 {
        return @intCast(scratch.results.len);
    }

    /// Starts a search: forgets every visited mark and empties both heaps.
    pub fn begin(scratch: *Scratch) void {
        scratch.generation +%= 1;
        if (scratch.generation == 0) {
            // Wrapped after 65535 searches: clear once, so old marks cannot equal a new generation.
            @memset(scratch.visited, 0);
            scratch.generation = 1;
        }
        scratch.candidates_len = 0;
        scratch.results_len = 0;
    }

    /// Marks `node` visited; returns whether it was not visited before.
    pub inline fn visit(scratch: *Scratch, node: u32) bool {
        assert(scratch.generation != 0);
        const mark = &scratch.visited[node];
        if (mark.* == scratch.generation) return false;
        mark.* = scratch.generation;
        return true;
    }

    // ---- Candidates: best at the root ----

    pub inline fn candidatesEmpty(scratch: *const Scratch) bool {
        return scratch.candidates_len == 0;
    }

    pub inline fn candidateBest(scratch: *const Scratch) Candidate {
        assert(scratch.candidates_len > 0);
        return scratch.candidates[0];
    }

    pub inline fn candidatePush(scratch: *Scratch, candidate: Candidate) void {
        assert(scratch.candidates_len < scratch.candidates.len);
        siftUp(.best_first, scratch.candidates, scratch.candidates_len, candidate);
        scratch.candidates_len += 1;
    }

    pub inline fn candidatePop(scratch: *Scratch) Candidate {
        assert(scratch.candidates_len > 0);
        const best = scratch.candidates[0];
        scratch.candidates_len -= 1;
        const last = scratch.candidates[scratch.candidates_len];
        siftDown(.best_first, scratch.candidates[0..scratch.candidates_len], last);
        return best;
    }

    // ---- Results: worst at the root, at most `ef` ----

    pub inline fn resultWorst(scratch: *const Scratch) Candidate {
        assert(scratch.results_len > 0);
        return scratch.results[0];
    }

    /// Adds `candidate` to results of at most `ef`, dropping the worst when full.
    pub inline fn resultPush(scratch: *Scratch, candidate: Candidate, ef: u32) void {
        assert(ef <= scratch.results.len);
        if (scratch.results_len < ef) {
            siftUp(.worst_first, scratch.results, scratch.results_len, candidate);
            scratch.results_len += 1;
        } else if (better(candidate, scratch.results[0])) {
            siftDown(.worst_first, scratch.results[0..scratch.results_len], candidate);
        }
    }

    /// Sorts the results best first, in place, and returns them.
    pub fn resultsSorted(scratch: *Scratch) []const Candidate {
        const results = scratch.results[0..scratch.results_len];
        var end = results.len;
        while (end > 1) {
            end -= 1;
            const worst = results[0];
            siftDown(.worst_first, results[0..end], results[end]);
            results[end] = worst; // The worst remaining goes last.
        }
        for (1..@max(results.len, 1)) |i| assert(better(results[i - 1], results[i]));
        scratch.results_len = 0; // The heap is consumed.
        return results;
    }
};

const Order = enum { best_first, worst_first };

/// Whether `a` belongs above `b` in a heap of `order`.
inline fn above(comptime order: Order, a: Candidate, b: Candidate) bool {
    return switch (order) {
        .best_first => better(a, b),
        .worst_first => better(b, a),
    };
}

/// Places `item` into the hole at `len` of the heap `items[0..len]` and restores the heap.
inline fn siftUp(comptime order: Order, items: []Candidate, len: u32, item: Candidate) void {
    var i = len;
    for (0..depth_max) |_| {
        if (i == 0) break;
        const parent = (i - 1) / 2;
        if (!above(order, item, items[parent])) break;
        items[i] = items[parent];
        i = parent;
    } else unreachable;
    items[i] = item;
}

/// Replaces the root of the heap `items` with `item` and restores the heap.
inline fn siftDown(comptime order: Order, items: []Candidate, item: Candidate) void {
    const len = items.len;
    if (len == 0) return;
    var i: usize = 0;
    for (0..depth_max) |_| {
        const left = 2 * i + 1;
        if (left >= len) break;
        const right = left + 1;
        var child = left;
        if (right < len and above(order, items[right], items[left])) child = right;
        if (!above(order, items[child], item)) break;
        items[i] = items[child];
        i = child;
    } else unreachable;
    items[i] = item;
}

test "the heaps pop best first and keep the best ef, ties by lower node" {
    var scratch: Scratch = try .init(std.testing.allocator, 16, 3);
    defer scratch.deinit(std.testing.allocator);
    scratch.begin();
    const scores = [_]f32{ 0.5, 0.9, 0.1, 0.9, 0.7, -1, 0.9 };
    for (scores, 0..) |score, node| {
        try std.testing.expect(scratch.visit(@intCast(node)));
        scratch.candidatePush(.{ .score = score, .node = @intCast(node) });
        scratch.resultPush(.{ .score = score, .node = @intCast(node) }, 3);
    }
    try std.testing.expect(!scratch.visit(3));
    const expected_order = [_]u32{ 1, 3, 6, 4, 0, 2, 5 };
    for (expected_order) |node| try std.testing.expectEqual(node, scratch.candidatePop().node);
    try std.testing.expect(scratch.candidatesEmpty());
    const results = scratch.resultsSorted();
    try std.testing.expectEqual(@as(usize, 3), results.len);
    for (results, [_]u32{ 1, 3, 6 }) |result, node| try std.testing.expectEqual(node, result.node);
}

test "the visited set forgets between searches and survives the generation wrapping" {
    var scratch: Scratch = try .init(std.testing.allocator, 4, 1);
    defer scratch.deinit(std.testing.allocator);
    for (0..70_000) |round| {
        scratch.begin();
        try std.testing.expect(scratch.visit(@intCast(round % 4)));
        try std.testing.expect(!scratch.visit(@intCast(round % 4)));
    }
}
