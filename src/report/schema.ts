// The public report schema (`--format json`, history files, `compare`):
// versioned, documented in docs/json-output.md. Types only — every stage that
// produces or reads a report speaks it; src/report/build.ts is its one builder.
import type { Assertion, Failure, FailureClass, InterruptSignal, MetricValue, Status } from "../diagnose/vocabulary.js";

export const SCHEMA_VERSION = 1;

/** One metric of a check's `baseline` block. */
export interface MetricBaseline {
  /** Median of the metric over the runs that had it. */
  baseline: number;
  value: number;
  /** value / baseline; null when the baseline is 0 (any positive value is "infinitely" slower). */
  ratio: number | null;
  regressed: boolean;
  /** How many runs the median was taken over. */
  runs: number;
}
export type BaselineBlock = Record<string, MetricBaseline>;

export interface CheckResult {
  name: string;
  kind: string;
  /** Redacted, human-readable target (URL without credentials, resource name). */
  target: string;
  status: Status;
  durationMs: number;
  budgetMs: number;
  phasesMs: Record<string, number>;
  metrics: Record<string, MetricValue>;
  assertions: Assertion[];
  failure: Failure | null;
  blockedBy: string[];
  details?: Record<string, MetricValue>;
  labels?: string[];
  /** How many times the check ran (with --wait). */
  attempts?: number;
  /** Timings compared with the baseline (--baseline, history with regression:). */
  baseline?: BaselineBlock;
  /** A check that measured (pass or warn): its figures in one line, from the kind's passLine. */
  summary?: string;
  /** Status `interrupted`: the phase it was in (absent: it had not started), and the signal that stopped the run. */
  interrupted?: { phase?: string; signal?: InterruptSignal };
  /** A check that ran on a runner (`runner:`): where, and the runner's own phases. */
  runner?: RunnerBlock;
}

/** `checks[].runner`: the remote vantage point a check ran from (docs/runners.md). */
export interface RunnerBlock {
  /** The runner's name under `runners:`. */
  name: string;
  /** The Cloud Run Job execution (full resource name), once it existed. */
  execution?: string;
  /** The execution's logs in the Cloud console. */
  logUri?: string;
  /** schedule (RunJob), start (the cold start), probe (the execution ran), collect (the result line read): each only when it happened. */
  phasesMs: Record<string, number>;
  /** Where the check's verdict comes from: the job's result line, or — the line not yet in Cloud Logging — the task's exit code. */
  verdictFrom?: "results" | "exit-code";
}

export interface RootCause {
  check: string;
  class: FailureClass;
  message: string;
  /** Checks that were blocked because of this one (transitively). */
  blocks: string[];
}

export interface RunSummary {
  total: number;
  pass: number;
  warn: number;
  fail: number;
  blocked: number;
  /** Present only in an interrupted run: checks that were running or had not started when it was stopped. */
  interrupted?: number;
}

/** `extras.wait`: what `--wait` did. */
export interface WaitSummary {
  waitMs: number;
  attempts: number;
  passedAfterRetry: string[];
  neverPassed: string[];
  /** Never passed, and the reported attempt measured `converged: false`. */
  neverConverged: string[];
  /** Never passed, and the reported attempt measured `converged: true`. */
  convergedButBroken: string[];
  /** Failed in a way waiting cannot fix (auth, config, not-found) — or blocked only by such a check — and so not retried (without --wait-all). */
  notRetried?: string[];
}

export interface Regression {
  check: string;
  metric: string;
  baseline: number;
  value: number;
  ratio: number | null;
}

/** `extras.baseline`: what the run was compared with. */
export interface BaselineSummary {
  kind: "history" | "report";
  /** Path as shown to the user. */
  source: string;
  /** How many saved reports the baseline was taken from. */
  reports: number;
  checksWithoutBaseline?: string[];
  regressions: Regression[];
}

export interface RunExtras {
  wait?: WaitSummary;
  baseline?: BaselineSummary;
}

export interface RunReport {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: "infra-check"; version: string };
  env: string;
  configFile?: string;
  startedAt: string;
  durationMs: number;
  deadlineMs: number;
  ok: boolean;
  strict: boolean;
  summary: RunSummary;
  rootCauses: RootCause[];
  checks: CheckResult[];
  /** What optional features did (--wait, --baseline). */
  extras?: RunExtras;
  /** The run was stopped by a signal before every check finished: a partial report (exit 128 + the signal's number). */
  interrupted?: { signal: InterruptSignal };
}

export interface ReporterOptions {
  color: boolean;
  verbose: boolean;
  /** Columns of the terminal the text is printed on; absent for files and pipes (nothing wrapped). */
  width?: number;
}
/** A reporter renders; it never decides the exit code. */
export type Reporter = (report: RunReport, options: ReporterOptions) => string;
/** A reporter whose library renders asynchronously (prom-client). */
export type AsyncReporter = (report: RunReport, options: ReporterOptions) => Promise<string>;
