// The tcp kind against real servers on loopback: a banner server, a TLS
// server whose certificate (made with openssl here) expires in 5 days, and
// the usual faults (refused, blackholed, silent, closes at once).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import tls from "node:tls";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { blackholePort, closedPort, silentServer } from "../helpers/net.js";
import { runCheck } from "../helpers/run.js";
import { runMain } from "../helpers/main-io.js";
import { makeCerts, type CertSet } from "../../src/demo/certs.js";
import { buildConfig } from "../../src/config/load.js";

const run = promisify(execFile);
const servers: net.Server[] = [];
let certs: CertSet;
let dir: string;
/** A CA and a server certificate for localhost/127.0.0.1 that expires in 5 days. */
let expiring: { ca: string; cert: string; key: string };

async function listen(server: net.Server): Promise<number> {
  // A client that hangs up mid-conversation (the probe is done) is not the server's error.
  server.on("connection", (socket: net.Socket) => socket.on("error", () => undefined));
  server.on("secureConnection", (socket: net.Socket) => socket.on("error", () => undefined));
  server.on("tlsClientError", () => undefined);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

const bannerServer = () => listen(net.createServer((socket) => socket.end("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")));
const closingServer = () => listen(net.createServer((socket) => socket.destroy()));
const echoServer = () => listen(net.createServer((socket) => socket.once("data", (data) => socket.end(`+${data.toString().trim()}\r\n`))));
const tlsServer = async (pair: { cert: string; key: string }) => listen(tls.createServer({ cert: await readFile(pair.cert), key: await readFile(pair.key) }, (socket) => socket.end("hello over tls\n")));

beforeAll(async () => {
  certs = await makeCerts();
  dir = await mkdtemp(path.join(tmpdir(), "infra-check-tcp-"));
  const at = (name: string) => path.join(dir, name);
  await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=expiring test CA"], { cwd: dir });
  await writeFile(at("leaf.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"], { cwd: dir });
  await run("openssl", ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.crt", "-days", "5", "-extfile", "leaf.ext"], { cwd: dir });
  expiring = { ca: at("ca.crt"), cert: at("leaf.crt"), key: at("leaf.key") };
});
afterAll(async () => {
  for (const server of servers) server.close();
  await certs?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("tcp check", () => {
  it("connects: dns/connect phases only, no banner read without an expectation", async () => {
    const port = await bannerServer();
    const result = await runCheck({ kind: "tcp", address: `127.0.0.1:${port}` });
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    expect(Object.keys(result.phasesMs)).toEqual(["connect"]);
    expect(result.metrics.connectMs).toBeGreaterThan(0);
    expect(result.metrics.banner).toBeUndefined();
  });

  it("a banner that matches passes, one that does not is protocol naming what answered", async () => {
    const port = await bannerServer();
    const ok = await runCheck({ kind: "tcp", address: `127.0.0.1:${port}`, expect: { banner: "~ ^SSH-2\\.0" } });
    expect(ok.status).toBe("pass");
    expect(ok.metrics).toMatchObject({ banner: "SSH-2.0-OpenSSH_9.2p1 Debian-2" });
    const wrong = await runCheck({ kind: "tcp", address: `127.0.0.1:${port}`, expect: { banner: "~ ^220 " } });
    expect(wrong.failure).toMatchObject({ class: "protocol" });
    expect(wrong.failure?.message).toContain('banner is "SSH-2.0-OpenSSH_9.2p1 Debian-2", expected ~ ^220 ');
  });

  it("send: says something first", async () => {
    const port = await echoServer();
    const result = await runCheck({ kind: "tcp", address: `127.0.0.1:${port}`, send: "PING\\r\\n", expect: { banner: "+PING" } });
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
  });

  it("TLS: certificate metrics, and an expiring certificate fails certExpiresInDays with class tls", async () => {
    const port = await tlsServer(expiring);
    const result = await runCheck({ kind: "tcp", address: `localhost:${port}`, tls: { ca: expiring.ca }, expect: { certExpiresInDays: "> 14" } }, { lookup: async () => [{ address: "127.0.0.1", family: 4 }] });
    expect(result.status).toBe("fail");
    expect(result.failure).toMatchObject({ class: "tls" });
    expect(result.failure?.message).toMatch(/certExpiresInDays is 4\.9\d|certExpiresInDays is 5(\.0+)?,/);
    expect(result.metrics).toMatchObject({ certSubject: "localhost", certNames: ["localhost", "127.0.0.1"], certIssuer: "expiring test CA" });
    expect(Object.keys(result.phasesMs)).toEqual(["dns", "connect", "tls"]);
    const relaxed = await runCheck({ kind: "tcp", address: `127.0.0.1:${port}`, tls: { ca: expiring.ca }, expect: { certExpiresInDays: "> 1" } });
    expect(relaxed.status, JSON.stringify(relaxed.failure)).toBe("pass");
  });

  it("TLS problems are the generic tls diagnoses: untrusted, expired, wrong name, plaintext port", async () => {
    const untrusted = await runCheck({ kind: "tcp", address: `127.0.0.1:${await tlsServer(expiring)}`, tls: {} });
    expect(untrusted.failure).toMatchObject({ class: "tls", phase: "tls" });
    const expired = await runCheck({ kind: "tcp", address: `127.0.0.1:${await tlsServer(certs.expired)}`, tls: { ca: certs.caCert } });
    expect(expired.failure).toMatchObject({ class: "tls", diagnosis: "tls.EXPIRED" });
    const wrongName = await runCheck({ kind: "tcp", address: `127.0.0.1:${await tlsServer(certs.wrongName)}`, tls: { ca: certs.caCert } });
    expect(wrongName.failure).toMatchObject({ class: "tls", diagnosis: "tls.NAME_MISMATCH" });
    const plaintext = await runCheck({ kind: "tcp", address: `127.0.0.1:${await bannerServer()}`, tls: {} });
    expect(plaintext.failure?.class).toBe("tls");
  });

  it("the same certificate metrics on the other TLS kinds (http over TLS)", async () => {
    const https = await import("node:https");
    const server = https.createServer({ cert: await readFile(expiring.cert), key: await readFile(expiring.key) }, (_req, res) => res.end("ok"));
    const port = await listen(server);
    const result = await runCheck({ kind: "http", url: `https://127.0.0.1:${port}/`, tls: { ca: expiring.ca }, expect: { certExpiresInDays: "> 14" } });
    expect(result.failure).toMatchObject({ class: "tls" });
    expect(result.metrics.certExpiresInDays).toBeLessThan(6);
  });

  it.each([
    ["refused", async () => ({ address: `127.0.0.1:${await closedPort()}` }), "refused", "tcp.REFUSED"],
    ["closes without a word", async () => ({ address: `127.0.0.1:${await closingServer()}`, expect: { banner: "~ ." } }), "protocol", "banner.CLOSED"],
  ] as const)("%s → %s", async (_name, check, failureClass, diagnosis) => {
    const result = await runCheck({ kind: "tcp", ...(await check()) });
    expect(result.failure).toMatchObject({ class: failureClass, diagnosis });
  });

  it("silent server with a banner expectation → timeout naming the wait; blackholed → unreachable within the budget", async () => {
    const silent = await silentServer();
    const blackhole = await blackholePort();
    try {
      const quiet = await runCheck({ kind: "tcp", address: `127.0.0.1:${silent.port}`, bannerWithin: "200ms", expect: { banner: "~ ." } });
      expect(quiet.failure).toMatchObject({ class: "timeout", diagnosis: "banner.SILENT" });
      const started = performance.now();
      const dropped = await runCheck({ kind: "tcp", address: `127.0.0.1:${blackhole.port}`, timeout: "300ms" });
      expect(dropped.failure).toMatchObject({ class: "unreachable", diagnosis: "tcp.CONNECT_TIMEOUT" });
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      await silent.stop();
      await blackhole.stop();
    }
  });

  it("config: host:port is required and checked", async () => {
    const load = (check: Record<string, unknown>) => buildConfig({ checks: { t: { kind: "tcp", ...check } } }, { dir: process.cwd(), defaultEnv: "t", env: {} });
    await expect(load({ address: "10.0.0.3" })).rejects.toThrow(/checks\.t\.address: expected host:port/);
    await expect(load({ address: "10.0.0.3:99999" })).rejects.toThrow(/port 99999/);
    await expect(load({ address: "h:1", expect: { bannr: "x" } })).rejects.toThrow(/unknown metric "bannr"/);
  });

  it("one-off: infra-check tcp HOST:PORT --banner, exit codes 0 and 1", async () => {
    const port = await bannerServer();
    const ok = await runMain(["tcp", `127.0.0.1:${port}`, "--banner", "^SSH-"], { cwd: process.cwd(), env: {} });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const wrong = await runMain(["tcp", `127.0.0.1:${port}`, "--banner", "^220", "--format", "json"], { cwd: process.cwd(), env: {} });
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout).checks[0]).toMatchObject({ kind: "tcp", status: "fail", failure: { class: "protocol" } });
  });
});
