// --wait against in-process HTTP servers whose health flips on a request
// count (never on time): re-runs only what has not passed, dependents run once
// their dependency passes, attempts and flaky passes are reported, the last
// failure is kept, and the wait is a hard budget.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type http from "node:http";
import { httpServer, silentServer } from "../helpers/net.js";
import { runMain } from "../helpers/main-io.js";
import { REPORT_MARGIN_MS } from "../../src/util/deadline.js";
import { defaultBackoffMs } from "../../src/runner/wait.js";
import { runWithWait } from "../helpers/run.js";
import { buildConfig } from "../../src/config/load.js";
import { Redactor } from "../../src/redact.js";
import type { RunReport } from "../../src/report/schema.js";

/** Paths that answer 503 for their first `failures` requests, then 200. */
class FlippingRoutes {
  readonly counts = new Map<string, number>();
  constructor(private readonly failures: Record<string, number>) {}
  handle: http.RequestListener = (req, res) => {
    const route = req.url ?? "/";
    const count = (this.counts.get(route) ?? 0) + 1;
    this.counts.set(route, count);
    const failFirst = this.failures[route] ?? 0;
    res.setHeader("content-type", "application/json");
    if (count <= failFirst) {
      res.statusCode = 503;
      res.end(JSON.stringify({ status: "starting", request: count }));
    } else {
      res.end(JSON.stringify({ status: "healthy", ready: true, request: count }));
    }
  };
  count(route: string): number {
    return this.counts.get(route) ?? 0;
  }
}

let app: Awaited<ReturnType<typeof httpServer>>;
let silent: Awaited<ReturnType<typeof silentServer>>;
let root: string;
let routes: FlippingRoutes;
beforeAll(async () => {
  app = await httpServer((req, res) => routes.handle(req, res));
  silent = await silentServer();
  root = mkdtempSync(path.join(tmpdir(), "infra-check-wait-"));
  mkdirSync(path.join(root, "config"));
});
afterAll(async () => {
  await app.stop();
  await silent.stop();
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => {
  routes = new FlippingRoutes({});
});

function config(name: string, checks: Record<string, string>, deadline = "5s"): string {
  const body = Object.entries(checks)
    .map(([check, rest]) => `  ${check}:\n    kind: http\n${rest.replace(/^/gm, "    ")}`)
    .join("\n");
  writeFileSync(path.join(root, "config", `${name}.yaml`), `deadline: ${deadline}\nchecks:\n${body}\n`);
  return name;
}

const fast = { wait: { backoffMs: () => 20 } };
const run = async (args: string[], execute = fast) => {
  const result = await runMain([...args, "--format", "json"], { cwd: root, execute });
  return { ...result, report: JSON.parse(result.stdout || "null") as RunReport };
};
const byName = (report: RunReport, name: string) => report.checks.find((check) => check.name === name)!;

describe("--wait", () => {
  it("re-runs only the failing check until it passes; the pass after retries is labelled", async () => {
    routes = new FlippingRoutes({ "/api": 2 });
    const env = config("flip", { api: `url: ${app.url("/api")}`, static: `url: ${app.url("/static")}` });
    const { code, report } = await run([env, "--wait", "10s"]);
    expect(code).toBe(0);
    expect(byName(report, "api")).toMatchObject({ status: "pass", attempts: 3, labels: ["passed after 3 attempts"] });
    expect(byName(report, "static")).toMatchObject({ status: "pass", attempts: 1 });
    expect(byName(report, "static").labels).toBeUndefined();
    expect(routes.count("/api")).toBe(3);
    expect(routes.count("/static")).toBe(1);
    expect(report.extras?.wait).toEqual({ waitMs: 10_000, attempts: 3, passedAfterRetry: ["api"], neverPassed: [], neverConverged: [], convergedButBroken: [] });
  });

  it("a check blocked by a failing dependency runs once the dependency passes", async () => {
    routes = new FlippingRoutes({ "/gateway": 2 });
    const env = config("deps", { gateway: `url: ${app.url("/gateway")}`, chat: `url: ${app.url("/chat")}\ndependsOn: [gateway]` });
    const { code, report } = await run([env, "--wait", "10s"]);
    expect(code).toBe(0);
    expect(byName(report, "gateway")).toMatchObject({ status: "pass", attempts: 3 });
    expect(byName(report, "chat")).toMatchObject({ status: "pass", attempts: 3 });
    expect(routes.count("/chat")).toBe(1);
  });

  it("a check that never passes keeps its last failure; the wait (default backoff) ends within its budget", async () => {
    routes = new FlippingRoutes({ "/down": Number.POSITIVE_INFINITY });
    const env = config("down", { down: `url: ${app.url("/down")}`, up: `url: ${app.url("/up")}` });
    const waitMs = 1500;
    const { code, report, elapsedMs } = await run([env, "--wait", `${waitMs}ms`], {} as typeof fast);
    expect(code).toBe(1);
    const down = byName(report, "down");
    const requests = routes.count("/down");
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(down).toMatchObject({ status: "fail", attempts: requests, failure: { class: "server-error" } });
    // The last attempt's failure, not the first: the body carries the request number.
    expect(down.failure!.message).toContain(`"request":${requests}`);
    expect(byName(report, "up").attempts).toBe(1);
    expect(report.extras?.wait).toMatchObject({ waitMs, attempts: requests, passedAfterRetry: [], neverPassed: ["down"], neverConverged: [], convergedButBroken: [] });
    // An http check reports no convergence: neither "never converged" nor "converged but broken".
    expect(down.labels).toBeUndefined();
    expect(report.durationMs).toBeLessThanOrEqual(waitMs + REPORT_MARGIN_MS);
    expect(elapsedMs).toBeLessThan(waitMs + 500);
  });

  it("a last attempt squeezed by the end of the wait (less budget, another failure) does not hide the failure seen before it", async () => {
    let served = 0;
    app.setHandler((_req, res) => {
      served += 1;
      // The third request is never answered: only the squeezed budget ends that attempt.
      if (served >= 3) return;
      res.statusCode = 503;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ status: "starting", request: served }));
    });
    try {
      const loaded = await buildConfig({ deadline: "30s", checks: { api: { kind: "http", url: app.url("/api") } } }, { dir: root, defaultEnv: "wait", env: {} });
      // The clock jumps to 400 ms before the end of the wait just before attempt 3: that attempt gets ~330 ms, not 5 s.
      let offsetMs = 0;
      let startMs: number | undefined;
      const now = () => {
        const at = performance.now() + offsetMs;
        startMs ??= at;
        return at;
      };
      const waitMs = 60_000;
      const logs: string[] = [];
      const report = await runWithWait(
        { env: loaded.env, deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes },
        { now, redactor: new Redactor(loaded.secrets), log: (line) => logs.push(line) },
        {
          waitMs,
          backoffMs: () => 20,
          onRetry: ({ attempt }) => {
            if (attempt === 3) offsetMs += startMs! + waitMs - 400 - now();
          },
        },
      );
      const api = byName(report, "api");
      expect(served).toBe(3);
      expect(api).toMatchObject({ status: "fail", attempts: 3, failure: { class: "server-error" } });
      expect(api.failure!.message).toContain('"request":2');
      expect(logs.some((line) => /api: the last attempt, cut short by the end of the wait \(.* budget\), failed with timeout; reporting the attempt before it/.test(line))).toBe(true);
    } finally {
      app.setHandler((req, res) => routes.handle(req, res));
    }
  });

  it("the wait bounds a hanging check even when its timeout and the deadline are longer", async () => {
    const env = config("hang", { stuck: `url: ${silent.url()}\ntimeout: 20s` }, "30s");
    const { code, report, elapsedMs } = await run([env, "--wait", "800ms"]);
    expect(code).toBe(1);
    expect(byName(report, "stuck").failure!.class).toBe("timeout");
    // The margin plus 100 ms of event-loop lag a loaded 2-core CI machine shows (seen: 860 ms).
    expect(report.durationMs).toBeLessThanOrEqual(800 + REPORT_MARGIN_MS + 100);
    expect(elapsedMs).toBeLessThan(800 + 500);
  });

  it.each([
    ["without --strict a warning is done (not retried)", [], 1],
    ["with --strict a warning is retried like a failure", ["--strict"], 3],
  ])("%s", async (_name, flags, attempts) => {
    routes = new FlippingRoutes({});
    let served = 0;
    app.setHandler((_req, res) => {
      served += 1;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ready: served >= 3 }));
    });
    try {
      const env = config("warmup", { cache: `url: ${app.url("/")}\nwarn: { json.ready: true }` });
      const { code, report } = await run([env, "--wait", "10s", ...flags]);
      expect(code).toBe(0);
      expect(byName(report, "cache").attempts).toBe(attempts);
      expect(byName(report, "cache").status).toBe(attempts === 1 ? "warn" : "pass");
    } finally {
      app.setHandler((req, res) => routes.handle(req, res));
    }
  });

  it("without --wait the report has no attempts (one run, as before)", async () => {
    routes = new FlippingRoutes({ "/api": 1 });
    const env = config("once", { api: `url: ${app.url("/api")}` });
    const { code, report } = await run([env]);
    expect(code).toBe(1);
    expect(byName(report, "api").attempts).toBeUndefined();
    expect(report.extras?.wait).toBeUndefined();
  });

  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 10_000],
    [9, 10_000],
  ])("default backoff before retry %i is %i ms", (retry, ms) => {
    expect(defaultBackoffMs(retry)).toBe(ms);
  });
});
