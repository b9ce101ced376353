//! The link layout shared by the in-memory builder and the mapped graph file (`FORMAT.md`, "HNSW graph
//! file"), and the read-only view of it that search walks.
//!
//! Nodes are vector-file offsets `0..node_count`. A node's level-0 links are one fixed-size record of
//! `1 + m0` u32 (a count, then `m0` slots); its links on levels `1..=level` are `level` consecutive records
//! of `1 + m` u32 in one array, the first at `upper_first[node]` (a prefix sum over the levels, as in CSR).
//! Offsets that are not in the graph have level `level_absent` and no links.

const std = @import("std");
const assert = std.debug.assert;

/// Links per node on upper levels: the range accepted by the builder and by the file reader.
pub const m_min: u32 = 2;
pub const m_max: u32 = 64;
/// Level 0 keeps twice as many links as the upper levels.
pub const m0_per_m: u32 = 2;
/// Most links any record holds: the size of every on-stack link buffer.
pub const links_max: u32 = m_max * m0_per_m;
/// Highest level a node may draw. With m >= 2 a level above 16 has probability below 2^-16 per node.
pub const level_cap: u32 = 16;
/// The level byte of an offset that is not a node of the graph.
pub const level_absent: u8 = 0xff;
/// Entry point of a graph without nodes.
pub const node_none: u32 = std.math.maxInt(u32);
/// Largest node count: every node id, and `node_none`, fits a u32.
pub const node_count_max: u32 = node_none - 1;
/// Largest `ef_construct` and search `ef` (bounds the result heap).
pub const ef_max: u32 = 1 << 16;

comptime {
    assert(level_cap < level_absent);
    assert(links_max <= 128);
}

/// A node and its score for the current query; higher scores are better.
pub const Candidate = struct {
    score: f32,
    node: u32,
};

/// Whether `a` ranks before `b`: higher score first, ties by lower node id (total order when scores are
/// not NaN; scorers' NaN is mapped to -inf before it reaches a heap).
pub inline fn better(a: Candidate, b: Candidate) bool {
    return a.score > b.score or (a.score == b.score and a.node < b.node);
}

/// Read-only view of a graph: slices into the builder's memory or into a mapped file.
pub const GraphView = struct {
    m: u32,
    m0: u32,
    /// Offsets covered: `levels.len`.
    node_count: u32,
    /// `node_none` when the graph has no node.
    entry_point: u32,
    max_level: u32,
    /// One byte per offset: its level, or `level_absent`.
    levels: []const u8,
    /// `node_count + 1` prefix sums: node `i`'s upper records are `upper_first[i]..upper_first[i + 1]`.
    upper_first: []const u32,
    /// `node_count` records of `1 + m0` u32.
    level0: []const u32,
    /// Records of `1 + m` u32.
    upper: []const u32,

    /// The record (count, then slots) of `node` on `level`.
    pub inline fn record(graph: *const GraphView, node: u32, level: u32) []const u32 {
        assert(node < graph.node_count);
        if (level == 0) {
            const stride = 1 + graph.m0;
            return graph.level0[@as(usize, node) * stride ..][0..stride];
        }
        const stride = 1 + graph.m;
        const index = graph.upper_first[node] + level - 1;
        assert(index < graph.upper_first[node + 1]);
        return graph.upper[@as(usize, index) * stride ..][0..stride];
    }

    /// The links of `node` on `level` (the view must not be changing: no insert may run).
    pub fn links(graph: *const GraphView, node: u32, level: u32) []const u32 {
        const rec = graph.record(node, level);
        assert(rec[0] < rec.len);
        return rec[1..][0..rec[0]];
    }

    pub fn isEmpty(graph: *const GraphView) bool {
        return graph.entry_point == node_none;
    }

    pub fn assertShape(graph: *const GraphView) void {
        assert(graph.m >= m_min and graph.m <= m_max);
        assert(graph.m0 == graph.m * m0_per_m);
        assert(graph.levels.len == graph.node_count);
        assert(graph.upper_first.len == @as(usize, graph.node_count) + 1);
        assert(graph.level0.len == @as(usize, graph.node_count) * (1 + graph.m0));
        assert(graph.upper.len == @as(usize, graph.upper_first[graph.node_count]) * (1 + graph.m));
        assert(graph.max_level <= level_cap);
        if (graph.entry_point != node_none) {
            assert(graph.entry_point < graph.node_count);
            assert(graph.levels[graph.entry_point] == graph.max_level);
        }
    }
};

/// A one-byte spinlock guarding one node's link records while threads build the graph concurrently.
/// Waiting is unbounded, but every critical section is: it copies or rewrites one record (at most
/// `links_max + 1` scores and `links_max^2` pair scores for a shrink).
pub const NodeLock = struct {
    state: std.atomic.Value(u8) = .init(0),

    pub inline fn lock(node_lock: *NodeLock) void {
        while (node_lock.state.cmpxchgWeak(0, 1, .acquire, .monotonic) != null) {
            while (node_lock.state.load(.monotonic) != 0) std.atomic.spinLoopHint();
        }
    }

    pub inline fn unlock(node_lock: *NodeLock) void {
        assert(node_lock.state.load(.monotonic) == 1);
        node_lock.state.store(0, .release);
    }
};

/// Whether offset `node` is set in the allow bitset (bit `i` = byte `i >> 3`, bit `i & 7`, LSB first).
/// Offsets beyond the bitset are not allowed.
pub inline fn allowed(bits: []const u8, node: u32) bool {
    const byte = node >> 3;
    if (byte >= bits.len) return false;
    return (bits[byte] >> @intCast(node & 7)) & 1 == 1;
}

test "candidates order by score, then by lower node" {
    try std.testing.expect(better(.{ .score = 2, .node = 9 }, .{ .score = 1, .node = 0 }));
    try std.testing.expect(better(.{ .score = 1, .node = 3 }, .{ .score = 1, .node = 4 }));
    try std.testing.expect(!better(.{ .score = 1, .node = 4 }, .{ .score = 1, .node = 4 }));
    try std.testing.expect(allowed(&.{0b0000_0100}, 2));
    try std.testing.expect(!allowed(&.{0b0000_0100}, 3));
    try std.testing.expect(!allowed(&.{0xff}, 8));
}
