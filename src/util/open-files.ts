// How many checks may be in flight at once by default: sized to this
// process's open-files limit, so a 1,000-check config never asks the kernel
// for more sockets than it will give (EMFILE would read like a network
// failure on every check past the limit). Each check holds at most a few
// descriptors at a time: its connection, the sampling worker's, a
// post-mortem or cancel connection, a certificate file being read.
import { readFileSync } from "node:fs";

/** Descriptors one check may hold at once. */
export const FDS_PER_CHECK = 4;
/** Kept for the process itself: stdio, the event loop, the worker, DNS, output files, the modules being read. */
export const RESERVED_FDS = 64;
/** Without a known limit (not Linux): what a 1,024 limit allows. */
const FALLBACK_LIMIT = 1024;

/** The soft open-files limit (`ulimit -n`), from /proc/self/limits; undefined where that is not available. */
export function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "latin1")
      .split("\n")
      .find((row) => row.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    if (!soft) return undefined;
    if (soft === "unlimited") return Number.MAX_SAFE_INTEGER;
    const value = Number(soft);
    return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The default `concurrency:` for a limit of `limit` open files (at least 1). */
export function defaultConcurrency(limit = openFilesLimit() ?? FALLBACK_LIMIT): number {
  return Math.max(1, Math.floor((Math.min(limit, 1_000_000) - RESERVED_FDS) / FDS_PER_CHECK));
}
