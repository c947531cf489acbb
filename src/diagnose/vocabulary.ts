// The shared vocabulary of results: why a check failed (a closed set of
// classes that hints and reporters switch on), its status, the values a probe
// measures, and the assertions a judgement makes about them. Every stage —
// probes, judgement, runner, reporters — speaks these words; none of them owns them.

import type { JsonValue } from "../util/json-path.js";

/** The closed vocabulary of why a check failed. Hints and reporters switch on it. */
export const FAILURE_CLASSES = [
  "dns",
  "refused",
  "unreachable",
  "tls",
  "auth",
  "permission",
  "not-found",
  "protocol",
  "server-error",
  "timeout",
  "slow",
  "unhealthy",
  "drift",
  "config",
  "internal",
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/**
 * `interrupted`: the run was stopped (SIGINT, SIGTERM, SIGHUP) while the check
 * ran or before it started; it has no verdict, only what it had observed.
 */
export type Status = "pass" | "warn" | "fail" | "blocked" | "interrupted";

/** Every status, in the order reporters list them. */
export const STATUSES: readonly Status[] = ["pass", "warn", "fail", "blocked", "interrupted"];

export { INTERRUPT_SIGNALS, type InterruptSignal } from "../util/deadline.js";

export type MetricValue = JsonValue;

/** A parsed expectation: `"< 200ms"` → { op: "<", value: 200 }. */
export type ExpectOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "~" | "contains";
export interface Expectation {
  op: ExpectOp;
  /** Number (durations already converted to ms, percentages to fractions), string, boolean, null, or a regex source for `~`. */
  value: number | string | boolean | null;
  /** The expectation as written in the config, for messages. */
  source: string;
}

/** Why a measurement failed, as decided by the classifier (or by the probe itself, from the catalogue). */
export interface ClassifiedError {
  class: FailureClass;
  message: string;
  /** Low-level evidence: errno code, SQLSTATE, gRPC status, HTTP status, close code. */
  code?: string;
  /** The catalogue entry this diagnosis comes from (`tcp.REFUSED`, `redis.NOAUTH`, `pg.28P01`). */
  diagnosis?: string;
  /** The phase that was in progress when it failed. */
  phase?: string;
  /** What to do next, when the diagnosis knows better than the kind's hint for its class. */
  hint?: string;
}

export interface Assertion {
  metric: string;
  op: ExpectOp;
  expected: string;
  actual: MetricValue | undefined;
  ok: boolean;
  severity: "fail" | "warn";
  /** The class a failed assertion gives the check (slow for timings, unhealthy, drift …). */
  class?: FailureClass;
  /** A failed assertion that explains itself better than "metric is X, expected Y" (a resource's state). */
  message?: string;
  /** Catalogue entry and evidence of an explained assertion. */
  diagnosis?: string;
  code?: string;
  hint?: string;
}

export interface Failure {
  class: FailureClass;
  message: string;
  hint: string;
  phase?: string;
  code?: string;
  diagnosis?: string;
  /**
   * Where the verdict comes from: the probe could not measure (`probe`), an
   * assertion on what it measured failed (`assertion`), or a regression
   * against the baseline (`baseline`). A saved report is re-judged from this.
   */
  source?: "probe" | "assertion" | "baseline";
}
