// Issue 6, convergence with --wait: a Cloud Run check read through the real
// @google-cloud/run client against the emulator is polled until the rollout
// converges, and the data-plane check that depends on it runs only then —
// all inside the wait. The emulator moves the world on a GetService count
// (afterCalls), never on time. When the wait ends first, the report says
// "never converged", distinctly from "converged but broken".
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startGcpWorld, OLD_IMAGE, PROJECT, REGION, SHA, type GcpWorld } from "./harness.js";
import { httpServer } from "../helpers/net.js";
import { runMain } from "../helpers/main-io.js";
import { buildConfig } from "../../src/config/load.js";
import type { RetryInfo } from "../../src/runner/wait.js";
import { runWithWait } from "../helpers/run.js";
import { REPORT_MARGIN_MS } from "../../src/util/deadline.js";
import { Redactor } from "../../src/redact.js";
import type { RunEvent } from "../../src/runner/run-checks.js";
import type { Status } from "../../src/diagnose/vocabulary.js";
import type { CheckResult, RunReport } from "../../src/report/schema.js";

const SERVICE = "backend-staging";

let world: GcpWorld;
let health: Awaited<ReturnType<typeof httpServer>>;
/** For each request the health endpoint served: how many GetService calls the emulator had answered by then. */
let healthServedAt: number[] = [];
let root: string;

const getServiceCalls = () => world.emulator.calls.filter((call) => call.method === "GetService").length;

beforeAll(async () => {
  world = await startGcpWorld();
  health = await httpServer((_req, res) => {
    healthServedAt.push(getServiceCalls());
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ status: "ok" }));
  });
  root = mkdtempSync(path.join(tmpdir(), "infra-check-converge-"));
  mkdirSync(path.join(root, "config"));
});
afterAll(async () => {
  await health?.stop();
  await world?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  world.reset();
  world.emulator.calls.length = 0;
  healthServedAt = [];
});

/** The config a user writes: project and region from the top-level gcp: block, the health check behind the service. */
function rawConfig() {
  return {
    deadline: "10s",
    gcp: { project: PROJECT, region: REGION, emulatorHost: world.emulator.emulatorHost },
    checks: {
      backend: { kind: "cloud-run", service: SERVICE, expect: { image: `*:${SHA}` } },
      health: { kind: "http", url: health.url("/health"), dependsOn: ["backend"] },
    },
  };
}

/** --wait through runWithWait, recording every attempt's results (the runner's end events) and the retries. */
async function waitFor(waitMs: number, backoffMs: number) {
  const loaded = await buildConfig(rawConfig(), { dir: root, defaultEnv: "staging", env: {} });
  const rounds: Record<string, { status: Status; code?: string }>[] = [{}];
  const retries: RetryInfo[] = [];
  const started = performance.now();
  const report = await runWithWait(
    { env: loaded.env, deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes },
    {
      deps: { gcp: loaded.gcp, env: {} },
      redactor: new Redactor(loaded.secrets),
      onEvent: (event: RunEvent) => {
        if (event.type === "end") rounds.at(-1)![event.result.name] = { status: event.result.status, code: event.result.failure?.code };
      },
    },
    {
      waitMs,
      backoffMs: () => backoffMs,
      onRetry: (retry) => {
        retries.push(retry);
        rounds.push({});
      },
    },
  );
  return { report, rounds, retries, elapsedMs: performance.now() - started };
}

const byName = (report: RunReport, name: string): CheckResult => report.checks.find((check) => check.name === name)!;

describe("--wait polls cloud checks until they converge", () => {
  it("a rollout that converges on the third GetService: the dependent is blocked until then, runs once, and passes — inside the wait", async () => {
    world.stack.startRollout();
    world.emulator.state.afterCalls("GetService", 2, () => world.stack.finishRollout());
    const waitMs = 20_000;
    const { report, rounds, retries, elapsedMs } = await waitFor(waitMs, 20);

    expect(rounds).toEqual([
      { backend: { status: "fail", code: "NOT_CONVERGED" }, health: { status: "blocked" } },
      { backend: { status: "fail", code: "NOT_CONVERGED" }, health: { status: "blocked" } },
      { backend: { status: "pass" }, health: { status: "pass" } },
    ]);
    expect(retries.map((retry) => [retry.attempt, retry.checks])).toEqual([
      [2, ["backend", "health"]],
      [3, ["backend", "health"]],
    ]);
    // The data plane was asked once, after the service had converged (third read of it).
    expect(healthServedAt).toEqual([3]);
    expect(getServiceCalls()).toBe(3);

    expect(report.ok).toBe(true);
    expect(byName(report, "backend")).toMatchObject({ status: "pass", attempts: 3, labels: ["passed after 3 attempts"], metrics: { converged: true } });
    expect(byName(report, "health")).toMatchObject({ status: "pass", attempts: 3, labels: ["passed after 3 attempts"] });
    expect(report.extras?.wait).toEqual({
      waitMs,
      attempts: 3,
      passedAfterRetry: ["backend", "health"],
      neverPassed: [],
      neverConverged: [],
      convergedButBroken: [],
    });
    expect(report.durationMs).toBeLessThanOrEqual(waitMs + REPORT_MARGIN_MS);
    expect(elapsedMs).toBeLessThan(waitMs);
  });

  it.each([
    {
      name: "a rollout in progress ends with its newest revision failed",
      setup: (w: GcpWorld) => {
        w.stack.startRollout();
        w.emulator.state.afterCalls("GetService", 1, () => {
          w.stack.finishRollout();
          w.stack.failLatestRevision("Container called exit(1).");
        });
      },
      first: "NOT_CONVERGED",
      code: "REVISION_FAILED",
      says: "Container called exit(1).",
    },
    {
      name: "a converged service still running the old image",
      setup: (w: GcpWorld) => w.stack.setServiceImage(OLD_IMAGE),
      class: "drift",
      says: `image is "${OLD_IMAGE}"`,
      // The region is the config's gcp.region: the check itself names none.
      hint: "gcloud run deploy backend-staging --region us-central1",
    },
    {
      name: "a converged service whose Ready condition failed",
      setup: (w: GcpWorld) => w.stack.setServiceNotReady("Ingress could not be programmed."),
      code: "NOT_READY",
      says: "Ingress could not be programmed.",
    },
  ])("converged but broken: $name", async (row) => {
    row.setup(world);
    // Backoff leaves the attempts before the last one a budget that a loaded machine still completes in.
    const waitMs = 1500;
    const { report, rounds, elapsedMs } = await waitFor(waitMs, 150);

    const backend = byName(report, "backend");
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    if (row.first) expect(rounds[0].backend.code).toBe(row.first);
    expect(rounds.at(-1)!.backend.status).toBe("fail");
    expect(backend).toMatchObject({ status: "fail", attempts: rounds.length, metrics: { converged: true } });
    // A failed revision that ended the rollout is final: not polled again once seen (issue 17).
    if (row.code === "REVISION_FAILED") expect(rounds).toHaveLength(2);
    expect(backend.labels).toEqual(["converged but broken"]);
    if (row.code) expect(backend.failure?.code).toBe(row.code);
    if (row.class) expect(backend.failure?.class).toBe(row.class);
    expect(backend.failure?.message).toContain(row.says);
    if (row.hint) expect(backend.failure?.hint).toContain(row.hint);
    expect(byName(report, "health")).toMatchObject({ status: "blocked", blockedBy: ["backend"] });
    expect(byName(report, "health").labels).toBeUndefined();
    expect(healthServedAt).toEqual([]);
    expect(report.extras?.wait).toMatchObject({ neverPassed: ["backend", "health"], neverConverged: [], convergedButBroken: ["backend"] });
    expect(report.durationMs).toBeLessThanOrEqual(waitMs + REPORT_MARGIN_MS);
    expect(elapsedMs).toBeLessThan(waitMs + 500);
  });
});

describe("--wait that ends before the rollout does (CLI)", () => {
  it('reports "never converged" in the table and in extras.wait.neverConverged; the dependent stays blocked and is never contacted', async () => {
    world.stack.startRollout();
    const raw = rawConfig();
    writeFileSync(
      path.join(root, "config", "rollout.yaml"),
      [
        `deadline: ${raw.deadline}`,
        "gcp:",
        `  project: ${PROJECT}`,
        `  region: ${REGION}`,
        `  emulatorHost: "${world.emulator.emulatorHost}"`,
        "checks:",
        "  backend:",
        "    kind: cloud-run",
        `    service: ${SERVICE}`,
        `    expect: { image: "*:${SHA}" }`,
        "  health:",
        "    kind: http",
        `    url: ${health.url("/health")}`,
        "    dependsOn: [backend]",
        "",
      ].join("\n"),
    );
    const waitMs = 1500;
    const jsonFile = path.join(root, "rollout.json");
    const { code, stdout, elapsedMs } = await runMain(["rollout", "--wait", `${waitMs}ms`, "--output", `json=${jsonFile}`], {
      cwd: root,
      env: { METADATA_SERVER_DETECTION: "none" },
      execute: { wait: { backoffMs: () => 200 } },
    });
    expect(code).toBe(1);
    const report = JSON.parse(readFileSync(jsonFile, "utf8")) as RunReport;
    const backend = byName(report, "backend");
    // Every attempt read the service, except perhaps a last one the end of the wait cut short.
    const attempts = backend.attempts!;
    expect(getServiceCalls()).toBeGreaterThanOrEqual(Math.max(2, attempts - 1));
    expect(backend).toMatchObject({ status: "fail", labels: ["never converged"], failure: { class: "unhealthy", code: "NOT_CONVERGED" }, metrics: { converged: false } });
    expect(byName(report, "health")).toMatchObject({ status: "blocked", blockedBy: ["backend"], attempts });
    expect(healthServedAt).toEqual([]);
    expect(report.extras?.wait).toMatchObject({ waitMs, attempts, neverPassed: ["backend", "health"], neverConverged: ["backend"], convergedButBroken: [] });
    expect(report.durationMs).toBeLessThanOrEqual(waitMs + REPORT_MARGIN_MS);
    expect(elapsedMs).toBeLessThan(waitMs + 1000);

    const row = stdout.split("\n").find((line) => line.includes("backend") && line.includes("cloud-run"));
    expect(row).toContain("[never converged] unhealthy: service backend-staging has not converged");
    expect(row).toContain(`(attempt ${attempts})`);
    expect(stdout).toMatch(/health\s+http\s.*blocked by backend/);
  });
});
