//! Encodes the records of a vector file into the image of a quantized vector file, in bounded steps:
//! `encodeRange` encodes consecutive chunks (so the caller can yield between them), `write` seals the
//! header and writes the file durably, and `intoQuantized` keeps the image in memory as an open file.

const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const StorageView = @import("../storage/storage.zig").View;
const os = @import("../storage/os.zig");
const crc32c = @import("../checksum/crc32c.zig");
const format = @import("format.zig");
const quantizer_module = @import("quantizer.zig");
const quantized_module = @import("quantized.zig");

const Quantizer = quantizer_module.Quantizer;
const View = quantizer_module.View;
const Quantized = quantized_module.Quantized;
const Error = error{ InvalidArgument, Io, Corrupt, OutOfMemory, Exists, NotFound };

pub const Builder = struct {
    allocator: std.mem.Allocator,
    quantizer: Quantizer,
    /// Records the file will hold.
    count: u64,
    /// Records `0..encoded` are encoded.
    encoded: u64,
    /// The whole file: the header (sealed by `write` and `intoQuantized`), then `count` records.
    image: []align(quantized_module.alignment.toByteUnits()) u8,

    /// Allocates the image of a file of `count` records.
    pub fn init(allocator: std.mem.Allocator, quantizer: Quantizer, count: u64) error{OutOfMemory}!Builder {
        quantizer.assertValid();
        const records_bytes = std.math.mul(u64, count, quantizer.recordSizeBytes()) catch return error.OutOfMemory;
        const size_bytes = std.math.add(u64, records_bytes, format.records_offset_bytes) catch return error.OutOfMemory;
        if (size_bytes > std.math.maxInt(usize)) return error.OutOfMemory;
        const image = try allocator.alignedAlloc(u8, quantized_module.alignment, @intCast(size_bytes));
        @memset(image[0..format.records_offset_bytes], 0);
        return .{ .allocator = allocator, .quantizer = quantizer, .count = count, .encoded = 0, .image = image };
    }

    pub fn deinit(builder: *Builder) void {
        builder.allocator.free(builder.image);
        builder.* = undefined;
    }

    /// Encodes records `start..end` of `vectors`. Chunks come in order: `start` is the number encoded
    /// so far. `vectors` may be a newer view of the same file (its mapping may have moved).
    pub fn encodeRange(builder: *Builder, vectors: StorageView, start: u64, end: u64) void {
        assert(start == builder.encoded);
        assert(start <= end);
        assert(end <= builder.count);
        assert(end <= vectors.count);
        const size = builder.quantizer.recordSizeBytes();
        const body = builder.recordBytes();
        for (start..end) |offset| {
            builder.quantizer.encodeRecord(vectors, offset, body[offset * size ..][0..size]);
        }
        builder.encoded = end;
    }

    pub fn isComplete(builder: *const Builder) bool {
        return builder.encoded == builder.count;
    }

    /// The records encoded so far.
    pub fn view(builder: *const Builder) View {
        const size = builder.quantizer.recordSizeBytes();
        const result: View = .{
            .quantizer = builder.quantizer,
            .count = builder.encoded,
            .records = builder.image[format.records_offset_bytes..][0 .. builder.encoded * size],
        };
        result.assertValid();
        return result;
    }

    /// Writes the complete file at `path` (relative to `dir`), which must not exist yet, and fsyncs it.
    /// On failure nothing is left behind. To replace a file, write a new name and rename it.
    pub fn write(builder: *Builder, dir: os.fd_t, path: []const u8, diagnostic: *Diagnostic) Error!void {
        assert(builder.isComplete());
        builder.seal();
        var path_buffer: [quantized_module.path_bytes_max + 1]u8 = undefined;
        const path_z = try quantized_module.terminated(path, &path_buffer, diagnostic);
        const fd = try os.open(dir, path_z, .create, diagnostic);
        writeAll(fd, builder.image, path, diagnostic) catch |err| {
            os.close(fd);
            os.unlink(dir, path_z); // Leave no partial file to fail the next write or open.
            return err;
        };
        os.close(fd);
    }

    /// Turns the complete image into an open, resident quantized file, without writing or re-reading
    /// it. The builder is consumed: do not `deinit` it.
    pub fn intoQuantized(builder: *Builder) Quantized {
        assert(builder.isComplete());
        builder.seal();
        const quantized = Quantized.fromOwned(builder.allocator, builder.image);
        builder.* = undefined;
        return quantized;
    }

    fn recordBytes(builder: *Builder) []u8 {
        return builder.image[format.records_offset_bytes..];
    }

    fn seal(builder: *Builder) void {
        const records = builder.recordBytes();
        assert(records.len == builder.count * builder.quantizer.recordSizeBytes());
        const header: format.Header = .init(builder.quantizer, builder.count, crc32c.update(0, records));
        builder.image[0..format.size_bytes].* = std.mem.toBytes(header);
    }
};

/// Writes all of `bytes` at the start of the file, then fsyncs it.
fn writeAll(fd: os.fd_t, bytes: []const u8, path: []const u8, diagnostic: *Diagnostic) Error!void {
    var done: usize = 0;
    // Each iteration writes at least one byte or fails, so the loop runs at most bytes.len + 1 times.
    for (0..bytes.len + 1) |_| {
        if (done == bytes.len) break;
        const rc = linux.pwrite(fd, bytes[done..].ptr, bytes.len - done, @intCast(done));
        switch (linux.errno(rc)) {
            .SUCCESS => {},
            .INTR => continue,
            else => |errno| {
                diagnostic.set("cannot write {s}: {s} (errno {d})", .{
                    path, std.enums.tagName(linux.E, errno) orelse "unknown error", @intFromEnum(errno),
                });
                return error.Io;
            },
        }
        if (rc == 0) {
            diagnostic.set("cannot write {s}: no progress after {d} of {d} bytes", .{ path, done, bytes.len });
            return error.Io;
        }
        done += rc;
    } else unreachable;
    try os.syncFile(fd, path, diagnostic);
}
