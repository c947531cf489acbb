// A REAL vantage point: the emulated job runs inside a network namespace this
// test creates (loopback only), where a real redis-server listens. From the
// host that Redis does not exist (refused); through `runner: vpc` the check
// passes with round trips measured inside. Needs root (ip netns); CI is root.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGcpEmulator, type GcpEmulator } from "../../src/demo/gcp-emulator/index.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
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

describe.skipIf(!hasNetns)("a check run from inside the VPC (a network namespace)", () => {
  let emulator: GcpEmulator;
  let redis: RedisServer;

  beforeAll(async () => {
    ip("netns", "add", NS);
    ip("-n", NS, "link", "set", "lo", "up");
    // redis-server started inside the namespace: `ip netns exec` execs it, so its pid is the server's.
    const wrapper = path.join(mkdtempSync(path.join(tmpdir(), "infra-check-netns-")), "redis-in-vpc");
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${NS} redis-server "$@"\n`);
    chmodSync(wrapper, 0o755);
    redis = await startRedisServer({ bin: wrapper, password: PASSWORD });
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
    for (const pid of spawnSync("ip", ["netns", "pids", NS], { encoding: "utf8" }).stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    spawnSync("ip", ["netns", "delete", NS]);
  });

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
