// Ctrl-C, SIGTERM (a CI job's timeout) and SIGHUP during a run: the real CLI
// against real servers, the signal sent once the check is in the phase the
// test is about (read from the CLI's own -v log, never after a sleep). The
// run must print the partial report (finished checks as they are, running
// ones `interrupted` with their phase), still write --output files, exit
// 128 + N, and leave nothing behind: no token command (its process group is
// killed) and no query running on the PostgreSQL server (it is cancelled there).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { createReadStream, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { once } from "node:events";
import os from "node:os";
import path from "node:path";
import { startCli, type RunningCli } from "../helpers/cli.js";
import { httpServer, silentServer, type Stoppable } from "../helpers/net.js";
import { startPostgres, type PostgresServer } from "../../src/demo/postgres.js";
import { ROLES } from "../helpers/postgres-fixtures.js";
import { runInTerminal } from "../helpers/terminal.js";

let dir: string;
let silent: Stoppable;
let healthy: Stoppable;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "infra-check-interrupt-"));
  silent = await silentServer();
  healthy = await httpServer((_request, response) => response.end("ok"));
});

/** CLIs a failed test left running are killed after it (with their token commands' process groups, by the CLI itself). */
const started: RunningCli[] = [];
const running = (cli: RunningCli) => (started.push(cli), cli);
afterEach(() => {
  for (const cli of started.splice(0)) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill("SIGTERM");
});

afterAll(async () => {
  await silent?.stop();
  await healthy?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Processes (not zombies) whose command line contains every word of `words`, e.g. the token command's `sleep 317`. */
function livingProcesses(words: string[]): { pid: number; ppid: number }[] {
  const found: { pid: number; ppid: number }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (!words.every((word) => argv.includes(word))) continue;
      // "pid (comm) state ppid …": a zombie (Z) is dead, only not yet reaped.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state !== "Z") found.push({ pid: Number(entry), ppid: Number(ppid) });
    } catch {
      // It ended while we looked.
    }
  }
  return found;
}

/** Whether `pid` is a living process (a zombie, dead but not yet reaped, is not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
  } catch {
    return false;
  }
}

/** Whether `pid` is gone (or a zombie) within a moment: a killed process whose exit the kernel is still completing. */
async function gone(pid: number, withinMs = 1_000): Promise<boolean> {
  for (const until = performance.now() + withinMs; alive(pid) && performance.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 5));
  return !alive(pid);
}

describe("a one-off check interrupted while it waits on a silent server", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGHUP", 129],
  ] as const)("%s: partial report with the phase, --output files written, exit %i", async (signal, exitCode) => {
    const json = path.join(dir, `one-off-${signal}.json`);
    const junit = path.join(dir, `one-off-${signal}.xml`);
    const cli = running(startCli(["redis", `redis://127.0.0.1:${silent.port}`, "-t", "20s", "-v", "-o", `json=${json}`, "-o", `junit=${junit}`]));
    await cli.stderrMatches(/\[redis\] auth…/);
    cli.child.kill(signal);
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(exitCode);
    expect(result.stdout).toMatch(/■ INTERRUPTED\s+redis\s+redis\s+[\d.]+ m?s\s+interrupted by /);
    expect(result.stdout).toContain(`interrupted by ${signal} during auth`);
    expect(result.stdout).toContain(`INTERRUPTED (${signal})`);
    expect(result.stderr).toContain(`infra-check: ${signal}: stopping the running checks`);
    // Well before the check's own 20 s budget.
    expect(result.elapsedMs).toBeLessThan(10_000);
    const report = JSON.parse(readFileSync(json, "utf8"));
    expect(report.interrupted).toEqual({ signal });
    expect(report.ok).toBe(false);
    expect(report.summary).toMatchObject({ total: 1, interrupted: 1 });
    expect(report.checks[0]).toMatchObject({ status: "interrupted", interrupted: { phase: "auth", signal }, failure: null });
    expect(report.checks[0].phasesMs.connect).toBeGreaterThan(0);
    expect(readFileSync(junit, "utf8")).toContain(`<error type="interrupted" message="interrupted by ${signal} during auth">`);
  });
});

describe("a second signal", () => {
  it("exits at once with its own code, without waiting for the clean stop and the report", async () => {
    // A token command with a child that left its process group (setsid) and holds its pipes: the clean stop
    // waits for those pipes (up to half a second), which is when the second signal comes.
    const fifo = path.join(dir, "escaped.fifo");
    execFileSync("mkfifo", [fifo]);
    const pidRead = once(createReadStream(fifo, { encoding: "utf8" }), "data");
    const config = path.join(dir, "escaped.yaml");
    await writeFile(
      config,
      ["env: ci", "checks:", "  chat:", "    kind: websocket", `    url: ws://127.0.0.1:${silent.port}/ws`, "    timeout: 20s", "    token:", `      command: "setsid sleep 318 & echo $! > ${fifo}; wait"`, ""].join("\n"),
    );
    const cli = running(startCli([config, "-v"], { cwd: dir }));
    const [pidText] = (await pidRead) as [string];
    const escaped = Number(pidText.trim());
    try {
      await cli.stderrMatches(/\[chat\] token…/);
      cli.child.kill("SIGINT");
      await cli.stderrMatches(/stopping the running checks/);
      cli.child.kill("SIGTERM");
      const result = await cli.result;
      expect(result.code, result.stderr).toBe(143);
      expect(result.stdout).not.toContain("INTERRUPTED (");
    } finally {
      // The escaped child is no longer the CLI's to kill (it left the group): the test started it, the test ends it.
      if (alive(escaped)) process.kill(escaped, "SIGKILL");
    }
  });
});

describe("a config run interrupted by SIGTERM while a token command runs", () => {
  it("kills the command's process group, keeps the finished check, marks the rest interrupted, exit 143", async () => {
    // The command starts a child, then tells the test both PIDs through a FIFO (the test reads it: an event, not a
    // poll), then waits. `$$$$` is a literal `$$` after the config's interpolation.
    const fifo = path.join(dir, "token.fifo");
    execFileSync("mkfifo", [fifo]);
    const pidRead = once(createReadStream(fifo, { encoding: "utf8" }), "data");
    const config = path.join(dir, "ci.yaml");
    await writeFile(
      config,
      [
        "env: ci",
        "deadline: 30s",
        "checks:",
        "  api:",
        "    kind: http",
        `    url: ${healthy.url("/health")}`,
        "  chat:",
        "    kind: websocket",
        `    url: ws://127.0.0.1:${silent.port}/ws`,
        "    dependsOn: [api]",
        "    timeout: 20s",
        "    token:",
        `      command: "sleep 317 & echo $$$$ $! > ${fifo}; wait; echo never-printed"`,
        "  after-chat:",
        "    kind: http",
        `    url: ${healthy.url("/after")}`,
        "    dependsOn: [chat]",
        "",
      ].join("\n"),
    );
    const json = path.join(dir, "ci.json");
    const cli = running(startCli([config, "-v", "-o", `json=${json}`], { cwd: dir }));
    const [pidText] = (await pidRead) as [string];
    const [shellPid, sleepPid] = pidText.trim().split(" ").map(Number);
    await cli.stderrMatches(/\[chat\] token…/);
    expect(alive(shellPid) && alive(sleepPid)).toBe(true);
    cli.child.kill("SIGTERM");
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(143);
    // Nothing of the token command is left: neither its shell nor the sleep it started (no orphan re-parented to PID 1).
    // Both were SIGKILLed and their pipes closed before the report; the kernel may still be finishing the exit for a moment.
    expect([await gone(shellPid), await gone(sleepPid)]).toEqual([true, true]);
    expect(livingProcesses(["sleep", "317"])).toEqual([]);
    expect(result.stdout).toMatch(/✔ PASS\s+api/);
    expect(result.stdout).toContain("interrupted by SIGTERM during token");
    expect(result.stdout).toContain("interrupted by SIGTERM before it started");
    const report = JSON.parse(readFileSync(json, "utf8"));
    expect(report.checks.map((check: { name: string; status: string; interrupted?: unknown }) => [check.name, check.status, check.interrupted])).toEqual([
      ["api", "pass", undefined],
      ["chat", "interrupted", { phase: "token", signal: "SIGTERM" }],
      ["after-chat", "interrupted", { signal: "SIGTERM" }],
    ]);
    expect(report.summary).toMatchObject({ total: 3, pass: 1, interrupted: 2 });
  });
});

describe("a postgres check interrupted while its query runs", () => {
  let postgres: PostgresServer;
  beforeAll(async () => {
    // Every statement is logged when it starts executing: the test sends the signal once pg_sleep runs.
    postgres = await startPostgres({ databases: ["app"], roles: [{ ...ROLES.app }], settings: { log_statement: "all" } });
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  const sleeping = () => postgres.sql<{ pid: number; application_name: string }>("SELECT pid, application_name FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(%' AND state = 'active'");

  it("SIGINT cancels the query on the server (the sampling worker's too), then reports the query phase, exit 130", async () => {
    const json = path.join(dir, "pg.json");
    const started = postgres.waitForLog(/execute <unnamed>: SELECT pg_sleep\(30\)/);
    const cli = running(startCli(["postgres", `postgres://${ROLES.app.name}@127.0.0.1:${postgres.port}/app`, "--password-env", "PGPW", "--query", "SELECT pg_sleep(30)", "-t", "25s", "-v", "-o", `json=${json}`], {
      env: { PGPW: ROLES.app.password },
    }));
    await cli.stderrMatches(/\[postgres\] query…/);
    await started;
    // Both sessions run the query (the check's own and the sampling worker's warm-up): the server says so.
    let before = await sleeping();
    for (const until = performance.now() + 5_000; before.length < 2 && performance.now() < until; ) before = await sleeping();
    expect(before.map((session) => session.application_name).sort()).toEqual(["infra-check", "infra-check sampler"]);
    const cancelled = postgres.waitForLog(/canceling statement due to user request/);
    cli.child.kill("SIGINT");
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(130);
    await cancelled;
    // The server's own view: no session is still sleeping (cancelled, not left to statement_timeout at 25 s).
    const deadline = performance.now() + 2_000;
    let still = await sleeping();
    while (still.length && performance.now() < deadline) still = await sleeping();
    expect(still, postgres.logs()).toEqual([]);
    expect(result.stdout).toContain("interrupted by SIGINT during query");
    const report = JSON.parse(readFileSync(json, "utf8"));
    expect(report.checks[0]).toMatchObject({ status: "interrupted", interrupted: { phase: "query", signal: "SIGINT" } });
    expect(report.checks[0].phasesMs.auth).toBeGreaterThan(0);
    expect(result.elapsedMs).toBeLessThan(20_000);
  });
});

describe("Ctrl-C typed on a real terminal (tmux)", () => {
  it("the terminal's SIGINT reaches infra-check, not the token command (its own group): the command is still killed; the status line is erased; the report says where the check was", async () => {
    const fifo = path.join(dir, "terminal.fifo");
    execFileSync("mkfifo", [fifo]);
    const pidRead = once(createReadStream(fifo, { encoding: "utf8" }), "data");
    await writeFile(
      path.join(dir, "terminal.yaml"),
      ["env: tty", "checks:", "  chat:", "    kind: websocket", `    url: ws://127.0.0.1:${silent.port}/ws`, "    timeout: 20s", "    token:", `      command: "sleep 319 & echo $! > ${fifo}; wait"`, ""].join("\n"),
    );
    let sleepPid = 0;
    const run = await runInTerminal(["./terminal.yaml"], {
      columns: 100,
      cwd: dir,
      whileRunning: async (terminal) => {
        sleepPid = Number(((await pidRead) as [string])[0].trim());
        await terminal.shows(/… running chat/);
        await terminal.keys("C-c");
      },
    });
    expect(run.code, run.lines.join("\n")).toBe(130);
    expect(await gone(sleepPid)).toBe(true);
    const screen = run.lines.join("\n");
    expect(screen).toContain("interrupted by SIGINT during token");
    expect(screen).toContain("INTERRUPTED (SIGINT)");
    expect(screen).toContain("infra-check: SIGINT: stopping the running checks");
    // The live status line was erased before the notice: no stale "… running" row is left; nothing needed the terminal to wrap it.
    expect(run.rows.filter((row) => row.includes("… running"))).toEqual([]);
    expect(run.rows).toEqual(run.lines);
  });
});
