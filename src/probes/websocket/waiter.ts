// Waiting for messages that match, on one connection, with a deadline; what
// arrived instead is remembered so the failure can quote it.
import { Diagnosed, diagnosisOf } from "../../diagnose/catalogue.js";
import { type MetricValue } from "../../diagnose/vocabulary.js";
import type { InnerDeadline } from "../api.js";
import { formatMs } from "../../util/duration.js";
import { roundMs } from "../../util/stats.js";
import { closedFailure, type Inbox, type Observations } from "./connection.js";
import { WS } from "./diagnose.js";
import { describeMatch, label, matches, RecentMessages, type CompiledMatch, type Received } from "./match.js";

/** How many event labels a missing-event failure lists. */
const ARRIVED_LABELS = 12;

export interface WaitPlace {
  /** "welcome" or the step's phase name. */
  stage: string;
  /** The config key of the limit, for messages ("welcome.within"). */
  withinKey: string;
  /** A scripted step: a timeout lists the events that arrived. */
  step?: boolean;
}

/** Waits for matching messages on one connection, remembering what arrived instead. */
export class Waiter {
  received = 0;
  private readonly unmatched = new RecentMessages();
  private scriptLabels: string[] = [];
  private inScript = false;

  constructor(
    private readonly inbox: Inbox,
    private readonly deadline: InnerDeadline,
    private readonly observe?: Observations,
  ) {}

  startScript(): void {
    this.inScript = true;
    this.scriptLabels = [];
  }

  async waitFor(match: CompiledMatch, withinMs: number | undefined, where: WaitPlace): Promise<Received> {
    const waitStart = performance.now();
    // `within` gets its own timer; the budget's end is the deadline's signal (see deadline.ts).
    const limitMs = withinMs !== undefined && withinMs < this.deadline.remainingMs() ? withinMs : Number.POSITIVE_INFINITY;
    const ends = waitStart + limitMs;
    const before = this.unmatched.total;
    for (;;) {
      const event = await this.inbox.next(Math.min(ends - performance.now(), 2 ** 31 - 1), this.deadline.signal);
      if (event.type === "message") {
        this.received += 1;
        if (this.observe) this.observe.metrics.messagesReceived = this.received;
        if (this.inScript) {
          this.scriptLabels.push(label(event.message));
          if (this.scriptLabels.length > ARRIVED_LABELS) this.scriptLabels.shift();
        }
        if (matches(event.message, match)) return event.message;
        this.unmatched.add(event.message);
        continue;
      }
      if (event.type === "closed") throw closedFailure(event.code, event.reason, where.stage, this.inScript ? this.arrivedLabels() : this.unmatched.excerpts(), this.observe);
      if (event.type === "error") throw event.error;
      if (this.deadline.signal.aborted && !this.deadline.expired) throw this.deadline.signal.reason;
      const byBudget = this.deadline.expired;
      throw this.timeoutFailure(match, byBudget ? performance.now() - waitStart : limitMs, byBudget, where, this.unmatched.total - before);
    }
  }

  private arrivedLabels(): string[] {
    return [...this.scriptLabels];
  }

  private timeoutFailure(match: CompiledMatch, waitedMs: number, byBudget: boolean, where: WaitPlace, unmatchedHere: number): Diagnosed {
    const limit = byBudget ? `${this.deadline.label}; raise the check's timeout if the server needs longer` : where.withinKey;
    const wait = { stage: where.stage, wanted: describeMatch(match), waited: formatMs(waitedMs), limit };
    const details: Record<string, MetricValue> = { waitedFor: wait.wanted, waitedMs: roundMs(waitedMs) };
    if (this.unmatched.total) details.messagesInstead = this.unmatched.excerpts();
    if (where.step) {
      const arrived = this.arrivedLabels();
      details.eventsArrived = arrived;
      if (this.observe) Object.assign(this.observe.details, details);
      return new Diagnosed(diagnosisOf(WS.EVENT_MISSING, { ...wait, arrived }));
    }
    if (this.observe) Object.assign(this.observe.details, details);
    if (unmatchedHere === 0) return new Diagnosed(diagnosisOf(WS.WELCOME_TIMEOUT, wait));
    return new Diagnosed(diagnosisOf(WS.WELCOME_MISMATCH, { ...wait, instead: this.unmatched.summary() }));
  }
}

