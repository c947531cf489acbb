// Durations as written in configs and flags: "250ms", "2s", "1.5s", "1m", "1h".
// A bare number is milliseconds. Returns undefined when the text is not a duration.
const UNIT_MS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)?\s*$/;

export function parseDurationMs(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) && text >= 0 ? text : undefined;
  const match = DURATION.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] ?? "ms"];
}

/** Human-readable duration: 0.42 ms, 12 ms, 1.31 s, 2 m 5 s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  // Whole seconds first, so 119.7 s reads "2 m 0 s", not "1 m 60 s".
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} m ${seconds % 60} s`;
}

/** The longest wait Node's timers hold (2³¹ − 1 ms, ~24.8 days); longer ones fire at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * What is wrong with a duration as written in a config or a flag, or
 * undefined. A bare number is milliseconds — so `timeout: 2` would be 2 ms,
 * which no check survives: a bare number below 1000 is refused with the
 * likely meaning, and the unit is always accepted.
 */
export function durationProblem(value: string | number): string | undefined {
  const ms = parseDurationMs(value);
  if (ms === undefined) return `expected a duration like 250ms, 2s or 1m, found ${JSON.stringify(value)}`;
  const bare = typeof value === "number" || /^\s*\d+(\.\d+)?\s*$/.test(value);
  const text = String(value).trim();
  if (bare && ms < 1000) return `${text} is ${text} ms — did you mean ${text}s? Write the unit: ${text}ms or ${text}s`;
  if (ms <= 0) return "a duration must be more than 0 (0 would end the wait before it starts)";
  if (ms > MAX_DURATION_MS) return `${formatMs(ms)} is longer than a timer can wait (at most 24 days)`;
  return undefined;
}
