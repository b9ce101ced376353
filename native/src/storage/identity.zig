//! The first checks of every file header the library reads (vector files, quantized vector files, HNSW
//! graphs): the magic says what the file is, the format version that this library reads it, and the
//! header CRC-32C that the rest of the header can be trusted. Each header type has the fields `magic`
//! ([8]u8), `format_version` and `header_crc32c` (u32) and a `crcCompute()` method.

const std = @import("std");
const Diagnostic = @import("../diagnostic.zig").Diagnostic;

/// How messages name a kind of file: `"a"`, `"vector file"`.
pub const Kind = struct {
    article: []const u8,
    name: []const u8,
};

/// Checks magic, format version and header CRC, in that order, each failure `Corrupt` with a message that
/// names the file, what was expected and what was found.
pub fn check(
    header: anytype,
    magic: *const [8]u8,
    format_version: u32,
    kind: Kind,
    path: []const u8,
    diagnostic: *Diagnostic,
) error{Corrupt}!void {
    if (!std.mem.eql(u8, &header.magic, magic)) {
        diagnostic.set("{s} is not {s} {s}: magic is {x}, expected {x} (\"{s}\")", .{
            path, kind.article, kind.name, &header.magic, magic, magic,
        });
        return error.Corrupt;
    }
    if (header.format_version != format_version) {
        diagnostic.set("{s} has {s} format version {d}, expected {d}", .{
            path, kind.name, header.format_version, format_version,
        });
        return error.Corrupt;
    }
    const crc = header.crcCompute();
    if (crc != header.header_crc32c) {
        diagnostic.set("{s} has a damaged header: stored CRC32C is 0x{x:0>8}, computed 0x{x:0>8}", .{
            path, header.header_crc32c, crc,
        });
        return error.Corrupt;
    }
}
