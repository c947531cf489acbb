// Prometheus text exposition: label escaping, and the whole output checked
// against the format's grammar (HELP/TYPE once per family, before its samples;
// families not interleaved; label values escaped; values parse as floats).
import { describe, expect, it } from "vitest";
import prometheus, { escapeLabelValue, formatValue } from "../../src/reporters/prometheus.js";
import type { RunReport } from "../../src/report/schema.js";
import { loadFixture } from "./fixtures.js";

describe("escaping and values", () => {
  it.each([
    ["plain", "plain"],
    ['say "hi"', 'say \\"hi\\"'],
    ["C:\\path", "C:\\\\path"],
    ["two\nlines", "two\\nlines"],
  ])("escapeLabelValue(%j) = %j", (input, expected) => {
    expect(escapeLabelValue(input)).toBe(expected);
  });

  it.each([
    [1, "1"],
    [0.0123, "0.0123"],
    [Number.NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
  ])("formatValue(%s) = %s", (input, expected) => {
    expect(formatValue(input)).toBe(expected);
  });
});

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*)\} (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"/g;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format: throws on anything a Prometheus scrape would reject. */
function parse(text: string): Sample[] {
  expect(text.endsWith("\n")).toBe(true);
  const samples: Sample[] = [];
  const seen = new Set<string>();
  let current: string | undefined;
  for (const line of text.trimEnd().split("\n")) {
    const comment = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (comment) {
      const [, keyword, name, rest] = comment;
      if (keyword === "HELP") {
        if (seen.has(name)) throw new Error(`family ${name} appears twice`);
        seen.add(name);
        current = name;
      } else {
        expect(name).toBe(current);
        expect(rest).toBe("gauge");
      }
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a valid sample line: ${line}`);
    const [, name, labelText, valueText] = match;
    if (name !== current) throw new Error(`sample ${name} outside its family (current ${current})`);
    const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== "NaN") throw new Error(`bad value ${valueText}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of labelText.matchAll(LABEL)) labels[key] = raw.replace(/\\(["\\n])/g, (_m, c: string) => (c === "n" ? "\n" : c));
    samples.push({ name, labels, value });
  }
  return samples;
}

describe("exposition", () => {
  const samples = parse(prometheus(loadFixture("mixed"), { color: false, verbose: false }));
  const find = (name: string, labels: Record<string, string>) =>
    samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));

  it.each([
    ["infra_check_up", { check: "api", kind: "http" }, 1],
    ["infra_check_up", { check: "db", kind: "postgres" }, 1],
    ["infra_check_up", { check: "cache", kind: "redis" }, 0],
    ["infra_check_up", { check: "chat", kind: "websocket" }, 0],
    ["infra_check_duration_seconds", { check: "agent-events" }, 2.40075],
    ["infra_check_phase_seconds", { check: "db", phase: "query" }, 0.598],
    ["infra_check_metric", { check: "db", metric: "p95Ms" }, 612],
    ["infra_check_metric", { check: "api", metric: "cached" }, 0],
    ["infra_check_attempts", { check: "worker" }, 3],
    ["infra_check_run_ok", { env: "staging" }, 0],
    ["infra_check_run_duration_seconds", { env: "staging" }, 3.1205],
    ["infra_check_run_timestamp_seconds", { env: "staging" }, 1736935200],
  ])("%s%j = %s", (name, labels, value) => {
    const found = find(name, { env: "staging", ...labels });
    expect(found).toHaveLength(1);
    expect(found[0].value).toBe(value);
  });

  it("blocked checks have no duration or phases (they never ran); string metrics are left out", () => {
    expect(find("infra_check_duration_seconds", { check: "chat" })).toHaveLength(0);
    expect(find("infra_check_phase_seconds", { check: "chat" })).toHaveLength(0);
    expect(find("infra_check_metric", { metric: "contentType" })).toHaveLength(0);
    expect(find("infra_check_metric", { metric: "subprotocol" })).toHaveLength(0);
  });

  it("label values with quotes, backslashes and newlines survive the round trip", () => {
    const report: RunReport = loadFixture("healthy");
    report.env = 'pro"d\\uction\nx';
    report.checks[0].phasesMs = { 'we"ird\\phase\n': 5 };
    const parsed = parse(prometheus(report, { color: false, verbose: false }));
    expect(parsed.find((sample) => sample.name === "infra_check_run_ok")!.labels.env).toBe('pro"d\\uction\nx');
    expect(parsed.find((sample) => sample.name === "infra_check_phase_seconds")!.labels.phase).toBe('we"ird\\phase\n');
  });
});
