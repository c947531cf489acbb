// Secret references resolved from Secret Manager and from a Memorystore
// instance's AUTH string (real clients against the emulator), used as the
// password of a real redis-server — and what a missing or forbidden secret
// reports. The resolved value never appears in any output.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGcpWorld, AUTH_STRING, PROJECT, type GcpWorld } from "./harness.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";

const SECRET = `projects/${PROJECT}/secrets/redis-password-staging`;
const PASSWORD = "s3cr3t-from-secret-manager";

let world: GcpWorld;
let redis: RedisServer;
let memorystoreRedis: RedisServer;
beforeAll(async () => {
  [world, redis, memorystoreRedis] = await Promise.all([startGcpWorld(), startRedisServer({ password: PASSWORD }), startRedisServer({ password: AUTH_STRING })]);
});
afterAll(async () => {
  await Promise.all([world?.stop(), redis?.stop(), memorystoreRedis?.stop()]);
});
beforeEach(() => world.reset());

const redisCheck = (server: RedisServer, password: unknown) => ({ kind: "redis", url: server.url, password, samples: 2, timeout: "3s" });

describe("secret references", () => {
  it("{ secret: projects/P/secrets/S } → latest version, used as the Redis password, masked everywhere", async () => {
    const result = await world.check(redisCheck(redis, { secret: SECRET }));
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    expect(Object.keys(result.phasesMs)[0]).toBe("secret");
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
    expect(world.emulator.calls.filter((call) => call.method === "AccessSecretVersion").map((call) => call.name)).toEqual([`${SECRET}/versions/latest`]);
  });

  it("a bare secret name uses gcp.project; a pinned version is read as is", async () => {
    const newer = `${PASSWORD}-rotated`;
    world.emulator.state.addSecretVersion(SECRET, newer);
    // latest is now the rotated value, which this server does not know; version 1 is the one it runs with.
    const latest = await world.check(redisCheck(redis, { secret: "redis-password-staging" }));
    expect(latest.failure?.class).toBe("auth");
    expect(JSON.stringify(latest)).not.toContain(newer);
    const pinned = await world.check(redisCheck(redis, { secret: `${SECRET}/versions/1` }));
    expect(pinned.status, JSON.stringify(pinned.failure)).toBe("pass");
  });

  it("{ memorystoreAuth: INSTANCE } → the instance's AUTH string (GetInstanceAuthString)", async () => {
    world.stack.patchInstance({ host: "127.0.0.1", port: memorystoreRedis.port });
    const result = await world.check(redisCheck(memorystoreRedis, { memorystoreAuth: "staging-redis-f1adc35c" }));
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    expect(JSON.stringify(result)).not.toContain(AUTH_STRING);
    expect(world.emulator.calls.at(-1)?.method).not.toBe("AccessSecretVersion");
    expect(world.emulator.calls.some((call) => call.method === "GetInstanceAuthString")).toBe(true);
  });

  it("NOT_FOUND → not-found naming the secret, before Redis is contacted", async () => {
    const result = await world.check(redisCheck(redis, { secret: `projects/${PROJECT}/secrets/no-such-secret` }));
    expect(result.failure).toMatchObject({ class: "not-found", phase: "secret" });
    expect(result.failure?.message).toContain(`Secret Manager AccessSecretVersion projects/${PROJECT}/secrets/no-such-secret/versions/latest: not found`);
    expect(result.failure?.hint).toContain("gcloud secrets versions list no-such-secret");
    expect(result.phasesMs).toEqual({});
  });

  it("PERMISSION_DENIED → permission naming roles/secretmanager.secretAccessor and the binding command", async () => {
    world.emulator.state.fail(`${SECRET}/versions/latest`, { code: "PERMISSION_DENIED" });
    const result = await world.check(redisCheck(redis, { secret: SECRET }));
    expect(result.failure).toMatchObject({ class: "permission", phase: "secret" });
    expect(result.failure?.message).toContain("needs secretmanager.versions.access");
    expect(result.failure?.hint).toContain(`gcloud secrets add-iam-policy-binding redis-password-staging --project ${PROJECT} --member=IDENTITY --role=roles/secretmanager.secretAccessor`);
  });

  it("a disabled secret version → unhealthy (FAILED_PRECONDITION)", async () => {
    world.emulator.state.setSecretVersionEnabled(`${SECRET}/versions/1`, false);
    const result = await world.check(redisCheck(redis, { secret: `${SECRET}/versions/1` }));
    expect(result.failure).toMatchObject({ class: "unhealthy", code: "FAILED_PRECONDITION" });
    expect(result.failure?.message).toContain("DISABLED");
  });

  it("latest is the newest version whatever its state: a disabled newest version fails (no fallback), and the hint says pin or re-enable", async () => {
    const newest = world.emulator.state.addSecretVersion(SECRET, `${PASSWORD}-rotated`);
    world.emulator.state.setSecretVersionEnabled(newest, false);
    const result = await world.check(redisCheck(redis, { secret: SECRET }));
    expect(result.failure).toMatchObject({ class: "unhealthy", code: "FAILED_PRECONDITION", phase: "secret" });
    expect(result.failure?.message).toMatch(/Secret Version \[projects\/\d{12}\/secrets\/redis-password-staging\/versions\/2\] is in DISABLED state/);
    expect(result.failure?.hint).toContain('"latest" is the newest version whatever its state');
    expect(result.failure?.hint).toContain("pin an enabled version (…/versions/K");
    expect(result.failure?.hint).toContain("gcloud secrets versions enable VERSION --secret redis-password-staging --project acme-staging");
    // The pinned, enabled version 1 still works.
    expect((await world.check(redisCheck(redis, { secret: `${SECRET}/versions/1` }))).status).toBe("pass");
  });

  it("a destroyed version → FAILED_PRECONDITION naming DESTROYED", async () => {
    world.emulator.state.setSecretVersionState(`${SECRET}/versions/1`, "DESTROYED");
    const result = await world.check(redisCheck(redis, { secret: `${SECRET}/versions/1` }));
    expect(result.failure).toMatchObject({ class: "unhealthy", code: "FAILED_PRECONDITION" });
    expect(result.failure?.message).toContain("is in DESTROYED state");
    expect(result.failure?.hint).toContain("gcloud secrets versions enable 1 --secret redis-password-staging");
  });

  it("a regional secret (projects/P/locations/L/secrets/S) resolves, and its hints name --location", async () => {
    const regional = `projects/${PROJECT}/locations/us-east1/secrets/redis-password-staging`;
    world.emulator.state.addSecretVersion(regional, PASSWORD);
    const result = await world.check(redisCheck(redis, { secret: regional }));
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    expect(world.emulator.calls.filter((call) => call.method === "AccessSecretVersion").at(-1)?.name).toBe(`${regional}/versions/latest`);
    world.emulator.state.fail("AccessSecretVersion", { code: "PERMISSION_DENIED" });
    const denied = await world.check(redisCheck(redis, { secret: regional }));
    expect(denied.failure?.hint).toContain("gcloud secrets add-iam-policy-binding redis-password-staging --project acme-staging --location us-east1");
  });

  it("Memorystore AUTH string forbidden → permission naming redis.instances.getAuthString", async () => {
    world.emulator.state.fail("GetInstanceAuthString", { code: "PERMISSION_DENIED" });
    const result = await world.check(redisCheck(memorystoreRedis, { memorystoreAuth: "staging-redis-f1adc35c" }));
    expect(result.failure?.class).toBe("permission");
    expect(result.failure?.hint).toContain("redis.instances.getAuthString");
    // roles/redis.editor does not hold the permission (issue 17): admin or a custom role does.
    expect(result.failure?.hint).toContain("only roles/redis.admin");
    expect(result.failure?.hint).toContain("gcloud iam roles create redisAuthStringReader --project acme-staging --permissions=redis.instances.getAuthString");
  });

  it("Memorystore instance with AUTH disabled → config failure (there is no AUTH string)", async () => {
    world.stack.patchInstance({ authEnabled: false });
    const result = await world.check(redisCheck(memorystoreRedis, { memorystoreAuth: "staging-redis-f1adc35c" }));
    expect(result.failure?.class).toBe("config");
    expect(result.failure?.message).toContain("has AUTH disabled");
  });

  it("Memorystore instance that does not exist → not-found naming it", async () => {
    const result = await world.check(redisCheck(memorystoreRedis, { memorystoreAuth: "no-such-instance" }));
    expect(result.failure?.class).toBe("not-found");
    expect(result.failure?.message).toContain("Memorystore for Redis GetInstanceAuthString projects/acme-staging/locations/us-central1/instances/no-such-instance");
  });
});
