// `runners:`, `runner:` and --runner: validated like every other config key,
// and nothing secret is ever shipped to a runner (overrides are stored in
// plain text on the execution).
import { describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/load.js";
import { Redactor } from "../../src/redact.js";

const gcp = { project: "acme-staging", region: "us-central1" };
const runners = { vpc: { cloudRunJob: { job: "infra-check-probe", vpcConnector: "staging-connector" } } };
const redis = (extra: Record<string, unknown> = {}) => ({ kind: "redis", url: "redis://10.166.204.83:6379/0", ...extra });

async function load(raw: Record<string, unknown>, options: Record<string, unknown> = {}) {
  return buildConfig(raw, { dir: process.cwd(), defaultEnv: "test", file: "config/test.yaml", env: { REDIS_PASSWORD: "hunter2-s3cret", GIT_SHA: "3f9c2ab" }, ...options });
}

async function errorOf(raw: Record<string, unknown>, options: Record<string, unknown> = {}): Promise<string> {
  try {
    await load(raw, options);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a config error");
}

describe("runners config", () => {
  it("fills region and project from gcp:, and ships the check with non-secret ${VAR}s interpolated", async () => {
    const loaded = await load({
      gcp,
      runners,
      checks: {
        cache: redis({ password: { secret: "projects/acme-staging/secrets/redis" }, runner: "vpc" }),
        web: { kind: "http", url: "http://127.0.0.1:1/health?sha=${GIT_SHA}", runner: "vpc" },
        here: redis({ password: "${REDIS_PASSWORD}" }),
      },
    });
    const runner = loaded.runners.get("vpc")!;
    expect(runner.cloudRunJob).toMatchObject({ region: "us-central1", project: "acme-staging", resource: "projects/acme-staging/locations/us-central1/jobs/infra-check-probe", timeoutMs: 120_000 });
    const [cache, web, here] = loaded.checks;
    expect(cache.runner).toBe("vpc");
    expect(cache.shipped).toEqual({ kind: "redis", url: "redis://10.166.204.83:6379/0", password: { secret: "projects/acme-staging/secrets/redis" } });
    expect(web.shipped?.url).toBe("http://127.0.0.1:1/health?sha=3f9c2ab");
    expect(here.runner).toBeUndefined();
    expect(here.shipped).toBeUndefined();
  });

  it.each([
    ["unknown runner, with did-you-mean", { gcp, runners, checks: { a: redis({ runner: "vcp" }) } }, ["checks.a.runner", 'unknown runner "vcp"', 'did you mean "vpc"?', "runners: local, vpc"]],
    ["runner without a region anywhere", { gcp: { project: "p", region: "r" }, runners: { x: { cloudRunJob: { job: "j", project: "p" } } }, checks: { a: redis() } }, []],
    ["connector and direct VPC together", { gcp, runners: { vpc: { cloudRunJob: { job: "j", vpcConnector: "c", directVpc: { network: "n" } } } }, checks: { a: redis() } }, ["runners.vpc.cloudRunJob.directVpc", "exclude each other"]],
    ["a runner named local", { gcp, runners: { local: { cloudRunJob: { job: "j" } } }, checks: { a: redis() } }, ["means this machine"]],
    ["bad job name", { gcp, runners: { vpc: { cloudRunJob: { job: "Infra_Check" } } }, checks: { a: redis() } }, ["runners.vpc.cloudRunJob.job", "Cloud Run job name"]],
    ["no project for the job", { runners, checks: { a: redis() } }, ["runners.vpc.cloudRunJob", "set gcp.project"]],
  ])("%s", async (_name, raw, fragments) => {
    if (!fragments.length) {
      await expect(load(raw)).resolves.toBeDefined();
      return;
    }
    const message = await errorOf(raw);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it("--runner NAME that is not declared is a config error with did-you-mean", async () => {
    const message = await errorOf({ gcp, runners, checks: { a: redis() } }, { runner: "vpx" });
    expect(message).toContain('--runner: unknown runner "vpx"; did you mean "vpc"?');
    expect(message.split("\n")).toHaveLength(1);
  });

  it("--runner local runs everything here; --runner vpc ships everything", async () => {
    const raw = { gcp, runners, checks: { a: redis({ runner: "vpc" }), b: redis() } };
    expect((await load(raw, { runner: "local" })).checks.map((check) => check.runner)).toEqual([undefined, undefined]);
    expect((await load(raw, { runner: "vpc" })).checks.map((check) => check.runner)).toEqual(["vpc", "vpc"]);
  });

  it.each([
    ["${VAR} password", { password: "${REDIS_PASSWORD}" }, "checks.cache.password", "a ${VAR} in a secret-bearing field"],
    ["literal password", { password: "hunter2-literal" }, "checks.cache.password", "a literal secret"],
    ["${VAR} in the URL's userinfo", { url: "redis://:${REDIS_PASSWORD}@10.166.204.83:6379/0" }, "checks.cache.url", "not inline in a URL or header"],
  ])("a remote check with a %s is a config error saying why and what to write", async (_name, extra, keyPath, kindOf) => {
    const redactor = new Redactor();
    const message = await errorOf({ gcp, runners, checks: { cache: redis({ ...extra, runner: "vpc" }) } }, { redactor });
    expect(message).toContain(keyPath);
    expect(message).toContain(kindOf);
    expect(message).toContain("stored in plain text on the execution");
    expect(message).toContain("{ secret: projects/P/secrets/S }");
    expect(message).toContain("{ memorystoreAuth: INSTANCE }");
    expect(redactor.text(message)).not.toContain("hunter2");
  });

  it("the fields every check has bear no secret: an expectation on sessionMs is not a session token", async () => {
    const loaded = await load({ gcp, runners, checks: { db: { kind: "postgres", url: "postgres://app@10.20.0.5/app", runner: "vpc", expect: { sessionMs: "< 1s" } } } });
    expect(loaded.checks[0].runner).toBe("vpc");
  });

  it("a header token on a remote http check is refused too (whatever the kind, the redactor knows the field)", async () => {
    const message = await errorOf({ gcp, runners, checks: { web: { kind: "http", url: "http://10.0.0.2/health", headers: { Authorization: "Bearer ${TOKEN:-x}" }, runner: "vpc" } } });
    expect(message).toContain("checks.web.headers.Authorization");
  });
});
