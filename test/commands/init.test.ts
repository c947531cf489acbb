// `infra-check init --from-cloud-run` against the Google emulator with a
// service of real shapes (secretKeyRefs, a Cloud SQL volume, a connector or
// Direct VPC, env names in several styles, a literal DATABASE_URL with a
// password), through main() as a user runs it: the file it writes, the
// mapping table, the no-overwrite rule, and that no literal credential from
// the service reaches the file.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import YAML from "yaml";
import { seedCloudSql } from "../../src/demo/cloud-sql/fixtures.js";
import { EMULATOR_ENV } from "../../src/gcp/resources.js";
import { loadConfigFile } from "../../src/config/load.js";
import { PROJECT, REGION, startGcpWorld, type GcpWorld } from "../gcp/harness.js";
import { runMain } from "../helpers/main-io.js";
import { runCli } from "../helpers/cli.js";

/** Literal credentials on the service: none may reach the generated file. */
const DB_URL_PASSWORD = "pg-literal-Zq8v1x";
const SESSION_TOKEN = "tok-literal-7f3k2m9q";
const SESSION_REDIS_PASSWORD = "sess-literal-p4ss";
/** The file's comments as one line each run of them (init wraps them at 80 columns). */
const comments = (text: string) => text.replace(/\n\s*# /g, " ");
const CONNECTION = `${PROJECT}:${REGION}:staging-postgres`;

const SERVICE_ENV = {
  // The app's own secrets (Secret Manager references): the checks reuse them.
  REDIS_PASSWORD: { secret: "redis-password-staging" },
  DB_PASSWORD: { secret: `projects/${PROJECT}/secrets/db-password`, version: "3" },
  // Redis by host, in the usual style; a second Redis in a prefixed style, with no Memorystore instance behind it.
  REDIS_HOST: "10.166.204.83",
  REDIS_PORT: "6379",
  SESSION_REDIS_URL: `redis://:${SESSION_REDIS_PASSWORD}@10.9.9.9:6380/2`,
  // A literal DATABASE_URL with a password in it (what the issue calls the dangerous case).
  DATABASE_URL: `postgres://app:${DB_URL_PASSWORD}@10.20.0.5:5432/appdb?sslmode=require`,
  // Literal credential-like variables nobody maps: never copied either.
  SESSION_TOKEN,
  featureFlags: "a,b",
  LOG_LEVEL: "info",
};

describe("infra-check init --from-cloud-run", () => {
  let world: GcpWorld;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  // The service's own address is *.run.app: tests never leave the machine, so --base-url points at this one.
  let health: http.Server;
  let baseUrl: string;

  beforeAll(async () => {
    health = http.createServer((request, response) => {
      if (request.url === "/healthz") response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "healthy", redis: "ok" }));
      else response.writeHead(404).end("not found");
    });
    await new Promise<void>((resolve) => health.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
    world = await startGcpWorld({ env: SERVICE_ENV });
    env = { [EMULATOR_ENV]: world.gcp.emulatorHost, METADATA_SERVER_DETECTION: "none" };
  });
  afterAll(async () => {
    await world?.stop();
    await new Promise((resolve) => health?.close(resolve));
  });
  beforeEach(async () => {
    world.reset();
    world.stack.mountCloudSql(CONNECTION, "volume");
    seedCloudSql(world.emulator.state, { project: PROJECT, region: REGION, instance: "staging-postgres", privateIp: "10.20.0.5" });
    dir = await mkdtemp(path.join(tmpdir(), "infra-check-init-"));
    return () => rm(dir, { recursive: true, force: true });
  });

  const init = (...args: string[]) =>
    runMain(["init", "--from-cloud-run", "backend-staging", "--project", PROJECT, "--region", REGION, "--base-url", baseUrl, ...args], { cwd: dir, env });

  it("writes a commented config that starts with the $schema line and maps every declared piece", async () => {
    const result = await init();
    expect(result.stderr).toContain("wrote config/staging.yaml");
    expect(result.code).toBe(0);
    const text = await readFile(path.join(dir, "config", "staging.yaml"), "utf8");
    expect(text.split("\n")[0]).toMatch(/^# yaml-language-server: \$schema=.*schema\/infra-check\.schema\.json$/);
    const config = YAML.parse(text);
    expect(config.gcp).toEqual({ project: PROJECT, region: REGION });
    const checks = config.checks as Record<string, Record<string, any>>;
    expect(checks.backend).toMatchObject({
      kind: "cloud-run",
      service: "backend-staging",
      expect: { image: `us-docker.pkg.dev/${PROJECT}/app/backend:*`, vpcConnector: "staging-connector", vpcEgress: "PRIVATE_RANGES_ONLY" },
    });
    expect(checks.backend.expect.env).toEqual(Object.keys(SERVICE_ENV).sort());
    expect(checks.connector).toEqual({ kind: "vpc-connector", name: "staging-connector", timeout: "5s" });
    expect(checks["cache-instance"]).toMatchObject({ kind: "memorystore", instance: "staging-redis-f1adc35c", expect: { host: "10.166.204.83", port: 6379, authEnabled: true } });
    expect(checks.cache).toEqual({
      kind: "redis",
      url: "redis://10.166.204.83:6379",
      password: { secret: `projects/${PROJECT}/secrets/redis-password-staging` },
      dependsOn: ["connector", "cache-instance"],
      // A private address: from inside the VPC, on the runner init declares.
      runner: "vpc",
    });
    // No Memorystore instance at that address: the redis check alone, still behind the connector.
    // Its URL's literal password is not copied: ${VAR} to export, said in a comment and at the end —
    // and since a runner receives its checks in plain text, this one stays here (the table says why).
    expect(checks.session).toEqual({ kind: "redis", url: "redis://10.9.9.9:6380/2", password: "${SESSION_REDIS_PASSWORD}", dependsOn: ["connector"] });
    expect(comments(result.stderr)).toMatch(/private target session: stays here: its password is a \$\{VAR\}.*Secret Manager/);
    expect(comments(text)).toContain("the URL carries a literal password: not copied; export SESSION_REDIS_PASSWORD");
    expect(result.stderr).toMatch(/Export .*SESSION_REDIS_PASSWORD/);
    expect(checks["db-instance"]).toMatchObject({ kind: "cloud-sql", instance: CONNECTION, expect: { tier: "db-custom-2-4096", databaseVersion: "POSTGRES_15" } });
    // The URL's password is gone; the app's own secret (at its pinned version) replaces it.
    expect(checks.db).toEqual({
      kind: "postgres",
      url: "postgres://app@10.20.0.5:5432/appdb?sslmode=require",
      password: { secret: `projects/${PROJECT}/secrets/db-password/versions/3` },
      dependsOn: ["connector", "db-instance"],
      runner: "vpc",
    });
    // The runner: a Cloud Run Job on the service's own connector and egress, as its service account.
    expect(config.runners).toEqual({
      vpc: { cloudRunJob: { job: "infra-check-probe", vpcConnector: "staging-connector", vpcEgress: "PRIVATE_RANGES_ONLY", serviceAccount: `backend@${PROJECT}.iam.gserviceaccount.com` } },
    });
    expect(text).toMatch(/# image: .*needed by runner deploy/);
    // The loader accepts it as a runner config: nothing secret would travel to the job.
    const loaded = await loadConfigFile(path.join(dir, "config", "staging.yaml"), { env: { ...env, SESSION_REDIS_PASSWORD: "x" } });
    expect(Object.fromEntries(loaded.checks.filter((check) => check.runner).map((check) => [check.name, check.runner]))).toEqual({ cache: "vpc", db: "vpc" });
    expect(result.stderr).toMatch(/private targets\s+runners\.vpc\s+cache, db run on a Cloud Run Job on the service's connector staging-connector/);
    // /health answered 404, /healthz 200 with the app's own verdict.
    expect(checks.health).toEqual({ kind: "http", url: `${baseUrl}/healthz`, expect: { "json.status": "healthy" } });
    // The mapping table: what each fact became, and what was not mapped and why.
    expect(result.stderr).toMatch(/service backend-staging\s+backend/);
    expect(result.stderr).toMatch(/Not mapped:[\s\S]*SESSION_TOKEN/);
  });

  it("never writes a literal credential from the service, even in the table", async () => {
    const result = await init();
    const text = await readFile(path.join(dir, "config", "staging.yaml"), "utf8");
    for (const secret of [DB_URL_PASSWORD, SESSION_TOKEN, SESSION_REDIS_PASSWORD, "s3cr3t-from-secret-manager"]) {
      expect(text).not.toContain(secret);
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
  });

  it("without an app secret, a literal password becomes ${VAR} with a comment, and the file still validates", async () => {
    world.reset();
    world.stack.mountCloudSql(CONNECTION, "annotation");
    seedCloudSql(world.emulator.state, { project: PROJECT, region: REGION, instance: "staging-postgres", privateIp: "10.20.0.5" });
    const { DB_PASSWORD: _, ...withoutSecret } = SERVICE_ENV;
    world.emulator.state.patch(world.stack.names.revisions.latest, (revision) => {
      const [container] = revision.containers as Record<string, unknown>[];
      container.env = Object.entries(withoutSecret).map(([name, value]) => (typeof value === "string" ? { name, value } : { name, valueSource: { secretKeyRef: { secret: value.secret, version: "latest" } } }));
    });
    const result = await init("-o", "out.yaml");
    expect(result.code).toBe(0);
    const text = await readFile(path.join(dir, "out.yaml"), "utf8");
    expect(text).not.toContain(DB_URL_PASSWORD);
    expect(YAML.parse(text).checks.db.password).toBe("${DATABASE_PASSWORD}");
    expect(comments(text)).toContain("the URL carries a literal password: not copied; export DATABASE_PASSWORD");
    expect(result.stderr).toMatch(/Export .*DATABASE_PASSWORD/);
    const validated = await runMain(["validate", "out.yaml"], { cwd: dir, env: { ...env, DATABASE_PASSWORD: "x", SESSION_REDIS_PASSWORD: "y" } });
    expect(validated.stderr).toBe("");
    expect(validated.code).toBe(0);
  });

  it("maps a Cloud SQL socket to the connector, and Direct VPC to the service check with no connector", async () => {
    world.stack.useDirectVpc("staging-vpc", "staging-subnet");
    world.emulator.state.patch(world.stack.names.revisions.latest, (revision) => {
      const [container] = revision.containers as Record<string, unknown>[];
      container.env = [
        { name: "DATABASE_URL", value: `postgresql://app@/appdb?host=/cloudsql/${CONNECTION}` },
        { name: "PGPASSWORD", valueSource: { secretKeyRef: { secret: "db-password", version: "latest" } } },
      ];
    });
    const result = await init("-o", "-", "--ws-path", "/ws", "--health-path", "/healthz");
    expect(result.code).toBe(0);
    const checks = YAML.parse(result.stdout).checks;
    expect(checks.chat).toEqual({ kind: "websocket", url: `${baseUrl.replace("http:", "ws:")}/ws` });
    expect(checks.backend.expect.directVpc).toEqual({ network: "staging-vpc", subnetwork: "staging-subnet" });
    expect(checks.backend.expect.vpcConnector).toBeUndefined();
    expect(checks.connector).toBeUndefined();
    expect(checks.db).toEqual({
      kind: "postgres",
      // The instance has a private IP only: the connector dials that one.
      cloudSql: { instance: CONNECTION, ipType: "PRIVATE" },
      user: "app",
      database: "appdb",
      password: { secret: `projects/${PROJECT}/secrets/db-password` },
      dependsOn: ["db-instance"],
      runner: "vpc",
    });
    expect(YAML.parse(result.stdout).runners.vpc.cloudRunJob).toMatchObject({ directVpc: { network: "staging-vpc", subnetwork: "staging-subnet" }, vpcEgress: "PRIVATE_RANGES_ONLY" });
    expect(result.stderr).toMatch(/Direct VPC egress: there is no connector to check/);
  });

  it("--runner local: no runners: block, the private targets run here (and the table says so)", async () => {
    const result = await init("-o", "-", "--runner", "local");
    expect(result.code).toBe(0);
    const config = YAML.parse(result.stdout);
    expect(config.runners).toBeUndefined();
    expect(config.checks.cache.runner).toBeUndefined();
    expect(result.stderr).toMatch(/private targets \(cache, session, db\): --runner local/);
  });

  it("a literal password that is also the user's name: the URL loses the password, the user stays", async () => {
    world.emulator.state.patch(world.stack.names.revisions.latest, (revision) => {
      const [container] = revision.containers as Record<string, unknown>[];
      container.env = [{ name: "DATABASE_URL", value: "postgres://postgres:postgres@10.20.0.5/postgres" }];
    });
    const result = await init("-o", "-");
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain("postgres:postgres@");
    expect(YAML.parse(result.stdout).checks.db).toMatchObject({ url: "postgres://postgres@10.20.0.5/postgres", password: "${DATABASE_PASSWORD}" });
  });

  it("re-running shows a diff and changes nothing without --force", async () => {
    expect((await init()).code).toBe(0);
    const file = path.join(dir, "config", "staging.yaml");
    const again = await init();
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("unchanged");
    const edited = (await readFile(file, "utf8")).replace("timeout: 3s", "timeout: 9s");
    await writeFile(file, edited);
    const diff = await init();
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain("-  timeout: 9s\n+  timeout: 3s");
    expect(diff.stderr).toContain("--force");
    expect(await readFile(file, "utf8")).toBe(edited);
    const forced = await init("--force");
    expect(forced.code).toBe(0);
    const written = await readFile(file, "utf8");
    expect(written).not.toContain("timeout: 9s");
    // The header names the command that made the file, not how it was written (--force, -o): a plain re-run is a no-op again.
    expect(comments(written)).toMatch(/Generated by `infra-check init --from-cloud-run backend-staging --project acme-staging --region us-central1 --base-url http:\/\/127\.0\.0\.1:\d+`/);
    expect(comments(written)).not.toMatch(/`infra-check init[^`]*--force/);
    expect((await init()).stderr).toContain("unchanged");
  });

  it("a denied Memorystore list or Cloud SQL read: those checks are written unpinned, and the table says why", async () => {
    world.emulator.state.fail("ListInstances", { code: "PERMISSION_DENIED", message: "Permission 'redis.instances.list' denied on resource 'projects/acme-staging/locations/us-central1'" });
    world.emulator.state.fail("Get", { code: "PERMISSION_DENIED", message: "The client is not authorized to make this request." });
    const result = await init("-o", "-");
    expect(result.code).toBe(0);
    const checks = YAML.parse(result.stdout).checks;
    expect(checks["cache-instance"]).toBeUndefined();
    expect(checks.cache).toMatchObject({ kind: "redis", url: "redis://10.166.204.83:6379", dependsOn: ["connector"] });
    expect(checks["db-instance"]).toEqual({ kind: "cloud-sql", instance: CONNECTION, timeout: "5s" });
    expect(result.stderr).toMatch(/Memorystore instances could not be listed \([^)]*redis\.instances\.list/);
    expect(result.stderr).toMatch(/instance not read \(.*\): no configuration pinned/);
    expect(result.stderr).toMatch(/if db reaches it, add db-instance to its dependsOn/);
    // What to do about it, once, after the table.
    expect(result.stderr.match(/grant roles\/redis\.viewer/g)).toHaveLength(1);
    expect(result.stderr).toMatch(/To map more:\n\s+→ .*roles\/redis\.viewer/);
  });

  it("a service that does not exist: the API's diagnosis, exit 1, nothing written", async () => {
    const result = await runMain(["init", "--from-cloud-run", "nope", "--project", PROJECT, "--region", REGION], { cwd: dir, env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/could not read nope.*No Cloud Run service "nope"/s);
    expect(result.stderr).toContain("Nothing was written.");
  });

  it("usage errors exit 2 and say what to give", async () => {
    const none = await runMain(["init"], { cwd: dir, env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--from-cloud-run SERVICE");
    const noRegion = await runMain(["init", "--from-cloud-run", "x", "--project", PROJECT], { cwd: dir, env: { ...env } });
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toContain("--region");
  });
});

describe("infra-check init --kinds", () => {
  it("writes a commented starter that validates once its variables are set", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "infra-check-init-"));
    try {
      const result = await runMain(["init", "--kinds", "redis,postgres,http,websocket,tcp,cloud-run,vpc-connector,memorystore,cloud-sql", "--project", "acme", "--region", "us-central1"], { cwd: dir });
      expect(result.code).toBe(0);
      const text = await readFile(path.join(dir, "config", "staging.yaml"), "utf8");
      expect(text.split("\n")[0]).toContain("$schema=");
      expect(text).toMatch(/# Redis: AUTH, PING latency percentiles/);
      const validated = await runMain(["validate", "staging"], { cwd: dir, env: { REDIS_PASSWORD: "x" } });
      expect(validated.stderr).toBe("");
      expect(validated.code).toBe(0);
      const unknown = await runMain(["init", "--kinds", "redis,mongo"], { cwd: dir });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/unknown kind mongo/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("infra-check init --help", () => {
  it.each([["init", "--help"], ["help", "init"]])("%s %s teaches: sources, the kinds' own flags, secrets, the no-overwrite rule, exit codes", async (...args) => {
    const result = await runMain(args, { cwd: process.cwd() });
    expect(result.code).toBe(0);
    for (const text of ["--from-cloud-run <service>", "--kinds <kinds>", "--runner <name>", "runner: vpc", "--health-path", "--ws-path", "--redis-env", "--expect-commit", "--base-url", "--force", "Secrets are never written", "prints the diff", "Exit codes:", "docs/init.md"]) {
      expect(result.stdout).toContain(text);
    }
  });
});

describe("the built CLI", () => {
  it("init is wired in the bundle: a starter on stdout, exit 0", async () => {
    const result = await runCli(["init", "--kinds", "redis,http", "-o", "-"]);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toContain("$schema=");
    expect(YAML.parse(result.stdout).checks).toMatchObject({ cache: { kind: "redis" }, health: { kind: "http" } });
  });
});
