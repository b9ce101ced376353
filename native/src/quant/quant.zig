//! Quantization of stored vectors, as Qdrant does it: scalar int8 (one byte per element, a value range
//! trained from quantiles of the data) and binary (one bit per element). Quantized records are smaller
//! than the originals, so a scan or a graph search over them reads less memory; their scores are
//! estimates, and the best candidates are re-scored with the original vectors (`rescore`).
//!
//! The life of a quantized vector set:
//!
//!   const quantizer = try Quantizer.train(allocator, vectors, .cosine, .int8, null);
//!   var builder = try Builder.init(allocator, quantizer, vectors.count);
//!   builder.encodeRange(vectors, 0, vectors.count);     // in chunks, between event-loop turns
//!   try builder.write(dir, "vectors.qnt", &diagnostic); // `FORMAT.md`, "Quantized vector file"
//!   var quantized = try Quantized.open(allocator, dir, "vectors.qnt", .{ .always_ram = true }, &diagnostic);
//!   var scorer = try Int8Scorer.init(allocator, quantized.view(), query);
//!   const n = scan(&scorer, allow, offsets, scores);    // or a graph search generic over the scorer
//!   try rescore(allocator, vectors, .cosine, query, offsets[0..n], scores[0..n]);
//!
//! Every scorer returns estimates where higher is better (distances are negated) from
//! `score(self: *const S, offset: u32) f32`, the contract that searches are generic over.

const std = @import("std");
const assert = std.debug.assert;
const types = @import("../types.zig");
const quantizer_module = @import("quantizer.zig");
const builder_module = @import("builder.zig");
const quantized_module = @import("quantized.zig");
const scorer_module = @import("scorer.zig");
const scan_module = @import("scan.zig");

pub const Kind = quantizer_module.Kind;
pub const Quantizer = quantizer_module.Quantizer;
pub const quantile_default = quantizer_module.quantile_default;
pub const sample_values_max = quantizer_module.sample_values_max;
pub const View = quantizer_module.View;
pub const Builder = builder_module.Builder;
pub const Quantized = quantized_module.Quantized;
pub const Options = quantized_module.Options;
pub const Int8Scorer = scorer_module.Int8Scorer;
pub const BinaryScorer = scorer_module.BinaryScorer;
pub const scan = scan_module.scan;
pub const searchExact = scan_module.searchExact;
pub const rescore = scan_module.rescore;

/// The errors of writing and opening a quantized file: the same set as the vector file's, so the C ABI
/// maps them to statuses in one place.
pub const Error = error{ InvalidArgument, Io, Corrupt, OutOfMemory, Exists, NotFound };

comptime {
    assert(@intFromEnum(Kind.int8) == 1);
    assert(@intFromEnum(Kind.binary) == 2);
    assert(types.dim_max <= 65536);
}

test {
    _ = @import("binary.zig");
    _ = @import("quantizer.zig");
    _ = @import("format.zig");
    _ = @import("builder.zig");
    _ = @import("quantized.zig");
    _ = @import("scorer.zig");
    _ = @import("scan.zig");
    _ = @import("kernels_test.zig");
    _ = @import("accuracy_test.zig");
    _ = @import("file_test.zig");
}
