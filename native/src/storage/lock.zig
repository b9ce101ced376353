//! A cross-process advisory lock on a file, taken with flock(2) without waiting.
//!
//! flock suits a shard directory because the kernel drops the lock when the last descriptor of the open
//! file goes away, which includes the death of the process: a crashed writer never leaves a stale lock
//! behind. Locks belong to the open file description, so two opens of the same file in one process
//! conflict with each other just as two processes do. The descriptor is close-on-exec, so a child that
//! execs another program does not inherit the lock.

const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const Diagnostic = @import("../diagnostic.zig").Diagnostic;
const os = @import("os.zig");
const path_bytes_max = @import("storage.zig").path_bytes_max;

pub const Error = error{ Locked, Io, NotFound, InvalidArgument };

pub const Mode = enum {
    /// One holder at a time, and no shared holder alongside it.
    exclusive,
    /// Any number of shared holders, and no exclusive holder alongside them.
    shared,

    fn operation(mode: Mode) i32 {
        const kind: i32 = switch (mode) {
            .exclusive => std.posix.LOCK.EX,
            .shared => std.posix.LOCK.SH,
        };
        return kind | std.posix.LOCK.NB;
    }
};

/// flock with LOCK_NB does not sleep, so an interrupted call is rare; a few retries bound the loop.
const interrupted_retries_max = 8;

pub const Lock = struct {
    fd: os.fd_t,
    mode: Mode,

    /// Opens the file at `path` (relative to `dir`), creating it with mode 0644 when missing, and locks it
    /// in `mode`. Fails with Locked, without waiting, when another open file holds a conflicting lock.
    pub fn acquire(dir: os.fd_t, path: []const u8, mode: Mode, diagnostic: *Diagnostic) Error!Lock {
        var path_buffer: [path_bytes_max + 1]u8 = undefined;
        const path_z = try terminate(&path_buffer, path, diagnostic);
        const fd = try openFile(dir, path_z, mode, diagnostic);
        errdefer os.close(fd);
        try flock(fd, mode, path, diagnostic);
        const lock: Lock = .{ .fd = fd, .mode = mode };
        assert(lock.fd >= 0);
        return lock;
    }

    /// Unlocks and closes the file. Unlocking first releases the lock at once even if a forked child
    /// still shares the open file between its fork and its exec.
    pub fn release(lock: Lock) void {
        assert(lock.fd >= 0);
        const rc = linux.flock(lock.fd, std.posix.LOCK.UN);
        assert(linux.errno(rc) == .SUCCESS); // Unlocking a descriptor this module locked cannot fail.
        os.close(lock.fd);
    }
};

fn terminate(buffer: *[path_bytes_max + 1]u8, path: []const u8, diagnostic: *Diagnostic) Error![:0]const u8 {
    if (path.len == 0 or path.len > path_bytes_max) {
        diagnostic.set("a lock file path must be 1 to {d} bytes long, got {d}", .{ path_bytes_max, path.len });
        return error.InvalidArgument;
    }
    if (std.mem.indexOfScalar(u8, path, 0) != null) {
        diagnostic.set("the lock file path {s} contains a NUL byte", .{path});
        return error.InvalidArgument;
    }
    @memcpy(buffer[0..path.len], path);
    buffer[path.len] = 0;
    return buffer[0..path.len :0];
}

/// A shared lock is also taken on a file that this process may not create or write (a read-only mount,
/// another user's directory): when opening for writing is refused, an existing file is opened read-only,
/// which flock accepts. The first failure is the one reported.
fn openFile(dir: os.fd_t, path: [:0]const u8, mode: Mode, diagnostic: *Diagnostic) Error!os.fd_t {
    return os.open(dir, path, .open_or_create, diagnostic) catch |err| switch (err) {
        error.Exists => unreachable, // Only `.create` opens exclusively.
        error.NotFound, error.InvalidArgument => |e| return e,
        error.Io => |e| {
            if (mode == .exclusive) return e;
            var ignored: Diagnostic = .{};
            return os.open(dir, path, .read_only, &ignored) catch e;
        },
    };
}

fn flock(fd: os.fd_t, mode: Mode, path: []const u8, diagnostic: *Diagnostic) Error!void {
    for (0..interrupted_retries_max) |_| {
        const rc = linux.flock(fd, mode.operation());
        switch (linux.errno(rc)) {
            .SUCCESS => return,
            .INTR => continue,
            .AGAIN => {
                const kind = switch (mode) {
                    .exclusive => "an exclusive",
                    .shared => "a shared",
                };
                diagnostic.set("cannot take {s} lock on {s}: another process, or another open of the file " ++
                    "in this process, holds a conflicting lock", .{ kind, path });
                return error.Locked;
            },
            else => |errno| return failErrno(diagnostic, path, errno),
        }
    }
    return failErrno(diagnostic, path, .INTR);
}

fn failErrno(diagnostic: *Diagnostic, path: []const u8, errno: linux.E) Error {
    assert(errno != .SUCCESS);
    diagnostic.set("cannot lock {s}: {s} (errno {d})", .{
        path, std.enums.tagName(linux.E, errno) orelse "unknown error", @intFromEnum(errno),
    });
    return error.Io;
}

test {
    _ = @import("lock_test.zig");
}
