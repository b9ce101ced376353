//! The 64-byte header of a vector file (`FORMAT.md`). Written by `seal` and checked by `check`: every
//! field the writer sets is verified by the reader, in an order that gives the most useful message first.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;
const types = @import("../types.zig");
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const identity = @import("identity.zig");

const Crc32c = std.hash.crc.@"CRC-32/ISCSI";

pub const magic = "XEDGEVEC".*;
pub const format_version: u32 = 1;
pub const size_bytes: u32 = 64;
/// Records start here: the header rounded up to a cache line, so that record loads are aligned.
pub const records_offset_bytes: u32 = 64;

/// Little-endian on disk; both supported targets are little-endian, so the struct is the byte layout.
pub const Header = extern struct {
    magic: [8]u8,
    format_version: u32,
    header_size_bytes: u32,
    datatype: u32,
    dim: u32,
    record_size_bytes: u32,
    records_offset_bytes: u32,
    count: u64,
    capacity: u64,
    reserved: [12]u8,
    /// CRC32C (Castagnoli) of bytes 0..60.
    header_crc32c: u32,

    pub fn init(datatype: types.Datatype, dim: u32, count: u64, capacity: u64) Header {
        assert(count <= capacity);
        var header: Header = .{
            .magic = magic,
            .format_version = format_version,
            .header_size_bytes = size_bytes,
            .datatype = @intFromEnum(datatype),
            .dim = dim,
            .record_size_bytes = types.recordSizeBytes(datatype, dim),
            .records_offset_bytes = records_offset_bytes,
            .count = count,
            .capacity = capacity,
            .reserved = @splat(0),
            .header_crc32c = 0,
        };
        header.header_crc32c = header.crcCompute();
        return header;
    }

    pub fn crcCompute(header: *const Header) u32 {
        const bytes: *const [size_bytes]u8 = @ptrCast(header);
        return Crc32c.hash(bytes[0..crc_covered_bytes]);
    }
};

const crc_covered_bytes = @offsetOf(Header, "header_crc32c");

comptime {
    assert(builtin.cpu.arch.endian() == .little);
    assert(@sizeOf(Header) == size_bytes);
    assert(@offsetOf(Header, "format_version") == 8);
    assert(@offsetOf(Header, "datatype") == 16);
    assert(@offsetOf(Header, "dim") == 20);
    assert(@offsetOf(Header, "record_size_bytes") == 24);
    assert(@offsetOf(Header, "records_offset_bytes") == 28);
    assert(@offsetOf(Header, "count") == 32);
    assert(@offsetOf(Header, "capacity") == 40);
    assert(@offsetOf(Header, "reserved") == 48);
    assert(crc_covered_bytes == 60);
    assert(records_offset_bytes >= size_bytes);
    assert(records_offset_bytes % 64 == 0);
}

pub const CheckError = error{ Corrupt, InvalidArgument };

/// What the opener asked for.
pub const Expected = struct {
    datatype: types.Datatype,
    dim: u32,
    path: []const u8,
    file_size_bytes: u64,
};

/// Validates a header read from a file. Structural damage is `Corrupt`; a sound header that disagrees
/// with the requested datatype or dimension is `InvalidArgument` (`ABI.md`).
pub fn check(bytes: *const [size_bytes]u8, expected: Expected, diagnostic: *Diagnostic) CheckError!Header {
    const header = std.mem.bytesToValue(Header, bytes);
    const path = expected.path;
    try identity.check(header, &magic, format_version, .{ .article = "a", .name = "vector file" }, path, diagnostic);
    try checkLayout(header, path, diagnostic);
    try checkRequest(header, expected, diagnostic);
    try checkSize(header, expected, diagnostic);
    return header;
}

fn checkLayout(header: Header, path: []const u8, diagnostic: *Diagnostic) CheckError!void {
    if (header.header_size_bytes != size_bytes or header.records_offset_bytes != records_offset_bytes) {
        diagnostic.set("{s} has a {d}-byte header with records at byte {d}, expected {d} and {d}", .{
            path, header.header_size_bytes, header.records_offset_bytes, size_bytes, records_offset_bytes,
        });
        return error.Corrupt;
    }
    if (!types.Datatype.isValid(header.datatype)) {
        diagnostic.set("{s} has unknown datatype code {d}, expected 0 (f32), 1 (f16) or 2 (u8)", .{
            path, header.datatype,
        });
        return error.Corrupt;
    }
    if (header.dim == 0 or header.dim > types.dim_max) {
        diagnostic.set("{s} has dimension {d}, expected 1 to {d}", .{ path, header.dim, types.dim_max });
        return error.Corrupt;
    }
    const datatype: types.Datatype = @enumFromInt(header.datatype);
    const record_size = types.recordSizeBytes(datatype, header.dim);
    if (header.record_size_bytes != record_size) {
        diagnostic.set("{s} has {d}-byte records, expected {d} for {d} {s} values", .{
            path, header.record_size_bytes, record_size, header.dim, @tagName(datatype),
        });
        return error.Corrupt;
    }
    if (header.count > header.capacity) {
        diagnostic.set("{s} counts {d} records but has capacity for {d}", .{
            path, header.count, header.capacity,
        });
        return error.Corrupt;
    }
}

fn checkRequest(header: Header, expected: Expected, diagnostic: *Diagnostic) CheckError!void {
    const datatype: types.Datatype = @enumFromInt(header.datatype);
    if (datatype != expected.datatype) {
        diagnostic.set("{s} holds {s} vectors, expected {s}", .{
            expected.path, @tagName(datatype), @tagName(expected.datatype),
        });
        return error.InvalidArgument;
    }
    if (header.dim != expected.dim) {
        diagnostic.set("{s} holds vectors of dimension {d}, expected {d}", .{
            expected.path, header.dim, expected.dim,
        });
        return error.InvalidArgument;
    }
}

fn checkSize(header: Header, expected: Expected, diagnostic: *Diagnostic) CheckError!void {
    const records_bytes = std.math.mul(u64, header.count, header.record_size_bytes) catch std.math.maxInt(u64);
    const size_needed = std.math.add(u64, records_offset_bytes, records_bytes) catch std.math.maxInt(u64);
    if (expected.file_size_bytes < size_needed) {
        diagnostic.set("{s} is {d} bytes long, expected at least {d} for {d} records of {d} bytes", .{
            expected.path, expected.file_size_bytes, size_needed, header.count, header.record_size_bytes,
        });
        return error.Corrupt;
    }
}

test "a sealed header passes its own check" {
    const header: Header = .init(.f16, 384, 3, 10);
    const bytes = std.mem.toBytes(header);
    var diagnostic: Diagnostic = .{};
    const expected: Expected = .{ .datatype = .f16, .dim = 384, .path = "x.vec", .file_size_bytes = 64 + 3 * 768 };
    const read = try check(&bytes, expected, &diagnostic);
    try std.testing.expectEqual(@as(u64, 3), read.count);
    try std.testing.expectEqual(@as(u32, 768), read.record_size_bytes);
}

test "the header CRC is CRC32C" {
    try std.testing.expectEqual(@as(u32, 0xe3069283), Crc32c.hash("123456789"));
}
