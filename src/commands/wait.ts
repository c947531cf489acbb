// `--wait DURATION`: right after a deploy the new revision may still be cold
// or not yet serving. Re-run only the checks that have not passed (failed or
// blocked; warned ones too with --strict) with backoff, until all pass or the
// wait is spent. Checks that passed stay done — the runner's `previous`
// option hands their results to dependents, so a blocked check runs as soon as
// what it depends on has passed.
//
// The wait is a hard budget: each attempt's run deadline is the smaller of the
// configured deadline and what is left of the wait, and backoff never sleeps
// past it, so a run takes at most DURATION plus the runner's reporting margin.
//
// What the report says (documented in docs/ci.md):
// - every check has `attempts` (the rounds it took part in);
// - a check that passed after retries carries the label "passed after N attempts";
// - a check that never passed keeps its last attempt's failure;
// - `extras.wait` = { waitMs, attempts, passedAfterRetry, neverPassed }.
import { buildReport, runChecks, type RunInput, type RunOptions } from "../runner/run-checks.js";
import type { CheckResult, RunReport } from "../types.js";
import { formatMs } from "../util/duration.js";

export interface WaitOptions {
  waitMs: number;
  /** Delay before retry n (1-based). Default: 1 s, 2 s, 4 s, 8 s, then 10 s. */
  backoffMs?: (retry: number) => number;
  /** Told before each retry (progress display). */
  onRetry?: (retry: RetryInfo) => void;
}

export interface RetryInfo {
  /** The attempt about to start (2 for the first retry). */
  attempt: number;
  /** Checks that will run again. */
  checks: string[];
  delayMs: number;
}

export interface WaitSummary {
  waitMs: number;
  attempts: number;
  passedAfterRetry: string[];
  neverPassed: string[];
}

export const MAX_BACKOFF_MS = 10_000;
export const defaultBackoffMs = (retry: number): number => Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (retry - 1));

/**
 * Below this much time left, a new attempt could not complete a connection:
 * the wait ends with the results it has instead of a run that can only time out.
 */
export const MIN_ATTEMPT_MS = 100;

/** One run, or with `wait` the retry loop described above. */
export async function runWithWait(input: RunInput, runOptions: RunOptions, wait?: WaitOptions): Promise<RunReport> {
  if (!wait) return runChecks(input, runOptions);
  const now = runOptions.now ?? (() => performance.now());
  const backoff = wait.backoffMs ?? defaultBackoffMs;
  const strict = runOptions.strict ?? false;
  const waitStart = now();
  const waitDeadline = waitStart + wait.waitMs;
  const done = new Map<string, CheckResult>();
  const attempts = new Map<string, number>();
  let startedAt: string | undefined;
  let last: RunReport;

  for (let attempt = 1; ; attempt += 1) {
    const left = waitDeadline - now();
    for (const spec of input.checks) if (!done.has(spec.name)) attempts.set(spec.name, (attempts.get(spec.name) ?? 0) + 1);
    last = await runChecks({ ...input, deadlineMs: Math.max(0, Math.min(input.deadlineMs, left)) }, { ...runOptions, previous: done });
    startedAt ??= last.startedAt;
    for (const check of last.checks) if (isDone(check, strict)) done.set(check.name, check);

    const pending = input.checks.filter((spec) => !done.has(spec.name)).map((spec) => spec.name);
    if (pending.length === 0) break;
    const remaining = waitDeadline - now();
    const delayMs = Math.min(backoff(attempt), remaining - MIN_ATTEMPT_MS);
    if (delayMs < 0) break;
    wait.onRetry?.({ attempt: attempt + 1, checks: pending, delayMs });
    runOptions.log?.(`--wait: attempt ${attempt + 1} in ${formatMs(delayMs)} (${formatMs(remaining)} left): ${pending.join(", ")}`);
    // Backoff, not synchronisation: give a cold service time before asking again.
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }

  const rounds = Math.max(...attempts.values(), 1);
  const checks = last.checks.map((check) => withAttempts(check, attempts.get(check.name) ?? 1, strict));
  const summary: WaitSummary = {
    waitMs: wait.waitMs,
    attempts: rounds,
    passedAfterRetry: checks.filter((check) => isDone(check, strict) && (check.attempts ?? 1) > 1).map((check) => check.name),
    neverPassed: checks.filter((check) => !isDone(check, strict)).map((check) => check.name),
  };
  return buildReport(input, checks, {
    startedAt: startedAt ?? new Date().toISOString(),
    durationMs: Math.round((now() - waitStart) * 1000) / 1000,
    strict,
    extras: { ...(last.extras ?? {}), wait: summary },
  });
}

/** Passed (or, unless --strict, warned): never re-run. */
function isDone(check: CheckResult, strict: boolean): boolean {
  return check.status === "pass" || (check.status === "warn" && !strict);
}

function withAttempts(check: CheckResult, attempts: number, strict: boolean): CheckResult {
  if (attempts > 1 && isDone(check, strict)) {
    return { ...check, attempts, labels: [...(check.labels ?? []), `passed after ${attempts} attempts`] };
  }
  return { ...check, attempts };
}
