//! HNSW against brute force: recall on clustered data (unfiltered, filtered, with deleted points), for
//! one and two build threads and for batches; determinism of the file; the file round trip and a corpus
//! of damaged files; allocation failures; the u8 and f16 datatypes.

const std = @import("std");
const testing = std.testing;
const types = @import("../types.zig");
const convert = @import("../convert.zig");
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const View = @import("../storage/storage.zig").View;
const crc32c = @import("../checksum/crc32c.zig");
const hnsw = @import("hnsw.zig");
const file = @import("file.zig");
const layout = @import("layout.zig");

const Builder = hnsw.Builder;
const Graph = hnsw.Graph;
const Scratch = hnsw.Scratch;
const Candidate = hnsw.Candidate;
const Metric = types.Metric;
const Datatype = types.Datatype;

/// Recall@10 at ef 64 that unfiltered search must reach on the clustered set: at most 5% of the exact
/// top 10 may be missed, over all queries.
const recall_budget_unfiltered = 0.95;
/// The same for filtered search (1%, 10% and 50% of the points allowed), against exact search over the
/// allowed points.
const recall_budget_filtered = 0.95;
/// The smaller u8 and f16 sets.
const recall_budget_smoke = 0.90;

/// Standard deviation of a point around its cluster centre (centres are standard normal per coordinate).
/// At 1.6 the clusters overlap enough that recall@10 at ef 64 is about 0.99, not 1, so the budget can
/// catch a regression (at 2.2 the set is nearly uniform and recall drops to about 0.86 — hnswlib's figure
/// on the same data too).
const spread: f32 = 1.6;
const k = 10;
const ef_search = 64;
const params_default: hnsw.Params = .{ .m = 16, .ef_construct = 100, .seed = 0x5eed };

/// `n` points of `dim` f32 around `clusters` Gaussian centres, then `nq` queries from the same mixture.
const Clustered = struct {
    values: []f32,
    queries: []f32,
    n: u32,
    nq: u32,
    dim: u32,

    fn init(allocator: std.mem.Allocator, n: u32, nq: u32, dim: u32, clusters: u32, normalise: bool, seed: u64) !Clustered {
        var prng = std.Random.DefaultPrng.init(seed);
        const random = prng.random();
        const centres = try allocator.alloc(f32, clusters * dim);
        defer allocator.free(centres);
        for (centres) |*x| x.* = random.floatNorm(f32);
        const values = try allocator.alloc(f32, (n + nq) * dim);
        errdefer allocator.free(values);
        for (0..n + nq) |i| {
            const centre = centres[random.uintLessThan(u32, clusters) * dim ..][0..dim];
            const point = values[i * dim ..][0..dim];
            for (point, centre) |*x, c| x.* = c + spread * random.floatNorm(f32);
            if (normalise) normaliseInPlace(point);
        }
        return .{ .values = values[0 .. n * dim], .queries = values[n * dim ..], .n = n, .nq = nq, .dim = dim };
    }

    fn deinit(data: *Clustered, allocator: std.mem.Allocator) void {
        allocator.free(data.values.ptr[0 .. (data.n + data.nq) * data.dim]);
    }

    fn view(data: *const Clustered) View {
        return .{ .datatype = .f32, .dim = data.dim, .count = data.n, .records = std.mem.sliceAsBytes(data.values) };
    }

    fn query(data: *const Clustered, q: usize) []const f32 {
        return data.queries[q * data.dim ..][0..data.dim];
    }
};

fn normaliseInPlace(point: []f32) void {
    var norm: f32 = 0;
    for (point) |x| norm += x * x;
    norm = @sqrt(norm);
    for (point) |*x| x.* /= norm;
}

fn iota(allocator: std.mem.Allocator, n: u32) ![]u32 {
    const offsets = try allocator.alloc(u32, n);
    for (offsets, 0..) |*offset, i| offset.* = @intCast(i);
    return offsets;
}

/// Builds over every offset of `view` in `batches` equal batches on `threads` threads.
fn build(allocator: std.mem.Allocator, view: View, metric: Metric, params: hnsw.Params, threads: u32, batches: u32) !*Builder {
    const builder = try Builder.init(allocator, params, view, metric);
    errdefer builder.deinit();
    const offsets = try iota(allocator, @intCast(view.count));
    defer allocator.free(offsets);
    const batch = (offsets.len + batches - 1) / batches;
    var start: usize = 0;
    while (start < offsets.len) : (start += batch) {
        try builder.insert(offsets[start..@min(offsets.len, start + batch)], threads);
    }
    try testing.expectEqual(@as(u32, @intCast(view.count)), builder.insertedCount());
    return builder;
}

/// The exact top `k` of the allowed offsets for `scorer`, best first, ties by lower offset.
fn exactTopK(comptime S: type, scorer: *const S, n: u32, allow: ?[]const u8, out: *[k]Candidate) u32 {
    var count: u32 = 0;
    for (0..n) |offset_index| {
        const offset: u32 = @intCast(offset_index);
        if (allow) |bits| {
            if (!layout.allowed(bits, offset)) continue;
        }
        const candidate: Candidate = .{ .score = scorer.score(offset), .node = offset };
        if (count == k and !layout.better(candidate, out[k - 1])) continue;
        var i: u32 = if (count < k) count else k - 1;
        while (i > 0 and layout.better(candidate, out[i - 1])) : (i -= 1) out[i] = out[i - 1];
        out[i] = candidate;
        count = @min(count + 1, k);
    }
    return count;
}

const Recall = struct {
    found: u64 = 0,
    expected: u64 = 0,

    fn value(recall: Recall) f64 {
        if (recall.expected == 0) return 1;
        return @as(f64, @floatFromInt(recall.found)) / @as(f64, @floatFromInt(recall.expected));
    }
};

/// Recall@k of graph search against exact search over `data`'s queries.
fn measureRecall(
    comptime datatype: Datatype,
    comptime metric: Metric,
    graph: *const hnsw.GraphView,
    view: View,
    queries: []const f32,
    allow: ?[]const u8,
    scratch: *Scratch,
) !Recall {
    const Raw = hnsw.RawScorer(datatype, metric);
    var recall: Recall = .{};
    const nq = queries.len / view.dim;
    for (0..nq) |q| {
        var scorer: Raw = try .init(testing.allocator, view, queries[q * view.dim ..][0..view.dim]);
        defer scorer.deinit(testing.allocator);
        var exact: [k]Candidate = undefined;
        const exact_count = exactTopK(Raw, &scorer, @intCast(view.count), allow, &exact);
        var offsets: [k]u64 = undefined;
        var scores: [k]f32 = undefined;
        const count = hnsw.search(Raw, graph, &scorer, .{ .ef = ef_search, .k = k, .allow = allow }, scratch, .{
            .offsets = &offsets,
            .scores = &scores,
        });
        try testing.expect(count <= exact_count);
        for (offsets[0..count], scores[0..count], 0..) |offset, score, i| {
            if (allow) |bits| try testing.expect(layout.allowed(bits, @intCast(offset)));
            try testing.expectEqual(scorer.score(@intCast(offset)), score);
            if (i > 0) try testing.expect(layout.better(
                .{ .score = scores[i - 1], .node = @intCast(offsets[i - 1]) },
                .{ .score = score, .node = @intCast(offset) },
            ));
            for (exact[0..exact_count]) |candidate| {
                if (candidate.node == offset) recall.found += 1;
            }
        }
        recall.expected += exact_count;
    }
    return recall;
}

fn expectRecall(recall: Recall, budget: f64, comptime what: []const u8, args: anytype) !void {
    if (recall.value() >= budget) return;
    std.debug.print("recall " ++ what ++ ": {d:.4} ({d}/{d}), budget {d:.2}\n", args ++ .{
        recall.value(), recall.found, recall.expected, budget,
    });
    return error.TestRecallBelowBudget;
}

fn recallCase(comptime metric: Metric, data: *const Clustered, threads: u32, batches: u32) !void {
    const builder = try build(testing.allocator, data.view(), metric, params_default, threads, batches);
    defer builder.deinit();
    var scratch: Scratch = try .init(testing.allocator, builder.node_count, ef_search);
    defer scratch.deinit(testing.allocator);
    const graph = builder.layers();
    const recall = try measureRecall(.f32, metric, &graph, data.view(), data.queries, null, &scratch);
    try expectRecall(recall, recall_budget_unfiltered, "{s}, {d} threads, {d} batches", .{ @tagName(metric), threads, batches });
}

test "recall@10 at ef 64 meets the budget on 10k clustered points, cosine and euclid, one and two threads" {
    inline for (.{ Metric.cosine, Metric.euclid }) |metric| {
        var data: Clustered = try .init(testing.allocator, 10_000, 100, 128, 100, metric == .cosine, 1);
        defer data.deinit(testing.allocator);
        try recallCase(metric, &data, 1, 1);
        // Two threads, and several batches, as the TypeScript layer inserts.
        try recallCase(metric, &data, 2, 5);
    }
}

test "filtered search meets the budget at 1%, 10% and 50% selectivity and never returns a deleted point" {
    var data: Clustered = try .init(testing.allocator, 10_000, 50, 128, 100, false, 2);
    defer data.deinit(testing.allocator);
    const builder = try build(testing.allocator, data.view(), .euclid, params_default, 1, 1);
    defer builder.deinit();
    var scratch: Scratch = try .init(testing.allocator, builder.node_count, ef_search);
    defer scratch.deinit(testing.allocator);
    const graph = builder.layers();
    var prng = std.Random.DefaultPrng.init(3);
    const random = prng.random();
    const bits = try testing.allocator.alloc(u8, (data.n + 7) / 8);
    defer testing.allocator.free(bits);

    for ([_]u32{ 1, 10, 50 }) |percent| {
        @memset(bits, 0);
        for (0..data.n) |offset| {
            if (random.uintLessThan(u32, 100) < percent) bits[offset >> 3] |= @as(u8, 1) << @intCast(offset & 7);
        }
        const recall = try measureRecall(.f32, .euclid, &graph, data.view(), data.queries, bits, &scratch);
        try expectRecall(recall, recall_budget_filtered, "{d}% allowed", .{percent});
    }

    // Delete 20%: the live set is the allow bitset, and a deleted offset must never come back.
    @memset(bits, 0xff);
    var deleted: u32 = 0;
    for (0..data.n) |offset| {
        if (random.uintLessThan(u32, 5) == 0) {
            bits[offset >> 3] &= ~(@as(u8, 1) << @intCast(offset & 7));
            deleted += 1;
        }
    }
    try testing.expect(deleted > data.n / 6);
    // measureRecall asserts that every result is allowed.
    const recall = try measureRecall(.f32, .euclid, &graph, data.view(), data.queries, bits, &scratch);
    try expectRecall(recall, recall_budget_filtered, "with 20% deleted", .{});
    // The stored points themselves as queries: a deleted point must not find itself.
    for (0..200) |offset| {
        var offsets: [k]u64 = undefined;
        var scores: [k]f32 = undefined;
        const Raw = hnsw.RawScorer(.f32, .euclid);
        const scorer = Raw.initStored(data.view(), @intCast(offset));
        const count = hnsw.search(Raw, &graph, &scorer, .{ .ef = ef_search, .k = k, .allow = bits }, &scratch, .{
            .offsets = &offsets,
            .scores = &scores,
        });
        try testing.expectEqual(@as(u32, k), count);
        for (offsets[0..count]) |found| try testing.expect(layout.allowed(bits, @intCast(found)));
        if (layout.allowed(bits, @intCast(offset))) try testing.expectEqual(@as(u64, offset), offsets[0]);
    }
    // Nothing allowed: no results, and the search ends.
    @memset(bits, 0);
    var offsets: [k]u64 = undefined;
    var scores: [k]f32 = undefined;
    const count = try hnsw.searchRaw(testing.allocator, &graph, data.view(), .euclid, data.query(0), .{
        .ef = ef_search,
        .k = k,
        .allow = bits,
    }, &scratch, .{ .offsets = &offsets, .scores = &scores });
    try testing.expectEqual(@as(u32, 0), count);
}

fn readFile(dir: std.Io.Dir, name: []const u8) ![]u8 {
    return dir.readFileAlloc(testing.io, name, testing.allocator, .unlimited);
}

fn writeFile(dir: std.Io.Dir, name: []const u8, bytes: []const u8) !void {
    try dir.writeFile(testing.io, .{ .sub_path = name, .data = bytes });
}

test "one-thread builds are deterministic: same seed same file, in one batch or several; another seed differs" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var data: Clustered = try .init(testing.allocator, 2000, 0, 24, 20, false, 4);
    defer data.deinit(testing.allocator);
    var diagnostic: Diagnostic = .{};
    const names = [_][]const u8{ "a.hnsw", "b.hnsw", "c.hnsw" };
    const batches = [_]u32{ 1, 7, 1 };
    const seeds = [_]u64{ 1, 1, 2 };
    for (names, batches, seeds) |name, batch_count, seed| {
        const builder = try build(testing.allocator, data.view(), .euclid, .{ .m = 8, .ef_construct = 40, .seed = seed }, 1, batch_count);
        defer builder.deinit();
        try builder.write(tmp.dir.handle, name, &diagnostic);
    }
    const a = try readFile(tmp.dir, names[0]);
    defer testing.allocator.free(a);
    const b = try readFile(tmp.dir, names[1]);
    defer testing.allocator.free(b);
    const c = try readFile(tmp.dir, names[2]);
    defer testing.allocator.free(c);
    try testing.expectEqualSlices(u8, a, b);
    try testing.expect(!std.mem.eql(u8, a, c));
}

/// A graph of `data` written to `name` in `dir`.
fn writeGraph(dir: std.Io.Dir, name: []const u8, data: *const Clustered, metric: Metric) !void {
    const builder = try build(testing.allocator, data.view(), metric, .{ .m = 6, .ef_construct = 32, .seed = 9 }, 1, 1);
    defer builder.deinit();
    var diagnostic: Diagnostic = .{};
    try builder.write(dir.handle, name, &diagnostic);
}

test "a written graph opens and searches exactly like the graph in memory" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var data: Clustered = try .init(testing.allocator, 3000, 40, 32, 30, true, 5);
    defer data.deinit(testing.allocator);
    // Offsets 0..2999, of which every 7th is left out of the graph.
    var offsets: std.ArrayList(u32) = .empty;
    defer offsets.deinit(testing.allocator);
    for (0..data.n) |offset| {
        if (offset % 7 != 3) try offsets.append(testing.allocator, @intCast(offset));
    }
    const builder = try Builder.init(testing.allocator, .{ .m = 12, .ef_construct = 64, .seed = 11 }, data.view(), .cosine);
    defer builder.deinit();
    try builder.insert(offsets.items, 2);
    var diagnostic: Diagnostic = .{};
    try builder.write(tmp.dir.handle, "graph.hnsw", &diagnostic);
    const graph = try Graph.open(testing.allocator, tmp.dir.handle, "graph.hnsw", &diagnostic);
    defer graph.close();
    try testing.expectEqual(Metric.cosine, graph.metric());
    try testing.expectEqual(Datatype.f32, graph.datatype());
    try testing.expectEqual(data.dim, graph.dim());
    try testing.expectEqual(data.n, graph.nodeCount());
    try testing.expectEqual(@as(u32, @intCast(offsets.items.len)), graph.insertedCount());

    var scratch: Scratch = try .init(testing.allocator, data.n, 100);
    defer scratch.deinit(testing.allocator);
    const in_memory = builder.layers();
    for (0..data.nq) |q| {
        for ([_]u32{ 1, 10, 100 }) |k_case| {
            var offsets_memory: [100]u64 = undefined;
            var scores_memory: [100]f32 = undefined;
            var offsets_file: [100]u64 = undefined;
            var scores_file: [100]f32 = undefined;
            const options: hnsw.Options = .{ .ef = 50, .k = k_case };
            const count_memory = try hnsw.searchRaw(testing.allocator, &in_memory, data.view(), .cosine, data.query(q), options, &scratch, .{
                .offsets = &offsets_memory,
                .scores = &scores_memory,
            });
            const count_file = try hnsw.searchRaw(testing.allocator, graph.layers(), data.view(), .cosine, data.query(q), options, &scratch, .{
                .offsets = &offsets_file,
                .scores = &scores_file,
            });
            try testing.expectEqual(k_case, count_memory);
            try testing.expectEqual(count_memory, count_file);
            try testing.expectEqualSlices(u64, offsets_memory[0..count_memory], offsets_file[0..count_file]);
            try testing.expectEqualSlices(f32, scores_memory[0..count_memory], scores_file[0..count_file]);
            for (offsets_file[0..count_file]) |offset| try testing.expect(offset % 7 != 3);
        }
    }
}

const Damage = enum {
    header_byte,
    body_byte,
    truncated,
    extended,
    magic,
    version,
    link_out_of_range,
    absent_with_links,
    last_link_out_of_range,
    level_above_max,
    entry_point,
    zero_length,
    short,
};

/// Fixes both CRCs of `bytes` after an edit.
fn reseal(bytes: []u8) void {
    var header = std.mem.bytesToValue(file.Header, bytes[0..file.header_size_bytes]);
    header.body_crc32c = crc32c.update(0, bytes[file.header_size_bytes..]);
    header.header_crc32c = header.crcCompute();
    @memcpy(bytes[0..file.header_size_bytes], std.mem.asBytes(&header));
}

fn damaged(original: []const u8, damage: Damage, buffer: []u8) []u8 {
    const header = std.mem.bytesToValue(file.Header, original[0..file.header_size_bytes]);
    const bytes = buffer[0..original.len];
    @memcpy(bytes, original);
    const level0: usize = @intCast(header.level0_offset_bytes);
    const stride = 4 * (1 + header.m0);
    switch (damage) {
        .header_byte => bytes[20] ^= 0x01,
        .body_byte => bytes[level0 + 4] ^= 0x40,
        .truncated => return bytes[0 .. bytes.len - 64],
        .extended => return buffer[0 .. original.len + 64],
        .magic => bytes[0] = 'Y',
        .version => {
            std.mem.writeInt(u32, bytes[8..12], 2, .little);
            reseal(bytes);
        },
        .link_out_of_range => {
            // Node 0's first level-0 link.
            std.mem.writeInt(u32, bytes[level0 + 4 ..][0..4], header.node_count + 5, .little);
            reseal(bytes);
        },
        .absent_with_links => {
            // Offset 3 is not in the graph (see the test): give it one level-0 link.
            std.mem.writeInt(u32, bytes[level0 + 3 * stride ..][0..4], 1, .little);
            reseal(bytes);
        },
        .last_link_out_of_range => {
            // The last node's first level-0 link: in the last part when the check runs in parts.
            const last = level0 + (header.node_count - 1) * stride;
            std.mem.writeInt(u32, bytes[last + 4 ..][0..4], header.node_count, .little);
            reseal(bytes);
        },
        .level_above_max => {
            bytes[@intCast(header.levels_offset_bytes)] = @intCast(header.max_level + 1);
            reseal(bytes);
        },
        .entry_point => {
            std.mem.writeInt(u32, bytes[56..60], 3, .little);
            reseal(bytes);
        },
        .zero_length => return bytes[0..0],
        .short => return bytes[0..100],
    }
    return bytes;
}

/// Writes a small Euclid graph (m 4) of every point of `data` but offset 3, which stays out of the graph.
fn writeGraphWithoutOffset3(dir: std.Io.Dir, name: []const u8, data: *const Clustered) !void {
    const builder = try Builder.init(testing.allocator, .{ .m = 4, .ef_construct = 16, .seed = 3 }, data.view(), .euclid);
    defer builder.deinit();
    const offsets = try iota(testing.allocator, data.n);
    defer testing.allocator.free(offsets);
    try builder.insert(offsets[0..3], 1);
    try builder.insert(offsets[4..], 1);
    var diagnostic: Diagnostic = .{};
    try builder.write(dir.handle, name, &diagnostic);
}

test "damaged graph files are refused as corrupt with a message, never a crash" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var data: Clustered = try .init(testing.allocator, 300, 0, 8, 5, false, 6);
    defer data.deinit(testing.allocator);
    try writeGraphWithoutOffset3(tmp.dir, "valid.hnsw", &data);
    const original = try readFile(tmp.dir, "valid.hnsw");
    defer testing.allocator.free(original);
    const buffer = try testing.allocator.alloc(u8, original.len + 64);
    defer testing.allocator.free(buffer);
    @memset(buffer[original.len..], 0);

    var diagnostic: Diagnostic = .{};
    const valid = try Graph.open(testing.allocator, tmp.dir.handle, "valid.hnsw", &diagnostic);
    valid.close();
    const expected_words = [_][]const u8{
        "CRC", "CRC", "bytes long", "bytes long", "magic", "version", "links on level 0", "not in the graph", "not among",
        "above the max level", "entry point", "shorter", "shorter",
    };
    for (std.enums.values(Damage), expected_words) |damage, words| {
        try writeFile(tmp.dir, "damaged.hnsw", damaged(original, damage, buffer));
        diagnostic = .{};
        try testing.expectError(error.Corrupt, Graph.open(testing.allocator, tmp.dir.handle, "damaged.hnsw", &diagnostic));
        const message = diagnostic.message();
        if (std.mem.indexOf(u8, message, words) == null or std.mem.indexOf(u8, message, "damaged.hnsw") == null) {
            std.debug.print("{s}: unexpected message: {s}\n", .{ @tagName(damage), message });
            return error.TestUnexpectedMessage;
        }
    }
    try testing.expectError(error.NotFound, Graph.open(testing.allocator, tmp.dir.handle, "missing.hnsw", &diagnostic));
    try testing.expectError(error.InvalidArgument, Graph.open(testing.allocator, tmp.dir.handle, "", &diagnostic));
    try tmp.dir.createDir(testing.io, "a_directory", .default_dir);
    try testing.expectError(error.InvalidArgument, Graph.open(testing.allocator, tmp.dir.handle, "a_directory", &diagnostic));
}

test "a level-0 link to an offset outside the graph opens, and the allow-list keeps that offset out of results" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var data: Clustered = try .init(testing.allocator, 300, 20, 8, 5, false, 6);
    defer data.deinit(testing.allocator);
    try writeGraphWithoutOffset3(tmp.dir, "valid.hnsw", &data);
    var diagnostic: Diagnostic = .{};
    const bytes = try readFile(tmp.dir, "valid.hnsw");
    defer testing.allocator.free(bytes);
    const header = std.mem.bytesToValue(file.Header, bytes[0..file.header_size_bytes]);
    const level0: usize = @intCast(header.level0_offset_bytes);
    const stride = 4 * (1 + header.m0);
    // Every node's first level-0 link now leads to offset 3.
    for (0..data.n) |node| {
        const record = bytes[level0 + node * stride ..];
        if (std.mem.readInt(u32, record[0..4], .little) > 0) std.mem.writeInt(u32, record[4..8], 3, .little);
    }
    reseal(bytes);
    try writeFile(tmp.dir, "linked.hnsw", bytes);
    const graph = try Graph.open(testing.allocator, tmp.dir.handle, "linked.hnsw", &diagnostic);
    defer graph.close();
    var allow: [(300 + 7) / 8]u8 = @splat(0xff);
    allow[0] &= ~@as(u8, 1 << 3);
    var scratch: Scratch = try .init(testing.allocator, graph.nodeCount(), ef_search);
    defer scratch.deinit(testing.allocator);
    const recall = try measureRecall(.f32, .euclid, graph.layers(), data.view(), data.queries, &allow, &scratch);
    try testing.expect(recall.found > 0);
}

test "an empty graph, a one-node graph and a graph over nothing search to the obvious answer" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var data: Clustered = try .init(testing.allocator, 50, 1, 4, 2, false, 7);
    defer data.deinit(testing.allocator);
    var diagnostic: Diagnostic = .{};
    var offsets: [5]u64 = undefined;
    var scores: [5]f32 = undefined;
    const results: hnsw.Results = .{ .offsets = &offsets, .scores = &scores };
    const views = [_]View{ data.view(), .{ .datatype = .f32, .dim = 4, .count = 0, .records = &.{} } };
    for (views) |view| {
        const builder = try Builder.init(testing.allocator, .{}, view, .dot);
        defer builder.deinit();
        var scratch: Scratch = try .init(testing.allocator, builder.node_count, 10);
        defer scratch.deinit(testing.allocator);
        const options: hnsw.Options = .{ .ef = 10, .k = 5 };
        try testing.expectEqual(@as(u32, 0), try hnsw.searchRaw(testing.allocator, &builder.layers(), view, .dot, data.query(0), options, &scratch, results));
        try builder.write(tmp.dir.handle, "empty.hnsw", &diagnostic);
        const graph = try Graph.open(testing.allocator, tmp.dir.handle, "empty.hnsw", &diagnostic);
        defer graph.close();
        try testing.expectEqual(@as(u32, 0), try hnsw.searchRaw(testing.allocator, graph.layers(), view, .dot, data.query(0), options, &scratch, results));
        if (view.count == 0) continue;
        try builder.insert(&.{17}, 2);
        try testing.expectEqual(@as(u32, 1), try hnsw.searchRaw(testing.allocator, &builder.layers(), view, .dot, data.query(0), options, &scratch, results));
        try testing.expectEqual(@as(u64, 17), offsets[0]);
        try testing.expect(builder.contains(17) and !builder.contains(16));
    }
}

/// A scorer without `prefetch`, standing in for the quantized ones: search takes any type with `score`.
const NegatedL1Scorer = struct {
    values: []const f32,
    query: []const f32,

    pub fn score(scorer: *const NegatedL1Scorer, offset: u32) f32 {
        const dim = scorer.query.len;
        var sum: f32 = 0;
        for (scorer.query, scorer.values[offset * dim ..][0..dim]) |a, b| sum += @abs(a - b);
        return -sum;
    }
};

test "search works with any scorer type, and the u8 and f16 datatypes build and search" {
    var data: Clustered = try .init(testing.allocator, 2000, 50, 32, 20, false, 8);
    defer data.deinit(testing.allocator);
    // f32 manhattan graph searched by a scorer of another type gives the raw scorer's answers.
    {
        const builder = try build(testing.allocator, data.view(), .manhattan, .{ .m = 8, .ef_construct = 64, .seed = 1 }, 1, 1);
        defer builder.deinit();
        var scratch: Scratch = try .init(testing.allocator, data.n, ef_search);
        defer scratch.deinit(testing.allocator);
        const graph = builder.layers();
        const recall = try measureRecall(.f32, .manhattan, &graph, data.view(), data.queries, null, &scratch);
        try expectRecall(recall, recall_budget_smoke, "f32 manhattan", .{});
        for (0..data.nq) |q| {
            const custom: NegatedL1Scorer = .{ .values = data.values, .query = data.query(q) };
            var offsets: [k]u64 = undefined;
            var scores: [k]f32 = undefined;
            const count = hnsw.search(NegatedL1Scorer, &graph, &custom, .{ .ef = ef_search, .k = k }, &scratch, .{ .offsets = &offsets, .scores = &scores });
            try testing.expectEqual(@as(u32, k), count);
            for (scores[1..count], scores[0 .. count - 1]) |score, previous| try testing.expect(score <= previous);
        }
    }
    // u8 (values shifted into 0..255) with the full cosine and euclid; f16 euclid.
    const shifted = try testing.allocator.alloc(f32, data.values.len + data.queries.len);
    defer testing.allocator.free(shifted);
    for (shifted, data.values.ptr[0..shifted.len]) |*out, x| out.* = 128 + 40 * x;
    const queries = shifted[data.values.len..];
    const bytes = try testing.allocator.alloc(u8, data.values.len);
    defer testing.allocator.free(bytes);
    convert.fromF32(u8, shifted[0..data.values.len], bytes);
    const halves = try testing.allocator.alloc(f16, data.values.len);
    defer testing.allocator.free(halves);
    convert.fromF32(f16, data.values, halves);
    const u8_view: View = .{ .datatype = .u8, .dim = data.dim, .count = data.n, .records = bytes };
    const f16_view: View = .{ .datatype = .f16, .dim = data.dim, .count = data.n, .records = std.mem.sliceAsBytes(halves) };
    const cases = .{
        .{ Datatype.u8, Metric.cosine, u8_view, queries },
        .{ Datatype.u8, Metric.euclid, u8_view, queries },
        .{ Datatype.f16, Metric.euclid, f16_view, data.queries },
        .{ Datatype.f16, Metric.dot, f16_view, data.queries },
    };
    inline for (cases) |case| {
        const builder = try build(testing.allocator, case[2], case[1], .{ .m = 8, .ef_construct = 64, .seed = 1 }, 2, 2);
        defer builder.deinit();
        var scratch: Scratch = try .init(testing.allocator, data.n, ef_search);
        defer scratch.deinit(testing.allocator);
        const graph = builder.layers();
        const recall = try measureRecall(case[0], case[1], &graph, case[2], case[3], null, &scratch);
        try expectRecall(recall, recall_budget_smoke, "{s} {s}", .{ @tagName(case[0]), @tagName(case[1]) });
    }
}

fn buildAndWrite(allocator: std.mem.Allocator, view: View, dir: std.Io.Dir) !void {
    const builder = try Builder.init(allocator, .{ .m = 4, .ef_construct = 16, .seed = 5 }, view, .euclid);
    defer builder.deinit();
    const offsets = try iota(allocator, @intCast(view.count));
    defer allocator.free(offsets);
    try builder.insert(offsets[0 .. offsets.len / 2], 1);
    try builder.insert(offsets[offsets.len / 2 ..], 2);
    var diagnostic: Diagnostic = .{};
    try builder.write(dir.handle, "alloc.hnsw", &diagnostic);
}

fn openAndSearch(allocator: std.mem.Allocator, view: View, dir: std.Io.Dir, query: []const f32) !void {
    var diagnostic: Diagnostic = .{};
    const graph = try Graph.open(allocator, dir.handle, "alloc.hnsw", &diagnostic);
    defer graph.close();
    var scratch: Scratch = try .init(allocator, graph.nodeCount(), 8);
    defer scratch.deinit(allocator);
    var offsets: [4]u64 = undefined;
    var scores: [4]f32 = undefined;
    const count = try hnsw.searchRaw(allocator, graph.layers(), view, .euclid, query, .{ .ef = 8, .k = 4 }, &scratch, .{
        .offsets = &offsets,
        .scores = &scores,
    });
    try testing.expectEqual(@as(u32, 4), count);
}

test "allocation failures in build, write, open and search are reported and leak nothing" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var data: Clustered = try .init(testing.allocator, 120, 1, 6, 4, false, 10);
    defer data.deinit(testing.allocator);
    try testing.checkAllAllocationFailures(testing.allocator, buildAndWrite, .{ data.view(), tmp.dir });
    try testing.checkAllAllocationFailures(testing.allocator, openAndSearch, .{ data.view(), tmp.dir, data.query(0) });
}

