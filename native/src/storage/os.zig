//! The Linux system calls a vector file needs, made directly (no libc). Each failure sets a message that
//! names the file, the operation and the errno, and maps to the error a caller can branch on.

const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const Diagnostic = @import("../diagnostic.zig").Diagnostic;

pub const Error = error{ Io, Exists, NotFound, InvalidArgument };
pub const fd_t = linux.fd_t;
pub const cwd: fd_t = linux.AT.FDCWD;
pub const page_size_min = std.heap.page_size_min;
pub const Mapping = []align(page_size_min) u8;

pub const OpenMode = enum {
    /// Create a new file; fail with Exists if one is there.
    create,
    /// Open the file, creating it when missing (lock files).
    open_or_create,
    read_write,
    read_only,
};

pub fn open(dir: fd_t, path: [:0]const u8, mode: OpenMode, diagnostic: *Diagnostic) Error!fd_t {
    const flags: linux.O = switch (mode) {
        .create => .{ .ACCMODE = .RDWR, .CREAT = true, .EXCL = true, .CLOEXEC = true },
        .open_or_create => .{ .ACCMODE = .RDWR, .CREAT = true, .CLOEXEC = true },
        .read_write => .{ .ACCMODE = .RDWR, .CLOEXEC = true },
        .read_only => .{ .ACCMODE = .RDONLY, .CLOEXEC = true },
    };
    const rc = linux.openat(dir, path.ptr, flags, 0o644);
    switch (linux.errno(rc)) {
        .SUCCESS => return @intCast(rc),
        .EXIST => {
            assert(mode == .create);
            diagnostic.set("{s} already exists", .{path});
            return error.Exists;
        },
        .NOENT => switch (mode) {
            .read_write, .read_only => {
                diagnostic.set("{s} does not exist", .{path});
                return error.NotFound;
            },
            .open_or_create => {
                diagnostic.set("cannot create {s}: its directory does not exist", .{path});
                return error.NotFound;
            },
            .create => {},
        },
        else => {},
    }
    return fail(diagnostic, path, "open", linux.errno(rc));
}

pub fn close(fd: fd_t) void {
    // Linux releases the descriptor even when close reports an error; there is nothing to retry.
    _ = linux.close(fd);
}

pub fn unlink(dir: fd_t, path: [:0]const u8) void {
    _ = linux.unlinkat(dir, path.ptr, 0);
}

/// Size of a regular file; anything else (a directory, a device) is refused.
pub fn sizeBytes(fd: fd_t, path: []const u8, diagnostic: *Diagnostic) Error!u64 {
    var status: linux.Statx = undefined;
    const rc = linux.statx(fd, "", linux.AT.EMPTY_PATH, .{ .TYPE = true, .SIZE = true }, &status);
    if (linux.errno(rc) != .SUCCESS) return fail(diagnostic, path, "stat", linux.errno(rc));
    if (!linux.S.ISREG(status.mode)) {
        diagnostic.set("{s} is not a regular file", .{path});
        return error.InvalidArgument;
    }
    return status.size;
}

/// Reads exactly `buffer.len` bytes at `offset` (the caller has checked the file is long enough).
pub fn readAt(fd: fd_t, buffer: []u8, offset: u64, path: []const u8, diagnostic: *Diagnostic) Error!void {
    return transferAt(.read, fd, buffer, offset, path, diagnostic);
}

/// Writes all of `bytes` at `offset`.
pub fn writeAt(fd: fd_t, bytes: []const u8, offset: u64, path: []const u8, diagnostic: *Diagnostic) Error!void {
    return transferAt(.write, fd, bytes, offset, path, diagnostic);
}

const Transfer = enum { read, write };

/// pread or pwrite of all of `bytes` at `offset`, resumed after short transfers and interruptions.
fn transferAt(
    comptime transfer: Transfer,
    fd: fd_t,
    bytes: if (transfer == .read) []u8 else []const u8,
    offset: u64,
    path: []const u8,
    diagnostic: *Diagnostic,
) Error!void {
    var done: usize = 0;
    // Each iteration moves at least one byte or fails, so the loop runs at most bytes.len times.
    for (0..bytes.len + 1) |_| {
        if (done == bytes.len) return;
        const rc = switch (transfer) {
            .read => linux.pread(fd, bytes[done..].ptr, bytes.len - done, @intCast(offset + done)),
            .write => linux.pwrite(fd, bytes[done..].ptr, bytes.len - done, @intCast(offset + done)),
        };
        switch (linux.errno(rc)) {
            .SUCCESS => {},
            .INTR => continue,
            else => |errno| return fail(diagnostic, path, @tagName(transfer), errno),
        }
        if (rc == 0) {
            switch (transfer) {
                .read => diagnostic.set("{s} ended after {d} bytes while reading {d} bytes at {d}", .{
                    path, offset + done, bytes.len, offset,
                }),
                .write => diagnostic.set("{s} took no byte of {d} written at {d}", .{ path, bytes.len, offset }),
            }
            return error.Io;
        }
        done += rc;
    }
    unreachable;
}

pub fn truncate(fd: fd_t, size_bytes: u64, path: []const u8, diagnostic: *Diagnostic) Error!void {
    const rc = linux.ftruncate(fd, @intCast(size_bytes));
    if (linux.errno(rc) != .SUCCESS) return fail(diagnostic, path, "resize", linux.errno(rc));
}

pub fn map(fd: fd_t, size_bytes: u64, writable: bool, path: []const u8, diagnostic: *Diagnostic) Error!Mapping {
    assert(size_bytes > 0);
    const protection: linux.PROT = .{ .READ = true, .WRITE = writable };
    const rc = linux.mmap(null, @intCast(size_bytes), protection, .{ .TYPE = .SHARED }, fd, 0);
    if (linux.errno(rc) != .SUCCESS) return fail(diagnostic, path, "map", linux.errno(rc));
    const base: [*]align(page_size_min) u8 = @ptrFromInt(rc);
    return base[0..@intCast(size_bytes)];
}

pub fn remap(mapping: Mapping, size_bytes: u64, path: []const u8, diagnostic: *Diagnostic) Error!Mapping {
    assert(size_bytes > mapping.len);
    const rc = linux.mremap(mapping.ptr, mapping.len, @intCast(size_bytes), .{ .MAYMOVE = true }, null);
    if (linux.errno(rc) != .SUCCESS) return fail(diagnostic, path, "remap", linux.errno(rc));
    const base: [*]align(page_size_min) u8 = @ptrFromInt(rc);
    return base[0..@intCast(size_bytes)];
}

pub fn unmap(mapping: Mapping) void {
    const rc = linux.munmap(mapping.ptr, mapping.len);
    assert(linux.errno(rc) == .SUCCESS); // A mapping this module made is always valid to unmap.
}

/// Writes dirty mapped pages back and waits (msync MS_SYNC).
pub fn syncMapping(mapping: Mapping, path: []const u8, diagnostic: *Diagnostic) Error!void {
    const rc = linux.msync(mapping.ptr, mapping.len, linux.MSF.SYNC);
    if (linux.errno(rc) != .SUCCESS) return fail(diagnostic, path, "sync the mapping of", linux.errno(rc));
}

pub fn syncFile(fd: fd_t, path: []const u8, diagnostic: *Diagnostic) Error!void {
    const rc = linux.fsync(fd);
    if (linux.errno(rc) != .SUCCESS) return fail(diagnostic, path, "fsync", linux.errno(rc));
}

fn fail(diagnostic: *Diagnostic, path: []const u8, comptime operation: []const u8, errno: linux.E) Error {
    assert(errno != .SUCCESS);
    diagnostic.set("cannot " ++ operation ++ " {s}: {s} (errno {d})", .{
        path, std.enums.tagName(linux.E, errno) orelse "unknown error", @intFromEnum(errno),
    });
    return error.Io;
}
