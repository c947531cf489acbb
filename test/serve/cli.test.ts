// `infra-check serve` as a user runs it: the built CLI, spawned. Flags that
// are wrong exit 2 and say what is expected, before anything listens; SIGHUP
// reloads (a broken config is rejected, the running one kept); SIGTERM stops
// within a second, a cycle in flight included.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { BIN, runCli } from "../helpers/cli.js";
import { closedPort, httpServer } from "../helpers/net.js";
import { findSamples, samplesOf } from "../helpers/prom-text.js";

let dir: string;
let target: Awaited<ReturnType<typeof httpServer>>;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "infra-check-serve-"));
  target = await httpServer((_req, res) => res.end("ok"));
});
afterAll(async () => {
  await target?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};

/** A spawned `serve`: its JSON log lines as they come, and a wait for the next one that matches. */
interface Spawned {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: () => string;
  next: (match: (line: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
}

function spawnServe(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, [BIN, "serve", ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", METADATA_SERVER_DETECTION: "none", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  createInterface({ input: child.stdout! }).on("line", (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const waiter of waiters.splice(0)) (waiter.match(line) ? waiter.resolve(line) : waiters.push(waiter));
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    next: (match) =>
      new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        child.once("exit", (code) => reject(new Error(`serve exited (${code}) before the line came; stderr: ${stderr}`)));
      }),
  };
}

async function stop(spawned: Spawned): Promise<number | null> {
  if (spawned.child.exitCode !== null) return spawned.child.exitCode;
  const exited = once(spawned.child, "exit");
  spawned.child.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  return code;
}

describe("bad flags and configs exit 2 with what is expected, before anything listens", () => {
  it.each([
    [["--listen", "0.0.0.0:9464", "-c", "ok.yaml"], /--listen 0\.0\.0\.0:9464: every interface is reachable from other machines.*pass --allow-remote/],
    [["--listen", "10.1.2.3:9464", "-c", "ok.yaml"], /--listen 10\.1\.2\.3:9464: 10\.1\.2\.3 is reachable from other machines/],
    [["--listen", "nine-four-six-four", "-c", "ok.yaml"], /--listen: expected HOST:PORT such as 127\.0\.0\.1:9464, \[::1\]:9464 or 0\.0\.0\.0:8080 \(with --allow-remote\), found "nine-four-six-four"/],
    [["--listen", "127.0.0.1:70000", "-c", "ok.yaml"], /port 70000 is out of range \(0–65535; 0 picks a free one\)/],
    [["--every", "10ms", "-c", "ok.yaml"], /--every 10ms: at least 1s/],
    [["--every", "soon", "-c", "ok.yaml"], /--every: expected a duration like 500ms, 2s or 1m, found "soon"/],
    [["--token-env", "NO_SUCH_VAR", "-c", "ok.yaml"], /--token-env NO_SUCH_VAR: environment variable NO_SUCH_VAR is not set/],
    [["--token-file", "missing.txt", "-c", "ok.yaml"], /--token-file missing\.txt: cannot read it \(ENOENT\)/],
    [["--token-file", "short.txt", "-c", "ok.yaml"], /the token has 5 characters; use at least 16 random ones/],
    [["--token", "abc", "-c", "ok.yaml"], /unknown option '--token'/],
    [["-c", "every.yaml"], /every\.yaml: checks\.api\.every: at least 1s/],
    [[], /infra-check serve: name an environment \(infra-check serve staging\) or pass --config FILE/],
  ])("serve %j", async (args, expected) => {
    write("ok.yaml", `checks:\n  api:\n    kind: http\n    url: ${target.url("/")}\n`);
    write("every.yaml", `checks:\n  api:\n    kind: http\n    url: ${target.url("/")}\n    every: 10ms\n`);
    write("short.txt", "abcde\n");
    const result = await runCli(["serve", ...args], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe("");
  });

  it("an address already in use is exit 2 naming it", async () => {
    const busy = net.createServer().listen(0, "127.0.0.1");
    await once(busy, "listening");
    const { port } = busy.address() as net.AddressInfo;
    try {
      const result = await runCli(["serve", "-c", "ok.yaml", "--listen", `127.0.0.1:${port}`], { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--listen 127.0.0.1:${port}: the address is already in use`);
    } finally {
      busy.close();
    }
  });

  it("--help teaches the endpoints, the log, the signals and examples", async () => {
    const result = await runCli(["serve", "--help"], { cwd: dir });
    expect(result.code).toBe(0);
    for (const text of ["/metrics", "/probe?check=NAME", "/healthz", "/report.json", "SIGHUP", "--allow-remote", "--token-file", "Examples:", "docs/serve.md"]) expect(result.stdout).toContain(text);
    for (const line of result.stdout.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
  });
});

describe("signals", () => {
  it("SIGHUP with a broken config: rejected, the reason logged, the old config still served; a fixed one is then taken", async () => {
    const file = write("reload.yaml", `checks:\n  api:\n    kind: http\n    url: ${target.url("/")}\n`);
    const served = spawnServe(["-c", file, "--listen", "127.0.0.1:0", "--every", "1h"]);
    try {
      const listening = await served.next((line) => line.event === "listening");
      const url = String(listening.url);
      await served.next((line) => line.event === "transition" && line.check === "api");

      writeFileSync(file, `checks:\n  api:\n    kind: http\n    url: ${target.url("/")}\n    timeout: soon\n`);
      served.child.kill("SIGHUP");
      const rejected = await served.next((line) => line.event === "reload-rejected");
      expect(rejected.severity).toBe("ERROR");
      expect(rejected.reason).toMatch(/reload\.yaml: checks\.api\.timeout: expected a duration like 250ms, 2s or 1m, found "soon"/);
      expect(rejected.reason).toContain("--> ");
      const metrics = samplesOf(await (await fetch(new URL("/metrics", url))).text());
      expect(findSamples(metrics, "infra_check_up", { check: "api" })[0].value).toBe(1);
      expect(findSamples(metrics, "infra_check_config_reloads_total", { result: "rejected" })[0].value).toBe(1);

      writeFileSync(file, `checks:\n  api:\n    kind: http\n    url: ${target.url("/")}\n  port:\n    kind: tcp\n    address: 127.0.0.1:${await closedPort()}\n`);
      served.child.kill("SIGHUP");
      expect(await served.next((line) => line.event === "reloaded")).toMatchObject({ added: ["port"], kept: ["api"], removed: [] });
      const transition = await served.next((line) => line.event === "transition" && line.check === "port");
      expect(transition).toMatchObject({ from: null, to: "fail", class: "refused" });
      expect(await stop(served)).toBe(0);
    } finally {
      served.child.kill("SIGKILL");
    }
  });

  it("SIGTERM stops within a second, aborting a cycle in flight; exit 0", async () => {
    const silent = net.createServer((socket) => socket.resume()).listen(0, "127.0.0.1");
    await once(silent, "listening");
    const connected = once(silent, "connection");
    const { port } = silent.address() as net.AddressInfo;
    const file = write("hung.yaml", `deadline: 60s\nchecks:\n  hung:\n    kind: http\n    url: http://127.0.0.1:${port}/\n    timeout: 50s\n`);
    const served = spawnServe(["-c", file, "--listen", "127.0.0.1:0"]);
    try {
      await served.next((line) => line.event === "listening");
      await connected;
      const started = performance.now();
      const code = await stop(served);
      const elapsedMs = performance.now() - started;
      expect(code).toBe(0);
      expect(elapsedMs).toBeLessThan(1000);
      expect(served.lines.at(-1)).toMatchObject({ event: "stopped" });
      expect(served.lines.filter((line) => line.event === "transition")).toEqual([]);
      expect(served.stderr()).toBe("");
    } finally {
      served.child.kill("SIGKILL");
      silent.close();
    }
  });
});
