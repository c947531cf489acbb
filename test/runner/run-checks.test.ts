import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, httpServer, silentServer } from "../helpers/net.js";
import { runConfig } from "../helpers/run.js";
import { checkBudget } from "../../src/util/deadline.js";
import { SamplingLane } from "../../src/runner/sampling-lane.js";

let ok: Awaited<ReturnType<typeof httpServer>>;
let silent: Awaited<ReturnType<typeof silentServer>>;
let refusedPort: number;

beforeAll(async () => {
  ok = await httpServer((_req, res) => res.end("ok"));
  silent = await silentServer();
  refusedPort = await closedPort();
});
afterAll(async () => {
  await ok.stop();
  await silent.stop();
});

const check = (url: string, extra: Record<string, unknown> = {}) => ({ kind: "http", url, ...extra });

describe("runner", () => {
  it("runs checks concurrently: three silent targets take one budget, not three", async () => {
    const started = performance.now();
    const report = await runConfig({
      checks: { a: check(silent.url(), { timeout: "400ms" }), b: check(silent.url(), { timeout: "400ms" }), c: check(silent.url(), { timeout: "400ms" }) },
    });
    const elapsed = performance.now() - started;
    expect(report.summary.fail).toBe(3);
    expect(elapsed).toBeLessThan(400 * 2);
    for (const result of report.checks) expect(result.failure?.class).toBe("timeout");
  });

  it("the run deadline cuts every check's budget: the run never outlives it", async () => {
    const started = performance.now();
    const report = await runConfig({ deadline: "500ms", checks: { slow: check(silent.url(), { timeout: "10s" }), fine: check(ok.url()) } });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(500 + 100);
    const slow = report.checks.find((result) => result.name === "slow")!;
    expect(slow.failure?.class).toBe("timeout");
    expect(slow.failure?.message).toContain("cut short by the run deadline");
    expect(slow.budgetMs).toBeLessThan(500);
    expect(report.checks.find((result) => result.name === "fine")!.status).toBe("pass");
  });

  it("a closed port fails fast, well inside its budget", async () => {
    const started = performance.now();
    const report = await runConfig({ checks: { a: check(`http://127.0.0.1:${refusedPort}/`, { timeout: "5s" }) } });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(report.checks[0].failure?.class).toBe("refused");
  });

  it("blocks dependents of a failed check and names the root cause once", async () => {
    const report = await runConfig({
      checks: {
        connector: check(`http://127.0.0.1:${refusedPort}/`),
        cache: check(ok.url(), { dependsOn: ["connector"] }),
        chat: check(ok.url(), { dependsOn: ["cache"] }),
        api: check(ok.url()),
      },
    });
    const byName = Object.fromEntries(report.checks.map((result) => [result.name, result]));
    expect(byName.connector.status).toBe("fail");
    expect(byName.cache).toMatchObject({ status: "blocked", blockedBy: ["connector"] });
    expect(byName.chat).toMatchObject({ status: "blocked", blockedBy: ["cache"] });
    expect(byName.api.status).toBe("pass");
    expect(report.summary).toEqual({ total: 4, pass: 1, warn: 0, fail: 1, blocked: 2 });
    expect(report.rootCauses).toEqual([{ check: "connector", class: "refused", message: expect.stringContaining("refused"), blocks: ["cache", "chat"] }]);
    expect(report.ok).toBe(false);
    // Results keep the config's order.
    expect(report.checks.map((result) => result.name)).toEqual(["connector", "cache", "chat", "api"]);
  });

  it("runs a dependent after its dependency passes", async () => {
    const report = await runConfig({ checks: { b: check(ok.url(), { dependsOn: ["a"] }), a: check(ok.url()) } });
    expect(report.checks.map((result) => result.status)).toEqual(["pass", "pass"]);
  });

  it("warnings pass unless strict", async () => {
    const raw = { checks: { a: check(ok.url(), { warn: { status: 204 } }) } };
    const lenient = await runConfig(raw);
    expect(lenient.checks[0].status).toBe("warn");
    expect(lenient.ok).toBe(true);
    const strict = await runConfig(raw, { strict: true });
    expect(strict.ok).toBe(false);
  });

  it("emits start and end events for progress displays", async () => {
    const events: string[] = [];
    await runConfig({ checks: { a: check(ok.url()) } }, { onEvent: (event) => events.push(event.type) });
    expect(events).toEqual(["start", "end"]);
  });
});

describe("checkBudget", () => {
  it.each([
    [3000, 20000, { budgetMs: 3000, byRunDeadline: false }],
    [3000, 1000, { budgetMs: 950, byRunDeadline: true }],
    [3000, 10, { budgetMs: 0, byRunDeadline: true }],
  ])("timeout %i with %i ms left → %j", (timeoutMs, remainingMs, expected) => {
    expect(checkBudget(timeoutMs, remainingMs)).toEqual(expected);
  });
});

describe("SamplingLane", () => {
  it("runs samples one at a time", async () => {
    const lane = new SamplingLane(1000);
    let inFlight = 0;
    let maxInFlight = 0;
    const sample = () =>
      lane.run(async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
      });
    await Promise.all([sample(), sample(), sample(), sample()]);
    expect(maxInFlight).toBe(1);
  });

  it("a sample that holds the lane too long lets the next one go", async () => {
    const lane = new SamplingLane(5);
    let releaseSlow!: () => void;
    const slow = lane.run(() => new Promise<void>((resolve) => (releaseSlow = resolve)));
    const fast = await lane.run(async () => "fast ran while slow was pending");
    expect(fast).toContain("fast ran");
    releaseSlow();
    await slow;
  });

  it("a failed sample does not block the lane", async () => {
    const lane = new SamplingLane();
    await expect(lane.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(lane.run(async () => 42)).resolves.toBe(42);
  });

  it("a waiting sample gives up when its check's signal aborts", async () => {
    const lane = new SamplingLane(10_000);
    let release!: () => void;
    const holding = lane.run(() => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    const waiting = lane.run(async () => "never", controller.signal);
    controller.abort(new Error("budget spent"));
    await expect(waiting).rejects.toThrow("budget spent");
    release();
    await holding;
  });
});
