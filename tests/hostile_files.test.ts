/**
 * Corrupt and hostile files: a small shard is built once (ops 0-1 flushed, ops 2-6 only in the WAL and
 * the segments' unflushed files), its directory is copied for each damage, the copy is damaged and loaded
 * again. Every damage must give one of:
 *
 * - a load whose whole contents (every point with its payload and vectors, and what a search over each
 *   vector finds, with versions) equal the state after a given op: the damage lost at most what it
 *   destroyed (a torn WAL tail loses only the torn record), and never anything the segments still hold;
 * - an `OperationError` (or `InvalidArgumentError`) with a fitting status, whose message names the
 *   damaged file (and the byte offset, for a damaged record).
 *
 * Never another exception, a hang or a crash. The cases that reach the native vector files, and every
 * hostile record (one whose checksum was recomputed, so its contents reach the code that interprets
 * them), run in a child process (tests/fixtures/load_damaged.ts), because a native assertion aborts the
 * process: the child reports each case before and after loading it, and a new child carries on after one
 * that died.
 *
 * Two starting points are damaged: `pristine`, the directory as a killed process leaves it (the segments
 * hold every op), and `rolledBack`, the same with the id tracker cut back to the flush, as a power cut can
 * leave it with `fsync_on_update`: ops 2-6 then live only in the WAL, so its damage is what is lost.
 *
 * Cases marked `bug` are known defects, skipped until fixed (their assertions state the contract); set
 * `EDGE_HOSTILE_KNOWN_BUGS=1` to run them.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { type EdgeConfig, EdgeShard, type UpdateOperation } from "../mod.ts";
import { crc32c } from "../lib/storage/crc32c.ts";
import { loadAndRead, type Outcome, readState, type ShardState } from "./fixtures/load_damaged.ts";
import { runScript, tempDir } from "./_helpers.ts";

const LOADER = fileURLToPath(new URL("./fixtures/load_damaged.ts", import.meta.url));
const UUID = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26";
/** `EDGE_HOSTILE_KNOWN_BUGS=1` runs the cases of known bugs too (they fail until the bugs are fixed). */
const RUN_KNOWN_BUGS = process.env.EDGE_HOSTILE_KNOWN_BUGS === "1";

/** Three vectors, one per datatype, so each kind of vector file is damaged. */
const CONFIG: EdgeConfig = {
  vectors: {
    a: { size: 4, distance: "Dot" },
    b: { size: 2, distance: "Euclid", datatype: "float16" },
    c: { size: 3, distance: "Manhattan", datatype: "uint8" },
  },
};
/** Bytes per record of each slot's vector file. */
const RECORD_BYTES = [16, 4, 3];

/** Op `i` gets op number `i`; ops up to FLUSHED are flushed, the rest live in the WAL. */
const OPS: UpdateOperation[] = [
  {
    upsert_points: [
      { id: 1, vector: { a: [1, 0, 0, 0], b: [1, 2], c: [1, 2, 3] }, payload: { k: 1 } },
      { id: 2, vector: { a: [0, 1, 0, 0] }, payload: { k: 2, s: "two" } },
      { id: 3, vector: { b: [3, 4], c: [200, 0, 7] } },
    ],
  },
  { set_payload: { points: [1, 3], payload: { tag: "x" } } },
  {
    upsert_points: [
      {
        id: 4,
        vector: { a: [0, 0, 1, 0], b: [5, 6], c: [4, 5, 6] },
        payload: { k: 4, nested: { deep: [1, 2] } },
      },
      { id: UUID, vector: { a: [0, 0, 0, 1] } },
    ],
  },
  { delete_points: [2] },
  { update_vectors: { points: [{ id: 1, vector: { a: [0.5, 0.5, 0, 0], c: [9, 9, 9] } }] } },
  { overwrite_payload: { points: [3], payload: { over: true } } },
  { delete_vectors: { points: [4], vector: ["b"] } },
];
const FLUSHED = 1;
const FINAL = OPS.length - 1;
const WAL_RECORDS = FINAL - FLUSHED;

/** A record of a record log: its frame starts at `start`, its body ends at `end`. */
interface Frame {
  start: number;
  end: number;
}

type Template = "pristine" | "rolledBack";

/** The shard built once, and what the damages need to know about its files. */
interface Base {
  templates: Record<Template, string>;
  /** `segments/<uuid>` */
  segment: string;
  /** `wal/<20 digits>.wal` */
  wal: string;
  walFrames: Frame[];
  trackerFrames: Frame[];
  payloadFrames: Frame[];
  /** Sizes of id_tracker.log and payload.log right after the flush. */
  trackerFlushed: number;
  payloadFlushed: number;
  /** `count` of each vector file's header right after the flush, and at the end. */
  vectorCountsFlushed: number[];
  vectorCounts: number[];
  /** The shard's state after each op. */
  states: ShardState[];
}

/** The files of one copy. */
interface Files {
  dir: string;
  config: string;
  segments: string;
  segment: string;
  segmentJson: string;
  tracker: string;
  payload: string;
  vectors: string;
  vec: (slot: number) => string;
  walDir: string;
  wal: string;
}

type Status = "CORRUPT" | "NOT_FOUND" | "IO" | "INVALID_ARGUMENT";

/** What a damage may lead to: a load with the state after op `loads`, or a typed error. */
interface Expect {
  loads?: number;
  throws?: Status[];
  /** Text the error message must hold besides the damaged file (a byte offset). */
  mentions?: string;
  /** An error may come when the damaged data is read rather than at load (payloads are read lazily). */
  orOnRead?: boolean;
}

interface Damage {
  label: string;
  from: Template;
  /** Damages the copy and returns the path of the damaged file (or directory). */
  damage: (files: Files, base: Base) => string;
  expect: Expect;
}

interface Case {
  name: string;
  damages: (base: Base) => Damage[];
  /** Run in a child process: the damage reaches native code or is hostile. */
  child?: boolean;
  /** A known defect: the case is skipped, with this reason, until it is fixed. */
  bug?: string;
}

// ---------------------------------------------------------------------------------------------------------
// The shard, its copies and the byte-level tools.

const root = tempDir("edge-hostile-");
let copies = 0;
let building: Promise<Base> | undefined;

function frames(file: string): Frame[] {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Frame[] = [];
  for (let at = 16; at + 8 <= bytes.length;) {
    const end = at + 8 + view.getUint32(at, true);
    if (end > bytes.length) break;
    out.push({ start: at, end });
    at = end;
  }
  return out;
}

function vectorCount(file: string): number {
  const bytes = readFileSync(file);
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(32, true));
}

function base(): Promise<Base> {
  building ??= (async () => {
    const live = join(root.path, "live");
    const shard = await EdgeShard.create(live, CONFIG);
    const states: ShardState[] = [];
    const segment = join("segments", readdirSync(join(live, "segments"))[0]);
    const vecs = [0, 1, 2].map((slot) => join(live, segment, "vectors", `${slot}.vec`));
    let flushed: { tracker: number; payload: number; counts: number[] } | undefined;
    for (const [i, op] of OPS.entries()) {
      shard.update(op);
      states.push(JSON.parse(JSON.stringify(readState(shard))));
      if (i === FLUSHED) {
        shard.flush();
        flushed = {
          tracker: statSync(join(live, segment, "id_tracker.log")).size,
          payload: statSync(join(live, segment, "payload.log")).size,
          counts: vecs.map(vectorCount),
        };
      }
    }
    // The directory as a process killed now leaves it: ops 2-6 are in the WAL and the segments.
    const pristine = join(root.path, "pristine");
    cpSync(live, pristine, { recursive: true });
    shard.close();
    const rolledBack = join(root.path, "rolled-back");
    cpSync(pristine, rolledBack, { recursive: true });
    truncateSync(join(rolledBack, segment, "id_tracker.log"), flushed!.tracker);
    const wal = join("wal", readdirSync(join(pristine, "wal"))[0]);
    const b: Base = {
      templates: { pristine, rolledBack },
      segment,
      wal,
      walFrames: frames(join(pristine, wal)),
      trackerFrames: frames(join(pristine, segment, "id_tracker.log")),
      payloadFrames: frames(join(pristine, segment, "payload.log")),
      trackerFlushed: flushed!.tracker,
      payloadFlushed: flushed!.payload,
      vectorCountsFlushed: flushed!.counts,
      vectorCounts: [0, 1, 2].map((slot) => vectorCount(join(pristine, segment, "vectors", `${slot}.vec`))),
      states,
    };
    assert.equal(b.walFrames.length, WAL_RECORDS, "one WAL record per op after the flush");
    assert.equal(b.trackerFrames.length, OPS.length, "one id tracker record per op");
    return b;
  })();
  return building;
}

function filesOf(dir: string, b: Base): Files {
  const segment = join(dir, b.segment);
  return {
    dir,
    config: join(dir, "edge_config.json"),
    segments: join(dir, "segments"),
    segment,
    segmentJson: join(segment, "segment.json"),
    tracker: join(segment, "id_tracker.log"),
    payload: join(segment, "payload.log"),
    vectors: join(segment, "vectors"),
    vec: (slot) => join(segment, "vectors", `${slot}.vec`),
    walDir: join(dir, "wal"),
    wal: join(dir, b.wal),
  };
}

/** A fresh copy of a template with `damage` applied: its directory and the damaged path. */
function damagedCopy(b: Base, damage: Damage): { dir: string; file: string } {
  const dir = join(root.path, "cases", String(copies++));
  cpSync(b.templates[damage.from], dir, { recursive: true });
  return { dir, file: damage.damage(filesOf(dir, b), b) };
}

function edit(file: string, change: (bytes: Uint8Array, view: DataView) => void): string {
  const bytes = readFileSync(file);
  change(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  writeFileSync(file, bytes);
  return file;
}

const flip = (file: string, at: number): string => edit(file, (bytes) => (bytes[at] ^= 0xff));

/** Edits a vector file's header and recomputes its CRC, as a hostile (or buggy) writer would. */
const editHeader = (file: string, change: (view: DataView) => void): string =>
  edit(file, (bytes, view) => {
    change(view);
    view.setUint32(60, crc32c(bytes.subarray(0, 60)), true);
  });

function truncate(file: string, size: number): string {
  truncateSync(file, size);
  return file;
}

function replaceWith(path: string, content: string | Uint8Array | "directory" | "missing"): string {
  rmSync(path, { recursive: true, force: true });
  if (content === "directory") mkdirSync(path);
  else if (content !== "missing") writeFileSync(path, content);
  return path;
}

/** Appends one record with a valid CRC: the frame checks pass, so its contents reach the decoder. */
function appendRecord(file: string, body: Uint8Array): string {
  const frame = new Uint8Array(8 + body.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, body.length, true);
  view.setUint32(4, crc32c(body), true);
  frame.set(body, 8);
  appendFileSync(file, frame);
  return file;
}

/** A WAL record body: u64 op, u32 JSON length, the JSON, padding to 4 bytes, f32 values. */
function walBody(op: number, json: string | Uint8Array, floats: number[] = []): Uint8Array {
  const text = typeof json === "string" ? new TextEncoder().encode(json) : json;
  const blobAt = (12 + text.length + 3) & ~3;
  const body = new Uint8Array(blobAt + floats.length * 4);
  const view = new DataView(body.buffer);
  view.setBigUint64(0, BigInt(op), true);
  view.setUint32(8, text.length, true);
  body.set(text, 12);
  floats.forEach((value, i) => view.setFloat32(blobAt + i * 4, value, true));
  return body;
}

/** `body` after `change` edited it through a DataView. */
function withView(body: Uint8Array, change: (view: DataView) => void): Uint8Array {
  change(new DataView(body.buffer, body.byteOffset, body.byteLength));
  return body;
}

/** An id tracker record body with one entry: u64 version, u32 n, then u8 kind, u8 id kind, 16 id bytes, u64 offset, u32 mask. */
function trackerBody(
  version: number,
  entry: { kind?: number; idKind?: number; id: number; offset: bigint; mask: number },
  extra = 0,
): Uint8Array {
  const body = new Uint8Array(12 + 30 + extra);
  const view = new DataView(body.buffer);
  view.setBigUint64(0, BigInt(version), true);
  view.setUint32(8, 1, true);
  view.setUint8(12, entry.kind ?? 1);
  view.setUint8(13, entry.idKind ?? 0);
  view.setBigUint64(14, BigInt(entry.id), true);
  view.setBigUint64(30, entry.offset, true);
  view.setUint32(38, entry.mask, true);
  return body;
}

/** A payload record body: u32 n, n × (u64 offset, u32 length), then the texts. */
function payloadBody(
  entries: { offset: bigint; text: string; length?: number }[],
  count = entries.length,
): Uint8Array {
  const texts = entries.map((e) => new TextEncoder().encode(e.text));
  const body = new Uint8Array(4 + entries.length * 12 + texts.reduce((n, t) => n + t.length, 0));
  const view = new DataView(body.buffer);
  view.setUint32(0, count, true);
  let at = 4 + entries.length * 12;
  entries.forEach((e, i) => {
    view.setBigUint64(4 + i * 12, e.offset, true);
    view.setUint32(4 + i * 12 + 8, e.length ?? texts[i].length, true);
    body.set(texts[i], at);
    at += texts[i].length;
  });
  return body;
}

/** Byte positions to cut a record at: inside its frame, just after it, and inside its body. */
function cutsInside(frame: Frame): number[] {
  const body = frame.start + 8;
  return [
    frame.start + 1,
    frame.start + 4,
    frame.start + 7,
    body,
    body + 1,
    Math.floor((body + frame.end) / 2),
    frame.end - 1,
  ];
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

// ---------------------------------------------------------------------------------------------------------
// Running and checking.

const childCases: Case[] = [];

/** Runs the loader child over `dirs`, starting a new child after one that died. */
function runInChildren(dirs: string[]): Outcome[] {
  const manifest = join(root.path, "manifest.json");
  writeFileSync(manifest, JSON.stringify(dirs));
  const outcomes: Outcome[] = [];
  let next = 0;
  while (next < dirs.length) {
    const result = runScript(LOADER, [manifest, String(next)]);
    let started = -1;
    for (const line of result.stdout.split("\n")) {
      let message: { start: number } | { i: number; outcome: Outcome };
      try {
        message = JSON.parse(line);
      } catch {
        continue; // not one of the child's report lines
      }
      if ("start" in message) started = message.start;
      else {
        outcomes[message.i] = message.outcome;
        next = message.i + 1;
      }
    }
    if (next >= dirs.length) break;
    if (started < next) {
      throw new Error(
        `the loader child failed before its first case (exit ${result.status}):\n${result.stderr}`,
      );
    }
    outcomes[started] = {
      crashed: `exit status ${result.status ?? "none (killed by a signal)"}: ${result.stderr.slice(-1500)}`,
    };
    next = started + 1;
  }
  return outcomes;
}

const childResults = new Map<Case, { file: string; outcome: Outcome }[]>();

/**
 * The outcomes of `c`'s damages. The first call for a case damages a copy for every damage of every child
 * case registered so far and not yet run, and loads them all in one child process (describe() bodies may
 * run lazily, so later ones register more cases).
 */
async function childOutcomes(c: Case): Promise<{ file: string; outcome: Outcome }[]> {
  if (!childResults.has(c)) {
    const b = await base();
    const todo = childCases.filter((other) => !childResults.has(other));
    const prepared = todo.flatMap((other) =>
      other.damages(b).map((d) => ({ c: other, ...damagedCopy(b, d) }))
    );
    const outcomes = runInChildren(prepared.map((p) => p.dir));
    for (const other of todo) childResults.set(other, []);
    prepared.forEach((p, i) => childResults.get(p.c)!.push({ file: p.file, outcome: outcomes[i] }));
  }
  return childResults.get(c)!;
}

/** Whether an error message names `file`: its whole path, or its directory and its name. */
function namesFile(message: string, file: string): boolean {
  return message.includes(file) || (message.includes(dirname(file)) && message.includes(basename(file)));
}

function check(outcome: Outcome, expect: Expect, file: string, what: string, states: ShardState[]): void {
  if ("crashed" in outcome) assert.fail(`${what}: the loading process died: ${outcome.crashed}`);
  if ("loaded" in outcome) {
    assert.ok(
      expect.loads !== undefined,
      `${what}: it loaded; expected ${expect.throws?.join(" or ")} naming ${file}`,
    );
    assert.deepEqual(
      outcome.loaded,
      states[expect.loads],
      `${what}: the loaded shard differs from the state after op ${expect.loads}`,
    );
    return;
  }
  const e = outcome.threw;
  const seen = `${e.name} (status ${e.status}, while ${
    e.phase === "load" ? "loading" : e.phase === "read" ? "reading" : "closing"
  }): ${e.message}`;
  assert.ok(e.typed, `${what}: an untyped error: ${seen}`);
  assert.ok(expect.throws !== undefined, `${what}: expected it to load, got ${seen}`);
  assert.ok(
    e.status !== undefined && (expect.throws as string[]).includes(e.status),
    `${what}: expected status ${expect.throws.join(" or ")}, got ${seen}`,
  );
  assert.ok(e.phase === "load" || (e.phase === "read" && expect.orOnRead), `${what}: ${seen}`);
  assert.ok(namesFile(e.message, file), `${what}: the message does not name ${file}: ${e.message}`);
  if (expect.mentions !== undefined) {
    assert.ok(
      e.message.includes(expect.mentions),
      `${what}: the message lacks "${expect.mentions}": ${e.message}`,
    );
  }
}

function defineCase(c: Case): void {
  const skip = c.bug !== undefined && !RUN_KNOWN_BUGS;
  if (c.child && !skip) childCases.push(c);
  it(c.name, skip ? { skip: `known bug: ${c.bug}` } : {}, async () => {
    const b = await base();
    let results: { damage: Damage; file: string; outcome: Outcome }[];
    if (c.child) {
      const damages = c.damages(b);
      results = (await childOutcomes(c)).map((r, i) => ({ ...r, damage: damages[i] }));
    } else {
      results = [];
      for (const damage of c.damages(b)) {
        const { dir, file } = damagedCopy(b, damage);
        const outcome = JSON.parse(JSON.stringify(await loadAndRead(dir))) as Outcome;
        results.push({ damage, file, outcome });
        rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.ok(results.length > 0);
    // Check every damage before failing, so that a failure lists all the damages it concerns.
    const failures: string[] = [];
    for (const { damage, file, outcome } of results) {
      try {
        check(outcome, damage.expect, file, `${damage.label} (${damage.from})`, b.states);
      } catch (error) {
        if (!(error instanceof assert.AssertionError)) throw error;
        failures.push(error.message);
      }
    }
    if (failures.length > 0) {
      const shown = failures.slice(0, 8).join("\n\n");
      assert.fail(
        `${failures.length} of ${results.length} damages failed:\n\n${shown}${
          failures.length > 8 ? "\n\n..." : ""
        }`,
      );
    }
  });
}

/** A damage: `damage` applied to a copy of `from`, expecting `expect`. */
function dmg(label: string, from: Template, damage: Damage["damage"], expect: Expect): Damage {
  return { label, from, damage, expect };
}

const TEMPLATES: readonly Template[] = ["pristine", "rolledBack"];
const LOADS_FINAL: Expect = { loads: FINAL };
const CORRUPT: Expect = { throws: ["CORRUPT"] };
const CORRUPT_AT = (at: number): Expect => ({ throws: ["CORRUPT"], mentions: `byte ${at}` });
const NOT_FOUND: Expect = { throws: ["NOT_FOUND"] };
const IO: Expect = { throws: ["IO"] };
/** Opening a directory as a file: refused by open(2) (IO) or by the regular-file check (INVALID_ARGUMENT). */
const NOT_A_FILE: Expect = { throws: ["IO", "INVALID_ARGUMENT"] };
/** The WAL file `<op>.wal` in `dir`. */
/** Bytes of a segment log that its last flush made durable. */
const flushedBytes = (
  b: Base,
  name: string,
): number => (name === "id_tracker.log" ? b.trackerFlushed : b.payloadFlushed);
const walName = (dir: string, op: number): string => join(dir, `${String(op).padStart(20, "0")}.wal`);

// ---------------------------------------------------------------------------------------------------------

describe("corrupt and hostile files", () => {
  after(() => root.cleanup());

  describe("the undamaged copies", () => {
    defineCase({
      name: "the directory a killed process leaves loads with every op",
      damages: () => [dmg("no damage", "pristine", (f) => f.dir, LOADS_FINAL)],
    });
    defineCase({
      name: "with the id tracker cut back to the flush, the WAL replays every op after it",
      damages: () => [dmg("no damage", "rolledBack", (f) => f.dir, LOADS_FINAL)],
    });
  });

  describe("a truncated write-ahead log", () => {
    // A writer rolls the segments back to their last flush and replays the WAL, so what survives a cut log
    // is exactly the prefix of operations before the cut, whatever the segments held after the flush.
    defineCase({
      name: "cut at every record boundary, it keeps exactly the records before the cut",
      damages: (b) =>
        [16, ...b.walFrames.map((frame) => frame.end)].flatMap((at, kept) => [
          dmg(`cut at ${at}`, "pristine", (f) => truncate(f.wal, at), { loads: FLUSHED + kept }),
          dmg(`cut at ${at}`, "rolledBack", (f) => truncate(f.wal, at), { loads: FLUSHED + kept }),
        ]),
    });
    for (let r = 0; r < WAL_RECORDS; r++) {
      defineCase({
        name: `cut inside record ${r + 1} of ${WAL_RECORDS}, it loses only that record and the ones after it`,
        damages: (b) =>
          cutsInside(b.walFrames[r]).flatMap((at) => [
            dmg(`cut at ${at}`, "pristine", (f) => truncate(f.wal, at), { loads: FLUSHED + r }),
            dmg(`cut at ${at}`, "rolledBack", (f) => truncate(f.wal, at), { loads: FLUSHED + r }),
          ]),
      });
    }
    it("after a cut, the shard takes the lost update again and keeps it", async () => {
      const b = await base();
      const cut = b.walFrames[WAL_RECORDS - 1].end - 3;
      const { dir } = damagedCopy(b, dmg(`cut at ${cut}`, "rolledBack", (f) => truncate(f.wal, cut), {}));
      const shard = await EdgeShard.load(dir);
      assert.deepEqual(JSON.parse(JSON.stringify(readState(shard))), b.states[FINAL - 1]);
      shard.update(OPS[FINAL]);
      shard.close();
      assert.deepEqual(JSON.parse(JSON.stringify(await loadAndRead(dir))), { loaded: b.states[FINAL] });
    });
  });

  describe("flipped bytes in the write-ahead log", () => {
    for (let r = 0; r < WAL_RECORDS - 1; r++) {
      defineCase({
        name: `a flipped byte in the checksum or body of record ${r + 1} of ${WAL_RECORDS} is CORRUPT, ` +
          "naming the file and the record's offset",
        damages: (b) =>
          range(b.walFrames[r].start + 4, b.walFrames[r].end).map((at) =>
            dmg(`byte ${at} flipped`, "rolledBack", (f) => flip(f.wal, at), CORRUPT_AT(b.walFrames[r].start))
          ),
      });
    }
    defineCase({
      name: "a flipped byte anywhere in the last record loses that record alone (a torn tail) or is CORRUPT",
      damages: (b) =>
        range(b.walFrames[WAL_RECORDS - 1].start, b.walFrames[WAL_RECORDS - 1].end).map((at) =>
          dmg(`byte ${at} flipped`, "rolledBack", (f) => flip(f.wal, at), {
            loads: FINAL - 1,
            throws: ["CORRUPT"],
          })
        ),
    });
    const lengthBytes = (b: Base): [Frame, number][] =>
      b.walFrames.slice(0, -1).flatMap((frame) =>
        range(frame.start, frame.start + 4).map((at): [Frame, number] => [frame, at])
      );
    defineCase({
      name:
        "a flipped length byte of an earlier record is CORRUPT, never a torn tail that drops the records after it",
      damages: (b) =>
        lengthBytes(b).map(([frame, at]) =>
          dmg(`byte ${at} flipped`, "rolledBack", (f) => flip(f.wal, at), CORRUPT_AT(frame.start))
        ),
    });
  });

  describe("several write-ahead log files", () => {
    /** Moves the WAL records from record `from` on into a second file, named after the first of their ops. */
    const split = (f: Files, b: Base, from: number): string => {
      const bytes = readFileSync(f.wal);
      const records = bytes.subarray(b.walFrames[from].start);
      const image = new Uint8Array(16 + records.length);
      image.set(bytes.subarray(0, 16));
      image.set(records, 16);
      const second = walName(f.walDir, FLUSHED + 1 + from);
      writeFileSync(second, image);
      truncateSync(f.wal, b.walFrames[from].start);
      return second;
    };
    const rise = { ...CORRUPT, mentions: "op numbers must rise" };
    defineCase({
      name: "a log split over two files replays both",
      damages: (b) => [dmg("split before record 3", "rolledBack", (f) => split(f, b, 2), LOADS_FINAL)],
    });
    defineCase({
      name: "files whose op numbers do not rise from one to the next are CORRUPT",
      damages: (b) => [
        dmg("the newer file named before the older", "rolledBack", (f) => {
          renameSync(split(f, b, 2), walName(f.walDir, 1));
          return f.wal;
        }, rise),
        dmg("the same records in two files", "rolledBack", (f) => {
          cpSync(f.wal, walName(f.walDir, FLUSHED + 2));
          return walName(f.walDir, FLUSHED + 2);
        }, rise),
      ],
    });
    defineCase({
      name: "a torn or damaged last record of an older file is CORRUPT, never a hole in the history",
      damages: (b) => [
        dmg("older file cut inside its last record", "rolledBack", (f) => {
          split(f, b, 2);
          return truncate(f.wal, b.walFrames[1].end - 2);
        }, CORRUPT),
        dmg("a flipped byte in the older file's last record", "rolledBack", (f) => {
          split(f, b, 2);
          return flip(f.wal, b.walFrames[1].end - 2);
        }, CORRUPT),
      ],
    });
    const bogus = [
      "garbage.wal",
      "1.wal",
      `${"9".repeat(21)}.wal`,
      `${"9".repeat(20)}.wal.tmp`,
      `${"9".repeat(20)}.WAL`,
    ];
    defineCase({
      name: "files whose names are not <20 digits>.wal are ignored, whatever they hold",
      damages: () =>
        [...bogus, `.${"9".repeat(20)}.wal`, "9".repeat(20)].flatMap((name) =>
          TEMPLATES.map((from) =>
            dmg(
              `wal/${name}`,
              from,
              (f) => replaceWith(join(f.walDir, name), new Uint8Array([0xde, 0xad, 1])),
              LOADS_FINAL,
            )
          )
        ),
    });
  });

  describe("record log headers", () => {
    const logs = [
      ["id_tracker.log", (f: Files) => f.tracker],
      ["payload.log", (f: Files) => f.payload],
      ["WAL file", (f: Files) => f.wal],
    ] as const;
    for (const [name, file] of logs) {
      defineCase({
        name: `every flipped byte of the ${name} header is CORRUPT, naming the file`,
        damages: () =>
          range(0, 16).map((at) => dmg(`byte ${at} flipped`, "pristine", (f) => flip(file(f), at), CORRUPT)),
      });
      const set32 = (at: number, value: number) => (f: Files) =>
        edit(file(f), (_, v) => v.setUint32(at, value, true));
      defineCase({
        name: `a wrong magic, format version or kind in the ${name} header is CORRUPT, naming the file`,
        damages: () => [
          dmg("magic XEDGELOX", "pristine", (f) => edit(file(f), (bytes) => (bytes[7] = 0x58)), CORRUPT),
          dmg("version 0", "pristine", set32(8, 0), CORRUPT),
          dmg("version 2", "pristine", set32(8, 2), CORRUPT),
          dmg("kind 0", "pristine", set32(12, 0), CORRUPT),
          dmg("kind 4", "pristine", set32(12, 4), CORRUPT),
          dmg("replaced by another log", "pristine", (f) => {
            cpSync(file(f) === f.tracker ? f.payload : f.tracker, file(f));
            return file(f);
          }, CORRUPT),
        ],
      });
    }
  });

  describe("damaged id tracker and payload records", () => {
    const logs = [
      ["id_tracker.log", (f: Files) => f.tracker, (b: Base) => b.trackerFrames],
      ["payload.log", (f: Files) => f.payload, (b: Base) => b.payloadFrames],
    ] as const;
    for (const [name, file, framesOf] of logs) {
      defineCase({
        name:
          `a flipped byte in the checksum or body of any earlier record of ${name} is CORRUPT, naming the ` +
          "file and offset",
        // Records after the flush are cut off unread when a writer opens the segment (the WAL replays them),
        // so only the flushed records can be found damaged.
        damages: (b) =>
          framesOf(b).slice(0, -1).flatMap((frame) =>
            range(frame.start + 4, frame.end).map((at) =>
              dmg(
                `byte ${at} flipped`,
                "pristine",
                (f) => flip(file(f), at),
                frame.end <= flushedBytes(b, name) ? CORRUPT_AT(frame.start) : LOADS_FINAL,
              )
            )
          ),
      });
    }
    defineCase({
      name: "id_tracker.log cut anywhere after the flush loses nothing: the WAL replays the cut commits",
      damages: (b) =>
        [
          ...b.trackerFrames.filter((frame) => frame.end >= b.trackerFlushed).map((frame) => frame.end),
          ...b.trackerFrames.filter((frame) => frame.start >= b.trackerFlushed).flatMap(cutsInside),
        ].map((at) => dmg(`cut at ${at}`, "pristine", (f) => truncate(f.tracker, at), LOADS_FINAL)),
    });
    defineCase({
      name: "a flipped byte in the last record of id_tracker.log loses nothing: the WAL replays that commit",
      damages: (b) =>
        range(b.trackerFrames[FINAL].start, b.trackerFrames[FINAL].end).map((at) =>
          dmg(`byte ${at} flipped`, "pristine", (f) => flip(f.tracker, at), {
            loads: FINAL,
            throws: ["CORRUPT"],
          })
        ),
    });
    defineCase({
      name: "payload.log losing records after the flush loses nothing the WAL holds, or is CORRUPT",
      damages: (b) => [
        ...b.payloadFrames.filter((frame) => frame.end > b.payloadFlushed).map((frame) =>
          dmg(`cut at ${frame.start}`, "pristine", (f) => truncate(f.payload, frame.start), {
            loads: FINAL,
            throws: ["CORRUPT"],
          })
        ),
        dmg(
          "a flipped byte in the last record",
          "pristine",
          (f) => flip(f.payload, b.payloadFrames.at(-1)!.end - 2),
          {
            loads: FINAL,
            throws: ["CORRUPT"],
          },
        ),
      ],
    });
  });

  describe("zero-length, missing and misplaced files", () => {
    const garbage = new Uint8Array([0x00, 0xff, 0x7b, 0x22, 0xfe, 0x0a, 0x5b, 0x5d, 0x80]);
    const files = [
      ["edge_config.json", (f: Files) => f.config],
      ["segment.json", (f: Files) => f.segmentJson],
      ["id_tracker.log", (f: Files) => f.tracker],
      ["payload.log", (f: Files) => f.payload],
    ] as const;
    for (const [name, file] of files) {
      defineCase({
        name: `${name} zero-length, cut short, garbage, missing or a directory is a typed error naming it`,
        damages: () => [
          dmg("zero-length", "pristine", (f) => truncate(file(f), 0), CORRUPT),
          dmg("cut to 10 bytes", "pristine", (f) => truncate(file(f), 10), CORRUPT),
          dmg("garbage", "pristine", (f) => replaceWith(file(f), garbage), CORRUPT),
          dmg("missing", "pristine", (f) => replaceWith(file(f), "missing"), NOT_FOUND),
          dmg("a directory", "pristine", (f) => replaceWith(file(f), "directory"), NOT_A_FILE),
        ],
      });
    }
    const rewriteJson =
      (path: (f: Files) => string, change: (json: Record<string, unknown>) => void) => (f: Files) => {
        const json = JSON.parse(readFileSync(path(f), "utf8"));
        change(json);
        return replaceWith(path(f), JSON.stringify(json));
      };
    defineCase({
      name: "JSON files that parse but do not hold what they should are CORRUPT, naming them",
      damages: () => [
        dmg("edge_config.json: [1, 2]", "pristine", (f) => replaceWith(f.config, "[1, 2]"), CORRUPT),
        dmg("edge_config.json: null", "pristine", (f) => replaceWith(f.config, "null"), CORRUPT),
        dmg(
          "edge_config.json: a vector of size 0",
          "pristine",
          rewriteJson((f) => f.config, (json) => {
            json.vectors = { a: { size: 0, distance: "Dot" } };
          }),
          CORRUPT,
        ),
        dmg("segment.json: []", "pristine", (f) => replaceWith(f.segmentJson, "[]"), CORRUPT),
        dmg(
          "segment.json: format version 2",
          "pristine",
          rewriteJson((f) => f.segmentJson, (json) => {
            json.format_version = 2;
          }),
          CORRUPT,
        ),
        dmg(
          "segment.json: no next_slot",
          "pristine",
          rewriteJson((f) => f.segmentJson, (json) => {
            delete json.next_slot;
          }),
          CORRUPT,
        ),
      ],
    });
    defineCase({
      name: "an edge_config.json whose vectors disagree with segment.json is CORRUPT, naming it",
      damages: () => [
        dmg(
          "edge_config.json: only a vector 'other'",
          "pristine",
          rewriteJson((f) => f.config, (json) => {
            json.vectors = { other: { size: 7, distance: "Cosine" } };
          }),
          CORRUPT,
        ),
      ],
    });
    defineCase({
      name: "a zero-length, short or directory WAL file is a typed error naming it",
      damages: () =>
        TEMPLATES.flatMap((from) => [
          dmg("zero-length", from, (f) => truncate(f.wal, 0), CORRUPT),
          dmg("cut to 10 bytes", from, (f) => truncate(f.wal, 10), CORRUPT),
          dmg("a directory", from, (f) => replaceWith(f.wal, "directory"), NOT_A_FILE),
        ]),
    });
    defineCase({
      name: "a missing WAL file or wal/ directory loses what came after the last flush, nothing before it",
      damages: () =>
        TEMPLATES.flatMap((from) => [
          dmg("WAL file missing", from, (f) => replaceWith(f.wal, "missing"), { loads: FLUSHED }),
          dmg("wal/ missing", from, (f) => replaceWith(f.walDir, "missing"), { loads: FLUSHED }),
        ]),
    });
    defineCase({
      name: "no segment or two segments in segments/ is CORRUPT, naming the directory",
      damages: () => [
        dmg("segments/ empty", "pristine", (f) => {
          rmSync(f.segment, { recursive: true });
          return f.segments;
        }, CORRUPT),
        dmg("segments/ missing", "pristine", (f) => replaceWith(f.segments, "missing"), CORRUPT),
        dmg("two segments", "pristine", (f) => {
          cpSync(f.segment, join(f.segments, "00000000-0000-4000-8000-000000000000"), { recursive: true });
          return f.segments;
        }, CORRUPT),
      ],
    });
    defineCase({
      name: "stray files beside the shard's own are ignored",
      damages: () => [
        dmg(
          "a file and a dot-directory in segments/, leftovers of interrupted atomic writes",
          "pristine",
          (f) => {
            writeFileSync(join(f.segments, "stray"), "x");
            mkdirSync(join(f.segments, ".trash"));
            writeFileSync(`${f.config}.tmp`, "{");
            writeFileSync(`${f.segmentJson}.tmp`, "");
            return f.dir;
          },
          LOADS_FINAL,
        ),
        dmg(".lock of garbage (the lock is the flock, not the contents)", "pristine", (f) => {
          return replaceWith(join(f.dir, ".lock"), new Uint8Array([0xff, 0, 1]));
        }, LOADS_FINAL),
      ],
    });
    defineCase({
      name:
        "a missing shard directory, a file in its place or a directory where .lock should be is a typed error",
      damages: () => [
        dmg("the shard directory missing", "pristine", (f) => replaceWith(f.dir, "missing"), NOT_FOUND),
        dmg("the shard directory a file", "pristine", (f) => replaceWith(f.dir, "x"), {
          throws: ["IO", "NOT_FOUND"],
        }),
        dmg(".lock a directory", "pristine", (f) => replaceWith(join(f.dir, ".lock"), "directory"), IO),
      ],
    });
    defineCase({
      name: "a regular file where wal/ should be is a typed error naming it",
      damages: () => [dmg("wal/ is a file", "pristine", (f) =>
        replaceWith(f.walDir, "x"), { throws: ["IO", "CORRUPT"] })],
    });
    defineCase({
      name: "a regular file where segments/ should be is a typed error naming it",
      damages: () => [
        dmg("segments/ is a file", "pristine", (f) => replaceWith(f.segments, "x"), {
          throws: ["IO", "CORRUPT"],
        }),
      ],
    });
  });

  describe("vector files (in a child process)", () => {
    for (const slot of [0, 1, 2]) {
      defineCase({
        name: `every flipped byte of the ${slot}.vec header is CORRUPT, naming the file`,
        child: true,
        damages: () =>
          range(0, 64).map((at) =>
            dmg(`byte ${at} flipped`, "pristine", (f) => flip(f.vec(slot), at), CORRUPT)
          ),
      });
    }
    const header = (label: string, slot: number, change: (v: DataView) => void, expect: Expect): Damage =>
      dmg(`${slot}.vec ${label}`, "pristine", (f) => editHeader(f.vec(slot), change), expect);
    const u32 = (at: number, value: number) => (v: DataView) => v.setUint32(at, value, true);
    const both = (...changes: ((v: DataView) => void)[]) => (v: DataView) =>
      changes.forEach((change) => change(v));
    const count = (n: number | bigint) => (v: DataView) => v.setBigUint64(32, BigInt(n), true);
    const capacity = (n: number | bigint) => (v: DataView) => v.setBigUint64(40, BigInt(n), true);
    const invalid: Expect = { throws: ["INVALID_ARGUMENT"] };
    defineCase({
      name:
        "a header with a valid checksum but the wrong dimension or datatype is INVALID_ARGUMENT, naming the file",
      child: true,
      damages: () => [
        header("dimension 8", 0, both(u32(20, 8), u32(24, 32)), invalid),
        header("float16", 0, both(u32(16, 1), u32(24, 8)), invalid),
        header("float32", 1, both(u32(16, 0), u32(24, 8)), invalid),
        header("float16", 2, both(u32(16, 1), u32(24, 6)), invalid),
      ],
    });
    defineCase({
      name: "a header with a valid checksum but impossible fields is CORRUPT, naming the file",
      child: true,
      damages: (b) => [
        header("format version 2", 0, u32(8, 2), CORRUPT),
        header("header size 128", 0, u32(12, 128), CORRUPT),
        header("records at 128", 0, u32(28, 128), CORRUPT),
        header("datatype 3", 0, u32(16, 3), CORRUPT),
        header("dimension 0", 0, both(u32(20, 0), u32(24, 0)), CORRUPT),
        header("dimension 65537", 1, both(u32(20, 65537), u32(24, 131074)), CORRUPT),
        header("record size 17", 0, u32(24, 17), CORRUPT),
        header("count above capacity", 0, (v) => count(v.getBigUint64(40, true) + 1n)(v), CORRUPT),
        header("count past the end of the file", 2, both(count(100_000), capacity(100_000)), CORRUPT),
        header("count 2^62", 0, both(count(2n ** 62n), capacity(2n ** 62n)), CORRUPT),
        header(
          `count ${b.vectorCounts[1] + 1}, one record past what was written`,
          1,
          count(b.vectorCounts[1] + 1),
          {
            loads: FINAL,
            throws: ["CORRUPT"],
          },
        ),
      ],
    });
    defineCase({
      name: "a header with nonzero reserved bytes or a capacity past the end of the file loads everything",
      child: true,
      damages: () => [
        header("reserved bytes set", 0, u32(52, 0xdeadbeef), LOADS_FINAL),
        header("capacity 2^40", 1, capacity(2n ** 40n), LOADS_FINAL),
      ],
    });
    defineCase({
      name:
        "a vector file cut below its count, zero-length, missing or a directory is a typed error naming it",
      child: true,
      damages: (b) =>
        [0, 1, 2].flatMap((slot) => [
          dmg(`${slot}.vec zero-length`, "pristine", (f) => truncate(f.vec(slot), 0), CORRUPT),
          dmg(`${slot}.vec cut to 63 bytes`, "pristine", (f) => truncate(f.vec(slot), 63), CORRUPT),
          dmg(`${slot}.vec cut to its header`, "pristine", (f) => truncate(f.vec(slot), 64), CORRUPT),
          dmg(`${slot}.vec cut inside its last record`, "pristine", (f) => {
            return truncate(f.vec(slot), 64 + b.vectorCounts[slot] * RECORD_BYTES[slot] - 1);
          }, CORRUPT),
          dmg(`${slot}.vec missing`, "pristine", (f) => replaceWith(f.vec(slot), "missing"), NOT_FOUND),
          dmg(
            `${slot}.vec a directory`,
            "pristine",
            (f) => replaceWith(f.vec(slot), "directory"),
            NOT_A_FILE,
          ),
        ]),
    });
    defineCase({
      name: "a vector file cut to exactly its records, or with an unnamed file beside it, loads everything",
      child: true,
      damages: (b) => [
        ...[0, 1, 2].map((slot) =>
          dmg(`${slot}.vec cut after record ${b.vectorCounts[slot] - 1}`, "pristine", (f) => {
            return truncate(f.vec(slot), 64 + b.vectorCounts[slot] * RECORD_BYTES[slot]);
          }, LOADS_FINAL)
        ),
        dmg("vectors/7.vec of garbage", "pristine", (f) => replaceWith(f.vec(7), "garbage"), LOADS_FINAL),
      ],
    });
    defineCase({
      name: "a missing vectors/ directory, or a file in its place, is a typed error naming it",
      child: true,
      damages: () => [
        dmg("vectors/ missing", "pristine", (f) => replaceWith(f.vectors, "missing"), NOT_FOUND),
        dmg("vectors/ a file", "pristine", (f) => replaceWith(f.vectors, "x"), {
          throws: ["IO", "NOT_FOUND"],
        }),
      ],
    });
    defineCase({
      name:
        "a vector file whose count fell back to the flush (a power cut before its header page was written) " +
        "loses nothing or is CORRUPT",
      child: true,
      damages: (b) =>
        [0, 1, 2].map((slot) =>
          header(`count ${b.vectorCountsFlushed[slot]}`, slot, count(b.vectorCountsFlushed[slot]), {
            loads: FINAL,
            throws: ["CORRUPT"],
          })
        ),
    });
  });

  describe("hostile records with valid checksums (in a child process)", () => {
    const op = FINAL + 1;
    const wal = (label: string, body: Uint8Array, expect: Expect = CORRUPT): Damage =>
      dmg(label, "pristine", (f) => appendRecord(f.wal, body), expect);
    const upsert = (vectors: Record<string, [number, number]>) =>
      JSON.stringify({ kind: "upsert", mode: "upsert", points: [{ key: "5", vectors, payload: {} }] });
    defineCase({
      name: "a WAL record too short for its header or its JSON, or with a falling op number, is CORRUPT",
      child: true,
      damages: () => [
        wal("an 8-byte body", new Uint8Array(8)),
        wal("a JSON length past the body", withView(walBody(op, "{}"), u32Of(8, 1000))),
        wal(
          "an op number that does not rise",
          walBody(FLUSHED + 1, JSON.stringify({ kind: "delete", keys: [] })),
        ),
      ],
    });
    defineCase({
      name: "a WAL record whose body is not a JSON operation is CORRUPT, naming the file",
      child: true,
      damages: () => [
        wal("not JSON", walBody(op, "{not json")),
        wal("not UTF-8", walBody(op, new Uint8Array([0xff, 0xfe, 0x7b]))),
        wal("null", walBody(op, "null")),
        wal("an upsert without points", walBody(op, JSON.stringify({ kind: "upsert", mode: "upsert" }))),
      ],
    });
    defineCase({
      name: "a WAL record with an operation the shard cannot apply is CORRUPT, never applied silently",
      child: true,
      damages: () => [
        wal("an unknown kind", walBody(op, JSON.stringify({ kind: "frobnicate" }))),
        wal("an unknown vector", walBody(op, upsert({ zz: [0, 1] }), [1])),
        wal("a vector of 2 values for size 4", walBody(op, upsert({ a: [0, 2] }), [1, 2])),
        wal("a vector of 8 values for size 4", walBody(op, upsert({ a: [0, 8] }), [1, 2, 3, 4, 5, 6, 7, 8])),
        wal("a vector range past the record's values", walBody(op, upsert({ a: [0, 4] }))),
      ],
    });
    // Records appended after the flush are cut off unread by a writer (the WAL replays what the logs held
    // after the flush), so loading the final state is as right as CORRUPT.
    const CUT_OR_CORRUPT: Expect = { loads: FINAL, throws: ["CORRUPT"] };
    const tracker = (label: string, body: Uint8Array): Damage =>
      dmg(`id_tracker.log: ${label}`, "pristine", (f) => appendRecord(f.tracker, body), CUT_OR_CORRUPT);
    const payload = (label: string, body: Uint8Array, expect: Expect = CUT_OR_CORRUPT): Damage =>
      dmg(`payload.log: ${label}`, "pristine", (f) => appendRecord(f.payload, body), expect);
    defineCase({
      // These records are appended after the flush, where a writer cuts the logs back without reading
      // them (the WAL replays what they held), so loading everything is right too.
      name:
        "an id tracker or payload record that does not decode is CORRUPT, naming the file, or cut off unread",
      child: true,
      damages: () => [
        tracker("entry kind 7", trackerBody(op, { kind: 7, id: 5, offset: 0n, mask: 0 })),
        tracker("id kind 9", trackerBody(op, { idKind: 9, id: 5, offset: 0n, mask: 0 })),
        tracker("a body of whole entries plus one byte", trackerBody(op, { id: 5, offset: 0n, mask: 0 }, 1)),
        payload("more entries than the record holds", payloadBody([{ offset: 0n, text: "{}" }], 1000)),
        payload("a text running past the record", payloadBody([{ offset: 0n, text: "{}", length: 50 }])),
      ],
    });
    defineCase({
      name: "an id tracker record pointing past the vector files is CORRUPT, naming the file",
      child: true,
      damages: (b) => [
        tracker(
          "point 5 at the offset after the last record",
          trackerBody(op, { id: 5, offset: BigInt(b.vectorCounts[0]), mask: 1 }),
        ),
        tracker("point 5 at offset 2^40", trackerBody(op, { id: 5, offset: 2n ** 40n, mask: 0 })),
      ],
    });
    defineCase({
      name: "a payload record that is not JSON, or at an absurd offset, is CORRUPT, naming the file",
      child: true,
      damages: (b) => [
        payload("offset 2^40", payloadBody([{ offset: 2n ** 40n, text: "{}" }])),
        payload(
          "the last point's payload replaced by text that is not JSON",
          payloadBody([{ offset: BigInt(b.vectorCounts[0] - 1), text: '{"k": ' }]),
          { loads: FINAL, throws: ["CORRUPT"], orOnRead: true },
        ),
      ],
    });
    defineCase({
      name:
        "a segment.json naming vector files that disagree with them is INVALID_ARGUMENT, naming the vector file",
      child: true,
      damages: () => [
        dmg("segment.json: vector a of size 3", "pristine", (f) => {
          const state = JSON.parse(readFileSync(f.segmentJson, "utf8"));
          state.vectors.a.size = 3;
          replaceWith(f.segmentJson, JSON.stringify(state));
          return f.vec(0);
        }, { throws: ["INVALID_ARGUMENT"] }),
      ],
    });
    defineCase({
      name: "a segment.json whose vector entries are malformed is CORRUPT, naming it",
      child: true,
      damages: () =>
        ([
          ["a null entry", (vectors) => (vectors.a = null)],
          ["datatype float64", (vectors) => (vectors.a!.datatype = "float64")],
          ['slot "x"', (vectors) => (vectors.a!.slot = "x")],
        ] as [string, (vectors: Record<string, Record<string, unknown> | null>) => void][]).map((
          [label, change],
        ) =>
          dmg(`segment.json: ${label}`, "pristine", (f) => {
            const state = JSON.parse(readFileSync(f.segmentJson, "utf8"));
            change(state.vectors);
            return replaceWith(f.segmentJson, JSON.stringify(state));
          }, CORRUPT)
        ),
    });
  });
});

function u32Of(at: number, value: number): (view: DataView) => void {
  return (view) => view.setUint32(at, value, true);
}
