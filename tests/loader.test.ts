import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { OperationError } from "../mod.ts";
import { nativeLibrary, resolveLibrary, runtimeAdapter } from "../lib/ffi/loader.ts";
import { ABI_VERSION, SYMBOLS } from "../lib/ffi/symbols.ts";
import { runScript, tempDir } from "./_helpers.ts";

let dir: { path: string; cleanup: () => void };
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.cleanup());

const buildDir = fileURLToPath(new URL("../native/zig-out/lib/", import.meta.url));
const probe = fileURLToPath(new URL("./fixtures/print_variant.ts", import.meta.url));

describe("native library loader", () => {
  it("loads the x86-64-v3 build on a CPU with AVX2, FMA and F16C, else the baseline", async () => {
    const native = await nativeLibrary();
    assert.equal(native.symbols.edge_abi_version(), ABI_VERSION);
    const features = native.symbols.edge_cpu_features();
    const v3 = (features & 0b111) === 0b111;
    assert.equal(native.variant, v3 ? "linux-x64-v3" : "linux-x64-baseline");
    assert.equal(native.path, join(buildDir, native.variant, "libedge.so"));
  });

  it("EDGE_LIB_VARIANT=baseline forces the baseline build", () => {
    const run = runScript(probe, [], { EDGE_LIB_VARIANT: "baseline" });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(
      run.stdout.trim(),
      `linux-x64-baseline ${join(buildDir, "linux-x64-baseline", "libedge.so")}`,
    );
  });

  it("EDGE_LIB_PATH loads the named file first", () => {
    const path = join(buildDir, "linux-x64-baseline", "libedge.so");
    const run = runScript(probe, [], { EDGE_LIB_PATH: path });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), `linux-x64-baseline ${path}`);
  });

  it("a failure lists every path tried and why", async () => {
    const open = await runtimeAdapter();
    const notLibrary = join(dir.path, "not-a-library.so");
    writeFileSync(notLibrary, "hello");
    assert.throws(
      () =>
        resolveLibrary(open, [
          { kind: "file", path: join(dir.path, "missing.so") },
          { kind: "file", path: notLibrary },
          { kind: "missing", path: "@x/edge-linux-x64", reason: "package not installed" },
          { kind: "variants", files: { "linux-x64-baseline": join(dir.path, "nope", "libedge.so") } },
        ]),
      (e: unknown) => {
        assert.ok(e instanceof OperationError);
        assert.match(e.message, new RegExp(`${join(dir.path, "missing.so")}: no such file`));
        assert.match(e.message, new RegExp(`${notLibrary}: cannot open`));
        assert.match(e.message, /@x\/edge-linux-x64: package not installed/);
        assert.match(e.message, new RegExp(`${join(dir.path, "nope", "libedge.so")}: no such file`));
        assert.match(e.message, /scripts\/setup\.sh/);
        return true;
      },
    );
  });

  it("a library that speaks another ABI version is refused, naming both versions", async (t) => {
    const source = join(dir.path, "fake.c");
    const fake = join(dir.path, "libfake.so");
    // Every symbol of the table must exist for dlopen to succeed; only the version differs.
    const stubs = Object.keys(SYMBOLS).filter((name) => name !== "edge_abi_version").map((name) =>
      `int ${name}() { return 0; }`
    );
    writeFileSync(source, ["unsigned edge_abi_version(void) { return 99; }", ...stubs].join("\n") + "\n");
    const cc = spawnSync("cc", ["-shared", "-fPIC", "-o", fake, source], { encoding: "utf8" });
    if (cc.status !== 0) return t.skip(`no C compiler: ${cc.stderr}`);
    const open = await runtimeAdapter();
    assert.throws(
      () => resolveLibrary(open, [{ kind: "file", path: fake }]),
      new RegExp(`ABI version 99, this @x/edge expects ${ABI_VERSION}`),
    );
  });

  it("the symbol table lists exactly the functions of native/ABI.md", () => {
    const abi = readFileSync(fileURLToPath(new URL("../native/ABI.md", import.meta.url)), "utf8");
    const documented = [...abi.matchAll(/`[a-z0-9]+\*? (edge_[a-z0-9_]+)\(/g)].map((m) => m[1]).sort();
    assert.deepEqual(Object.keys(SYMBOLS).sort(), documented);
  });
});
