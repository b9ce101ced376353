//! flock semantics as a shard directory relies on them. Every `acquire` is a separate open file
//! description, so two acquires in this one test process conflict exactly as two processes would.

const std = @import("std");
const linux = std.os.linux;
const testing = std.testing;
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const lock_module = @import("lock.zig");

const Lock = lock_module.Lock;

fn acquire(dir: std.Io.Dir, name: []const u8, mode: lock_module.Mode, diagnostic: *Diagnostic) lock_module.Error!Lock {
    return Lock.acquire(dir.handle, name, mode, diagnostic);
}

test "a lock creates its file, is released, and can be taken again" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var diagnostic: Diagnostic = .{};
    const first = try acquire(tmp.dir, ".lock", .exclusive, &diagnostic);
    var status: linux.Statx = undefined;
    const rc = linux.statx(tmp.dir.handle, ".lock", 0, .{ .TYPE = true }, &status);
    try testing.expectEqual(linux.E.SUCCESS, linux.errno(rc));
    try testing.expect(linux.S.ISREG(status.mode));
    first.release();
    const second = try acquire(tmp.dir, ".lock", .exclusive, &diagnostic);
    second.release();
}

test "two exclusive locks conflict, even when both are taken in one process" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var diagnostic: Diagnostic = .{};
    const held = try acquire(tmp.dir, ".lock", .exclusive, &diagnostic);
    try testing.expectError(error.Locked, acquire(tmp.dir, ".lock", .exclusive, &diagnostic));
    try testing.expect(std.mem.indexOf(u8, diagnostic.message(), "cannot take an exclusive lock on .lock") != null);
    // A lock on another file of the same directory is independent.
    const other = try acquire(tmp.dir, "other.lock", .exclusive, &diagnostic);
    other.release();
    held.release();
    const after = try acquire(tmp.dir, ".lock", .exclusive, &diagnostic);
    after.release();
}

test "shared locks coexist, and exclude an exclusive lock in both orders" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var diagnostic: Diagnostic = .{};
    const reader_a = try acquire(tmp.dir, ".lock", .shared, &diagnostic);
    const reader_b = try acquire(tmp.dir, ".lock", .shared, &diagnostic);
    try testing.expectError(error.Locked, acquire(tmp.dir, ".lock", .exclusive, &diagnostic));
    reader_a.release();
    try testing.expectError(error.Locked, acquire(tmp.dir, ".lock", .exclusive, &diagnostic));
    reader_b.release();

    const writer = try acquire(tmp.dir, ".lock", .exclusive, &diagnostic);
    try testing.expectError(error.Locked, acquire(tmp.dir, ".lock", .shared, &diagnostic));
    try testing.expect(std.mem.indexOf(u8, diagnostic.message(), "cannot take a shared lock on .lock") != null);
    writer.release();
    const reader_c = try acquire(tmp.dir, ".lock", .shared, &diagnostic);
    reader_c.release();
}

test "bad paths are refused with a message" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var diagnostic: Diagnostic = .{};
    try testing.expectError(error.InvalidArgument, acquire(tmp.dir, "", .exclusive, &diagnostic));
    try testing.expectError(error.InvalidArgument, acquire(tmp.dir, "a\x00b", .shared, &diagnostic));
    try testing.expect(std.mem.indexOf(u8, diagnostic.message(), "NUL") != null);
    const too_long: [5000]u8 = @splat('x');
    try testing.expectError(error.InvalidArgument, acquire(tmp.dir, &too_long, .exclusive, &diagnostic));
    try testing.expectError(error.NotFound, acquire(tmp.dir, "missing/.lock", .exclusive, &diagnostic));
    try testing.expectEqualStrings("cannot create missing/.lock: its directory does not exist", diagnostic.message());
    try testing.expectError(error.NotFound, acquire(tmp.dir, "missing/.lock", .shared, &diagnostic));
    try tmp.dir.createDir(testing.io, "a_directory", .default_dir);
    try testing.expectError(error.Io, acquire(tmp.dir, "a_directory", .exclusive, &diagnostic));
    try testing.expect(std.mem.indexOf(u8, diagnostic.message(), "ISDIR") != null);
}

test "a shared lock is taken on a lock file this process may not write" {
    // Root writes any file regardless of its mode, so only another user reaches the read-only fallback.
    if (linux.geteuid() == 0) return error.SkipZigTest;
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var diagnostic: Diagnostic = .{};
    const created = try acquire(tmp.dir, ".lock", .shared, &diagnostic);
    created.release();
    try testing.expectEqual(linux.E.SUCCESS, linux.errno(linux.fchmodat(tmp.dir.handle, ".lock", 0o444)));
    try testing.expectError(error.Io, acquire(tmp.dir, ".lock", .exclusive, &diagnostic));
    try testing.expect(std.mem.indexOf(u8, diagnostic.message(), "ACCES") != null);
    const reader = try acquire(tmp.dir, ".lock", .shared, &diagnostic);
    reader.release();
}
