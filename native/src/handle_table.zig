//! A fixed table of slots behind the opaque `u64` handles of the C ABI.
//!
//! A handle is `generation << 32 | (index_base + slot index + 1)`, so it is never 0, and removing a value
//! bumps its slot's generation so that a stale handle is refused. Each table owns a distinct range of
//! low words (`index_base + 1 ..= index_base + slot_count`), so a handle of one kind (a vector file) given
//! to a function of another kind (a lock) is refused too instead of reaching an unrelated object.
//!
//! Each slot has a reader-writer lock: callers that only read the value share it, callers that change or
//! remove it take it alone. Inserting takes a separate lock only to pick a free slot.

const std = @import("std");
const assert = std.debug.assert;
const RwLock = @import("sync.zig").RwLock;

pub const Access = enum { shared, exclusive };

pub fn HandleTable(comptime T: type, comptime slot_count: u32, comptime index_base: u32) type {
    comptime {
        assert(slot_count > 0);
        assert(@as(u64, index_base) + slot_count < std.math.maxInt(u32));
    }
    return struct {
        const Table = @This();

        pub const capacity = slot_count;

        pub const Slot = struct {
            lock: RwLock = .{},
            generation: u32 = 0,
            value: ?T = null,

            pub fn unlock(slot: *Slot, comptime access: Access) void {
                switch (access) {
                    .shared => slot.lock.unlockShared(),
                    .exclusive => slot.lock.unlockExclusive(),
                }
            }
        };

        slots: [slot_count]Slot = @splat(.{}),
        insert_lock: RwLock = .{},
        insert_cursor: u32 = 0,

        /// Puts `value` in a free slot and returns its handle, or null when all slots are taken.
        pub fn insert(table: *Table, value: T) ?u64 {
            table.insert_lock.lockExclusive();
            defer table.insert_lock.unlockExclusive();
            assert(table.insert_cursor < slot_count);
            for (0..slot_count) |step| {
                const index: u32 = @intCast((table.insert_cursor + step) % slot_count);
                const slot = &table.slots[index];
                slot.lock.lockExclusive();
                defer slot.lock.unlockExclusive();
                if (slot.value != null) continue;
                slot.value = value;
                table.insert_cursor = (index + 1) % slot_count;
                return handleEncode(index, slot.generation);
            }
            return null;
        }

        /// The slot of `handle`, locked for `access` (release with `Slot.unlock`), or null when the handle
        /// is not one of this table's live handles.
        pub fn acquire(table: *Table, handle: u64, comptime access: Access) ?*Slot {
            const low: u32 = @truncate(handle);
            if (low <= index_base or low > index_base + slot_count) return null;
            const slot = &table.slots[low - index_base - 1];
            switch (access) {
                .shared => slot.lock.lockShared(),
                .exclusive => slot.lock.lockExclusive(),
            }
            if (slot.value == null or slot.generation != @as(u32, @intCast(handle >> 32))) {
                slot.unlock(access);
                return null;
            }
            return slot;
        }

        /// Empties the slot of `handle` and returns what it held; later uses of the handle are refused.
        pub fn remove(table: *Table, handle: u64) ?T {
            const slot = table.acquire(handle, .exclusive) orelse return null;
            defer slot.unlock(.exclusive);
            const value = slot.value.?;
            slot.value = null;
            slot.generation +%= 1;
            return value;
        }

        fn handleEncode(index: u32, generation: u32) u64 {
            assert(index < slot_count);
            const handle = (@as(u64, generation) << 32) | (index_base + index + 1);
            assert(handle != 0);
            return handle;
        }
    };
}

const testing = std.testing;

test "a full table refuses an insert and never hands out a removed handle again" {
    const Table = HandleTable(u32, 64, 0);
    var table: Table = .{};
    var handles: [Table.capacity]u64 = undefined;
    for (&handles, 0..) |*handle, i| handle.* = table.insert(@intCast(i)).?;
    try testing.expectEqual(@as(?u64, null), table.insert(99));
    for (handles, 0..) |handle, i| try testing.expectEqual(@as(?u32, @intCast(i)), table.remove(handle));
    for (handles) |handle| try testing.expectEqual(@as(?u32, null), table.remove(handle));
    const again = table.insert(7).?;
    for (handles) |handle| {
        try testing.expect(handle != again);
        try testing.expect(handle != 0);
        if (@as(u32, @truncate(handle)) == @as(u32, @truncate(again))) try testing.expect(again >> 32 == (handle >> 32) + 1);
    }
    try testing.expectEqual(@as(?u32, 7), table.remove(again));
}

test "tables with distinct index bases refuse each other's handles" {
    var first: HandleTable(u8, 4, 0) = .{};
    var second: HandleTable(u8, 4, 4) = .{};
    const a = first.insert(1).?;
    const b = second.insert(2).?;
    try testing.expectEqual(@as(u64, 1), a);
    try testing.expectEqual(@as(u64, 5), b);
    try testing.expectEqual(@as(?*HandleTable(u8, 4, 4).Slot, null), second.acquire(a, .shared));
    try testing.expectEqual(@as(?*HandleTable(u8, 4, 0).Slot, null), first.acquire(b, .shared));
    try testing.expectEqual(@as(?u8, null), first.remove(0));
    try testing.expectEqual(@as(?u8, null), second.remove(0xffff_ffff_ffff_ffff));
    try testing.expectEqual(@as(?u8, 1), first.remove(a));
    try testing.expectEqual(@as(?u8, 2), second.remove(b));
}
