/**
 * The payload indexes of one segment: per indexed field, a {@linkcode PayloadFieldIndex} over the values
 * each point offset holds at that key. Offsets never change once written (a rewritten point moves to a
 * fresh offset), so an index only grows, and a point that moves or is deleted is removed from it.
 *
 * Each index is saved at a flush, when it changed, as an image (`payload_index/<field as hex>.img`) that
 * records the op number of the flush and wraps the index's own CRC-checked bytes. Opening restores an
 * image that is not newer than the segment's checkpoint, then catches it up with the id tracker: offsets
 * it has not seen are added from their payloads, and offsets that died since are removed. A missing,
 * newer or damaged image is rebuilt from the payloads.
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../errors.ts";
import { createFieldIndex, deserializeFieldIndex, type PayloadFieldIndex } from "../index/mod.ts";
import { parsePath, type PathStep, valuesAt } from "../payload/json_path.ts";
import { ImageKind, readImage, sectionAs, writeImage } from "../storage/image_file.ts";
import type { Payload } from "./payload_storage.ts";

/** One indexed field. */
interface FieldEntry {
  schema: unknown;
  steps: PathStep[];
  index: PayloadFieldIndex;
  /** Changed since its image was saved. */
  dirty: boolean;
}

/** What the indexes need to know of their segment's points. */
export interface IndexedPoints {
  /** One past the highest offset. */
  readonly nextOffset: number;
  /** Whether a live point is at `offset`. */
  isLive(offset: number): boolean;
  /** Calls `visit` for each live offset, ascending. */
  forEachLive(visit: (offset: number) => void): void;
  /** A payload reader for offsets visited in rising order. */
  payloadCursor(): (offset: number) => Payload;
}

const DIR = "payload_index";

/** The payload indexes of one segment. */
export class PayloadIndexes {
  readonly #dir: string;
  readonly #fields = new Map<string, FieldEntry>();

  constructor(segmentDir: string) {
    this.#dir = join(segmentDir, DIR);
  }

  /**
   * Opens the indexes `schemas` names (field → schema as `create_field_index` took it) for a segment whose
   * checkpoint is at op `checkpointVersion`, restoring images where they are usable.
   */
  static open(
    segmentDir: string,
    schemas: Readonly<Record<string, unknown>>,
    points: IndexedPoints,
    checkpointVersion: number,
  ): PayloadIndexes {
    const indexes = new PayloadIndexes(segmentDir);
    for (const [field, schema] of Object.entries(schemas)) {
      const restored = indexes.#restore(field, schema, checkpointVersion);
      if (restored === undefined) {
        indexes.create(field, schema, points);
      } else {
        catchUp(restored.index, points, restored.steps);
        indexes.#fields.set(field, { schema, steps: restored.steps, index: restored.index, dirty: true });
      }
    }
    return indexes;
  }

  /** The indexed fields. */
  get fields(): string[] {
    return [...this.#fields.keys()];
  }

  /** The index on exactly this key, if any. */
  get(field: string): PayloadFieldIndex | undefined {
    return this.#fields.get(field)?.index;
  }

  /** The schema `field` was indexed with. */
  schemaOf(field: string): unknown {
    return this.#fields.get(field)?.schema;
  }

  /** Builds an index on `field` over the live points (replacing one with another schema). */
  create(field: string, schema: unknown, points: IndexedPoints): void {
    const steps = parsePath(field, "create_field_index.field_name");
    const index = createFieldIndex(schema);
    const read = points.payloadCursor();
    points.forEachLive((offset) => index.add(offset, valuesAt(read(offset), steps)));
    this.#fields.set(field, { schema, steps, index, dirty: true });
  }

  /** Drops the index on `field` and its image. */
  drop(field: string): void {
    if (!this.#fields.delete(field)) return;
    rmSync(imagePath(this.#dir, field), { force: true });
  }

  /** Indexes the payload written at a fresh `offset`. */
  add(offset: number, payload: Payload): void {
    for (const entry of this.#fields.values()) {
      entry.index.add(offset, valuesAt(payload, entry.steps));
      entry.dirty = true;
    }
  }

  /** Removes an offset whose point moved or was deleted. */
  remove(offset: number): void {
    for (const entry of this.#fields.values()) {
      entry.index.remove(offset);
      entry.dirty = true;
    }
  }

  /** Saves an image of every index changed since its last one, as of op `version`. */
  save(version: number): void {
    for (const [field, entry] of this.#fields) {
      if (!entry.dirty) continue;
      mkdirSync(this.#dir, { recursive: true });
      writeImage(imagePath(this.#dir, field), ImageKind.payloadIndex, version, [
        new Float64Array([version]),
        entry.index.serialize(),
      ]);
      entry.dirty = false;
    }
    // Images of dropped fields (a crash between a drop and its removal leaves one) are garbage.
    if (existsSync(this.#dir)) {
      const kept = new Set([...this.#fields.keys()].map((field) => fileName(field)));
      for (const name of readdirSync(this.#dir)) {
        if (!kept.has(name)) rmSync(join(this.#dir, name), { force: true });
      }
    }
  }

  #restore(
    field: string,
    schema: unknown,
    checkpointVersion: number,
  ): { index: PayloadFieldIndex; steps: PathStep[] } | undefined {
    const steps = parsePath(field, "payload index field");
    const path = imagePath(this.#dir, field);
    // The image's header names the op number it was saved at; only one not newer than the checkpoint
    // describes offsets that the logs (cut back to the checkpoint) still hold.
    const image = readImageAtMost(path, checkpointVersion);
    if (image === undefined) return undefined;
    try {
      const index = deserializeFieldIndex(image);
      if (JSON.stringify(index.schema) !== JSON.stringify(createFieldIndex(schema).schema)) return undefined;
      return { index, steps };
    } catch (error) {
      if (error instanceof OperationError && error.status === "CORRUPT") return undefined;
      throw error;
    }
  }
}

/** Reads an index image saved at an op number at most `version`; its index bytes, or undefined. */
function readImageAtMost(path: string, version: number): Uint8Array | undefined {
  const peek = readImage(path, ImageKind.payloadIndex);
  if (peek === undefined || peek.sections.length !== 2) return undefined;
  const meta = sectionAs(Float64Array, peek.sections[0]);
  if (meta?.length !== 1 || meta[0] > version) return undefined;
  return peek.sections[1];
}

/** Brings a restored index up to the segment's points: adds offsets it never saw, removes dead ones. */
function catchUp(index: PayloadFieldIndex, points: IndexedPoints, steps: PathStep[]): void {
  const seen = index.offsetCount;
  for (let offset = 0; offset < Math.min(seen, points.nextOffset); offset++) {
    if (!points.isLive(offset) && !index.isRemoved(offset)) index.remove(offset);
  }
  const read = points.payloadCursor();
  points.forEachLive((offset) => {
    if (offset >= seen) index.add(offset, valuesAt(read(offset), steps));
  });
}

function fileName(field: string): string {
  return `${
    Array.from(new TextEncoder().encode(field), (b) => b.toString(16).padStart(2, "0")).join("")
  }.img`;
}

function imagePath(dir: string, field: string): string {
  return join(dir, fileName(field));
}
