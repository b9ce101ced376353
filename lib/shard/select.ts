/**
 * Selecting the points of a segment by filter: a predicate per offset over the compiled filter, and the
 * allow-bitset that a filtered vector search passes to the kernel in one call.
 *
 * @module
 */
import { compileFilter } from "../filter/evaluate.ts";
import type { Filter } from "../filter/types.ts";
import type { Payload } from "../segment/payload_storage.ts";
import type { Segment } from "../segment/segment.ts";
import type { IdKey } from "./point_id.ts";

/** Whether the live point at an offset matches. */
export type OffsetTest = (offset: number) => boolean;

/**
 * The filter as a test of offsets of `segment`. The point's payload is read only when a condition needs
 * it, and at most once per test.
 */
export function offsetTest(segment: Segment, filter: Filter): OffsetTest {
  const test = compileFilter(filter);
  const view = new SegmentPointView(segment);
  return (offset) => {
    view.moveTo(offset);
    return test(view);
  };
}

/** The point at one offset, as the filter evaluator sees it; moved from offset to offset, never copied. */
class SegmentPointView {
  readonly #segment: Segment;
  readonly #read: (offset: number) => Payload;
  #offset = -1;
  #key: IdKey | undefined;
  #payload: Payload | undefined;

  constructor(segment: Segment) {
    this.#segment = segment;
    this.#read = segment.payloadCursor();
  }

  moveTo(offset: number): void {
    this.#offset = offset;
    this.#key = undefined;
    this.#payload = undefined;
  }

  get key(): IdKey {
    return this.#key ??= this.#segment.keyAt(this.#offset)!;
  }

  payload(): Payload {
    return this.#payload ??= this.#read(this.#offset);
  }

  hasVector(name: string): boolean {
    return this.#segment.hasVector(name, this.#offset);
  }
}
