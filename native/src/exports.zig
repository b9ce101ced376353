//! The C ABI of libedge (`ABI.md`, version 4): the only file with exported functions.
//!
//! Handles index fixed tables of slots (`handle_table.zig`), one per kind of object (vector files, locks,
//! HNSW graphs and builders, quantized files and builders), with disjoint handle ranges; a stale handle,
//! or one of another kind, is refused with BAD_HANDLE. On a vector file, reads and searches share the
//! slot's lock and put/flush/close take it alone (put may move the mapping); a call that reads a vector
//! file through another object (a build step, a search) holds both slots.

const std = @import("std");
const assert = std.debug.assert;
const types = @import("types.zig");
const cpu = @import("cpu.zig");
const handle_table = @import("handle_table.zig");
const Diagnostic = @import("diagnostic.zig").Diagnostic;
const distance = @import("distance/distance.zig");
const storage_module = @import("storage/storage.zig");
const os = @import("storage/os.zig");
const lock_module = @import("storage/lock.zig");
const flat = @import("flat/search.zig");
const crc32c = @import("checksum/crc32c.zig");
const hnsw = @import("hnsw/hnsw.zig");
const quant = @import("quant/quant.zig");
const indexed = @import("search/indexed.zig");

const Storage = storage_module.Storage;
const Lock = lock_module.Lock;

pub const abi_version: u32 = 4;

/// Pinned status codes.
pub const Status = enum(i32) {
    ok = 0,
    invalid_argument = 1,
    io = 2,
    corrupt = 3,
    out_of_memory = 4,
    bad_handle = 5,
    exists = 6,
    not_found = 7,
    locked = 8,
};

comptime {
    assert(@intFromEnum(Status.not_found) == 7);
    assert(@intFromEnum(Status.locked) == 8);
    assert(@sizeOf(usize) == 8); // The TypeScript symbol table declares usize as u64.
}

const allocator = std.heap.smp_allocator;

// ---- Last error (thread-local) ----

const LastError = struct {
    buffer: [Diagnostic.size_bytes_max]u8,
    len: usize,
};

threadlocal var last_error: LastError = .{ .buffer = undefined, .len = 0 };

fn fail(status: Status, message: []const u8) i32 {
    assert(status != .ok);
    const len = @min(message.len, last_error.buffer.len);
    @memcpy(last_error.buffer[0..len], message[0..len]);
    last_error.len = len;
    return @intFromEnum(status);
}

fn failFormat(status: Status, comptime format: []const u8, args: anytype) i32 {
    var diagnostic: Diagnostic = .{};
    diagnostic.set(format, args);
    return fail(status, diagnostic.message());
}

/// Every error an engine call returns beside a diagnostic.
const Failure = storage_module.Error || lock_module.Error || hnsw.Error || quant.Error;

fn statusOf(err: Failure) Status {
    return switch (err) {
        error.InvalidArgument => .invalid_argument,
        error.Io => .io,
        error.Corrupt => .corrupt,
        error.OutOfMemory => .out_of_memory,
        error.Exists => .exists,
        error.NotFound => .not_found,
        error.Locked => .locked,
    };
}

fn failWith(err: Failure, diagnostic: *const Diagnostic) i32 {
    if (err == error.OutOfMemory) return fail(.out_of_memory, "out of memory");
    assert(diagnostic.len > 0);
    return fail(statusOf(err), diagnostic.message());
}

// ---- Handle tables ----

const storage_slot_count = 4096;
const lock_slot_count = 1024;

/// Vector files: handles with low words 1..4096.
var storages: handle_table.HandleTable(*Storage, storage_slot_count, 0) = .{};
/// Locks: handles with low words 4097..5120, so that no vector file handle is ever a lock handle.
var locks: handle_table.HandleTable(Lock, lock_slot_count, storage_slot_count) = .{};

const graph_slot_count = 4096;
const builder_slot_count = 64;
const graphs_base = storage_slot_count + lock_slot_count;
const hnsw_builders_base = graphs_base + graph_slot_count;
const quantized_base = hnsw_builders_base + builder_slot_count;
const quant_builders_base = quantized_base + graph_slot_count;

/// An open graph and the working memory of its searches, reused by one search at a time.
const GraphEntry = struct {
    graph: *hnsw.Graph,
    scratch: ?hnsw.Scratch = null,
    scratch_busy: std.atomic.Value(bool) = .init(false),
};

const QuantBuilder = struct {
    builder: quant.Builder,
};

/// HNSW graphs: handles with low words 5121..9216.
var graphs: handle_table.HandleTable(*GraphEntry, graph_slot_count, graphs_base) = .{};
/// HNSW builders: 9217..9280.
var hnsw_builders: handle_table.HandleTable(*hnsw.Builder, builder_slot_count, hnsw_builders_base) = .{};
/// Quantized files: 9281..13376.
var quantized_files: handle_table.HandleTable(*quant.Quantized, graph_slot_count, quantized_base) = .{};
/// Quantization builders: 13377..13440.
var quant_builders: handle_table.HandleTable(*QuantBuilder, builder_slot_count, quant_builders_base) = .{};

fn failBadHandle(handle: u64) i32 {
    return failFormat(.bad_handle, "handle 0x{x} is unknown or already closed", .{handle});
}

// ---- Exported functions ----

export fn edge_abi_version() u32 {
    return abi_version;
}

export fn edge_build_variant() u32 {
    return @intFromEnum(cpu.build_variant);
}

export fn edge_cpu_features() u32 {
    return @bitCast(cpu.probe());
}

export fn edge_noop() i32 {
    return @intFromEnum(Status.ok);
}

export fn edge_last_error(buffer: ?[*]u8, capacity: usize) usize {
    const message = last_error.buffer[0..last_error.len];
    const copied = @min(capacity, message.len);
    if (buffer) |out| @memcpy(out[0..copied], message[0..copied]);
    return message.len;
}

export fn edge_distance(metric: u32, datatype: u32, a: ?*const anyopaque, b: ?*const anyopaque, dim: u32) f32 {
    assert(types.Metric.isValid(metric));
    assert(types.Datatype.isValid(datatype));
    return distance.scoreRaw(@enumFromInt(metric), @enumFromInt(datatype), @ptrCast(a.?), @ptrCast(b.?), dim);
}

/// A `(ptr, len)` path from the caller; an empty one may come as NULL.
fn pathOf(path: ?[*]const u8, path_len: usize) []const u8 {
    return if (path_len == 0) "" else path.?[0..path_len];
}

const flag_create: u32 = 1 << 0;
const flag_read_only: u32 = 1 << 1;

export fn edge_storage_open(
    path: ?[*]const u8,
    path_len: usize,
    dim: u32,
    datatype: u32,
    flags: u32,
    out_handle: ?*u64,
) i32 {
    assert(dim > 0 and dim <= types.dim_max);
    assert(types.Datatype.isValid(datatype));
    assert(out_handle != null);
    if (flags & ~(flag_create | flag_read_only) != 0 or flags == flag_create | flag_read_only) {
        return failFormat(.invalid_argument, "storage flags 0x{x} are not CREATE, READ_ONLY or neither", .{flags});
    }
    const mode: storage_module.Mode = if (flags & flag_create != 0) .create else if (flags & flag_read_only != 0) .read_only else .read_write;
    const path_bytes = pathOf(path, path_len);
    var diagnostic: Diagnostic = .{};
    const options: storage_module.Options = .{ .datatype = @enumFromInt(datatype), .dim = dim, .mode = mode };
    const storage = Storage.open(allocator, os.cwd, path_bytes, options, &diagnostic) catch |err| {
        return failWith(err, &diagnostic);
    };
    const handle = storages.insert(storage) orelse {
        storage.close();
        return failFormat(.out_of_memory, "cannot open {s}: all {d} vector file handles are in use", .{ path_bytes, storage_slot_count });
    };
    assert(handle != 0);
    out_handle.?.* = handle;
    return @intFromEnum(Status.ok);
}

export fn edge_storage_close(handle: u64) i32 {
    const storage = storages.remove(handle) orelse return failBadHandle(handle);
    storage.close();
    return @intFromEnum(Status.ok);
}

export fn edge_storage_count(handle: u64, out_count: ?*u64) i32 {
    const slot = storages.acquire(handle, .shared) orelse return failBadHandle(handle);
    defer slot.unlock(.shared);
    out_count.?.* = slot.value.?.count;
    return @intFromEnum(Status.ok);
}

export fn edge_storage_put(handle: u64, offset: u64, data: ?[*]const f32, n: u32) i32 {
    const slot = storages.acquire(handle, .exclusive) orelse return failBadHandle(handle);
    defer slot.unlock(.exclusive);
    const storage = slot.value.?;
    const values: []const f32 = if (n == 0) &.{} else data.?[0 .. @as(usize, n) * storage.dim];
    var diagnostic: Diagnostic = .{};
    storage.put(offset, values, &diagnostic) catch |err| return failWith(err, &diagnostic);
    return @intFromEnum(Status.ok);
}

export fn edge_storage_get(handle: u64, offset: u64, n: u32, out: ?[*]f32) i32 {
    const slot = storages.acquire(handle, .shared) orelse return failBadHandle(handle);
    defer slot.unlock(.shared);
    const storage = slot.value.?;
    if (n == 0) return @intFromEnum(Status.ok);
    storage.get(offset, out.?[0 .. @as(usize, n) * storage.dim]);
    return @intFromEnum(Status.ok);
}

export fn edge_storage_flush(handle: u64) i32 {
    const slot = storages.acquire(handle, .exclusive) orelse return failBadHandle(handle);
    defer slot.unlock(.exclusive);
    var diagnostic: Diagnostic = .{};
    slot.value.?.flush(&diagnostic) catch |err| return failWith(err, &diagnostic);
    return @intFromEnum(Status.ok);
}

export fn edge_crc32c(crc: u32, data: ?[*]const u8, len: usize) u32 {
    // Deno may pass an empty buffer as NULL.
    if (len == 0) return crc;
    return crc32c.update(crc, data.?[0..len]);
}

export fn edge_storage_read_baseline(handle: u64, out_checksum: ?*u64) i32 {
    const slot = storages.acquire(handle, .shared) orelse return failBadHandle(handle);
    defer slot.unlock(.shared);
    out_checksum.?.* = slot.value.?.readBaseline();
    return @intFromEnum(Status.ok);
}

export fn edge_search_exact(
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
) i32 {
    assert(types.Metric.isValid(metric));
    assert(k > 0);
    const slot = storages.acquire(handle, .shared) orelse return failBadHandle(handle);
    defer slot.unlock(.shared);
    if (nq == 0) return @intFromEnum(Status.ok);
    const view = slot.value.?.view();
    const slots_total = @as(usize, nq) * k;
    const request: flat.Request = .{
        .metric = @enumFromInt(metric),
        .queries = queries.?[0 .. @as(usize, nq) * view.dim],
        .k = k,
        .allow = if (allow) |bits| bits[0..@intCast(allow_len_bytes)] else null,
    };
    const results: flat.Results = .{
        .offsets = out_offsets.?[0..slots_total],
        .scores = out_scores.?[0..slots_total],
        .counts = out_counts.?[0..nq],
    };
    flat.searchExact(allocator, view, request, results) catch |err| switch (err) {
        error.OutOfMemory => return fail(.out_of_memory, "out of memory converting the queries"),
    };
    return @intFromEnum(Status.ok);
}

const lock_mode_exclusive: u32 = 1;
const lock_mode_shared: u32 = 2;

export fn edge_lock_open(path: ?[*]const u8, path_len: usize, mode: u32, out_handle: ?*u64) i32 {
    assert(out_handle != null);
    const lock_mode: lock_module.Mode = switch (mode) {
        lock_mode_exclusive => .exclusive,
        lock_mode_shared => .shared,
        else => return failFormat(.invalid_argument, "lock mode {d} is neither 1 (exclusive) nor 2 (shared)", .{mode}),
    };
    const path_bytes = pathOf(path, path_len);
    var diagnostic: Diagnostic = .{};
    const lock = Lock.acquire(os.cwd, path_bytes, lock_mode, &diagnostic) catch |err| {
        return failWith(err, &diagnostic);
    };
    const handle = locks.insert(lock) orelse {
        lock.release();
        return failFormat(.out_of_memory, "cannot lock {s}: all {d} lock handles are in use", .{ path_bytes, lock_slot_count });
    };
    assert(handle != 0);
    out_handle.?.* = handle;
    return @intFromEnum(Status.ok);
}

export fn edge_lock_close(handle: u64) i32 {
    const lock = locks.remove(handle) orelse return failBadHandle(handle);
    lock.release();
    return @intFromEnum(Status.ok);
}

export fn edge_hnsw_builder_new(
    storage_handle: u64,
    metric: u32,
    m: u32,
    ef_construct: u32,
    seed: u64,
    out_handle: ?*u64,
) i32 {
    assert(types.Metric.isValid(metric));
    assert(m >= hnsw.m_min and m <= hnsw.m_max);
    assert(ef_construct >= 4);
    const slot = storages.acquire(storage_handle, .shared) orelse return failBadHandle(storage_handle);
    defer slot.unlock(.shared);
    const view = slot.value.?.view();
    if (view.count >= hnsw.node_none) {
        return failFormat(.invalid_argument, "cannot index {d} vectors: a graph holds fewer than {d}", .{ view.count, hnsw.node_none });
    }
    const params: hnsw.Params = .{ .m = m, .ef_construct = ef_construct, .seed = seed };
    const builder = hnsw.Builder.init(allocator, params, view, @enumFromInt(metric)) catch {
        return fail(.out_of_memory, "out of memory starting an HNSW build");
    };
    const handle = hnsw_builders.insert(builder) orelse {
        builder.deinit();
        return failFormat(.out_of_memory, "all {d} HNSW builder handles are in use", .{builder_slot_count});
    };
    out_handle.?.* = handle;
    return @intFromEnum(Status.ok);
}

export fn edge_hnsw_builder_insert(builder_handle: u64, storage_handle: u64, offsets: ?[*]const u32, n: u32, threads: u32) i32 {
    assert(threads >= 1);
    const slot = hnsw_builders.acquire(builder_handle, .exclusive) orelse return failBadHandle(builder_handle);
    defer slot.unlock(.exclusive);
    const storage_slot = storages.acquire(storage_handle, .shared) orelse return failBadHandle(storage_handle);
    defer storage_slot.unlock(.shared);
    if (n == 0) return @intFromEnum(Status.ok);
    const builder = slot.value.?;
    builder.setView(storage_slot.value.?.view());
    builder.insert(offsets.?[0..n], @min(threads, hnsw.threads_max)) catch {
        return fail(.out_of_memory, "out of memory inserting into an HNSW graph");
    };
    return @intFromEnum(Status.ok);
}

export fn edge_hnsw_builder_write(builder_handle: u64, path: ?[*]const u8, path_len: usize) i32 {
    const slot = hnsw_builders.acquire(builder_handle, .shared) orelse return failBadHandle(builder_handle);
    defer slot.unlock(.shared);
    var diagnostic: Diagnostic = .{};
    slot.value.?.write(os.cwd, pathOf(path, path_len), &diagnostic) catch |err| return failWith(err, &diagnostic);
    return @intFromEnum(Status.ok);
}

export fn edge_hnsw_builder_free(builder_handle: u64) i32 {
    const builder = hnsw_builders.remove(builder_handle) orelse return failBadHandle(builder_handle);
    builder.deinit();
    return @intFromEnum(Status.ok);
}

export fn edge_hnsw_open(path: ?[*]const u8, path_len: usize, out_handle: ?*u64) i32 {
    var diagnostic: Diagnostic = .{};
    const graph = hnsw.Graph.open(allocator, os.cwd, pathOf(path, path_len), &diagnostic) catch |err| {
        return failWith(err, &diagnostic);
    };
    const entry = allocator.create(GraphEntry) catch {
        graph.close();
        return fail(.out_of_memory, "out of memory opening an HNSW graph");
    };
    entry.* = .{ .graph = graph };
    const handle = graphs.insert(entry) orelse {
        graph.close();
        allocator.destroy(entry);
        return failFormat(.out_of_memory, "all {d} HNSW graph handles are in use", .{graph_slot_count});
    };
    out_handle.?.* = handle;
    return @intFromEnum(Status.ok);
}

export fn edge_hnsw_node_count(graph_handle: u64, out_count: ?*u64) i32 {
    const slot = graphs.acquire(graph_handle, .shared) orelse return failBadHandle(graph_handle);
    defer slot.unlock(.shared);
    out_count.?.* = slot.value.?.graph.nodeCount();
    return @intFromEnum(Status.ok);
}

export fn edge_hnsw_close(graph_handle: u64) i32 {
    const entry = graphs.remove(graph_handle) orelse return failBadHandle(graph_handle);
    if (entry.scratch) |*scratch| scratch.deinit(allocator);
    entry.graph.close();
    allocator.destroy(entry);
    return @intFromEnum(Status.ok);
}

export fn edge_quant_builder_new(storage_handle: u64, metric: u32, kind: u32, quantile: f32, out_handle: ?*u64) i32 {
    assert(types.Metric.isValid(metric));
    if (!quant.Kind.isValid(kind)) {
        return failFormat(.invalid_argument, "quantization kind {d} is neither 1 (int8) nor 2 (binary)", .{kind});
    }
    assert(quantile >= 0.5 and quantile <= 1);
    const slot = storages.acquire(storage_handle, .shared) orelse return failBadHandle(storage_handle);
    defer slot.unlock(.shared);
    const view = slot.value.?.view();
    const quantizer = quant.Quantizer.train(allocator, view, @enumFromInt(metric), @enumFromInt(kind), quantile) catch {
        return fail(.out_of_memory, "out of memory training a quantizer");
    };
    const entry = allocator.create(QuantBuilder) catch return fail(.out_of_memory, "out of memory starting a quantization");
    entry.* = .{ .builder = quant.Builder.init(allocator, quantizer, view.count) catch {
        allocator.destroy(entry);
        return fail(.out_of_memory, "out of memory allocating quantized vectors");
    } };
    const handle = quant_builders.insert(entry) orelse {
        entry.builder.deinit();
        allocator.destroy(entry);
        return failFormat(.out_of_memory, "all {d} quantization builder handles are in use", .{builder_slot_count});
    };
    out_handle.?.* = handle;
    return @intFromEnum(Status.ok);
}

export fn edge_quant_builder_encode(builder_handle: u64, storage_handle: u64, start: u64, end: u64) i32 {
    const slot = quant_builders.acquire(builder_handle, .exclusive) orelse return failBadHandle(builder_handle);
    defer slot.unlock(.exclusive);
    const storage_slot = storages.acquire(storage_handle, .shared) orelse return failBadHandle(storage_handle);
    defer storage_slot.unlock(.shared);
    slot.value.?.builder.encodeRange(storage_slot.value.?.view(), start, end);
    return @intFromEnum(Status.ok);
}

export fn edge_quant_builder_write(builder_handle: u64, path: ?[*]const u8, path_len: usize) i32 {
    const slot = quant_builders.acquire(builder_handle, .exclusive) orelse return failBadHandle(builder_handle);
    defer slot.unlock(.exclusive);
    const builder = &slot.value.?.builder;
    if (!builder.isComplete()) {
        return failFormat(.invalid_argument, "cannot write quantized vectors: {d} of {d} are encoded", .{ builder.encoded, builder.count });
    }
    var diagnostic: Diagnostic = .{};
    builder.write(os.cwd, pathOf(path, path_len), &diagnostic) catch |err| return failWith(err, &diagnostic);
    return @intFromEnum(Status.ok);
}

export fn edge_quant_builder_free(builder_handle: u64) i32 {
    const entry = quant_builders.remove(builder_handle) orelse return failBadHandle(builder_handle);
    entry.builder.deinit();
    allocator.destroy(entry);
    return @intFromEnum(Status.ok);
}

export fn edge_quant_open(path: ?[*]const u8, path_len: usize, always_ram: u32, out_handle: ?*u64) i32 {
    var diagnostic: Diagnostic = .{};
    const quantized = allocator.create(quant.Quantized) catch return fail(.out_of_memory, "out of memory opening quantized vectors");
    quantized.* = quant.Quantized.open(allocator, os.cwd, pathOf(path, path_len), .{ .always_ram = always_ram != 0 }, &diagnostic) catch |err| {
        allocator.destroy(quantized);
        return failWith(err, &diagnostic);
    };
    const handle = quantized_files.insert(quantized) orelse {
        quantized.close();
        allocator.destroy(quantized);
        return failFormat(.out_of_memory, "all {d} quantized vector handles are in use", .{graph_slot_count});
    };
    out_handle.?.* = handle;
    return @intFromEnum(Status.ok);
}

export fn edge_quant_close(handle: u64) i32 {
    const quantized = quantized_files.remove(handle) orelse return failBadHandle(handle);
    quantized.close();
    allocator.destroy(quantized);
    return @intFromEnum(Status.ok);
}

const search_flag_exact: u32 = 1 << 0;
const search_flag_rescore: u32 = 1 << 1;

export fn edge_search(
    storage_handle: u64,
    graph_handle: u64,
    quantized_handle: u64,
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
) i32 {
    assert(types.Metric.isValid(metric));
    assert(k > 0);
    assert(oversampling >= 1);
    if (flags & ~(search_flag_exact | search_flag_rescore) != 0) {
        return failFormat(.invalid_argument, "search flags 0x{x} are not EXACT or RESCORE", .{flags});
    }
    const slot = storages.acquire(storage_handle, .shared) orelse return failBadHandle(storage_handle);
    defer slot.unlock(.shared);
    const graph_slot = if (graph_handle == 0) null else graphs.acquire(graph_handle, .shared) orelse return failBadHandle(graph_handle);
    defer if (graph_slot) |held| held.unlock(.shared);
    const quantized_slot = if (quantized_handle == 0) null else quantized_files.acquire(quantized_handle, .shared) orelse return failBadHandle(quantized_handle);
    defer if (quantized_slot) |held| held.unlock(.shared);
    if (nq == 0) return @intFromEnum(Status.ok);
    const view = slot.value.?.view();
    var sources: indexed.Sources = .{ .vectors = view };
    if (quantized_slot) |held| {
        const quantized_view = held.value.?.view();
        if (quantized_view.quantizer.dim != view.dim or quantized_view.count > view.count) {
            return failFormat(.invalid_argument, "quantized vectors of {d} dimensions for {d} records do not fit a vector file of {d} dimensions and {d} records", .{ quantized_view.quantizer.dim, quantized_view.count, view.dim, view.count });
        }
        sources.quantized = quantized_view;
    }
    var borrowed: ?*GraphEntry = null;
    var own_scratch: ?hnsw.Scratch = null;
    defer if (borrowed) |entry| entry.scratch_busy.store(false, .release);
    defer if (own_scratch) |*scratch| scratch.deinit(allocator);
    if (graph_slot) |held| {
        const entry = held.value.?;
        const node_count = entry.graph.nodeCount();
        if (node_count > view.count) {
            return failFormat(.invalid_argument, "an HNSW graph of {d} nodes does not fit a vector file of {d} records", .{ node_count, view.count });
        }
        sources.graph = entry.graph.layers();
        if (entry.scratch_busy.cmpxchgStrong(false, true, .acquire, .monotonic) == null) {
            borrowed = entry;
            if (entry.scratch == null) {
                entry.scratch = hnsw.Scratch.init(allocator, node_count, indexed.candidates_max) catch {
                    return fail(.out_of_memory, "out of memory allocating a graph search");
                };
            }
            sources.scratch = &entry.scratch.?;
        } else {
            // Another thread is searching this graph: use working memory of its own.
            own_scratch = hnsw.Scratch.init(allocator, node_count, indexed.candidates_max) catch {
                return fail(.out_of_memory, "out of memory allocating a graph search");
            };
            sources.scratch = &own_scratch.?;
        }
    }
    const slots_total = @as(usize, nq) * k;
    const request: indexed.Request = .{
        .metric = @enumFromInt(metric),
        .queries = queries.?[0 .. @as(usize, nq) * view.dim],
        .k = k,
        .ef = ef,
        .exact = flags & search_flag_exact != 0,
        .rescore = flags & search_flag_rescore != 0,
        .oversampling = oversampling,
        .allow = if (allow) |bits| bits[0..@intCast(allow_len_bytes)] else null,
    };
    indexed.search(allocator, sources, request, .{
        .offsets = out_offsets.?[0..slots_total],
        .scores = out_scores.?[0..slots_total],
        .counts = out_counts.?[0..nq],
    }) catch return fail(.out_of_memory, "out of memory searching");
    return @intFromEnum(Status.ok);
}

test "the tables hold 4096 vector files and 1024 locks and never hand out a closed handle again" {
    var placeholder: Storage = undefined;
    var handles: [storage_slot_count]u64 = undefined;
    for (&handles) |*handle| handle.* = storages.insert(&placeholder).?;
    try std.testing.expectEqual(@as(?u64, null), storages.insert(&placeholder));
    for (handles) |handle| try std.testing.expectEqual(@as(?*Storage, &placeholder), storages.remove(handle));
    for (handles) |handle| try std.testing.expectEqual(@as(?*Storage, null), storages.remove(handle));
    const again = storages.insert(&placeholder).?;
    defer _ = storages.remove(again);
    for (handles) |handle| {
        try std.testing.expect(handle != again);
        try std.testing.expect(handle != 0);
        if (@as(u32, @truncate(handle)) == @as(u32, @truncate(again))) try std.testing.expect(again >> 32 == (handle >> 32) + 1);
    }

    // A lock placeholder is never released: only the table is exercised.
    const lock_placeholder: Lock = .{ .fd = 0, .mode = .shared };
    var lock_handles: [lock_slot_count]u64 = undefined;
    for (&lock_handles) |*handle| handle.* = locks.insert(lock_placeholder).?;
    try std.testing.expectEqual(@as(?u64, null), locks.insert(lock_placeholder));
    try std.testing.expectEqual(@as(?Lock, null), locks.remove(again));
    try std.testing.expectEqual(@as(?*Storage, null), storages.remove(lock_handles[0]));
    for (lock_handles) |handle| try std.testing.expect(locks.remove(handle) != null);
}

test {
    _ = @import("types.zig");
    _ = @import("diagnostic.zig");
    _ = @import("sync.zig");
    _ = @import("cpu.zig");
    _ = @import("convert.zig");
    _ = @import("distance/distance.zig");
    _ = @import("handle_table.zig");
    _ = @import("storage/storage.zig");
    _ = @import("storage/lock.zig");
    _ = @import("flat/search.zig");
    _ = @import("checksum/crc32c.zig");
    _ = @import("hnsw/hnsw.zig");
    _ = @import("quant/quant.zig");
    _ = @import("search/indexed.zig");
    _ = @import("exports_test.zig");
}
