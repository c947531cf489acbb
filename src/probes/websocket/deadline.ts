// The probe's own end of the budget, a few ms before the runner's abort, so a
// failure names the wait that ran out ("waited 2 s for HTTP 101") instead of
// the runner's generic "no answer within the budget".
//
// It must be armed synchronously at the top of run(): Node timers count from
// the event loop's cached time, so a timer created in a later loop turn can
// fire after the runner's (created in the turn the check started) even with a
// shorter delay, whenever that turn ran long (a loaded machine). Created in
// the same turn, ours always expires first.
import { setMaxListeners } from "node:events";
import type { ProbeContext } from "../api.js";
import { formatMs } from "../../util/duration.js";

/** How far before the check's budget the probe gives up on its own. */
export const GUARD_MS = 10;

/** The abort reason when the probe's deadline (not the runner, not the user) ended a wait. */
export const DEADLINE_EXPIRED = Symbol("websocket probe deadline");

export class ProbeDeadline {
  /** Aborts at the deadline (reason DEADLINE_EXPIRED), or when the check itself is aborted (its reason). */
  readonly signal: AbortSignal;
  /** "the check's budget of 5 s", for messages. */
  readonly label: string;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onCheckAbort: () => void;

  constructor(
    private readonly ctx: ProbeContext,
    private readonly guardMs = GUARD_MS,
  ) {
    this.signal = this.controller.signal;
    // One listener per in-flight wait (load mode: per connection) is expected here.
    setMaxListeners(0, this.signal);
    this.label = `the check's budget of ${formatMs(ctx.budgetMs)}`;
    this.timer = setTimeout(() => this.controller.abort(DEADLINE_EXPIRED), Math.max(0, ctx.remainingMs() - guardMs));
    this.onCheckAbort = () => this.controller.abort(ctx.signal.reason);
    if (ctx.signal.aborted) this.onCheckAbort();
    else ctx.signal.addEventListener("abort", this.onCheckAbort, { once: true });
  }

  /** ms left before the probe's deadline (never negative). */
  msLeft(): number {
    return Math.max(0, this.ctx.remainingMs() - this.guardMs);
  }

  /** True once the deadline itself (not an outside abort) has passed. */
  get expired(): boolean {
    return this.signal.aborted && this.signal.reason === DEADLINE_EXPIRED;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.ctx.signal.removeEventListener("abort", this.onCheckAbort);
  }
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
