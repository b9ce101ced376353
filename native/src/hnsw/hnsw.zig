//! HNSW (hierarchical navigable small world) graphs over the records of a vector file.
//!
//! - `Builder` inserts offsets of a `storage.View` in batches, on one or more threads, and writes the
//!   graph file (`FORMAT.md`, "HNSW graph file").
//! - `Graph` maps a graph file read-only after checking it.
//! - `search` finds the `k` best nodes for any scorer: `RawScorer` over the stored vectors, or any type
//!   with the same `score` method (quantized scorers). Both graphs expose the same `GraphView`.
//!
//! ```
//! var builder = try hnsw.Builder.init(allocator, .{ .m = 16, .ef_construct = 100, .seed = 42 }, view, .cosine);
//! defer builder.deinit();
//! try builder.insert(offsets, 2);
//! try builder.write(dir, "graph.hnsw", &diagnostic);
//!
//! const graph = try hnsw.Graph.open(allocator, dir, "graph.hnsw", &diagnostic);
//! defer graph.close();
//! var scratch = try hnsw.Scratch.init(allocator, graph.nodeCount(), 256);
//! defer scratch.deinit(allocator);
//! const Scorer = hnsw.RawScorer(.f32, .cosine);
//! var scorer = try Scorer.init(allocator, view, query);
//! defer scorer.deinit(allocator);
//! const count = hnsw.search(Scorer, graph.layers(), &scorer, .{ .ef = 64, .k = 10, .allow = live }, &scratch, .{
//!     .offsets = offsets_out, .scores = scores_out,
//! });
//! ```

const layout = @import("layout.zig");
const scorer = @import("scorer.zig");
const search_module = @import("search.zig");
const builder = @import("builder.zig");
const file = @import("file.zig");

pub const GraphView = layout.GraphView;
pub const Candidate = layout.Candidate;
pub const m_min = layout.m_min;
pub const m_max = layout.m_max;
pub const level_cap = layout.level_cap;
pub const ef_max = layout.ef_max;
pub const node_none = layout.node_none;

pub const RawScorer = scorer.RawScorer;
pub const PairScorer = scorer.PairScorer;

pub const Scratch = @import("scratch.zig").Scratch;
pub const Options = search_module.Options;
pub const Results = search_module.Results;
pub const search = search_module.search;
pub const searchRaw = search_module.searchRaw;

pub const Builder = builder.Builder;
pub const Params = builder.Params;
pub const threads_max = builder.threads_max;
pub const levelOf = builder.levelOf;

pub const Graph = file.Graph;
pub const Error = file.Error;
pub const format_version = file.format_version;

test {
    _ = layout;
    _ = scorer;
    _ = search_module;
    _ = builder;
    _ = file;
    _ = @import("scratch.zig");
    _ = @import("hnsw_test.zig");
}
