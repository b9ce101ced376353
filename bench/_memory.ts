/**
 * Memory of the running process, for the footprint benchmark and its child processes.
 *
 * @module
 */
import { readFileSync } from "node:fs";

/** Resident memory of this process from `/proc/self/status` (bytes; empty off Linux). */
export function procMemory(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync("/proc/self/status", "utf8").split("\n")) {
      const match = line.match(/^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem):\s+(\d+) kB/);
      if (match) out[match[1]] = Number(match[2]) * 1024;
    }
  } catch {
    // Not Linux.
  }
  return out;
}
