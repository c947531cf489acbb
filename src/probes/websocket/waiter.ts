// Waiting for messages that match, on one connection, with a deadline; what
// arrived instead is remembered so the failure can quote it.
import { type MetricValue } from "../../diagnose/vocabulary.js";
import { ProbeFailure } from "../api.js";
import { formatMs } from "../../util/duration.js";
import { roundMs } from "../../util/stats.js";
import { closedFailure, type Inbox } from "./connection.js";
import type { ProbeDeadline } from "./deadline.js";
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
    private readonly deadline: ProbeDeadline,
    private readonly onReceived?: (count: number) => void,
  ) {}

  startScript(): void {
    this.inScript = true;
    this.scriptLabels = [];
  }

  async waitFor(match: CompiledMatch, withinMs: number | undefined, where: WaitPlace): Promise<Received> {
    const waitStart = performance.now();
    // `within` gets its own timer; the budget's end is the deadline's signal (see deadline.ts).
    const limitMs = withinMs !== undefined && withinMs < this.deadline.msLeft() ? withinMs : Number.POSITIVE_INFINITY;
    const ends = waitStart + limitMs;
    const before = this.unmatched.total;
    for (;;) {
      const event = await this.inbox.next(Math.min(ends - performance.now(), 2 ** 31 - 1), this.deadline.signal);
      if (event.type === "message") {
        this.received += 1;
        this.onReceived?.(this.received);
        if (this.inScript) {
          this.scriptLabels.push(label(event.message));
          if (this.scriptLabels.length > ARRIVED_LABELS) this.scriptLabels.shift();
        }
        if (matches(event.message, match)) return event.message;
        this.unmatched.add(event.message);
        continue;
      }
      if (event.type === "closed") throw closedFailure(event.code, event.reason, where.stage, this.inScript ? this.arrivedLabels() : this.unmatched.excerpts());
      if (event.type === "error") throw event.error;
      if (this.deadline.signal.aborted && !this.deadline.expired) throw this.deadline.signal.reason;
      const byBudget = this.deadline.expired;
      throw this.timeoutFailure(match, byBudget ? performance.now() - waitStart : limitMs, byBudget, where, this.unmatched.total - before);
    }
  }

  private arrivedLabels(): string[] {
    return [...this.scriptLabels];
  }

  private timeoutFailure(match: CompiledMatch, waitedMs: number, byBudget: boolean, where: WaitPlace, unmatchedHere: number): ProbeFailure {
    const limit = byBudget ? `${this.deadline.label}; raise the check's timeout if the server needs longer` : where.withinKey;
    const wanted = describeMatch(match);
    const details: Record<string, MetricValue> = { waitedFor: wanted, waitedMs: roundMs(waitedMs) };
    if (this.unmatched.total) details.messagesInstead = this.unmatched.excerpts();
    if (where.step) {
      const arrived = this.arrivedLabels();
      details.eventsArrived = arrived;
      return new ProbeFailure(
        "timeout",
        `${where.stage}: no message matching ${wanted} within ${formatMs(waitedMs)} (${limit}); ${
          arrived.length ? `events that arrived since the script started: ${arrived.join(", ")}` : "no message arrived since the script started"
        }`,
        { code: "EVENT_MISSING", details },
      );
    }
    if (unmatchedHere === 0) {
      return new ProbeFailure("timeout", `no ${where.stage} message matching ${wanted} within ${formatMs(waitedMs)} (${limit}); nothing arrived after the upgrade`, {
        code: "WELCOME_TIMEOUT",
        details,
        hint: "The server accepted the WebSocket but never greeted it: check the server's on-connect handler (auth lookup, Redis/DB calls it makes before sending the welcome) and its logs.",
      });
    }
    return new ProbeFailure("protocol", `waited ${formatMs(waitedMs)} (${limit}) for a ${where.stage} message matching ${wanted}, but ${this.unmatched.summary()} — none matched`, {
      code: "WELCOME_MISMATCH",
      details,
      hint: "The server greets with a different message: an older/newer server version, or the match in the check is wrong (compare the paths with what arrived).",
    });
  }
}

