// The one judgement step, from hand-built inputs (no server), and the two
// properties that follow from judging once: a regression with action: fail
// blocks what depends on the regressed check, and a saved report re-judged
// offline gives the same verdicts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { judge } from "../../src/evaluate/judge.js";
import { parseExpectation } from "../../src/evaluate/expectations.js";
import type { CheckBaseline } from "../../src/evaluate/regression.js";
import { DEFAULT_REGRESSION } from "../../src/evaluate/regression.js";
import type { CheckSpec, Measurement } from "../../src/probes/api.js";
import { loadProbe } from "../../src/probes/index.js";
import { buildConfig } from "../../src/config/load.js";
import { rejudgeReport } from "../../src/report/rejudge.js";
import type { RunReport } from "../../src/report/schema.js";
import { closedPort, httpServer } from "../helpers/net.js";
import { runConfig } from "../helpers/run.js";

const http = await loadProbe("http");
const memorystore = await loadProbe("memorystore");
const spec = (over: Partial<CheckSpec> = {}): CheckSpec => ({ name: "api", kind: "http", timeoutMs: 1000, dependsOn: [], expect: {}, warn: {}, url: "http://h/", method: "GET", headers: {}, ...over });
const measured = (metrics: Measurement["metrics"], phasesMs: Measurement["phasesMs"] = {}): Measurement => ({ phasesMs, metrics });
const expectations = (raw: Record<string, unknown>) => Object.fromEntries(Object.entries(raw).map(([metric, value]) => [metric, parseExpectation(value)]));
const baseline = (reference: Record<string, number>, action: "warn" | "fail" = "warn"): CheckBaseline => ({
  settings: { ...DEFAULT_REGRESSION, action },
  reference: Object.fromEntries(Object.entries(reference).map(([metric, value]) => [metric, { value, runs: 3 }])),
  source: { kind: "history", source: "hist" },
});

describe("judge (pure)", () => {
  it.each([
    ["2xx by default", spec(), measured({ status: 200 }), "pass", undefined],
    ["a 503 is the server's error", spec(), measured({ status: 503 }), "fail", "server-error"],
    ["a 401 is auth", spec(), measured({ status: 401 }), "fail", "auth"],
    ["a timing over its bound is slow", spec({ expect: expectations({ totalMs: "< 100ms" }) }), measured({ status: 200, totalMs: 150 }), "fail", "slow"],
    ["a warn bound only warns", spec({ warn: expectations({ totalMs: "< 100ms" }) }), measured({ status: 200, totalMs: 150 }), "warn", "slow"],
    ["a body value is unhealthy", spec({ expect: expectations({ "json.status": "healthy" }) }), measured({ status: 200, "json.status": "degraded" }), "fail", "unhealthy"],
    ["a body timing is slow", spec({ expect: expectations({ "json.db.response_time_ms": "< 50" }) }), measured({ status: 200, "json.db.response_time_ms": 80 }), "fail", "slow"],
  ] as const)("%s", (_name, input, measurement, status, failureClass) => {
    const verdict = judge({ spec: input, measurement, probe: http });
    expect(verdict.status).toBe(status);
    expect(verdict.failure?.class).toBe(failureClass);
  });

  it("a probe error is the verdict, with its diagnosis and the source 'probe'", () => {
    const verdict = judge({ spec: spec(), measurement: { ...measured({}), error: { class: "refused", message: "nothing listening", hint: "start it", code: "ECONNREFUSED", diagnosis: "tcp.REFUSED" } }, probe: http });
    expect(verdict).toMatchObject({ status: "fail", failure: { class: "refused", diagnosis: "tcp.REFUSED", source: "probe", hint: "start it" } });
  });

  it("a resource's state is judged by the kind's default expectation, in the resource's own words", () => {
    const instance = spec({ kind: "memorystore", instance: "projects/p/locations/r/instances/i" });
    const verdict = judge({ spec: instance, measurement: measured({ state: "MAINTENANCE", statusMessage: "scheduled", instance: "projects/p/locations/r/instances/i" }), probe: memorystore });
    expect(verdict.status).toBe("fail");
    expect(verdict.failure).toMatchObject({ class: "unhealthy", code: "MAINTENANCE", diagnosis: "memorystore.NOT_READY", source: "assertion" });
    expect(verdict.failure?.message).toBe("instance i is MAINTENANCE (in maintenance), not READY: scheduled");
    expect(verdict.failure?.hint).toContain("gcloud redis operations list --region r");
  });

  it.each([
    ["no regression", { ttfbMs: 20 }, "warn", "pass"],
    ["regression, action warn", { ttfbMs: 400 }, "warn", "warn"],
    ["regression, action fail", { ttfbMs: 400 }, "fail", "fail"],
  ] as const)("baseline: %s → %s", (_name, metrics, action, status) => {
    const verdict = judge({ spec: spec(), measurement: measured({ status: 200, ...metrics }), probe: http, baseline: baseline({ ttfbMs: 20 }, action) });
    expect(verdict.status).toBe(status);
    expect(verdict.baseline?.ttfbMs).toMatchObject({ baseline: 20, value: metrics.ttfbMs });
    if (status !== "pass") expect(verdict.failure).toMatchObject({ class: "slow", source: "baseline" });
  });

  it("a check that failed on its own keeps its diagnosis; the baseline block still shows what got slower", () => {
    const verdict = judge({ spec: spec(), measurement: measured({ status: 503, ttfbMs: 400 }), probe: http, baseline: baseline({ ttfbMs: 20 }, "fail") });
    expect(verdict.failure?.class).toBe("server-error");
    expect(verdict.baseline?.ttfbMs.regressed).toBe(true);
  });
});

describe("judged once, in the run", () => {
  let delayMs = 0;
  let server: Awaited<ReturnType<typeof httpServer>>;
  beforeAll(async () => {
    server = await httpServer((req, res) => {
      const answer = () => {
        res.statusCode = req.url === "/broken" ? 503 : 200;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ status: req.url === "/degraded" ? "degraded" : "healthy" }));
      };
      if (delayMs > 0 && req.url === "/slow") setTimeout(answer, delayMs);
      else answer();
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("a regression with action: fail blocks the checks that depend on it", async () => {
    const checks = {
      api: { kind: "http", url: server.url("/slow") },
      page: { kind: "http", url: server.url("/ok"), dependsOn: ["api"] },
    };
    delayMs = 0;
    const before = await runConfig({ checks });
    expect(before.checks.map((check) => check.status)).toEqual(["pass", "pass"]);
    delayMs = 400;
    const after = await runConfig({ checks }, { baseline: { source: { kind: "report", source: "before.json", reports: [before] }, regression: { action: "fail", minDelta: "100ms" } } });
    const [api, page] = after.checks;
    expect(api).toMatchObject({ status: "fail", failure: { class: "slow", source: "baseline" } });
    expect(page).toMatchObject({ status: "blocked", blockedBy: ["api"] });
    expect(after.rootCauses).toEqual([expect.objectContaining({ check: "api", class: "slow", blocks: ["page"] })]);
  });

  it("a saved report re-judged offline gives the same statuses, and a changed expectation changes only what it judges", async () => {
    delayMs = 0;
    const config = {
      checks: {
        ok: { kind: "http", url: server.url("/ok"), expect: { "json.status": "healthy" } },
        degraded: { kind: "http", url: server.url("/degraded"), expect: { "json.status": "healthy" } },
        broken: { kind: "http", url: server.url("/broken") },
        refused: { kind: "http", url: `http://127.0.0.1:${await closedPort()}/` },
        behind: { kind: "http", url: server.url("/ok"), dependsOn: ["refused"] },
        slowish: { kind: "http", url: server.url("/ok"), warn: { totalMs: "< 0.001ms" } },
      },
    };
    const report = await runConfig(config);
    const saved = JSON.parse(JSON.stringify(report)) as RunReport;
    const loaded = await buildConfig(config, { dir: process.cwd(), defaultEnv: "test", env: {} });
    const again = rejudgeReport(saved, { checks: loaded.checks, probes: loaded.probes });
    const verdicts = (r: RunReport) => r.checks.map((check) => [check.name, check.status, check.failure?.class ?? null, check.failure?.message ?? null]);
    expect(verdicts(report)).toEqual([
      ["ok", "pass", null, null],
      ["degraded", "fail", "unhealthy", expect.any(String)],
      ["broken", "fail", "server-error", expect.any(String)],
      ["refused", "fail", "refused", expect.any(String)],
      ["behind", "blocked", null, null],
      ["slowish", "warn", "slow", expect.any(String)],
    ]);
    expect(verdicts(again)).toEqual(verdicts(report));
    expect(again.summary).toEqual(report.summary);
    expect(again.rootCauses).toEqual(report.rootCauses);

    const relaxed = await buildConfig({ checks: { ...config.checks, degraded: { ...config.checks.degraded, expect: { "json.status": "~ healthy|degraded" } } } }, { dir: process.cwd(), defaultEnv: "test", env: {} });
    const rejudged = rejudgeReport(saved, { checks: relaxed.checks, probes: relaxed.probes });
    expect(rejudged.checks.find((check) => check.name === "degraded")?.status).toBe("pass");
    expect(rejudged.checks.filter((check) => check.name !== "degraded").map((check) => check.status)).toEqual(["pass", "fail", "fail", "blocked", "warn"]);
  });
});

describe("rejudgeReport of an interrupted report", () => {
  it("keeps interrupted checks interrupted (a partial measurement is no verdict) and the report interrupted", async () => {
    const saved = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../fixtures/reports/interrupted.json"), "utf8")) as RunReport;
    const loaded = await buildConfig(
      {
        checks: {
          api: { kind: "http", url: "https://api.staging.example.com/health" },
          db: { kind: "postgres", url: "postgres://app@10.20.0.5:5432/chat", password: "x" },
          chat: { kind: "websocket", url: "wss://chat.staging.example.com/ws", dependsOn: ["db"] },
        },
      },
      { dir: process.cwd(), defaultEnv: "staging", env: {} },
    );
    const again = rejudgeReport(saved, { checks: loaded.checks, probes: loaded.probes });
    expect(again.checks.map((check) => [check.name, check.status])).toEqual([
      ["api", "pass"],
      ["db", "interrupted"],
      ["chat", "interrupted"],
    ]);
    expect(again.interrupted).toEqual({ signal: "SIGTERM" });
    expect(again.ok).toBe(false);
    expect(again.summary).toEqual(saved.summary);
  });
});
