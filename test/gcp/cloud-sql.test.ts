// The cloud-sql kind through the runner, the real @google-cloud/sql client
// against the emulator: state (RUNNABLE and not stopped), disk, and drift.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { seedCloudSql, type CloudSqlFixture } from "../../src/demo/cloud-sql/fixtures.js";
import { PROJECT, REGION, startGcpWorld, type GcpWorld } from "./harness.js";

let world: GcpWorld;
let db: CloudSqlFixture;
const INSTANCE = "staging-postgres-db";
const CONNECTION = `${PROJECT}:${REGION}:${INSTANCE}`;

beforeAll(async () => {
  world = await startGcpWorld();
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  world.reset();
  db = seedCloudSql(world.emulator.state, { project: PROJECT, region: REGION, instance: INSTANCE, maintenanceAt: new Date(Date.now() + 36 * 3_600_000) });
});

const PLANNED = {
  tier: "db-custom-2-4096",
  databaseVersion: "POSTGRES_15",
  availabilityType: "ZONAL",
  dataDiskSizeGb: "<= 100",
  ipType: "PRIVATE",
  sslMode: "ENCRYPTED_ONLY",
  flags: { max_connections: "200" },
};

describe("cloud-sql check against the emulator", () => {
  it("RUNNABLE, ALWAYS and as planned → pass, with the issue's metrics", async () => {
    const result = await world.check({ kind: "cloud-sql", instance: CONNECTION, expect: PLANNED });
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    expect(result.metrics).toMatchObject({
      state: "RUNNABLE",
      activationPolicy: "ALWAYS",
      outOfDisk: false,
      instance: `projects/${PROJECT}/instances/${INSTANCE}`,
      connectionName: CONNECTION,
      tier: "db-custom-2-4096",
      databaseVersion: "POSTGRES_15",
      dataDiskSizeGb: 50,
      dataDiskType: "PD_SSD",
      storageAutoResize: true,
      ipType: "PRIVATE",
      privateIp: "10.20.0.5",
      publicIp: null,
      sslMode: "ENCRYPTED_ONLY",
      connectorEnforcement: "NOT_REQUIRED",
      "flags.max_connections": "200",
      converged: true,
    });
    expect(result.metrics.serverCaExpiresInDays).toBeGreaterThan(2000);
    expect(result.metrics.maintenanceInHours).toBeGreaterThan(35);
    expect(result.metrics.maintenanceInHours).toBeLessThanOrEqual(36);
    // Three default expectations (state, activationPolicy, outOfDisk), six planned metrics and the flag.
    expect(result.assertions.map((assertion) => assertion.metric)).toEqual(
      expect.arrayContaining(["state", "activationPolicy", "outOfDisk", "tier", "dataDiskSizeGb", "flags.max_connections"]),
    );
    expect(result.assertions).toHaveLength(10);
  });

  it("the instance id alone with gcp.project", async () => {
    const result = await world.check({ kind: "cloud-sql", instance: INSTANCE });
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
  });

  it("drift: every mismatch listed, flags included", async () => {
    db.patch({ databaseVersion: "POSTGRES_14", settings: { tier: "db-f1-micro", dataDiskSizeGb: "250", databaseFlags: [{ name: "max_connections", value: "100" }] } });
    db.setIpAddresses([
      { type: "PRIVATE", ipAddress: "10.20.0.5" },
      { type: "PRIMARY", ipAddress: "34.66.1.2" },
    ]);
    const result = await world.check({ kind: "cloud-sql", instance: CONNECTION, expect: PLANNED });
    expect(result.failure?.class).toBe("drift");
    expect(result.assertions.filter((assertion) => !assertion.ok).map((assertion) => assertion.metric)).toEqual([
      "tier",
      "databaseVersion",
      "dataDiskSizeGb",
      "ipType",
      "flags.max_connections",
    ]);
    expect(result.failure?.message).toContain('ipType is "PUBLIC_AND_PRIVATE", expected PRIVATE');
    expect(result.failure?.hint).toContain(`gcloud sql instances describe ${INSTANCE} --project ${PROJECT}`);
  });

  it("stopped by its owner: RUNNABLE to the API, activationPolicy NEVER → unhealthy STOPPED", async () => {
    db.stop();
    const result = await world.check({ kind: "cloud-sql", instance: CONNECTION });
    expect(result.failure).toMatchObject({ class: "unhealthy", code: "STOPPED" });
    expect(result.failure?.message).toContain("is stopped (activationPolicy NEVER)");
    expect(result.failure?.hint).toContain(`gcloud sql instances patch ${INSTANCE} --activation-policy ALWAYS --project ${PROJECT}`);
    expect(result.metrics.state).toBe("RUNNABLE");
  });

  it("MAINTENANCE → unhealthy with the state's meaning, not converged", async () => {
    db.startMaintenance();
    const result = await world.check({ kind: "cloud-sql", instance: CONNECTION, expect: { tier: "db-custom-2-4096" } });
    expect(result.failure).toMatchObject({ class: "unhealthy", code: "MAINTENANCE" });
    expect(result.failure?.message).toContain("in maintenance");
    expect(result.metrics.converged).toBe(false);
  });

  it("SUSPENDED names the suspension reason", async () => {
    db.suspend("KMS_KEY_ISSUE");
    const result = await world.check({ kind: "cloud-sql", instance: CONNECTION });
    expect(result.failure).toMatchObject({ class: "unhealthy", code: "SUSPENDED" });
    expect(result.failure?.message).toContain("customer-managed encryption key");
    expect(result.metrics.suspensionReason).toEqual(["KMS_KEY_ISSUE"]);
  });

  it("a full disk → unhealthy, with the recommended increase", async () => {
    db.fillDisk();
    const result = await world.check({ kind: "cloud-sql", instance: CONNECTION });
    expect(result.failure).toMatchObject({ class: "unhealthy", code: "SOFT_SHUTDOWN" });
    expect(result.failure?.message).toContain("ran out of disk (SOFT_SHUTDOWN, 50 GB disk)");
    expect(result.failure?.hint).toContain("at least 10 GB more");
  });

  it("an instance that does not exist is 403 notAuthorized: does not exist, or you may not see it", async () => {
    const result = await world.check({ kind: "cloud-sql", instance: `${PROJECT}:${REGION}:staging-postgres-gone` });
    expect(result.failure).toMatchObject({ class: "permission", phase: "getInstance" });
    expect(result.failure?.hint).toContain('instance "staging-postgres-gone" in project acme-staging does not exist, or you may not see it');
    expect(result.failure?.hint).toContain("roles/cloudsql.viewer");
  });

  it("a Get that never answers → timeout, with the instance's CPU from Cloud Monitoring as evidence", async () => {
    world.emulator.state.fail("Get", { hang: true });
    world.emulator.state.setTimeSeries({ metricType: "cloudsql.googleapis.com/database/cpu/utilization", resourceLabels: { database_id: `${PROJECT}:${INSTANCE}` }, values: [0.5, 0.7] });
    const result = await world.check({ kind: "cloud-sql", instance: CONNECTION, timeout: "1s" });
    expect(result.failure?.class).toBe("timeout");
    expect(result.details?.evidence).toBe("Cloud SQL CPU 60 % over the last 10 min (max 70 %) — Cloud Monitoring metrics lag by up to ~3 minutes");
  });

  it("a bare id without any project → config", async () => {
    const result = await world.check({ kind: "cloud-sql", instance: INSTANCE }, { deps: { gcp: { emulatorHost: world.gcp.emulatorHost }, env: {} } });
    expect(result.failure?.class).toBe("config");
    expect(result.failure?.message).toContain('no Google Cloud project for Cloud SQL instance "staging-postgres-db"');
  });
});
