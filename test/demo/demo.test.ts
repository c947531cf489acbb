// `infra-check demo` end to end: the spawned bin against the real local stack
// (redis-server, PostgreSQL, chat server, /health, Google Cloud emulator),
// every --break giving its diagnosis, --list-breaks, --keep and Ctrl-C.
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { BIN, runCli } from "../helpers/cli.js";
import { BREAKS, BREAK_NAMES } from "../../src/demo/breaks.js";
import { networkNamespacesAvailable } from "../../src/demo/netns.js";
import type { RunReport } from "../../src/report/schema.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CHECKS = ["backend", "connector", "cache-instance", "db-instance", "cache", "db", "chat", "health"];

/**
 * The demo spawned with --format json. Each run is its own process (own event
 * loop): concurrent in-process runs would measure each other's work (a PING
 * sample waiting behind another stack's start-up) instead of the stack.
 * At most two at a time on a 2-core machine.
 */
const demoJson = limited(2, async (args: string[]): Promise<{ code: number | null; report: RunReport; stderr: string }> => {
  const result = await runCli(["demo", "--format", "json", ...args], { cwd: ROOT, timeoutMs: 30_000 });
  let report: RunReport;
  try {
    report = JSON.parse(result.stdout) as RunReport;
  } catch {
    throw new Error(`demo ${args.join(" ")} printed no JSON report (exit ${result.code}):\n${result.stderr}\n${result.stdout}`);
  }
  return { code: result.code, report, stderr: result.stderr };
});

function limited<A extends unknown[], R>(concurrency: number, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (...args: A) => {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await fn(...args);
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

function failureText(report: RunReport, check: string): string {
  const result = report.checks.find((candidate) => candidate.name === check)!;
  return `${result.failure?.message ?? ""} ${result.failure?.hint ?? ""}`.toLowerCase();
}

/** Resolves when something accepts a TCP connection on the port, rejects with the socket error otherwise. */
function connect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", reject);
  });
}

describe("infra-check demo (spawned)", () => {
  it("runs config/demo.yaml against the local stack: every check passes, exit 0, in a few seconds", async () => {
    const result = await runCli(["demo"], { cwd: ROOT, timeoutMs: 30_000 });
    expect(result.stderr).toBe("");
    expect(result.code, result.stdout).toBe(0);
    for (const check of CHECKS) expect(result.stdout).toMatch(new RegExp(`✔ PASS +${check} `));
    expect(result.stdout).toMatch(/^HEALTHY {2}8 checks: 8 passed, 0 warned, 0 failed, 0 blocked/m);
    expect(result.stdout).toContain("infra-check demo");
    expect(result.elapsedMs).toBeLessThan(15_000);
  });

  it.each([
    ["redis-auth", "cache", "auth", /WRONGPASS|password/],
    ["dns", "cache", "dns", /redis\.demo\.invalid/],
    ["connector-down", "connector", "unhealthy", /ERROR/],
    ["no-welcome", "chat", "timeout", /connection_established/],
  ])("--break %s: exit 1, %s fails with class %s and a hint", async (name, check, failureClass, says) => {
    const result = await runCli(["demo", "--break", name], { cwd: ROOT, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`break ${name}:`);
    const row = result.stdout.split("\n").findIndex((line) => new RegExp(`✖ FAIL +${check} `).test(line));
    expect(row).toBeGreaterThan(-1);
    const line = result.stdout.split("\n")[row];
    expect(line).toContain(`${failureClass}: `);
    expect(line).toMatch(says);
    // The hint is the line under the failure.
    expect(result.stdout.split("\n")[row + 1]).toMatch(/^\s+→ \S/);
    expect(result.stdout).toMatch(/^UNHEALTHY/m);
    // Root causes are listed when they add to the rows: when the failure blocks another check (14.11).
    if (/⊘ BLOCKED/.test(result.stdout)) expect(result.stdout).toMatch(new RegExp(`^Root causes?:\\n(.*\\n)*  ${check} \\[${failureClass}\\]`, "m"));
  });

  it("takes the output flags of run (--format json, --output junit=FILE); its Google checks use its own emulator whatever the shell exports", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "infra-check-demo-test-"));
    try {
      const junit = path.join(dir, "demo.xml");
      const result = await runCli(["demo", "--format", "json", "--output", `junit=${junit}`], {
        cwd: ROOT,
        timeoutMs: 30_000,
        env: { INFRA_CHECK_GCP_EMULATOR_HOST: "127.0.0.1:9" },
      });
      expect(result.code, result.stdout).toBe(0);
      const report = JSON.parse(result.stdout) as RunReport;
      expect(report).toMatchObject({ env: "demo", ok: true, summary: { total: 8, pass: 8 } });
      expect(readFileSync(junit, "utf8")).toContain("<testsuite");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--list-breaks names every break with its diagnosis; exit 0 without starting anything", async () => {
    const result = await runCli(["demo", "--list-breaks"], { cwd: ROOT });
    expect(result.code).toBe(0);
    for (const entry of BREAKS) {
      expect(result.stdout).toContain(entry.name);
      expect(result.stdout).toContain(`→ ${entry.expect.check}: ${entry.expect.class}`);
    }
    const json = await runCli(["demo", "--list-breaks", "--format", "json"], { cwd: ROOT });
    expect(JSON.parse(json.stdout).map((entry: { name: string }) => entry.name)).toEqual(BREAK_NAMES);
  });

  it("docs/demo.md documents every break with its check and class", () => {
    const docs = readFileSync(path.join(ROOT, "docs/demo.md"), "utf8");
    for (const entry of BREAKS) {
      const row = docs.split("\n").find((line) => line.startsWith(`| \`${entry.name}\` |`));
      expect(row, entry.name).toBeDefined();
      expect(row).toContain(`\`${entry.expect.check}\`: **${entry.expect.class}**`);
    }
  });

  it("an unknown break is a usage error (exit 2) that lists the known ones; nothing starts", async () => {
    const result = await runCli(["demo", "--break", "redis-auht"], { cwd: ROOT });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown break "redis-auht"');
    expect(result.stderr).toContain("redis-auth");
    expect(result.stdout).toBe("");
  });

  it("a missing redis-server is exit 2 naming the apt package and scripts/setup.sh", async () => {
    const result = await runCli(["demo"], { cwd: ROOT, env: { REDIS_SERVER: "/nonexistent/redis-server" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("redis-server not installed");
    expect(result.stderr).toContain("apt-get install -y redis-server");
    expect(result.stderr).toContain("scripts/setup.sh");
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("--keep: prints how to use the stack, then %s stops everything and exits %i", async (signal, exitCode) => {
    const child = spawn(process.execPath, [BIN, "demo", "--keep"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", METADATA_SERVER_DETECTION: "none" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    const ready = new Promise<void>((resolve) => {
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
        if (/infra-check run --config .*\n/.test(stderr)) resolve();
      });
    });
    const exited = once(child, "exit");
    try {
      await ready;
      expect(stdout).toMatch(/^HEALTHY/m);
      const envFile = /Its variables .* are in (\S+):/.exec(stderr)![1];
      const env = Object.fromEntries(
        readFileSync(envFile, "utf8")
          .trim()
          .split("\n")
          .map((line) => line.split(/=(.*)/s).slice(0, 2).map((part) => part.replace(/^'|'$/g, ""))),
      ) as Record<string, string>;
      // Secrets are in the 0600 file, not on the terminal.
      expect(stderr).not.toContain(env.DEMO_PG_PASSWORD);
      expect(stderr).toContain("DEMO_PG_PASSWORD=(secret");
      const ports = [env.DEMO_REDIS_PORT, env.DEMO_PG_PORT, env.DEMO_CHAT_PORT, env.DEMO_HEALTH_PORT].map(Number);
      for (const port of ports) await connect(port);

      child.kill(signal);
      const [code] = await exited;
      expect(code).toBe(exitCode);
      expect(stderr).toContain(`${signal} — stopping the demo stack`);
      expect(existsSync(envFile)).toBe(false);
      for (const port of ports) await expect(connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      child.kill("SIGKILL");
    }
  });
});

// Concurrent: each break has its own stack (own ports, own temp dirs) in its own process.
// A test's clock runs while it waits for its turn: the timeout covers the queue.
describe.concurrent("every --break gives its diagnosis", { timeout: 180_000 }, () => {
  // A break that needs root (a network namespace) is a usage error without it: see the test below.
  it.each(BREAKS.map((entry) => [entry.name, entry] as const))("%s", async (_name, entry) => {
    if (entry.needsRoot && !networkNamespacesAvailable()) return;
    const { code, report, stderr } = await demoJson(["--break", entry.name]);
    expect(stderr).toContain(`break ${entry.name}:`);
    expect(code).toBe(1);
    const failed = report.checks.find((check) => check.name === entry.expect.check)!;
    const summary = report.checks.map((check) => `${check.name}: ${check.status} ${check.failure?.class ?? ""} ${check.failure?.message ?? ""}`).join("\n");
    expect(failed.status, summary).toBe("fail");
    expect(failed.failure?.class).toBe(entry.expect.class);
    expect(failed.failure?.hint.length).toBeGreaterThan(20);
    expect(failureText(report, entry.expect.check)).toContain(entry.expect.says.toLowerCase());
    for (const blocked of entry.expect.blocks ?? []) {
      expect(report.checks.find((check) => check.name === blocked)?.status).toBe("blocked");
    }
    // Nothing else broke: the other checks pass (or are blocked by this one).
    const others = report.checks.filter((check) => check.name !== entry.expect.check && !(entry.expect.blocks ?? []).includes(check.name));
    expect(others.filter((check) => check.status !== "pass").map((check) => `${check.name}: ${check.failure?.message}`)).toEqual([]);
    expect(report.rootCauses.map((cause) => cause.check)).toEqual([entry.expect.check]);
  });

  it("cloud-sql-cpu: the slow db check carries the instance's CPU from Cloud Monitoring, with the lag", async () => {
    const { report } = await demoJson(["--break", "cloud-sql-cpu"]);
    const db = report.checks.find((check) => check.name === "db")!;
    expect(db.details?.evidence).toContain("Cloud SQL CPU 97 % over the last 10 min (max 99 %)");
    expect(db.details?.evidence).toContain("lag by up to ~3 minutes");
  });

  it("breaks combine: a check blocked by one root cause does not report its own break", async () => {
    const { code, report } = await demoJson(["--break", "connector-down", "--break", "no-subprotocol", "--break", "health-degraded"]);
    expect(code).toBe(1);
    expect(report.rootCauses.map((cause) => cause.check).sort()).toEqual(["connector", "health"]);
    expect(report.checks.find((check) => check.name === "chat")?.status).toBe("blocked");
  });
});
