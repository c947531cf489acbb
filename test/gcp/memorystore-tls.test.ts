// Issue 17.4: Memorystore with transit encryption (SERVER_AUTHENTICATION)
// accepts TLS clients only, on port 6378, with the instance's own CA. A
// plaintext redis check aimed at it is a config failure before connecting;
// `tls: { ca: { memorystoreCa: INSTANCE } }` trusts the CA the API reports
// (a real TLS redis-server whose CA the emulated instance carries).
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGcpWorld, AUTH_STRING, PROJECT, REGION, type GcpWorld } from "./harness.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";

let world: GcpWorld;
let redis: RedisServer;
let caPem: string;
beforeAll(async () => {
  [world, redis] = await Promise.all([startGcpWorld(), startRedisServer({ password: AUTH_STRING, tls: true })]);
  caPem = await readFile(redis.caCert!, "utf8");
});
afterAll(async () => {
  await Promise.all([world?.stop(), redis?.stop()]);
});

const INSTANCE = "staging-redis-f1adc35c";
const expiresInDays = (days: number) => new Date(Date.now() + days * 86_400_000 + 3_600_000).toISOString();
beforeEach(() => {
  world.reset();
  world.emulator.calls.length = 0;
  world.stack.patchInstance({
    host: "127.0.0.1",
    port: redis.port,
    transitEncryptionMode: "SERVER_AUTHENTICATION",
    serverCaCerts: [{ serialNumber: "1", cert: caPem, createTime: "2025-01-01T00:00:00Z", expireTime: expiresInDays(3650), sha1Fingerprint: "ab" }],
  });
});

const instanceCheck = { kind: "memorystore", instance: INSTANCE };

describe("Memorystore transit encryption", () => {
  it("a plaintext redis:// check aimed at a TLS-only instance → config before connecting: rediss, port, the instance's CA", async () => {
    const report = await world.run({
      "cache-instance": instanceCheck,
      cache: { kind: "redis", url: "redis://127.0.0.1:6379", password: AUTH_STRING, dependsOn: ["cache-instance"] },
    });
    const cache = report.checks.find((check) => check.name === "cache")!;
    expect(cache.failure).toMatchObject({ class: "config", code: "TLS_REQUIRED", phase: "preflight" });
    expect(cache.failure?.message).toContain(`has transit encryption (SERVER_AUTHENTICATION): it accepts TLS clients only, on port ${redis.port}`);
    expect(cache.failure?.hint).toContain(`url: rediss://127.0.0.1:${redis.port}`);
    expect(cache.failure?.hint).toContain(`tls: { ca: { memorystoreCa: ${INSTANCE} } }`);
    expect(cache.phasesMs).toEqual({});
  });

  it("tls: { ca: { memorystoreCa } } trusts the CA the API reports: a real TLS redis-server passes", async () => {
    const report = await world.run({
      "cache-instance": instanceCheck,
      cache: { kind: "redis", url: redis.url, password: AUTH_STRING, tls: { ca: { memorystoreCa: INSTANCE } }, samples: 2, dependsOn: ["cache-instance"] },
    });
    const [instance, cache] = report.checks;
    expect(cache.status, JSON.stringify(cache.failure)).toBe("pass");
    expect(instance.metrics).toMatchObject({ transitEncryption: "SERVER_AUTHENTICATION", caExpiresInDays: 3650, serverCaCount: 1 });
    expect(world.emulator.calls.filter((call) => call.method === "GetInstance").map((call) => call.name)).toEqual([
      `projects/${PROJECT}/locations/${REGION}/instances/${INSTANCE}`,
      `projects/${PROJECT}/locations/${REGION}/instances/${INSTANCE}`,
    ]);
    expect(JSON.stringify(report)).not.toContain("BEGIN CERTIFICATE");
  });

  it("another CA than the server's → tls failure (the CA really is the one checked)", async () => {
    const other = await startRedisServer({ tls: true });
    try {
      world.stack.patchInstance({ serverCaCerts: [{ serialNumber: "2", cert: await readFile(other.caCert!, "utf8"), expireTime: expiresInDays(30) }] });
      const result = await world.check({ kind: "redis", url: redis.url, password: AUTH_STRING, tls: { ca: { memorystoreCa: INSTANCE } }, samples: 1 });
      expect(result.failure?.class).toBe("tls");
    } finally {
      await other.stop();
    }
  });

  it("caExpiresInDays: the soonest CA of a rotation, expectable", async () => {
    world.stack.patchInstance({
      serverCaCerts: [
        { serialNumber: "1", cert: caPem, expireTime: expiresInDays(12) },
        { serialNumber: "2", cert: caPem, expireTime: expiresInDays(400) },
      ],
    });
    const result = await world.check({ ...instanceCheck, expect: { caExpiresInDays: ">= 30" } });
    expect(result.metrics).toMatchObject({ caExpiresInDays: 12, serverCaCount: 2 });
    expect(result.failure?.message).toContain("caExpiresInDays is 12");
  });

  it("an instance without transit encryption has no CA to trust → config", async () => {
    world.stack.patchInstance({ transitEncryptionMode: "DISABLED", serverCaCerts: [] });
    const result = await world.check({ kind: "redis", url: redis.url, password: AUTH_STRING, tls: { ca: { memorystoreCa: INSTANCE } }, samples: 1 });
    expect(result.failure).toMatchObject({ class: "config", phase: "secret" });
    expect(result.failure?.message).toContain("has no server CA (transit encryption DISABLED)");
  });
});
