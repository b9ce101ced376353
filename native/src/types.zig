//! The nouns shared by every part of the engine: element datatypes, metrics and their limits.
//! The integer values are pinned by `ABI.md` and by the vector file format (`FORMAT.md`).

const std = @import("std");
const assert = std.debug.assert;

/// Largest vector dimension accepted anywhere (Qdrant's limit). It bounds every per-vector loop and
/// keeps integer accumulators of the u8 kernels far from overflow (see `distance/u8.zig`).
pub const dim_max: u32 = 65536;

/// Element type of stored vectors. Values are ABI and on-disk codes.
pub const Datatype = enum(u32) {
    f32 = 0,
    f16 = 1,
    u8 = 2,

    pub fn sizeBytes(datatype: Datatype) u32 {
        return switch (datatype) {
            .f32 => 4,
            .f16 => 2,
            .u8 => 1,
        };
    }

    /// The Zig element type stored for `datatype`.
    pub fn Elem(comptime datatype: Datatype) type {
        return switch (datatype) {
            .f32 => f32,
            .f16 => f16,
            .u8 => u8,
        };
    }

    pub fn isValid(code: u32) bool {
        return code <= @intFromEnum(Datatype.u8);
    }
};

/// Similarity metric. Values are ABI codes.
pub const Metric = enum(u32) {
    cosine = 0,
    dot = 1,
    euclid = 2,
    manhattan = 3,

    /// Cosine and dot are similarities (higher is better); euclid and manhattan are distances.
    pub fn higherIsBetter(metric: Metric) bool {
        return switch (metric) {
            .cosine, .dot => true,
            .euclid, .manhattan => false,
        };
    }

    pub fn isValid(code: u32) bool {
        return code <= @intFromEnum(Metric.manhattan);
    }
};

/// Bytes of one record of `dim` elements of `datatype`.
pub fn recordSizeBytes(datatype: Datatype, dim: u32) u32 {
    assert(dim > 0);
    assert(dim <= dim_max);
    const size = datatype.sizeBytes() * dim;
    assert(size <= dim_max * 4);
    return size;
}

test "record sizes follow the datatype" {
    try std.testing.expectEqual(@as(u32, 1536), recordSizeBytes(.f32, 384));
    try std.testing.expectEqual(@as(u32, 768), recordSizeBytes(.f16, 384));
    try std.testing.expectEqual(@as(u32, 3), recordSizeBytes(.u8, 3));
    try std.testing.expect(Datatype.isValid(2));
    try std.testing.expect(!Datatype.isValid(3));
    try std.testing.expect(Metric.isValid(3));
    try std.testing.expect(!Metric.isValid(4));
}
