import { afterEach, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../mod.ts";
import { crc32c } from "../lib/storage/crc32c.ts";
import { nativeLibrary } from "../lib/ffi/loader.ts";
import { LOG_HEADER_BYTES, LogKind, RECORD_FRAME_BYTES, RecordLog } from "../lib/storage/record_log.ts";
import { tempDir } from "./_helpers.ts";

let dir: { path: string; cleanup: () => void };
before(async () => void (await nativeLibrary()));
let file: string;
beforeEach(() => {
  dir = tempDir();
  file = join(dir.path, "log");
});
afterEach(() => dir.cleanup());

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function reopen(options: { readOnly?: boolean } = {}): { log: RecordLog; bodies: string[] } {
  const bodies: string[] = [];
  const log = RecordLog.open(file, LogKind.payload, (r) => bodies.push(text(r.body)), options);
  return { log, bodies };
}

/** Bit by bit, straight from the definition: what the native table and hardware versions must equal. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0x82f63b78 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe("crc32c", () => {
  it("matches the standard check value of CRC-32C and a bitwise reference, through the native library", () => {
    assert.equal(crc32c(bytes("123456789")), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    const long = new Uint8Array(100_003).map((_, i) => (i * 31 + 7) & 0xff);
    assert.equal(crc32c(long), referenceCrc32c(long));
    assert.equal(crc32c(long.subarray(5, 99)), referenceCrc32c(long.subarray(5, 99)));
  });
});

describe("RecordLog", () => {
  it("gives back every appended record, in order, with positions that read them", () => {
    const log = RecordLog.create(file, LogKind.payload);
    const positions = log.append([bytes("alpha"), bytes(""), bytes("gamma")]);
    log.append([bytes("delta")]);
    assert.equal(text(log.read(positions[2], 5)), "gamma");
    log.close();
    const { log: again, bodies } = reopen();
    assert.deepEqual(bodies, ["alpha", "", "gamma", "delta"]);
    assert.equal(again.sizeBytes, statSync(file).size);
    again.close();
  });

  it("cuts a torn tail at every byte of the last record and keeps the records before it", () => {
    const log = RecordLog.create(file, LogKind.payload);
    log.append([bytes("first")]);
    const intact = log.sizeBytes;
    log.append([bytes("second record")]);
    const full = log.sizeBytes;
    log.close();
    const image = readFileSync(file);
    for (let size = intact; size < full; size++) {
      writeFileSync(file, image.subarray(0, size));
      const { log: again, bodies } = reopen();
      assert.deepEqual(bodies, ["first"], `cut at ${size}`);
      assert.equal(
        statSync(file).size,
        intact,
        `file truncated to the last whole record when cut at ${size}`,
      );
      again.append([bytes("after")]);
      again.close();
      assert.deepEqual(reopen().bodies, ["first", "after"]);
    }
  });

  it("a read-only open skips a torn tail without truncating", () => {
    const log = RecordLog.create(file, LogKind.payload);
    log.append([bytes("one")]);
    log.close();
    appendFileSync(file, new Uint8Array([9, 0, 0, 0, 1]));
    const size = statSync(file).size;
    const { log: again, bodies } = reopen({ readOnly: true });
    assert.deepEqual(bodies, ["one"]);
    assert.equal(statSync(file).size, size);
    assert.throws(() => again.append([bytes("x")]), /read-only/);
    again.close();
  });

  it("a flipped byte before the tail is damage: an error naming the file and offset", () => {
    const log = RecordLog.create(file, LogKind.payload);
    log.append([bytes("first")]);
    log.append([bytes("second")]);
    log.close();
    const image = readFileSync(file);
    image[LOG_HEADER_BYTES + RECORD_FRAME_BYTES + 1] ^= 0x20;
    writeFileSync(file, image);
    assert.throws(
      () => reopen(),
      (e: unknown) =>
        e instanceof OperationError && e.status === "CORRUPT" && e.message.includes(file) &&
        e.message.includes(`byte ${LOG_HEADER_BYTES}`),
    );
  });

  it("a wrong magic, version, kind or a short header is CORRUPT, and a missing file NOT_FOUND", () => {
    RecordLog.create(file, LogKind.payload).close();
    const header = readFileSync(file);
    for (const at of [0, 8, 12]) {
      const copy = Uint8Array.from(header);
      copy[at] ^= 1;
      writeFileSync(file, copy);
      assert.throws(
        () => reopen(),
        (e: unknown) => e instanceof OperationError && e.status === "CORRUPT",
        `byte ${at}`,
      );
    }
    writeFileSync(file, header);
    assert.throws(() => RecordLog.open(file, LogKind.idTracker, () => {}), /kind 1; found .* kind 2/);
    truncateSync(file, 10);
    assert.throws(() => reopen(), /expected a 16-byte header, the file has 10 bytes/);
    writeFileSync(file, new Uint8Array(0));
    assert.throws(() => reopen(), /the file has 0 bytes/);
    assert.throws(
      () => RecordLog.open(join(dir.path, "missing"), LogKind.payload, () => {}),
      (e: unknown) => e instanceof OperationError && e.status === "NOT_FOUND",
    );
  });

  it("create() refuses an existing file", () => {
    RecordLog.create(file, LogKind.payload).close();
    assert.throws(
      () => RecordLog.create(file, LogKind.payload),
      (e: unknown) => e instanceof OperationError && e.status === "EXISTS",
    );
  });
});
