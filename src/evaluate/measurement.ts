// A check's measurement as its result holds it: what a saved report is
// re-judged from (src/report/rejudge.ts), and what a runner's job sends back
// for the lead to judge with its own dependencies and baseline.
import type { Measurement } from "../probes/api.js";
import type { CheckResult } from "../report/schema.js";

/** What a check measured, as its saved result holds it. */
export function measurementOf(check: CheckResult): Measurement {
  const error = check.failure?.source === "probe" ? check.failure : undefined;
  return {
    phasesMs: check.phasesMs,
    metrics: check.metrics,
    ...(check.details ? { details: check.details } : {}),
    ...(error ? { error: { class: error.class, message: error.message, hint: error.hint, ...(error.code ? { code: error.code } : {}), ...(error.phase ? { phase: error.phase } : {}), ...(error.diagnosis ? { diagnosis: error.diagnosis } : {}) } } : {}),
  };
}
