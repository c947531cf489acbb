// Pure baseline judgement on a fixture history (test/fixtures/history/runs):
// 12 staging runs (chat failed in run 8, db warned in run 11) and 2 production
// runs; regressed.json is the staging run after a deploy that made the chat
// welcome 3.1× slower and moved db.query 0.1 → 0.3 ms (under the floor).
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { applyBaseline } from "../../src/report/rejudge.js";
import {
  baselineOf,
  describeRegression,
  diffReports,
  isRegression,
  latencyMetrics,
  resolveRegression,
  type BaselineBlock,
  type BaselineSource,
} from "../../src/evaluate/regression.js";
import type { CheckResult, RunReport } from "../../src/report/schema.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/history");
const load = (file: string) => JSON.parse(readFileSync(file, "utf8")) as RunReport;
const history: RunReport[] = readdirSync(path.join(FIXTURES, "runs")).map((name) => load(path.join(FIXTURES, "runs", name)));
const regressed = () => load(path.join(FIXTURES, "regressed.json"));
const fromHistory: BaselineSource = { kind: "history", source: "runs", reports: history };
const check = (report: RunReport, name: string) => report.checks.find((candidate) => candidate.name === name)!;
const block = (result: CheckResult) => result.baseline as BaselineBlock;

describe("isRegression: factor AND absolute floor", () => {
  it.each([
    { baseline: 0.1, value: 0.3, expected: false, why: "3× but +0.2 ms: loopback jitter, under the 50 ms floor" },
    { baseline: 420, value: 1310, expected: true, why: "3.1× and +890 ms" },
    { baseline: 400, value: 799, expected: false, why: "+399 ms but under 2×" },
    { baseline: 400, value: 800, expected: true, why: "exactly 2× counts" },
    { baseline: 20, value: 60, expected: false, why: "3× but only +40 ms" },
    { baseline: 20, value: 70, expected: true, why: "3.5× and exactly +50 ms" },
    { baseline: 0, value: 49, expected: false, why: "zero baseline: only the floor decides" },
    { baseline: 0, value: 50, expected: true, why: "zero baseline, +50 ms" },
    { baseline: 300, value: 200, expected: false, why: "faster is never a regression" },
  ])("$baseline ms → $value ms: $expected ($why)", ({ baseline, value, expected }) => {
    expect(isRegression(value, baseline, { factor: 2, minDeltaMs: 50 })).toBe(expected);
  });

  it("custom factor and floor", () => {
    expect(isRegression(150, 100, { factor: 1.5, minDeltaMs: 10 })).toBe(true);
    expect(isRegression(149, 100, { factor: 1.5, minDeltaMs: 10 })).toBe(false);
    expect(isRegression(0.3, 0.1, { factor: 2, minDeltaMs: 0 })).toBe(true);
  });
});

describe("resolveRegression", () => {
  it.each([
    { global: undefined, override: undefined, expected: { factor: 2, minDeltaMs: 50, action: "warn", runs: 10 } },
    { global: { factor: 3, minDelta: "1s" }, override: undefined, expected: { factor: 3, minDeltaMs: 1000, action: "warn", runs: 10 } },
    { global: { factor: 3, action: "fail" as const }, override: { action: "warn" as const, runs: 4 }, expected: { factor: 3, minDeltaMs: 50, action: "warn", runs: 4 } },
    { global: { minDelta: 200 }, override: { minDelta: "20ms" }, expected: { factor: 2, minDeltaMs: 20, action: "warn", runs: 10 } },
  ])("global $global + check $override", ({ global, override, expected }) => {
    expect(resolveRegression(global, override)).toEqual(expected);
  });
});

describe("latencyMetrics", () => {
  it("phases as <phase>Ms and *Ms metrics; a metric wins over the phase of the same name; nothing else", () => {
    expect(
      latencyMetrics({
        phasesMs: { dns: 1, connect: 2, welcome: 400 },
        metrics: { welcomeMs: 401, rttP95Ms: 3, status: 200, samples: 5, subprotocol: "chat", brokenMs: "n/a", nestedMs: { a: 1 } },
      }),
    ).toEqual({ dnsMs: 1, connectMs: 2, welcomeMs: 401, rttP95Ms: 3 });
  });
});

describe("baselineOf: median of the last N working runs of a check", () => {
  const staging = history.filter((report) => report.env === "staging");

  it("skips the run where the check failed and stops after N working runs", () => {
    // Working runs, newest first: 12, 11, 10, 9, 7, 6, 5, 4, 3, 2 (run 8 failed; run 1 is the 11th).
    // welcome: 440 435 430 425 420 415 410 405 400 940 → median (420 + 425) / 2.
    expect(baselineOf(staging, "chat", 10).welcomeMs).toEqual({ value: 422.5, runs: 10 });
    expect(baselineOf(staging, "chat", 3).welcomeMs).toEqual({ value: 435, runs: 3 });
    // The failed run's 2.9 s upgrade is not part of the baseline.
    expect(baselineOf(staging, "chat", 10).upgradeMs).toEqual({ value: 12.5, runs: 10 });
  });

  it("a run where the check only warned still counts (its timings are real)", () => {
    // Run 12 passed with 2.5 ms, run 11 warned with 2.9 ms: both count.
    expect(baselineOf(staging, "db", 2).rttP95Ms).toEqual({ value: 2.7, runs: 2 });
  });

  it("unknown check → no baseline", () => {
    expect(baselineOf(staging, "nope", 10)).toEqual({});
  });
});

describe("applyBaseline", () => {
  it("action warn: the regressed check warns with class slow; others pass; summary, ok and extras follow", () => {
    const report = applyBaseline(regressed(), fromHistory);
    const chat = check(report, "chat");
    expect(chat.status).toBe("warn");
    expect(chat.failure).toMatchObject({ class: "slow", message: "welcomeMs 1.31 s vs 423 ms baseline, 3.1×", phase: "welcome" });
    expect(chat.failure!.hint).toContain("The welcome phase regressed");
    expect(block(chat).welcomeMs).toEqual({ baseline: 422.5, value: 1310, ratio: 3.1, regressed: true, runs: 10 });
    expect(block(chat).connectMs.regressed).toBe(false);
    expect(chat.assertions.at(-1)).toMatchObject({ metric: "welcomeMs", ok: false, severity: "warn", class: "slow", actual: 1310 });
    expect(chat.assertions.at(-1)!.expected).toBe("< 845 ms (2× baseline 423 ms, at least +50 ms)");

    expect(check(report, "api").status).toBe("pass");
    expect(report.summary).toEqual({ total: 3, pass: 2, warn: 1, fail: 0, blocked: 0 });
    expect(report.ok).toBe(true);
    expect(report.rootCauses).toEqual([]);
    expect(report.extras?.baseline).toMatchObject({ kind: "history", source: "runs", reports: 12, regressions: [{ check: "chat", metric: "welcomeMs", ratio: 3.1 }] });
  });

  it("the absolute floor: db.query 0.1 → 0.3 ms is 3× but not a regression", () => {
    const db = check(applyBaseline(regressed(), fromHistory), "db");
    expect(block(db).queryMs).toEqual({ baseline: 0.1, value: 0.3, ratio: 3, regressed: false, runs: 10 });
    expect(db.status).toBe("pass");
  });

  it("action fail: status fail, class slow, a root cause, not ok", () => {
    const report = applyBaseline(regressed(), fromHistory, { regression: { action: "fail" } });
    const chat = check(report, "chat");
    expect(chat.status).toBe("fail");
    expect(chat.failure?.class).toBe("slow");
    expect(chat.failure?.hint).toMatch(/^The welcome phase regressed \(1\.31 s vs 423 ms, 3\.1× the median of the last 10 working runs in runs\)/);
    expect(report.summary).toMatchObject({ pass: 2, fail: 1 });
    expect(report.ok).toBe(false);
    expect(report.rootCauses).toEqual([{ check: "chat", class: "slow", message: "welcomeMs 1.31 s vs 423 ms baseline, 3.1×", blocks: [] }]);
  });

  it("per-check overrides win over the global settings", () => {
    const relaxed = applyBaseline(regressed(), fromHistory, { regression: { action: "fail" }, perCheck: { chat: { factor: 4 } } });
    expect(check(relaxed, "chat").status).toBe("pass");
    expect(block(check(relaxed, "chat")).welcomeMs.regressed).toBe(false);

    const strictChat = applyBaseline(regressed(), fromHistory, { perCheck: { chat: { action: "fail", runs: 3 } } });
    expect(check(strictChat, "chat").status).toBe("fail");
    expect(block(check(strictChat, "chat")).welcomeMs).toMatchObject({ baseline: 435, runs: 3 });
    // The floor is per check too: a 1 ms floor makes the db's query 0.1 → 0.3 ms count.
    const tightDb = applyBaseline(regressed(), fromHistory, { perCheck: { db: { minDelta: "0.1ms" } } });
    expect(check(tightDb, "db").status).toBe("warn");
    expect(check(tightDb, "db").failure?.message).toBe("queryMs 0.30 ms vs 0.10 ms baseline, 3.0×");
  });

  it("only runs of the same env count (production's 1.5 s welcomes are ignored)", () => {
    const production = history.filter((report) => report.env === "production");
    const onlyProduction = applyBaseline(regressed(), { kind: "history", source: "runs", reports: production });
    expect(check(onlyProduction, "chat").baseline).toBeUndefined();
    expect(onlyProduction.extras?.baseline).toMatchObject({ reports: 0, checksWithoutBaseline: ["api", "chat", "db"], regressions: [] });
    expect(onlyProduction.summary.pass).toBe(3);
  });

  it("one saved report as the baseline, whatever its env", () => {
    const saved = history.find((report) => report.startedAt.startsWith("2025-03-12"))!;
    const report = applyBaseline(regressed(), { kind: "report", source: "before.json", reports: [saved] });
    const chat = check(report, "chat");
    expect(block(chat).welcomeMs).toEqual({ baseline: 440, value: 1310, ratio: 2.98, regressed: true, runs: 1 });
    expect(chat.failure?.hint).toContain("the saved report before.json");
  });

  it("a check that already failed keeps its diagnosis; the block still shows what got slower", () => {
    const run = regressed();
    const chat = check(run, "chat");
    chat.status = "fail";
    chat.failure = { class: "protocol", message: "server sent no subprotocol", hint: "negotiate agent_chat" };
    const report = applyBaseline(run, fromHistory, { regression: { action: "fail" } });
    expect(check(report, "chat").failure?.class).toBe("protocol");
    expect(block(check(report, "chat")).welcomeMs.regressed).toBe(true);
    expect(report.rootCauses).toEqual([{ check: "chat", class: "protocol", message: "server sent no subprotocol", blocks: [] }]);
  });

  it("a check already warning for its own threshold keeps that headline under action warn", () => {
    const run = regressed();
    const chat = check(run, "chat");
    chat.status = "warn";
    chat.failure = { class: "slow", message: "handshakeMs is 22.8 ms, expected < 20ms", hint: "h" };
    const report = applyBaseline(run, fromHistory);
    expect(check(report, "chat").status).toBe("warn");
    expect(check(report, "chat").failure?.message).toBe("handshakeMs is 22.8 ms, expected < 20ms");
    expect(check(report, "chat").assertions.at(-1)).toMatchObject({ metric: "welcomeMs", ok: false });
  });

  it("--strict: a regression warning makes the run not ok", () => {
    const run = { ...regressed(), strict: true };
    expect(applyBaseline(run, fromHistory).ok).toBe(false);
  });

  it("the hint names a phase rather than the total that includes it", () => {
    const run = regressed();
    const api = check(run, "api");
    api.phasesMs = { ...api.phasesMs, ttfb: 900, total: 905 };
    api.metrics = { ...api.metrics, ttfbMs: 900, totalMs: 905 };
    const result = check(applyBaseline(run, fromHistory), "api");
    expect(result.failure?.phase).toBe("ttfb");
    expect(result.failure?.message).toMatch(/^ttfbMs 900 ms vs \d+ ms baseline, \d+×; totalMs 905 ms vs \d+ ms baseline/);
    expect(result.failure?.hint).toContain("The ttfb phase regressed");
  });
});

describe("describeRegression", () => {
  it.each([
    { metric: "welcomeMs", entry: { baseline: 420, value: 1310, ratio: 3.12 }, expected: "welcomeMs 1.31 s vs 420 ms baseline, 3.1×" },
    { metric: "ttfbMs", entry: { baseline: 1.2, value: 412, ratio: 343.33 }, expected: "ttfbMs 412 ms vs 1.2 ms baseline, 343×" },
    { metric: "connectMs", entry: { baseline: 0, value: 60, ratio: null }, expected: "connectMs 60 ms vs 0.00 ms baseline, ∞×" },
  ])("$expected", ({ metric, entry, expected }) => {
    expect(describeRegression(metric, entry)).toBe(expected);
  });
});

describe("diffReports", () => {
  it("per-check, per-metric differences with the regression rule; added and removed checks", () => {
    const old = history.find((report) => report.startedAt.startsWith("2025-03-12"))!;
    const next = regressed();
    next.checks.push({ ...check(next, "api"), name: "api-v2" });
    old.checks = old.checks.filter((candidate) => candidate.name !== "db").concat({ ...check(old, "db"), name: "legacy-db" });
    const diff = diffReports(old, next);
    expect(diff.checks.map((c) => c.name)).toEqual(["api", "chat", "db", "api-v2", "legacy-db"]);
    const chat = diff.checks.find((c) => c.name === "chat")!;
    expect(chat.metrics.find((m) => m.metric === "welcomeMs")).toEqual({ metric: "welcomeMs", old: 440, new: 1310, deltaMs: 870, ratio: 2.98, regressed: true });
    expect(chat.statusChanged).toBe(false);
    expect(diff.checks.find((c) => c.name === "api-v2")).toMatchObject({ oldStatus: undefined, newStatus: "pass", statusChanged: true });
    expect(diff.checks.find((c) => c.name === "legacy-db")).toMatchObject({ oldStatus: "pass", newStatus: undefined, statusChanged: true });
    expect(diff.checks.find((c) => c.name === "db")!.metrics.every((m) => m.old === undefined && !m.regressed)).toBe(true);
    expect(diff.regressions).toBe(1);
  });
});
