//! The parameters of a quantization and the encoding of one vector with them.
//!
//! Scalar int8 maps each element `v` to a code `c = round((clamp(v) - min) / alpha)` in `0..=255`, where
//! `[min, min + 255 * alpha]` is the range of the stored values without the `n * (1 - q) / 2` lowest and
//! highest of them (`n` sampled vectors, `q` the `quantile`, 0.99 by default; Qdrant's rule): the rare
//! outliers are clamped so that the other values get finer steps. With `v ≈ min + alpha * c`, scores
//! are estimated from code sums:
//!
//!   dot(a, b)        ≈ alpha² Σ ca·cb + (alpha·min·Σca + dim·min²/2) + (alpha·min·Σcb + dim·min²/2)
//!   |a - b|²         ≈ alpha² Σ (ca - cb)²
//!   Σ |a - b|        ≈ alpha Σ |ca - cb|
//!
//! so an int8 record stores its codes and the bracketed correction of its own (an f32; 0 for the
//! distances). Binary sets one bit per element when `v > 0`.
//!
//! As in Qdrant, u8 sources are preprocessed: int8 normalises them for cosine (this project's u8 cosine
//! is the full cosine, and the dot product of normalised vectors is it), binary centres them on 127 so
//! that the bits are not all set. A query is first converted to the source datatype, as the exact search
//! does, then preprocessed and encoded like a record.

const std = @import("std");
const assert = std.debug.assert;
const types = @import("../types.zig");
const convert = @import("../convert.zig");
const StorageView = @import("../storage/storage.zig").View;
const binary = @import("binary.zig");

const Datatype = types.Datatype;
const Metric = types.Metric;

/// Quantization kind. Values are on-disk codes (`FORMAT.md`); 0 is left for "none".
pub const Kind = enum(u32) {
    /// Scalar quantization to one u8 code per element.
    int8 = 1,
    /// One bit per element.
    binary = 2,

    pub fn isValid(code: u32) bool {
        return code == @intFromEnum(Kind.int8) or code == @intFromEnum(Kind.binary);
    }
};

/// The quantile used when none is given (Qdrant's default is to use the whole range; its examples
/// use 0.99, which the engine's configuration defaults to).
pub const quantile_default: f32 = 0.99;
/// At most this many values are sorted to find the quantiles; larger sets are sampled by whole vectors
/// at evenly spaced offsets (deterministic).
pub const sample_values_max: u32 = 1 << 20;
/// The largest int8 code.
const code_max = 255;
/// u8 sources are centred on this value before binary quantization, as Qdrant does.
const binary_centre_u8: f32 = 127;

pub const Quantizer = struct {
    kind: Kind,
    metric: Metric,
    /// The datatype of the source vectors, which decides their preprocessing.
    datatype: Datatype,
    dim: u32,
    /// int8: the value step of one code; 0 for binary.
    alpha: f32,
    /// int8: the value code 0 stands for; 0 for binary.
    min: f32,

    /// Finds the parameters for the vectors of `vectors` (for int8, the quantile range of their values,
    /// `quantile` in `[0.5, 1]`, `quantile_default` when null). Allocates only a temporary sample.
    pub fn train(
        allocator: std.mem.Allocator,
        vectors: StorageView,
        metric: Metric,
        kind: Kind,
        quantile: ?f32,
    ) error{OutOfMemory}!Quantizer {
        assert(vectors.dim > 0);
        assert(vectors.dim <= types.dim_max);
        assert(vectors.records.len == vectors.count * types.recordSizeBytes(vectors.datatype, vectors.dim));
        var quantizer: Quantizer = .{
            .kind = kind,
            .metric = metric,
            .datatype = vectors.datatype,
            .dim = vectors.dim,
            .alpha = 0,
            .min = 0,
        };
        if (kind == .binary) return quantizer;
        const q = quantile orelse quantile_default;
        assert(q >= 0.5 and q <= 1);
        const range = try quantileRange(allocator, quantizer, vectors, q);
        quantizer.setRange(range.low, range.high);
        quantizer.assertValid();
        return quantizer;
    }

    /// Bytes of one encoded record: int8 codes padded to 4 bytes and the f32 correction; binary words.
    pub fn recordSizeBytes(quantizer: Quantizer) u32 {
        return switch (quantizer.kind) {
            .int8 => codesBytes(quantizer.dim) + 4,
            .binary => binary.wordCount(quantizer.dim) * 8,
        };
    }

    /// Encodes record `offset` of `vectors` (the vectors it was trained on, or more of their kind) into
    /// `out`, `recordSizeBytes()` bytes.
    pub fn encodeRecord(quantizer: Quantizer, vectors: StorageView, offset: u64, out: []u8) void {
        assert(vectors.datatype == quantizer.datatype);
        assert(vectors.dim == quantizer.dim);
        assert(offset < vectors.count);
        const dim = quantizer.dim;
        switch (vectors.datatype) {
            inline else => |datatype| {
                const E = datatype.Elem();
                const elements: [*]const E = @ptrCast(@alignCast(vectors.records.ptr));
                quantizer.encodeTyped(E, E, elements[offset * dim ..][0..dim], out);
            },
        }
    }

    /// Encodes an f32 query into `out`, `recordSizeBytes()` bytes: each value is converted to the source
    /// datatype first, as the exact search does.
    pub fn encodeQuery(quantizer: Quantizer, query: []const f32, out: []u8) void {
        assert(query.len == quantizer.dim);
        switch (quantizer.datatype) {
            inline else => |datatype| quantizer.encodeTyped(f32, datatype.Elem(), query, out),
        }
    }

    /// The f32 correction stored at the end of an int8 record.
    pub fn correctionOf(quantizer: Quantizer, record: []const u8) f32 {
        assert(quantizer.kind == .int8);
        assert(record.len == quantizer.recordSizeBytes());
        return @bitCast(std.mem.readInt(u32, record[codesBytes(quantizer.dim)..][0..4], .little));
    }

    pub fn assertValid(quantizer: Quantizer) void {
        assert(quantizer.dim > 0);
        assert(quantizer.dim <= types.dim_max);
        switch (quantizer.kind) {
            .int8 => {
                assert(std.math.isFinite(quantizer.alpha) and quantizer.alpha > 0);
                assert(std.math.isFinite(quantizer.min));
            },
            .binary => assert(quantizer.alpha == 0 and quantizer.min == 0),
        }
    }

    /// Sets the int8 range `[low, high]`. An empty or non-finite range (all values equal, or no values)
    /// becomes a range one unit wide, so that every code is well defined.
    fn setRange(quantizer: *Quantizer, low: f32, high: f32) void {
        assert(quantizer.kind == .int8);
        const finite = std.math.isFinite(low) and std.math.isFinite(high);
        quantizer.min = if (finite) low else -1;
        const width = high - low;
        quantizer.alpha = if (finite and width > 0 and std.math.isFinite(width / code_max))
            width / code_max
        else
            1.0 / @as(f32, code_max);
        if (quantizer.alpha == 0) quantizer.alpha = 1.0 / @as(f32, code_max); // width was subnormal
    }

    fn encodeTyped(quantizer: Quantizer, comptime T: type, comptime E: type, source: []const T, out: []u8) void {
        quantizer.assertValid();
        assert(source.len == quantizer.dim);
        assert(out.len == quantizer.recordSizeBytes());
        switch (quantizer.kind) {
            .int8 => quantizer.encodeInt8(T, E, source, out),
            .binary => quantizer.encodeBinary(T, E, source, out),
        }
    }

    fn encodeInt8(quantizer: Quantizer, comptime T: type, comptime E: type, source: []const T, out: []u8) void {
        const dim = quantizer.dim;
        const scale = quantizer.scaleOf(T, E, source);
        const alpha_inverse = 1 / quantizer.alpha;
        var codes_sum: u64 = 0;
        for (source, out[0..dim]) |x, *code| {
            code.* = codeOf(elementValue(T, E, x) * scale, quantizer.min, alpha_inverse);
            codes_sum += code.*;
        }
        const codes_bytes = codesBytes(dim);
        @memset(out[dim..codes_bytes], 0);
        const correction_value = quantizer.correction(codes_sum);
        std.mem.writeInt(u32, out[codes_bytes..][0..4], @bitCast(correction_value), .little);
    }

    fn encodeBinary(quantizer: Quantizer, comptime T: type, comptime E: type, source: []const T, out: []u8) void {
        const centre: f32 = if (E == u8) binary_centre_u8 else 0;
        const words = binary.wordCount(quantizer.dim);
        for (0..words) |w| {
            const chunk = source[w * 64 .. @min(source.len, (w + 1) * 64)];
            var word: u64 = 0;
            for (chunk, 0..) |x, bit| {
                const set: u64 = @intFromBool(elementValue(T, E, x) - centre > 0);
                word |= set << @intCast(bit);
            }
            std.mem.writeInt(u64, out[w * 8 ..][0..8], word, .little);
        }
    }

    /// `alpha·min·Σc + dim·min²/2` for dot and cosine, each half of the constant terms of the estimate.
    fn correction(quantizer: Quantizer, codes_sum: u64) f32 {
        if (!quantizer.metric.higherIsBetter()) return 0;
        const alpha: f64 = quantizer.alpha;
        const min: f64 = quantizer.min;
        const sum: f64 = @floatFromInt(codes_sum);
        const dim: f64 = @floatFromInt(quantizer.dim);
        return @floatCast(alpha * min * sum + dim * min * min / 2);
    }

    /// The factor applied to every element: the inverse norm for int8 cosine over u8 sources, else 1.
    fn scaleOf(quantizer: Quantizer, comptime T: type, comptime E: type, source: []const T) f32 {
        if (!(E == u8 and quantizer.metric == .cosine and quantizer.kind == .int8)) return 1;
        var norm_squared: f64 = 0;
        for (source) |x| {
            const v: f64 = elementValue(T, E, x);
            norm_squared += v * v;
        }
        if (norm_squared == 0) return 0;
        return @floatCast(1 / @sqrt(norm_squared));
    }

    /// Writes the preprocessed values of one vector (what int8 codes are computed from).
    fn preprocess(quantizer: Quantizer, comptime E: type, source: []const E, out: []f32) void {
        assert(source.len == out.len);
        const scale = quantizer.scaleOf(E, E, source);
        for (source, out) |x, *value| value.* = elementValue(E, E, x) * scale;
    }
};

/// A view of encoded records, from a `Builder` or an opened `Quantized` file.
pub const View = struct {
    quantizer: Quantizer,
    count: u64,
    /// `count` records of `quantizer.recordSizeBytes()` bytes, back to back, 8-byte aligned.
    records: []const u8,

    pub fn record(view: View, offset: u64) []const u8 {
        assert(offset < view.count);
        const size = view.quantizer.recordSizeBytes();
        return view.records[offset * size ..][0..size];
    }

    pub fn assertValid(view: View) void {
        view.quantizer.assertValid();
        assert(view.records.len == view.count * view.quantizer.recordSizeBytes());
        assert(@intFromPtr(view.records.ptr) % 8 == 0);
    }
};

/// Bytes of the codes of an int8 record: `dim` rounded up to 4, so that the correction is aligned.
pub fn codesBytes(dim: u32) u32 {
    assert(dim > 0);
    assert(dim <= types.dim_max);
    return std.mem.alignForward(u32, dim, 4);
}

/// The code of value `v`: clamped to the range, rounded to the nearest step (NaN becomes 0).
pub inline fn codeOf(v: f32, min: f32, alpha_inverse: f32) u8 {
    const t = (v - min) * alpha_inverse;
    if (!(t > 0)) return 0;
    if (t >= code_max) return code_max;
    return @intFromFloat(@round(t));
}

/// Element `x` of a `T` vector as f32, after a round trip through the source datatype `E` when the
/// vector is an f32 query (so a query sees the values the exact search would).
inline fn elementValue(comptime T: type, comptime E: type, x: T) f32 {
    if (T == E) {
        return switch (E) {
            f32, f16 => x,
            u8 => @floatFromInt(x),
            else => @compileError("unsupported element type"),
        };
    }
    comptime assert(T == f32);
    return switch (E) {
        f16 => convert.toF16(x),
        u8 => @floatFromInt(convert.toU8(x)),
        else => @compileError("unsupported element type"),
    };
}

const Range = struct { low: f32, high: f32 };

/// The range of the preprocessed values of a sample of vectors, without the `cut` lowest and the `cut`
/// highest values, where `cut = floor(sampled vectors * (1 - q) / 2)`. As in Qdrant, the cut counts
/// vectors, not values: it removes rare outliers and keeps the tails of the value distribution, whose
/// clamping would cost more accuracy than the finer steps gain (384-d unit vectors: cutting 0.5% of the
/// values at each end quintuples the mean dot product error).
fn quantileRange(allocator: std.mem.Allocator, quantizer: Quantizer, vectors: StorageView, q: f32) error{OutOfMemory}!Range {
    if (vectors.count == 0) return .{ .low = -1, .high = 1 };
    const dim = vectors.dim;
    const sample_vectors: u64 = @min(vectors.count, @max(1, sample_values_max / dim));
    const values = try allocator.alloc(f32, sample_vectors * dim);
    defer allocator.free(values);
    switch (vectors.datatype) {
        inline else => |datatype| {
            const E = datatype.Elem();
            const elements: [*]const E = @ptrCast(@alignCast(vectors.records.ptr));
            for (0..sample_vectors) |i| {
                const offset: u64 = @intCast(@as(u128, i) * vectors.count / sample_vectors);
                quantizer.preprocess(E, elements[offset * dim ..][0..dim], values[i * dim ..][0..dim]);
            }
        },
    }
    std.mem.sortUnstable(f32, values, {}, std.sort.asc(f32));
    const cut_wanted: u64 = @intFromFloat(@floor(@as(f64, @floatFromInt(sample_vectors)) * (1 - @as(f64, q)) / 2));
    const cut: usize = @intCast(@min(cut_wanted, (values.len - 1) / 2));
    assert(cut <= values.len - 1 - cut);
    return .{ .low = values[cut], .high = values[values.len - 1 - cut] };
}

fn testView(comptime E: type, elements: []const E, dim: u32) StorageView {
    const datatype: Datatype = switch (E) {
        f32 => .f32,
        f16 => .f16,
        u8 => .u8,
        else => unreachable,
    };
    return .{ .datatype = datatype, .dim = dim, .count = elements.len / dim, .records = std.mem.sliceAsBytes(elements) };
}

test "the quantile range cuts (1 - q) / 2 of the vector count at each end, and outliers are clamped" {
    const dim = 10;
    const n = 1000;
    var values: [n * dim]f32 = undefined;
    // The values 0, 1, ..., 9999 in a scrambled order, and one far outlier each side.
    for (&values, 0..) |*x, i| x.* = @floatFromInt((i * 7919) % values.len);
    values[123] = 1e9;
    values[456] = -1e9;
    const vectors = testView(f32, &values, dim);
    const quantizer = try Quantizer.train(std.testing.allocator, vectors, .dot, .int8, 0.9);
    // 1000 vectors * 5% = 50 values cut at each end. The outliers replaced 4037 and 1064: the sorted
    // values are -1e9, 0..1063, 1065..4036, 4038..9999, 1e9, whose 50th and 9949th are 49 and 9950.
    try std.testing.expectEqual(@as(f32, 49), quantizer.min);
    try std.testing.expectApproxEqRel(@as(f32, (9950.0 - 49.0) / 255.0), quantizer.alpha, 1e-6);
    var record: [codesBytes(dim) + 4]u8 = undefined;
    quantizer.encodeRecord(vectors, 12, &record); // holds the outlier 1e9 at element 3
    try std.testing.expectEqual(@as(u8, 255), record[3]);
    quantizer.encodeRecord(vectors, 45, &record); // holds the outlier -1e9 at element 6
    try std.testing.expectEqual(@as(u8, 0), record[6]);

    const whole = try Quantizer.train(std.testing.allocator, vectors, .dot, .int8, 1);
    try std.testing.expectEqual(@as(f32, -1e9), whole.min);
}

test "a constant set trains a one-unit range and encodes its value exactly" {
    const values: [12]f32 = @splat(0.25);
    const quantizer = try Quantizer.train(std.testing.allocator, testView(f32, &values, 3), .dot, .int8, null);
    try std.testing.expectEqual(@as(f32, 0.25), quantizer.min);
    try std.testing.expectEqual(@as(f32, 1.0 / 255.0), quantizer.alpha);
    const empty = try Quantizer.train(std.testing.allocator, testView(f32, values[0..0], 3), .dot, .int8, null);
    empty.assertValid();
}

test "codes round to the nearest step and the correction follows the formula" {
    const quantizer: Quantizer = .{ .kind = .int8, .metric = .dot, .datatype = .f32, .dim = 5, .alpha = 0.5, .min = -1 };
    var record: [12]u8 = undefined;
    quantizer.encodeQuery(&.{ -1, -0.76, -0.74, 126.5, 1000 }, &record);
    try std.testing.expectEqualSlices(u8, &.{ 0, 0, 1, 255, 255, 0, 0, 0 }, record[0..8]);
    const sum: f32 = 0 + 0 + 1 + 255 + 255;
    try std.testing.expectApproxEqRel(0.5 * -1 * sum + 5.0 / 2.0, quantizer.correctionOf(&record), 1e-6);
    const euclid: Quantizer = .{ .kind = .int8, .metric = .euclid, .datatype = .f32, .dim = 5, .alpha = 0.5, .min = -1 };
    euclid.encodeQuery(&.{ 0, 0, 0, 0, 0 }, &record);
    try std.testing.expectEqual(@as(f32, 0), euclid.correctionOf(&record));
}

test "binary codes set a bit for each positive element, and u8 sources are centred on 127" {
    var words: [16]u8 = undefined;
    const quantizer: Quantizer = .{ .kind = .binary, .metric = .cosine, .datatype = .f32, .dim = 70, .alpha = 0, .min = 0 };
    var values: [70]f32 = @splat(-1);
    values[0] = 0.5;
    values[3] = 2;
    values[64] = 1e-9;
    values[69] = 0; // Zero is not positive.
    quantizer.encodeQuery(&values, &words);
    try std.testing.expectEqual(@as(u64, 0b1001), std.mem.readInt(u64, words[0..8], .little));
    try std.testing.expectEqual(@as(u64, 1), std.mem.readInt(u64, words[8..16], .little));

    const from_u8: Quantizer = .{ .kind = .binary, .metric = .dot, .datatype = .u8, .dim = 3, .alpha = 0, .min = 0 };
    const elements = [_]u8{ 127, 128, 0 };
    from_u8.encodeRecord(testView(u8, &elements, 3), 0, words[0..8]);
    try std.testing.expectEqual(@as(u64, 0b010), std.mem.readInt(u64, words[0..8], .little));
}

test "u8 sources are normalised for int8 cosine" {
    const elements = [_]u8{ 3, 4, 0, 0, 0, 0 };
    const vectors = testView(u8, &elements, 3);
    const quantizer = try Quantizer.train(std.testing.allocator, vectors, .cosine, .int8, 1);
    try std.testing.expectEqual(@as(f32, 0), quantizer.min);
    try std.testing.expectApproxEqRel(@as(f32, 0.8 / 255.0), quantizer.alpha, 1e-6);
    var record: [8]u8 = undefined;
    quantizer.encodeRecord(vectors, 0, &record);
    try std.testing.expectEqualSlices(u8, &.{ 191, 255, 0 }, record[0..3]); // 0.6 / 0.8 * 255 = 191.25
    quantizer.encodeRecord(vectors, 1, &record); // the zero vector stays zero
    try std.testing.expectEqualSlices(u8, &.{ 0, 0, 0 }, record[0..3]);
}
