/**
 * A fresh process of the benchmark's runtime, for measurements that must reuse no state of the benchmark's
 * own process (module instances, the loaded native library, JIT, heap): run by `runEdgeChild` in
 * `bench/_datasets.ts` as `deno run -A bench/peers/edge_child.ts '<json>'` or `bun bench/peers/edge_child.ts
 * '<json>'`, it prints ONE JSON line (`{"error": ...}` and exit status 1 on failure).
 *
 * Commands (`"command"` in the request):
 * - `baseline` `{}`: only imports the module (`mod.ts`) and reports the process's memory.
 * - `open` `{path, vectors, query_index, warm_queries}`: imports the module, times `EdgeShard.load` and the
 *   first query (the vector of point `query_index`), reports the memory right after them, then times a
 *   few more queries.
 * - `profile` `{path}`: times the phases of opening a shard one by one (the parts `EdgeShard.load` runs),
 *   to see where the open time goes.
 *
 * @module
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { procMemory } from "../_memory.ts";

const DIM = 384;
const request = JSON.parse(process.argv.at(-1)!) as Record<string, unknown>;

try {
  const commands: Record<string, () => Promise<Record<string, unknown>>> = { baseline, open, profile };
  const command = commands[request.command as string];
  if (command === undefined) throw new Error(`unknown command ${JSON.stringify(request.command)}`);
  console.log(JSON.stringify(await command()));
} catch (error) {
  console.log(JSON.stringify({ error: (error as Error).stack ?? String(error) }));
  process.exit(1);
}

async function baseline(): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  await import("../../mod.ts");
  const importMs = performance.now() - t0;
  return { import_ms: importMs, rss: process.memoryUsage().rss, memory: procMemory() };
}

async function open(): Promise<Record<string, unknown>> {
  const query = readRow(request.vectors as string, request.query_index as number);
  const t0 = performance.now();
  const { EdgeShard } = await import("../../mod.ts");
  const t1 = performance.now();
  const shard = await EdgeShard.load(request.path as string);
  const t2 = performance.now();
  const hits = shard.query({ query, limit: 10 });
  const t3 = performance.now();
  const rss = process.memoryUsage().rss;
  const memory = procMemory();
  const warm: number[] = [];
  for (let i = 0; i < ((request.warm_queries as number | undefined) ?? 5); i++) {
    const t = performance.now();
    shard.query({ query, limit: 10 });
    warm.push(performance.now() - t);
  }
  const count = shard.count();
  shard.close();
  return {
    import_ms: t1 - t0,
    load_ms: t2 - t1,
    first_query_ms: t3 - t2,
    warm_query_ms: warm.length > 0 ? warm.sort((a, b) => a - b)[warm.length >> 1] : null,
    top_id: hits[0]?.id ?? null,
    count,
    rss,
    memory,
  };
}

/** Phases of `EdgeShard.load` on `path`, each timed alone (cold: in the order load runs them). */
async function profile(): Promise<Record<string, unknown>> {
  const path = request.path as string;
  const ms: Record<string, number> = {};
  const time = <T>(name: string, f: () => T): T => {
    const t = performance.now();
    const out = f();
    ms[name] = (ms[name] ?? 0) + performance.now() - t;
    return out;
  };
  let t = performance.now();
  await import("../../mod.ts");
  ms.import_module = performance.now() - t;
  const { nativeLibrary } = await import("../../lib/ffi/loader.ts");
  const { readJson } = await import("../../lib/storage/atomic_file.ts");
  const { VectorStorage } = await import("../../lib/kernel/vector_storage.ts");
  const { IdTracker } = await import("../../lib/segment/id_tracker.ts");
  const { PayloadStorage } = await import("../../lib/segment/payload_storage.ts");
  const { Segment } = await import("../../lib/segment/segment.ts");
  const { LogKind, RecordLog } = await import("../../lib/storage/record_log.ts");
  const { crc32c } = await import("../../lib/storage/crc32c.ts");
  const { Wal } = await import("../../lib/shard/wal.ts");
  t = performance.now();
  const native = await nativeLibrary();
  ms.native_library = performance.now() - t;

  const config = time("read_config", () => readJson(join(path, "edge_config.json")));
  const segmentDir = time(
    "list_segments",
    () => join(path, "segments", readdirSync(join(path, "segments"))[0]),
  );
  const state = readJson(join(segmentDir, "segment.json")) as {
    vectors: Record<string, { slot: number; datatype: string }>;
    flushed?: { id_tracker_image_bytes?: number; payload_image_bytes?: number };
  };
  const readOnly = { readOnly: true };
  // Cold, in the order Segment.open runs them.
  for (const v of Object.values(state.vectors)) {
    const file = join(segmentDir, "vectors", `${v.slot}.vec`);
    time(
      "vectors_open",
      () => VectorStorage.open(native, file, { dim: DIM, datatype: "float32", ...readOnly }),
    ).close();
  }
  // From the images the last flush saved (what Segment.open does), then by replaying the whole logs.
  const trackerImage = {
    imagePath: join(segmentDir, "id_tracker.img"),
    imageLogBytes: state.flushed?.id_tracker_image_bytes,
  };
  const payloadImage = {
    imagePath: join(segmentDir, "payload.img"),
    imageLogBytes: state.flushed?.payload_image_bytes,
  };
  time(
    "id_tracker_open",
    () => IdTracker.open(join(segmentDir, "id_tracker.log"), { ...readOnly, ...trackerImage }),
  )
    .close();
  time(
    "payload_open",
    () => PayloadStorage.open(join(segmentDir, "payload.log"), { ...readOnly, ...payloadImage }),
  )
    .close();
  time("id_tracker_open_replaying_log", () => IdTracker.open(join(segmentDir, "id_tracker.log"), readOnly))
    .close();
  time("payload_open_replaying_log", () => PayloadStorage.open(join(segmentDir, "payload.log"), readOnly))
    .close();
  // The whole segment, for reference (its parts now run a second time, JIT-warm).
  const segment = time("segment_open_whole", () => Segment.open(native, segmentDir, readOnly));
  const query = new Float32Array(DIM).fill(1 / Math.sqrt(DIM));
  time("first_search", () => segment.searchExact("", query, 10));
  time("second_search", () => segment.searchExact("", query, 10));
  segment.close();
  // The part only the Segment constructor does: marking every live offset in the per-vector presence
  // bitset (replicated here, for the one vector of the benchmark shards).
  const tracker = IdTracker.open(join(segmentDir, "id_tracker.log"), { ...readOnly, ...trackerImage });
  time("presence_bitset_replica", () => {
    const bits = new Uint8Array(Math.max(128, (tracker.nextOffset >> 3) + 1));
    tracker.forEachLive((offset, mask) => {
      if ((mask & 1) !== 0) bits[offset >> 3] |= 1 << (offset & 7);
    });
    return bits;
  });
  tracker.close();
  // The log scans alone (read + CRC of every record, no decoding), and the CRC alone over as many bytes:
  // what the open spends beyond them is decoding the records and indexing them in memory.
  const bodies: Uint8Array[] = [];
  time(
    "id_tracker_scan_only",
    () =>
      RecordLog.open(
        join(segmentDir, "id_tracker.log"),
        LogKind.idTracker,
        (r) => bodies.push(r.body),
        readOnly,
      ),
  ).close();
  time(
    "payload_scan_only",
    () =>
      RecordLog.open(join(segmentDir, "payload.log"), LogKind.payload, (r) => bodies.push(r.body), readOnly),
  ).close();
  const logBytes = statSync(join(segmentDir, "id_tracker.log")).size +
    statSync(join(segmentDir, "payload.log")).size;
  const all = new Uint8Array(logBytes);
  all.set(readFileSync(join(segmentDir, "id_tracker.log")));
  all.set(readFileSync(join(segmentDir, "payload.log")), statSync(join(segmentDir, "id_tracker.log")).size);
  time("crc32c_of_both_logs", () => crc32c(all));
  let walRecords = 0;
  time("wal_open", () => Wal.open(join(path, "wal"), 0, () => walRecords++)).close();
  for (const key of Object.keys(ms)) ms[key] = Number(ms[key].toFixed(3));
  return {
    ms,
    config_vectors: Object.keys((config as { vectors: object }).vectors).length,
    id_tracker_log_bytes: statSync(join(segmentDir, "id_tracker.log")).size,
    payload_log_bytes: statSync(join(segmentDir, "payload.log")).size,
    wal_records: walRecords,
    records_scanned: bodies.length,
  };
}

function readRow(path: string, index: number): Float32Array {
  const out = new Float32Array(DIM);
  const fd = openSync(path, "r");
  try {
    readSync(fd, new Uint8Array(out.buffer), 0, DIM * 4, index * DIM * 4);
  } finally {
    closeSync(fd);
  }
  return out;
}
