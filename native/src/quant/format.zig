//! The 64-byte header of a quantized vector file (`FORMAT.md`, "Quantized vector file"). Sealed by the
//! builder and checked on open: every field the writer sets is verified by the reader, in an order that
//! gives the most useful message first.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;
const types = @import("../types.zig");
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const identity = @import("../storage/identity.zig");
const crc32c = @import("../checksum/crc32c.zig");
const quantizer_module = @import("quantizer.zig");

const Quantizer = quantizer_module.Quantizer;
const Kind = quantizer_module.Kind;

pub const magic = "XEDGEQNT".*;
pub const format_version: u32 = 1;
pub const size_bytes: u32 = 64;
/// Records start here: the header rounded up to a cache line.
pub const records_offset_bytes: u32 = 64;

/// Little-endian on disk; both supported targets are little-endian, so the struct is the byte layout.
pub const Header = extern struct {
    magic: [8]u8,
    format_version: u32,
    header_size_bytes: u32,
    kind: u32,
    metric: u32,
    datatype: u32,
    dim: u32,
    record_size_bytes: u32,
    records_offset_bytes: u32,
    count: u64,
    alpha: f32,
    min: f32,
    /// CRC-32C of the `count * record_size_bytes` record bytes.
    body_crc32c: u32,
    /// CRC-32C of bytes 0..60.
    header_crc32c: u32,

    pub fn init(parameters: Quantizer, count: u64, body_crc32c: u32) Header {
        parameters.assertValid();
        var header: Header = .{
            .magic = magic,
            .format_version = format_version,
            .header_size_bytes = size_bytes,
            .kind = @intFromEnum(parameters.kind),
            .metric = @intFromEnum(parameters.metric),
            .datatype = @intFromEnum(parameters.datatype),
            .dim = parameters.dim,
            .record_size_bytes = parameters.recordSizeBytes(),
            .records_offset_bytes = records_offset_bytes,
            .count = count,
            .alpha = parameters.alpha,
            .min = parameters.min,
            .body_crc32c = body_crc32c,
            .header_crc32c = 0,
        };
        header.header_crc32c = header.crcCompute();
        return header;
    }

    pub fn crcCompute(header: *const Header) u32 {
        const bytes: *const [size_bytes]u8 = @ptrCast(header);
        return crc32c.update(0, bytes[0..crc_covered_bytes]);
    }

    /// The quantizer the header describes; only valid after `check`.
    pub fn quantizer(header: Header) Quantizer {
        const result: Quantizer = .{
            .kind = @enumFromInt(header.kind),
            .metric = @enumFromInt(header.metric),
            .datatype = @enumFromInt(header.datatype),
            .dim = header.dim,
            .alpha = header.alpha,
            .min = header.min,
        };
        result.assertValid();
        return result;
    }
};

const crc_covered_bytes = @offsetOf(Header, "header_crc32c");

comptime {
    assert(builtin.cpu.arch.endian() == .little);
    assert(@sizeOf(Header) == size_bytes);
    assert(@offsetOf(Header, "format_version") == 8);
    assert(@offsetOf(Header, "header_size_bytes") == 12);
    assert(@offsetOf(Header, "kind") == 16);
    assert(@offsetOf(Header, "metric") == 20);
    assert(@offsetOf(Header, "datatype") == 24);
    assert(@offsetOf(Header, "dim") == 28);
    assert(@offsetOf(Header, "record_size_bytes") == 32);
    assert(@offsetOf(Header, "records_offset_bytes") == 36);
    assert(@offsetOf(Header, "count") == 40);
    assert(@offsetOf(Header, "alpha") == 48);
    assert(@offsetOf(Header, "min") == 52);
    assert(@offsetOf(Header, "body_crc32c") == 56);
    assert(crc_covered_bytes == 60);
    assert(records_offset_bytes >= size_bytes);
    assert(records_offset_bytes % 64 == 0);
}

/// Checks everything the header alone can tell, then that the file is exactly as long as its records
/// need. The body CRC is checked by the caller, which holds the records. Every failure is `Corrupt`.
pub fn check(
    bytes: *const [size_bytes]u8,
    path: []const u8,
    file_size_bytes: u64,
    diagnostic: *Diagnostic,
) error{Corrupt}!Header {
    const header = std.mem.bytesToValue(Header, bytes);
    const kind: identity.Kind = .{ .article = "a", .name = "quantized vector file" };
    try identity.check(header, &magic, format_version, kind, path, diagnostic);
    try checkCodes(header, path, diagnostic);
    try checkParameters(header, path, diagnostic);
    try checkSize(header, path, file_size_bytes, diagnostic);
    return header;
}

fn checkCodes(header: Header, path: []const u8, diagnostic: *Diagnostic) error{Corrupt}!void {
    if (header.header_size_bytes != size_bytes or header.records_offset_bytes != records_offset_bytes) {
        diagnostic.set("{s} has a {d}-byte header with records at byte {d}, expected {d} and {d}", .{
            path, header.header_size_bytes, header.records_offset_bytes, size_bytes, records_offset_bytes,
        });
        return error.Corrupt;
    }
    if (!Kind.isValid(header.kind)) {
        diagnostic.set("{s} has unknown quantization kind {d}, expected 1 (int8) or 2 (binary)", .{ path, header.kind });
        return error.Corrupt;
    }
    if (!types.Metric.isValid(header.metric)) {
        diagnostic.set("{s} has unknown metric code {d}, expected 0 to 3", .{ path, header.metric });
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
}

fn checkParameters(header: Header, path: []const u8, diagnostic: *Diagnostic) error{Corrupt}!void {
    const kind: Kind = @enumFromInt(header.kind);
    const parameters_valid = switch (kind) {
        .int8 => std.math.isFinite(header.alpha) and header.alpha > 0 and std.math.isFinite(header.min),
        .binary => header.alpha == 0 and header.min == 0,
    };
    if (!parameters_valid) {
        const expected_text = if (kind == .int8) "a finite alpha > 0 and a finite min" else "0 and 0";
        diagnostic.set("{s} has {s} parameters alpha {d} and min {d}, expected {s}", .{
            path, @tagName(kind), header.alpha, header.min, expected_text,
        });
        return error.Corrupt;
    }
    const expected: Quantizer = .{
        .kind = kind,
        .metric = @enumFromInt(header.metric),
        .datatype = @enumFromInt(header.datatype),
        .dim = header.dim,
        .alpha = header.alpha,
        .min = header.min,
    };
    const record_size = expected.recordSizeBytes();
    if (header.record_size_bytes != record_size) {
        diagnostic.set("{s} has {d}-byte records, expected {d} for {s} codes of dimension {d}", .{
            path, header.record_size_bytes, record_size, @tagName(kind), header.dim,
        });
        return error.Corrupt;
    }
}

fn checkSize(header: Header, path: []const u8, file_size_bytes: u64, diagnostic: *Diagnostic) error{Corrupt}!void {
    const records_bytes = std.math.mul(u64, header.count, header.record_size_bytes) catch std.math.maxInt(u64);
    const size_expected = std.math.add(u64, records_offset_bytes, records_bytes) catch std.math.maxInt(u64);
    if (file_size_bytes != size_expected) {
        diagnostic.set("{s} is {d} bytes long, expected {d} for {d} records of {d} bytes", .{
            path, file_size_bytes, size_expected, header.count, header.record_size_bytes,
        });
        return error.Corrupt;
    }
}

/// Checks the CRC of the record bytes against the header's.
pub fn checkBody(header: Header, records: []const u8, path: []const u8, diagnostic: *Diagnostic) error{Corrupt}!void {
    assert(records.len == header.count * header.record_size_bytes);
    const crc = crc32c.update(0, records);
    if (crc != header.body_crc32c) {
        diagnostic.set("{s} has damaged records: stored CRC32C is 0x{x:0>8}, computed 0x{x:0>8}", .{
            path, header.body_crc32c, crc,
        });
        return error.Corrupt;
    }
}

test "a sealed header passes its own check" {
    const quantizer: Quantizer = .{ .kind = .int8, .metric = .euclid, .datatype = .f16, .dim = 5, .alpha = 0.5, .min = -2 };
    const header: Header = .init(quantizer, 3, 0x1234);
    const bytes = std.mem.toBytes(header);
    var diagnostic: Diagnostic = .{};
    const read = try check(&bytes, "x.qnt", 64 + 3 * 12, &diagnostic);
    try std.testing.expectEqual(@as(u64, 3), read.count);
    try std.testing.expectEqual(@as(u32, 12), read.record_size_bytes);
    try std.testing.expectEqual(quantizer, read.quantizer());
    try std.testing.expectError(error.Corrupt, check(&bytes, "x.qnt", 64 + 3 * 12 + 1, &diagnostic));
}
