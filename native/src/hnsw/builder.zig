//! Builds an HNSW graph over the records of a vector file, in batches, on one or several threads.
//!
//! Node ids are vector-file offsets. Every memory the graph needs is allocated by `init`: a node's level
//! is drawn from a hash of (seed, offset) rather than from a random stream, so the levels — and so the
//! place of every link record — are known before anything is inserted, whatever the insertion order or
//! interleaving. One thread inserting the same offsets in the same order always builds the same graph.
//!
//! With several threads, each node's link records are guarded by a one-byte spinlock (held only to copy
//! or rewrite one record) and the entry point by a reader-writer lock; a node that raises the top level
//! holds that lock for its whole insertion, as hnswlib does, so that no thread descends from a half-linked
//! entry point.
//!
//! Links are chosen with the HNSW heuristic (Malkov & Yashunin, algorithm 4): a candidate is kept only if
//! it is closer to the base node than to every neighbour already kept. The new node keeps up to `m` links
//! on every level; a neighbour whose record is full (`m`, or `2m` on level 0) is re-selected with the same
//! heuristic among its links and the new node.

const std = @import("std");
const assert = std.debug.assert;
const types = @import("../types.zig");
const View = @import("../storage/storage.zig").View;
const RwLock = @import("../sync.zig").RwLock;
const layout = @import("layout.zig");
const scorer_module = @import("scorer.zig");
const search_module = @import("search.zig");
const Scratch = @import("scratch.zig").Scratch;
const file = @import("file.zig");
const os = @import("../storage/os.zig");
const Diagnostic = @import("../diagnostic.zig").Diagnostic;

const Candidate = layout.Candidate;
const GraphView = layout.GraphView;
const NodeLock = layout.NodeLock;
const Metric = types.Metric;
const Datatype = types.Datatype;
const better = layout.better;
const links_max = layout.links_max;
const node_none = layout.node_none;

pub const Params = struct {
    /// Links per node on the upper levels, `layout.m_min..=layout.m_max`; level 0 keeps `2 * m`.
    m: u32 = 16,
    /// Size of the candidate list while inserting, `1..=layout.ef_max`.
    ef_construct: u32 = 100,
    /// Seeds the level of every node.
    seed: u64 = 0,
};

/// Most threads one `insert` call runs.
pub const threads_max: u32 = 64;
/// Offsets a thread claims at a time from a multi-threaded batch.
const claim_offsets = 16;
/// Stack of each spawned builder thread: the deepest frame holds a few link buffers.
const thread_stack_bytes = 1024 * 1024;

pub const Builder = struct {
    allocator: std.mem.Allocator,
    params: Params,
    m0: u32,
    view: View,
    metric: Metric,
    /// Offsets covered: `0..node_count`, fixed at init.
    node_count: u32,
    /// Level of each inserted offset, `layout.level_absent` for the others. Written once per offset.
    levels: []u8,
    /// Prefix sums of the drawn levels of every offset (inserted or not), so that each offset owns its
    /// upper records from the start.
    upper_first: []u32,
    level0: []u32,
    upper: []u32,
    locks: []NodeLock,
    entry_point: u32,
    max_level: u32,
    entry_lock: RwLock,
    inserted_count: std.atomic.Value(u32),
    /// One per thread that ever ran an insert, kept between batches.
    scratches: std.ArrayList(Scratch),

    /// A builder for offsets `0..view.count` of `view`, scored with `metric`. Allocates the whole graph.
    pub fn init(allocator: std.mem.Allocator, params: Params, view: View, metric: Metric) error{OutOfMemory}!*Builder {
        assert(params.m >= layout.m_min and params.m <= layout.m_max);
        assert(params.ef_construct > 0 and params.ef_construct <= layout.ef_max);
        assert(view.count <= layout.node_count_max);
        assert(view.records.len == view.count * view.dim * view.datatype.sizeBytes());
        const node_count: u32 = @intCast(view.count);
        const m0 = params.m * layout.m0_per_m;

        const builder = try allocator.create(Builder);
        errdefer allocator.destroy(builder);
        const levels = try allocator.alloc(u8, node_count);
        errdefer allocator.free(levels);
        @memset(levels, layout.level_absent);
        const upper_first = try allocator.alloc(u32, @as(usize, node_count) + 1);
        errdefer allocator.free(upper_first);
        var upper_total: u64 = 0;
        for (0..node_count) |offset| {
            upper_first[offset] = @intCast(upper_total);
            upper_total += levelOf(params.seed, @intCast(offset), params.m);
            assert(upper_total < std.math.maxInt(u32));
        }
        upper_first[node_count] = @intCast(upper_total);
        const level0 = try allocator.alloc(u32, @as(usize, node_count) * (1 + m0));
        errdefer allocator.free(level0);
        @memset(level0, 0);
        const upper = try allocator.alloc(u32, upper_total * (1 + params.m));
        errdefer allocator.free(upper);
        @memset(upper, 0);
        const locks = try allocator.alloc(NodeLock, node_count);
        @memset(locks, .{});

        builder.* = .{
            .allocator = allocator,
            .params = params,
            .m0 = m0,
            .view = view,
            .metric = metric,
            .node_count = node_count,
            .levels = levels,
            .upper_first = upper_first,
            .level0 = level0,
            .upper = upper,
            .locks = locks,
            .entry_point = node_none,
            .max_level = 0,
            .entry_lock = .{},
            .inserted_count = .init(0),
            .scratches = .empty,
        };
        builder.layers().assertShape();
        return builder;
    }

    pub fn deinit(builder: *Builder) void {
        const allocator = builder.allocator;
        for (builder.scratches.items) |*scratch| scratch.deinit(allocator);
        builder.scratches.deinit(allocator);
        allocator.free(builder.levels);
        allocator.free(builder.upper_first);
        allocator.free(builder.level0);
        allocator.free(builder.upper);
        allocator.free(builder.locks);
        allocator.destroy(builder);
    }

    /// Rebinds the vectors, for when the file's mapping moved between batches (a put may remap it).
    /// The records of the covered offsets must be unchanged; the file may have grown.
    pub fn setView(builder: *Builder, view: View) void {
        assert(view.datatype == builder.view.datatype);
        assert(view.dim == builder.view.dim);
        assert(view.count >= builder.node_count);
        const record_bytes = @as(usize, view.dim) * view.datatype.sizeBytes();
        builder.view = view;
        builder.view.count = builder.node_count;
        builder.view.records = view.records[0 .. record_bytes * builder.node_count];
    }

    /// Whether `offset` was inserted.
    pub fn contains(builder: *const Builder, offset: u32) bool {
        assert(offset < builder.node_count);
        return builder.levels[offset] != layout.level_absent;
    }

    /// Nodes inserted so far.
    pub fn insertedCount(builder: *const Builder) u32 {
        return builder.inserted_count.load(.monotonic);
    }

    /// Inserts `offsets` (each `< node_count`, each inserted once over the builder's life). With
    /// `threads == 1` the graph depends only on the seed and the order of all offsets inserted; with more,
    /// up to `threads` threads insert concurrently (if a thread cannot be started, the others do its
    /// share). No search or write may run during an insert.
    pub fn insert(builder: *Builder, offsets: []const u32, threads: u32) error{OutOfMemory}!void {
        assert(threads >= 1 and threads <= threads_max);
        for (offsets) |offset| assert(offset < builder.node_count);
        if (offsets.len == 0) return;
        const workers: u32 = @intCast(@min(threads, (offsets.len + claim_offsets - 1) / claim_offsets));
        try builder.reserveScratches(workers);
        switch (builder.view.datatype) {
            inline else => |datatype| switch (builder.metric) {
                inline else => |metric| Typed(datatype, metric).insertAll(builder, offsets, workers),
            },
        }
        builder.layers().assertShape();
    }

    /// Writes the graph file to `path` (relative to `dir`, replacing any file there) and fsyncs it
    /// (`FORMAT.md`, "HNSW graph file"). No insert may run meanwhile.
    pub fn write(builder: *const Builder, dir: os.fd_t, path: []const u8, diagnostic: *Diagnostic) file.Error!void {
        const graph = builder.layers();
        const meta: file.Meta = .{
            .ef_construct = builder.params.ef_construct,
            .metric = builder.metric,
            .datatype = builder.view.datatype,
            .dim = builder.view.dim,
            .seed = builder.params.seed,
            .inserted_count = builder.insertedCount(),
        };
        return file.write(builder.allocator, &graph, meta, dir, path, diagnostic);
    }

    /// The graph as search reads it. Valid until the next insert or deinit.
    pub fn layers(builder: *const Builder) GraphView {
        var view = builder.linksView();
        view.entry_point = builder.entry_point;
        view.max_level = builder.max_level;
        return view;
    }

    /// The links alone, for inserts: the entry point is read under its lock, not from the view.
    fn linksView(builder: *const Builder) GraphView {
        return .{
            .m = builder.params.m,
            .m0 = builder.m0,
            .node_count = builder.node_count,
            .entry_point = node_none,
            .max_level = 0,
            .levels = builder.levels,
            .upper_first = builder.upper_first,
            .level0 = builder.level0,
            .upper = builder.upper,
        };
    }

    fn reserveScratches(builder: *Builder, workers: u32) error{OutOfMemory}!void {
        const allocator = builder.allocator;
        if (builder.scratches.items.len >= workers) return;
        try builder.scratches.ensureTotalCapacity(allocator, workers);
        while (builder.scratches.items.len < workers) {
            const scratch: Scratch = try .init(allocator, builder.node_count, builder.params.ef_construct);
            builder.scratches.appendAssumeCapacity(scratch);
        }
    }

    /// The level `offset` draws (whether or not it is inserted).
    fn levelDrawn(builder: *const Builder, offset: u32) u32 {
        return builder.upper_first[offset + 1] - builder.upper_first[offset];
    }

    /// The record (count, then slots) of `node` on `level`, for writing under the node's lock.
    fn record(builder: *Builder, node: u32, level: u32) []u32 {
        assert(level <= builder.levelDrawn(node));
        if (level == 0) {
            const stride = 1 + builder.m0;
            return builder.level0[@as(usize, node) * stride ..][0..stride];
        }
        const stride = 1 + builder.params.m;
        const index = builder.upper_first[node] + level - 1;
        return builder.upper[@as(usize, index) * stride ..][0..stride];
    }
};

/// The insertion code for one datatype and metric.
fn Typed(comptime datatype: Datatype, comptime metric: Metric) type {
    return struct {
        const Raw = scorer_module.RawScorer(datatype, metric);
        const Pair = scorer_module.PairScorer(datatype, metric);

        fn insertAll(builder: *Builder, offsets: []const u32, workers: u32) void {
            assert(workers >= 1 and workers <= builder.scratches.items.len);
            if (workers == 1) {
                for (offsets) |offset| insertOne(false, builder, &builder.scratches.items[0], offset);
                return;
            }
            var cursor: std.atomic.Value(usize) = .init(0);
            var threads: [threads_max]std.Thread = undefined;
            var spawned: u32 = 0;
            for (1..workers) |worker| {
                const scratch = &builder.scratches.items[worker];
                const config: std.Thread.SpawnConfig = .{ .stack_size = thread_stack_bytes };
                threads[spawned] = std.Thread.spawn(config, work, .{ builder, offsets, &cursor, scratch }) catch break;
                spawned += 1;
            }
            work(builder, offsets, &cursor, &builder.scratches.items[0]);
            for (threads[0..spawned]) |thread| thread.join();
            assert(cursor.load(.monotonic) >= offsets.len);
        }

        /// Claims offsets from `cursor` until none are left.
        fn work(builder: *Builder, offsets: []const u32, cursor: *std.atomic.Value(usize), scratch: *Scratch) void {
            const claims_max = offsets.len / claim_offsets + 1;
            for (0..claims_max) |_| {
                const start = cursor.fetchAdd(claim_offsets, .monotonic);
                if (start >= offsets.len) return;
                const end = @min(offsets.len, start + claim_offsets);
                for (offsets[start..end]) |offset| insertOne(true, builder, scratch, offset);
            }
            assert(cursor.load(.monotonic) >= offsets.len);
        }

        fn insertOne(comptime locking: bool, builder: *Builder, scratch: *Scratch, node: u32) void {
            const level = builder.levelDrawn(node);
            assert(level <= layout.level_cap);
            const previous = @atomicRmw(u8, &builder.levels[node], .Xchg, @intCast(level), .monotonic);
            assert(previous == layout.level_absent); // Each offset is inserted once.
            _ = builder.inserted_count.fetchAdd(1, .monotonic);

            const entry_state = enterGraph(locking, builder, level);
            defer if (entry_state.holding) builder.entry_lock.unlockExclusive();
            const top = entry_state.max_level;
            if (entry_state.entry_point == node_none) {
                assert(!locking or entry_state.holding);
                builder.entry_point = node;
                builder.max_level = level;
                return;
            }

            const graph = builder.linksView();
            const scorer = Raw.initStored(builder.view, node);
            var entry: Candidate = .{ .score = scorer.score(entry_state.entry_point), .node = entry_state.entry_point };
            var current_level = top;
            while (current_level > level) : (current_level -= 1) {
                entry = search_module.descend(Raw, locking, &graph, builder.locks, &scorer, entry, current_level);
            }
            current_level = @min(level, top);
            for (0..current_level + 1) |_| {
                search_module.searchLevel(Raw, locking, &graph, builder.locks, &scorer, entry, current_level, builder.params.ef_construct, null, scratch);
                const found = scratch.resultsSorted();
                assert(found.len > 0);
                connect(locking, builder, node, current_level, found);
                // The next level starts from the best node found (never the new node itself, which a
                // concurrent insert may already have linked).
                entry = if (found[0].node != node or found.len == 1) found[0] else found[1];
                if (current_level == 0) break;
                current_level -= 1;
            } else unreachable;

            if (level > top) {
                assert(!locking or entry_state.holding);
                builder.entry_point = node;
                builder.max_level = level;
            }
        }

        const EntryState = struct { entry_point: u32, max_level: u32, holding: bool };

        /// Reads the entry point. When the new node will become the entry point (the graph is empty or
        /// the node's level is above the top), returns holding the entry lock exclusively.
        fn enterGraph(comptime locking: bool, builder: *Builder, level: u32) EntryState {
            if (!locking) return .{ .entry_point = builder.entry_point, .max_level = builder.max_level, .holding = false };
            builder.entry_lock.lockShared();
            var state: EntryState = .{ .entry_point = builder.entry_point, .max_level = builder.max_level, .holding = false };
            builder.entry_lock.unlockShared();
            if (state.entry_point != node_none and level <= state.max_level) return state;
            builder.entry_lock.lockExclusive();
            state = .{ .entry_point = builder.entry_point, .max_level = builder.max_level, .holding = true };
            if (state.entry_point != node_none and level <= state.max_level) {
                builder.entry_lock.unlockExclusive();
                state.holding = false;
            }
            return state;
        }

        /// Links `node` on `level` to the heuristic's choice among `found` (best first) and back.
        fn connect(comptime locking: bool, builder: *Builder, node: u32, level: u32, found: []const Candidate) void {
            const pair = Pair.init(builder.view);
            var selected: [links_max]Candidate = undefined;
            const count = selectNeighbours(&pair, found, builder.params.m, node, &selected);
            {
                if (locking) builder.locks[node].lock();
                defer if (locking) builder.locks[node].unlock();
                writeRecord(builder.record(node, level), selected[0..count]);
            }
            const capacity = if (level == 0) builder.m0 else builder.params.m;
            for (selected[0..count]) |neighbour| {
                if (locking) builder.locks[neighbour.node].lock();
                defer if (locking) builder.locks[neighbour.node].unlock();
                const link: Candidate = .{ .score = neighbour.score, .node = node };
                addLink(&pair, builder.record(neighbour.node, level), capacity, neighbour.node, link);
            }
        }

        /// Adds `link` (scored against `base`) to `base`'s full or non-full record of `capacity` slots.
        fn addLink(pair: *const Pair, record: []u32, capacity: u32, base: u32, link: Candidate) void {
            assert(record.len == 1 + capacity);
            const count = record[0];
            assert(count <= capacity);
            if (count < capacity) {
                record[1 + count] = link.node;
                record[0] = count + 1;
                return;
            }
            var pool: [links_max + 1]Candidate = undefined;
            for (record[1..][0..count], pool[0..count]) |existing, *candidate| {
                candidate.* = .{ .score = pair.score(base, existing), .node = existing };
            }
            pool[count] = link;
            std.mem.sort(Candidate, pool[0 .. count + 1], {}, candidateBefore);
            var kept: [links_max]Candidate = undefined;
            const kept_count = selectNeighbours(pair, pool[0 .. count + 1], capacity, base, &kept);
            writeRecord(record, kept[0..kept_count]);
        }

        /// The heuristic: walks `candidates` best first and keeps one when it is closer to the base node
        /// (its score) than to every candidate already kept; stops at `count_max`. Skips `exclude`.
        fn selectNeighbours(
            pair: *const Pair,
            candidates: []const Candidate,
            count_max: u32,
            exclude: u32,
            out: *[links_max]Candidate,
        ) u32 {
            assert(count_max <= links_max);
            var count: u32 = 0;
            for (candidates, 0..) |candidate, i| {
                if (i > 0) assert(better(candidates[i - 1], candidate));
                if (count == count_max) break;
                if (candidate.node == exclude) continue;
                const keep = for (out[0..count]) |kept| {
                    if (pair.score(candidate.node, kept.node) > candidate.score) break false;
                } else true;
                if (keep) {
                    out[count] = candidate;
                    count += 1;
                }
            }
            return count;
        }
    };
}

fn writeRecord(record: []u32, links: []const Candidate) void {
    assert(links.len < record.len);
    record[0] = @intCast(links.len);
    for (links, record[1..][0..links.len]) |link, *slot| slot.* = link.node;
    @memset(record[1 + links.len ..], 0); // Unused slots are zero, so files are reproducible.
}

fn candidateBefore(_: void, a: Candidate, b: Candidate) bool {
    return better(a, b);
}

/// The level of `offset` for `seed`: `floor(-ln(u) / ln(m))` with `u` uniform in (0, 1] taken from a hash
/// of both, capped at `layout.level_cap`.
pub fn levelOf(seed: u64, offset: u32, m: u32) u32 {
    assert(m >= layout.m_min);
    const hash = mix(seed ^ mix(@as(u64, offset) +% 0x9e37_79b9_7f4a_7c15));
    const uniform = (@as(f64, @floatFromInt(hash >> 11)) + 1) * 0x1p-53;
    assert(uniform > 0 and uniform <= 1);
    const level = @floor(-@log(uniform) / @log(@as(f64, @floatFromInt(m))));
    return @intFromFloat(@min(level, @as(f64, layout.level_cap)));
}

/// The SplitMix64 finaliser: a bijection of u64 with full avalanche.
fn mix(value: u64) u64 {
    var z = value;
    z = (z ^ (z >> 30)) *% 0xbf58_476d_1ce4_e5b9;
    z = (z ^ (z >> 27)) *% 0x94d0_49bb_1331_11eb;
    return z ^ (z >> 31);
}

test "levels follow the geometric law of 1/m and depend on the seed" {
    const n = 100_000;
    var at_least_one: u32 = 0;
    var at_least_two: u32 = 0;
    var differ: u32 = 0;
    for (0..n) |offset| {
        const level = levelOf(7, @intCast(offset), 16);
        at_least_one += @intFromBool(level >= 1);
        at_least_two += @intFromBool(level >= 2);
        differ += @intFromBool(level != levelOf(8, @intCast(offset), 16));
        try std.testing.expectEqual(level, levelOf(7, @intCast(offset), 16));
    }
    // Expected n/16 = 6250 and n/256 = 390.
    try std.testing.expect(at_least_one > 5900 and at_least_one < 6600);
    try std.testing.expect(at_least_two > 300 and at_least_two < 480);
    try std.testing.expect(differ > 5000);
}
