//! Quantized files round trip through write and both ways of opening; hostile files give an error with
//! a message, never a crash; allocation failures leak nothing.

const std = @import("std");
const testing = std.testing;
const types = @import("../types.zig");
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const StorageView = @import("../storage/storage.zig").View;
const crc32c = @import("../checksum/crc32c.zig");
const quant = @import("quant.zig");

const Metric = types.Metric;
const dim = 37;
const count = 50;

fn testValues() [count * dim]f32 {
    var prng = std.Random.DefaultPrng.init(41);
    var values: [count * dim]f32 = undefined;
    for (&values) |*x| x.* = prng.random().floatNorm(f32);
    return values;
}

fn viewOf(values: []const f32) StorageView {
    return .{ .datatype = .f32, .dim = dim, .count = values.len / dim, .records = std.mem.sliceAsBytes(values) };
}

fn build(allocator: std.mem.Allocator, vectors: StorageView, kind: quant.Kind, metric: Metric) !quant.Builder {
    const quantizer = try quant.Quantizer.train(allocator, vectors, metric, kind, null);
    var builder = try quant.Builder.init(allocator, quantizer, vectors.count);
    errdefer builder.deinit();
    var start: u64 = 0;
    while (start < vectors.count) : (start += 16) builder.encodeRange(vectors, start, @min(vectors.count, start + 16));
    return builder;
}

/// Every record's estimated score against `query`.
fn scoresOf(view: quant.View, query: []const f32, out: []f32) !void {
    var offsets: [count]u32 = undefined;
    for (&offsets, 0..) |*offset, i| offset.* = @intCast(i);
    switch (view.quantizer.kind) {
        .int8 => {
            var scorer = try quant.Int8Scorer.init(testing.allocator, view, query);
            defer scorer.deinit(testing.allocator);
            scorer.scoreMany(&offsets, out);
        },
        .binary => {
            var scorer = try quant.BinaryScorer.init(testing.allocator, view, query);
            defer scorer.deinit(testing.allocator);
            scorer.scoreMany(&offsets, out);
        },
    }
}

fn open(dir: std.Io.Dir, name: []const u8, always_ram: bool, diagnostic: *Diagnostic) quant.Error!quant.Quantized {
    return quant.Quantized.open(testing.allocator, dir.handle, name, .{ .always_ram = always_ram }, diagnostic);
}

test "a written file opens mapped and resident with the builder's records and scores" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const values = testValues();
    const vectors = viewOf(&values);
    const query = values[3 * dim ..][0..dim];
    var diagnostic: Diagnostic = .{};
    for ([_]quant.Kind{ .int8, .binary }) |kind| {
        for ([_]Metric{ .cosine, .euclid, .manhattan }) |metric| {
            var builder = try build(testing.allocator, vectors, kind, metric);
            try builder.write(tmp.dir.handle, "round_trip.qnt", &diagnostic);
            var expected: [count]f32 = undefined;
            try scoresOf(builder.view(), query, &expected);
            var quantized_in_memory = builder.intoQuantized();
            defer quantized_in_memory.close();
            try testing.expect(quantized_in_memory.isResident());
            for ([_]bool{ false, true }) |always_ram| {
                var quantized = try open(tmp.dir, "round_trip.qnt", always_ram, &diagnostic);
                defer quantized.close();
                try testing.expectEqual(always_ram, quantized.isResident());
                const view = quantized.view();
                try testing.expectEqual(quantized_in_memory.view().quantizer, view.quantizer);
                try testing.expectEqual(@as(u64, count), view.count);
                try testing.expectEqualSlices(u8, quantized_in_memory.view().records, view.records);
                var got: [count]f32 = undefined;
                try scoresOf(view, query, &got);
                try testing.expectEqualSlices(f32, &expected, &got);
            }
            var again = try build(testing.allocator, vectors, kind, metric);
            defer again.deinit();
            try testing.expectError(error.Exists, again.write(tmp.dir.handle, "round_trip.qnt", &diagnostic));
            try tmp.dir.deleteFile(testing.io, "round_trip.qnt");
        }
    }
}

test "an empty vector set writes and opens" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var diagnostic: Diagnostic = .{};
    var builder = try build(testing.allocator, viewOf(&.{}), .int8, .dot);
    defer builder.deinit();
    try builder.write(tmp.dir.handle, "empty.qnt", &diagnostic);
    for ([_]bool{ false, true }) |always_ram| {
        var quantized = try open(tmp.dir, "empty.qnt", always_ram, &diagnostic);
        defer quantized.close();
        try testing.expectEqual(@as(u64, 0), quantized.view().count);
        var offsets: [3]u64 = undefined;
        var scores: [3]f32 = undefined;
        const query: [dim]f32 = @splat(1);
        const found = try quant.searchExact(testing.allocator, quantized.view(), &query, null, &offsets, &scores);
        try testing.expectEqual(@as(u32, 0), found);
    }
}

/// A valid int8 file, as bytes.
fn validFileBytes(dir: std.Io.Dir) ![]u8 {
    const values = testValues();
    var builder = try build(testing.allocator, viewOf(&values), .int8, .dot);
    defer builder.deinit();
    var diagnostic: Diagnostic = .{};
    try builder.write(dir.handle, "valid.qnt", &diagnostic);
    return dir.readFileAlloc(testing.io, "valid.qnt", testing.allocator, .unlimited);
}

fn expectCorrupt(dir: std.Io.Dir, bytes: []const u8, needle: []const u8) !void {
    try dir.writeFile(testing.io, .{ .sub_path = "hostile.qnt", .data = bytes });
    var diagnostic: Diagnostic = .{};
    for ([_]bool{ false, true }) |always_ram| {
        if (open(dir, "hostile.qnt", always_ram, &diagnostic)) |opened| {
            var quantized = opened;
            quantized.close();
            return error.TestUnexpectedSuccess;
        } else |err| {
            try testing.expectEqual(error.Corrupt, err);
            const message = diagnostic.message();
            if (std.mem.indexOf(u8, message, needle) == null or std.mem.indexOf(u8, message, "hostile.qnt") == null) {
                std.debug.print("message: {s}\n", .{message});
                return error.TestUnexpectedMessage;
            }
        }
    }
}

fn resealed(bytes: []u8) void {
    std.mem.writeInt(u32, bytes[60..64], crc32c.update(0, bytes[0..60]), .little);
}

test "hostile files give CORRUPT with a message naming the file, never a crash" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const valid = try validFileBytes(tmp.dir);
    defer testing.allocator.free(valid);
    const copy = try testing.allocator.dupe(u8, valid);
    defer testing.allocator.free(copy);
    const quantizer: quant.Quantizer = .{ .kind = .int8, .metric = .dot, .datatype = .f32, .dim = dim, .alpha = 1, .min = 0 };
    const record_size = quantizer.recordSizeBytes();
    try testing.expectEqual(@as(usize, 64 + count * record_size), valid.len);

    try expectCorrupt(tmp.dir, "", "0 bytes long");
    try expectCorrupt(tmp.dir, valid[0..30], "shorter than the 64-byte");
    try expectCorrupt(tmp.dir, valid[0 .. valid.len - 1], "bytes long, expected");
    try expectCorrupt(tmp.dir, valid[0..64], "bytes long, expected");

    const longer = try std.mem.concat(testing.allocator, u8, &.{ valid, "x" });
    defer testing.allocator.free(longer);
    try expectCorrupt(tmp.dir, longer, "bytes long, expected");

    @memcpy(copy, valid);
    copy[0] = 'Y';
    try expectCorrupt(tmp.dir, copy, "not a quantized vector file");

    @memcpy(copy[0..8], "XEDGEVEC"); // a vector file's magic
    try expectCorrupt(tmp.dir, copy, "not a quantized vector file");

    @memcpy(copy, valid);
    copy[8] = 2; // format version 2, CRC fixed so that the version check is what fails
    resealed(copy);
    try expectCorrupt(tmp.dir, copy, "format version 2, expected 1");

    @memcpy(copy, valid);
    copy[28] ^= 0x01; // dim changed without resealing
    try expectCorrupt(tmp.dir, copy, "damaged header");

    @memcpy(copy, valid);
    copy[64 + 5 * record_size + 3] ^= 0x10; // one code of record 5
    try expectCorrupt(tmp.dir, copy, "damaged records");

    @memcpy(copy, valid);
    std.mem.writeInt(u32, copy[16..20], 7, .little);
    resealed(copy);
    try expectCorrupt(tmp.dir, copy, "unknown quantization kind 7");

    @memcpy(copy, valid);
    std.mem.writeInt(u32, copy[20..24], 4, .little);
    resealed(copy);
    try expectCorrupt(tmp.dir, copy, "unknown metric code 4");

    @memcpy(copy, valid);
    std.mem.writeInt(u32, copy[32..36], record_size + 4, .little);
    resealed(copy);
    try expectCorrupt(tmp.dir, copy, "-byte records, expected");

    @memcpy(copy, valid);
    std.mem.writeInt(u32, copy[48..52], @bitCast(std.math.nan(f32)), .little);
    resealed(copy);
    try expectCorrupt(tmp.dir, copy, "int8 parameters");

    @memcpy(copy, valid);
    std.mem.writeInt(u64, copy[40..48], std.math.maxInt(u64) / 2, .little); // count far beyond the file
    resealed(copy);
    try expectCorrupt(tmp.dir, copy, "bytes long, expected");
}

test "every single-byte change to a file is refused" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    const valid = try validFileBytes(tmp.dir);
    defer testing.allocator.free(valid);
    const copy = try testing.allocator.dupe(u8, valid);
    defer testing.allocator.free(copy);
    var diagnostic: Diagnostic = .{};
    // Every header byte, and a stride through the records.
    var index: usize = 0;
    while (index < valid.len) : (index += if (index < 64) 1 else 7) {
        for ([_]u8{ 0x01, 0x80, 0xff }) |flip| {
            @memcpy(copy, valid);
            copy[index] ^= flip;
            try tmp.dir.writeFile(testing.io, .{ .sub_path = "flipped.qnt", .data = copy });
            if (open(tmp.dir, "flipped.qnt", index % 2 == 0, &diagnostic)) |opened| {
                var quantized = opened;
                quantized.close();
                return error.TestUnexpectedSuccess; // The CRCs cover every byte.
            } else |err| try testing.expectEqual(error.Corrupt, err);
        }
    }
}

test "open refuses a missing file, a directory and bad paths" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var diagnostic: Diagnostic = .{};
    try testing.expectError(error.NotFound, open(tmp.dir, "missing.qnt", false, &diagnostic));
    try testing.expect(std.mem.indexOf(u8, diagnostic.message(), "missing.qnt") != null);
    try tmp.dir.createDir(testing.io, "a_directory", .default_dir);
    try testing.expectError(error.InvalidArgument, open(tmp.dir, "a_directory", true, &diagnostic));
    try testing.expectError(error.InvalidArgument, open(tmp.dir, "", false, &diagnostic));
    try testing.expectError(error.InvalidArgument, open(tmp.dir, "a\x00b", false, &diagnostic));
    const values = testValues();
    var builder = try build(testing.allocator, viewOf(&values), .binary, .dot);
    defer builder.deinit();
    try testing.expectError(error.Io, builder.write(tmp.dir.handle, "no_dir/x.qnt", &diagnostic));
}

fn trainEncodeScan(allocator: std.mem.Allocator, kind: quant.Kind) !void {
    var values: [12 * 5]f32 = undefined;
    for (&values, 0..) |*x, i| x.* = @floatFromInt(@as(i32, @intCast(i % 11)) - 5);
    const vectors: StorageView = .{ .datatype = .f32, .dim = 5, .count = 12, .records = std.mem.sliceAsBytes(&values) };
    var builder = try build(allocator, vectors, kind, .cosine);
    defer builder.deinit();
    var offsets: [4]u64 = undefined;
    var scores: [4]f32 = undefined;
    _ = try quant.searchExact(allocator, builder.view(), values[0..5], null, &offsets, &scores);
    try quant.rescore(allocator, vectors, .cosine, values[0..5], &offsets, &scores);
}

fn openResident(allocator: std.mem.Allocator, dir: std.Io.Dir) !void {
    var diagnostic: Diagnostic = .{};
    var quantized = try quant.Quantized.open(allocator, dir.handle, "valid.qnt", .{ .always_ram = true }, &diagnostic);
    defer quantized.close();
    var scorer = try quant.Int8Scorer.init(allocator, quantized.view(), &testValues()[0..dim].*);
    defer scorer.deinit(allocator);
}

fn rescoreConverted(allocator: std.mem.Allocator) !void {
    const elements = [_]u8{ 1, 2, 3, 4, 5, 6 };
    const vectors: StorageView = .{ .datatype = .u8, .dim = 3, .count = 2, .records = &elements };
    var offsets = [_]u64{ 0, 1 };
    var scores: [2]f32 = undefined;
    try quant.rescore(allocator, vectors, .cosine, &.{ 1, 2, 3 }, &offsets, &scores);
}

test "train, encode, scan, rescore and a resident open release everything when an allocation fails" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    try testing.checkAllAllocationFailures(testing.allocator, trainEncodeScan, .{.int8});
    try testing.checkAllAllocationFailures(testing.allocator, trainEncodeScan, .{.binary});
    try testing.checkAllAllocationFailures(testing.allocator, rescoreConverted, .{});
    const valid = try validFileBytes(tmp.dir);
    testing.allocator.free(valid);
    try testing.checkAllAllocationFailures(testing.allocator, openResident, .{tmp.dir});
}
