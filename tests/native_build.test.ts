/**
 * Checks of the built native library files themselves: each variant is an ELF for its machine, exports
 * exactly the functions of the symbol table, and the baseline build holds no AVX instruction (it must run
 * on any x86-64 CPU).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SYMBOLS } from "../lib/ffi/symbols.ts";

const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const VARIANTS: [string, number][] = [
  ["linux-x64-baseline", EM_X86_64],
  ["linux-x64-v3", EM_X86_64],
  ["linux-arm64", EM_AARCH64],
];

function libraryPath(variant: string): string {
  return fileURLToPath(new URL(`../native/zig-out/lib/${variant}/libedge.so`, import.meta.url));
}

function exportedFunctions(path: string): string[] {
  const run = spawnSync("readelf", ["--dyn-syms", "--wide", path], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === "FUNC" && f[4] === "GLOBAL" && f[6] !== "UND" && f[7]?.startsWith("edge_"))
    .map((f) => f[7])
    .sort();
}

describe("native library builds", () => {
  for (const [variant, machine] of VARIANTS) {
    it(`${variant} is a 64-bit little-endian ELF shared object for machine ${machine}`, () => {
      const header = readFileSync(libraryPath(variant)).subarray(0, 20);
      assert.deepEqual([...header.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]); // \x7fELF
      assert.equal(header[4], 2, "ELFCLASS64");
      assert.equal(header[5], 1, "little-endian");
      assert.equal(header.readUInt16LE(16), 3, "ET_DYN");
      assert.equal(header.readUInt16LE(18), machine);
    });

    it(`${variant} exports exactly the functions of the symbol table`, () => {
      assert.deepEqual(exportedFunctions(libraryPath(variant)), Object.keys(SYMBOLS).sort());
    });
  }

  it("the baseline build contains no AVX instruction", () => {
    const run = spawnSync("objdump", ["-d", "--no-show-raw-insn", libraryPath("linux-x64-baseline")], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    assert.equal(run.status, 0, run.stderr);
    const avx = run.stdout.split("\n").filter((line) =>
      /%[yz]mm\d|\bv(add|mul|fmadd|movups|broadcast)\w*/.test(line)
    );
    assert.deepEqual(avx.slice(0, 5), [], `AVX instructions found (${avx.length})`);
  });
});
