/** A value as JSON has it (what a metric can hold). */
export type JsonValue = number | string | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Read a dotted path (`payload.event`, `items.0.id`) from a parsed JSON value. */
export function getPath(value: unknown, path: string): JsonValue | undefined {
  let current: unknown = value;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[segment];
    if (current === undefined) return undefined;
  }
  return current as JsonValue;
}
