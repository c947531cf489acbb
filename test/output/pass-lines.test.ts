// A passing row shows the figures people read it for (issue 14.12): each kind
// words its own measurement (ProbeDefinition.passLine) into the check's
// `summary`, which the table, Markdown and JSON show. Real servers, the real
// runner; generic code never names a kind.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConfig } from "../helpers/run.js";
import { httpServer } from "../helpers/net.js";
import { pgCheck } from "../helpers/postgres-fixtures.js";
import { ROLES } from "../helpers/postgres-fixtures.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
import { startPostgres, type PostgresServer } from "../../src/demo/postgres.js";
import { startChatServer, CHAT_SUBPROTOCOL, type ChatServer } from "../../src/demo/chat-server.js";
import { loadReporter } from "../../src/reporters/index.js";
import type { RunReport } from "../../src/report/schema.js";

let redis: RedisServer;
let postgres: PostgresServer;
let chat: ChatServer;
let health: Awaited<ReturnType<typeof httpServer>>;
let report: RunReport;

beforeAll(async () => {
  [redis, postgres, chat, health] = await Promise.all([
    startRedisServer(),
    startPostgres({ databases: ["app"], roles: [{ ...ROLES.app }] }),
    startChatServer({ requireAuth: false }),
    httpServer((_req, res) => {
      res.setHeader("content-type", "application/json; charset=utf-8");
      res.end(JSON.stringify({ status: "healthy" }));
    }),
  ]);
  report = await runConfig({
    deadline: "20s",
    checks: {
      cache: { kind: "redis", url: `redis://127.0.0.1:${redis.port}` },
      db: pgCheck(postgres),
      chat: { kind: "websocket", url: chat.url, subprotocols: [CHAT_SUBPROTOCOL], welcome: { match: { type: "connection_established" } } },
      load: { kind: "websocket", url: chat.url, subprotocols: [CHAT_SUBPROTOCOL], load: { connections: 8 } },
      health: { kind: "http", url: health.url("/health"), expect: { "json.status": "healthy" } },
      port: { kind: "tcp", address: `127.0.0.1:${redis.port}` },
    },
  });
}, 60_000);
afterAll(async () => {
  await Promise.all([redis?.stop(), postgres?.stop(), chat?.stop(), health?.stop()]);
});

const summaryOf = (name: string) => report.checks.find((check) => check.name === name)?.summary;

describe("each kind's pass line", () => {
  it("every check passed", () => {
    expect(report.checks.map((check) => [check.name, check.status, check.failure?.message])).toEqual(report.checks.map((check) => [check.name, "pass", undefined]));
  });
  it.each([
    ["cache", /^PONG · p50 \d[\d.]* ms · p95 \d[\d.]* ms · redis \d+\.\d+\.\d+ master$/],
    ["db", /^\d+ queries · p50 \d[\d.]* ms · p95 \d[\d.]* ms · session \d[\d.]* ms · PostgreSQL \d+\.\d+ primary$/],
    ["chat", /^handshake \d[\d.]* ms · agent_chat · welcome \d[\d.]* ms · closed 1000$/],
    ["load", /^8\/8 ok · handshake p95 \d[\d.]* ms$/],
    ["health", /^200 · ttfb \d[\d.]* ms · total \d[\d.]* ms · status healthy · application\/json$/],
    ["port", /^connected in \d[\d.]* ms$/],
  ])("%s: %s", (name, pattern) => {
    expect(summaryOf(name)).toMatch(pattern);
  });
});

describe("where it shows", () => {
  it("the table's passing row shows the figures, then the target", async () => {
    const text = (await loadReporter("table"))(report, { color: false, verbose: false });
    const row = text.split("\n").find((line) => /✔ PASS\s+cache /.test(line))!;
    expect(row).toContain(`${summaryOf("cache")}  redis://127.0.0.1:${redis.port}`);
  });
  it("Markdown and JSON carry it", async () => {
    expect((await loadReporter("markdown"))(report, { color: false, verbose: false })).toContain(`${summaryOf("health")} — ${health.url("/health")}`);
    expect(JSON.parse((await loadReporter("json"))(report, { color: false, verbose: false })).checks[0].summary).toBe(summaryOf("cache"));
  });
  it("a failing check has none", async () => {
    const failed = await runConfig({ checks: { web: { kind: "http", url: health.url("/"), expect: { status: 404 } } } });
    expect(failed.checks[0].status).toBe("fail");
    expect(failed.checks[0].summary).toBeUndefined();
  });
});
