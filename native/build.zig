//! Builds `libedge.so` for every shipped variant and runs the unit tests.
//!
//!   zig build                       three shared libraries under zig-out/lib/<variant>/libedge.so
//!   zig build test --summary all    unit tests on the host, once per SIMD width the host can run
//!
//! Targets are always explicit: a shipped library must never depend on the CPU it was built on.

const std = @import("std");

const Variant = struct {
    /// Directory under zig-out/lib, the name the TypeScript loader looks for.
    dir: []const u8,
    query: std.Target.Query,
};

const variants = [_]Variant{
    .{ .dir = "linux-x64-baseline", .query = .{
        .cpu_arch = .x86_64,
        .os_tag = .linux,
        .abi = .gnu,
        .cpu_model = .baseline,
    } },
    .{ .dir = "linux-x64-v3", .query = .{
        .cpu_arch = .x86_64,
        .os_tag = .linux,
        .abi = .gnu,
        .cpu_model = .{ .explicit = &std.Target.x86.cpu.x86_64_v3 },
    } },
    .{ .dir = "linux-arm64", .query = .{
        .cpu_arch = .aarch64,
        .os_tag = .linux,
        .abi = .gnu,
        .cpu_model = .baseline,
    } },
};

pub fn build(b: *std.Build) void {
    const optimize = b.option(
        std.builtin.Optimize,
        "optimize",
        "Optimization mode of the shipped libraries (default safe: assertions stay on)",
    ) orelse .safe;
    const test_optimize = b.option(
        std.builtin.Optimize,
        "test-optimize",
        "Optimization mode of the unit tests (default safe, as shipped; debug compiles faster)",
    ) orelse .safe;

    for (variants) |variant| addLibrary(b, variant, optimize);

    const test_step = b.step("test", "Run the unit tests for every SIMD width the host can execute");
    for (variants) |variant| {
        if (!canRun(b, variant.query)) continue;
        addTests(b, test_step, variant, test_optimize);
    }
}

fn addLibrary(b: *std.Build, variant: Variant, optimize: std.builtin.Optimize) void {
    const library = b.addLibrary(.{
        .linkage = .dynamic,
        .name = "edge",
        .root_module = b.createModule(.{
            .root_source_file = b.path("src/exports.zig"),
            .target = b.resolveTargetQuery(variant.query),
            .optimize = optimize,
            // The host's libc (every Deno and Bun on Linux has glibc): std.Thread needs pthreads in a library
            // loaded by another program, since Zig's own TLS and auxv setup only run from its _start.
            .link_libc = true,
            .strip = true,
        }),
    });
    const install = b.addInstallArtifact(library, .{
        .dest_dir = .{ .override = .{ .custom = b.fmt("lib/{s}", .{variant.dir}) } },
    });
    b.getInstallStep().dependOn(&install.step);
}

fn addTests(b: *std.Build, test_step: *std.Build.Step, variant: Variant, optimize: std.builtin.Optimize) void {
    const tests = b.addTest(.{
        .name = b.fmt("test-{s}", .{variant.dir}),
        .root_module = b.createModule(.{
            .root_source_file = b.path("src/exports.zig"),
            .target = b.resolveTargetQuery(variant.query),
            .optimize = optimize,
            .link_libc = true,
        }),
    });
    const run = b.addRunArtifact(tests);
    // Always run: the tests touch the file system and threads, and `--summary all` then reports
    // "N/N tests passed" on every invocation instead of a cached step.
    run.has_side_effects = true;
    test_step.dependOn(&run.step);
}

/// Whether the host CPU can execute code built for `query`. Only the ISA extensions that x86-64-v3 adds
/// are compared: CPU models also carry tuning flags that a newer host legitimately lacks.
fn canRun(b: *std.Build, query: std.Target.Query) bool {
    const target = b.resolveTargetQuery(query).result;
    const host = b.graph.host.result;
    if (target.cpu.arch != host.cpu.arch) return false;
    if (target.cpu.arch != .x86_64) return true;
    const v3_extensions = [_]std.Target.x86.Feature{ .avx, .avx2, .bmi, .bmi2, .f16c, .fma, .lzcnt, .movbe };
    for (v3_extensions) |feature| {
        if (target.cpu.has(.x86, feature) and !host.cpu.has(.x86, feature)) return false;
    }
    return true;
}
