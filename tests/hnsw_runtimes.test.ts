import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "./_helpers.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHILD = join(ROOT, "tests", "_hnsw_child.ts");
const RUNTIMES: Record<string, string[]> = {
  deno: [join(ROOT, "node_modules", ".bin", "deno"), "run", "-A", CHILD],
  bun: [join(ROOT, "node_modules", ".bin", "bun"), CHILD],
};

describe("HNSW across runtimes", () => {
  let dir: { path: string; cleanup: () => void };
  before(() => (dir = tempDir()));
  after(() => dir.cleanup());

  it("a one-thread build gives the same graph search results, ids and scores, in Deno and in Bun", () => {
    const outputs = Object.entries(RUNTIMES).map(([name, [command, ...args]]) => {
      const result = spawnSync(command, [...args, join(dir.path, name)], {
        encoding: "utf8",
        timeout: 120_000,
      });
      assert.equal(result.status, 0, `${name} child failed: ${result.stderr}`);
      return JSON.parse(result.stdout);
    });
    assert.equal(outputs[0].length, 20);
    assert.ok(outputs[0].every((hits: unknown[]) => hits.length === 5));
    assert.deepEqual(outputs[1], outputs[0]);
  });
});
