// Message matching for the welcome and the scripted steps: a `match` is a map
// of dotted JSON paths to expectations (the operators of `expect`). A message
// that is not JSON never matches. Messages that do not match are kept
// (bounded) so a failure can say what arrived instead.
import type { Expectation, MetricValue } from "../../diagnose/vocabulary.js";
import { parseExpectation, satisfies } from "../../evaluate/expectations.js";
import { getPath } from "../../util/json-path.js";
import { excerpt as textExcerpt } from "../../util/excerpt.js";

/** How many non-matching messages a failure quotes, and how much of each. */
export const KEEP_MESSAGES = 5;
export const EXCERPT_CHARS = 200;

export interface Received {
  /** ms (performance.now) when it arrived. */
  at: number;
  /** Text frames only. */
  text?: string;
  binaryBytes?: number;
  /** Parsed JSON, or undefined when the message is not JSON. */
  json?: unknown;
  isJson: boolean;
}

export type CompiledMatch = { path: string; expectation: Expectation }[];

export function compileMatch(match: Record<string, unknown>): CompiledMatch {
  return Object.entries(match).map(([path, raw]) => ({ path, expectation: parseExpectation(raw) }));
}

export function toReceived(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean, at: number): Received {
  const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (isBinary) return { at, binaryBytes: buffer.length, isJson: false };
  const text = buffer.toString("utf8");
  try {
    return { at, text, json: JSON.parse(text), isJson: true };
  } catch {
    return { at, text, isJson: false };
  }
}

export function matches(message: Received, match: CompiledMatch): boolean {
  if (!message.isJson) return false;
  return match.every(({ path, expectation }) => {
    const value = path === "" || path === "$" ? (message.json as MetricValue) : getPath(message.json, path);
    return satisfies(value, expectation);
  });
}

/** `{type: agent_started}` → `type=agent_started`, for messages and phase names. */
export function describeMatch(match: CompiledMatch): string {
  return match.map(({ path, expectation }) => `${path}${expectation.op === "==" ? "=" : ` ${expectation.op} `}${String(expectation.value)}`).join(", ");
}

/** The short name of what a step waits for: the expected values (`agent_started`). */
export function shortMatch(match: CompiledMatch): string {
  return match.map(({ expectation }) => (expectation.op === "==" ? String(expectation.value) : expectation.source)).join(", ");
}

/** A bounded, single-line excerpt of a message. */
export function excerpt(message: Received, chars = EXCERPT_CHARS): string {
  if (message.binaryBytes !== undefined) return `<binary message, ${message.binaryBytes} bytes>`;
  const body = textExcerpt(message.text ?? "", chars);
  return message.isJson ? body : `${body} (not JSON)`;
}

/** What a message is, in a word: its `type` (or `event`) when it has one, else an excerpt. */
export function label(message: Received): string {
  if (message.isJson && message.json !== null && typeof message.json === "object") {
    const record = message.json as Record<string, unknown>;
    for (const key of ["type", "event", "action", "kind"]) {
      if (typeof record[key] === "string") return record[key] as string;
    }
    const payload = record.payload as Record<string, unknown> | undefined;
    if (payload && typeof payload === "object" && typeof payload.event === "string") return payload.event;
  }
  return excerpt(message, 60);
}

/** Keeps the last `limit` messages (and counts the rest). */
export class RecentMessages {
  private readonly kept: Received[] = [];
  total = 0;
  constructor(private readonly limit = KEEP_MESSAGES) {}
  add(message: Received): void {
    this.total += 1;
    this.kept.push(message);
    if (this.kept.length > this.limit) this.kept.shift();
  }
  excerpts(): string[] {
    return this.kept.map((message) => excerpt(message));
  }
  labels(): string[] {
    return this.kept.map(label);
  }
  /** "3 messages: a, b, c" / "nothing", mentioning how many were left out. */
  summary(): string {
    if (this.total === 0) return "nothing arrived";
    const earlier = this.total - this.kept.length;
    return `${this.total} message${this.total === 1 ? "" : "s"} arrived${earlier ? ` (last ${this.kept.length} shown)` : ""}: ${this.excerpts().join(" | ")}`;
  }
}
