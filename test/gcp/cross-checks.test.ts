// Cross-checks between cloud state (emulator) and the data plane (a real
// redis-server): AUTH required but no password → config failure before
// connecting; Redis aimed elsewhere than its instance → drift; Cloud Run on
// another connector than the one checked → drift.
import net from "node:net";
import { once } from "node:events";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGcpWorld, AUTH_STRING, type GcpWorld } from "./harness.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
import { loadProbe, PROBE_KINDS } from "../../src/probes/index.js";
import type { DependencyResult, Measurement } from "../../src/probes/api.js";

// Relations are owned by the dependent kind (src/probes/<kind>/relations.ts); the runner reaches them through the kind's definition.
const probes = new Map(await Promise.all(PROBE_KINDS.map(async (kind) => [kind, await loadProbe(kind)] as const)));
const preflight = (spec: CheckSpec, deps: ReadonlyMap<string, DependencyResult>) => probes.get(spec.kind as never)?.relations?.preflight?.(spec, deps);
const afterRun = (spec: CheckSpec, measurement: Measurement, deps: ReadonlyMap<string, DependencyResult>) => probes.get(spec.kind as never)?.relations?.assert?.(spec, measurement, deps) ?? [];
import type { CheckResult } from "../../src/report/schema.js";
import type { CheckSpec } from "../../src/probes/api.js";

let world: GcpWorld;
let redis: RedisServer;
beforeAll(async () => {
  [world, redis] = await Promise.all([startGcpWorld(), startRedisServer({ password: AUTH_STRING })]);
});
afterAll(async () => {
  await Promise.all([world?.stop(), redis?.stop()]);
});
beforeEach(() => {
  world.reset();
  // The instance "is" the local redis-server.
  world.stack.patchInstance({ host: "127.0.0.1", port: redis.port });
});

/** Connections redis-server has accepted so far (INFO stats), read over a raw socket. */
async function connectionsReceived(): Promise<number> {
  const socket = net.connect(redis.port, "127.0.0.1");
  await once(socket, "connect");
  socket.write(`AUTH ${AUTH_STRING}\r\nINFO stats\r\n`);
  let text = "";
  socket.on("data", (chunk) => (text += chunk));
  while (!/total_connections_received:\d+\r\n/.test(text)) await once(socket, "data");
  socket.destroy();
  return Number(/total_connections_received:(\d+)/.exec(text)![1]) - 1; // minus this one
}

const INSTANCE = { kind: "memorystore", instance: "staging-redis-f1adc35c" };

describe("Memorystore AUTH vs the redis check's password", () => {
  it("AUTH enabled, no password → config failure before connecting, hint naming the secret to wire", async () => {
    const before = await connectionsReceived();
    const report = await world.run({ "cache-instance": INSTANCE, cache: { kind: "redis", url: `redis://127.0.0.1:${redis.port}`, dependsOn: ["cache-instance"] } });
    const cache = report.checks.find((check) => check.name === "cache")!;
    expect(cache.failure).toMatchObject({ class: "config", code: "AUTH_REQUIRED_NO_PASSWORD", phase: "preflight" });
    expect(cache.failure?.message).toContain('Memorystore instance staging-redis-f1adc35c (check "cache-instance") has AUTH enabled, but this check has no password');
    expect(cache.failure?.hint).toContain("password: { memorystoreAuth: staging-redis-f1adc35c }");
    expect(cache.failure?.hint).toContain("password: { secret: projects/acme-staging/secrets/NAME }");
    expect(cache.phasesMs).toEqual({});
    expect(await connectionsReceived()).toBe(before + 1); // only the counting connection of this test
  });

  it("the same check with { memorystoreAuth } connects and passes, host/port matching the instance", async () => {
    const report = await world.run({
      "cache-instance": INSTANCE,
      cache: { kind: "redis", url: `redis://127.0.0.1:${redis.port}`, password: { memorystoreAuth: "staging-redis-f1adc35c" }, samples: 2, dependsOn: ["cache-instance"] },
    });
    const cache = report.checks.find((check) => check.name === "cache")!;
    expect(cache.status, JSON.stringify(cache.failure)).toBe("pass");
    expect(cache.assertions).toContainEqual(expect.objectContaining({ metric: "memorystore.staging-redis-f1adc35c", ok: true }));
  });

  it("AUTH disabled on the instance: no preflight objection", async () => {
    world.stack.patchInstance({ authEnabled: false });
    const report = await world.run({ "cache-instance": INSTANCE, cache: { kind: "redis", url: `redis://127.0.0.1:${redis.port}`, samples: 1, dependsOn: ["cache-instance"] } });
    const cache = report.checks.find((check) => check.name === "cache")!;
    // The real server still requires a password: the redis probe's own diagnosis, not the preflight's.
    expect(cache.failure?.class).toBe("auth");
    expect(cache.failure?.code).not.toBe("AUTH_REQUIRED_NO_PASSWORD");
  });
});

describe("redis host/port vs the instance it depends on", () => {
  it("the instance moved (another port) → drift on the redis check, expected vs actual", async () => {
    world.stack.patchInstance({ port: redis.port + 1 });
    const report = await world.run({
      "cache-instance": INSTANCE,
      cache: { kind: "redis", url: `redis://127.0.0.1:${redis.port}`, password: AUTH_STRING, samples: 1, dependsOn: ["cache-instance"] },
    });
    const cache = report.checks.find((check) => check.name === "cache")!;
    expect(cache.failure?.class).toBe("drift");
    expect(cache.failure?.message).toContain(
      `memorystore.staging-redis-f1adc35c is "127.0.0.1:${redis.port}", expected 127.0.0.1:${redis.port + 1} (instance "cache-instance")`,
    );
  });

  it("a host name cannot be compared with the instance's IP: only the port is", async () => {
    const report = await world.run({
      "cache-instance": INSTANCE,
      cache: { kind: "redis", url: `redis://localhost:${redis.port}`, password: AUTH_STRING, samples: 1, dependsOn: ["cache-instance"] },
    });
    const cache = report.checks.find((check) => check.name === "cache")!;
    expect(cache.status, JSON.stringify(cache.failure)).toBe("pass");
    expect(cache.assertions.find((assertion) => assertion.metric.startsWith("memorystore."))?.expected).toContain("host localhost is a name, not compared");
  });
});

describe("Cloud Run's connector vs the vpc-connector check", () => {
  it("same connector → pass", async () => {
    const report = await world.run({ connector: { kind: "vpc-connector", name: "staging-connector" }, backend: { kind: "cloud-run", service: "backend-staging", dependsOn: ["connector"] } });
    expect(report.checks.map((check) => check.status)).toEqual(["pass", "pass"]);
    expect(report.checks[1].assertions).toContainEqual(expect.objectContaining({ metric: "vpcConnector", ok: true }));
  });

  it("the service uses another connector → drift naming both", async () => {
    world.stack.setServiceConnector("legacy-connector");
    const report = await world.run({ connector: { kind: "vpc-connector", name: "staging-connector" }, backend: { kind: "cloud-run", service: "backend-staging", dependsOn: ["connector"] } });
    const backend = report.checks.find((check) => check.name === "backend")!;
    expect(backend.failure?.class).toBe("drift");
    expect(backend.failure?.message).toBe('vpcConnector is "legacy-connector", expected staging-connector (checked by "connector")');
  });

  it("the service uses no connector at all → drift", async () => {
    world.stack.useDirectVpc("staging-vpc");
    const report = await world.run({ connector: { kind: "vpc-connector", name: "staging-connector" }, backend: { kind: "cloud-run", service: "backend-staging", dependsOn: ["connector"] } });
    expect(report.checks.find((check) => check.name === "backend")?.failure?.message).toBe('vpcConnector is null, expected staging-connector (checked by "connector")');
  });
});

describe("cross-checks as pure functions", () => {
  const memorystore = (metrics: CheckResult["metrics"]): CheckResult => ({
    name: "inst",
    kind: "memorystore",
    target: "instance i",
    status: "pass",
    durationMs: 1,
    budgetMs: 1,
    phasesMs: {},
    metrics: { instance: "projects/p/locations/r/instances/i", ...metrics },
    assertions: [],
    failure: null,
    blockedBy: [],
  });
  const redisSpec = (fields: Record<string, unknown>): CheckSpec => ({ name: "cache", kind: "redis", timeoutMs: 1, dependsOn: ["inst"], expect: {}, warn: {}, ...fields });

  it.each([
    ["no password", { url: "redis://10.0.0.3:6379" }, true],
    ["empty password from an unset ${VAR:-}", { url: "redis://10.0.0.3:6379", password: "" }, true],
    ["password in the URL", { url: "redis://:pw@10.0.0.3:6379" }, false],
    ["literal password", { url: "redis://10.0.0.3:6379", password: "pw" }, false],
    ["secret reference", { url: "redis://10.0.0.3:6379", password: { secret: "projects/p/secrets/s" } }, false],
    ["aimed at another host", { url: "redis://10.0.0.9:6379" }, false],
    ["aimed at the read endpoint", { url: "redis://10.0.0.4:6380" }, true],
  ])("preflight: %s → objection %s", (_name, fields, objects) => {
    const deps = new Map([["inst", memorystore({ host: "10.0.0.3", port: 6379, authEnabled: true, readEndpoint: "10.0.0.4", readEndpointPort: 6380 })]]);
    expect(Boolean(preflight(redisSpec(fields), deps))).toBe(objects);
  });

  it("only redis and cloud-run checks are cross-checked", () => {
    const deps = new Map([["inst", memorystore({ host: "10.0.0.3", port: 6379, authEnabled: true })]]);
    expect(preflight({ ...redisSpec({ url: "redis://10.0.0.3:6379" }), kind: "http" }, deps)).toBeUndefined();
    expect(afterRun({ ...redisSpec({ url: "redis://10.0.0.9:6379" }), kind: "postgres" }, { phasesMs: {}, metrics: {} }, deps)).toEqual([]);
  });
});

describe("a slow redis check on a Memorystore instance: evidence from Cloud Monitoring", () => {
  it("memory usage ratio and connected clients of the instance, with the lag said; the check stays slow", async () => {
    const instance = world.stack.names.instance;
    world.emulator.state.setTimeSeries({ metricType: "redis.googleapis.com/stats/memory/usage_ratio", resourceType: "redis_instance", resourceLabels: { instance_id: instance }, values: [0.9, 0.94] });
    world.emulator.state.setTimeSeries({ metricType: "redis.googleapis.com/clients/connected", resourceLabels: { instance_id: instance }, values: [480, 512], valueType: "INT64" });
    const report = await world.run({
      "cache-instance": INSTANCE,
      cache: { kind: "redis", url: `redis://127.0.0.1:${redis.port}`, password: AUTH_STRING, samples: 2, dependsOn: ["cache-instance"], expect: { pingMaxMs: "< 0ms" } },
    });
    const cache = report.checks.find((check) => check.name === "cache")!;
    expect(cache.failure?.class).toBe("slow");
    expect(cache.details?.evidence).toBe(
      "Memorystore memory 92 % over the last 10 min (max 94 %); clients 496 over the last 10 min (max 512) — Cloud Monitoring metrics lag by up to ~3 minutes",
    );
  });
});
