// On-call must be sent to the right layer: each case here was a wrong or a
// missing answer (tried side by side with redis-cli, psql, curl and wscat)
// and is reproduced against real servers on loopback.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blackholePort, httpServer } from "../helpers/net.js";
import { runCheck } from "../helpers/run.js";
import { runCli } from "../helpers/cli.js";
import { runMain } from "../helpers/main-io.js";
import { buildConfig } from "../../src/config/load.js";
import { parseExpectation, satisfies } from "../../src/evaluate/expectations.js";
import { startChatServer, type ChatServer } from "../../src/demo/chat-server.js";
import { exitCodeFor } from "../../src/exit-codes.js";
import type { RunReport } from "../../src/report/schema.js";

let web: Awaited<ReturnType<typeof httpServer>>;
let chat: ChatServer;
beforeAll(async () => {
  web = await httpServer((req, res) => {
    if (req.url === "/healthz") return void res.end("ok\n");
    if (req.url === "/degraded") return void res.end("degraded: redis\n");
    if (req.url === "/moved") {
      res.writeHead(302, { location: "https://login.example.invalid/sso" });
      return void res.end();
    }
    if (req.url === "/stall") {
      res.writeHead(200, { "content-length": "100" });
      return void res.write("0123456789");
    }
    res.end("fine");
  });
  chat = await startChatServer({ requireAuth: false });
});
afterAll(async () => {
  await web.stop();
  await chat.stop();
});

describe("a budget infra-check spent itself is never blamed on the network", () => {
  it("a one-off's --timeout counts from the check's start: 100 ms against a healthy server passes (start-up is not the target's time)", async () => {
    const result = await runCli(["http", web.url("/"), "-t", "100ms"]);
    expect(result.stdout + result.stderr).not.toMatch(/unreachable|packets are dropped/);
    expect(result.code, result.stdout).toBe(0);
  });

  it.each([
    [["http", "http://127.0.0.1:1/", "-t", "5"], /--timeout: 5 is 5 ms — did you mean 5s\?/],
    [["http", "http://127.0.0.1:1/", "-t", "0ms"], /--timeout: a duration must be more than 0/],
    [["http", "http://127.0.0.1:1/", "-t", "1000h"], /--timeout: .* longer than a timer can wait/],
  ])("%j → exit 2, %s", async (args, message) => {
    const result = await runMain(args, { cwd: process.cwd() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it("a bare number under 1000 in a config is refused too, with the likely meaning", async () => {
    await expect(buildConfig({ checks: { a: { kind: "http", url: "http://h/", timeout: 2 } } }, { dir: process.cwd(), defaultEnv: "t", env: {} })).rejects.toThrow(/checks\.a\.timeout: 2 is 2 ms — did you mean 2s\?/);
    const loaded = await buildConfig({ checks: { a: { kind: "http", url: "http://h/", timeout: 2000 } } }, { dir: process.cwd(), defaultEnv: "t", env: {} });
    expect(loaded.checks[0].timeoutMs).toBe(2000);
  });

  it("a budget spent before connecting (a slow token command) is a timeout saying so, not unreachable", async () => {
    const blackhole = await blackholePort();
    try {
      const result = await runCheck({ kind: "websocket", url: `ws://127.0.0.1:${blackhole.port}/ws`, token: { command: "sleep 0.4; echo tok-4f9a2c1e" }, timeout: "600ms" });
      expect(result.failure).toMatchObject({ class: "timeout", diagnosis: "timeout.BUDGET_SPENT" });
      expect(result.failure?.message).toMatch(/the check's budget \(600 ms\) ran out before the TCP connection to 127\.0\.0\.1:\d+ could complete: connecting had only \d+ ms of it \(token took the rest\)/);
      // The same blackhole with the whole budget for connecting is the network's fault.
      const dropped = await runCheck({ kind: "websocket", url: `ws://127.0.0.1:${blackhole.port}/ws`, timeout: "300ms" });
      expect(dropped.failure).toMatchObject({ class: "unreachable", diagnosis: "tcp.CONNECT_TIMEOUT" });
    } finally {
      await blackhole.stop();
    }
  });

  it("a run deadline that leaves a check a sliver of its timeout says so, naming the deadline", async () => {
    const blackhole = await blackholePort();
    const slow = await httpServer((_req, res) => setTimeout(() => res.end("late"), 350));
    try {
      const loaded = await buildConfig(
        { deadline: "500ms", checks: { first: { kind: "http", url: slow.url("/") }, second: { kind: "tcp", address: `127.0.0.1:${blackhole.port}`, timeout: "5s", dependsOn: ["first"] } } },
        { dir: process.cwd(), defaultEnv: "t", env: {} },
      );
      const { runToReport } = await import("../helpers/run.js");
      const result = (await runToReport({ env: "t", deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes })).checks[1];
      expect(result.failure).toMatchObject({ class: "timeout", diagnosis: "timeout.RUN_DEADLINE" });
      expect(result.failure?.message).toMatch(/the run's deadline left this check \d+ ms of its 5\.00 s timeout/);
      expect(result.failure?.hint).toContain("--deadline");
    } finally {
      await blackhole.stop();
      await slow.stop();
    }
  });

  it("a one-off names its flags, not config keys: (--timeout), --within", async () => {
    const silentChat = await startChatServer({ requireAuth: false, fault: { type: "no-welcome" } });
    try {
      const result = await runMain(["ws", silentChat.url, "--welcome", "type=connection_established", "--within", "200ms", "-t", "2s"], { cwd: process.cwd() });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/within 200 ms \(--within\)/);
      expect(result.stdout).not.toMatch(/welcome\.within|cut short by the run deadline/);
    } finally {
      await silentChat.stop();
    }
  });
});

describe("one expectation grammar, and expectations that can never match are refused", () => {
  it.each([
    ["2xx", 200, true],
    ["2XX", 204, true],
    ["2xx", 302, false],
    ["4xx", 404, true],
    ["contains ready", "all ready now", true],
    ["contains ready", "down", false],
    ["= 200", 200, true],
  ] as const)("%s against %j → %s", (raw, actual, ok) => {
    expect(satisfies(actual, parseExpectation(raw))).toBe(ok);
  });

  it.each([
    ["=< 500ms", '"<="'],
    ["=> 1", '">="'],
    ["<> 0", '"!="'],
    ["=~ ^ok", '"~"'],
  ])("%s is refused: did you mean %s?", (raw, meant) => {
    expect(() => parseExpectation(raw)).toThrow(`did you mean ${meant}?`);
  });

  it("validate refuses them with the key, and --expect speaks the same grammar", async () => {
    await expect(buildConfig({ checks: { a: { kind: "http", url: "http://h/", expect: { totalMs: "=< 500ms" } } } }, { dir: process.cwd(), defaultEnv: "t", env: {} })).rejects.toThrow(/checks\.a\.expect\.totalMs: unknown operator "=<"/);
    const statusClass = await runMain(["http", web.url("/"), "--expect", "status=2xx"], { cwd: process.cwd() });
    expect(statusClass.code, statusClass.stdout).toBe(0);
    const misspelt = await runMain(["http", web.url("/"), "--expect", "totalMs=<500ms"], { cwd: process.cwd() });
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toMatch(/--expect totalMs: unknown operator "=<".*did you mean "<="/);
  });
});

describe("http: what the answer says", () => {
  it("a plain-text health endpoint: body ~ ^ok, contains, equality", async () => {
    expect((await runCheck({ kind: "http", url: web.url("/healthz"), expect: { body: "~ ^ok" } })).status).toBe("pass");
    expect((await runCheck({ kind: "http", url: web.url("/healthz"), expect: { body: "contains ok" } })).status).toBe("pass");
    const degraded = await runCheck({ kind: "http", url: web.url("/degraded"), expect: { body: "~ ^ok" } });
    expect(degraded.failure).toMatchObject({ class: "unhealthy" });
    expect(degraded.failure?.message).toContain('body is "degraded: redis\\n", expected ~ ^ok');
  });

  it("a redirect says where it goes", async () => {
    const result = await runCheck({ kind: "http", url: web.url("/moved") });
    expect(result.failure).toMatchObject({ class: "protocol", diagnosis: "http.REDIRECTED" });
    expect(result.failure?.message).toBe("status is 302, expected 2xx: redirected to https://login.example.invalid/sso");
  });

  it("a body that stalls after the headers says what arrived", async () => {
    const result = await runCheck({ kind: "http", url: web.url("/stall"), timeout: "500ms" });
    expect(result.failure).toMatchObject({ class: "timeout", diagnosis: "http.BODY_STALLED" });
    expect(result.failure?.message).toMatch(/^status 200 after \d+(\.\d+)? ms, then the body stalled after 10 bytes of 100/);
  });
});

describe("websocket: a server that greets, then dies", () => {
  it("a 1011 close 20 ms after the welcome fails in the hold window (wscat shows it; a passing check would hide it)", async () => {
    chat.setFault({ type: "close", code: 1011, reason: "redis unavailable", when: "after-welcome", afterMs: 20 });
    try {
      const result = await runCheck({ kind: "websocket", url: chat.url, welcome: { match: { type: "connection_established" } } });
      expect(result.failure).toMatchObject({ class: "server-error", code: "WS_CLOSE_1011" });
      expect(result.failure?.message).toMatch(/closed the connection with 1011 \(internal server error\), reason "redis unavailable" during the 250 ms hold after the last step/);
      const without = await runCheck({ kind: "websocket", url: chat.url, welcome: { match: { type: "connection_established" } }, hold: false });
      expect(without.status).toBe("pass");
    } finally {
      chat.setFault(null);
    }
  });
});

describe("slow failures name the phase the metric measures, or none", () => {
  it("a slow PING never points at another phase", async () => {
    const verdict = (await import("../../src/evaluate/judge.js")).judge({
      spec: { name: "cache", kind: "redis", timeoutMs: 1000, dependsOn: [], expect: { pingP95Ms: parseExpectation("< 1ms") }, warn: {}, url: "redis://h", samples: 1, write: false },
      measurement: { phasesMs: { connect: 0.2, auth: 7.5, ping: 2 }, metrics: { pingP95Ms: 2 } },
      probe: await (await import("../../src/probes/index.js")).loadProbe("redis"),
    });
    expect(verdict.failure?.message).toBe("pingP95Ms is 2.0 ms, expected < 1ms");
  });
});

describe("internal always exits 3", () => {
  it("a report with an internal failure exits 3, whatever else failed", () => {
    const report = { ok: false, checks: [{ failure: { class: "internal" } }, { failure: { class: "refused" } }] } as unknown as RunReport;
    expect(exitCodeFor(report)).toBe(3);
  });
});
