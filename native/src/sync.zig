//! A reader-writer lock on a Linux futex. The library runs inside Deno or Bun, which may call it from
//! several threads (non-blocking FFI calls, workers); std's `Io.RwLock` needs an `Io` instance that a
//! C ABI library does not have, so this small lock stands in.
//!
//! Waiting is the only unbounded loop in the library: each iteration is bounded by the critical
//! section of the thread that holds the lock, and every critical section in the library is bounded.

const std = @import("std");
const builtin = @import("builtin");
const linux = std.os.linux;
const assert = std.debug.assert;

comptime {
    assert(builtin.os.tag == .linux);
}

pub const RwLock = struct {
    state: std.atomic.Value(u32) = .init(0),

    const writer: u32 = 1 << 31;
    const waiting: u32 = 1 << 30;
    const readers_mask: u32 = waiting - 1;

    pub fn lockShared(lock: *RwLock) void {
        var state = lock.state.load(.monotonic);
        while (true) {
            if (state & writer == 0) {
                assert(state & readers_mask < readers_mask);
                state = lock.state.cmpxchgWeak(state, state + 1, .acquire, .monotonic) orelse return;
            } else {
                state = lock.wait(state);
            }
        }
    }

    pub fn unlockShared(lock: *RwLock) void {
        const state = lock.state.fetchSub(1, .release);
        assert(state & writer == 0);
        assert(state & readers_mask > 0);
        if (state & readers_mask == 1 and state & waiting != 0) lock.wakeAll();
    }

    pub fn lockExclusive(lock: *RwLock) void {
        var state = lock.state.load(.monotonic);
        while (true) {
            if (state & (writer | readers_mask) == 0) {
                state = lock.state.cmpxchgWeak(state, state | writer, .acquire, .monotonic) orelse return;
            } else {
                state = lock.wait(state);
            }
        }
    }

    pub fn unlockExclusive(lock: *RwLock) void {
        const state = lock.state.swap(0, .release);
        assert(state & writer != 0);
        assert(state & readers_mask == 0);
        if (state & waiting != 0) futexWakeAll(&lock.state.raw);
    }

    /// Marks the lock as waited on, sleeps until its state changes, and returns the new state.
    fn wait(lock: *RwLock, state: u32) u32 {
        if (state & waiting == 0) {
            if (lock.state.cmpxchgWeak(state, state | waiting, .monotonic, .monotonic)) |actual| {
                return actual;
            }
        }
        futexWait(&lock.state.raw, state | waiting);
        return lock.state.load(.monotonic);
    }

    fn wakeAll(lock: *RwLock) void {
        _ = lock.state.fetchAnd(~waiting, .monotonic);
        futexWakeAll(&lock.state.raw);
    }
};

fn futexWait(address: *const u32, expected: u32) void {
    const rc = linux.futex_4arg(address, .{ .cmd = .WAIT, .private = true }, expected, null);
    switch (linux.errno(rc)) {
        .SUCCESS, .AGAIN, .INTR => {},
        else => unreachable, // The address is valid and aligned, and no timeout is given.
    }
}

fn futexWakeAll(address: *const u32) void {
    const rc = linux.futex_3arg(address, .{ .cmd = .WAKE, .private = true }, std.math.maxInt(i32));
    assert(linux.errno(rc) == .SUCCESS);
}

test "a lock admits many readers or one writer" {
    var lock: RwLock = .{};
    lock.lockShared();
    lock.lockShared();
    try std.testing.expectEqual(@as(u32, 2), lock.state.load(.monotonic));
    lock.unlockShared();
    lock.unlockShared();
    lock.lockExclusive();
    try std.testing.expectEqual(RwLock.writer, lock.state.load(.monotonic));
    lock.unlockExclusive();
    try std.testing.expectEqual(@as(u32, 0), lock.state.load(.monotonic));
}

const Counter = struct {
    lock: RwLock = .{},
    value: u64 = 0,
    reads: u64 = 0,

    fn work(counter: *Counter, rounds: u32) void {
        for (0..rounds) |round| {
            if (round % 4 == 0) {
                counter.lock.lockShared();
                defer counter.lock.unlockShared();
                _ = @atomicRmw(u64, &counter.reads, .Add, 1, .monotonic);
            } else {
                counter.lock.lockExclusive();
                defer counter.lock.unlockExclusive();
                const before = counter.value;
                counter.value = before + 1;
            }
        }
    }
};

test "writers exclude each other across threads" {
    var counter: Counter = .{};
    const rounds: u32 = 20_000;
    var threads: [4]std.Thread = undefined;
    for (&threads) |*thread| thread.* = try std.Thread.spawn(.{}, Counter.work, .{ &counter, rounds });
    for (threads) |thread| thread.join();
    try std.testing.expectEqual(@as(u64, 4 * (rounds - rounds / 4)), counter.value);
    try std.testing.expectEqual(@as(u64, 4 * (rounds / 4)), counter.reads);
    try std.testing.expectEqual(@as(u32, 0), counter.lock.state.load(.monotonic));
}
