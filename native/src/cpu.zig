//! Which build this is (fixed at compile time) and what the running CPU can do (probed at run time).
//! The TypeScript loader opens the baseline build, asks `probe()`, and switches to the x86-64-v3 build
//! when AVX2, FMA and F16C are all usable.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;

/// ABI codes of `edge_build_variant`.
pub const Variant = enum(u32) {
    x86_64_baseline = 0,
    x86_64_v3 = 1,
    aarch64 = 2,
};

pub const build_variant: Variant = switch (builtin.cpu.arch) {
    .x86_64 => if (builtin.cpu.hasAll(.x86, &.{ .avx2, .fma, .f16c })) .x86_64_v3 else .x86_64_baseline,
    .aarch64 => .aarch64,
    else => @compileError("libedge is built for x86_64 and aarch64 only"),
};

/// Bits of `edge_cpu_features`, pinned by `ABI.md`.
pub const Features = packed struct(u32) {
    avx2: bool = false,
    fma: bool = false,
    f16c: bool = false,
    avx512f: bool = false,
    neon: bool = false,
    reserved: u27 = 0,
};

pub fn probe() Features {
    return switch (builtin.cpu.arch) {
        .x86_64 => probeX86(),
        // Advanced SIMD (NEON) is part of every AArch64 Linux target.
        .aarch64 => .{ .neon = true },
        else => comptime unreachable,
    };
}

const Leaf = struct { eax: u32, ebx: u32, ecx: u32, edx: u32 };

fn probeX86() Features {
    const max_leaf = cpuid(0, 0).eax;
    const leaf1 = cpuid(1, 0);
    const leaf7: Leaf = if (max_leaf >= 7) cpuid(7, 0) else .{ .eax = 0, .ebx = 0, .ecx = 0, .edx = 0 };
    // AVX state must be enabled by the OS (OSXSAVE, then XCR0 bits 1-2) before any AVX feature counts.
    const osxsave = bit(leaf1.ecx, 27);
    const xcr0: u32 = if (osxsave) xgetbv0() else 0;
    const avx_state = xcr0 & 0b110 == 0b110;
    // AVX-512 additionally needs the opmask and upper ZMM state (XCR0 bits 5-7).
    const avx512_state = avx_state and xcr0 & 0b1110_0000 == 0b1110_0000;
    const avx = bit(leaf1.ecx, 28) and avx_state;
    return .{
        .avx2 = avx and bit(leaf7.ebx, 5),
        .fma = avx and bit(leaf1.ecx, 12),
        .f16c = avx and bit(leaf1.ecx, 29),
        .avx512f = avx512_state and bit(leaf7.ebx, 16),
    };
}

fn bit(word: u32, index: u5) bool {
    return (word >> index) & 1 == 1;
}

fn cpuid(leaf: u32, subleaf: u32) Leaf {
    comptime assert(builtin.cpu.arch == .x86_64);
    var eax: u32 = undefined;
    var ebx: u32 = undefined;
    var ecx: u32 = undefined;
    var edx: u32 = undefined;
    asm volatile ("cpuid"
        : [_] "={eax}" (eax),
          [_] "={ebx}" (ebx),
          [_] "={ecx}" (ecx),
          [_] "={edx}" (edx),
        : [_] "{eax}" (leaf),
          [_] "{ecx}" (subleaf),
    );
    return .{ .eax = eax, .ebx = ebx, .ecx = ecx, .edx = edx };
}

fn xgetbv0() u32 {
    comptime assert(builtin.cpu.arch == .x86_64);
    return asm volatile (
        \\ xor %%ecx, %%ecx
        \\ xgetbv
        : [_] "={eax}" (-> u32),
        :
        : .{ .edx = true, .ecx = true });
}

test "the runtime probe covers what the build was compiled for" {
    const features = probe();
    try std.testing.expectEqual(@as(u27, 0), features.reserved);
    switch (build_variant) {
        // A v3 build only runs (and passes this test) on a CPU that has what it was compiled for.
        .x86_64_v3 => try std.testing.expect(features.avx2 and features.fma and features.f16c),
        .x86_64_baseline => try std.testing.expect(!features.neon),
        .aarch64 => try std.testing.expect(features.neon),
    }
    if (features.avx512f) try std.testing.expect(features.avx2);
}
