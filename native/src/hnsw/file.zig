//! The HNSW graph file (`FORMAT.md`, "HNSW graph file"): a 128-byte header, then the levels, the upper
//! record index, the level-0 records and the upper records, each section 64-byte aligned.
//!
//! `write` streams a graph to a file through one buffer, computing the body CRC on the way, then writes
//! the header and fsyncs. `Graph.open` maps a file read-only and checks everything search relies on —
//! magic, version, both CRCs, the layout against the file size, every level and every link's range
//! (FORMAT.md lists the checks) — so that a graph that opens can be searched without a bounds failure.
//! The body CRC and the level-0 records are checked in one pass, on several threads for large files.
//! Opening never rebuilds.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;
const types = @import("../types.zig");
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const identity = @import("../storage/identity.zig");
const os = @import("../storage/os.zig");
const crc32c = @import("../checksum/crc32c.zig");
const layout = @import("layout.zig");

const GraphView = layout.GraphView;
const linux = std.os.linux;

pub const Error = error{ InvalidArgument, Io, Corrupt, OutOfMemory, NotFound };

pub const magic = "XEDGEHNS".*;
pub const format_version: u32 = 1;
pub const header_size_bytes: u32 = 128;
/// Every section starts at a multiple of this, and the file ends on one.
pub const section_alignment_bytes: u64 = 64;
/// Longest path accepted, in bytes (as for vector files).
pub const path_bytes_max = 4095;
/// Bytes buffered between writes.
const write_buffer_bytes = 64 * 1024;

/// Little-endian on disk; both supported targets are little-endian, so the struct is the byte layout.
pub const Header = extern struct {
    magic: [8]u8,
    format_version: u32,
    header_size_bytes: u32,
    m: u32,
    m0: u32,
    ef_construct: u32,
    metric: u32,
    datatype: u32,
    dim: u32,
    seed: u64,
    node_count: u32,
    inserted_count: u32,
    entry_point: u32,
    max_level: u32,
    upper_record_count: u32,
    reserved_a: u32,
    levels_offset_bytes: u64,
    upper_first_offset_bytes: u64,
    level0_offset_bytes: u64,
    upper_offset_bytes: u64,
    file_size_bytes: u64,
    body_crc32c: u32,
    reserved_b: [8]u8,
    /// CRC-32C of bytes 0..124.
    header_crc32c: u32,

    pub fn crcCompute(header: *const Header) u32 {
        const bytes: *const [header_size_bytes]u8 = @ptrCast(header);
        return crc32c.update(0, bytes[0..crc_covered_bytes]);
    }
};

const crc_covered_bytes = @offsetOf(Header, "header_crc32c");

comptime {
    assert(builtin.cpu.arch.endian() == .little);
    assert(@sizeOf(Header) == header_size_bytes);
    assert(@offsetOf(Header, "m") == 16);
    assert(@offsetOf(Header, "seed") == 40);
    assert(@offsetOf(Header, "node_count") == 48);
    assert(@offsetOf(Header, "upper_record_count") == 64);
    assert(@offsetOf(Header, "levels_offset_bytes") == 72);
    assert(@offsetOf(Header, "file_size_bytes") == 104);
    assert(@offsetOf(Header, "body_crc32c") == 112);
    assert(crc_covered_bytes == 124);
    assert(header_size_bytes % section_alignment_bytes == 0);
}

/// Where each section starts, from the counts alone.
pub const Sections = struct {
    levels_offset_bytes: u64,
    upper_first_offset_bytes: u64,
    level0_offset_bytes: u64,
    upper_offset_bytes: u64,
    file_size_bytes: u64,

    pub fn of(node_count: u32, m: u32, m0: u32, upper_record_count: u32) Sections {
        const levels = header_size_bytes;
        const upper_first = alignUp(levels + @as(u64, node_count));
        const level0 = alignUp(upper_first + 4 * (@as(u64, node_count) + 1));
        const upper = alignUp(level0 + 4 * @as(u64, node_count) * (1 + m0));
        const end = alignUp(upper + 4 * @as(u64, upper_record_count) * (1 + m));
        return .{
            .levels_offset_bytes = levels,
            .upper_first_offset_bytes = upper_first,
            .level0_offset_bytes = level0,
            .upper_offset_bytes = upper,
            .file_size_bytes = end,
        };
    }
};

fn alignUp(offset: u64) u64 {
    return std.mem.alignForward(u64, offset, section_alignment_bytes);
}

/// What the graph was built for, recorded in the header for the opener to compare.
pub const Meta = struct {
    ef_construct: u32,
    metric: types.Metric,
    datatype: types.Datatype,
    dim: u32,
    seed: u64,
    inserted_count: u32,
};

// ---- Writing ----

/// Writes `graph` to `path` (relative to `dir`), replacing any file there, and fsyncs it. On failure
/// the partial file is removed.
pub fn write(
    allocator: std.mem.Allocator,
    graph: *const GraphView,
    meta: Meta,
    dir: os.fd_t,
    path: []const u8,
    diagnostic: *Diagnostic,
) Error!void {
    graph.assertShape();
    var path_buffer: [path_bytes_max + 1]u8 = undefined;
    const path_z = try terminated(path, &path_buffer, diagnostic);
    const buffer = try allocator.alloc(u8, write_buffer_bytes);
    defer allocator.free(buffer);

    const rc = linux.openat(dir, path_z.ptr, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true, .CLOEXEC = true }, 0o644);
    if (linux.errno(rc) != .SUCCESS) return failErrno(diagnostic, path, "create", linux.errno(rc));
    const fd: os.fd_t = @intCast(rc);
    errdefer os.unlink(dir, path_z);
    defer os.close(fd);

    const upper_record_count = upperRecordCount(graph);
    const sections: Sections = .of(graph.node_count, graph.m, graph.m0, upper_record_count);
    var sink: Sink = .{ .fd = fd, .path = path, .buffer = buffer, .position = header_size_bytes };
    try writeBody(&sink, graph, sections, diagnostic);
    try sink.flush(diagnostic);
    assert(sink.position == sections.file_size_bytes);

    var header: Header = .{
        .magic = magic,
        .format_version = format_version,
        .header_size_bytes = header_size_bytes,
        .m = graph.m,
        .m0 = graph.m0,
        .ef_construct = meta.ef_construct,
        .metric = @intFromEnum(meta.metric),
        .datatype = @intFromEnum(meta.datatype),
        .dim = meta.dim,
        .seed = meta.seed,
        .node_count = graph.node_count,
        .inserted_count = meta.inserted_count,
        .entry_point = graph.entry_point,
        .max_level = graph.max_level,
        .upper_record_count = upper_record_count,
        .reserved_a = 0,
        .levels_offset_bytes = sections.levels_offset_bytes,
        .upper_first_offset_bytes = sections.upper_first_offset_bytes,
        .level0_offset_bytes = sections.level0_offset_bytes,
        .upper_offset_bytes = sections.upper_offset_bytes,
        .file_size_bytes = sections.file_size_bytes,
        .body_crc32c = sink.crc,
        .reserved_b = @splat(0),
        .header_crc32c = 0,
    };
    header.header_crc32c = header.crcCompute();
    try writeAt(fd, std.mem.asBytes(&header), 0, path, diagnostic);
    os.syncFile(fd, path, diagnostic) catch |err| return narrow(err);
}

/// Upper records of the nodes in the graph (offsets that were never inserted own none on disk).
fn upperRecordCount(graph: *const GraphView) u32 {
    var count: u64 = 0;
    for (graph.levels) |level| {
        if (level != layout.level_absent) count += level;
    }
    assert(count <= graph.upper_first[graph.node_count]);
    return @intCast(count);
}

fn writeBody(sink: *Sink, graph: *const GraphView, sections: Sections, diagnostic: *Diagnostic) Error!void {
    assert(sink.position == sections.levels_offset_bytes);
    try sink.append(graph.levels, diagnostic);

    try sink.padTo(sections.upper_first_offset_bytes, diagnostic);
    var running: u32 = 0;
    for (graph.levels) |level| {
        try sink.append(std.mem.asBytes(&running), diagnostic);
        if (level != layout.level_absent) running += level;
    }
    try sink.append(std.mem.asBytes(&running), diagnostic);

    try sink.padTo(sections.level0_offset_bytes, diagnostic);
    try sink.append(std.mem.sliceAsBytes(graph.level0), diagnostic);

    try sink.padTo(sections.upper_offset_bytes, diagnostic);
    const stride = 1 + graph.m;
    for (graph.levels, 0..) |level, node| {
        if (level == layout.level_absent or level == 0) continue;
        const first = graph.upper_first[node];
        assert(graph.upper_first[node + 1] - first == level);
        const records = graph.upper[@as(usize, first) * stride ..][0 .. @as(usize, level) * stride];
        try sink.append(std.mem.sliceAsBytes(records), diagnostic);
    }
    try sink.padTo(sections.file_size_bytes, diagnostic);
}

/// Buffered sequential writes from `position`, with the running CRC-32C of every byte written.
const Sink = struct {
    fd: os.fd_t,
    path: []const u8,
    buffer: []u8,
    len: usize = 0,
    /// File offset of `buffer[0]`.
    position: u64,
    crc: u32 = 0,

    fn append(sink: *Sink, bytes: []const u8, diagnostic: *Diagnostic) Error!void {
        var rest = bytes;
        // Each round fills the buffer or consumes the rest.
        for (0..bytes.len / sink.buffer.len + 2) |_| {
            const take = @min(rest.len, sink.buffer.len - sink.len);
            @memcpy(sink.buffer[sink.len..][0..take], rest[0..take]);
            sink.len += take;
            rest = rest[take..];
            if (sink.len == sink.buffer.len) try sink.flush(diagnostic);
            if (rest.len == 0) return;
        }
        unreachable;
    }

    fn padTo(sink: *Sink, offset: u64, diagnostic: *Diagnostic) Error!void {
        const here = sink.position + sink.len;
        assert(offset >= here);
        assert(offset - here < section_alignment_bytes);
        const zeros: [section_alignment_bytes]u8 = @splat(0);
        try sink.append(zeros[0..@intCast(offset - here)], diagnostic);
    }

    fn flush(sink: *Sink, diagnostic: *Diagnostic) Error!void {
        const bytes = sink.buffer[0..sink.len];
        sink.crc = crc32c.update(sink.crc, bytes);
        try writeAt(sink.fd, bytes, sink.position, sink.path, diagnostic);
        sink.position += bytes.len;
        sink.len = 0;
    }
};

fn writeAt(fd: os.fd_t, bytes: []const u8, offset: u64, path: []const u8, diagnostic: *Diagnostic) Error!void {
    var done: usize = 0;
    // Each iteration writes at least one byte or fails, so the loop runs at most bytes.len times.
    for (0..bytes.len + 1) |_| {
        if (done == bytes.len) return;
        const rc = linux.pwrite(fd, bytes[done..].ptr, bytes.len - done, @intCast(offset + done));
        switch (linux.errno(rc)) {
            .SUCCESS => {},
            .INTR => continue,
            else => |errno| return failErrno(diagnostic, path, "write", errno),
        }
        if (rc == 0) return failErrno(diagnostic, path, "write", .NOSPC);
        done += rc;
    }
    unreachable;
}

// ---- Reading ----

/// A graph file mapped read-only and checked.
pub const Graph = struct {
    allocator: std.mem.Allocator,
    mapping: os.Mapping,
    header: Header,
    view: GraphView,

    /// Maps and checks the graph file at `path` (relative to `dir`). A missing file is NotFound, a
    /// refused one Io, a path that is not a regular file InvalidArgument, and any damage Corrupt, with a
    /// message that names the file, what was expected and what was found.
    pub fn open(allocator: std.mem.Allocator, dir: os.fd_t, path: []const u8, diagnostic: *Diagnostic) Error!*Graph {
        var path_buffer: [path_bytes_max + 1]u8 = undefined;
        const path_z = try terminated(path, &path_buffer, diagnostic);
        const graph = try allocator.create(Graph);
        errdefer allocator.destroy(graph);
        const fd = os.open(dir, path_z, .read_only, diagnostic) catch |err| return narrow(err);
        defer os.close(fd); // The mapping outlives the descriptor.
        const size_bytes = os.sizeBytes(fd, path, diagnostic) catch |err| return narrow(err);
        if (size_bytes < header_size_bytes) {
            diagnostic.set("{s} is {d} bytes long, shorter than the {d}-byte HNSW graph header", .{
                path, size_bytes, header_size_bytes,
            });
            return error.Corrupt;
        }
        const mapping = os.map(fd, size_bytes, false, path, diagnostic) catch |err| return narrow(err);
        errdefer os.unmap(mapping);
        const header = std.mem.bytesToValue(Header, mapping[0..header_size_bytes]);
        try checkHeader(&header, size_bytes, path, diagnostic);
        const view = viewOf(mapping, &header);
        var level0_damage: ?u32 = null;
        const body_crc = checksumBody(mapping, &header, &view, &level0_damage);
        if (body_crc != header.body_crc32c) {
            diagnostic.set("{s} is damaged: the body CRC-32C is 0x{x:0>8}, the header expects 0x{x:0>8}", .{
                path, body_crc, header.body_crc32c,
            });
            return error.Corrupt;
        }
        try checkStructure(&view, &header, level0_damage, path, diagnostic);
        view.assertShape();
        graph.* = .{ .allocator = allocator, .mapping = mapping, .header = header, .view = view };
        return graph;
    }

    /// Unmaps the file and frees `graph`.
    pub fn close(graph: *Graph) void {
        os.unmap(graph.mapping);
        const allocator = graph.allocator;
        graph.* = undefined;
        allocator.destroy(graph);
    }

    /// The graph as search reads it; valid until `close`.
    pub fn layers(graph: *const Graph) *const GraphView {
        return &graph.view;
    }

    /// The metric the graph was built with (the opener compares it with the collection's).
    pub fn metric(graph: *const Graph) types.Metric {
        return @enumFromInt(graph.header.metric);
    }

    pub fn datatype(graph: *const Graph) types.Datatype {
        return @enumFromInt(graph.header.datatype);
    }

    pub fn dim(graph: *const Graph) u32 {
        return graph.header.dim;
    }

    /// Offsets covered by the graph (inserted or not).
    pub fn nodeCount(graph: *const Graph) u32 {
        return graph.header.node_count;
    }

    /// Offsets that are nodes of the graph.
    pub fn insertedCount(graph: *const Graph) u32 {
        return graph.header.inserted_count;
    }
};

fn viewOf(mapping: os.Mapping, header: *const Header) GraphView {
    const node_count = header.node_count;
    return .{
        .m = header.m,
        .m0 = header.m0,
        .node_count = node_count,
        .entry_point = header.entry_point,
        .max_level = header.max_level,
        .levels = mapping[header.levels_offset_bytes..][0..node_count],
        .upper_first = wordsAt(mapping, header.upper_first_offset_bytes, @as(usize, node_count) + 1),
        .level0 = wordsAt(mapping, header.level0_offset_bytes, @as(usize, node_count) * (1 + header.m0)),
        .upper = wordsAt(mapping, header.upper_offset_bytes, @as(usize, header.upper_record_count) * (1 + header.m)),
    };
}

fn wordsAt(mapping: os.Mapping, offset: u64, count: usize) []const u32 {
    assert(offset % section_alignment_bytes == 0);
    assert(offset + count * 4 <= mapping.len);
    const words: [*]const u32 = @ptrCast(@alignCast(mapping.ptr + offset));
    return words[0..count];
}

fn checkHeader(header: *const Header, size_bytes: u64, path: []const u8, diagnostic: *Diagnostic) Error!void {
    try identity.check(header, &magic, format_version, .{ .article = "an", .name = "HNSW graph file" }, path, diagnostic);
    try expectField(header.header_size_bytes == header_size_bytes, path, "header_size_bytes", header_size_bytes, header.header_size_bytes, diagnostic);
    try expectRange(header.m, layout.m_min, layout.m_max, path, "m", diagnostic);
    try expectField(header.m0 == header.m * layout.m0_per_m, path, "m0", header.m * layout.m0_per_m, header.m0, diagnostic);
    try expectRange(header.ef_construct, 1, layout.ef_max, path, "ef_construct", diagnostic);
    try expectRange(header.metric, 0, @intFromEnum(types.Metric.manhattan), path, "metric", diagnostic);
    try expectRange(header.datatype, 0, @intFromEnum(types.Datatype.u8), path, "datatype", diagnostic);
    try expectRange(header.dim, 1, types.dim_max, path, "dim", diagnostic);
    try expectRange(header.node_count, 0, layout.node_count_max, path, "node_count", diagnostic);
    try expectRange(header.inserted_count, 0, header.node_count, path, "inserted_count", diagnostic);
    try expectRange(header.max_level, 0, layout.level_cap, path, "max_level", diagnostic);
    const upper_records_max = @as(u64, header.node_count) * layout.level_cap;
    if (header.upper_record_count > upper_records_max) {
        diagnostic.set("{s} has a bad header: upper_record_count is {d}, more than {d} (node_count * {d})", .{
            path, header.upper_record_count, upper_records_max, layout.level_cap,
        });
        return error.Corrupt;
    }
    const sections: Sections = .of(header.node_count, header.m, header.m0, header.upper_record_count);
    try expectField(header.levels_offset_bytes == sections.levels_offset_bytes, path, "levels_offset_bytes", sections.levels_offset_bytes, header.levels_offset_bytes, diagnostic);
    try expectField(header.upper_first_offset_bytes == sections.upper_first_offset_bytes, path, "upper_first_offset_bytes", sections.upper_first_offset_bytes, header.upper_first_offset_bytes, diagnostic);
    try expectField(header.level0_offset_bytes == sections.level0_offset_bytes, path, "level0_offset_bytes", sections.level0_offset_bytes, header.level0_offset_bytes, diagnostic);
    try expectField(header.upper_offset_bytes == sections.upper_offset_bytes, path, "upper_offset_bytes", sections.upper_offset_bytes, header.upper_offset_bytes, diagnostic);
    try expectField(header.file_size_bytes == sections.file_size_bytes, path, "file_size_bytes", sections.file_size_bytes, header.file_size_bytes, diagnostic);
    if (size_bytes != header.file_size_bytes) {
        diagnostic.set("{s} is {d} bytes long; its header describes {d} bytes", .{ path, size_bytes, header.file_size_bytes });
        return error.Corrupt;
    }
}

fn expectField(ok: bool, path: []const u8, comptime field: []const u8, expected: u64, found: u64, diagnostic: *Diagnostic) Error!void {
    if (ok) return;
    diagnostic.set("{s} has a bad header: " ++ field ++ " should be {d}, found {d}", .{ path, expected, found });
    return error.Corrupt;
}

fn expectRange(value: u64, min: u64, max: u64, path: []const u8, comptime field: []const u8, diagnostic: *Diagnostic) Error!void {
    if (value >= min and value <= max) return;
    diagnostic.set("{s} has a bad header: " ++ field ++ " should be in {d}..={d}, found {d}", .{ path, min, max, value });
    return error.Corrupt;
}

/// Checks what the CRCs cannot: that the writer's invariants hold, so that search never reads outside
/// the sections. Linear in the links.
/// Level-0 records are checked in `checksumBody`'s pass (`level0_damage` is the first bad one); the
/// rest here. Only upper-level links are checked against the linked node's level: a search descends
/// through them by level. A level-0 link needs only to be an offset of the graph, since searches are
/// handed the live points as their allow-list and a node not in the graph has no links of its own.
fn checkStructure(view: *const GraphView, header: *const Header, level0_damage: ?u32, path: []const u8, diagnostic: *Diagnostic) Error!void {
    try checkLevels(view, header, path, diagnostic);
    try checkEntryPoint(view, header, path, diagnostic);
    if (level0_damage) |node| return describeLevel0Damage(view, node, path, diagnostic);
    for (0..view.node_count) |node_index| {
        const node: u32 = @intCast(node_index);
        const level = view.levels[node];
        if (level == layout.level_absent) continue;
        for (1..@as(u32, level) + 1) |link_level| {
            try checkRecord(view, node, @intCast(link_level), path, diagnostic);
        }
    }
}

/// Level-0 records are checked this many at a time, right after their bytes are checksummed, while
/// they are still in cache: one pass over the file instead of two.
const level0_chunk_nodes = 1024;

/// Bodies from this size are checked on several threads (one part each, CRCs joined by `combine`).
/// Tests lower it so that their small graphs take the parallel path.
const parallel_min_bytes = if (builtin.is_test) 1024 else 8 << 20;
const check_threads_max = 4;

/// One contiguous part of the body: bytes `begin..end`, which hold the level-0 records of nodes
/// `first..last` (the first part also holds the sections before level 0, the last those after).
const Part = struct {
    begin: u64,
    end: u64,
    first: u32,
    last: u32,
    crc: u32 = 0,
    damage: ?u32 = null,
};

/// The CRC-32C of the file's body; `level0_damage` receives the first node whose level-0 record fails
/// `level0RecordSound`. A large body is split in parts checked on up to `check_threads_max` threads
/// (fewer if the machine has fewer cores, or a thread cannot start).
fn checksumBody(mapping: os.Mapping, header: *const Header, view: *const GraphView, level0_damage: *?u32) u32 {
    const body_bytes = mapping.len - header_size_bytes;
    const cores: usize = std.Thread.getCpuCount() catch 1;
    const wanted: u32 = if (body_bytes < parallel_min_bytes) 1 else @intCast(@min(check_threads_max, @max(1, cores)));
    var parts: [check_threads_max]Part = undefined;
    const stride = @as(u64, 1 + view.m0) * 4;
    for (0..wanted) |i| {
        const first: u32 = @intCast(@as(u64, view.node_count) * i / wanted);
        const last: u32 = @intCast(@as(u64, view.node_count) * (i + 1) / wanted);
        parts[i] = .{
            .begin = if (i == 0) header_size_bytes else header.level0_offset_bytes + first * stride,
            .end = if (i + 1 == wanted) mapping.len else header.level0_offset_bytes + last * stride,
            .first = first,
            .last = last,
        };
    }
    var threads: [check_threads_max]std.Thread = undefined;
    var spawned: u32 = 0;
    for (parts[1..wanted]) |*part| {
        threads[spawned] = std.Thread.spawn(.{}, checkPart, .{ mapping, header, view, part }) catch break;
        spawned += 1;
    }
    // Parts no thread took are checked here, after the first.
    checkPart(mapping, header, view, &parts[0]);
    for (parts[1 + spawned .. wanted]) |*part| checkPart(mapping, header, view, part);
    for (threads[0..spawned]) |thread| thread.join();
    var crc: u32 = parts[0].crc;
    for (parts[1..wanted]) |part| crc = crc32c.combine(crc, part.crc, part.end - part.begin);
    for (parts[0..wanted]) |part| {
        if (part.damage) |node| {
            level0_damage.* = node;
            break;
        }
    }
    return crc;
}

fn checkPart(mapping: os.Mapping, header: *const Header, view: *const GraphView, part: *Part) void {
    const stride = @as(u64, 1 + view.m0) * 4;
    const records_begin = header.level0_offset_bytes + part.first * stride;
    const records_end = header.level0_offset_bytes + part.last * stride;
    assert(part.begin <= records_begin and records_end <= part.end);
    var crc = crc32c.update(0, mapping[part.begin..records_begin]);
    var node = part.first;
    while (node < part.last) {
        const end: u32 = @min(part.last, node + level0_chunk_nodes);
        crc = crc32c.update(crc, mapping[header.level0_offset_bytes + node * stride ..][0 .. (end - node) * stride]);
        if (part.damage == null) {
            for (node..end) |n| {
                if (!level0RecordSound(view, @intCast(n))) {
                    part.damage = @intCast(n);
                    break;
                }
            }
        }
        node = end;
    }
    part.crc = crc32c.update(crc, mapping[records_end..part.end]);
}

/// A level-0 record holds at most `m0` links, each an offset of the graph, and none if its node is not
/// in the graph.
inline fn level0RecordSound(view: *const GraphView, node: u32) bool {
    const record = view.record(node, 0);
    const count = record[0];
    if (count > view.m0) return false;
    if (count == 0) return true;
    if (view.levels[node] == layout.level_absent) return false;
    // Eight links at a time (lanes past `count` masked out), then the few that do not fill eight.
    const lanes = 8;
    const Lanes = @Vector(lanes, u32);
    const links = record[1..];
    const lane_index: Lanes = std.simd.iota(u32, lanes);
    var highest: Lanes = @splat(0);
    var i: u32 = 0;
    while (i < count and i + lanes <= view.m0) : (i += lanes) {
        const chunk: Lanes = links[i..][0..lanes].*;
        const live = lane_index + @as(Lanes, @splat(i)) < @as(Lanes, @splat(count));
        highest = @max(highest, @select(u32, live, chunk, @as(Lanes, @splat(0))));
    }
    var highest_scalar = @reduce(.Max, highest);
    while (i < count) : (i += 1) highest_scalar = @max(highest_scalar, links[i]);
    return highest_scalar < view.node_count;
}

fn describeLevel0Damage(view: *const GraphView, node: u32, path: []const u8, diagnostic: *Diagnostic) Error {
    assert(!level0RecordSound(view, node));
    const record = view.record(node, 0);
    const count = record[0];
    if (count > view.m0) {
        diagnostic.set("{s} is damaged: node {d} has {d} links on level 0, at most {d} fit", .{ path, node, count, view.m0 });
    } else if (view.levels[node] == layout.level_absent) {
        diagnostic.set("{s} is damaged: offset {d} is not in the graph but has {d} level-0 links", .{ path, node, count });
    } else {
        const link = for (record[1..][0..count]) |link| {
            if (link >= view.node_count) break link;
        } else unreachable;
        diagnostic.set("{s} is damaged: node {d} links on level 0 to {d}, which is not among {d} offsets", .{
            path, node, link, view.node_count,
        });
    }
    return error.Corrupt;
}

/// Levels in range, the index a prefix sum of them, and the counts the header gives.
fn checkLevels(view: *const GraphView, header: *const Header, path: []const u8, diagnostic: *Diagnostic) Error!void {
    var running: u32 = 0;
    var inserted: u32 = 0;
    for (view.levels, 0..) |level, node| {
        if (view.upper_first[node] != running) {
            diagnostic.set("{s} is damaged: the upper records of node {d} should start at {d}, found {d}", .{
                path, node, running, view.upper_first[node],
            });
            return error.Corrupt;
        }
        if (level == layout.level_absent) continue;
        if (level > header.max_level) {
            diagnostic.set("{s} is damaged: node {d} has level {d}, above the max level {d}", .{ path, node, level, header.max_level });
            return error.Corrupt;
        }
        inserted += 1;
        running += level;
    }
    if (view.upper_first[view.node_count] != running or running != header.upper_record_count) {
        diagnostic.set("{s} is damaged: the levels add up to {d} upper records, the index ends at {d} and the header gives {d}", .{
            path, running, view.upper_first[view.node_count], header.upper_record_count,
        });
        return error.Corrupt;
    }
    if (inserted != header.inserted_count) {
        diagnostic.set("{s} is damaged: {d} nodes have a level, the header gives {d}", .{ path, inserted, header.inserted_count });
        return error.Corrupt;
    }
}

fn checkEntryPoint(view: *const GraphView, header: *const Header, path: []const u8, diagnostic: *Diagnostic) Error!void {
    if (header.inserted_count == 0) {
        if (header.entry_point != layout.node_none or header.max_level != 0) {
            diagnostic.set("{s} is damaged: a graph without nodes should have entry point 0x{x} and max level 0, found {d} and {d}", .{
                path, layout.node_none, header.entry_point, header.max_level,
            });
            return error.Corrupt;
        }
        return;
    }
    if (header.entry_point >= view.node_count or view.levels[header.entry_point] != header.max_level) {
        diagnostic.set("{s} is damaged: the entry point {d} should be a node of level {d} among {d} offsets", .{
            path, header.entry_point, header.max_level, view.node_count,
        });
        return error.Corrupt;
    }
}

fn checkRecord(view: *const GraphView, node: u32, level: u32, path: []const u8, diagnostic: *Diagnostic) Error!void {
    const record = view.record(node, level);
    const count = record[0];
    if (count >= record.len) {
        diagnostic.set("{s} is damaged: node {d} has {d} links on level {d}, at most {d} fit", .{ path, node, count, level, record.len - 1 });
        return error.Corrupt;
    }
    for (record[1..][0..count]) |link| {
        const linked_level = if (link < view.node_count) view.levels[link] else layout.level_absent;
        if (linked_level == layout.level_absent or linked_level < level) {
            diagnostic.set("{s} is damaged: node {d} links on level {d} to {d}, which is not a node of that level among {d} offsets", .{
                path, node, level, link, view.node_count,
            });
            return error.Corrupt;
        }
    }
}

// ---- Paths and errors ----

/// The errors of `os` calls that never create a file.
fn narrow(err: os.Error) Error {
    return switch (err) {
        error.Exists => unreachable, // Only a create reports it.
        else => |other| other,
    };
}

fn terminated(path: []const u8, buffer: *[path_bytes_max + 1]u8, diagnostic: *Diagnostic) Error![:0]const u8 {
    if (path.len == 0 or path.len > path_bytes_max) {
        diagnostic.set("a graph file path must be 1 to {d} bytes long, got {d}", .{ path_bytes_max, path.len });
        return error.InvalidArgument;
    }
    if (std.mem.indexOfScalar(u8, path, 0) != null) {
        diagnostic.set("the graph file path {s} contains a NUL byte", .{path});
        return error.InvalidArgument;
    }
    @memcpy(buffer[0..path.len], path);
    buffer[path.len] = 0;
    return buffer[0..path.len :0];
}

fn failErrno(diagnostic: *Diagnostic, path: []const u8, comptime operation: []const u8, errno: linux.E) Error {
    assert(errno != .SUCCESS);
    diagnostic.set("cannot " ++ operation ++ " {s}: {s} (errno {d})", .{
        path, std.enums.tagName(linux.E, errno) orelse "unknown error", @intFromEnum(errno),
    });
    return error.Io;
}
