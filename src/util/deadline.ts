// Deadlines are inherited: run deadline → check budget → the probe's own
// inner deadline → client options. One policy for each step, here:
// - a check's budget is the smaller of its timeout and what is left of the
//   run, minus REPORT_MARGIN_MS to evaluate and print after the last check;
// - a probe gives up on its own a little before its budget ends
//   (innerMarginMs), so its failure names the wait that ran out ("waited 2 s
//   for HTTP 101", "the query was cancelled") instead of the runner's
//   generic "no answer within the budget"; the margin leaves room for one
//   more round trip (a PostgreSQL cancel, a gRPC status);
// - clients get a backstop just after the budget (clientTimeoutMs), so a
//   client that outlives an aborted check still lets go.
import { setMaxListeners } from "node:events";
import { formatMs } from "./duration.js";

export const REPORT_MARGIN_MS = 50;
/** The inner deadline is this share of the budget before its end, within the bounds below. */
const INNER_MARGIN_SHARE = 0.05;
const MIN_INNER_MARGIN_MS = 10;
const MAX_INNER_MARGIN_MS = 250;
/** A client's own timeout fires this long after the check's budget: a backstop, never the reporter of a stall. */
export const CLIENT_BACKSTOP_MS = 50;

/** How far before its budget a probe stops waiting on its own. */
export function innerMarginMs(budgetMs: number): number {
  return Math.min(MAX_INNER_MARGIN_MS, Math.max(MIN_INNER_MARGIN_MS, budgetMs * INNER_MARGIN_SHARE));
}

/** The reason a check's AbortSignal fires when its budget is spent. */
export class BudgetExceeded extends Error {
  readonly budgetMs: number;
  /** True when the run deadline (not the check's own timeout) cut the budget. */
  readonly byRunDeadline: boolean;
  constructor(budgetMs: number, byRunDeadline: boolean) {
    super(`budget of ${Math.round(budgetMs)} ms exceeded`);
    this.name = "BudgetExceeded";
    this.budgetMs = budgetMs;
    this.byRunDeadline = byRunDeadline;
  }
}

/** The signals that interrupt a run, with the number that makes its exit code (128 + N). */
export const INTERRUPT_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
export type InterruptSignal = keyof typeof INTERRUPT_SIGNALS;

/** The reason a run's AbortSignal fires when the user (Ctrl-C) or the system (a CI job timeout) stops it. */
export class Interrupted extends Error {
  readonly signal: InterruptSignal;
  constructor(signal: InterruptSignal) {
    super(`interrupted by ${signal}`);
    this.name = "Interrupted";
    this.signal = signal;
  }
}

export interface CheckBudget {
  budgetMs: number;
  byRunDeadline: boolean;
}

/** A check's budget: the smaller of its own timeout and what is left of the run, minus the margin. */
export function checkBudget(timeoutMs: number, runRemainingMs: number, marginMs = REPORT_MARGIN_MS): CheckBudget {
  const fromRun = Math.max(0, runRemainingMs - marginMs);
  return fromRun < timeoutMs ? { budgetMs: fromRun, byRunDeadline: true } : { budgetMs: timeoutMs, byRunDeadline: false };
}

/** The abort reason when a probe's inner deadline (not the runner, not the user) ended a wait. */
export const DEADLINE_EXPIRED: unique symbol = Symbol("inner deadline");

/** A probe's own end of its budget (ProbeContext.deadline). */
export interface InnerDeadline {
  /** Aborts at the inner deadline (reason DEADLINE_EXPIRED), or when the check is aborted (its reason). */
  readonly signal: AbortSignal;
  /** "the check's budget of 5 s", for messages. */
  readonly label: string;
  /** ms left before the inner deadline (never negative). */
  remainingMs(): number;
  /** True once the inner deadline itself (not an outside abort) has passed. */
  readonly expired: boolean;
  /** A client library's own timeout: the rest of the whole budget plus the backstop. */
  clientTimeoutMs(): number;
  dispose(): void;
}

/**
 * Arm a probe's inner deadline. It must be created in the same event-loop
 * turn as the runner's budget timer: Node timers count from the loop's cached
 * time, so a timer made in a later turn can fire after the runner's even with
 * a shorter delay whenever that turn ran long. The runner does so for every check.
 */
export function armInnerDeadline(check: { signal: AbortSignal; budgetMs: number; remainingMs(): number; label?: string }): InnerDeadline {
  const controller = new AbortController();
  // One listener per in-flight wait (WebSocket load mode: per connection) is expected here.
  setMaxListeners(0, controller.signal);
  const marginMs = innerMarginMs(check.budgetMs);
  const timer = setTimeout(() => controller.abort(DEADLINE_EXPIRED), Math.max(0, check.remainingMs() - marginMs));
  const onCheckAbort = () => controller.abort(check.signal.reason);
  if (check.signal.aborted) onCheckAbort();
  else check.signal.addEventListener("abort", onCheckAbort, { once: true });
  return {
    signal: controller.signal,
    label: check.label ?? `the check's budget of ${formatMs(check.budgetMs)}`,
    remainingMs: () => Math.max(0, check.remainingMs() - marginMs),
    get expired() {
      return controller.signal.aborted && controller.signal.reason === DEADLINE_EXPIRED;
    },
    clientTimeoutMs: () => Math.max(1, Math.ceil(check.remainingMs())) + CLIENT_BACKSTOP_MS,
    dispose() {
      clearTimeout(timer);
      check.signal.removeEventListener("abort", onCheckAbort);
    },
  };
}

/** Reject with the signal's reason when it aborts; the promise itself is left to settle on its own. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Call `fn` when `signal` aborts (at once, in a microtask, if it already has); returns the unsubscribe. */
export function watchAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    let cancelled = false;
    queueMicrotask(() => {
      if (!cancelled) fn();
    });
    return () => {
      cancelled = true;
    };
  }
  signal.addEventListener("abort", fn, { once: true });
  return () => signal.removeEventListener("abort", fn);
}
