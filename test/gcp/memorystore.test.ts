// The memorystore kind through the runner, real @google-cloud/redis client
// against the emulator: state and configuration drift (incident 10).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGcpWorld, type GcpWorld } from "./harness.js";

let world: GcpWorld;
beforeAll(async () => {
  world = await startGcpWorld();
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => world.reset());

const PLANNED = { host: "10.166.204.83", port: 6379, tier: "BASIC", memorySizeGb: 1, redisVersion: "REDIS_7_2", authEnabled: true, transitEncryption: "DISABLED" };

describe("memorystore check against the emulator", () => {
  it("READY and as planned → pass, with the issue's metrics", async () => {
    const result = await world.check({ kind: "memorystore", instance: "staging-redis-f1adc35c", expect: PLANNED });
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    expect(result.metrics).toMatchObject({ ...PLANNED, state: "READY", converged: true });
    // The seven planned keys, and the instance's state judged by the kind's default expectation (state == READY).
    expect(result.assertions).toHaveLength(8);
    expect(result.assertions[0]).toMatchObject({ metric: "state", ok: true });
  });

  it("drift: every mismatching key listed as expected vs actual", async () => {
    world.stack.patchInstance({ host: "10.166.204.91", tier: "STANDARD_HA", memorySizeGb: 5, redisVersion: "REDIS_6_X", transitEncryptionMode: "SERVER_AUTHENTICATION" });
    const result = await world.check({ kind: "memorystore", instance: "staging-redis-f1adc35c", expect: PLANNED });
    expect(result.failure?.class).toBe("drift");
    expect(result.failure?.message).toBe(
      'host is "10.166.204.91", expected 10.166.204.83; tier is "STANDARD_HA", expected BASIC; memorySizeGb is 5, expected 1; redisVersion is "REDIS_6_X", expected REDIS_7_2; transitEncryption is "SERVER_AUTHENTICATION", expected DISABLED',
    );
    expect(result.assertions.filter((assertion) => !assertion.ok).map((assertion) => assertion.metric)).toEqual([
      "host",
      "tier",
      "memorySizeGb",
      "redisVersion",
      "transitEncryption",
    ]);
    // The region comes from the gcp: block (the check names none): the hint is a command to paste, not a placeholder.
    expect(result.failure?.hint).toContain("gcloud redis instances describe staging-redis-f1adc35c --region us-central1");
  });

  it("AUTH turned off → drift on authEnabled", async () => {
    world.stack.patchInstance({ authEnabled: false });
    const result = await world.check({ kind: "memorystore", instance: "staging-redis-f1adc35c", expect: { authEnabled: true } });
    expect(result.failure).toMatchObject({ class: "drift", message: "authEnabled is false, expected true" });
  });

  it.each([
    ["MAINTENANCE", "in maintenance"],
    ["UPDATING", "being updated"],
    ["FAILING_OVER", "failing over"],
  ] as const)("state %s → unhealthy (the drift expectations are still evaluated)", async (state, says) => {
    world.stack.patchInstance({ state, statusMessage: "Scheduled maintenance in progress" });
    const result = await world.check({ kind: "memorystore", instance: "staging-redis-f1adc35c", expect: { tier: "BASIC" } });
    expect(result.failure).toMatchObject({ class: "unhealthy", code: state });
    expect(result.failure?.message).toContain(says);
    expect(result.failure?.message).toContain("Scheduled maintenance in progress");
    expect(result.assertions).toMatchObject([{ metric: "state", ok: false }, { metric: "tier", ok: true }]);
    // An operation in progress: with --wait, "never converged" if it outlasts the wait.
    expect(result.metrics.converged).toBe(false);
  });

  it("NOT_FOUND → not-found naming the instance", async () => {
    const result = await world.check({ kind: "memorystore", instance: "staging-redis-gone" });
    expect(result.failure).toMatchObject({ class: "not-found", phase: "getInstance" });
    expect(result.failure?.hint).toContain('No Memorystore instance "staging-redis-gone" in project acme-staging, region us-central1');
  });

  it("PERMISSION_DENIED → permission with roles/redis.viewer", async () => {
    world.emulator.state.fail("GetInstance", { code: "PERMISSION_DENIED" });
    const result = await world.check({ kind: "memorystore", instance: "staging-redis-f1adc35c" });
    expect(result.failure?.class).toBe("permission");
    expect(result.failure?.hint).toContain("roles/redis.viewer");
  });

  it("a string port from ${ENV} compares with the API's number", async () => {
    const result = await world.check({ kind: "memorystore", instance: "staging-redis-f1adc35c", expect: { port: "6379" } });
    expect(result.status).toBe("pass");
  });
});
