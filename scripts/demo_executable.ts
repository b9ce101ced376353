/**
 * Entry point of the single-file demo executable (`bun build --compile`, see check_executable.sh): the
 * native library variants are embedded in the binary, and the loader picks the one the CPU supports.
 * Only Bun reads this file (`with { type: "file" }` embeds a file in the executable).
 *
 * @module
 */
import baseline from "../native/zig-out/lib/linux-x64-baseline/libedge.so" with { type: "file" };
import v3 from "../native/zig-out/lib/linux-x64-v3/libedge.so" with { type: "file" };
import process from "node:process";
import { useNativeLibrary } from "../mod.ts";

useNativeLibrary({ variants: { "linux-x64-baseline": baseline, "linux-x64-v3": v3 } });
const { main } = await import("./demo.ts");
process.exit((await main(process.argv[2] ?? "demo-shard")) ? 0 : 1);
