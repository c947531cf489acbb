// Issue 17: Google Cloud checks that hold on a real project — the verdicts a
// review against the APIs' protos found wrong, each against an emulator that
// behaves as the real API does, through the real client libraries.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGcpWorld, IMAGE, PROJECT, REGION, SHA, type GcpWorld } from "./harness.js";
import { runCli } from "../helpers/cli.js";
import { REVISION_LOGS, redactLogLine, type FailedRevisionLogReader, type FailedRevisionLogRequest } from "../../src/probes/cloud-run/logs.js";

let world: GcpWorld;
beforeAll(async () => {
  world = await startGcpWorld();
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  world.reset();
  world.emulator.calls.length = 0;
});

const SERVICE = "backend-staging";
const REPOSITORY = IMAGE.replace(/:[^:]+$/, "");
const check = (expect: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => world.check({ kind: "cloud-run", service: SERVICE, expect, ...extra });

describe("1. the digest that serves (incident 8 for real)", () => {
  it("a tag pushed again without a new revision: `*:SHA` no longer passes; drift names both digests", async () => {
    const servingDigest = world.emulator.state.tagDigest(IMAGE)!;
    const newDigest = world.stack.repushImageTag();
    expect(newDigest).not.toBe(servingDigest);
    const result = await check({ image: `*:${SHA}` });
    expect(result.status).toBe("fail");
    expect(result.failure).toMatchObject({ class: "drift", code: "TAG_MOVED" });
    expect(result.failure?.message).toContain(`tag \`:${SHA}\` now points to ${newDigest.slice(0, 19)}… but the serving revision backend-staging-00042-xoz runs ${servingDigest.slice(0, 19)}…`);
    expect(result.failure?.message).toContain("the deploy reused the tag without a new revision");
    expect(result.failure?.hint).toContain("gcloud run deploy backend-staging");
    expect(result.metrics).toMatchObject({ image: IMAGE, imageDigest: servingDigest, tagDigests: { [SHA]: newDigest } });
    // What was asked: the service, its revision (v2), the same revision's digest (v1 REST), the tag.
    expect(world.emulator.calls.map((call) => call.method)).toEqual(["GetService", "GetRevision", "v1.GetRevision", "GetTag"]);
  });

  it("image@sha256 expectations are compared with the digest the revision runs, deployed by tag", async () => {
    const digest = world.emulator.state.tagDigest(IMAGE)!;
    expect((await check({ image: `${REPOSITORY}@${digest}` })).status).toBe("pass");
    expect((await check({ image: digest })).status).toBe("pass");
    expect((await check({ image: `*/backend@${digest}` })).status).toBe("pass");
    const other = `sha256:${"ab".repeat(32)}`;
    const wrong = await check({ image: `${REPOSITORY}@${other}` });
    expect(wrong.failure).toMatchObject({ class: "drift" });
    expect(wrong.failure?.message).toContain(`image is "${REPOSITORY}@${digest}", expected matches "${REPOSITORY}@${other}"`);
    // An expectation by digest does not ask the registry: the digest is the whole answer.
    world.emulator.calls.length = 0;
    await check({ image: digest });
    expect(world.emulator.calls.map((call) => call.method)).not.toContain("GetTag");
  });

  it("expect.imageDigest reads the metric (and only then is the v1 API asked)", async () => {
    const digest = world.emulator.state.tagDigest(IMAGE)!;
    expect((await check({ imageDigest: digest })).status).toBe("pass");
    world.emulator.calls.length = 0;
    const plain = await check();
    expect(plain.metrics.imageDigest).toBeUndefined();
    expect(world.emulator.calls.map((call) => call.method)).toEqual(["GetService", "GetRevision"]);
  });

  describe("expect.commit / --expect-commit", () => {
    it("by image tag (a full SHA matches its short tag)", async () => {
      expect((await check({ commit: SHA })).status).toBe("pass");
      expect((await check({ commit: `${SHA}${"0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6".slice(0, 33)}` })).status).toBe("pass");
    });

    it("by revision label, when the image carries another tag", async () => {
      world.emulator.state.pushImage(`${REPOSITORY}:release-7`);
      world.stack.setServiceImage(`${REPOSITORY}:release-7`);
      const result = await check({ commit: SHA });
      expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    });

    it("by the digest of the commit's tag, when neither tag nor label names it", async () => {
      const digest = world.emulator.state.pushImage(`${REPOSITORY}:release-8`);
      world.stack.setServiceImage(`${REPOSITORY}:release-8`);
      world.emulator.state.pushImage(`${REPOSITORY}:9e8d7c6`, digest);
      const result = await check({ commit: "9e8d7c6" });
      expect(result.status, JSON.stringify(result.failure)).toBe("pass");
      expect(result.metrics.tagDigests).toEqual({ "9e8d7c6": digest });
    });

    it("another commit serving → drift naming what runs", async () => {
      const result = await check({ commit: "9e8d7c6" });
      expect(result.failure).toMatchObject({ class: "drift" });
      expect(result.failure?.message).toContain("commit is");
      expect(result.failure?.message).toContain(`image tag :${SHA}`);
      expect(result.metrics.tagDigests).toEqual({ "9e8d7c6": null });
    });

    it("the commit's tag re-pushed after the revision was created → TAG_MOVED", async () => {
      world.stack.repushImageTag();
      const result = await check({ commit: SHA });
      expect(result.failure).toMatchObject({ class: "drift", code: "TAG_MOVED" });
    });

    it("the one-off flag", async () => {
      const args = ["cloud-run", SERVICE, "--project", PROJECT, "--region", REGION, "--emulator-host", world.emulator.emulatorHost, "--format", "json"];
      const pass = await runCli([...args, "--expect-commit", SHA], { env: { METADATA_SERVER_DETECTION: "none" } });
      expect(pass.code, pass.stdout + pass.stderr).toBe(0);
      world.stack.repushImageTag();
      const fail = await runCli([...args, "--expect-commit", SHA], { env: { METADATA_SERVER_DETECTION: "none" } });
      expect(fail.code).toBe(1);
      expect(JSON.parse(fail.stdout).checks[0].failure.code).toBe("TAG_MOVED");
    });
  });

  it("a registry that forbids reading the tag → permission naming the reader role on the repository, or a digest expectation", async () => {
    world.emulator.state.fail("GetTag", { code: "PERMISSION_DENIED" });
    const result = await check({ image: `*:${SHA}` });
    expect(result.failure).toMatchObject({ class: "permission" });
    expect(result.failure?.message).toContain("needs artifactregistry.tags.get");
    expect(result.failure?.hint).toContain("gcloud artifacts repositories add-iam-policy-binding app --location us --project acme-staging");
    expect(result.failure?.hint).toContain("image@sha256");
  });
});

describe("2. converged after a failed rollout", () => {
  it("the API keeps observedGeneration at the last serving state: settled, not 'never converged'; why it failed, and the rollback", async () => {
    world.stack.failRollout({ message: "Container failed to start: Error: REDIS_PASSWORD is not set", revisionReason: "HEALTH_CHECK_CONTAINER_ERROR" });
    const result = await check();
    expect(result.metrics).toMatchObject({ generation: 43, observedGeneration: 42, converged: true, rollout: "REVISION_FAILED", finalFailure: true });
    expect(result.failure).toMatchObject({ class: "unhealthy", code: "REVISION_FAILED" });
    expect(result.failure?.message).not.toContain("has not converged");
    expect(result.failure?.message).toContain("[HEALTH_CHECK_CONTAINER_ERROR]: Container failed to start: Error: REDIS_PASSWORD is not set");
    expect(result.failure?.message).toContain("ConfigurationsReady: CONDITION_FAILED [REVISION_FAILED]");
    expect(result.failure?.message).toContain("logs: https://console.cloud.google.com/logs/viewer");
    expect(result.failure?.hint).toContain("gcloud run services update-traffic backend-staging --to-revisions=backend-staging-00042-xoz=100 --region us-central1");
  });

  it("--wait does not poll a settled failure", async () => {
    world.stack.failRollout();
    const report = await world.run({ backend: { kind: "cloud-run", service: SERVICE } }, { deadline: "10s", wait: { waitMs: 5000, backoffMs: () => 10 } });
    const backend = report.checks[0];
    expect(backend).toMatchObject({ status: "fail", attempts: 1, labels: ["converged but broken"] });
    expect(world.emulator.calls.filter((call) => call.method === "GetService")).toHaveLength(1);
  });
});

describe("3. project id vs project number", () => {
  it("the API names the latest revisions with the project number: no false 'no traffic', no false drift", async () => {
    // The emulator answers latestReadyRevision in the number form, and revisions' service too (test/gcp/emulator.test.ts).
    const result = await check({ image: `*:${SHA}`, vpcConnector: `projects/${PROJECT}/locations/${REGION}/connectors/staging-connector` });
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    expect(result.metrics.projectNumber).toMatch(/^\d{12}$/);
    expect(result.metrics.latestReadyRevision).toBe("backend-staging-00042-xoz");
  });

  it("a connector named with the project number equals the configured id", async () => {
    const number = (await check({ image: `*:${SHA}` })).metrics.projectNumber as string;
    world.stack.setServiceConnector(`projects/${number}/locations/${REGION}/connectors/staging-connector`);
    expect((await check({ vpcConnector: `projects/${PROJECT}/locations/${REGION}/connectors/staging-connector` })).status).toBe("pass");
    expect((await check({ vpcConnector: `projects/${PROJECT}/locations/${REGION}/connectors/other` })).status).toBe("fail");
  });
});

describe("7. PERMISSION_DENIED is not always 'grant role X'", () => {
  const deny = (fault: { reason: string; message: string; metadata: Record<string, string>; domain?: string }) =>
    world.emulator.state.fail("GetService", { code: "PERMISSION_DENIED", domain: "googleapis.com", ...fault });

  it("USER_PROJECT_DENIED: the quota project is refused → set-quota-project, not a role on the resource", async () => {
    deny({
      reason: "USER_PROJECT_DENIED",
      message: "Caller does not have required permission to use project acme-billing. Grant the caller the roles/serviceusage.serviceUsageConsumer role, or a custom role with the serviceusage.services.use permission.",
      metadata: { consumer: "projects/acme-billing", service: "run.googleapis.com" },
    });
    const result = await check();
    expect(result.failure).toMatchObject({ class: "permission", code: "USER_PROJECT_DENIED" });
    expect(result.failure?.message).toContain("billed to quota project acme-billing, which this identity may not use");
    expect(result.failure?.hint).toContain("gcloud auth application-default set-quota-project acme-staging");
    expect(result.failure?.hint).toContain("GOOGLE_CLOUD_QUOTA_PROJECT=acme-staging");
    expect(result.failure?.hint).not.toContain("add-iam-policy-binding");
  });

  it("SERVICE_DISABLED naming gcloud's shared project 764086051850 → a quota-project fix, not `services enable` there", async () => {
    deny({
      reason: "SERVICE_DISABLED",
      message: "Cloud Run Admin API has not been used in project 764086051850 before or it is disabled.",
      metadata: { consumer: "projects/764086051850", service: "run.googleapis.com", serviceTitle: "Cloud Run Admin API" },
    });
    const result = await check();
    expect(result.failure).toMatchObject({ class: "permission", code: "SERVICE_DISABLED" });
    expect(result.failure?.message).toContain("gcloud's shared project");
    expect(result.failure?.hint).toContain("set-quota-project acme-staging");
    expect(result.failure?.hint).not.toContain("gcloud services enable");
  });

  it("SERVICE_DISABLED naming the resource's project by number → enable it there (and say what a number may be)", async () => {
    deny({
      reason: "SERVICE_DISABLED",
      message: "Cloud Run Admin API has not been used in project 204718835623 before or it is disabled.",
      metadata: { consumer: "projects/204718835623", service: "run.googleapis.com", serviceTitle: "Cloud Run Admin API" },
    });
    const result = await check();
    expect(result.failure?.hint).toContain("gcloud services enable run.googleapis.com --project 204718835623");
    expect(result.failure?.hint).toContain("messages name projects by number");
  });

  it("VPC Service Controls → outside the perimeter, with the violation id; no role to grant", async () => {
    deny({
      reason: "SECURITY_POLICY_VIOLATED",
      message: "Request is prohibited by organization's policy. vpcServiceControlsUniqueIdentifier: kX3dR9-vpcsc-7Qw",
      metadata: { uid: "kX3dR9-vpcsc-7Qw", service: "run.googleapis.com" },
    });
    const result = await check();
    expect(result.failure).toMatchObject({ class: "permission", code: "SECURITY_POLICY_VIOLATED" });
    expect(result.failure?.message).toContain("outside the VPC Service Controls perimeter");
    expect(result.failure?.message).toContain("violation id kX3dR9-vpcsc-7Qw");
    expect(result.failure?.hint).toContain("ingress rule");
    expect(result.failure?.hint).toContain("--runner cloud-run-job");
  });

  it("'denied on resource … (or it may not exist)', List denied too → the name, project or region may be wrong, then the role", async () => {
    world.emulator.state.fail("GetService", { code: "PERMISSION_DENIED" });
    world.emulator.state.fail("ListServices", { code: "PERMISSION_DENIED" });
    const result = await check();
    expect(result.failure?.message).toContain("(or it may not exist)");
    expect(result.failure?.hint).toContain("the name, project (acme-staging) or region (us-central1) may be wrong");
    expect(result.failure?.hint).toContain("roles/run.viewer");
    expect(world.emulator.calls.map((call) => call.method)).toEqual(["GetService", "ListServices"]);
  });

  it("… and a List that may be read settles it: no such service → not-found; it exists → the role", async () => {
    world.emulator.state.fail("*", null);
    world.emulator.state.fail("GetService", { code: "PERMISSION_DENIED" });
    const missing = await world.check({ kind: "cloud-run", service: "backend-stagign" });
    expect(missing.failure).toMatchObject({ class: "not-found", code: "NOT_FOUND", diagnosis: "grpc.DENIED_MISSING" });
    expect(missing.failure?.message).toContain(`ListServices projects/${PROJECT}/locations/${REGION} lists no such resource`);
    expect(missing.failure?.hint).toContain(`gcloud run services list --project ${PROJECT} --region ${REGION}`);
    const present = await check();
    expect(present.failure).toMatchObject({ class: "permission", code: "PERMISSION_DENIED" });
    expect(present.failure?.hint).not.toContain("may be wrong");
    expect(present.failure?.hint).toContain("roles/run.viewer");
  });

  it("the emulator's IAM denial carries the service's domain and { permission, resource }", async () => {
    world.emulator.state.fail("GetService", { code: "PERMISSION_DENIED" });
    const { v2 } = await import("@google-cloud/run");
    const { loadGax } = await import("../../src/gcp/session.js");
    const gax = await loadGax();
    const client = new v2.ServicesClient({
      apiEndpoint: world.emulator.host,
      port: world.emulator.port,
      sslCreds: gax.grpc.credentials.createInsecure(),
      authClient: new gax.googleAuthLibrary.PassThroughClient() as never,
      "grpc.enable_http_proxy": 0,
    });
    try {
      const name = `projects/${PROJECT}/locations/${REGION}/services/${SERVICE}`;
      await expect(client.getService({ name }, { timeout: 5000, retry: null })).rejects.toMatchObject({
        code: 7,
        reason: "IAM_PERMISSION_DENIED",
        domain: "run.googleapis.com",
        errorInfoMetadata: { permission: "run.services.get", resource: name },
      });
    } finally {
      await client.close();
    }
  });
});

describe("10. why a revision failed: its container's last error lines (through the kind's FailedRevisionLogReader)", () => {
  it("the entries are asked for the failed revision with its filter, read from textPayload / jsonPayload.message, redacted, and quoted in the message; a failing reader changes nothing", async () => {
    const failed = world.stack.failRollout({ message: "The user-provided container failed to start.", revisionReason: "HEALTH_CHECK_CONTAINER_ERROR" });
    const requests: FailedRevisionLogRequest[] = [];
    const reader: FailedRevisionLogReader = {
      listEntries: async (request) => {
        requests.push(request);
        // Newest first, as entries:list with orderBy timestamp desc returns them; the shapes a gRPC client returns.
        return [
          { textPayload: "container failed to start: Error: REDIS_PASSWORD is not set", severity: "DEFAULT" },
          { jsonPayload: { fields: { message: { stringValue: "connecting to redis://app:hunter2-not-logged@10.0.0.3:6379 with password=hunter2-not-logged", kind: "stringValue" } } }, severity: "ERROR" },
          { textPayload: "\u001b[31mstarting server\u001b[0m" },
        ];
      },
    };
    const result = await world.check({ kind: "cloud-run", service: SERVICE }, { deps: { [REVISION_LOGS]: reader } });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ project: PROJECT, region: REGION, service: SERVICE, revision: failed.split("/").pop(), pageSize: 5, orderBy: "timestamp desc", resourceNames: [`projects/${PROJECT}`] });
    expect(requests[0].filter).toContain(`resource.labels.revision_name="${failed.split("/").pop()}"`);
    expect(result.failure?.code).toBe("REVISION_FAILED");
    expect(result.failure?.message).toContain('its container wrote: "\\x1b[31mstarting server\\x1b[0m" … "connecting to redis://app:***@10.0.0.3:6379 with password=***"');
    expect(result.failure?.message).toContain('"container failed to start: Error: REDIS_PASSWORD is not set"');
    expect(result.failure?.hint).toMatch(/gcloud run services update-traffic \S+ --to-revisions=\S+=100/);
    expect(JSON.stringify(result)).not.toContain("hunter2-not-logged");
    expect(result.metrics.newestRevisionLogs).toHaveLength(3);
    expect(Object.keys(result.phasesMs)).toContain("getLogs");

    const broken: FailedRevisionLogReader = { listEntries: async () => Promise.reject(new Error("PERMISSION_DENIED: logging.logEntries.list")) };
    const without = await world.check({ kind: "cloud-run", service: SERVICE }, { deps: { [REVISION_LOGS]: broken } });
    expect(without.failure?.code).toBe("REVISION_FAILED");
    expect(without.metrics.newestRevisionLogs).toBeUndefined();
  });

  it("redactLogLine masks URL credentials, password= assignments and bearer tokens", () => {
    expect(redactLogLine("dial postgres://app:s3cret@db:5432/app failed")).toBe("dial postgres://app:***@db:5432/app failed");
    expect(redactLogLine('config: {"password": "s3cret", "user": "app"}')).not.toContain("s3cret");
    expect(redactLogLine("Authorization: Bearer ya29.abc.def")).not.toContain("ya29");
    expect(redactLogLine("API_KEY=abc123 started")).toBe("API_KEY=*** started");
  });
});
