// The cloud-run kind through the runner, with the real @google-cloud/run
// client against the local emulator: every verification and class of issue 6.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGcpWorld, IMAGE, OLD_IMAGE, PROJECT, REGION, SHA, type GcpWorld } from "./harness.js";
import { imageMatches } from "../../src/probes/cloud-run/judge.js";
import { buildConfig } from "../../src/config/load.js";
import type { FailureClass } from "../../src/diagnose/vocabulary.js";

let world: GcpWorld;
beforeAll(async () => {
  world = await startGcpWorld();
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => world.reset());

const SERVICE = "backend-staging";
const FULL_EXPECT = {
  image: `*:${SHA}`,
  vpcConnector: "staging-connector",
  vpcEgress: "PRIVATE_RANGES_ONLY",
  env: ["REDIS_PASSWORD", "DATABASE_URL"],
};

interface Case {
  name: string;
  change?: (world: GcpWorld) => void;
  expect?: Record<string, unknown>;
  status: "pass" | "fail";
  class?: FailureClass;
  /** Phrases the failure message contains. */
  says?: string[];
  code?: string;
}

const CASES: Case[] = [
  { name: "ready, converged, latest revision serving, everything as expected", expect: FULL_EXPECT, status: "pass" },
  {
    name: "not ready: the service's Ready condition failed",
    change: (w) => w.stack.setServiceNotReady("Ingress could not be programmed: quota exceeded for forwarding rules."),
    status: "fail",
    class: "unhealthy",
    code: "NOT_READY",
    says: ["not Ready", "CONDITION_FAILED", "quota exceeded for forwarding rules"],
  },
  {
    name: "reconciling: a rollout is in progress (generation not observed yet)",
    change: (w) => w.stack.startRollout(),
    status: "fail",
    class: "unhealthy",
    code: "NOT_CONVERGED",
    says: ["has not converged", "generation 43, observed 42", "CONDITION_RECONCILING"],
  },
  {
    name: "newest revision failed: latest created ≠ latest ready, its condition message shown",
    change: (w) => void w.stack.failLatestRevision("Container called exit(1)."),
    status: "fail",
    class: "unhealthy",
    code: "REVISION_FAILED",
    says: ["newest revision backend-staging-00043-bad failed", "Container called exit(1).", "traffic stays on backend-staging-00042-xoz"],
  },
  {
    name: "old revision serving: 100 % of the traffic on the previous revision",
    change: (w) => w.stack.serveOldRevision(),
    expect: { image: `*:${SHA}` },
    status: "fail",
    class: "unhealthy",
    says: ['traffic is "backend-staging-00041-kiv 100%", expected 100% on backend-staging-00042-xoz (latest ready revision)', `image is "${OLD_IMAGE}"`],
  },
  {
    name: "traffic split 90/10",
    change: (w) => w.stack.splitTraffic(90),
    status: "fail",
    class: "unhealthy",
    says: ["backend-staging-00042-xoz 90%, backend-staging-00041-kiv 10%"],
  },
  {
    name: "expected revision gets 100 % (expect.revision)",
    change: (w) => w.stack.serveOldRevision(),
    expect: { revision: "backend-staging-00041-kiv" },
    status: "pass",
  },
  {
    name: "expected revision does not get the traffic",
    expect: { revision: "backend-staging-00041-kiv" },
    status: "fail",
    class: "unhealthy",
    says: ["expected 100% on backend-staging-00041-kiv (expected revision)"],
  },
  {
    name: "image mismatch (glob)",
    change: (w) => w.stack.setServiceImage(OLD_IMAGE),
    expect: { image: `*:${SHA}` },
    status: "fail",
    class: "drift",
    says: [`image is "${OLD_IMAGE}", expected matches "*:${SHA}"`],
  },
  {
    name: "image by digest",
    change: (w) => w.stack.setServiceImage(`us-docker.pkg.dev/${PROJECT}/app/backend@sha256:${"ab".repeat(32)}`),
    expect: { image: `sha256:${"ab".repeat(32)}` },
    status: "pass",
  },
  { name: "commit label matches", expect: { commitLabel: { key: "commit-sha", value: SHA } }, status: "pass" },
  {
    name: "commit label differs",
    expect: { commitLabel: { key: "commit-sha", value: "0000000" } },
    status: "fail",
    class: "drift",
    says: ['labels.commit-sha is "3f9c2ab", expected 0000000'],
  },
  {
    name: "connector missing",
    change: (w) => w.stack.setServiceConnector(null),
    expect: { vpcConnector: "staging-connector" },
    status: "fail",
    class: "drift",
    says: ["vpcConnector is null, expected staging-connector"],
  },
  {
    name: "connector wrong",
    change: (w) => w.stack.setServiceConnector("legacy-connector"),
    expect: { vpcConnector: "staging-connector" },
    status: "fail",
    class: "drift",
    says: ['vpcConnector is "legacy-connector", expected staging-connector'],
  },
  {
    name: "connector in another project (Shared VPC host) compared by full name",
    change: (w) => w.stack.setServiceConnector("projects/acme-host/locations/us-central1/connectors/shared"),
    expect: { vpcConnector: "projects/acme-host/locations/us-central1/connectors/shared" },
    status: "pass",
  },
  {
    name: "egress wrong",
    change: (w) => w.stack.setServiceEgress("ALL_TRAFFIC"),
    expect: { vpcEgress: "PRIVATE_RANGES_ONLY" },
    status: "fail",
    class: "drift",
    says: ['vpcEgress is "ALL_TRAFFIC", expected PRIVATE_RANGES_ONLY'],
  },
  {
    name: "Direct VPC egress on the expected network",
    change: (w) => w.stack.useDirectVpc("projects/acme-staging/global/networks/staging-vpc", "staging-subnet"),
    expect: { directVpc: { network: "staging-vpc" }, vpcEgress: "PRIVATE_RANGES_ONLY" },
    status: "pass",
  },
  {
    name: "Direct VPC expected but the service uses a connector",
    expect: { directVpc: { network: "staging-vpc" } },
    status: "fail",
    class: "drift",
    says: ["no Direct VPC interface (connector staging-connector)"],
  },
  {
    name: "required env var missing, another set but empty (values never shown)",
    expect: { env: ["REDIS_PASSWORD", "SENTRY_DSN", "EMPTY_ONE"] },
    status: "fail",
    class: "drift",
    says: ['env.SENTRY_DSN is "missing", expected set', 'env.EMPTY_ONE is "set but empty"'],
  },
];

describe("cloud-run check against the emulator", () => {
  it.each(CASES)("$name", async (row) => {
    row.change?.(world);
    const result = await world.check({ kind: "cloud-run", service: SERVICE, ...(row.expect ? { expect: row.expect } : {}) });
    expect(result.status, JSON.stringify(result.failure)).toBe(row.status);
    if (row.status === "pass") {
      expect(result.failure).toBeNull();
      return;
    }
    expect(result.failure?.class).toBe(row.class);
    if (row.code) expect(result.failure?.code).toBe(row.code);
    for (const phrase of row.says ?? []) expect(result.failure?.message).toContain(phrase);
    expect(result.failure?.hint).toBeTruthy();
  });

  it("measures what the issue lists: latestReadyRevision, servingRevisions, image, uri (and never an env value)", async () => {
    const result = await world.check({ kind: "cloud-run", service: SERVICE, expect: FULL_EXPECT });
    expect(result.metrics).toMatchObject({
      latestReadyRevision: "backend-staging-00042-xoz",
      servingRevisions: [{ revision: "backend-staging-00042-xoz", percent: 100 }],
      image: IMAGE,
      uri: "https://backend-staging-4k2x7vq3pa-uc.a.run.app",
      vpcConnector: "staging-connector",
      vpcEgress: "PRIVATE_RANGES_ONLY",
      ready: true,
      converged: true,
    });
    // An image expectation also reads the digest that runs (v1, within getRevisions) and what the tag points to now (Artifact Registry).
    expect(Object.keys(result.phasesMs)).toEqual(["client", "connect", "getService", "getRevisions", "getTags"]);
    expect(result.metrics.imageDigest).toBe(world.emulator.state.tagDigest(IMAGE));
    expect(result.metrics.tagDigests).toEqual({ [SHA]: world.emulator.state.tagDigest(IMAGE) });
    // The DATABASE_URL literal is in the fixture; the report says only how it is set.
    expect(JSON.stringify(result)).not.toContain("postgres://app@10.20.0.5");
    expect(result.metrics.env).toMatchObject({ DATABASE_URL: "literal" });
  });

  it("reads only what it needs: the service and its serving revision (plus the newest one and its error lines when it failed)", async () => {
    world.emulator.calls.length = 0;
    await world.check({ kind: "cloud-run", service: SERVICE });
    expect(world.emulator.calls.map((call) => call.method)).toEqual(["GetService", "GetRevision"]);
    expect(world.emulator.calls.every((call) => !call.authorized)).toBe(true); // emulator mode sends no credentials
    world.stack.failLatestRevision();
    world.emulator.calls.length = 0;
    await world.check({ kind: "cloud-run", service: SERVICE });
    expect(world.emulator.calls.map((call) => call.method)).toEqual(["GetService", "GetRevision", "GetRevision", "ListLogEntries"]);
  });

  it.each([
    ["unhealthy (old revision serving)", (w: GcpWorld) => w.stack.serveOldRevision(), "unhealthy", ["gcloud run services describe backend-staging --region us-central1", "update-traffic backend-staging --to-latest --region us-central1"]],
    ["drift (image)", (w: GcpWorld) => w.stack.setServiceImage(OLD_IMAGE), "drift", ["gcloud run deploy backend-staging --region us-central1"]],
  ] as const)("the %s hint names the region from gcp: (the check names none), not a placeholder", async (_name, change, failureClass, commands) => {
    change(world);
    const result = await world.check({ kind: "cloud-run", service: SERVICE, expect: { image: `*:${SHA}` } });
    expect(result.failure?.class).toBe(failureClass);
    for (const command of commands) expect(result.failure?.hint).toContain(command);
    expect(result.failure?.hint).not.toContain("REGION");
    expect(result.metrics.service).toBe(`projects/${PROJECT}/locations/${REGION}/services/${SERVICE}`);
  });

  it("NOT_FOUND: the service does not exist → not-found naming it, project and region", async () => {
    const result = await world.check({ kind: "cloud-run", service: "no-such-service" });
    expect(result.failure).toMatchObject({ class: "not-found", code: "NOT_FOUND", phase: "getService" });
    expect(result.failure?.message).toContain(`Cloud Run GetService projects/${PROJECT}/locations/${REGION}/services/no-such-service: not found`);
    expect(result.failure?.hint).toContain(`gcloud run services list --project ${PROJECT} --region ${REGION}`);
  });

  it("PERMISSION_DENIED with ErrorInfo → permission naming the permission and the role", async () => {
    world.emulator.state.fail("GetService", { code: "PERMISSION_DENIED" });
    const result = await world.check({ kind: "cloud-run", service: SERVICE });
    expect(result.failure).toMatchObject({ class: "permission", code: "PERMISSION_DENIED" });
    expect(result.failure?.message).toContain("needs run.services.get");
    expect(result.failure?.message).toContain("[IAM_PERMISSION_DENIED]");
    expect(result.failure?.hint).toContain("roles/run.viewer");
  });

  it("PERMISSION_DENIED for a disabled API (ErrorInfo SERVICE_DISABLED) → how to enable it", async () => {
    world.emulator.state.fail("GetService", {
      code: "PERMISSION_DENIED",
      message: "Cloud Run Admin API has not been used in project 123 before or it is disabled.",
      reason: "SERVICE_DISABLED",
      domain: "googleapis.com",
      metadata: { service: "run.googleapis.com", consumer: "projects/123" },
    });
    const result = await world.check({ kind: "cloud-run", service: SERVICE });
    expect(result.failure).toMatchObject({ class: "permission", code: "SERVICE_DISABLED" });
    expect(result.failure?.hint).toContain("gcloud services enable run.googleapis.com --project 123");
  });

  it("UNAUTHENTICATED → auth", async () => {
    world.emulator.state.fail("*", { code: "UNAUTHENTICATED" });
    const result = await world.check({ kind: "cloud-run", service: SERVICE });
    expect(result.failure).toMatchObject({ class: "auth", code: "UNAUTHENTICATED" });
    expect(result.failure?.message).toContain("rejected the credentials");
  });

  it("a transient UNAVAILABLE is retried once; a second one fails as server-error", async () => {
    world.emulator.state.fail("GetService", { code: "UNAVAILABLE", times: 1 });
    expect((await world.check({ kind: "cloud-run", service: SERVICE })).status).toBe("pass");
    world.emulator.calls.length = 0;
    world.emulator.state.fail("GetService", { code: "UNAVAILABLE", times: 3 });
    const result = await world.check({ kind: "cloud-run", service: SERVICE });
    expect(result.failure).toMatchObject({ class: "server-error", code: "UNAVAILABLE" });
    expect(result.failure?.message).toContain("also after one retry");
    expect(world.emulator.calls.filter((call) => call.method === "GetService")).toHaveLength(2);
  });

  it("names the service with gcp.project/region, per-check overrides, or a full resource name", async () => {
    const full = `projects/${PROJECT}/locations/${REGION}/services/${SERVICE}`;
    expect((await world.check({ kind: "cloud-run", service: full })).status).toBe("pass");
    const overridden = await world.check({ kind: "cloud-run", service: SERVICE, project: "other-project" });
    expect(overridden.failure?.message).toContain("projects/other-project/locations/us-central1/services/backend-staging");
    const noProject = await world.check({ kind: "cloud-run", service: SERVICE }, { deps: { gcp: { emulatorHost: world.gcp.emulatorHost } } });
    expect(noProject.failure).toMatchObject({ class: "config" });
    expect(noProject.failure?.message).toContain('no Google Cloud project or region for Cloud Run service "backend-staging"');
  });
});

describe("cloud-run config", () => {
  const build = (check: Record<string, unknown>) => buildConfig({ checks: { backend: { kind: "cloud-run", service: SERVICE, ...check } } }, { dir: process.cwd(), defaultEnv: "test", env: {} });

  it("accepts the issue's YAML: structured requirements under expect, next to metric expectations", async () => {
    const loaded = await build({ expect: { ...FULL_EXPECT, commitLabel: { key: "commit-sha", value: 1234567 }, latestReadyRevision: "~ ^backend-" } });
    const spec = loaded.checks[0];
    expect(spec.require).toEqual({ image: `*:${SHA}`, vpcConnector: "staging-connector", env: ["REDIS_PASSWORD", "DATABASE_URL"], commitLabel: { key: "commit-sha", value: "1234567" } });
    expect(Object.keys(spec.expect).sort()).toEqual(["latestReadyRevision", "vpcEgress"]);
  });

  it.each([
    [{ expect: { env: "REDIS_PASSWORD" } }, "checks.backend.expect.env"],
    [{ expect: { env: ["not a name"] } }, "checks.backend.expect.env.0"],
    [{ expect: { commitLabel: { key: "sha", value: "x", extra: 1 } } }, "checks.backend.expect.commitLabel"],
    [{ expect: { vpcConnector: "a", directVpc: { network: "n" } } }, "checks.backend.expect.directVpc"],
    [{ expect: { imageTag: "x" } }, "checks.backend.expect.imageTag"],
    [{ services: "x" }, "checks.backend"],
  ])("rejects %j at %s", async (check, keyPath) => {
    await expect(build(check)).rejects.toThrow(keyPath);
  });
});

describe("imageMatches", () => {
  it.each([
    ["us-docker.pkg.dev/p/r/app:3f9c2ab", "*:3f9c2ab", true],
    ["us-docker.pkg.dev/p/r/app:3f9c2ab-dirty", "*:3f9c2ab", false],
    ["us-docker.pkg.dev/p/r/app:3f9c2ab", "us-docker.pkg.dev/p/r/app:*", true],
    ["us-docker.pkg.dev/p/r/other:3f9c2ab", "us-docker.pkg.dev/p/r/app:*", false],
    ["gcr.io/p/app:v1.2", "gcr.io/p/app:v1.?", true],
    [`gcr.io/p/app@sha256:${"0f".repeat(32)}`, `sha256:${"0f".repeat(32)}`, true],
    [`gcr.io/p/app@sha256:${"0f".repeat(32)}`, `@sha256:${"1f".repeat(32)}`, false],
    ["gcr.io/p/app:3f9c2ab", `sha256:${"0f".repeat(32)}`, false],
  ])("%s vs %s → %s", (image, expected, ok) => {
    expect(imageMatches(image, expected)).toBe(ok);
  });
});
