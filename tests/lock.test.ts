import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { OperationError } from "../mod.ts";
import { nativeLibrary } from "../lib/ffi/loader.ts";
import { DirectoryLock, READERS_LOCK_FILE, WRITER_LOCK_FILE } from "../lib/shard/lock.ts";
import { killScript, startScript, tempDir, waitForLine } from "./_helpers.ts";

const holdLock = fileURLToPath(new URL("./fixtures/hold_lock.ts", import.meta.url));

function isLocked(dir: string, pid: number): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof OperationError);
    assert.equal(e.status, "LOCKED");
    assert.match(
      e.message,
      new RegExp(`^Cannot open ${dir} for writing: it is locked by process ${pid} on .+ \\(\\.lock\\)$`),
    );
    return true;
  };
}

describe("DirectoryLock", () => {
  let dir: { path: string; cleanup: () => void };
  beforeEach(() => (dir = tempDir("edge-lock-")));
  afterEach(() => dir.cleanup());

  it("a second writer in the same process is refused with a message naming the directory and the pid", async () => {
    const native = await nativeLibrary();
    const writer = DirectoryLock.acquire(native, dir.path, "write");
    try {
      assert.throws(() => DirectoryLock.acquire(native, dir.path, "write"), isLocked(dir.path, process.pid));
    } finally {
      writer.release();
    }
  });

  it("the lock file names the writer while it holds the lock, and no one after release()", async () => {
    const native = await nativeLibrary();
    const writer = DirectoryLock.acquire(native, dir.path, "write");
    const file = join(dir.path, WRITER_LOCK_FILE);
    const holder = JSON.parse(readFileSync(file, "utf8"));
    assert.equal(holder.pid, process.pid);
    assert.equal(typeof holder.hostname, "string");
    // Made by the writer too, for readers that may not create files in the directory.
    assert.equal(readFileSync(join(dir.path, READERS_LOCK_FILE), "utf8"), "");
    writer.release();
    assert.equal(readFileSync(file, "utf8"), "");
  });

  it("a writer that has not recorded itself yet is named as another writer", async () => {
    const native = await nativeLibrary();
    // The window between a writer's flock and its write of the lock file, held open.
    const path = new TextEncoder().encode(join(dir.path, WRITER_LOCK_FILE));
    const handle = new BigUint64Array(1);
    assert.equal(native.symbols.edge_lock_open(path, path.length, 1, handle), 0);
    try {
      assert.throws(
        () => DirectoryLock.acquire(native, dir.path, "write"),
        (e: unknown) => {
          assert.ok(e instanceof OperationError);
          assert.equal(e.status, "LOCKED");
          assert.equal(
            e.message,
            `Cannot open ${dir.path} for writing: it is locked by another writer (.lock)`,
          );
          return true;
        },
      );
    } finally {
      assert.equal(native.symbols.edge_lock_close(handle[0]), 0);
    }
  });

  it("release() is idempotent and lets the next writer in", async () => {
    const native = await nativeLibrary();
    const first = DirectoryLock.acquire(native, dir.path, "write");
    assert.equal(first.released, false);
    first.release();
    first.release();
    assert.equal(first.released, true);
    const second = DirectoryLock.acquire(native, dir.path, "write");
    assert.equal(second.mode, "write");
    assert.equal(second.dir, dir.path);
    second.release();
  });

  it("readers lock a directory alongside its writer, in either order", async () => {
    const native = await nativeLibrary();
    const earlyReader = DirectoryLock.acquire(native, dir.path, "read");
    const writer = DirectoryLock.acquire(native, dir.path, "write");
    const lateReaders = [
      DirectoryLock.acquire(native, dir.path, "read"),
      DirectoryLock.acquire(native, dir.path, "read"),
    ];
    assert.ok(existsSync(join(dir.path, READERS_LOCK_FILE)));
    for (const reader of [earlyReader, ...lateReaders]) reader.release();
    writer.release();
  });

  it("a directory that does not exist is NOT_FOUND, naming it", async () => {
    const native = await nativeLibrary();
    const missing = join(dir.path, "no-such-shard");
    for (const mode of ["write", "read"] as const) {
      assert.throws(
        () => DirectoryLock.acquire(native, missing, mode),
        (e: unknown) =>
          e instanceof OperationError && e.status === "NOT_FOUND" && e.message.includes(missing),
      );
    }
  });

  it("a writer in a child process blocks this process's writer until the child is killed", async () => {
    const native = await nativeLibrary();
    const child = startScript(holdLock, [dir.path, "write"]);
    try {
      await waitForLine(child, "locked");
      assert.throws(() => DirectoryLock.acquire(native, dir.path, "write"), isLocked(dir.path, child.pid!));
      // A reader is not held back by the child's write lock.
      DirectoryLock.acquire(native, dir.path, "read").release();
    } finally {
      await killScript(child, "SIGKILL");
    }
    // The child never released its lock: the kernel dropped it with the process.
    const writer = DirectoryLock.acquire(native, dir.path, "write");
    writer.release();
  });
});
