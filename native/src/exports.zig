//! The C ABI of libedge (`ABI.md`, version 1): the only file with exported functions.
//!
//! Handles index a fixed table of slots. A handle is `generation << 32 | (slot index + 1)`, so it is never
//! 0, and closing a slot bumps its generation so that a stale handle is refused with BAD_HANDLE. Each
//! slot has a reader-writer lock: reads and searches share it, put/flush/close take it alone (put may
//! move the mapping). Opening takes a separate lock only to pick a free slot.

const std = @import("std");
const assert = std.debug.assert;
const types = @import("types.zig");
const cpu = @import("cpu.zig");
const RwLock = @import("sync.zig").RwLock;
const Diagnostic = @import("diagnostic.zig").Diagnostic;
const distance = @import("distance/distance.zig");
const storage_module = @import("storage/storage.zig");
const os = @import("storage/os.zig");
const flat = @import("flat/search.zig");

const Storage = storage_module.Storage;

pub const abi_version: u32 = 1;

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
};

comptime {
    assert(@intFromEnum(Status.not_found) == 7);
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

fn statusOf(err: storage_module.Error) Status {
    return switch (err) {
        error.InvalidArgument => .invalid_argument,
        error.Io => .io,
        error.Corrupt => .corrupt,
        error.OutOfMemory => .out_of_memory,
        error.Exists => .exists,
        error.NotFound => .not_found,
    };
}

fn failStorage(err: storage_module.Error, diagnostic: *const Diagnostic) i32 {
    if (err == error.OutOfMemory) return fail(.out_of_memory, "out of memory");
    assert(diagnostic.len > 0);
    return fail(statusOf(err), diagnostic.message());
}

// ---- Handle table ----

const slot_count = 4096;

const Slot = struct {
    lock: RwLock = .{},
    generation: u32 = 0,
    storage: ?*Storage = null,
};

var slots: [slot_count]Slot = @splat(.{});
var insert_lock: RwLock = .{};
var insert_cursor: u32 = 0;

const Access = enum { shared, exclusive };

fn handleEncode(index: u32, generation: u32) u64 {
    assert(index < slot_count);
    return (@as(u64, generation) << 32) | (index + 1);
}

/// The slot of `handle`, locked for `access`, or null when the handle is unknown or closed.
fn acquire(handle: u64, comptime access: Access) ?*Slot {
    const index_plus_one: u32 = @truncate(handle);
    if (index_plus_one == 0 or index_plus_one > slot_count) return null;
    const slot = &slots[index_plus_one - 1];
    lock(slot, access);
    if (slot.storage == null or slot.generation != @as(u32, @intCast(handle >> 32))) {
        unlock(slot, access);
        return null;
    }
    return slot;
}

fn lock(slot: *Slot, comptime access: Access) void {
    switch (access) {
        .shared => slot.lock.lockShared(),
        .exclusive => slot.lock.lockExclusive(),
    }
}

fn unlock(slot: *Slot, comptime access: Access) void {
    switch (access) {
        .shared => slot.lock.unlockShared(),
        .exclusive => slot.lock.unlockExclusive(),
    }
}

/// Puts `storage` in a free slot and returns its handle, or null when all slots are taken.
fn insert(storage: *Storage) ?u64 {
    insert_lock.lockExclusive();
    defer insert_lock.unlockExclusive();
    for (0..slot_count) |step| {
        const index: u32 = @intCast((insert_cursor + step) % slot_count);
        const slot = &slots[index];
        slot.lock.lockExclusive();
        defer slot.lock.unlockExclusive();
        if (slot.storage != null) continue;
        slot.storage = storage;
        insert_cursor = (index + 1) % slot_count;
        return handleEncode(index, slot.generation);
    }
    return null;
}

/// Empties the slot of `handle` and returns what it held; later uses of the handle are BAD_HANDLE.
fn remove(handle: u64) ?*Storage {
    const slot = acquire(handle, .exclusive) orelse return null;
    defer unlock(slot, .exclusive);
    const storage = slot.storage.?;
    slot.storage = null;
    slot.generation +%= 1;
    return storage;
}

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
    const path_bytes: []const u8 = if (path_len == 0) "" else path.?[0..path_len];
    var diagnostic: Diagnostic = .{};
    const options: storage_module.Options = .{ .datatype = @enumFromInt(datatype), .dim = dim, .mode = mode };
    const storage = Storage.open(allocator, os.cwd, path_bytes, options, &diagnostic) catch |err| {
        return failStorage(err, &diagnostic);
    };
    const handle = insert(storage) orelse {
        storage.close();
        return failFormat(.out_of_memory, "cannot open {s}: all {d} vector file handles are in use", .{ path_bytes, slot_count });
    };
    assert(handle != 0);
    out_handle.?.* = handle;
    return @intFromEnum(Status.ok);
}

export fn edge_storage_close(handle: u64) i32 {
    const storage = remove(handle) orelse return failBadHandle(handle);
    storage.close();
    return @intFromEnum(Status.ok);
}

export fn edge_storage_count(handle: u64, out_count: ?*u64) i32 {
    const slot = acquire(handle, .shared) orelse return failBadHandle(handle);
    defer unlock(slot, .shared);
    out_count.?.* = slot.storage.?.count;
    return @intFromEnum(Status.ok);
}

export fn edge_storage_put(handle: u64, offset: u64, data: ?[*]const f32, n: u32) i32 {
    const slot = acquire(handle, .exclusive) orelse return failBadHandle(handle);
    defer unlock(slot, .exclusive);
    const storage = slot.storage.?;
    const values: []const f32 = if (n == 0) &.{} else data.?[0 .. @as(usize, n) * storage.dim];
    var diagnostic: Diagnostic = .{};
    storage.put(offset, values, &diagnostic) catch |err| return failStorage(err, &diagnostic);
    return @intFromEnum(Status.ok);
}

export fn edge_storage_get(handle: u64, offset: u64, n: u32, out: ?[*]f32) i32 {
    const slot = acquire(handle, .shared) orelse return failBadHandle(handle);
    defer unlock(slot, .shared);
    const storage = slot.storage.?;
    if (n == 0) return @intFromEnum(Status.ok);
    storage.get(offset, out.?[0 .. @as(usize, n) * storage.dim]);
    return @intFromEnum(Status.ok);
}

export fn edge_storage_flush(handle: u64) i32 {
    const slot = acquire(handle, .exclusive) orelse return failBadHandle(handle);
    defer unlock(slot, .exclusive);
    var diagnostic: Diagnostic = .{};
    slot.storage.?.flush(&diagnostic) catch |err| return failStorage(err, &diagnostic);
    return @intFromEnum(Status.ok);
}

export fn edge_storage_read_baseline(handle: u64, out_checksum: ?*u64) i32 {
    const slot = acquire(handle, .shared) orelse return failBadHandle(handle);
    defer unlock(slot, .shared);
    out_checksum.?.* = slot.storage.?.readBaseline();
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
    const slot = acquire(handle, .shared) orelse return failBadHandle(handle);
    defer unlock(slot, .shared);
    if (nq == 0) return @intFromEnum(Status.ok);
    const view = slot.storage.?.view();
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

test "the handle table holds 4096 entries and never hands out a closed handle again" {
    var placeholder: Storage = undefined;
    var handles: [slot_count]u64 = undefined;
    for (&handles) |*handle| handle.* = insert(&placeholder).?;
    try std.testing.expectEqual(@as(?u64, null), insert(&placeholder));
    for (handles) |handle| try std.testing.expectEqual(@as(?*Storage, &placeholder), remove(handle));
    for (handles) |handle| try std.testing.expectEqual(@as(?*Storage, null), remove(handle));
    const again = insert(&placeholder).?;
    defer _ = remove(again);
    for (handles) |handle| {
        try std.testing.expect(handle != again);
        try std.testing.expect(handle != 0);
        if (@as(u32, @truncate(handle)) == @as(u32, @truncate(again))) try std.testing.expect(again >> 32 == (handle >> 32) + 1);
    }
}

test {
    _ = @import("types.zig");
    _ = @import("diagnostic.zig");
    _ = @import("sync.zig");
    _ = @import("cpu.zig");
    _ = @import("convert.zig");
    _ = @import("distance/distance.zig");
    _ = @import("storage/storage.zig");
    _ = @import("flat/search.zig");
    _ = @import("exports_test.zig");
}
