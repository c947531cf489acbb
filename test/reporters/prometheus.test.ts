// Prometheus text exposition (rendered by prom-client): label escaping, and
// the whole output checked against the format's grammar by a strict reader
// (HELP/TYPE once per family, before its samples; families not interleaved;
// label values escaped; values parse as floats).
import { describe, expect, it } from "vitest";
import { Gauge, Registry } from "prom-client";
import prometheus, { codeLabel, exposition } from "../../src/reporters/prometheus.js";
import type { RunReport } from "../../src/report/schema.js";
import { loadFixture } from "./fixtures.js";
import { parsePromText, type Sample } from "../helpers/prom-text.js";

/** The strict reader, and every family a one-shot report has is a gauge. */
function parse(text: string): Sample[] {
  const families = parsePromText(text);
  for (const family of families) expect(family.type).toBe("gauge");
  return families.flatMap((family) => family.samples);
}

describe("escaping and values", () => {
  it.each([
    ["plain", "plain"],
    ['say "hi"', 'say \\"hi\\"'],
    ["C:\\path", "C:\\\\path"],
    ["two\nlines", "two\\nlines"],
  ])("the label value %j is written %j", async (input, expected) => {
    const report: RunReport = loadFixture("healthy");
    report.env = input;
    expect(await prometheus(report, { color: false, verbose: false })).toContain(`infra_check_run_ok{env="${expected}"} 1\n`);
  });

  it.each([
    [0.0123, "0.0123"],
    [1736935200, "1736935200"],
    [-3, "-3"],
  ])("the value %s is written %s", async (input, expected) => {
    const report: RunReport = loadFixture("healthy");
    report.checks[0].metrics = { value: input };
    expect(await prometheus(report, { color: false, verbose: false })).toMatch(new RegExp(`metric="value"\\} ${expected.replace(/[.-]/g, "\\$&")}\n`));
  });

  it.each([
    ["ECONNREFUSED", "ECONNREFUSED"],
    ["57014", "57014"],
    ["redis.NOAUTH", "redis.NOAUTH"],
    ["server said: no", "other"],
    [undefined, ""],
  ])("a failure code %j is the label %j (identifiers only, never free text)", (input, expected) => {
    expect(codeLabel(input)).toBe(expected);
  });
});

describe("exposition", async () => {
  const samples = parse(await prometheus(loadFixture("mixed"), { color: false, verbose: false }));
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
    ["infra_check_status", { check: "cache", status: "fail" }, 1],
    ["infra_check_status", { check: "cache", status: "pass" }, 0],
    ["infra_check_status", { check: "chat", status: "blocked" }, 1],
    ["infra_check_failure_info", { check: "cache", class: "auth", code: "NOAUTH" }, 1],
    ["infra_check_failure_info", { check: "db", class: "slow", code: "" }, 1],
    ["infra_check_run_ok", { env: "staging" }, 0],
    ["infra_check_run_duration_seconds", { env: "staging" }, 3.1205],
    ["infra_check_run_timestamp_seconds", { env: "staging" }, 1736935200],
  ])("%s%j = %s", (name, labels, value) => {
    const found = find(name, { env: "staging", ...labels });
    expect(found).toHaveLength(1);
    expect(found[0].value).toBe(value);
  });

  it("a check without a failure has no failure_info; the free-text message is never a label", () => {
    expect(find("infra_check_failure_info", { check: "api" })).toHaveLength(0);
    for (const sample of samples) for (const value of Object.values(sample.labels)) expect(value).not.toMatch(/\s/);
  });

  it("blocked checks have no duration or phases (they never ran); string metrics are left out", () => {
    expect(find("infra_check_duration_seconds", { check: "chat" })).toHaveLength(0);
    expect(find("infra_check_phase_seconds", { check: "chat" })).toHaveLength(0);
    expect(find("infra_check_metric", { metric: "contentType" })).toHaveLength(0);
    expect(find("infra_check_metric", { metric: "subprotocol" })).toHaveLength(0);
  });

  it("label values with quotes, backslashes and newlines survive the round trip", async () => {
    const report: RunReport = loadFixture("healthy");
    report.env = 'pro"d\\uction\nx';
    report.checks[0].phasesMs = { 'we"ird\\phase\n': 5 };
    const parsed = parse(await prometheus(report, { color: false, verbose: false }));
    expect(parsed.find((sample) => sample.name === "infra_check_run_ok")!.labels.env).toBe('pro"d\\uction\nx');
    expect(parsed.find((sample) => sample.name === "infra_check_phase_seconds")!.labels.phase).toBe('we"ird\\phase\n');
  });
});

describe("exposition", () => {
  it("spells NaN as the text format does (prom-client writes Nan), and a strict parser reads it", async () => {
    const registry = new Registry();
    new Gauge({ name: "lag_seconds", help: "a gauge with no sample yet", registers: [registry] }).set(Number.NaN);
    const text = await exposition(registry);
    expect(text).toContain("lag_seconds NaN\n");
    expect(Number.isNaN(parsePromText(text).find((family) => family.name === "lag_seconds")?.samples[0]?.value)).toBe(true);
  });
});
