// The Cloud Run Job runner end to end, offline: the real @google-cloud/run and
// Logging clients against the emulator, whose RunJob spawns the real
// bin/infra-check.js as the job's container and turns its stdout into log
// entries. Each fault of the issue is one case.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGcpEmulator, type GcpEmulator } from "../../src/demo/gcp-emulator/index.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
import { runConfig } from "../helpers/run.js";
import { loadReporter } from "../../src/reporters/index.js";
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
    // The table says where a check was measured from; -v adds the execution and the runner's phases.
    const table = await loadReporter("table");
    expect(await table(report, { color: false, verbose: false })).toMatch(/cache +redis .*\[via vpc\] PONG/);
    expect(await table(report, { color: false, verbose: true })).toMatch(/runner vpc · execution infra-check-probe-\w+ · .*schedule .* · start .* · probe .* · collect /);
  }, 30_000);
});

describe("runner failures, each classified from the one catalogue", () => {
  const cache = () => ({ kind: "redis", url: redis.url, runner: "vpc" });

  it("job missing → not-found, with the deploy command", async () => {
    emulator.state.remove(JOB);
    const before = emulator.state.executionNames().length;
    const [check] = (await run({ cache: cache() })).checks;
    expect(check.status).toBe("fail");
    expect(check.failure).toMatchObject({ class: "not-found", diagnosis: "runner.JOB_MISSING" });
    expect(check.failure!.message).toContain('no Cloud Run job "infra-check-probe" in project acme-staging, region us-central1');
    expect(check.failure!.hint).toContain("`infra-check runner deploy vpc`");
    expect(check.runner).toMatchObject({ name: "vpc" });
    expect(emulator.state.executionNames()).toHaveLength(before);
  }, 30_000);

  it("no run.jobs.runWithOverrides → permission, naming the permission and the role", async () => {
    emulator.state.fail("RunJob", { code: "PERMISSION_DENIED" });
    const [check] = (await run({ cache: cache() })).checks;
    expect(check.failure).toMatchObject({ class: "permission" });
    expect(check.failure!.message).toContain("run.jobs.runWithOverrides");
    expect(check.failure!.hint).toContain("roles/run.developer");
  }, 30_000);

  it("a VPC Service Controls perimeter → permission, no IAM role fixes it", async () => {
    emulator.state.fail("RunJob", { code: "PERMISSION_DENIED", message: "Request is prohibited by organization's policy. vpcServiceControlsUniqueIdentifier: abc123", reason: "SECURITY_POLICY_VIOLATED" });
    const [check] = (await run({ cache: cache() })).checks;
    expect(check.failure).toMatchObject({ class: "permission", code: "SECURITY_POLICY_VIOLATED" });
  }, 30_000);

  it("a check that fails inside the job comes back with its own classification (the execution exits 1)", async () => {
    const [check, other] = (await run({ cache: { kind: "redis", url: "redis://127.0.0.1:1", runner: "vpc" }, ok: cache() })).checks;
    expect(check.failure).toMatchObject({ class: "refused" });
    expect(check.runner).toMatchObject({ verdictFrom: "results" });
    expect(other.status).toBe("pass");
  }, 30_000);

  it("image pull denied → the execution never starts: permission, with the service agent to grant", async () => {
    emulator.state.setJobFaults({ failStart: "Google Cloud Run Service Agent service-123@serverless-robot-prod.iam.gserviceaccount.com must have permission to read the image, us-docker.pkg.dev/acme-staging/tools/infra-check:0.2.0." });
    const [check] = (await run({ cache: cache() })).checks;
    expect(check.failure).toMatchObject({ class: "permission", diagnosis: "runner.IMAGE_PULL" });
    expect(check.runner!.phasesMs.start).toBeUndefined();
  }, 30_000);

  it("the job itself crashes without a result line → unhealthy, with the exit code, condition and log URL", async () => {
    emulator.state.setJobFaults({ command: ["sh", "-c", "echo starting; exit 3"] });
    const [check] = (await run({ cache: cache() }, { deadline: "4s" })).checks;
    expect(check.failure).toMatchObject({ class: "unhealthy", diagnosis: "runner.EXECUTION_FAILED", code: "EXIT_3" });
    expect(check.failure!.message).toContain("exit code of 3");
    expect(check.failure!.hint).toContain("https://console.cloud.google.com/logs/viewer?project=acme-staging");
  }, 30_000);

  it("the execution reaches its timeout → timeout, with the condition", async () => {
    const silent = await (await import("../helpers/net.js")).silentServer();
    try {
      const report = await runConfig(
        { deadline: "12s", gcp, runners: { vpc: { cloudRunJob: { job: "infra-check-probe", timeout: "1s" } } }, checks: { cache: { kind: "redis", url: `redis://127.0.0.1:${silent.port}`, timeout: "8s", runner: "vpc" } } },
        { deps: { gcp, env: {} } },
      );
      const [check] = report.checks;
      expect(check.failure).toMatchObject({ class: "timeout", diagnosis: "runner.EXECUTION_TIMEOUT" });
      expect(check.failure!.message).toContain("The configured timeout was reached");
    } finally {
      await silent.stop();
    }
  }, 30_000);

  it("a cold start longer than the run: timeout, the stage it reached, and the execution cancelled", async () => {
    emulator.state.setJobFaults({ startDelayMs: 30_000 });
    const [check] = (await run({ cache: cache() }, { deadline: "3s" })).checks;
    expect(check.failure).toMatchObject({ class: "timeout", diagnosis: "runner.NOT_DONE_IN_TIME" });
    expect(check.failure!.message).toContain("did not start within");
    expect(check.failure!.hint).toContain("Direct VPC egress set-up");
    expect(emulator.calls.filter((call) => call.method === "CancelExecution" && call.name === check.runner!.execution)).toHaveLength(1);
    expect(emulator.state.get(check.runner!.execution!)?.cancelledCount).toBe(1);
  }, 30_000);

  it("Cloud Logging's ingestion delay: the lead waits for the line", async () => {
    emulator.state.setJobFaults({ ingestionDelayMs: 1500 });
    const [check] = (await run({ cache: cache() })).checks;
    expect(check.status).toBe("pass");
    expect(check.runner).toMatchObject({ verdictFrom: "results" });
    expect(check.runner!.phasesMs.collect).toBeGreaterThanOrEqual(1000);
  }, 30_000);

  it("the result line lost: the task's exit code is the verdict (0 → pass, figures unknown)", async () => {
    emulator.state.setJobFaults({ loseLine: (line) => line.includes('"infraCheck"') });
    const [check] = (await run({ cache: cache() }, { deadline: "6s" })).checks;
    expect(check.status).toBe("pass");
    expect(check.runner).toMatchObject({ verdictFrom: "exit-code" });
    expect(String(check.details?.verdict)).toContain("results not yet in Cloud Logging");
  }, 30_000);

  it("the result line lost and the job exited 1 → fail, results not yet in Cloud Logging", async () => {
    emulator.state.setJobFaults({ loseLine: (line) => line.includes('"infraCheck"') });
    const [check] = (await run({ cache: { kind: "redis", url: "redis://127.0.0.1:1", runner: "vpc" } }, { deadline: "6s" })).checks;
    expect(check.failure).toMatchObject({ class: "unhealthy", diagnosis: "runner.RESULTS_LATE_FAILED", code: "EXIT_1" });
    expect(check.failure!.message).toContain("results not yet in Cloud Logging");
  }, 30_000);

  it("the run's signal (SIGINT) while the job runs cancels the execution (CancelExecution) and kills its process", async () => {
    const silent = await (await import("../helpers/net.js")).silentServer();
    const controller = new AbortController();
    // Once the execution is being watched (its second GetExecution), the user presses Ctrl-C.
    emulator.state.afterCalls("GetExecution", 1, () => controller.abort(new Error("SIGINT")));
    try {
      const report = await run({ cache: { kind: "redis", url: `redis://127.0.0.1:${silent.port}`, timeout: "10s", runner: "vpc" } }, { signal: controller.signal, deadline: "20s" });
      const [check] = report.checks;
      // Interrupted in the runner's phase it reached (the execution was running: start or probe).
      expect(check.status).toBe("interrupted");
      expect(["start", "probe"]).toContain(check.interrupted?.phase);
      const cancels = emulator.calls.filter((call) => call.method === "CancelExecution" && call.name === check.runner!.execution);
      expect(cancels).toHaveLength(1);
      expect(emulator.state.executionRunning(check.runner!.execution!)).toBe(false);
    } finally {
      await silent.stop();
    }
  }, 30_000);
});

describe("dependsOn across runners, and what travels", () => {
  it("a remote check blocked by a failing local check is never shipped; a local check waits for a remote one", async () => {
    const before = emulator.state.executionNames().length;
    const report = await run({
      gate: { kind: "tcp", address: "127.0.0.1:1" },
      cache: { kind: "redis", url: redis.url, runner: "vpc", dependsOn: ["gate"] },
    });
    expect(report.checks.map((check) => [check.name, check.status])).toEqual([["gate", "fail"], ["cache", "blocked"]]);
    expect(emulator.state.executionNames()).toHaveLength(before);

    const chained = await run({
      cache: { kind: "redis", url: redis.url, runner: "vpc" },
      after: { kind: "tcp", address: `127.0.0.1:${redis.port}`, dependsOn: ["cache"] },
      cache2: { kind: "redis", url: redis.url, runner: "vpc", dependsOn: ["after"] },
    });
    expect(chained.checks.map((check) => check.status)).toEqual(["pass", "pass", "pass"]);
    // cache2 needs a local check that needs cache: two executions, in order.
    expect(chained.checks[0].runner!.execution).not.toBe(chained.checks[2].runner!.execution);
  }, 40_000);

  it("the overrides carry the checks with ${VAR}s interpolated, and secret references, never a secret", async () => {
    emulator.state.addSecretVersion("projects/acme-staging/secrets/redis", "never-shipped-pw");
    const report = await runConfig(
      { deadline: "15s", gcp, runners, checks: { cache: { kind: "redis", url: `${redis.url}/\${DB:-0}`, runner: "vpc", password: { secret: "projects/acme-staging/secrets/redis" } } } },
      { deps: { gcp, env: {} }, env: {} },
    );
    const execution = report.checks[0].runner!.execution!;
    const overrides = JSON.stringify(emulator.state.executionOverrides(execution));
    expect(overrides).toContain(`${redis.url}/0`);
    expect(overrides).toContain("projects/acme-staging/secrets/redis");
    expect(overrides).not.toContain("never-shipped-pw");
  }, 30_000);
});

describe("the CLI", () => {
  it("a ${VAR} password on a remote check exits 2 with why and what to write, nothing probed, the value never shown", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const { runCli } = await import("../helpers/cli.js");
    const dir = mkdtempSync(path.join(tmpdir(), "infra-check-runner-"));
    const file = path.join(dir, "staging.yaml");
    writeFileSync(
      file,
      [
        "gcp: { project: acme-staging, region: us-central1 }",
        "runners:",
        "  vpc:",
        "    cloudRunJob: { job: infra-check-probe, vpcConnector: staging-connector }",
        "checks:",
        "  cache: { kind: redis, url: 'redis://10.166.204.83:6379/0', password: '${REDIS_PASSWORD}', runner: vpc }",
        "",
      ].join("\n"),
    );
    const runJobs = () => emulator.calls.filter((call) => call.method === "RunJob").length;
    const before = runJobs();
    const result = await runCli(["--config", file], { env: { REDIS_PASSWORD: "hunter2-from-env", INFRA_CHECK_GCP_EMULATOR_HOST: emulator.emulatorHost } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("checks.cache.password");
    expect(result.stderr).toContain("stored in plain text on the execution");
    expect(result.stderr).toContain("{ secret: projects/P/secrets/S }");
    expect(result.stderr + result.stdout).not.toContain("hunter2-from-env");
    expect(runJobs()).toBe(before);
  }, 30_000);

  it("--runner with an unknown name exits 2 with did-you-mean", async () => {
    const { runCli } = await import("../helpers/cli.js");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const file = path.join(mkdtempSync(path.join(tmpdir(), "infra-check-runner-")), "staging.yaml");
    writeFileSync(file, "gcp: { project: p, region: r }\nrunners:\n  vpc:\n    cloudRunJob: { job: j }\nchecks:\n  a: { kind: tcp, address: '127.0.0.1:1' }\n");
    const result = await runCli(["--config", file, "--runner", "vcp"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--runner: unknown runner "vcp"; did you mean "vpc"?');
  }, 30_000);
});

describe("judged on the lead, with what only the lead has", () => {
  it("a contradiction with a local dependency fails the remote check before it ships (Memorystore requires AUTH, the check sends none)", async () => {
    const { seedCloudStack } = await import("../../src/demo/gcp-fixtures.js");
    const { stackOptions } = await import("../gcp/harness.js");
    seedCloudStack(emulator.state, stackOptions());
    const before = emulator.state.executionNames().length;
    const report = await run({
      instance: { kind: "memorystore", instance: "staging-redis-f1adc35c" },
      cache: { kind: "redis", url: "redis://10.166.204.83:6379/0", runner: "vpc", dependsOn: ["instance"] },
    });
    const [instance, cache] = report.checks;
    expect(instance.status).toBe("pass");
    expect(cache.status).toBe("fail");
    expect(cache.failure).toMatchObject({ class: "config", phase: "preflight" });
    expect(cache.failure!.hint).toContain("memorystoreAuth");
    expect(emulator.state.executionNames()).toHaveLength(before);
  }, 30_000);

  it("a remote result is judged again here from its measurement: the same verdict and figures", async () => {
    const [cache] = (await run({ cache: { kind: "redis", url: redis.url, runner: "vpc", expect: { pingP95Ms: "< 10s" } } })).checks;
    expect(cache.status).toBe("pass");
    expect(cache.assertions.find((assertion) => assertion.metric === "pingP95Ms")).toMatchObject({ ok: true });
    expect(cache.summary).toMatch(/PONG/);
  }, 30_000);
});

describe("the emulator's long-running operations, to the real client", () => {
  it("RunJob's operation completes through GetOperation with the execution as its response", async () => {
    const { loadGax } = await import("../../src/gcp/session.js");
    const gax = await loadGax();
    const { v2 } = await import("@google-cloud/run");
    const client = new v2.JobsClient({ apiEndpoint: emulator.host, port: emulator.port, sslCreds: gax.grpc.credentials.createInsecure(), authClient: new gax.googleAuthLibrary.PassThroughClient(), "grpc.enable_http_proxy": 0 } as never);
    try {
      emulator.state.setJobFaults({ command: ["sh", "-c", "exit 0"] });
      const [operation] = await client.runJob({ name: JOB }, { timeout: 5000 });
      const [execution] = await operation.promise();
      expect(execution.name).toMatch(new RegExp(`^${JOB}/executions/`));
      expect(execution.succeededCount).toBe(1);
      expect(emulator.calls.some((call) => call.method === "GetOperation" && call.name === operation.name)).toBe(true);
    } finally {
      await client.close();
    }
  }, 30_000);
});

describe("Ctrl-C on the real CLI while the job runs", () => {
  it("SIGINT: the execution is cancelled (its process killed), the remote check interrupted in its phase, exit 130", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const { startCli } = await import("../helpers/cli.js");
    const { silentServer } = await import("../helpers/net.js");
    const silent = await silentServer();
    const file = path.join(mkdtempSync(path.join(tmpdir(), "infra-check-runner-int-")), "staging.yaml");
    writeFileSync(
      file,
      [
        `gcp: { project: ${PROJECT}, region: ${REGION}, emulatorHost: "${emulator.emulatorHost}" }`,
        "deadline: 30s",
        "runners:",
        "  vpc:",
        "    cloudRunJob: { job: infra-check-probe, timeout: 20s }",
        "checks:",
        `  cache: { kind: redis, url: "redis://127.0.0.1:${silent.port}", timeout: 15s, runner: vpc }`,
        "",
      ].join("\n"),
    );
    try {
      const cli = startCli(["--config", file, "-v"], { timeoutMs: 30_000 });
      // The execution is running once the runner's probe phase starts (the CLI's own -v log: an event, not a sleep).
      await cli.stderrMatches(/\[runner vpc\] probe…/);
      const [execution] = emulator.state.executionNames().slice(-1);
      expect(emulator.state.executionRunning(execution)).toBe(true);
      cli.child.kill("SIGINT");
      const result = await cli.result;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stdout).toMatch(/■ INTERRUPTED\s+cache\s+redis/);
      expect(emulator.calls.filter((call) => call.method === "CancelExecution" && call.name === execution)).toHaveLength(1);
      expect(emulator.state.executionRunning(execution)).toBe(false);
      expect(emulator.state.get(execution)?.cancelledCount).toBe(1);
    } finally {
      await silent.stop();
    }
  }, 40_000);
});
