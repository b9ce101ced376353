//! Vector file round trips, growth, reopening, and hostile files that must give an error, never a crash.

const std = @import("std");
const testing = std.testing;
const types = @import("../types.zig");
const convert = @import("../convert.zig");
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const header = @import("header.zig");
const checksum = @import("checksum.zig");
const storage_module = @import("storage.zig");

const Storage = storage_module.Storage;
const Datatype = types.Datatype;

fn randomValues(random: std.Random, out: []f32) void {
    for (out) |*x| x.* = random.float(f32) * 600 - 300;
}

/// What `get` must return after `put(values)`: each value converted to the datatype and back.
fn expectedAfterRoundTrip(comptime E: type, values: []const f32, out: []f32) void {
    for (values, out) |value, *expected| {
        var element: [1]E = undefined;
        var back: [1]f32 = undefined;
        convert.fromF32(E, &.{value}, &element);
        convert.toF32(E, &element, &back);
        expected.* = back[0];
    }
}

fn openIn(dir: std.Io.Dir, name: []const u8, datatype: Datatype, dim: u32, mode: storage_module.Mode, diagnostic: *Diagnostic) storage_module.Error!*Storage {
    return Storage.open(testing.allocator, dir.handle, name, .{ .datatype = datatype, .dim = dim, .mode = mode }, diagnostic);
}

fn checkRoundTrip(dir: std.Io.Dir, comptime datatype: Datatype) !void {
    const E = datatype.Elem();
    const dim = 37;
    const n = 50;
    var prng = std.Random.DefaultPrng.init(@intFromEnum(datatype) + 1);
    var values: [n * dim]f32 = undefined;
    randomValues(prng.random(), &values);
    var expected: [n * dim]f32 = undefined;
    expectedAfterRoundTrip(E, &values, &expected);
    var got: [n * dim]f32 = undefined;
    var diagnostic: Diagnostic = .{};
    const name = "round_trip_" ++ @tagName(datatype) ++ ".vec";

    const created = try openIn(dir, name, datatype, dim, .create, &diagnostic);
    try created.put(0, &values, &diagnostic);
    created.get(0, &got);
    try testing.expectEqualSlices(f32, &expected, &got);
    try created.flush(&diagnostic);
    created.close();

    const reopened = try openIn(dir, name, datatype, dim, .read_only, &diagnostic);
    defer reopened.close();
    try testing.expectEqual(@as(u64, n), reopened.count);
    @memset(&got, 0);
    reopened.get(0, &got);
    try testing.expectEqualSlices(f32, &expected, &got);
    try testing.expectError(error.InvalidArgument, reopened.put(0, values[0..dim], &diagnostic));
    try testing.expect(std.mem.indexOf(u8, diagnostic.message(), "read-only") != null);
    try reopened.flush(&diagnostic); // A no-op for a read-only file.
}

test "records round trip through put, get, close and a read-only reopen, for every datatype" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    inline for (comptime std.enums.values(Datatype)) |datatype| try checkRoundTrip(tmp.dir, datatype);
}

test "the file grows across many single-record puts and keeps every record" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const dim = 17;
    const n = 1000;
    var diagnostic: Diagnostic = .{};
    const storage = try openIn(tmp.dir, "grow.vec", .f32, dim, .create, &diagnostic);
    var record: [dim]f32 = undefined;
    for (0..n) |i| {
        for (&record, 0..) |*x, j| x.* = @floatFromInt(i * dim + j);
        try storage.put(i, &record, &diagnostic);
        try testing.expectEqual(@as(u64, i + 1), storage.count);
    }
    try testing.expect(storage.capacity >= n);
    try testing.expect(storage.capacity < 4 * n); // Geometric, not wasteful.
    // Overwriting in the middle keeps the count.
    @memset(&record, -1);
    try storage.put(500, &record, &diagnostic);
    try testing.expectEqual(@as(u64, n), storage.count);
    storage.close();

    const reopened = try openIn(tmp.dir, "grow.vec", .f32, dim, .read_write, &diagnostic);
    defer reopened.close();
    try testing.expectEqual(@as(u64, n), reopened.count);
    for (0..n) |i| {
        reopened.get(i, &record);
        const first: f32 = if (i == 500) -1 else @floatFromInt(i * dim);
        try testing.expectEqual(first, record[0]);
    }
    // A batch that crosses the capacity in one put.
    const batch = try testing.allocator.alloc(f32, 5000 * dim);
    defer testing.allocator.free(batch);
    @memset(batch, 2);
    try reopened.put(n, batch, &diagnostic);
    try testing.expectEqual(@as(u64, n + 5000), reopened.count);
    reopened.get(n + 4999, &record);
    try testing.expectEqual(@as(f32, 2), record[dim - 1]);
}

test "read baseline is the checksum of exactly the record bytes" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var diagnostic: Diagnostic = .{};
    const storage = try openIn(tmp.dir, "baseline.vec", .u8, 5, .create, &diagnostic);
    defer storage.close();
    try testing.expectEqual(@as(u64, 0), storage.readBaseline());
    try storage.put(0, &[_]f32{ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, &diagnostic);
    const bytes = [_]u8{ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    try testing.expectEqual(checksum.scalar(&bytes), storage.readBaseline());
}

test "create refuses an existing file and open refuses a missing one" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var diagnostic: Diagnostic = .{};
    const storage = try openIn(tmp.dir, "exists.vec", .f32, 4, .create, &diagnostic);
    storage.close();
    try testing.expectError(error.Exists, openIn(tmp.dir, "exists.vec", .f32, 4, .create, &diagnostic));
    try testing.expect(std.mem.indexOf(u8, diagnostic.message(), "exists.vec") != null);
    try testing.expectError(error.NotFound, openIn(tmp.dir, "missing.vec", .f32, 4, .read_write, &diagnostic));
    try testing.expectError(error.NotFound, openIn(tmp.dir, "missing.vec", .f32, 4, .read_only, &diagnostic));
    try testing.expectError(error.Io, openIn(tmp.dir, "no_dir/x.vec", .f32, 4, .create, &diagnostic));
    try tmp.dir.createDir(testing.io, "a_directory", .default_dir);
    try testing.expectError(error.InvalidArgument, openIn(tmp.dir, "a_directory", .f32, 4, .read_only, &diagnostic));
    try testing.expectError(error.Io, openIn(tmp.dir, "a_directory", .f32, 4, .read_write, &diagnostic));
    try testing.expectError(error.InvalidArgument, openIn(tmp.dir, "", .f32, 4, .read_write, &diagnostic));
    try testing.expectError(error.InvalidArgument, openIn(tmp.dir, "a\x00b", .f32, 4, .read_write, &diagnostic));
}

/// A valid file of 3 f32 records of dimension 4, as bytes.
fn validFileBytes(dir: std.Io.Dir) ![]u8 {
    var diagnostic: Diagnostic = .{};
    const storage = try openIn(dir, "valid.vec", .f32, 4, .create, &diagnostic);
    const ones: [12]f32 = @splat(1);
    try storage.put(0, &ones, &diagnostic);
    storage.close();
    return dir.readFileAlloc(testing.io, "valid.vec", testing.allocator, .unlimited);
}

fn expectOpenFails(dir: std.Io.Dir, bytes: []const u8, expected: storage_module.Error, needle: []const u8) !void {
    try dir.writeFile(testing.io, .{ .sub_path = "hostile.vec", .data = bytes });
    var diagnostic: Diagnostic = .{};
    inline for (.{ .read_write, .read_only }) |mode| {
        const result = openIn(dir, "hostile.vec", .f32, 4, mode, &diagnostic);
        if (result) |storage| {
            storage.close();
            return error.TestUnexpectedSuccess;
        } else |err| {
            try testing.expectEqual(expected, err);
            const message = diagnostic.message();
            if (std.mem.indexOf(u8, message, needle) == null or std.mem.indexOf(u8, message, "hostile.vec") == null) {
                std.debug.print("message: {s}\n", .{message});
                return error.TestUnexpectedMessage;
            }
        }
    }
}

fn resealed(bytes: []u8) void {
    const h = std.mem.bytesToValue(header.Header, bytes[0..header.size_bytes]);
    std.mem.writeInt(u32, bytes[60..64], h.crcCompute(), .little);
}

test "hostile files give CORRUPT or INVALID_ARGUMENT with a message, never a crash" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const valid = try validFileBytes(tmp.dir);
    defer testing.allocator.free(valid);
    const copy = try testing.allocator.dupe(u8, valid);
    defer testing.allocator.free(copy);

    try expectOpenFails(tmp.dir, "", error.Corrupt, "0 bytes long");
    try expectOpenFails(tmp.dir, valid[0..30], error.Corrupt, "shorter than the 64-byte");

    @memcpy(copy, valid);
    copy[0] = 'Y';
    try expectOpenFails(tmp.dir, copy, error.Corrupt, "not a vector file");

    @memcpy(copy, valid);
    copy[8] = 2; // format version 2, CRC fixed so that the version check is what fails
    resealed(copy);
    try expectOpenFails(tmp.dir, copy, error.Corrupt, "format version 2, expected 1");

    @memcpy(copy, valid);
    copy[20] ^= 0x01; // dim changed without resealing
    try expectOpenFails(tmp.dir, copy, error.Corrupt, "CRC32C");

    try expectOpenFails(tmp.dir, valid[0 .. valid.len - (valid.len - 64 - 3 * 16) - 1], error.Corrupt, "expected at least 112");

    @memcpy(copy, valid);
    std.mem.writeInt(u64, copy[32..40], 1 << 40, .little); // count beyond capacity
    resealed(copy);
    try expectOpenFails(tmp.dir, copy, error.Corrupt, "capacity");

    @memcpy(copy, valid);
    std.mem.writeInt(u64, copy[32..40], 1 << 20, .little); // count within capacity, beyond the file
    std.mem.writeInt(u64, copy[40..48], 1 << 21, .little);
    resealed(copy);
    try expectOpenFails(tmp.dir, copy, error.Corrupt, "bytes long, expected at least");

    @memcpy(copy, valid);
    std.mem.writeInt(u32, copy[24..28], 15, .little); // record size disagrees with dim
    resealed(copy);
    try expectOpenFails(tmp.dir, copy, error.Corrupt, "15-byte records");

    @memcpy(copy, valid);
    std.mem.writeInt(u32, copy[16..20], 9, .little); // unknown datatype
    resealed(copy);
    try expectOpenFails(tmp.dir, copy, error.Corrupt, "unknown datatype code 9");
}

test "a sound file opened with another dimension or datatype is INVALID_ARGUMENT" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const valid = try validFileBytes(tmp.dir);
    defer testing.allocator.free(valid);
    var diagnostic: Diagnostic = .{};
    try testing.expectError(error.InvalidArgument, openIn(tmp.dir, "valid.vec", .f32, 8, .read_only, &diagnostic));
    try testing.expect(std.mem.indexOf(u8, diagnostic.message(), "dimension 4, expected 8") != null);
    try testing.expectError(error.InvalidArgument, openIn(tmp.dir, "valid.vec", .f16, 4, .read_only, &diagnostic));
    try testing.expect(std.mem.indexOf(u8, diagnostic.message(), "holds f32 vectors, expected f16") != null);
}

test "every single-byte change to the header is refused or harmless" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const valid = try validFileBytes(tmp.dir);
    defer testing.allocator.free(valid);
    const copy = try testing.allocator.dupe(u8, valid);
    defer testing.allocator.free(copy);
    var diagnostic: Diagnostic = .{};
    for (0..header.size_bytes) |index| {
        for ([_]u8{ 0x01, 0x80, 0xff }) |flip| {
            @memcpy(copy, valid);
            copy[index] ^= flip;
            try tmp.dir.writeFile(testing.io, .{ .sub_path = "flipped.vec", .data = copy });
            const result = openIn(tmp.dir, "flipped.vec", .f32, 4, .read_only, &diagnostic);
            if (result) |storage| {
                storage.close();
                return error.TestUnexpectedSuccess; // The CRC covers every byte but itself...
            } else |err| switch (err) {
                error.Corrupt, error.InvalidArgument => {},
                else => return err,
            }
        }
    }
}

fn createOpenCycle(allocator: std.mem.Allocator, dir: std.Io.Dir) !void {
    var diagnostic: Diagnostic = .{};
    const options: storage_module.Options = .{ .datatype = .f16, .dim = 8, .mode = .create };
    const created = try Storage.open(allocator, dir.handle, "alloc.vec", options, &diagnostic);
    defer dir.deleteFile(testing.io, "alloc.vec") catch unreachable;
    const halves: [16]f32 = @splat(0.5);
    try created.put(0, &halves, &diagnostic);
    created.close();
    var reopen_options = options;
    reopen_options.mode = .read_write;
    const reopened = try Storage.open(allocator, dir.handle, "alloc.vec", reopen_options, &diagnostic);
    defer reopened.close();
    try testing.expectEqual(@as(u64, 2), reopened.count);
}

test "open and create release everything when an allocation fails" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    try testing.checkAllAllocationFailures(testing.allocator, createOpenCycle, .{tmp.dir});
    // No file may be left behind by a failed create.
    try testing.expectError(error.FileNotFound, tmp.dir.access(testing.io, "alloc.vec", .{}));
}
