// The one-off commands `infra-check cloud-run|vpc-connector|memorystore NAME`,
// in-process through main(), against the emulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runMain } from "../helpers/main-io.js";
import { startGcpWorld, PROJECT, REGION, SHA, type GcpWorld } from "./harness.js";

let world: GcpWorld;
beforeAll(async () => {
  world = await startGcpWorld();
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => world.reset());

const where = () => ["--project", PROJECT, "--region", REGION, "--emulator-host", world.gcp.emulatorHost];

describe("one-off Google Cloud commands", () => {
  it("cloud-run with every expectation flag → exit 0", async () => {
    const result = await runMain(
      ["cloud-run", "backend-staging", ...where(), "--image", `*:${SHA}`, "--commit-label", `commit-sha=${SHA}`, "--connector", "staging-connector", "--egress", "private_ranges_only", "--env", "REDIS_PASSWORD,DATABASE_URL"],
      { cwd: process.cwd() },
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("service backend-staging");
  });

  it("cloud-run: old revision serving → exit 1, unhealthy, hint with update-traffic", async () => {
    world.stack.serveOldRevision();
    const result = await runMain(["cloud-run", "backend-staging", ...where(), "--format", "json"], { cwd: process.cwd() });
    expect(result.code).toBe(1);
    const check = JSON.parse(result.stdout).checks[0];
    expect(check.failure.class).toBe("unhealthy");
    expect(check.failure.hint).toContain("gcloud run services update-traffic backend-staging --to-latest");
  });

  it("the emulator can come from INFRA_CHECK_GCP_EMULATOR_HOST instead of a flag", async () => {
    const result = await runMain(["vpc-connector", "staging-connector", "--project", PROJECT, "--region", REGION, "--network", "staging-vpc"], {
      cwd: process.cwd(),
      env: { INFRA_CHECK_GCP_EMULATOR_HOST: world.gcp.emulatorHost },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it("memorystore with expectation flags → drift listing each mismatch", async () => {
    const result = await runMain(["memorystore", "staging-redis-f1adc35c", ...where(), "--tier", "standard_ha", "--redis-version", "REDIS_6_X", "--expect", "authEnabled=true"], {
      cwd: process.cwd(),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('drift: tier is "BASIC", expected STANDARD_HA; redisVersion is "REDIS_7_2", expected REDIS_6_X');
  });

  it("without --project/--region (and no full name, nor the variables) → exit 2 saying which flags and variables", async () => {
    const result = await runMain(["memorystore", "staging-redis-f1adc35c", "--emulator-host", world.gcp.emulatorHost], { cwd: process.cwd() });
    // A usage error, before anything runs: a CI step that forgot its project is not an unhealthy Memorystore.
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain('no Google Cloud project or region for Memorystore instance "staging-redis-f1adc35c"');
    for (const name of ["--project", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT", "--region", "CLOUDSDK_RUN_REGION"]) expect(result.stderr).toContain(name);
    expect(result.stderr).toContain("projects/PROJECT/locations/REGION/instances/staging-redis-f1adc35c");
  });

  it("a missing project alone names only the project's flag and variables (exit 2)", async () => {
    const result = await runMain(["cloud-run", "backend-staging", "--emulator-host", world.gcp.emulatorHost], { cwd: process.cwd(), env: { CLOUDSDK_RUN_REGION: REGION } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no Google Cloud project for Cloud Run service "backend-staging": pass --project PROJECT or set GOOGLE_CLOUD_PROJECT \(or CLOUDSDK_CORE_PROJECT\);/);
    expect(result.stderr).not.toContain("--region");
  });

  it.each([
    ["cloud-run", ["backend-staging"], { GOOGLE_CLOUD_PROJECT: PROJECT, CLOUDSDK_RUN_REGION: REGION }],
    ["vpc-connector", ["staging-connector"], { CLOUDSDK_CORE_PROJECT: PROJECT, CLOUDSDK_RUN_REGION: REGION }],
    ["memorystore", ["staging-redis-f1adc35c"], { GOOGLE_CLOUD_PROJECT: PROJECT, CLOUDSDK_CORE_PROJECT: "not-this-project", CLOUDSDK_RUN_REGION: REGION }],
  ])("%s takes the project and region from gcloud's and the client libraries' variables", async (command, args, env) => {
    const result = await runMain([command, ...args, "--emulator-host", world.gcp.emulatorHost, "--format", "json"], { cwd: process.cwd(), env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it("the flags win over the variables", async () => {
    const result = await runMain(["vpc-connector", "staging-connector", ...where()], {
      cwd: process.cwd(),
      env: { GOOGLE_CLOUD_PROJECT: "not-this-project", CLOUDSDK_CORE_PROJECT: "nor-this-one", CLOUDSDK_RUN_REGION: "europe-west9" },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it("a full resource name needs neither flags nor variables", async () => {
    const result = await runMain(["vpc-connector", `projects/${PROJECT}/locations/${REGION}/connectors/staging-connector`, "--emulator-host", world.gcp.emulatorHost], { cwd: process.cwd() });
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it.each([
    ["cloud-run", ["--image <glob>", "--commit-label <key=value>", "--connector <name>", "--egress <mode>", "--direct-vpc <network>", "--env <names>", "--revision <name>", "--emulator-host <host:port>"]],
    ["vpc-connector", ["--network <network>", "--ip-cidr-range <range>", "--project <project>"]],
    ["memorystore", ["--tier <tier>", "--redis-version <version>", "--auth-enabled <bool>", "--region <region>"]],
  ])("%s --help teaches its flags", async (command, flags) => {
    const result = await runMain([command, "--help"], { cwd: process.cwd() });
    expect(result.code).toBe(0);
    for (const flag of flags) expect(result.stdout).toContain(flag);
    expect(result.stdout).toContain("Examples:");
  });
});
