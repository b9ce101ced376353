//! A fixed-size message that a failing operation fills in beside its error, so that the C ABI can
//! report what was expected and what was found without allocating.

const std = @import("std");
const assert = std.debug.assert;

pub const Diagnostic = struct {
    /// Long enough for a message that quotes a path of `PATH_MAX` (4096) bytes.
    pub const size_bytes_max = 4096 + 512;

    buffer: [size_bytes_max]u8 = undefined,
    len: usize = 0,

    /// Replaces the message. A message longer than the buffer is cut and ends in "...".
    pub fn set(diagnostic: *Diagnostic, comptime format: []const u8, args: anytype) void {
        var writer: std.Io.Writer = .fixed(&diagnostic.buffer);
        const complete = if (writer.print(format, args)) true else |_| false;
        diagnostic.len = writer.buffered().len;
        if (!complete) {
            assert(diagnostic.len == size_bytes_max);
            @memcpy(diagnostic.buffer[size_bytes_max - 3 ..], "...");
        }
        assert(diagnostic.len <= size_bytes_max);
    }

    pub fn message(diagnostic: *const Diagnostic) []const u8 {
        assert(diagnostic.len <= size_bytes_max);
        return diagnostic.buffer[0..diagnostic.len];
    }
};

test "a diagnostic keeps a formatted message" {
    var diagnostic: Diagnostic = .{};
    diagnostic.set("expected {d}, found {s}", .{ 3, "four" });
    try std.testing.expectEqualStrings("expected 3, found four", diagnostic.message());
}

test "a diagnostic cuts a message longer than its buffer" {
    var diagnostic: Diagnostic = .{};
    const long: [Diagnostic.size_bytes_max + 10]u8 = @splat('x');
    diagnostic.set("path {s}", .{&long});
    try std.testing.expectEqual(Diagnostic.size_bytes_max, diagnostic.message().len);
    try std.testing.expect(std.mem.endsWith(u8, diagnostic.message(), "..."));
}
