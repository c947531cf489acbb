// Expectations as written in configs (`"< 200ms"`, `healthy`, `"~ ^2\\d\\d$"`)
// and the pure comparison of a measured value against one.
import type { ExpectOp, Expectation, MetricValue } from "../diagnose/vocabulary.js";
import { parseDurationMs } from "../util/duration.js";
import { ConfigError } from "../util/errors.js";

const OPERATOR = /^\s*(<=|>=|==|!=|<|>|~|=|contains(?=\s))\s*(.*)$/s;
/** Operators people write that mean something else here, and what they mean. */
const MISSPELT: [RegExp, string][] = [
  [/^\s*=</, "<="],
  [/^\s*=>/, ">="],
  [/^\s*≤/, "<="],
  [/^\s*≥/, ">="],
  [/^\s*<>/, "!="],
  [/^\s*=~/, "~"],
  [/^\s*~=/, "~"],
  [/^\s*===/, "=="],
  [/^\s*!==/, "!="],
];
/** HTTP-style status classes: 2xx, 4XX. */
const STATUS_CLASS = /^\s*([1-5])xx\s*$/i;

/** The grammar, for messages: what an expectation may look like. */
export const EXPECTATION_FORMS = 'a value (equality), "< 200ms", "<= 2s", ">= 95%", "!= 0", "~ REGEX", "contains TEXT", or a status class like "2xx"';

/** Parse one expectation. Throws an Error whose message says what is expected. */
export function parseExpectation(raw: unknown): Expectation {
  if (raw === null || typeof raw === "number" || typeof raw === "boolean") {
    return { op: "==", value: raw, source: String(raw) };
  }
  if (typeof raw !== "string") {
    throw new Error("expected a number, boolean, string or an operator string like \"< 200ms\"");
  }
  const source = raw;
  for (const [pattern, meant] of MISSPELT) {
    const written = pattern.exec(raw);
    if (written) throw new Error(`unknown operator "${written[0].trim()}" in ${JSON.stringify(raw)}: did you mean "${meant}"? (${EXPECTATION_FORMS})`);
  }
  const statusClass = STATUS_CLASS.exec(raw);
  if (statusClass) return { op: "~", value: `^${statusClass[1]}\\d\\d$`, source: raw.trim().toLowerCase() };
  const match = OPERATOR.exec(raw);
  if (!match) return { op: "==", value: raw, source };
  const op = (match[1] === "=" ? "==" : match[1]) as ExpectOp;
  const operand = match[2].trim();
  if (operand === "") throw new Error(`operator "${op}" needs a value after it`);
  if (op === "~") {
    try {
      new RegExp(operand);
    } catch (error) {
      throw new Error(`"${operand}" is not a valid regular expression (${(error as Error).message})`);
    }
    return { op, value: operand, source };
  }
  if (op === "contains") return { op, value: operand.replace(/^["'](.*)["']$/s, "$1"), source };
  const value = parseOperand(operand);
  if ((op === "<" || op === "<=" || op === ">" || op === ">=") && typeof value !== "number") {
    throw new Error(`"${op}" compares numbers or durations (250ms, 2s), got "${operand}"`);
  }
  return { op, value, source };
}

function parseOperand(text: string): number | string | boolean | null {
  if (text === "true") return true;
  if (text === "false") return false;
  if (text === "null") return null;
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  if (percent) return Number(percent[1]);
  const duration = parseDurationMs(text);
  if (duration !== undefined) return duration;
  return text.replace(/^["'](.*)["']$/s, "$1");
}

function asNumber(value: MetricValue | undefined): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** True when `actual` satisfies `expectation`. A missing metric never satisfies anything. */
export function satisfies(actual: MetricValue | undefined, expectation: Expectation): boolean {
  if (actual === undefined) return false;
  const { op, value } = expectation;
  if (op === "~") return typeof value === "string" && new RegExp(value).test(typeof actual === "string" ? actual : JSON.stringify(actual));
  if (op === "contains") return (typeof actual === "string" ? actual : JSON.stringify(actual)).includes(String(value));
  if (op === "==" || op === "!=") {
    const equal = looselyEqual(actual, value);
    return op === "==" ? equal : !equal;
  }
  const left = asNumber(actual);
  const right = asNumber(value as MetricValue);
  if (left === undefined || right === undefined) return false;
  switch (op) {
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case ">":
      return left > right;
    case ">=":
      return left >= right;
  }
}

function looselyEqual(actual: MetricValue, expected: Expectation["value"]): boolean {
  if (actual === expected) return true;
  const left = asNumber(actual);
  const right = asNumber(expected as MetricValue);
  if (left !== undefined && right !== undefined) return left === right;
  // Health JSON often carries "true"/"200" as strings: compare scalars by their text.
  if (expected !== null && typeof actual !== "object") return String(actual) === String(expected);
  return false;
}

/**
 * `--expect 'json.status=healthy'`, `--expect 'totalMs<500ms'`, `--expect 'status=2xx'`,
 * `--expect 'body contains ok'` → { metric: expectation }, in the config's grammar
 * (src/evaluate/expectations.ts): `=` means equality, anything else is kept
 * as written and checked there, so a misspelt operator is refused the same way.
 */
export function parseExpectFlags(flag: string, values: string[]): Record<string, string> {
  const parsed: Record<string, string> = {};
  for (const value of values) {
    const match = /^([A-Za-z0-9_.[\]-]+)\s*((?:[=!<>~≤≥]|contains\s).*)$/s.exec(value);
    if (!match) throw new ConfigError(`${flag}: expected METRIC=VALUE or METRIC<OP>VALUE (e.g. 'json.status=healthy', 'totalMs<500ms', 'status=2xx'), found "${value}"`);
    const [, metric, rest] = match;
    const expectation = /^=(?![=<>~])/.test(rest) ? rest.slice(1) : rest;
    try {
      parseExpectation(expectation);
    } catch (error) {
      throw new ConfigError(`${flag} ${metric}: ${(error as Error).message}`);
    }
    parsed[metric] = expectation;
  }
  return parsed;
}
