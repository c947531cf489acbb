// `infra-check serve` end to end in-process: the real monitor, runner, probes
// and HTTP server against real servers on loopback (an in-process HTTP
// server, a real redis-server). Cycles are driven by /probe, never by
// waiting for the schedule: between cycles the test changes the server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import net from "node:net";
import http from "node:http";
import { once } from "node:events";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
import { closedPort, httpServer } from "../helpers/net.js";
import { adminClient } from "../helpers/redis-faults.js";
import { findSamples, parsePromText, samplesOf } from "../helpers/prom-text.js";
import { get, serve, type Served } from "./helpers.js";
import type { RunReport } from "../../src/report/schema.js";
import json from "../../src/reporters/json.js";

const ok: http.RequestListener = (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
const failing =
  (status: number): http.RequestListener =>
  (_req, res) =>
    res.writeHead(status).end("down for maintenance");

describe("/metrics, /healthz, /report.json", () => {
  let target: Awaited<ReturnType<typeof httpServer>>;
  let served: Served;
  beforeAll(async () => {
    target = await httpServer(ok);
    served = await serve({ deadline: "5s", checks: { api: { kind: "http", url: target.url("/health"), timeout: "2s" }, down: { kind: "tcp", address: `127.0.0.1:${await closedPort()}` } } });
  });
  afterAll(async () => {
    await served?.stop();
    await target?.stop();
  });

  it("the exposition passes a strict text-format reader and has every family, per check, with the diagnosis as labels", async () => {
    const { status, body, headers } = await get(served.url("/metrics"));
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const families = parsePromText(body);
    const samples = families.flatMap((family) => family.samples);
    const one = (name: string, labels: Record<string, string>) => {
      const found = findSamples(samples, name, labels);
      expect(found, `${name}${JSON.stringify(labels)}`).toHaveLength(1);
      return found[0].value;
    };
    expect(one("infra_check_up", { env: "test", check: "api", kind: "http" })).toBe(1);
    expect(one("infra_check_up", { check: "down", kind: "tcp" })).toBe(0);
    expect(one("infra_check_status", { check: "down", status: "fail" })).toBe(1);
    expect(one("infra_check_status", { check: "down", status: "pass" })).toBe(0);
    expect(one("infra_check_failure_info", { check: "down", class: "refused", code: "ECONNREFUSED", diagnosis: "tcp.REFUSED" })).toBe(1);
    expect(findSamples(samples, "infra_check_failure_info", { check: "api" })).toHaveLength(0);
    expect(one("infra_check_metric", { check: "api", metric: "status" })).toBe(200);
    expect(one("infra_check_phase_seconds", { check: "api", phase: "connect" })).toBeGreaterThanOrEqual(0);
    expect(one("infra_check_duration_seconds", { check: "api" })).toBeGreaterThan(0);
    expect(one("infra_check_last_run_timestamp_seconds", { check: "api" })).toBeCloseTo(Date.now() / 1000, -2);
    expect(one("infra_check_last_change_timestamp_seconds", { check: "down" })).toBeLessThanOrEqual(Date.now() / 1000);
    expect(one("infra_check_run_ok", { env: "test" })).toBe(0);
    expect(one("infra_check_cycles_total", { check: "api", status: "pass" })).toBeGreaterThanOrEqual(1);
    expect(families.find((family) => family.name === "infra_check_cycle_duration_seconds")?.type).toBe("histogram");
    expect(one("infra_check_cycle_duration_seconds_count", { check: "api" })).toBeGreaterThanOrEqual(1);
    // prom-client's process metrics.
    expect(findSamples(samples, "process_resident_memory_bytes")).toHaveLength(1);
    expect(findSamples(samples, "nodejs_eventloop_lag_seconds")).toHaveLength(1);
    // Labels are names and identifiers: no message, no hint.
    for (const sample of samples.filter((s) => s.name.startsWith("infra_check_"))) for (const value of Object.values(sample.labels)) expect(value).toMatch(/^[\w.:/+-]*$/);
  });

  it("/healthz is 503 while a check fails and 200 once all pass; it needs no token and names no check", async () => {
    const failing = await get(served.url("/healthz"));
    expect(failing.status).toBe(503);
    expect(failing.body).toBe("unhealthy: 1 of 2 checks failing\n");
    const passing = await serve({ checks: { api: { kind: "http", url: target.url("/health") } } }, { token: "a-token-of-32-characters-or-so!!" });
    try {
      const answer = await get(passing.url("/healthz"));
      expect([answer.status, answer.body]).toEqual([200, "ok\n"]);
      expect((await get(passing.url("/healthz"), { headers: { authorization: "Bearer wrong" } })).status).toBe(200);
    } finally {
      await passing.stop();
    }
  });

  it("/report.json is the latest results in the schema of --format json", async () => {
    const { status, body, headers } = await get(served.url("/report.json"));
    expect(status).toBe(200);
    expect(headers.get("content-type")).toMatch(/^application\/json/);
    const report = JSON.parse(body) as RunReport;
    expect(report.schemaVersion).toBe(1);
    expect(report.env).toBe("test");
    expect(report.checks.map((check) => [check.name, check.status])).toEqual([
      ["api", "pass"],
      ["down", "fail"],
    ]);
    expect(report.summary).toEqual({ total: 2, pass: 1, warn: 0, fail: 1, blocked: 0 });
    expect(report.rootCauses).toEqual([expect.objectContaining({ check: "down", class: "refused" })]);
    // The same keys, in the same order, as the one-shot JSON reporter writes.
    expect(Object.keys(JSON.parse(json(report, { color: false, verbose: false })))).toEqual(Object.keys(report));
  });

  it("unknown paths are 404 naming the endpoints; other methods 405", async () => {
    const missing = await get(served.url("/nope"));
    expect(missing.status).toBe(404);
    expect(missing.body).toContain("/metrics");
    const post = await fetch(served.url("/metrics"), { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});

describe("a check flipping fail → pass → fail between cycles", () => {
  const PASSWORD = "the-right-password-7f3a";
  const WRONG = "some-other-password-91c2";
  let redis: RedisServer;
  let served: Served;
  beforeAll(async () => {
    redis = await startRedisServer({ password: WRONG });
    served = await serve({ deadline: "5s", checks: { cache: { kind: "redis", url: redis.url, password: PASSWORD, timeout: "2s" } } });
  });
  afterAll(async () => {
    await served?.stop();
    await redis?.stop();
  });

  const requirepass = async (current: string, next: string) => {
    const admin = adminClient(redis, { password: current });
    try {
      await admin.connect();
      await admin.config("SET", "requirepass", next);
    } finally {
      admin.disconnect();
    }
  };
  /** The server's clients other than the one asking. */
  const otherClients = async (password: string) => {
    const admin = adminClient(redis, { password });
    try {
      await admin.connect();
      return ((await admin.client("LIST")) as string).trim().split("\n").length - 1;
    } finally {
      admin.disconnect();
    }
  };
  const probe = async () => {
    const { status, body } = await get(served.url("/probe?check=cache"));
    expect(status).toBe(200);
    return samplesOf(body);
  };

  it("each cycle reports the server as it is now, logs the transition as one JSON line, and closes its client", async () => {
    expect(served.handle.monitor.check("cache")?.latest?.failure?.class).toBe("auth");
    expect(await otherClients(WRONG)).toBe(0);

    await requirepass(WRONG, PASSWORD);
    const passed = await probe();
    expect(findSamples(passed, "probe_success")[0].value).toBe(1);
    expect(findSamples(passed, "infra_check_up", { check: "cache" })[0].value).toBe(1);
    expect(await otherClients(PASSWORD)).toBe(0);

    await requirepass(PASSWORD, WRONG);
    const failed = await probe();
    expect(findSamples(failed, "probe_success")[0].value).toBe(0);
    expect(findSamples(failed, "infra_check_failure_info", { check: "cache", class: "auth" })).toHaveLength(1);
    expect(await otherClients(WRONG)).toBe(0);

    const lines = served.transitions("cache");
    expect(lines.map((line) => [line.from, line.to, line.class ?? null])).toEqual([
      [null, "fail", "auth"],
      ["fail", "pass", null],
      ["pass", "fail", "auth"],
    ]);
    expect(lines[2]).toMatchObject({ event: "transition", check: "cache", kind: "redis", severity: "WARNING", code: "WRONGPASS" });
    expect(lines[2].hint).toEqual(expect.any(String));
    expect(lines[2].message).toMatch(/^cache: pass → fail \(auth: /);
    const state = served.handle.monitor.check("cache")!;
    expect(state.cycles).toBe(3);
    expect(state.history.map((point) => point.status)).toEqual(["fail", "pass", "fail"]);
    expect(state.sinceMs).toBe(state.endedAtMs);
    // No secret in any line of the log.
    for (const line of served.logs()) expect(JSON.stringify(line)).not.toMatch(new RegExp(`${PASSWORD}|${WRONG}`));
  });

  it("a cycle with no change logs nothing", async () => {
    const before = served.transitions().length;
    await probe();
    expect(served.transitions()).toHaveLength(before);
  });
});

describe("/probe", () => {
  it("20 concurrent scrapes of one check are one probe run: the others join the cycle in flight", async () => {
    let requests = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const target = await httpServer(ok);
    const served = await serve({ checks: { api: { kind: "http", url: target.url("/health"), timeout: "10s" } } });
    try {
      // From here on, the target answers only once every scrape has joined.
      target.setHandler((req, res) => {
        requests += 1;
        void held.then(() => ok(req, res));
      });
      let joined = 0;
      served.handle.monitor.listen({ onJoin: () => ++joined === 19 && release() });
      const scrapes = await Promise.all(Array.from({ length: 20 }, () => get(served.url("/probe?check=api"))));
      expect(requests).toBe(1);
      for (const scrape of scrapes) {
        expect(scrape.status).toBe(200);
        expect(findSamples(samplesOf(scrape.body), "probe_success")[0].value).toBe(1);
      }
      const metrics = samplesOf((await get(served.url("/metrics"))).body);
      expect(findSamples(metrics, "infra_check_probe_requests_total", { check: "api", joined: "true" })[0].value).toBe(19);
      expect(findSamples(metrics, "infra_check_probe_requests_total", { check: "api", joined: "false" })[0].value).toBe(1);
      expect(served.handle.monitor.check("api")!.cycles).toBe(2);
    } finally {
      release();
      await served.stop();
      await target.stop();
    }
  });

  it("?kind=…&target=… runs only the config's own targets (by URL, host:port or host); anything else is refused", async () => {
    const target = await httpServer(ok);
    const port = await closedPort();
    const served = await serve({
      checks: {
        api: { kind: "http", url: target.url("/health") },
        db: { kind: "tcp", address: `127.0.0.1:${port}` },
      },
    });
    try {
      const byUrl = await get(served.url(`/probe?kind=http&target=${encodeURIComponent(target.url("/health"))}`));
      expect(byUrl.status).toBe(200);
      expect(findSamples(samplesOf(byUrl.body), "infra_check_up", { check: "api" })[0].value).toBe(1);
      const byEndpoint = await get(served.url(`/probe?kind=tcp&target=127.0.0.1:${port}`));
      expect(findSamples(samplesOf(byEndpoint.body), "probe_success")[0].value).toBe(0);
      expect(findSamples(samplesOf(byEndpoint.body), "infra_check_failure_info", { check: "db", class: "refused" })).toHaveLength(1);

      const requestsBefore = served.handle.monitor.check("api")!.cycles;
      const arbitrary = await get(served.url(`/probe?kind=http&target=${encodeURIComponent("http://169.254.169.254/computeMetadata/v1/")}`));
      expect(arbitrary.status).toBe(404);
      expect(arbitrary.body).toContain("not in the config's allow-list");
      expect(served.handle.monitor.check("api")!.cycles).toBe(requestsBefore);
      const kind = await get(served.url("/probe?kind=redis&target=127.0.0.1:6379"));
      expect([kind.status, kind.body]).toEqual([404, 'no check of kind "redis" in the config; kinds: http, tcp\n']);
      const typo = await get(served.url("/probe?check=apu"));
      expect([typo.status, typo.body]).toEqual([404, 'unknown check "apu"; did you mean "api"?; checks: api, db\n']);
      expect((await get(served.url("/probe"))).status).toBe(400);
    } finally {
      await served.stop();
      await target.stop();
    }
  });
});

describe("a bearer token", () => {
  const TOKEN = "3f9c2a7e1b4d8f60a5c7e9b1d3f5a7c9";
  let target: Awaited<ReturnType<typeof httpServer>>;
  let served: Served;
  beforeAll(async () => {
    target = await httpServer(ok);
    served = await serve({ checks: { api: { kind: "http", url: target.url("/health") } } }, { token: TOKEN });
  });
  afterAll(async () => {
    await served?.stop();
    await target?.stop();
  });

  it.each(["/", "/metrics", "/probe?check=api", "/report.json", "/nope"])("%s needs it; a wrong one is refused the same way", async (path) => {
    const wrong: Record<string, string>[] = [{}, { authorization: "Bearer not-the-token" }, { authorization: `Bearer ${TOKEN}x` }];
    for (const headers of wrong) {
      const refused = await get(served.url(path), { headers });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="infra-check", Basic realm="infra-check", charset="UTF-8"');
    }
    expect((await get(served.url(path), { token: TOKEN })).status).toBe(path === "/nope" ? 404 : 200);
  });

  it("a browser opens the page with Basic auth, the token as the password", async () => {
    const basic = Buffer.from(`on-call:${TOKEN}`).toString("base64");
    const page = await get(served.url("/"), { headers: { authorization: `Basic ${basic}` } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.body).not.toContain(TOKEN);
  });
});

describe("secrets never leave through any endpoint or the log", () => {
  const PASSWORD = "pa55-in-the-url-4d2c9e";
  const API_KEY = "key-in-a-header-7b1e6f03";
  it("a password in the target URL and a credential header stay masked, even when the server echoes them", async () => {
    // The server echoes the request's credentials back in its error body.
    const target = await httpServer((req, res) => res.writeHead(500).end(`bad request from ${req.headers.authorization} with ${req.headers["x-api-key"]}`));
    const served = await serve({ checks: { api: { kind: "http", url: `http://admin:${PASSWORD}@127.0.0.1:${target.port}/health`, headers: { "X-Api-Key": API_KEY } } } });
    try {
      await get(served.url("/probe?check=api"));
      const outputs = [
        ...(await Promise.all(["/", "/metrics", "/probe?check=api", "/report.json", "/healthz"].map(async (path) => (await get(served.url(path))).body))),
        JSON.stringify(served.logs()),
      ];
      const basic = Buffer.from(`admin:${PASSWORD}`).toString("base64");
      for (const output of outputs) {
        expect(output).not.toContain(PASSWORD);
        expect(output).not.toContain(API_KEY);
        expect(output).not.toContain(basic);
      }
      // The check, its host and its user are names, not secrets: still shown.
      expect(outputs[0]).toContain("api");
      expect(outputs[3]).toContain("127.0.0.1");
    } finally {
      await served.stop();
      await target.stop();
    }
  });
});

describe("budgets, reload and stop", () => {
  it("a cycle runs under the check's timeout like a one-shot run: a silent server is a timeout, not a hang", async () => {
    const sockets = new Set<net.Socket>();
    // Reads (so it sees the client hang up) and never answers.
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.resume();
      socket.on("close", () => sockets.delete(socket));
    });
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const { port } = silent.address() as net.AddressInfo;
    const served = await serve({ deadline: "5s", checks: { hung: { kind: "http", url: `http://127.0.0.1:${port}/`, timeout: "300ms" } } });
    try {
      const result = served.handle.monitor.check("hung")!.latest!;
      expect(result.failure?.class).toBe("timeout");
      expect(result.budgetMs).toBe(300);
      // The probe's client let go of its socket.
      if (sockets.size) await Promise.all([...sockets].map((socket) => once(socket, "close")));
      expect(sockets.size).toBe(0);
    } finally {
      await served.stop();
      silent.close();
    }
  });

  it("a reload with a broken config is rejected, the old one kept and the reason logged; a valid one swaps the checks, keeping what stays", async () => {
    const target = await httpServer(ok);
    let next: Record<string, unknown> = { checks: { api: { kind: "http", url: target.url("/health"), timeout: "nope" } } };
    const served = await serve({ checks: { api: { kind: "http", url: target.url("/health") }, extra: { kind: "http", url: target.url("/extra") } } }, { next: () => next });
    try {
      expect(await served.handle.reload()).toBe(false);
      const rejected = served.logs().find((line) => line.event === "reload-rejected")!;
      expect(rejected.severity).toBe("ERROR");
      expect(rejected.reason).toContain("checks.api.timeout");
      expect(served.handle.monitor.checks().map((state) => state.spec.name)).toEqual(["api", "extra"]);
      expect((await get(served.url("/probe?check=extra"))).status).toBe(200);

      next = { checks: { api: { kind: "http", url: target.url("/health") }, added: { kind: "http", url: target.url("/added") } } };
      const before = served.handle.monitor.check("api")!;
      expect(await served.handle.reload()).toBe(true);
      expect(served.logs().find((line) => line.event === "reloaded")).toMatchObject({ kept: ["api"], added: ["added"], removed: ["extra"] });
      expect(served.handle.monitor.check("api")).toBe(before);
      expect(served.handle.monitor.check("extra")).toBeUndefined();
      expect((await get(served.url("/probe?check=extra"))).status).toBe(404);
      expect((await get(served.url("/probe?check=added"))).status).toBe(200);
      const metrics = samplesOf((await get(served.url("/metrics"))).body);
      expect(findSamples(metrics, "infra_check_config_reloads_total", { result: "rejected" })[0].value).toBe(1);
      expect(findSamples(metrics, "infra_check_config_reloads_total", { result: "ok" })[0].value).toBe(1);
      // A removed check's series go with it.
      expect(metrics.filter((sample) => sample.labels.check === "extra")).toEqual([]);
    } finally {
      await served.stop();
      await target.stop();
    }
  });

  it("stop aborts a cycle in flight, closes its client and the server, and starts no new cycle", async () => {
    const sockets = new Set<net.Socket>();
    // Reads (so it sees the client hang up) and never answers.
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.resume();
      socket.on("close", () => sockets.delete(socket));
    });
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const { port } = silent.address() as net.AddressInfo;
    const connected = once(silent, "connection");
    const served = await serve({ deadline: "30s", checks: { hung: { kind: "http", url: `http://127.0.0.1:${port}/`, timeout: "20s" } } }, { waitReady: false });
    try {
      await connected;
      expect(served.handle.monitor.check("hung")!.inflight).toBeDefined();
      await served.stop();
      if (sockets.size) await Promise.all([...sockets].map((socket) => once(socket, "close")));
      expect(sockets.size).toBe(0);
      expect(served.handle.monitor.check("hung")!.cycles).toBe(0);
      await expect(fetch(served.url("/healthz"))).rejects.toThrow();
      expect(served.logs().at(-1)).toMatchObject({ event: "stopped" });
    } finally {
      await served.stop();
      silent.close();
    }
  });
});
