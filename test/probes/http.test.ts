import { afterAll, beforeAll, describe, expect, it } from "vitest";
import https from "node:https";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { blackholePort, closedPort, httpServer, silentServer } from "../helpers/net.js";
import { runCheck, runConfig } from "../helpers/run.js";
import { makeCerts, type CertSet } from "../../src/demo/certs.js";
import type { LookupFn } from "../../src/probes/api.js";

let app: Awaited<ReturnType<typeof httpServer>>;
let certs: CertSet;
const tlsServers: https.Server[] = [];

async function tlsServer(pair: { cert: string; key: string }): Promise<number> {
  const server = https.createServer({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) }, (_req, res) => res.end("ok"));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  tlsServers.push(server);
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  certs = await makeCerts();
  app = await httpServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const status = Number(url.searchParams.get("status") ?? 200);
    const delayMs = Number(url.searchParams.get("delay") ?? 0);
    const send = () => {
      if (url.pathname === "/health") {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: url.searchParams.get("state") ?? "healthy", postgresql: { response_time_ms: Number(url.searchParams.get("pg") ?? 12) } }));
      } else if (url.pathname === "/echo-auth") {
        res.writeHead(401, { "content-type": "text/plain" });
        res.end(`denied for ${req.headers.authorization}`);
      } else if (url.pathname === "/html") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html>maintenance page</html>");
      } else {
        res.writeHead(status, { "content-type": "text/plain" });
        res.end(`status ${status} body`);
      }
    };
    if (delayMs) setTimeout(send, delayMs); // the server's own slowness, not test synchronisation
    else send();
  });
});
afterAll(async () => {
  await app.stop();
  for (const server of tlsServers) server.close();
  await certs.cleanup();
});

describe("http probe", () => {
  it("passes a 200 with phases and metrics; no dns phase for an IP literal", async () => {
    const result = await runCheck({ kind: "http", url: app.url("/health"), expect: { "json.status": "healthy", "json.postgresql.response_time_ms": "< 200" } });
    expect(result.status).toBe("pass");
    expect(result.metrics).toMatchObject({ status: 200, "json.status": "healthy", "json.postgresql.response_time_ms": 12 });
    expect(Object.keys(result.phasesMs)).toEqual(expect.arrayContaining(["connect", "ttfb", "transfer", "total"]));
    expect(result.phasesMs.dns).toBeUndefined();
    expect(result.failure).toBeNull();
  });

  it("records a dns phase for a host name", async () => {
    const result = await runCheck({ kind: "http", url: `http://localhost:${app.port}/` });
    expect(result.status).toBe("pass");
    expect(result.phasesMs.dns).toBeTypeOf("number");
  });

  it.each([
    [401, "auth"],
    [403, "auth"],
    [404, "not-found"],
    [500, "server-error"],
    [503, "server-error"],
    [301, "protocol"],
  ])("status %i → %s, with a body excerpt", async (status, failureClass) => {
    const result = await runCheck({ kind: "http", url: app.url(`/x?status=${status}`) });
    expect(result.status).toBe("fail");
    expect(result.failure?.class).toBe(failureClass);
    expect(result.failure?.message).toContain(`status is ${status}`);
    expect(result.failure?.message).toContain(`body: status ${status} body`);
    expect(result.failure?.hint.length).toBeGreaterThan(20);
  });

  it("a body that says degraded → unhealthy", async () => {
    const result = await runCheck({ kind: "http", url: app.url("/health?state=degraded"), expect: { "json.status": "healthy" } });
    expect(result.failure?.class).toBe("unhealthy");
    expect(result.failure?.message).toContain('json.status is "degraded", expected healthy');
  });

  it("a dependency timing in the body over its bound → slow (incident 3)", async () => {
    const result = await runCheck({ kind: "http", url: app.url("/health?pg=5083"), expect: { "json.postgresql.response_time_ms": "< 200" } });
    expect(result.failure?.class).toBe("slow");
    expect(result.failure?.message).toContain("json.postgresql.response_time_ms is 5083");
  });

  it("JSON expectations on a non-JSON body → protocol", async () => {
    const result = await runCheck({ kind: "http", url: app.url("/html"), expect: { "json.status": "healthy" } });
    expect(result.failure?.class).toBe("protocol");
    expect(result.failure?.message).toContain("maintenance page");
  });

  it("over the fail bound → slow, naming the slowest phase", async () => {
    const result = await runCheck({ kind: "http", url: app.url("/x?delay=120"), expect: { totalMs: "< 50ms" } });
    expect(result.failure?.class).toBe("slow");
    expect(result.failure?.message).toMatch(/totalMs is \d+ ms, expected < 50ms — slowest phase: ttfb/);
  });

  it("over only the warn bound → warn", async () => {
    const result = await runCheck({ kind: "http", url: app.url("/x?delay=30"), expect: { totalMs: "< 5s" }, warn: { totalMs: "< 10ms" } });
    expect(result.status).toBe("warn");
    expect(result.failure?.class).toBe("slow");
  });

  it("refused", async () => {
    const port = await closedPort();
    const result = await runCheck({ kind: "http", url: `http://127.0.0.1:${port}/` });
    expect(result.failure).toMatchObject({ class: "refused", code: "ECONNREFUSED" });
    expect(result.failure?.message).toContain(`127.0.0.1:${port}`);
  });

  it("connected but no answer → timeout within the budget, naming the phase", async () => {
    const silent = await silentServer();
    try {
      const started = performance.now();
      const result = await runCheck({ kind: "http", url: silent.url(), timeout: "300ms" });
      expect(performance.now() - started).toBeLessThan(300 + 250);
      expect(result.failure?.class).toBe("timeout");
      expect(result.failure?.message).toMatch(/connected 127\.0\.0\.1:\d+ but no answer during ttfb within 300 ms/);
    } finally {
      await silent.stop();
    }
  });

  it("SYN never answered → unreachable within the budget", async () => {
    const hole = await blackholePort();
    try {
      const result = await runCheck({ kind: "http", url: hole.url(), timeout: "300ms" });
      expect(result.failure?.class).toBe("unreachable");
      expect(result.failure?.message).toContain("no TCP connection");
    } finally {
      await hole.stop();
    }
  });

  it("NXDOMAIN → dns naming the host", async () => {
    const result = await runCheck({ kind: "http", url: "http://no-such-host.invalid/health" });
    expect(result.failure?.class).toBe("dns");
    expect(result.failure?.message).toContain('"no-such-host.invalid" does not resolve');
  });

  it("EAI_AGAIN (temporary resolver failure, incident 2) → dns, said to be temporary", async () => {
    const lookup: LookupFn = async (hostname) => {
      throw Object.assign(new Error(`getaddrinfo EAI_AGAIN ${hostname}`), { code: "EAI_AGAIN", hostname });
    };
    const result = await runCheck({ kind: "http", url: "http://redis.internal:8080/" }, { lookup });
    expect(result.failure?.class).toBe("dns");
    expect(result.failure?.message).toContain("temporary DNS failure");
    expect(result.failure?.hint).toContain("resolver");
  });

  describe("TLS", () => {
    it("trusted via tls.ca → pass, with a tls phase", async () => {
      const port = await tlsServer(certs.server);
      const result = await runCheck({ kind: "http", url: `https://localhost:${port}/`, tls: { ca: certs.caCert } });
      expect(result.status).toBe("pass");
      expect(result.phasesMs.tls).toBeTypeOf("number");
    });
    it.each([
      ["self-signed", () => certs.selfSigned, /self-signed/],
      ["expired", () => certs.expired, /expired/],
      ["wrong name", () => certs.wrongName, /does not match the host name/],
    ])("%s certificate → tls", async (_name, pair, message) => {
      const port = await tlsServer(pair());
      const result = await runCheck({ kind: "http", url: `https://localhost:${port}/`, tls: { ca: certs.caCert } });
      expect(result.failure?.class).toBe("tls");
      expect(result.failure?.message).toMatch(message);
    });
    it("https:// against a plaintext server → tls", async () => {
      const result = await runCheck({ kind: "http", url: `https://127.0.0.1:${app.port}/` });
      expect(result.failure?.class).toBe("tls");
    });
    it("insecure: true accepts a self-signed certificate", async () => {
      const port = await tlsServer(certs.selfSigned);
      const result = await runCheck({ kind: "http", url: `https://localhost:${port}/`, tls: { insecure: true } });
      expect(result.status).toBe("pass");
    });
  });

  it("never prints the Authorization header value, even when the server echoes it", async () => {
    const report = await runConfig(
      { checks: { api: { kind: "http", url: app.url("/echo-auth"), headers: { Authorization: "Bearer ${HEALTH_TOKEN}" } } } },
      { env: { HEALTH_TOKEN: "tok_live_9f8e7d6c5b4a" } },
    );
    const text = JSON.stringify(report);
    expect(report.checks[0].failure?.class).toBe("auth");
    expect(text).not.toContain("tok_live_9f8e7d6c5b4a");
    expect(report.checks[0].failure?.message).toContain("denied for ***");
  });
});
