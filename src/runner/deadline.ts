// Deadlines are inherited: run deadline → check budget → client options.
// The margin leaves time to evaluate and print after the last check gives up.

export const REPORT_MARGIN_MS = 50;

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

export interface CheckBudget {
  budgetMs: number;
  byRunDeadline: boolean;
}

/** A check's budget: the smaller of its own timeout and what is left of the run, minus the margin. */
export function checkBudget(timeoutMs: number, runRemainingMs: number, marginMs = REPORT_MARGIN_MS): CheckBudget {
  const fromRun = Math.max(0, runRemainingMs - marginMs);
  return fromRun < timeoutMs ? { budgetMs: fromRun, byRunDeadline: true } : { budgetMs: timeoutMs, byRunDeadline: false };
}

/** Reject with the signal's reason when it aborts; the probe's own promise is left to settle on its own. */
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
