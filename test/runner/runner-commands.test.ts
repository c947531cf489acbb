// `infra-check runner deploy|status NAME`, in-process against the emulator's
// Cloud Run Jobs API with the real client: create, unchanged, update,
// refuse a job infra-check does not manage, --print, status.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGcpEmulator, type GcpEmulator } from "../../src/demo/gcp-emulator/index.js";
import { runMain } from "../helpers/main-io.js";

const JOB = "projects/acme-staging/locations/us-central1/jobs/infra-check-probe";
let emulator: GcpEmulator;
let cwd: string;

function writeConfig(image: string) {
  writeFileSync(
    path.join(cwd, "config/staging.yaml"),
    [
      `gcp: { project: acme-staging, region: us-central1, emulatorHost: "${emulator.emulatorHost}" }`,
      "runners:",
      "  vpc:",
      `    cloudRunJob: { job: infra-check-probe, image: "${image}", vpcConnector: staging-connector, serviceAccount: probe@acme-staging.iam.gserviceaccount.com, timeout: 90s }`,
      "checks:",
      "  cache: { kind: redis, url: 'redis://10.166.204.83:6379', password: { secret: projects/acme-staging/secrets/redis-password }, runner: vpc }",
      "",
    ].join("\n"),
  );
}

beforeAll(async () => {
  emulator = await startGcpEmulator();
  cwd = mkdtempSync(path.join(tmpdir(), "infra-check-runner-cmd-"));
  mkdirSync(path.join(cwd, "config"));
  writeConfig("us-docker.pkg.dev/acme-staging/tools/infra-check:0.2.0");
});
afterAll(() => emulator?.stop());

describe("runner deploy / status", () => {
  it("--print shows the gcloud commands and IAM bindings, and calls nothing", async () => {
    const calls = emulator.calls.length;
    const result = await runMain(["runner", "deploy", "vpc", "staging", "--print"], { cwd, env: {} });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("gcloud run jobs deploy infra-check-probe --project acme-staging --region us-central1");
    expect(result.stdout).toContain("--vpc-connector projects/acme-staging/locations/us-central1/connectors/staging-connector --vpc-egress private-ranges-only");
    expect(result.stdout).toContain("--labels managed-by=infra-check");
    expect(result.stdout).toContain("roles/run.developer   # run.jobs.runWithOverrides");
    expect(result.stdout).toContain("gcloud secrets add-iam-policy-binding redis-password --project acme-staging --member=serviceAccount:probe@acme-staging.iam.gserviceaccount.com --role=roles/secretmanager.secretAccessor");
    expect(result.stdout).toContain("roles/cloudsql.client");
    expect(emulator.calls.length).toBe(calls);
  });

  it("creates the job, leaves it alone when unchanged, updates it when the image changes", async () => {
    const created = await runMain(["runner", "deploy", "vpc", "staging"], { cwd, env: {} });
    expect(created.stderr).toBe("");
    expect(created.stdout).toContain(`created ${JOB}`);
    const job = emulator.state.get(JOB)!;
    expect(job.labels).toEqual({ "managed-by": "infra-check" });
    expect(JSON.stringify(job.template)).toContain('"args":["runner","exec"]');
    expect(JSON.stringify(job.template)).toContain('"timeout":"90s"');

    const again = await runMain(["runner", "deploy", "vpc", "staging"], { cwd, env: {} });
    expect(again.stdout).toContain(`unchanged ${JOB}`);

    writeConfig("us-docker.pkg.dev/acme-staging/tools/infra-check:0.3.0");
    const updated = await runMain(["runner", "deploy", "vpc", "staging"], { cwd, env: {} });
    expect(updated.stdout).toContain(`updated ${JOB}`);
    expect(JSON.stringify(emulator.state.get(JOB)!.template)).toContain("infra-check:0.3.0");

    const status = await runMain(["runner", "status", "vpc", "staging"], { cwd, env: {} });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`job       ${JOB}`);
    expect(status.stdout).toContain("image     us-docker.pkg.dev/acme-staging/tools/infra-check:0.3.0");
    expect(status.stdout).toContain("connector projects/acme-staging/locations/us-central1/connectors/staging-connector (PRIVATE_RANGES_ONLY)");
    expect(status.stdout).toContain("no executions yet");
  });

  it("validate says where each check runs", async () => {
    const result = await runMain(["validate", "staging"], { cwd, env: {} });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/cache +redis +timeout 5\.00 s on runner vpc/);
  });

  it("never changes a job it does not manage", async () => {
    emulator.state.patch(JOB, { labels: { team: "other" } });
    const result = await runMain(["runner", "deploy", "vpc", "staging"], { cwd, env: {} });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("not labelled managed-by: infra-check");
    emulator.state.patch(JOB, { labels: { "managed-by": "infra-check" } });
  });

  it("status of a missing job: not-found with the deploy command; an unknown runner exits 2", async () => {
    emulator.state.remove(JOB);
    const missing = await runMain(["runner", "status", "vpc", "staging"], { cwd, env: {} });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("not-found");
    expect(missing.stderr).toContain("infra-check runner deploy");
    const unknown = await runMain(["runner", "status", "vcp", "staging"], { cwd, env: {} });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown runner "vcp"; did you mean "vpc"?');
  });
});
