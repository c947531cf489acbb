// The exit-code contract (documented in --help and README).
import type { RunReport } from "./report/schema.js";

export const EXIT = {
  /** Every check passed (warnings allowed unless --strict). */
  OK: 0,
  /** At least one check failed or was blocked (or warned, with --strict). */
  FAILED: 1,
  /** Usage or config error: nothing was probed. */
  USAGE: 2,
  /** A bug in infra-check. */
  INTERNAL: 3,
} as const;

/** A check that failed as `internal` is a bug in infra-check, whatever else failed: exit 3 says so to a script. */
export function exitCodeFor(report: RunReport): number {
  if (report.checks.some((check) => check.failure?.class === "internal")) return EXIT.INTERNAL;
  return report.ok ? EXIT.OK : EXIT.FAILED;
}
