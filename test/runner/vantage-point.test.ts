// A REAL vantage point: the emulated job runs inside a network namespace this
// test creates (loopback only), where a real redis-server listens. From the
// host that Redis does not exist (refused); through `runner: vpc` the check
// passes with round trips measured inside. The same for a real PostgreSQL.
// Needs root (ip netns); CI is root.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGcpEmulator, type GcpEmulator } from "../../src/demo/gcp-emulator/index.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
import { findPostgresBinDir } from "../../src/demo/postgres.js";
import { runConfig } from "../helpers/run.js";

const PROJECT = "acme-staging";
const REGION = "us-central1";
const JOB = `projects/${PROJECT}/locations/${REGION}/jobs/infra-check-probe`;
const NS = `ic-vpc-${process.pid}`;
const PASSWORD = "vpc-only-redis-password-7c1";

const isRoot = process.getuid?.() === 0;
const hasNetns = isRoot && spawnSync("ip", ["netns", "list"]).status === 0;
if (!hasNetns) console.warn(`vantage-point test skipped: ${isRoot ? "`ip netns` is not available" : "it needs root to create a network namespace (CI runs as root)"}`);

const ip = (...args: string[]) => {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
};

/**
 * A real PostgreSQL listening inside the namespace only: initdb on the host (files),
 * the server started in the namespace as the postgres OS user (it refuses root).
 */
async function postgresInNamespace(namespace: string, password: string): Promise<{ port: number; stop(): Promise<void> }> {
  const binDir = findPostgresBinDir();
  const dir = mkdtempSync(path.join(tmpdir(), "infra-check-netns-pg-"));
  const pwfile = path.join(dir, "pw");
  writeFileSync(pwfile, password);
  spawnSync("chown", ["-R", "postgres:postgres", dir]);
  const data = path.join(dir, "data");
  const init = spawnSync("runuser", ["-u", "postgres", "--", path.join(binDir, "initdb"), "-D", data, "-U", "app", "--auth=scram-sha-256", `--pwfile=${pwfile}`], { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb: ${init.stderr}`);
  const { freePort } = await import("../../src/demo/free-port.js");
  const port = await freePort("127.0.0.1");
  const server = spawn("ip", ["netns", "exec", namespace, "runuser", "-u", "postgres", "--", path.join(binDir, "postgres"), "-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`postgres did not start in ${namespace}: ${log}`)), 20_000);
    server.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (/ready to accept connections/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once("exit", (code) => (clearTimeout(timer), reject(new Error(`postgres exited (${code}): ${log}`))));
  });
  return {
    port,
    async stop() {
      // runuser does not pass signals on: the postmaster's own pid is in its pid file. A fast shutdown (SIGINT), SIGKILL if it lingers.
      let postmaster = server.pid!;
      try {
        postmaster = Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
      } catch {
        // no pid file: the server already ended
      }
      const exited = server.exitCode !== null ? Promise.resolve() : new Promise((resolve) => server.once("exit", resolve));
      try {
        process.kill(postmaster, "SIGINT");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        for (const pid of [postmaster, server.pid!]) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }, 5_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.skipIf(!hasNetns)("a check run from inside the VPC (a network namespace)", () => {
  let emulator: GcpEmulator;
  let redis: RedisServer;
  let postgres: { port: number; stop(): Promise<void> } | undefined;
  let wrapperDir: string | undefined;

  beforeAll(async () => {
    ip("netns", "add", NS);
    ip("-n", NS, "link", "set", "lo", "up");
    // redis-server started inside the namespace: `ip netns exec` execs it, so its pid is the server's.
    wrapperDir = mkdtempSync(path.join(tmpdir(), "infra-check-netns-"));
    const wrapper = path.join(wrapperDir, "redis-in-vpc");
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${NS} redis-server "$@"\n`);
    chmodSync(wrapper, 0o755);
    redis = await startRedisServer({ bin: wrapper, password: PASSWORD });
    postgres = await postgresInNamespace(NS, PASSWORD);
    emulator = await startGcpEmulator();
    emulator.state.put({ name: JOB, labels: { "managed-by": "infra-check" }, template: { taskCount: 1, template: { containers: [{ image: "infra-check:test" }], timeout: "60s" } } });
    emulator.state.addSecretVersion(`projects/${PROJECT}/secrets/redis`, PASSWORD);
    // The job's container runs in the namespace: it reaches what listens there, and only that — and
    // the Google APIs (the emulator, bridged in, as Private Google Access does), so it reads the secret itself.
    emulator.state.setJobFaults({ vpcNamespace: NS });
  }, 30_000);

  afterAll(async () => {
    await emulator?.stop();
    await redis?.stop();
    await postgres?.stop();
    if (wrapperDir) rmSync(wrapperDir, { recursive: true, force: true });
    for (const pid of spawnSync("ip", ["netns", "pids", NS], { encoding: "utf8" }).stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    spawnSync("ip", ["netns", "delete", NS]);
  });

  it("PostgreSQL too: refused from here, real query round trips through the runner", async () => {
    const gcp = { project: PROJECT, region: REGION, emulatorHost: emulator.emulatorHost };
    const check = { kind: "postgres", url: `postgres://app@127.0.0.1:${postgres!.port}/postgres`, timeout: "5s", password: { secret: `projects/${PROJECT}/secrets/redis` } };
    const config = (runner?: string) => ({ deadline: "20s", gcp, runners: { vpc: { cloudRunJob: { job: "infra-check-probe" } } }, checks: { db: { ...check, ...(runner ? { runner } : {}) } } });
    const [local] = (await runConfig(config(), { deps: { gcp, env: {} } })).checks;
    expect(local.failure?.class).toBe("refused");
    const [remote] = (await runConfig(config("vpc"), { deps: { gcp, env: {} } })).checks;
    expect(remote.status, JSON.stringify(remote.failure)).toBe("pass");
    expect(remote.metrics.queryP50Ms).toBeGreaterThan(0);
    expect(remote.runner).toMatchObject({ name: "vpc", verdictFrom: "results" });
  }, 40_000);

  it("locally: refused; through runner: vpc: passes with real round trips", async () => {
    const gcp = { project: PROJECT, region: REGION, emulatorHost: emulator.emulatorHost };
    const check = { kind: "redis", url: redis.url, timeout: "3s", password: { secret: `projects/${PROJECT}/secrets/redis` } };
    const config = (runner?: string) => ({ deadline: "15s", gcp, runners: { vpc: { cloudRunJob: { job: "infra-check-probe" } } }, checks: { cache: { ...check, ...(runner ? { runner } : {}) } } });

    const [local] = (await runConfig(config(), { deps: { gcp, env: {} } })).checks;
    expect(local.status).toBe("fail");
    expect(["refused", "unreachable"]).toContain(local.failure!.class);

    const [remote] = (await runConfig(config("vpc"), { deps: { gcp, env: {} } })).checks;
    expect(remote.status, JSON.stringify(remote.failure)).toBe("pass");
    expect(remote.runner).toMatchObject({ name: "vpc", verdictFrom: "results" });
    expect(remote.metrics.pingSamples).toBeGreaterThan(0);
    expect(remote.metrics.pingP50Ms).toBeGreaterThan(0);
    expect(remote.summary).toMatch(/PONG.*p50/);
    // The secret was read inside the job; it never travelled, and no output shows it.
    const execution = remote.runner!.execution!;
    expect(JSON.stringify(emulator.state.executionOverrides(execution))).not.toContain(PASSWORD);
    expect(JSON.stringify(remote)).not.toContain(PASSWORD);
  }, 40_000);
});
