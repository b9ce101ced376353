//! A memory-mapped vector file: a 64-byte header and fixed-size records (`FORMAT.md`).
//!
//! Records are addressed by offset. `put` converts f32 input to the stored datatype, grows the file
//! geometrically (ftruncate + mremap), writes the records with pwrite and rewrites the header in the
//! mapping, so a killed process loses nothing it was told was written; `flush` makes it durable against
//! power loss. A `Storage` is not synchronised: the C ABI layer (`exports.zig`) serialises writers
//! against readers.

const std = @import("std");
const assert = std.debug.assert;
const types = @import("../types.zig");
const convert = @import("../convert.zig");
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const header = @import("header.zig");
const os = @import("os.zig");
const checksum = @import("checksum.zig");

const Datatype = types.Datatype;

pub const Error = error{ InvalidArgument, Io, Corrupt, OutOfMemory, Exists, NotFound };

/// Longest path accepted, in bytes (Linux PATH_MAX without the terminating NUL).
pub const path_bytes_max = 4095;
/// A new file has room for at least this many record bytes before it first grows.
const capacity_initial_bytes = 4096;

pub const Mode = enum { create, read_write, read_only };

pub const Options = struct {
    datatype: Datatype,
    dim: u32,
    mode: Mode,
};

/// Read access to the records, for scans.
pub const View = struct {
    datatype: Datatype,
    dim: u32,
    count: u64,
    /// `count` records of `dim` elements, back to back.
    records: []const u8,
};

pub const Storage = struct {
    allocator: std.mem.Allocator,
    /// Owned copy, NUL-terminated for system calls and quoted in messages.
    path: [:0]const u8,
    fd: os.fd_t,
    writable: bool,
    mapping: os.Mapping,
    datatype: Datatype,
    dim: u32,
    record_size_bytes: u32,
    count: u64,
    /// Records the mapping has room for.
    capacity: u64,

    /// Creates (`options.mode == .create`) or opens the file at `path`, relative to directory `dir`.
    pub fn open(
        allocator: std.mem.Allocator,
        dir: os.fd_t,
        path: []const u8,
        options: Options,
        diagnostic: *Diagnostic,
    ) Error!*Storage {
        assert(options.dim > 0);
        assert(options.dim <= types.dim_max);
        try checkPath(path, diagnostic);
        const path_owned = try allocator.dupeSentinel(u8, path, 0);
        errdefer allocator.free(path_owned);
        const storage = try allocator.create(Storage);
        errdefer allocator.destroy(storage);
        storage.* = switch (options.mode) {
            .create => try create(allocator, dir, path_owned, options, diagnostic),
            .read_write, .read_only => try openExisting(allocator, dir, path_owned, options, diagnostic),
        };
        storage.assertInvariants();
        return storage;
    }

    /// Unmaps and closes the file and frees `storage`.
    pub fn close(storage: *Storage) void {
        storage.assertInvariants();
        if (storage.writable) storage.writeHeader();
        os.unmap(storage.mapping);
        os.close(storage.fd);
        const allocator = storage.allocator;
        allocator.free(storage.path);
        allocator.destroy(storage);
    }

    /// Writes `values.len / dim` records at `offset..`, where `offset <= count`.
    /// Values converted per write by `put` for datatypes other than f32.
    const put_chunk_elements = 16 * 1024;

    pub fn put(storage: *Storage, offset: u64, values: []const f32, diagnostic: *Diagnostic) Error!void {
        storage.assertInvariants();
        if (!storage.writable) {
            diagnostic.set("{s} is open read-only", .{storage.path});
            return error.InvalidArgument;
        }
        assert(values.len % storage.dim == 0);
        assert(offset <= storage.count);
        const end = offset + values.len / storage.dim;
        if (end > storage.capacity) try storage.grow(end, diagnostic);
        assert(end <= storage.capacity);
        // Through the descriptor, not the mapping: a store to a page of the mapping the file has just
        // grown into costs a page fault (a third of an upsert's time in a VM), and a store the disk has
        // no room for would be a SIGBUS instead of an error. The mapping sees the same page cache.
        const at = header.records_offset_bytes + offset * storage.record_size_bytes;
        switch (storage.datatype) {
            .f32 => try os.writeAt(storage.fd, std.mem.sliceAsBytes(values), at, storage.path, diagnostic),
            inline else => |datatype| {
                const E = datatype.Elem();
                var buffer: [put_chunk_elements]E = undefined;
                var done: usize = 0;
                while (done < values.len) {
                    const n = @min(buffer.len, values.len - done);
                    convert.fromF32(E, values[done..][0..n], buffer[0..n]);
                    try os.writeAt(storage.fd, std.mem.sliceAsBytes(buffer[0..n]), at + done * @sizeOf(E), storage.path, diagnostic);
                    done += n;
                }
            },
        }
        storage.count = @max(storage.count, end);
        storage.writeHeader();
        storage.assertInvariants();
    }

    /// Reads `out.len / dim` records from `offset..`, converted to f32; they must all exist.
    pub fn get(storage: *const Storage, offset: u64, out: []f32) void {
        storage.assertInvariants();
        assert(out.len % storage.dim == 0);
        assert(offset + out.len / storage.dim <= storage.count);
        switch (storage.datatype) {
            inline else => |datatype| {
                const stored = storage.elements(datatype.Elem());
                convert.toF32(datatype.Elem(), stored[offset * storage.dim ..][0..out.len], out);
            },
        }
    }

    /// msync the records, write the header, msync it, fsync the file. A no-op when read-only.
    pub fn flush(storage: *Storage, diagnostic: *Diagnostic) Error!void {
        storage.assertInvariants();
        if (!storage.writable) return;
        try os.syncMapping(storage.mapping, storage.path, diagnostic);
        storage.writeHeader();
        const header_page = storage.mapping[0..@min(storage.mapping.len, os.page_size_min)];
        try os.syncMapping(header_page, storage.path, diagnostic);
        try os.syncFile(storage.fd, storage.path, diagnostic);
    }

    /// Checksum over every record byte, read once with wide loads (the bandwidth baseline).
    pub fn readBaseline(storage: *const Storage) u64 {
        return checksum.vectorized(storage.view().records);
    }

    pub fn view(storage: *const Storage) View {
        storage.assertInvariants();
        const records_bytes = storage.count * storage.record_size_bytes;
        return .{
            .datatype = storage.datatype,
            .dim = storage.dim,
            .count = storage.count,
            .records = storage.mapping[header.records_offset_bytes..][0..records_bytes],
        };
    }

    fn elements(storage: *const Storage, comptime E: type) []E {
        assert(@sizeOf(E) == storage.datatype.sizeBytes());
        const region = storage.mapping[header.records_offset_bytes..];
        const base: [*]E = @ptrCast(@alignCast(region.ptr));
        return base[0 .. storage.capacity * storage.dim];
    }

    fn grow(storage: *Storage, capacity_needed: u64, diagnostic: *Diagnostic) Error!void {
        assert(capacity_needed > storage.capacity);
        const capacity_min = capacityInitial(storage.record_size_bytes);
        const capacity = @max(capacity_needed, storage.capacity *| 2, capacity_min);
        const size_bytes = try fileSizeBytes(capacity, storage.record_size_bytes, storage.path, diagnostic);
        assert(size_bytes > storage.mapping.len);
        try os.truncate(storage.fd, size_bytes, storage.path, diagnostic);
        storage.mapping = try os.remap(storage.mapping, size_bytes, storage.path, diagnostic);
        storage.capacity = capacity;
        storage.writeHeader();
    }

    fn writeHeader(storage: *Storage) void {
        assert(storage.writable);
        const sealed: header.Header = .init(storage.datatype, storage.dim, storage.count, storage.capacity);
        storage.mapping[0..header.size_bytes].* = std.mem.toBytes(sealed);
    }

    fn assertInvariants(storage: *const Storage) void {
        assert(storage.count <= storage.capacity);
        assert(storage.record_size_bytes == types.recordSizeBytes(storage.datatype, storage.dim));
        assert(header.records_offset_bytes + storage.capacity * storage.record_size_bytes <= storage.mapping.len);
        assert(@intFromPtr(storage.mapping.ptr) % os.page_size_min == 0);
    }
};

fn create(
    allocator: std.mem.Allocator,
    dir: os.fd_t,
    path: [:0]const u8,
    options: Options,
    diagnostic: *Diagnostic,
) Error!Storage {
    assert(options.mode == .create);
    const fd = try os.open(dir, path, .create, diagnostic);
    errdefer {
        os.close(fd);
        os.unlink(dir, path); // Leave no half-made file behind to fail the next create or open.
    }
    const record_size_bytes = types.recordSizeBytes(options.datatype, options.dim);
    const capacity = capacityInitial(record_size_bytes);
    const size_bytes = try fileSizeBytes(capacity, record_size_bytes, path, diagnostic);
    try os.truncate(fd, size_bytes, path, diagnostic);
    var storage: Storage = .{
        .allocator = allocator,
        .path = path,
        .fd = fd,
        .writable = true,
        .mapping = try os.map(fd, size_bytes, true, path, diagnostic),
        .datatype = options.datatype,
        .dim = options.dim,
        .record_size_bytes = record_size_bytes,
        .count = 0,
        .capacity = capacity,
    };
    storage.writeHeader();
    return storage;
}

fn openExisting(
    allocator: std.mem.Allocator,
    dir: os.fd_t,
    path: [:0]const u8,
    options: Options,
    diagnostic: *Diagnostic,
) Error!Storage {
    assert(options.mode != .create);
    const writable = options.mode == .read_write;
    const fd = try os.open(dir, path, if (writable) .read_write else .read_only, diagnostic);
    errdefer os.close(fd);
    const size_bytes = try os.sizeBytes(fd, path, diagnostic);
    if (size_bytes < header.size_bytes) {
        diagnostic.set("{s} is {d} bytes long, shorter than the {d}-byte vector file header", .{
            path, size_bytes, header.size_bytes,
        });
        return error.Corrupt;
    }
    var header_bytes: [header.size_bytes]u8 = undefined;
    try os.readAt(fd, &header_bytes, 0, path, diagnostic);
    const checked = try header.check(&header_bytes, .{
        .datatype = options.datatype,
        .dim = options.dim,
        .path = path,
        .file_size_bytes = size_bytes,
    }, diagnostic);
    const record_size_bytes = checked.record_size_bytes;
    // Capacity follows the file size: a crash between ftruncate and the header write leaves a larger file.
    const capacity = (size_bytes - header.records_offset_bytes) / record_size_bytes;
    assert(capacity >= checked.count);
    return .{
        .allocator = allocator,
        .path = path,
        .fd = fd,
        .writable = writable,
        .mapping = try os.map(fd, size_bytes, writable, path, diagnostic),
        .datatype = options.datatype,
        .dim = options.dim,
        .record_size_bytes = record_size_bytes,
        .count = checked.count,
        .capacity = capacity,
    };
}

fn checkPath(path: []const u8, diagnostic: *Diagnostic) Error!void {
    if (path.len == 0 or path.len > path_bytes_max) {
        diagnostic.set("a vector file path must be 1 to {d} bytes long, got {d}", .{ path_bytes_max, path.len });
        return error.InvalidArgument;
    }
    if (std.mem.indexOfScalar(u8, path, 0) != null) {
        diagnostic.set("the vector file path {s} contains a NUL byte", .{path});
        return error.InvalidArgument;
    }
}

fn capacityInitial(record_size_bytes: u32) u64 {
    assert(record_size_bytes > 0);
    return @max(1, capacity_initial_bytes / record_size_bytes);
}

fn fileSizeBytes(capacity: u64, record_size_bytes: u32, path: []const u8, diagnostic: *Diagnostic) Error!u64 {
    const records = std.math.mul(u64, capacity, record_size_bytes) catch return tooLarge(capacity, path, diagnostic);
    const total = std.math.add(u64, records, header.records_offset_bytes) catch return tooLarge(capacity, path, diagnostic);
    if (total > std.math.maxInt(i64)) return tooLarge(capacity, path, diagnostic);
    return total;
}

fn tooLarge(capacity: u64, path: []const u8, diagnostic: *Diagnostic) Error {
    diagnostic.set("{s} cannot hold {d} records: the file would exceed the largest file size", .{ path, capacity });
    return error.InvalidArgument;
}

test {
    _ = @import("header.zig");
    _ = @import("checksum.zig");
    _ = @import("storage_test.zig");
}
