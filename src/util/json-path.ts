import type { MetricValue } from "../diagnose/vocabulary.js";

/** Read a dotted path (`payload.event`, `items.0.id`) from a parsed JSON value. */
export function getPath(value: unknown, path: string): MetricValue | undefined {
  let current: unknown = value;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[segment];
    if (current === undefined) return undefined;
  }
  return current as MetricValue;
}
