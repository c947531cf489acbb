// The deadline bounds the process, not only the report: once the report and
// outputs are flushed, the process ends — even with a DNS lookup stuck in the
// thread pool (a resolver that never answers, in a network and mount
// namespace the test makes, with its own resolv.conf) or a gRPC channel still
// trying to connect to a blackholed endpoint. Measured as the spawned
// process's exit, with generous margins (these are not timing tests: without
// the exit they take 30 s and over 2 minutes).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { blackholePort } from "../helpers/net.js";
import { BIN, runCli, type CliResult } from "../helpers/cli.js";

const isRoot = process.getuid?.() === 0;

describe("a blackholed Google endpoint", () => {
  let hole: Awaited<ReturnType<typeof blackholePort>>;
  beforeAll(async () => {
    hole = await blackholePort();
  });
  afterAll(async () => {
    await hole.stop();
  });

  it("the process ends at the deadline, not when gRPC gives up connecting", async () => {
    const result = await runCli(
      ["cloud-run", "chat-backend", "--project", "demo-project", "--region", "us-central1", "--emulator-host", `127.0.0.1:${hole.port}`, "--timeout", "2s"],
      { timeoutMs: 30_000 },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("no gRPC connection to 127.0.0.1");
    expect(result.elapsedMs).toBeLessThan(2_000 + 2_500);
  });
});

describe.runIf(isRoot)("a resolver that never answers (namespace with its own resolv.conf)", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "infra-check-dns-"));
    // One 30 s attempt per query: getaddrinfo holds a thread-pool slot that long.
    writeFileSync(path.join(root, "resolv.conf"), "nameserver 127.0.0.1\noptions timeout:30 attempts:1\n");
    // Inside the namespace: a UDP port 53 that reads queries and never answers, then the CLI.
    writeFileSync(
      path.join(root, "driver.mjs"),
      `import dgram from "node:dgram";
import { spawn } from "node:child_process";
const dns = dgram.createSocket("udp4");
dns.on("message", () => undefined);
dns.bind(53, "127.0.0.1", () => {
  const started = performance.now();
  const child = spawn(process.execPath, [${JSON.stringify(BIN)}, ...JSON.parse(process.argv[2])], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", METADATA_SERVER_DETECTION: "none" } });
  let stdout = "", stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  child.on("close", (code) => {
    process.stdout.write(JSON.stringify({ code, stdout, stderr, elapsedMs: performance.now() - started }));
    process.exit(0);
  });
});
`,
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function runInNamespace(args: string[]): Promise<CliResult> {
    const script = `mount --bind ${root}/resolv.conf /etc/resolv.conf && ip link set lo up && exec "${process.execPath}" ${root}/driver.mjs '${JSON.stringify(args)}'`;
    return new Promise((resolve, reject) => {
      const child = spawn("unshare", ["--net", "--mount", "sh", "-c", script], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("error", reject);
      child.on("close", () => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(stdout) as CliResult);
        } catch {
          reject(new Error(`namespace driver failed: ${stderr || stdout}`));
        }
      });
    });
  }

  it("redis: a DNS timeout at the deadline, and the process ends with it", async () => {
    const result = await runInNamespace(["redis", "redis://cache.never-answers.test:6379", "--timeout", "2s"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/DNS lookup .*did not answer within/);
    expect(result.elapsedMs).toBeLessThan(2_000 + 2_500);
  });

  it("a Google endpoint whose name never resolves is a DNS failure, never 'connected to'", async () => {
    const result = await runInNamespace(["cloud-run", "chat-backend", "--project", "demo-project", "--region", "us-central1", "--emulator-host", "emulator.never-answers.test:8085", "--timeout", "2s"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/DNS lookup .*emulator\.never-answers\.test:8085 did not answer within/);
    expect(result.stdout).not.toContain("connected to");
    expect(result.elapsedMs).toBeLessThan(2_000 + 2_500);
  });
});

describe("WebSocket load mode at the deadline", () => {
  it("100,000 connections that cannot all be tried end with the budget: the untried are counted at once, not one by one", async () => {
    const { WebSocketServer } = await import("ws");
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    server.on("connection", (ws) => ws.on("error", () => undefined));
    await new Promise((resolve) => server.once("listening", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const result = await runCli(["ws", `ws://127.0.0.1:${port}/`, "--connections", "100000", "--welcome", "type=hello", "--timeout", "2s", "-f", "json"], { timeoutMs: 30_000 });
      const check = JSON.parse(result.stdout).checks[0];
      expect(check.metrics.connections).toBe(100_000);
      expect(check.metrics.failures.timeout).toBe(100_000);
      // Before: ~20 µs of classification per untried connection after the deadline — seconds here.
      expect(result.elapsedMs).toBeLessThan(2_000 + 1_500);
    } finally {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
