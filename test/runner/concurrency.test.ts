// `concurrency:` bounds the checks in flight; running out of file
// descriptors is diagnosed as infra-check's own limit, never the network's.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer, silentServer } from "../helpers/net.js";
import { BIN } from "../helpers/cli.js";
import { runConfig } from "../helpers/run.js";
import { buildConfig } from "../../src/config/load.js";
import { defaultConcurrency } from "../../src/util/open-files.js";
import { Slots } from "../../src/runner/slots.js";
import type { RunReport } from "../../src/report/schema.js";

const CHECKS = 6;
const LIMIT = 2;

let arrived = 0;
let inFlight = 0;
let maxInFlight = 0;
let held: http.ServerResponse[] = [];
let web: Awaited<ReturnType<typeof httpServer>>;
let silent: Awaited<ReturnType<typeof silentServer>>;
let dir: string;

beforeAll(async () => {
  // Each request is held until LIMIT are in flight (or it is the last one), then they are answered together:
  // more than LIMIT in flight at once would show in maxInFlight, and fewer never blocks the run.
  web = await httpServer((_req, res) => {
    arrived += 1;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("finish", () => (inFlight -= 1));
    held.push(res);
    if (held.length >= LIMIT || arrived === CHECKS) {
      for (const waiting of held) waiting.end("ok");
      held = [];
    }
  });
  silent = await silentServer();
  dir = mkdtempSync(path.join(tmpdir(), "infra-check-concurrency-"));
});
afterAll(async () => {
  await web.stop();
  await silent.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("concurrency", () => {
  it("at most `concurrency:` checks are in flight; every check still runs", async () => {
    const checks = Object.fromEntries(Array.from({ length: CHECKS }, (_, i) => [`c${i}`, { kind: "http", url: web.url(`/${i}`) }]));
    const report = await runConfig({ concurrency: LIMIT, checks });
    expect(report.summary.pass).toBe(CHECKS);
    expect(maxInFlight).toBe(LIMIT);
  });

  it("a check still waiting for a slot at the deadline fails at once, cut short by the run deadline: the run never outlives it", async () => {
    const started = performance.now();
    const report = await runConfig({ deadline: "400ms", concurrency: 1, checks: { first: { kind: "http", url: silent.url(), timeout: "10s" }, second: { kind: "http", url: silent.url(), timeout: "10s" } } });
    expect(performance.now() - started).toBeLessThan(400 + 100);
    expect(report.checks.map((check) => check.failure?.class)).toEqual(["timeout", "timeout"]);
    expect(report.checks[1].failure?.message).toContain("cut short by the run deadline");
  });

  it.each([
    [0, 1],
    [10, 1],
    [1024, 240],
    [20_000, 4984],
  ])("open-files limit %i → default concurrency %i", (limit, expected) => {
    expect(defaultConcurrency(limit)).toBe(expected);
  });

  it("slots are handed on in order, and a waiter gives up after its wait", async () => {
    const slots = new Slots(1);
    const release = await slots.acquire(1000);
    const order: string[] = [];
    const second = slots.acquire(10_000).then((done) => (order.push("second"), done));
    const third = slots.acquire(0).then((done) => (order.push("third gave up"), done));
    await third;
    release();
    (await second)();
    expect(order).toEqual(["third gave up", "second"]);
  });

  it.each([
    [{ concurrency: 0 }, /concurrency: must be at least 1/],
    [{ concurrency: "lots" }, /concurrency: expected a number/],
  ])("%j is a config error with the key", async (top, message) => {
    await expect(buildConfig({ ...top, checks: { a: { kind: "tcp", address: "127.0.0.1:1" } } }, { dir: "/", defaultEnv: "test", env: {} })).rejects.toThrow(message);
  });

  it.skipIf(spawnSync("sh", ["-c", "command -v prlimit"]).status !== 0)(
    "out of file descriptors (a low ulimit -n and concurrency set too high) → class config, infra-check's own limit, never the network",
    async () => {
      const file = path.join(dir, "many.yaml");
      const lines = ["concurrency: 200", "checks:", ...Array.from({ length: 60 }, (_, i) => `  c${i}: { kind: tcp, address: "127.0.0.1:${silent.port}", timeout: 2s }`)];
      writeFileSync(file, lines.join("\n") + "\n");
      const result = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn("prlimit", ["--nofile=48:48", "--", process.execPath, BIN, "run", "-c", file, "--format", "json"], { env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "ignore"] });
        let stdout = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout }));
      });
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout) as RunReport;
      const exhausted = report.checks.filter((check) => check.failure?.code === "EMFILE");
      expect(exhausted.length).toBeGreaterThan(0);
      for (const check of exhausted) {
        expect(check.failure).toMatchObject({ class: "config", diagnosis: "check.FD_LIMIT" });
        expect(check.failure!.message).toMatch(/infra-check's own limit \(open files 48, 200 checks in flight at most\), not the network/);
        expect(check.failure!.hint).toMatch(/Lower `concurrency:`/);
      }
    },
  );
});
