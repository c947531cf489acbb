// The exit-code contract (documented in --help and README).
import type { RunReport } from "./report/schema.js";
import { INTERRUPT_SIGNALS } from "./diagnose/vocabulary.js";

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

/** The exit code of a run stopped by a signal, as a shell reports a process killed by it: 128 + N (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export function signalExitCode(signal: keyof typeof INTERRUPT_SIGNALS): number {
  return 128 + INTERRUPT_SIGNALS[signal];
}

/** A check that failed as `internal` is a bug in infra-check, whatever else failed: exit 3 says so to a script. */
export function exitCodeFor(report: RunReport): number {
  // An interrupted run ends as the signal asked, whatever it had found so far (a CI job timeout is not a check failure).
  if (report.interrupted) return signalExitCode(report.interrupted.signal);
  if (report.checks.some((check) => check.failure?.class === "internal")) return EXIT.INTERNAL;
  return report.ok ? EXIT.OK : EXIT.FAILED;
}
