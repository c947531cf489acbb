// The Cloud Run Job runner end to end, offline: the real @google-cloud/run and
// Logging clients against the emulator, whose RunJob spawns the real
// bin/infra-check.js as the job's container and turns its stdout into log
// entries. Each fault of the issue is one case.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGcpEmulator, type GcpEmulator } from "../../src/demo/gcp-emulator/index.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
import { runConfig } from "../helpers/run.js";
import type { RunOptions } from "../../src/runner/run-checks.js";

const PROJECT = "acme-staging";
const REGION = "us-central1";
const JOB = `projects/${PROJECT}/locations/${REGION}/jobs/infra-check-probe`;

let emulator: GcpEmulator;
let redis: RedisServer;
let gcp: { project: string; region: string; emulatorHost: string };

const jobResource = (timeout = "60s") => ({
  name: JOB,
  labels: { "managed-by": "infra-check" },
  template: { taskCount: 1, template: { containers: [{ image: "us-docker.pkg.dev/acme-staging/tools/infra-check:0.2.0" }], timeout, maxRetries: 0 } },
});

const runners = { vpc: { cloudRunJob: { job: "infra-check-probe", vpcConnector: "staging-connector", timeout: "30s" } } };

function run(checks: Record<string, Record<string, unknown>>, options: RunOptions & { deadline?: string } = {}) {
  return runConfig({ deadline: options.deadline ?? "15s", gcp, runners, checks }, { ...options, deps: { gcp, env: {}, ...options.deps } });
}

beforeAll(async () => {
  emulator = await startGcpEmulator();
  redis = await startRedisServer();
  gcp = { project: PROJECT, region: REGION, emulatorHost: emulator.emulatorHost };
}, 30_000);
afterAll(async () => {
  await emulator?.stop();
  await redis?.stop();
});
beforeEach(() => {
  emulator.state.clearFaults();
  for (const name of emulator.state.names()) emulator.state.remove(name);
  emulator.state.put(jobResource());
});

describe("the Cloud Run Job runner (emulated job, real clients)", () => {
  it("runs the runner's checks in one execution and merges the results, with the runner's phases", async () => {
    const report = await run({
      cache: { kind: "redis", url: redis.url, runner: "vpc" },
      cache2: { kind: "tcp", address: `127.0.0.1:${redis.port}`, runner: "vpc" },
      here: { kind: "tcp", address: `127.0.0.1:${redis.port}` },
    });
    const [cache, cache2, here] = report.checks;
    expect(cache.status, JSON.stringify(cache)).toBe("pass");
    expect(cache.metrics.pingP50Ms).toBeGreaterThan(0);
    expect(cache.runner).toMatchObject({ name: "vpc", verdictFrom: "results" });
    expect(cache.runner!.execution).toMatch(new RegExp(`^${JOB}/executions/`));
    // The clients' own set-up first (client, connect), then the runner's four phases, in order.
    expect(Object.keys(cache.runner!.phasesMs).filter((phase) => !["client", "connect"].includes(phase))).toEqual(["schedule", "start", "probe", "collect"]);
    expect(cache2.runner!.execution).toBe(cache.runner!.execution);
    expect(here.runner).toBeUndefined();
    expect(emulator.state.executionNames()).toHaveLength(1);
  }, 30_000);
});
