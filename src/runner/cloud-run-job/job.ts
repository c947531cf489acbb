// What travels between the lead and the job: the payload (in an env var of
// the execution's overrides: the checks in the config's own shape, ${VAR}s
// already interpolated, never a secret) and the result line the job prints
// on stdout (Cloud Run makes it a Cloud Logging jsonPayload).
import type { CheckResult } from "../../report/schema.js";

/** The env var of the overrides that carries the payload. */
export const JOB_PAYLOAD_ENV = "INFRA_CHECK_RUNNER_PAYLOAD";
/** `jsonPayload.infraCheck` of the result line: what the lead filters Cloud Logging by. */
export const RESULTS_MARK = "results";

export interface JobPayload {
  env: string;
  runner: string;
  /** The job's own run deadline (a share of what was left of the lead's run). */
  deadlineMs: number;
  gcp?: Record<string, unknown>;
  /** Raw checks, as a config file holds them. */
  checks: Record<string, Record<string, unknown>>;
}

export interface ResultsLine {
  infraCheck: typeof RESULTS_MARK;
  runner: string;
  /** The execution the job ran as ($CLOUD_RUN_EXECUTION), when known. */
  execution?: string;
  exitCode: number;
  checks: CheckResult[];
}
