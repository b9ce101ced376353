//! An opened quantized vector file (`FORMAT.md`, "Quantized vector file"): mapped read-only, or read
//! whole into an allocated buffer (`always_ram`), so that it stays resident even when the original
//! vectors are left on disk. Opening checks the header, the file size and the CRC of every record.

const std = @import("std");
const assert = std.debug.assert;
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const os = @import("../storage/os.zig");
const format = @import("format.zig");
const quantizer_module = @import("quantizer.zig");

const View = quantizer_module.View;
const Error = error{ InvalidArgument, Io, Corrupt, OutOfMemory, Exists, NotFound };

/// Longest path accepted, in bytes (Linux PATH_MAX without the terminating NUL).
pub const path_bytes_max = 4095;
/// Alignment of an owned file image: records start at byte 64, so they are cache-line aligned too.
pub const alignment: std.mem.Alignment = .@"64";

pub const Options = struct {
    /// Read the whole file into memory instead of mapping it.
    always_ram: bool = false,
};

pub const Quantized = struct {
    allocator: std.mem.Allocator,
    memory: Memory,
    header: format.Header,

    const Memory = union(enum) {
        mapped: os.Mapping,
        owned: []align(alignment.toByteUnits()) u8,
    };

    /// Opens the file at `path`, relative to directory `dir`, and checks all of it. A damaged file is
    /// `Corrupt`, with a message naming the file, what was expected and what was found.
    pub fn open(
        allocator: std.mem.Allocator,
        dir: os.fd_t,
        path: []const u8,
        options: Options,
        diagnostic: *Diagnostic,
    ) Error!Quantized {
        var path_buffer: [path_bytes_max + 1]u8 = undefined;
        const path_z = try terminated(path, &path_buffer, diagnostic);
        const fd = try os.open(dir, path_z, .read_only, diagnostic);
        defer os.close(fd); // A mapping outlives its descriptor.
        const size_bytes = try os.sizeBytes(fd, path, diagnostic);
        if (size_bytes < format.size_bytes) {
            diagnostic.set("{s} is {d} bytes long, shorter than the {d}-byte quantized vector file header", .{
                path, size_bytes, format.size_bytes,
            });
            return error.Corrupt;
        }
        const memory = try load(allocator, fd, size_bytes, options, path, diagnostic);
        errdefer release(allocator, memory);
        const bytes = bytesOf(memory);
        const header = try format.check(bytes[0..format.size_bytes], path, size_bytes, diagnostic);
        try format.checkBody(header, bytes[format.records_offset_bytes..], path, diagnostic);
        const quantized: Quantized = .{ .allocator = allocator, .memory = memory, .header = header };
        quantized.view().assertValid();
        return quantized;
    }

    /// Takes ownership of a complete file image in `owned` (allocated with `allocator`), whose header has
    /// been sealed by the builder.
    pub fn fromOwned(allocator: std.mem.Allocator, owned: []align(alignment.toByteUnits()) u8) Quantized {
        const header = std.mem.bytesToValue(format.Header, owned[0..format.size_bytes]);
        assert(header.crcCompute() == header.header_crc32c);
        const quantized: Quantized = .{ .allocator = allocator, .memory = .{ .owned = owned }, .header = header };
        quantized.view().assertValid();
        return quantized;
    }

    /// Unmaps or frees the records.
    pub fn close(quantized: *Quantized) void {
        release(quantized.allocator, quantized.memory);
        quantized.* = undefined;
    }

    /// The encoded records, valid until `close`.
    pub fn view(quantized: *const Quantized) View {
        const header = quantized.header;
        const bytes = bytesOf(quantized.memory);
        return .{
            .quantizer = header.quantizer(),
            .count = header.count,
            .records = bytes[format.records_offset_bytes..][0 .. header.count * header.record_size_bytes],
        };
    }

    /// Whether the records live in an allocated buffer rather than a mapping.
    pub fn isResident(quantized: *const Quantized) bool {
        return quantized.memory == .owned;
    }
};

fn load(
    allocator: std.mem.Allocator,
    fd: os.fd_t,
    size_bytes: u64,
    options: Options,
    path: []const u8,
    diagnostic: *Diagnostic,
) Error!Quantized.Memory {
    assert(size_bytes >= format.size_bytes);
    if (!options.always_ram) return .{ .mapped = try os.map(fd, size_bytes, false, path, diagnostic) };
    if (size_bytes > std.math.maxInt(usize)) return error.OutOfMemory;
    const owned = try allocator.alignedAlloc(u8, alignment, @intCast(size_bytes));
    errdefer allocator.free(owned);
    try os.readAt(fd, owned, 0, path, diagnostic);
    return .{ .owned = owned };
}

fn release(allocator: std.mem.Allocator, memory: Quantized.Memory) void {
    switch (memory) {
        .mapped => |mapping| os.unmap(mapping),
        .owned => |owned| allocator.free(owned),
    }
}

fn bytesOf(memory: Quantized.Memory) []align(alignment.toByteUnits()) const u8 {
    return switch (memory) {
        .mapped => |mapping| mapping,
        .owned => |owned| owned,
    };
}

/// `path` with a terminating NUL, in `buffer`, for the system calls.
pub fn terminated(
    path: []const u8,
    buffer: *[path_bytes_max + 1]u8,
    diagnostic: *Diagnostic,
) error{InvalidArgument}![:0]const u8 {
    if (path.len == 0 or path.len > path_bytes_max) {
        diagnostic.set("a quantized vector file path must be 1 to {d} bytes long, got {d}", .{
            path_bytes_max, path.len,
        });
        return error.InvalidArgument;
    }
    if (std.mem.indexOfScalar(u8, path, 0) != null) {
        diagnostic.set("the quantized vector file path {s} contains a NUL byte", .{path});
        return error.InvalidArgument;
    }
    @memcpy(buffer[0..path.len], path);
    buffer[path.len] = 0;
    return buffer[0..path.len :0];
}
