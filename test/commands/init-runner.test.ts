// init's runner step end to end, from a real vantage point: the service's
// Redis is at a private address (10.166.204.83) that exists only inside a
// network namespace this test creates, where a real redis-server listens.
// init maps it to a redis check on `runner: vpc` with a runners: block from
// the service's connector and service account; the generated file, run as
// is, sends that check to the emulated Cloud Run Job (which runs in the
// namespace) and it passes there, reading the app's own secret itself —
// while the cloud checks run here. Needs root (ip netns); CI is root.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { loadConfigFile } from "../../src/config/load.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
import { EMULATOR_ENV } from "../../src/gcp/resources.js";
import { PROJECT, REGION, startGcpWorld, type GcpWorld } from "../gcp/harness.js";
import { runMain } from "../helpers/main-io.js";
import { runToReport } from "../helpers/run.js";

const NS = `ic-init-${process.pid}`;
const PRIVATE_IP = "10.166.204.83";
const PASSWORD = "vpc-only-redis-password-init-3d9";
const JOB = `projects/${PROJECT}/locations/${REGION}/jobs/infra-check-probe`;

const isRoot = process.getuid?.() === 0;
const hasNetns = isRoot && spawnSync("ip", ["netns", "list"]).status === 0;
if (!hasNetns) console.warn(`init runner test skipped: ${isRoot ? "`ip netns` is not available" : "it needs root to create a network namespace (CI runs as root)"}`);

const ip = (...args: string[]) => {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
};

describe.skipIf(!hasNetns)("init: a private Redis goes to the runner, and runs there", () => {
  let redis: RedisServer;
  let world: GcpWorld;
  let health: http.Server;
  let baseUrl: string;
  let dir: string;

  beforeAll(async () => {
    ip("netns", "add", NS);
    ip("-n", NS, "link", "set", "lo", "up");
    // The private address exists only inside the namespace: from the host, 10.166.204.83 is never dialled.
    ip("-n", NS, "addr", "add", `${PRIVATE_IP}/32`, "dev", "lo");
    const wrapper = path.join(mkdtempSync(path.join(tmpdir(), "infra-check-netns-")), "redis-in-vpc");
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${NS} redis-server "$@" --bind ${PRIVATE_IP}\n`);
    chmodSync(wrapper, 0o755);
    redis = await startRedisServer({ bin: wrapper, password: PASSWORD });
    world = await startGcpWorld({
      env: { REDIS_HOST: PRIVATE_IP, REDIS_PORT: String(redis.port), REDIS_PASSWORD: { secret: "redis-password-staging" } },
      redis: { host: PRIVATE_IP, port: redis.port, authString: PASSWORD },
      secrets: { "redis-password-staging": PASSWORD },
    });
    // The job `runner deploy` would have created; its container runs in the namespace, the Google APIs bridged in.
    world.emulator.state.put({
      name: JOB,
      labels: { "managed-by": "infra-check" },
      template: { taskCount: 1, template: { containers: [{ image: "infra-check:test", env: [{ name: EMULATOR_ENV, value: world.gcp.emulatorHost }] }], timeout: "60s" } },
    });
    world.emulator.state.setJobFaults({ vpcNamespace: NS });
    health = http.createServer((_, response) => response.writeHead(200, { "content-type": "application/json" }).end('{"status":"healthy"}'));
    await new Promise<void>((resolve) => health.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(tmpdir(), "infra-check-init-runner-"));
  }, 30_000);

  afterAll(async () => {
    await world?.stop();
    await redis?.stop();
    await new Promise((resolve) => health?.close(resolve));
    for (const pid of spawnSync("ip", ["netns", "pids", NS], { encoding: "utf8" }).stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    spawnSync("ip", ["netns", "delete", NS]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("writes runner: vpc on the private check, and the file runs green with it on the job", async () => {
    const env = { [EMULATOR_ENV]: world.gcp.emulatorHost, METADATA_SERVER_DETECTION: "none" };
    const result = await runMain(["init", "--from-cloud-run", "backend-staging", "--project", PROJECT, "--region", REGION, "--base-url", baseUrl], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    const file = path.join(dir, "config", "staging.yaml");
    const config = YAML.parse(await readFile(file, "utf8"));
    expect(config.checks.cache).toMatchObject({ url: `redis://${PRIVATE_IP}:${redis.port}`, password: { secret: `projects/${PROJECT}/secrets/redis-password-staging` }, runner: "vpc" });
    expect(config.runners.vpc.cloudRunJob).toMatchObject({ job: "infra-check-probe", vpcConnector: "staging-connector", serviceAccount: `backend@${PROJECT}.iam.gserviceaccount.com` });

    const loaded = await loadConfigFile(file, { env });
    const report = await runToReport({ env: loaded.env, deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes, runners: loaded.runners }, { deps: { gcp: loaded.gcp, env } });
    const failed = report.checks.filter((check) => check.status !== "pass").map((check) => `${check.name}: ${check.status} ${check.failure?.message ?? ""}`);
    expect(failed).toEqual([]);
    const cache = report.checks.find((check) => check.name === "cache")!;
    expect(cache.runner).toMatchObject({ name: "vpc", verdictFrom: "results" });
    expect(cache.metrics.pingSamples).toBeGreaterThan(0);
    // The others ran here.
    expect(report.checks.filter((check) => check.runner).map((check) => check.name)).toEqual(["cache"]);
  }, 60_000);
});
