//! The best `k` candidates of one query, kept in a bounded binary heap that lives in the caller's result
//! buffers (so a search allocates nothing per query). The root is the worst kept candidate, so a new
//! candidate is compared with one element and usually rejected at once.
//!
//! Candidates are ordered by key, higher first, then by lower offset. A key is the score for
//! similarities and the negated score for distances; negation is exact, so raw scores come back
//! unchanged. A NaN score ranks below every other.

const std = @import("std");
const assert = std.debug.assert;

/// log2 of the largest heap (k is a u32), bounding every sift loop.
const depth_max = 33;

pub const TopK = struct {
    offsets: []u64,
    keys: []f32,
    len: u32,

    /// `offsets` and `keys` are the k result slots; `len` of them already hold a heap.
    pub fn init(offsets: []u64, keys: []f32, len: u32) TopK {
        assert(offsets.len == keys.len);
        assert(offsets.len > 0);
        assert(len <= offsets.len);
        return .{ .offsets = offsets, .keys = keys, .len = len };
    }

    pub inline fn push(top: *TopK, offset: u64, key_raw: f32) void {
        const key = if (std.math.isNan(key_raw)) -std.math.inf(f32) else key_raw;
        if (top.len < top.offsets.len) {
            top.offsets[top.len] = offset;
            top.keys[top.len] = key;
            top.len += 1;
            top.siftUp(top.len - 1);
        } else if (better(key, offset, top.keys[0], top.offsets[0])) {
            top.offsets[0] = offset;
            top.keys[0] = key;
            top.siftDown(0, top.len);
        }
    }

    /// Sorts the kept candidates best first, in place, and returns how many there are.
    pub fn finish(top: *TopK) u32 {
        var end = top.len;
        while (end > 1) {
            end -= 1;
            top.swap(0, end); // The worst remaining goes last.
            top.siftDown(0, end);
        }
        for (1..@max(top.len, 1)) |i| {
            assert(better(top.keys[i - 1], top.offsets[i - 1], top.keys[i], top.offsets[i]));
        }
        return top.len;
    }

    fn siftUp(top: *TopK, start: u32) void {
        var i = start;
        for (0..depth_max) |_| {
            if (i == 0) return;
            const parent = (i - 1) / 2;
            // A parent must be worse than its children.
            if (!better(top.keys[parent], top.offsets[parent], top.keys[i], top.offsets[i])) return;
            top.swap(parent, i);
            i = parent;
        }
        unreachable;
    }

    fn siftDown(top: *TopK, start: u32, len: u32) void {
        var i = start;
        for (0..depth_max) |_| {
            const left = 2 * i + 1;
            if (left >= len) return;
            const right = left + 1;
            var worst = left;
            if (right < len and better(top.keys[left], top.offsets[left], top.keys[right], top.offsets[right])) {
                worst = right;
            }
            if (!better(top.keys[i], top.offsets[i], top.keys[worst], top.offsets[worst])) return;
            top.swap(i, worst);
            i = worst;
        }
        unreachable;
    }

    fn swap(top: *TopK, a: u32, b: u32) void {
        const offset = top.offsets[a];
        top.offsets[a] = top.offsets[b];
        top.offsets[b] = offset;
        const key = top.keys[a];
        top.keys[a] = top.keys[b];
        top.keys[b] = key;
    }
};

/// Whether candidate a ranks before candidate b.
pub inline fn better(key_a: f32, offset_a: u64, key_b: f32, offset_b: u64) bool {
    return key_a > key_b or (key_a == key_b and offset_a < offset_b);
}

test "keeps the k best, ties by lower offset, sorted best first" {
    var offsets: [3]u64 = undefined;
    var keys: [3]f32 = undefined;
    var top: TopK = .init(&offsets, &keys, 0);
    const candidates = [_]f32{ 0.5, 0.9, 0.1, 0.9, std.math.nan(f32), 0.7, 0.9 };
    for (candidates, 0..) |key, offset| top.push(offset, key);
    try std.testing.expectEqual(@as(u32, 3), top.finish());
    try std.testing.expectEqualSlices(u64, &.{ 1, 3, 6 }, &offsets);
    try std.testing.expectEqualSlices(f32, &.{ 0.9, 0.9, 0.9 }, &keys);
}

test "a heap fuller than its input returns every candidate" {
    var offsets: [10]u64 = undefined;
    var keys: [10]f32 = undefined;
    var top: TopK = .init(&offsets, &keys, 0);
    top.push(7, 1);
    top.push(3, std.math.nan(f32));
    top.push(2, 2);
    try std.testing.expectEqual(@as(u32, 3), top.finish());
    try std.testing.expectEqualSlices(u64, &.{ 2, 7, 3 }, offsets[0..3]);
    try std.testing.expectEqual(-std.math.inf(f32), keys[2]);
}
