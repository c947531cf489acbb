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
// - a check that never passed keeps its last attempt's failure — unless the
//   end of the wait squeezed that attempt: run on a smaller budget than the
//   attempt before it, it failed differently (typically a timeout where the
//   previous attempt saw the real state). Then the previous attempt's result
//   is kept (`attempts` still counts both): a squeezed attempt measures the
//   wait, not the check;
// - of those, a cloud resource is labelled by the rule below: "never converged"
//   or "converged but broken";
// - `extras.wait` = { waitMs, attempts, passedAfterRetry, neverPassed,
//   neverConverged, convergedButBroken }.
//
// Convergence rule: a kind whose resource can be mid-change reports a boolean
// `converged` metric — cloud-run: the rollout has finished (even if its newest
// revision failed); vpc-connector, memorystore: no operation in progress. The
// reported attempt's value decides: false → "never converged" (the wait ran out
// while it was still changing: a longer wait may help), true → "converged but
// broken" (it settled in a bad state: waiting will not help). Checks without
// the metric (data-plane kinds, or a failure before the state was read) get
// neither label. A kind whose resource settled in a failure it will not leave
// by itself (cloud-run: the newest revision failed and the rollout ended)
// also reports `finalFailure: true`: that check is not retried either.
import type { CheckResult, WaitSummary } from "../report/schema.js";
import { formatMs } from "../util/duration.js";

export type { WaitSummary };

export interface WaitOptions {
  waitMs: number;
  /** Delay before retry n (1-based). Default: 1 s, 2 s, 4 s, 8 s, then 10 s. */
  backoffMs?: (retry: number) => number;
  /** Told before each retry (progress display). */
  onRetry?: (retry: RetryInfo) => void;
  /** --wait-all: retry every failure, credentials and config ones too. */
  retryAll?: boolean;
}

/**
 * Failures a cold start does not explain: a wrong password, a contradiction
 * in the config, a thing that does not exist. Waiting cannot fix them, so
 * they are not retried (unless --wait-all), and neither are the checks they block.
 */
export const NOT_RETRIED = new Set(["auth", "config", "not-found"]);

export interface RetryInfo {
  /** The attempt about to start (2 for the first retry). */
  attempt: number;
  /** Checks that will run again. */
  checks: string[];
  delayMs: number;
}

export const NEVER_CONVERGED = "never converged";
export const CONVERGED_BUT_BROKEN = "converged but broken";

export const MAX_BACKOFF_MS = 10_000;
export const defaultBackoffMs = (retry: number): number => Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (retry - 1));

/**
 * Below this much time left, a new attempt could not complete a connection:
 * the wait ends with the results it has instead of a run that can only time out.
 */
export const MIN_ATTEMPT_MS = 100;

/** What the loop needs of the run (src/runner/run-checks.ts passes its own input and options). */
interface RoundInput {
  checks: { name: string }[];
  deadlineMs: number;
}
interface RoundOptions {
  now: () => number;
  clockStartMs: number;
  strict?: boolean;
  log?: (line: string) => void;
  previous?: ReadonlyMap<string, CheckResult>;
  /** The run was stopped (SIGINT/SIGTERM): no more attempts, and the backoff ends at once. */
  signal?: AbortSignal;
}
type Round<I, O> = (input: I, options: O) => Promise<CheckResult[]>;

/** The retry loop described above; `round` runs one pass (src/runner/run-checks.ts). */
export async function runRounds<I extends RoundInput, O extends RoundOptions>(
  input: I,
  runOptions: O,
  wait: WaitOptions,
  round: Round<I, O>,
): Promise<{ checks: CheckResult[]; wait: WaitSummary }> {
  const { now } = runOptions;
  const backoff = wait.backoffMs ?? defaultBackoffMs;
  const strict = runOptions.strict ?? false;
  const waitStart = runOptions.clockStartMs;
  const waitDeadline = waitStart + wait.waitMs;
  const done = new Map<string, CheckResult>();
  const attempts = new Map<string, number>();
  /** The result of each check's attempt before its latest one (for a squeezed last attempt). */
  const beforeLast = new Map<string, CheckResult>();
  const latest = new Map<string, CheckResult>();
  /** Failed for good (NOT_RETRIED), or blocked only by such a failure: kept, not run again. */
  const settled = new Set<string>();
  let last: CheckResult[];

  for (let attempt = 1; ; attempt += 1) {
    const left = waitDeadline - now();
    for (const spec of input.checks) if (!done.has(spec.name)) attempts.set(spec.name, (attempts.get(spec.name) ?? 0) + 1);
    // Each attempt's clock starts now; the wait's own deadline already counts from the process start.
    last = await round({ ...input, deadlineMs: Math.max(0, Math.min(input.deadlineMs, left)) }, { ...runOptions, clockStartMs: now(), previous: done });
    for (const check of last) {
      if (done.has(check.name)) continue;
      if (isDone(check, strict)) done.set(check.name, check);
      else if (!wait.retryAll && settledFailure(check, done, strict)) {
        done.set(check.name, check);
        settled.add(check.name);
      }
      const previous = latest.get(check.name);
      if (previous) beforeLast.set(check.name, previous);
      latest.set(check.name, check);
    }

    const pending = input.checks.filter((spec) => !done.has(spec.name)).map((spec) => spec.name);
    if (pending.length === 0 || runOptions.signal?.aborted) break;
    const remaining = waitDeadline - now();
    const delayMs = Math.min(backoff(attempt), remaining - MIN_ATTEMPT_MS);
    if (delayMs < 0) break;
    wait.onRetry?.({ attempt: attempt + 1, checks: pending, delayMs });
    runOptions.log?.(`--wait: attempt ${attempt + 1} in ${formatMs(delayMs)} (${formatMs(remaining)} left): ${pending.join(", ")}`);
    // Backoff, not synchronisation: give a cold service time before asking again.
    await backoffUnlessStopped(delayMs, runOptions.signal);
    if (runOptions.signal?.aborted) break;
  }

  const rounds = Math.max(...attempts.values(), 1);
  const checks = last.map((check) => {
    const previous = beforeLast.get(check.name);
    // A settled failure (not retried) was final, not cut short.
    const kept = !isDone(check, strict) && !settled.has(check.name) && previous && squeezed(check, previous) ? previous : check;
    if (kept !== check) runOptions.log?.(`--wait: ${check.name}: the last attempt, cut short by the end of the wait (${formatMs(check.budgetMs)} budget), failed with ${check.failure?.class}; reporting the attempt before it`);
    return withAttempts(kept, attempts.get(check.name) ?? 1, strict);
  });
  return {
    checks,
    wait: {
      waitMs: wait.waitMs,
      attempts: rounds,
      passedAfterRetry: checks.filter((check) => isDone(check, strict) && (check.attempts ?? 1) > 1).map((check) => check.name),
      neverPassed: checks.filter((check) => !isDone(check, strict)).map((check) => check.name),
      neverConverged: checks.filter((check) => check.labels?.includes(NEVER_CONVERGED)).map((check) => check.name),
      convergedButBroken: checks.filter((check) => check.labels?.includes(CONVERGED_BUT_BROKEN)).map((check) => check.name),
      ...(settled.size ? { notRetried: [...settled] } : {}),
    },
  };
}

/** Sleep `delayMs`, or less when the run is stopped meanwhile. */
function backoffUnlessStopped(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, delayMs);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** A last attempt that the end of the wait cut short: less budget than the attempt before, and a different failure. */
function squeezed(last: CheckResult, previous: CheckResult): boolean {
  return (
    last.status === "fail" &&
    previous.status === "fail" &&
    last.budgetMs < previous.budgetMs &&
    (last.failure?.class !== previous.failure?.class || last.failure?.code !== previous.failure?.code)
  );
}

/** A failure waiting cannot fix, or a check blocked only by such failures (already settled in `done`). */
function settledFailure(check: CheckResult, done: ReadonlyMap<string, CheckResult>, strict: boolean): boolean {
  if (check.status === "fail") return check.failure !== null && (NOT_RETRIED.has(check.failure.class) || check.metrics.finalFailure === true);
  if (check.status === "blocked") return check.blockedBy.every((name) => done.has(name) && !isDone(done.get(name)!, strict));
  return false;
}

/** Passed (or, unless --strict, warned): never re-run. */
function isDone(check: CheckResult, strict: boolean): boolean {
  return check.status === "pass" || (check.status === "warn" && !strict);
}

function withAttempts(check: CheckResult, attempts: number, strict: boolean): CheckResult {
  if (attempts > 1 && isDone(check, strict)) {
    return { ...check, attempts, labels: [...(check.labels ?? []), `passed after ${attempts} attempts`] };
  }
  const convergence = isDone(check, strict) ? undefined : convergenceLabel(check);
  if (convergence) return { ...check, attempts, labels: [...(check.labels ?? []), convergence] };
  return { ...check, attempts };
}

/** The convergence rule above, for a check that never passed. */
function convergenceLabel(check: CheckResult): string | undefined {
  const converged = check.metrics.converged;
  if (converged === false) return NEVER_CONVERGED;
  if (converged === true) return CONVERGED_BUT_BROKEN;
  return undefined;
}
