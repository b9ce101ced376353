//! The C ABI exercised as a caller sees it: through `extern` declarations of the exported symbols.

const std = @import("std");
const testing = std.testing;
const cpu = @import("cpu.zig");
const header = @import("storage/header.zig");

extern fn edge_abi_version() u32;
extern fn edge_build_variant() u32;
extern fn edge_cpu_features() u32;
extern fn edge_noop() i32;
extern fn edge_crc32c(crc: u32, data: ?[*]const u8, len: usize) u32;
extern fn edge_last_error(buffer: ?[*]u8, capacity: usize) usize;
extern fn edge_distance(metric: u32, datatype: u32, a: ?*const anyopaque, b: ?*const anyopaque, dim: u32) f32;
extern fn edge_storage_open(path: ?[*]const u8, path_len: usize, dim: u32, datatype: u32, flags: u32, out_handle: ?*u64) i32;
extern fn edge_storage_close(handle: u64) i32;
extern fn edge_storage_count(handle: u64, out_count: ?*u64) i32;
extern fn edge_storage_put(handle: u64, offset: u64, data: ?[*]const f32, n: u32) i32;
extern fn edge_storage_get(handle: u64, offset: u64, n: u32, out: ?[*]f32) i32;
extern fn edge_storage_flush(handle: u64) i32;
extern fn edge_storage_read_baseline(handle: u64, out_checksum: ?*u64) i32;
extern fn edge_search_exact(
    handle: u64,
    metric: u32,
    queries: ?[*]const f32,
    nq: u32,
    k: u32,
    allow: ?[*]const u8,
    allow_len_bytes: u64,
    out_offsets: ?[*]u64,
    out_scores: ?[*]f32,
    out_counts: ?[*]u32,
) i32;
extern fn edge_lock_open(path: ?[*]const u8, path_len: usize, mode: u32, out_handle: ?*u64) i32;
extern fn edge_lock_close(handle: u64) i32;
extern fn edge_hnsw_builder_new(storage: u64, metric: u32, m: u32, ef_construct: u32, seed: u64, out: ?*u64) i32;
extern fn edge_hnsw_builder_insert(builder: u64, storage: u64, offsets: ?[*]const u32, n: u32, threads: u32) i32;
extern fn edge_hnsw_builder_write(builder: u64, path: ?[*]const u8, path_len: usize) i32;
extern fn edge_hnsw_builder_free(builder: u64) i32;
extern fn edge_hnsw_open(path: ?[*]const u8, path_len: usize, out: ?*u64) i32;
extern fn edge_hnsw_node_count(graph: u64, out: ?*u64) i32;
extern fn edge_hnsw_close(graph: u64) i32;
extern fn edge_quant_builder_new(storage: u64, metric: u32, kind: u32, quantile: f32, out: ?*u64) i32;
extern fn edge_quant_builder_encode(builder: u64, storage: u64, start: u64, end: u64) i32;
extern fn edge_quant_builder_write(builder: u64, path: ?[*]const u8, path_len: usize) i32;
extern fn edge_quant_builder_free(builder: u64) i32;
extern fn edge_quant_open(path: ?[*]const u8, path_len: usize, always_ram: u32, out: ?*u64) i32;
extern fn edge_quant_close(quantized: u64) i32;
extern fn edge_search(
    storage: u64,
    graph: u64,
    quantized: u64,
    metric: u32,
    queries: ?[*]const f32,
    nq: u32,
    k: u32,
    ef: u32,
    flags: u32,
    oversampling: f32,
    allow: ?[*]const u8,
    allow_len_bytes: u64,
    out_offsets: ?[*]u64,
    out_scores: ?[*]f32,
    out_counts: ?[*]u32,
) i32;

const OK = 0;
const INVALID_ARGUMENT = 1;
const CORRUPT = 3;
const BAD_HANDLE = 5;
const EXISTS = 6;
const NOT_FOUND = 7;
const LOCKED = 8;
const EXCLUSIVE = 1;
const SHARED = 2;
const CREATE = 1;
const READ_ONLY = 2;
const F32 = 0;
const U8 = 2;
const DOT = 1;
const EUCLID = 2;

/// Paths given to the ABI are relative to the working directory, where `tmpDir` makes its directories.
fn tmpPath(buffer: []u8, tmp: *const testing.TmpDir, name: []const u8) []const u8 {
    return std.fmt.bufPrint(buffer, ".zig-cache/tmp/{s}/{s}", .{ &tmp.sub_path, name }) catch unreachable;
}

fn lastError() []const u8 {
    const S = struct {
        var buffer: [8192]u8 = undefined;
    };
    const len = edge_last_error(&S.buffer, S.buffer.len);
    return S.buffer[0..@min(len, S.buffer.len)];
}

fn open(path: []const u8, dim: u32, datatype: u32, flags: u32, handle: *u64) i32 {
    return edge_storage_open(path.ptr, path.len, dim, datatype, flags, handle);
}

test "version, variant, CPU features and noop" {
    try testing.expectEqual(@as(u32, 4), edge_abi_version());
    try testing.expectEqual(@intFromEnum(cpu.build_variant), edge_build_variant());
    const features: cpu.Features = @bitCast(edge_cpu_features());
    try testing.expectEqual(cpu.probe(), features);
    try testing.expectEqual(@as(i32, 0), edge_noop());
}

test "edge_distance returns raw scores" {
    const a = [_]f32{ 1, 2, 3 };
    const b = [_]f32{ 4, 5, 6 };
    try testing.expectEqual(@as(f32, 32), edge_distance(DOT, F32, &a, &b, 3));
    try testing.expectEqual(@as(f32, 27), edge_distance(EUCLID, F32, &a, &b, 3));
}

test "a vector file through the ABI: create, put, get, count, search, flush, close, reopen" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var path_buffer: [256]u8 = undefined;
    const path = tmpPath(&path_buffer, &tmp, "abi.vec");
    var handle: u64 = 0;
    try testing.expectEqual(@as(i32, OK), open(path, 2, F32, CREATE, &handle));
    try testing.expect(handle != 0);
    const data = [_]f32{ 1, 0, 0, 1, 0.6, 0.8 };
    try testing.expectEqual(@as(i32, OK), edge_storage_put(handle, 0, &data, 3));
    try testing.expectEqual(@as(i32, OK), edge_storage_put(handle, 3, null, 0));
    var count: u64 = 0;
    try testing.expectEqual(@as(i32, OK), edge_storage_count(handle, &count));
    try testing.expectEqual(@as(u64, 3), count);
    var got: [6]f32 = undefined;
    try testing.expectEqual(@as(i32, OK), edge_storage_get(handle, 0, 3, &got));
    try testing.expectEqualSlices(f32, &data, &got);

    const queries = [_]f32{ 0, 1, 1, 0 };
    var offsets: [4]u64 = undefined;
    var scores: [4]f32 = undefined;
    var counts: [2]u32 = undefined;
    try testing.expectEqual(@as(i32, OK), edge_search_exact(handle, DOT, &queries, 2, 2, null, 0, &offsets, &scores, &counts));
    try testing.expectEqualSlices(u32, &.{ 2, 2 }, &counts);
    try testing.expectEqualSlices(u64, &.{ 1, 2, 0, 2 }, &offsets);
    try testing.expectEqualSlices(f32, &.{ 1, 0.8, 1, 0.6 }, &scores);
    const allow = [_]u8{0b101};
    try testing.expectEqual(@as(i32, OK), edge_search_exact(handle, EUCLID, &queries, 1, 3, &allow, 1, &offsets, &scores, &counts));
    try testing.expectEqual(@as(u32, 2), counts[0]);
    try testing.expectEqualSlices(u64, &.{ 2, 0 }, offsets[0..2]);

    var checksum: u64 = 0;
    try testing.expectEqual(@as(i32, OK), edge_storage_read_baseline(handle, &checksum));
    try testing.expect(checksum != 0);
    try testing.expectEqual(@as(i32, OK), edge_storage_flush(handle));
    try testing.expectEqual(@as(i32, OK), edge_storage_close(handle));

    try testing.expectEqual(@as(i32, OK), open(path, 2, F32, READ_ONLY, &handle));
    defer _ = edge_storage_close(handle);
    try testing.expectEqual(@as(i32, OK), edge_storage_count(handle, &count));
    try testing.expectEqual(@as(u64, 3), count);
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), edge_storage_put(handle, 3, &data, 1));
    try testing.expect(std.mem.indexOf(u8, lastError(), "read-only") != null);
}

test "stale, zero and unknown handles are BAD_HANDLE" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var path_buffer: [256]u8 = undefined;
    const path = tmpPath(&path_buffer, &tmp, "stale.vec");
    var handle: u64 = 0;
    try testing.expectEqual(@as(i32, OK), open(path, 4, U8, CREATE, &handle));
    try testing.expectEqual(@as(i32, OK), edge_storage_close(handle));
    var count: u64 = 0;
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_storage_close(handle));
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_storage_count(handle, &count));
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_storage_count(0, &count));
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_storage_flush(0xffff_ffff_ffff_ffff));
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_storage_read_baseline(4097, &count));
    try testing.expect(std.mem.indexOf(u8, lastError(), "unknown or already closed") != null);

    // Another open gets a different handle; the old one stays dead.
    var reopened: u64 = 0;
    try testing.expectEqual(@as(i32, OK), open(path, 4, U8, 0, &reopened));
    defer _ = edge_storage_close(reopened);
    try testing.expect(reopened != handle);
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_storage_count(handle, &count));
    try testing.expectEqual(@as(i32, OK), edge_storage_count(reopened, &count));
}

test "open reports EXISTS, NOT_FOUND, CORRUPT and INVALID_ARGUMENT with a message" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var path_buffer: [256]u8 = undefined;
    var handle: u64 = 0;
    const path = tmpPath(&path_buffer, &tmp, "statuses.vec");
    try testing.expectEqual(@as(i32, NOT_FOUND), open(path, 4, F32, 0, &handle));
    try testing.expect(std.mem.indexOf(u8, lastError(), "statuses.vec does not exist") != null);
    try testing.expectEqual(@as(i32, OK), open(path, 4, F32, CREATE, &handle));
    try testing.expectEqual(@as(i32, OK), edge_storage_close(handle));
    try testing.expectEqual(@as(i32, EXISTS), open(path, 4, F32, CREATE, &handle));
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), open(path, 8, F32, 0, &handle));
    try testing.expect(std.mem.indexOf(u8, lastError(), "dimension 4, expected 8") != null);
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), open(path, 4, F32, CREATE | READ_ONLY, &handle));
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), open(path, 4, F32, 4, &handle));
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), edge_storage_open(null, 0, 4, F32, 0, &handle));

    try tmp.dir.writeFile(testing.io, .{ .sub_path = "garbage.vec", .data = "not a vector file at all, but long enough to hold a whole header" });
    const garbage = tmpPath(&path_buffer, &tmp, "garbage.vec");
    try testing.expectEqual(@as(i32, CORRUPT), open(garbage, 4, F32, 0, &handle));
    try testing.expect(std.mem.indexOf(u8, lastError(), "not a vector file") != null);
}

test "edge_last_error copies at most cap bytes and returns the full length" {
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_storage_close(0x1234));
    const full = edge_last_error(null, 0);
    try testing.expect(full > 10);
    var small: [5]u8 = undefined;
    try testing.expectEqual(full, edge_last_error(&small, small.len));
    try testing.expectEqualStrings("handl", &small);
}

fn failInThread(message_len: *usize) void {
    _ = edge_storage_close(0x77);
    message_len.* = edge_last_error(null, 0);
}

test "the last error is per thread" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var path_buffer: [256]u8 = undefined;
    var handle: u64 = 0;
    try testing.expectEqual(@as(i32, NOT_FOUND), open(tmpPath(&path_buffer, &tmp, "mine.vec"), 4, F32, 0, &handle));
    const mine = edge_last_error(null, 0);
    var theirs: usize = 0;
    const thread = try std.Thread.spawn(.{}, failInThread, .{&theirs});
    thread.join();
    try testing.expect(theirs != mine);
    try testing.expectEqual(mine, edge_last_error(null, 0));
    try testing.expect(std.mem.indexOf(u8, lastError(), "mine.vec") != null);
}

const Hammer = struct {
    handle: u64,
    dim: u32,
    failures: std.atomic.Value(u32) = .init(0),

    fn search(hammer: *Hammer, rounds: u32) void {
        var queries: [8]f32 = @splat(0.5);
        var offsets: [3]u64 = undefined;
        var scores: [3]f32 = undefined;
        var counts: [1]u32 = undefined;
        for (0..rounds) |_| {
            const status = edge_search_exact(hammer.handle, DOT, &queries, 1, 3, null, 0, &offsets, &scores, &counts);
            if (status != OK) _ = hammer.failures.fetchAdd(1, .monotonic);
        }
    }

    fn put(hammer: *Hammer, rounds: u32) void {
        var record: [8]f32 = @splat(1);
        var count: u64 = 0;
        for (0..rounds) |_| {
            if (edge_storage_count(hammer.handle, &count) != OK) _ = hammer.failures.fetchAdd(1, .monotonic);
            if (edge_storage_put(hammer.handle, count, &record, 1) != OK) _ = hammer.failures.fetchAdd(1, .monotonic);
        }
    }
};

test "searches run safely while another thread grows the file" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var path_buffer: [256]u8 = undefined;
    var hammer: Hammer = .{ .handle = 0, .dim = 8 };
    try testing.expectEqual(@as(i32, OK), open(tmpPath(&path_buffer, &tmp, "hammer.vec"), 8, F32, CREATE, &hammer.handle));
    defer _ = edge_storage_close(hammer.handle);
    const rounds = 2000;
    const writer = try std.Thread.spawn(.{}, Hammer.put, .{ &hammer, rounds });
    const reader = try std.Thread.spawn(.{}, Hammer.search, .{ &hammer, rounds });
    writer.join();
    reader.join();
    try testing.expectEqual(@as(u32, 0), hammer.failures.load(.monotonic));
    var count: u64 = 0;
    try testing.expectEqual(@as(i32, OK), edge_storage_count(hammer.handle, &count));
    try testing.expectEqual(@as(u64, rounds), count);
}

fn lockOpen(path: []const u8, mode: u32, handle: *u64) i32 {
    return edge_lock_open(path.ptr, path.len, mode, handle);
}

test "a lock through the ABI: exclusive, conflict, shared, close, reopen" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var path_buffer: [256]u8 = undefined;
    const path = tmpPath(&path_buffer, &tmp, ".lock");
    var writer: u64 = 0;
    try testing.expectEqual(@as(i32, OK), lockOpen(path, EXCLUSIVE, &writer));
    try testing.expect(writer != 0);
    var other: u64 = 0;
    try testing.expectEqual(@as(i32, LOCKED), lockOpen(path, EXCLUSIVE, &other));
    try testing.expect(std.mem.indexOf(u8, lastError(), "cannot take an exclusive lock on") != null);
    try testing.expect(std.mem.indexOf(u8, lastError(), path) != null);
    try testing.expectEqual(@as(i32, LOCKED), lockOpen(path, SHARED, &other));
    try testing.expectEqual(@as(i32, OK), edge_lock_close(writer));

    var readers: [2]u64 = .{ 0, 0 };
    for (&readers) |*reader| try testing.expectEqual(@as(i32, OK), lockOpen(path, SHARED, reader));
    try testing.expect(readers[0] != readers[1]);
    try testing.expectEqual(@as(i32, LOCKED), lockOpen(path, EXCLUSIVE, &other));
    for (readers) |reader| try testing.expectEqual(@as(i32, OK), edge_lock_close(reader));
    try testing.expectEqual(@as(i32, OK), lockOpen(path, EXCLUSIVE, &writer));
    try testing.expectEqual(@as(i32, OK), edge_lock_close(writer));
}

test "lock open refuses a bad mode, a bad path and a missing directory" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var path_buffer: [256]u8 = undefined;
    var handle: u64 = 0;
    const path = tmpPath(&path_buffer, &tmp, ".lock");
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), lockOpen(path, 0, &handle));
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), lockOpen(path, EXCLUSIVE | SHARED, &handle));
    try testing.expect(std.mem.indexOf(u8, lastError(), "lock mode 3") != null);
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), edge_lock_open(null, 0, EXCLUSIVE, &handle));
    const missing = tmpPath(&path_buffer, &tmp, "missing/.lock");
    try testing.expectEqual(@as(i32, NOT_FOUND), lockOpen(missing, EXCLUSIVE, &handle));
    try testing.expect(std.mem.indexOf(u8, lastError(), "directory does not exist") != null);
}

test "stale, zero, unknown and vector file handles are BAD_HANDLE to edge_lock_close" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var path_buffer: [256]u8 = undefined;
    var lock: u64 = 0;
    try testing.expectEqual(@as(i32, OK), lockOpen(tmpPath(&path_buffer, &tmp, ".lock"), SHARED, &lock));
    try testing.expectEqual(@as(i32, OK), edge_lock_close(lock));
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_lock_close(lock));
    try testing.expect(std.mem.indexOf(u8, lastError(), "unknown or already closed") != null);
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_lock_close(0));
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_lock_close(0xffff_ffff_ffff_ffff));

    // Handles of the two kinds never stand in for each other.
    var storage: u64 = 0;
    try testing.expectEqual(@as(i32, OK), open(tmpPath(&path_buffer, &tmp, "kinds.vec"), 4, F32, CREATE, &storage));
    defer _ = edge_storage_close(storage);
    try testing.expectEqual(@as(i32, OK), lockOpen(tmpPath(&path_buffer, &tmp, ".lock"), EXCLUSIVE, &lock));
    defer _ = edge_lock_close(lock);
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_lock_close(storage));
    var count: u64 = 0;
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_storage_count(lock, &count));
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_storage_close(lock));
}

test "edge_crc32c continues a checksum and takes NULL for an empty buffer" {
    const text = "123456789";
    try testing.expectEqual(@as(u32, 0xE3069283), edge_crc32c(0, text.ptr, text.len));
    try testing.expectEqual(@as(u32, 0xE3069283), edge_crc32c(edge_crc32c(0, text.ptr, 4), text.ptr + 4, 5));
    try testing.expectEqual(@as(u32, 7), edge_crc32c(7, null, 0));
}

test "indexes through the ABI: build and write a graph and int8 vectors, open them, search through them" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var buffers: [3][256]u8 = undefined;
    const vectors_path = tmpPath(&buffers[0], &tmp, "index.vec");
    const graph_path = tmpPath(&buffers[1], &tmp, "index.hnsw");
    const quant_path = tmpPath(&buffers[2], &tmp, "index.qnt");
    const dim = 8;
    const n = 600;
    var storage: u64 = 0;
    try testing.expectEqual(@as(i32, OK), open(vectors_path, dim, F32, CREATE, &storage));
    defer _ = edge_storage_close(storage);
    var prng = std.Random.DefaultPrng.init(5);
    var data: [n * dim]f32 = undefined;
    for (&data) |*value| value.* = prng.random().floatNorm(f32);
    try testing.expectEqual(@as(i32, OK), edge_storage_put(storage, 0, &data, n));

    var builder: u64 = 0;
    try testing.expectEqual(@as(i32, OK), edge_hnsw_builder_new(storage, EUCLID, 8, 64, 3, &builder));
    var offsets_in: [n]u32 = undefined;
    for (&offsets_in, 0..) |*offset, i| offset.* = @intCast(i);
    try testing.expectEqual(@as(i32, OK), edge_hnsw_builder_insert(builder, storage, &offsets_in, 300, 1));
    try testing.expectEqual(@as(i32, OK), edge_hnsw_builder_insert(builder, storage, offsets_in[300..], n - 300, 2));
    try testing.expectEqual(@as(i32, OK), edge_hnsw_builder_write(builder, graph_path.ptr, graph_path.len));
    try testing.expectEqual(@as(i32, OK), edge_hnsw_builder_free(builder));
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_hnsw_builder_free(builder));

    var quant_builder: u64 = 0;
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), edge_quant_builder_new(storage, EUCLID, 9, 0.99, &quant_builder));
    try testing.expectEqual(@as(i32, OK), edge_quant_builder_new(storage, EUCLID, 1, 0.99, &quant_builder));
    try testing.expectEqual(@as(i32, OK), edge_quant_builder_encode(quant_builder, storage, 0, 250));
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), edge_quant_builder_write(quant_builder, quant_path.ptr, quant_path.len));
    try testing.expectEqual(@as(i32, OK), edge_quant_builder_encode(quant_builder, storage, 250, n));
    try testing.expectEqual(@as(i32, OK), edge_quant_builder_write(quant_builder, quant_path.ptr, quant_path.len));
    try testing.expectEqual(@as(i32, EXISTS), edge_quant_builder_write(quant_builder, quant_path.ptr, quant_path.len));
    try testing.expectEqual(@as(i32, OK), edge_quant_builder_free(quant_builder));

    var graph: u64 = 0;
    try testing.expectEqual(@as(i32, OK), edge_hnsw_open(graph_path.ptr, graph_path.len, &graph));
    defer _ = edge_hnsw_close(graph);
    var nodes: u64 = 0;
    try testing.expectEqual(@as(i32, OK), edge_hnsw_node_count(graph, &nodes));
    try testing.expectEqual(@as(u64, n), nodes);
    var quantized: u64 = 0;
    try testing.expectEqual(@as(i32, OK), edge_quant_open(quant_path.ptr, quant_path.len, 1, &quantized));
    defer _ = edge_quant_close(quantized);
    try testing.expectEqual(@as(i32, BAD_HANDLE), edge_hnsw_close(quantized));

    // Extra records written after the indexes were built are found by the tail scan.
    const late = [_]f32{ 50, 50, 50, 50, 50, 50, 50, 50 };
    try testing.expectEqual(@as(i32, OK), edge_storage_put(storage, n, &late, 1));
    const k = 5;
    var exact_offsets: [k]u64 = undefined;
    var exact_scores: [k]f32 = undefined;
    var got_offsets: [k]u64 = undefined;
    var got_scores: [k]f32 = undefined;
    var counts: [1]u32 = undefined;
    const query = data[7 * dim ..][0..dim];
    try testing.expectEqual(@as(i32, OK), edge_search_exact(storage, EUCLID, query.ptr, 1, k, null, 0, &exact_offsets, &exact_scores, &counts));
    const flags_rescore = 2;
    for ([_]u64{ 0, quantized }) |q| {
        try testing.expectEqual(@as(i32, OK), edge_search(storage, graph, q, EUCLID, query.ptr, 1, k, 64, flags_rescore, 4, null, 0, &got_offsets, &got_scores, &counts));
        try testing.expectEqual(@as(u32, k), counts[0]);
        try testing.expectEqualSlices(u64, &exact_offsets, &got_offsets);
        try testing.expectEqualSlices(f32, &exact_scores, &got_scores);
    }
    try testing.expectEqual(@as(i32, OK), edge_search(storage, graph, quantized, EUCLID, &late, 1, 1, 16, flags_rescore, 1, null, 0, &got_offsets, &got_scores, &counts));
    try testing.expectEqual(@as(u64, n), got_offsets[0]);
    // An allow-list excludes the best match; the exact scan flag agrees.
    var allow: [(n + 8) / 8 + 1]u8 = @splat(0xff);
    allow[7 >> 3] &= ~@as(u8, 1 << 7);
    try testing.expectEqual(@as(i32, OK), edge_search(storage, graph, 0, EUCLID, query.ptr, 1, k, 64, 1, 1, &allow, allow.len, &got_offsets, &got_scores, &counts));
    try testing.expectEqual(@as(u64, exact_offsets[1]), got_offsets[0]);
    try testing.expectEqual(@as(i32, INVALID_ARGUMENT), edge_search(storage, graph, 0, EUCLID, query.ptr, 1, k, 64, 8, 1, null, 0, &got_offsets, &got_scores, &counts));

    var corrupt: u64 = 0;
    try testing.expectEqual(@as(i32, CORRUPT), edge_hnsw_open(vectors_path.ptr, vectors_path.len, &corrupt));
    try testing.expect(std.mem.indexOf(u8, lastError(), "index.vec") != null);
    try testing.expectEqual(@as(i32, CORRUPT), edge_quant_open(graph_path.ptr, graph_path.len, 0, &corrupt));
}
