// A postgres check through the Cloud SQL connector, end to end and offline:
// the real @google-cloud/sql client asks the emulator for the connect
// settings and an ephemeral certificate; a TLS server on 127.0.0.N:3307
// (the instance's server-side proxy) checks that certificate and pipes to a
// real PostgreSQL, where the IAM user is a real role.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { seedCloudSql, type CloudSqlFixture } from "../../src/demo/cloud-sql/fixtures.js";
import { startCloudSqlServerProxy, type CloudSqlServerProxy } from "../../src/demo/cloud-sql/server-proxy.js";
import { startPostgres, type PostgresServer } from "../../src/demo/postgres.js";
import { existsSync } from "node:fs";
import path from "node:path";
import { runCli } from "../helpers/cli.js";
import { runMain } from "../helpers/main-io.js";
import { ROLES } from "../helpers/postgres-fixtures.js";
import { PROJECT, REGION, startGcpWorld, type GcpWorld } from "./harness.js";

const INSTANCE = "staging-postgres-db";
const CONNECTION = `${PROJECT}:${REGION}:${INSTANCE}`;
const IAM_USER = `infra-check-probe@${PROJECT}.iam`;

let world: GcpWorld;
let server: PostgresServer;
let proxy: CloudSqlServerProxy;
let db: CloudSqlFixture;

beforeAll(async () => {
  [world, server] = await Promise.all([
    startGcpWorld(),
    startPostgres({
      database: "app",
      roles: [ROLES.app],
      // Cloud SQL authenticates IAM users itself (the proxy vouches for them): PostgreSQL trusts that role.
      hba: [`host all "${IAM_USER}" 127.0.0.1/32 trust`, "host all all 127.0.0.1/32 scram-sha-256"],
    }),
  ]);
  await server.sql(`CREATE ROLE "${IAM_USER}" LOGIN`);
  db = seedCloudSql(world.emulator.state, { project: PROJECT, region: REGION, instance: INSTANCE });
  proxy = await startCloudSqlServerProxy({ state: world.emulator.state, instance: db.name, upstream: { host: server.host, port: server.port } });
}, 60_000);
afterAll(async () => {
  await Promise.all([proxy?.stop(), server?.stop(), world?.stop()]);
});
beforeEach(() => {
  world.reset();
  db = seedCloudSql(world.emulator.state, { project: PROJECT, region: REGION, instance: INSTANCE, privateIp: proxy.host });
});

const viaConnector = (cloudSql: Record<string, unknown> = {}, more: Record<string, unknown> = {}) => ({
  kind: "postgres",
  cloudSql: { instance: CONNECTION, ipType: "PRIVATE", auth: "iam", ...cloudSql },
  user: IAM_USER,
  database: "app",
  ...more,
});

describe("postgres through the Cloud SQL connector", () => {
  it("IAM login: connect settings, ephemeral certificate, TLS to 3307, query — every phase, the token never shown", async () => {
    const report = await world.run({ db: viaConnector() });
    const result = report.checks[0];
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    expect(Object.keys(result.phasesMs)).toEqual(["connectorSetup", "connect", "tls", "auth", "query"]);
    expect(result.metrics).toMatchObject({ cloudSqlIp: proxy.host, tls: true, value: 1, certSubject: `${PROJECT}:${INSTANCE}` });
    expect(result.metrics.ephemeralCertExpiresInMinutes).toBeGreaterThan(50);
    expect(result.target).toBe(`Cloud SQL ${CONNECTION}/app as ${IAM_USER} (connector, PRIVATE IP, IAM login)`);
    expect(proxy.connections.at(-1)).toMatchObject({ user: IAM_USER, iamLogin: true });
    const calls = world.emulator.calls.map((call) => call.method);
    expect(calls).toEqual(expect.arrayContaining(["GetConnectSettings", "GenerateEphemeralCert"]));
    expect(JSON.stringify(report)).not.toMatch(/emulator\.[A-Za-z0-9_-]{20,}/);
  });

  it("one RSA key pair per process: two connector checks in one run get certificates for the same public key", async () => {
    const before = world.emulator.state.cloudSqlIssuedCerts().length;
    const report = await world.run({ first: viaConnector(), second: viaConnector({ auth: "password" }, { user: ROLES.app.name, password: ROLES.app.password }) });
    expect(report.checks.map((check) => check.status)).toEqual(["pass", "pass"]);
    const issued = world.emulator.state.cloudSqlIssuedCerts();
    const keys = new Set(issued.slice(before).map((cert) => cert.publicKey));
    expect(issued.length - before).toBe(2);
    expect(keys.size).toBe(1);
    // And the same as every earlier check of this process: the key outlives a run (serve's cycles reuse it too).
    expect(new Set(issued.map((cert) => cert.publicKey)).size).toBe(1);
  });

  it("password auth through the connector: the role's own password", async () => {
    const result = await world.check(viaConnector({ auth: "password" }, { user: ROLES.app.name, password: ROLES.app.password }));
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    expect(proxy.connections.at(-1)).toMatchObject({ user: ROLES.app.name, iamLogin: false });
  });

  it("IAM login denied (no cloudsql.instances.login) → auth, naming roles/cloudsql.instanceUser", async () => {
    world.emulator.state.setCloudSqlIamLogin(db.name, IAM_USER, false);
    try {
      const result = await world.check(viaConnector());
      expect(result.failure).toMatchObject({ class: "auth", diagnosis: "pg.CLOUDSQL_IAM_LOGIN_DENIED", phase: "auth" });
      expect(result.failure?.message).toContain(`Cloud SQL IAM user authentication failed for user "${IAM_USER}"`);
      expect(result.failure?.hint).toContain("roles/cloudsql.instanceUser");
    } finally {
      world.emulator.state.setCloudSqlIamLogin(db.name, IAM_USER, true);
    }
  });

  // Either way the client is already sending its startup (auth phase) when the close arrives.
  it.each(["close-after-tls", "close-on-startup"] as const)("the server-side proxy closes the tunnel (%s) → pg.CLOUDSQL_TUNNEL_CLOSED with its real causes, not a generic reset", async (fault) => {
    proxy.setFault(fault);
    try {
      const result = await world.check(viaConnector());
      expect(result.failure).toMatchObject({ class: "auth", diagnosis: "pg.CLOUDSQL_TUNNEL_CLOSED", code: "TUNNEL_CLOSED", phase: "auth" });
      expect(result.failure?.message).toContain(`the server-side proxy of Cloud SQL instance ${CONNECTION} accepted the connector's TLS tunnel, then closed it`);
      expect(result.failure?.message).toMatch(/closed it (without a word|with a reset \(ECONNRESET\)), before/);
      expect(result.failure?.message).toContain(`IAM database login of "${IAM_USER}"`);
      expect(result.failure?.hint).toContain(`gcloud sql users create ${IAM_USER} --instance ${INSTANCE} --type cloud_iam_service_account`);
      expect(result.failure?.hint).toContain("roles/cloudsql.instanceUser");
      expect(result.failure?.hint).toContain("connectorEnforcement REQUIRED");
      expect(result.failure?.hint).toContain(`gcloud sql operations list --instance ${INSTANCE} --project ${PROJECT}`);
      expect(result.phasesMs.tls).toBeDefined();
      expect(result.phasesMs.auth).toBeUndefined();
    } finally {
      proxy.setFault(undefined);
    }
  });

  it("the proxy closes a password login's tunnel → the same diagnosis, the restart and the certificate first (no IAM advice)", async () => {
    proxy.setFault("close-on-startup");
    try {
      const result = await world.check(viaConnector({ auth: "password" }, { user: ROLES.app.name, password: ROLES.app.password }));
      expect(result.failure).toMatchObject({ class: "auth", diagnosis: "pg.CLOUDSQL_TUNNEL_CLOSED" });
      expect(result.failure?.message).toContain(`before PostgreSQL answered the login of "${ROLES.app.name}"`);
      expect(result.failure?.hint).toMatch(/^The proxy drops a connection it will not let through without saying why: the instance is restarting/);
      expect(result.failure?.hint).not.toContain("roles/cloudsql.instanceUser");
    } finally {
      proxy.setFault(undefined);
    }
  });

  it("a raw PostgreSQL that closes the connection keeps the generic diagnosis (the tunnel's is only for the connector)", async () => {
    const net = await import("node:net");
    const closing = net.createServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((resolve) => closing.listen(0, "127.0.0.1", resolve));
    try {
      const port = (closing.address() as { port: number }).port;
      const result = await world.check({ kind: "postgres", host: "127.0.0.1", port, user: ROLES.app.name, password: ROLES.app.password, database: "app", ssl: { mode: "disable" } });
      expect(result.failure?.diagnosis).not.toBe("pg.CLOUDSQL_TUNNEL_CLOSED");
    } finally {
      await new Promise((resolve) => closing.close(resolve));
    }
  });

  it("no roles/cloudsql.client: the connect settings are refused → permission", async () => {
    world.emulator.state.fail("GetConnectSettings", { code: "PERMISSION_DENIED" });
    const result = await world.check(viaConnector());
    expect(result.failure).toMatchObject({ class: "permission", phase: "connectorSetup" });
    expect(result.failure?.hint).toContain("roles/cloudsql.client");
  });

  it("certificate refresh 403 → permission, said as the ephemeral certificate's refresh", async () => {
    world.emulator.state.fail("GenerateEphemeralCert", { code: "PERMISSION_DENIED" });
    const result = await world.check(viaConnector());
    expect(result.failure).toMatchObject({ class: "permission", phase: "connectorSetup" });
    expect(result.failure?.message).toContain("GenerateEphemeralCert");
    expect(result.failure?.hint).toContain("ephemeral client certificate");
  });

  it("ipType PUBLIC on an instance with only a private IP → config, before dialling", async () => {
    const result = await world.check(viaConnector({ ipType: "PUBLIC" }));
    expect(result.failure).toMatchObject({ class: "config", diagnosis: "pg.CLOUDSQL_NO_ADDRESS" });
    expect(result.failure?.message).toContain(`has no PUBLIC address (it has: PRIVATE ${proxy.host})`);
    expect(result.phasesMs.connect).toBeUndefined();
  });

  it("an instance that does not exist → permission: does not exist, or you may not see it", async () => {
    const result = await world.check(viaConnector({ instance: `${PROJECT}:${REGION}:nope-db` }));
    expect(result.failure?.class).toBe("permission");
    expect(result.failure?.hint).toContain('instance "nope-db" does not exist, or you may not see it');
  });

  it("a server whose certificate names another instance → tls", async () => {
    // The instance now claims an address where another instance's proxy answers.
    const other = seedCloudSql(world.emulator.state, { project: PROJECT, region: REGION, instance: "other-db" });
    const otherProxy = await startCloudSqlServerProxy({ state: world.emulator.state, instance: other.name, upstream: { host: server.host, port: server.port } });
    try {
      db.setIpAddresses([{ type: "PRIVATE", ipAddress: otherProxy.host }]);
      const result = await world.check(viaConnector());
      expect(result.failure?.class).toBe("tls");
      expect(result.phasesMs.connect).toBeDefined();
    } finally {
      await otherProxy.stop();
    }
  });
});

describe("postgres and the cloud-sql check it depends on (relations owned by postgres)", () => {
  const instanceCheck = { kind: "cloud-sql", instance: CONNECTION };

  it("a stopped instance blocks the connector check, with the instance as the root cause", async () => {
    db.stop();
    const report = await world.run({ "db-instance": instanceCheck, db: { ...viaConnector(), dependsOn: ["db-instance"] } });
    const [instance, check] = report.checks;
    expect(instance.failure).toMatchObject({ class: "unhealthy", code: "STOPPED" });
    expect(check).toMatchObject({ status: "blocked", blockedBy: ["db-instance"] });
  });

  it("connectorEnforcement REQUIRED and a raw host → config, before connecting", async () => {
    db.setConnectorEnforcement("REQUIRED");
    const report = await world.run({
      "db-instance": instanceCheck,
      db: { kind: "postgres", host: proxy.host, port: server.port, user: ROLES.app.name, password: ROLES.app.password, database: "app", dependsOn: ["db-instance"] },
    });
    const check = report.checks[1];
    expect(check.failure).toMatchObject({ class: "config", diagnosis: "pg.CLOUDSQL_CONNECTOR_REQUIRED", phase: "preflight" });
    expect(check.failure?.hint).toContain(`cloudSql: { instance: ${CONNECTION}, ipType: PRIVATE }`);
    expect(check.phasesMs.connect).toBeUndefined();
  });

  it("ipType PUBLIC on an instance without a public IP → config from the instance check's metrics, no Admin API call", async () => {
    const before = world.emulator.calls.length;
    const report = await world.run({ "db-instance": instanceCheck, db: { ...viaConnector({ ipType: "PUBLIC" }), dependsOn: ["db-instance"] } });
    expect(report.checks[1].failure).toMatchObject({ class: "config", diagnosis: "pg.CLOUDSQL_NO_SUCH_ADDRESS", phase: "preflight" });
    expect(world.emulator.calls.slice(before).map((call) => call.method)).toEqual(["Get"]);
  });

  it("cloudSql.instance names another instance than the cloud-sql check it depends on → config, before the connector is asked anything", async () => {
    seedCloudSql(world.emulator.state, { project: PROJECT, region: REGION, instance: "other-db", privateIp: proxy.host });
    const before = world.emulator.calls.length;
    const report = await world.run({
      "db-instance": { kind: "cloud-sql", instance: `${PROJECT}:${REGION}:other-db` },
      db: { ...viaConnector(), dependsOn: ["db-instance"] },
    });
    const check = report.checks[1];
    expect(check.failure).toMatchObject({ class: "config", diagnosis: "pg.CLOUDSQL_OTHER_INSTANCE", code: "OTHER_INSTANCE", phase: "preflight" });
    expect(check.failure?.message).toContain(`cloudSql.instance is ${CONNECTION}, but the cloud-sql check "db-instance" it depends on watches ${PROJECT}:${REGION}:other-db (another instance id: ${INSTANCE}, not other-db)`);
    expect(check.failure?.hint).toContain(`cloudSql.instance: ${PROJECT}:${REGION}:other-db`);
    expect(world.emulator.calls.slice(before).map((call) => call.method)).toEqual(["Get"]);
    expect(check.phasesMs.connectorSetup).toBeUndefined();
  });

  it("the right instance id in another region than the instance's → config (preflight with a cloud-sql check; the connector's own check without)", async () => {
    const wrong = `${PROJECT}:europe-west1:${INSTANCE}`;
    const report = await world.run({ "db-instance": instanceCheck, db: { ...viaConnector({ instance: wrong }), dependsOn: ["db-instance"] } });
    expect(report.checks[1].failure).toMatchObject({ class: "config", diagnosis: "pg.CLOUDSQL_OTHER_INSTANCE" });
    expect(report.checks[1].failure?.message).toContain(`instance ${INSTANCE} is in ${REGION}, not europe-west1`);
    const alone = await world.check(viaConnector({ instance: wrong }));
    expect(alone.failure).toMatchObject({ class: "config", diagnosis: "pg.CLOUDSQL_WRONG_REGION", phase: "connectorSetup" });
    expect(alone.failure?.hint).toContain(`Use the instance's connection name: ${CONNECTION}`);
    expect(alone.phasesMs.connect).toBeUndefined();
  });

  it("with two cloud-sql checks in dependsOn, the one of this instance is the one that counts", async () => {
    seedCloudSql(world.emulator.state, { project: PROJECT, region: REGION, instance: "replica-db", privateIp: "10.20.0.9" });
    const report = await world.run({
      "db-instance": instanceCheck,
      replica: { kind: "cloud-sql", instance: `${PROJECT}:${REGION}:replica-db` },
      db: { ...viaConnector(), dependsOn: ["db-instance", "replica"] },
    });
    expect(report.checks.map((check) => check.status)).toEqual(["pass", "pass", "pass"]);
  });

  it("ipType PSC on an instance without Private Service Connect → config from the instance check's metrics", async () => {
    const report = await world.run({ "db-instance": instanceCheck, db: { ...viaConnector({ ipType: "PSC" }), dependsOn: ["db-instance"] } });
    expect(report.checks[0].metrics.pscEnabled).toBe(false);
    expect(report.checks[1].failure).toMatchObject({ class: "config", diagnosis: "pg.CLOUDSQL_NO_SUCH_ADDRESS", phase: "preflight" });
    expect(report.checks[1].failure?.message).toContain("has no PSC address");
  });

  it("through the connector, after the instance check passed", async () => {
    const report = await world.run({ "db-instance": instanceCheck, db: { ...viaConnector(), dependsOn: ["db-instance"] } });
    expect(report.checks.map((check) => check.status)).toEqual(["pass", "pass"]);
  });

  it("a raw IP that is none of the instance's addresses → drift", async () => {
    const report = await world.run({
      "db-instance": instanceCheck,
      db: { kind: "postgres", host: "127.0.0.1", port: server.port, user: ROLES.app.name, password: ROLES.app.password, database: "app", dependsOn: ["db-instance"] },
    });
    expect(report.checks[1].failure?.class).toBe("drift");
    expect(report.checks[1].failure?.message).toContain(proxy.host);
  });
});

describe("slow: evidence from Cloud Monitoring", () => {
  const series = (metric: string, values: number[], valueType: "DOUBLE" | "INT64" = "DOUBLE") =>
    world.emulator.state.setTimeSeries({ metricType: `cloudsql.googleapis.com/database/${metric}`, resourceType: "cloudsql_database", resourceLabels: { database_id: `${PROJECT}:${INSTANCE}` }, values, valueType });

  it("a slow query round trip carries the instance's CPU, memory, disk and backends — and stays slow", async () => {
    series("cpu/utilization", [0.95, 0.97, 0.99, 0.97]);
    series("memory/utilization", [0.41, 0.43]);
    series("postgresql/num_backends", [12, 15, 9], "INT64");
    // Another instance's series must not count.
    world.emulator.state.setTimeSeries({ metricType: "cloudsql.googleapis.com/database/cpu/utilization", resourceLabels: { database_id: `${PROJECT}:other-db` }, values: [0.01] });
    const result = await world.check({ ...viaConnector(), expect: { queryP95Ms: "< 0ms" } });
    expect(result.failure?.class).toBe("slow");
    expect(result.details?.evidence).toBe(
      "Cloud SQL CPU 97 % over the last 10 min (max 99 %); memory 42 % over the last 10 min (max 43 %); backends 12 over the last 10 min (max 15) — Cloud Monitoring metrics lag by up to ~3 minutes",
    );
    expect(result.details?.evidenceMetrics).toMatchObject({ cpuUtilization: { mean: 0.97, max: 0.99, points: 4 }, numBackends: { max: 15 } });
  });

  it("no series → says there is no data (and the lag), never a failure of its own", async () => {
    const result = await world.check({ ...viaConnector(), expect: { queryP95Ms: "< 0ms" } });
    expect(result.failure?.class).toBe("slow");
    expect(result.details?.evidence).toContain("no Cloud Monitoring data for the last 10 min");
  });

  it("Monitoring refused → a line of the details; the check's failure is still its own", async () => {
    world.emulator.state.fail("ListTimeSeries", { code: "PERMISSION_DENIED" });
    const result = await world.check({ ...viaConnector(), expect: { queryP95Ms: "< 0ms" } });
    expect(result.failure?.class).toBe("slow");
    expect(result.details?.evidence).toMatch(/^no evidence: /);
  });

  it("a passing check asks Monitoring nothing", async () => {
    const before = world.emulator.calls.length;
    const result = await world.check(viaConnector());
    expect(result.status).toBe("pass");
    expect(world.emulator.calls.slice(before).map((call) => call.method)).not.toContain("ListTimeSeries");
  });
});

describe("one-off commands", () => {
  it("infra-check postgres --cloud-sql … --ip-type private --iam → exit 0, through the connector", async () => {
    const result = await runMain(["postgres", "--cloud-sql", CONNECTION, "--ip-type", "private", "--iam", "--format", "json"], {
      cwd: process.cwd(),
      env: { PGUSER: IAM_USER, PGDATABASE: "app", PGPASSWORD: "ignored-with-iam", INFRA_CHECK_GCP_EMULATOR_HOST: world.gcp.emulatorHost },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const check = JSON.parse(result.stdout).checks[0];
    expect(Object.keys(check.phasesMs)).toEqual(["connectorSetup", "connect", "tls", "auth", "query"]);
  });

  it("--iam without --cloud-sql is a usage error", async () => {
    const result = await runMain(["postgres", "postgres://app@127.0.0.1/app", "--iam"], { cwd: process.cwd() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--iam goes with --cloud-sql INSTANCE");
  });

  it("infra-check cloud-sql CONNECTION --tier … → exit 0; drift → exit 1", async () => {
    const ok = await runMain(["cloud-sql", CONNECTION, "--tier", "db-custom-2-4096", "--ip-type", "private", "--emulator-host", world.gcp.emulatorHost], { cwd: process.cwd() });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const drift = await runMain(["cloud-sql", INSTANCE, "--project", PROJECT, "--tier", "db-f1-micro", "--emulator-host", world.gcp.emulatorHost], { cwd: process.cwd() });
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain('tier is "db-custom-2-4096", expected db-f1-micro');
  });

  it("a bare instance id without a project is a usage error naming --project", async () => {
    const result = await runMain(["cloud-sql", INSTANCE], { cwd: process.cwd(), env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("pass --project PROJECT or set GOOGLE_CLOUD_PROJECT");
  });
});

// The built CLI, spawned as a user runs it: the one-offs' flags, their help, exit codes and wording.
describe("one-off commands, the real CLI (bin/infra-check.js)", () => {
  beforeAll(() => {
    expect(existsSync(path.resolve(import.meta.dirname, "../../dist/cli.js")), "npm run build first").toBe(true);
  });
  const env = () => ({ INFRA_CHECK_GCP_EMULATOR_HOST: world.gcp.emulatorHost });

  it("postgres --cloud-sql P:R:I --ip-type PRIVATE --iam --user U --database D → exit 0, every connector phase", async () => {
    const result = await runCli(["postgres", "--cloud-sql", CONNECTION, "--ip-type", "PRIVATE", "--iam", "--user", IAM_USER, "--database", "app", "--format", "json"], { env: env() });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const check = JSON.parse(result.stdout).checks[0];
    expect(check).toMatchObject({ status: "pass", target: `Cloud SQL ${CONNECTION}/app as ${IAM_USER} (connector, PRIVATE IP, IAM login)` });
    expect(Object.keys(check.phasesMs)).toEqual(["connectorSetup", "connect", "tls", "auth", "query"]);
  });

  it("a failure says the flags, not the config keys: --ip-type PUBLIC on a private-only instance → exit 1", async () => {
    const result = await runCli(["postgres", "--cloud-sql", CONNECTION, "--iam", "--user", IAM_USER, "--database", "app", "--format", "json"], { env: env() });
    expect(result.code).toBe(1);
    const failure = JSON.parse(result.stdout).checks[0].failure;
    expect(failure).toMatchObject({ class: "config", diagnosis: "pg.CLOUDSQL_NO_ADDRESS" });
    expect(failure.message).toContain("--ip-type PUBLIC cannot connect");
    expect(failure.hint).toContain("Use --ip-type PRIVATE from inside the instance's VPC");
    expect(failure.hint).not.toContain("cloudSql.");
  });

  it("the proxy closing the tunnel → exit 1, the table says the proxy closed it and why", async () => {
    proxy.setFault("close-on-startup");
    try {
      const result = await runCli(["postgres", "--cloud-sql", CONNECTION, "--ip-type", "PRIVATE", "--iam", "--user", IAM_USER, "--database", "app"], { env: env() });
      expect(result.code).toBe(1);
      expect(result.stdout).toContain("accepted the connector's TLS tunnel, then closed it");
      expect(result.stdout).toContain("roles/cloudsql.instanceUser");
    } finally {
      proxy.setFault(undefined);
    }
  });

  it("--user next to a URL that names a user → exit 2, nothing checked", async () => {
    const result = await runCli(["postgres", "postgres://app@127.0.0.1/app", "--user", "other"], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--user other: the URL names a user too; keep only one");
  });

  it("cloud-sql P:R:I --expect k=v: a database flag and the tier as drift → exit 1, each mismatch listed", async () => {
    const ok = await runCli(["cloud-sql", CONNECTION, "--expect", "flags.max_connections=200", "--connector-enforcement", "not_required"], { env: env() });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const drift = await runCli(["cloud-sql", CONNECTION, "--expect", "flags.max_connections=100", "--expect", "tier=db-f1-micro", "--format", "json"], { env: env() });
    expect(drift.code).toBe(1);
    const check = JSON.parse(drift.stdout).checks[0];
    expect(check.failure.class).toBe("drift");
    const failed = check.assertions.filter((assertion: { ok: boolean }) => !assertion.ok).map((assertion: { metric: string }) => assertion.metric);
    expect(failed.sort()).toEqual(["flags.max_connections", "tier"]);
  });

  it("--help teaches both commands: the connector flags, the roles they need, an example of each form", async () => {
    const postgres = await runCli(["postgres", "--help"]);
    expect(postgres.code).toBe(0);
    for (const text of ["--cloud-sql <instance>", "--ip-type <type>", "--iam", "--user <name>", "--database <name>", "roles/cloudsql.client", "roles/cloudsql.instanceUser"]) expect(postgres.stdout).toContain(text);
    expect(postgres.stdout).toContain("infra-check postgres --cloud-sql acme-staging:us-central1:staging-postgres-db --ip-type PRIVATE --iam --user");
    const cloudSql = await runCli(["cloud-sql", "--help"]);
    expect(cloudSql.code).toBe(0);
    for (const text of ["PROJECT:REGION:INSTANCE", "--expect <assertion>", "--connector-enforcement <mode>", "roles/cloudsql.viewer", "--expect flags.max_connections=200"]) expect(cloudSql.stdout).toContain(text);
  });
});

describe("postgres cloudSql: config", () => {
  it.each([
    [{ host: "10.20.0.5" }, "remove `host:`"],
    [{ ssl: "require" }, "remove `ssl:`"],
    [{ password: "x" }, "logs in with the identity's OAuth2 token"],
  ])("%j with cloudSql → exit 2 naming the key", async (extra, says) => {
    await expect(world.check(viaConnector({}, extra))).rejects.toThrow(says);
  });
});
