// How the Google clients fail and authenticate: an endpoint that refuses,
// drops packets or never answers (bounded by the check's budget), missing
// Application Default Credentials (one clear `auth` failure, no stack trace,
// no unhandled rejection, nothing leaves the machine), and the production
// path (TLS + ADC service-account credentials) against the emulator served
// over TLS that demands a bearer token.
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGcpWorld, PROJECT, REGION, type GcpWorld } from "./harness.js";
import { blackholePort, closedPort, httpServer, silentServer } from "../helpers/net.js";
import { runCli } from "../helpers/cli.js";
import { makeCerts, type CertSet } from "../../src/demo/certs.js";
import { startGcpEmulator } from "../../src/demo/gcp-emulator/index.js";
import { seedCloudStack } from "../../src/demo/gcp-fixtures.js";
import { startRedisServer } from "../../src/demo/redis-server.js";
import { stackOptions } from "./harness.js";

let world: GcpWorld;
let scratch: string;
beforeAll(async () => {
  world = await startGcpWorld();
  scratch = await mkdtemp(path.join(tmpdir(), "infra-check-gcp-test-"));
});
afterAll(async () => {
  await world?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const check = { kind: "cloud-run", service: "backend-staging", timeout: "1s" };
const deps = (emulatorHost: string) => ({ gcp: { project: PROJECT, region: REGION, emulatorHost }, env: {} });

describe("an emulator endpoint that is not there", () => {
  it("closed port → refused, naming the endpoint, at once (no library retries)", async () => {
    const port = await closedPort();
    const result = await world.check(check, { deps: deps(`127.0.0.1:${port}`) });
    expect(result.failure).toMatchObject({ class: "refused", code: "ECONNREFUSED" });
    expect(result.failure?.message).toContain(`connection refused by 127.0.0.1:${port}`);
    expect(result.failure?.hint).toContain("Start the emulator");
    expect(result.durationMs).toBeLessThan(result.budgetMs);
  });

  it("SYN blackhole → unreachable within the check's budget", async () => {
    const blackhole = await blackholePort();
    try {
      const result = await world.check(check, { deps: deps(`127.0.0.1:${blackhole.port}`) });
      // The probe's own deadline says which endpoint; should the runner's budget fire first, the phase still says "not connected".
      expect(result.failure).toMatchObject({ class: "unreachable", code: "CONNECT_TIMEOUT", phase: "connect" });
      expect(result.failure?.message).toMatch(new RegExp(`no gRPC connection to 127\\.0\\.0\\.1:${blackhole.port} within the check's 1\\.00 s budget|no TCP connection`));
      expect(result.durationMs).toBeLessThanOrEqual(result.budgetMs + 100);
    } finally {
      await blackhole.stop();
    }
  });

  it("a TCP server that never speaks HTTP/2 → unreachable (no gRPC connection), not a hang", async () => {
    const silent = await silentServer();
    try {
      const result = await world.check(check, { deps: deps(`127.0.0.1:${silent.port}`) });
      expect(result.failure).toMatchObject({ class: "unreachable", phase: "connect" });
      expect(result.failure?.message).toMatch(/does not speak gRPC\/HTTP2|packets are dropped/);
      expect(silent.connections()).toBeGreaterThan(0);
    } finally {
      await silent.stop();
    }
  });

  it("connected, but the API never answers → timeout naming the RPC", async () => {
    world.emulator.state.fail("GetService", { hang: true });
    try {
      const result = await world.check(check);
      // The call's own deadline names the RPC; should the runner's budget fire first on a loaded machine, the phase still says "connected".
      expect(result.failure, result.failure?.message).toMatchObject({ class: "timeout", phase: "getService" });
      expect(result.failure?.message).toMatch(
        new RegExp(`Cloud Run GetService projects/${PROJECT}/locations/${REGION}/services/backend-staging: connected to ${world.gcp.emulatorHost} but no answer|connected but no answer during getService`),
      );
      expect(result.durationMs).toBeLessThanOrEqual(result.budgetMs + 100);
    } finally {
      world.emulator.state.fail("GetService", null);
    }
  });

  it("an invalid emulator host is a config failure naming the setting", async () => {
    const result = await world.check({ ...check, emulatorHost: undefined }, { deps: deps("not a host") });
    expect(result.failure?.class).toBe("config");
    expect(result.failure?.message).toContain('"not a host" is not host:port');
  });
});

describe("Application Default Credentials", () => {
  it("missing ADC → one auth failure per Google check, with the gcloud hint; no unhandled rejection; only loopback touched", async () => {
    const port = await closedPort();
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = path.join(scratch, "no-such-key.json");
    try {
      const report = await world.run(
        {
          backend: { kind: "cloud-run", service: "backend-staging" },
          connector: { kind: "vpc-connector", name: "staging-connector" },
          instance: { kind: "memorystore", instance: "staging-redis-f1adc35c" },
        },
        // No emulator: the production path, aimed at a closed loopback port so that even a mistake stays on this machine.
        { deps: { gcp: { project: PROJECT, region: REGION, apiEndpoint: `127.0.0.1:${port}` }, env: {} } },
      );
      for (const result of report.checks) {
        expect(result.failure).toMatchObject({ class: "auth", code: "NO_ADC", phase: "auth" });
        expect(result.failure?.message).toContain("no usable Google Application Default Credentials");
        expect(result.failure?.message).toContain("no-such-key.json does not exist");
        expect(result.failure?.hint).toContain("gcloud auth application-default login");
      }
      // Let any stray rejection surface before looking.
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).toEqual([]);
    } finally {
      process.off("unhandledRejection", onRejection);
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
    }
  });

  it("the built CLI with no credentials at all (empty HOME): exit 1, the auth diagnosis, no stack trace", async () => {
    const port = await closedPort();
    const home = await mkdtemp(path.join(scratch, "home-"));
    const config = path.join(scratch, "no-adc.yaml");
    await writeFile(
      config,
      [
        "gcp:",
        `  project: ${PROJECT}`,
        `  region: ${REGION}`,
        `  apiEndpoint: 127.0.0.1:${port}`,
        "checks:",
        "  backend:",
        "    kind: cloud-run",
        "    service: backend-staging",
        "",
      ].join("\n"),
    );
    const result = await runCli(["run", "--config", config, "--format", "json"], { env: { HOME: home, GOOGLE_APPLICATION_CREDENTIALS: "" } });
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.checks[0].failure).toMatchObject({ class: "auth", code: "NO_ADC" });
    expect(report.checks[0].failure.message).toContain("Could not load the default credentials");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  describe("production path: TLS + service-account ADC against an emulator that requires a bearer token", () => {
    let certs: CertSet;
    let key: string;
    let tokens: Awaited<ReturnType<typeof httpServer>>;
    beforeAll(async () => {
      certs = await makeCerts();
      // The clients sign their own JWTs (self-signed JWT with scopes); should a library version exchange
      // the key for a token instead, it happens here on loopback, never at oauth2.googleapis.com.
      tokens = await httpServer((req, res) => {
        req.resume();
        req.on("end", () => {
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify({ access_token: "ya29.test-token-for-the-emulator", expires_in: 3600, token_type: "Bearer" }));
        });
      });
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      key = path.join(scratch, "service-account.json");
      await writeFile(
        key,
        JSON.stringify({
          type: "service_account",
          project_id: PROJECT,
          private_key_id: "0123456789abcdef",
          private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
          client_email: `infra-check@${PROJECT}.iam.gserviceaccount.com`,
          client_id: "100000000000000000001",
          token_uri: tokens.url("/token"),
        }),
      );
    });
    afterAll(async () => {
      await tokens?.stop();
      await certs?.cleanup();
    });

    it("every client (the vpc-access one bundles its own google-gax) authenticates and passes", async () => {
      const emulator = await startGcpEmulator({
        tls: { cert: await readFile(certs.server.cert, "utf8"), key: await readFile(certs.server.key, "utf8") },
        requireAuth: true,
      });
      try {
        seedCloudStack(emulator.state, stackOptions());
        const config = path.join(scratch, "adc.yaml");
        await writeFile(
          config,
          [
            "gcp:",
            `  project: ${PROJECT}`,
            `  region: ${REGION}`,
            `  apiEndpoint: 127.0.0.1:${emulator.port}`,
            "checks:",
            "  backend: { kind: cloud-run, service: backend-staging }",
            "  connector: { kind: vpc-connector, name: staging-connector }",
            "  instance: { kind: memorystore, instance: staging-redis-f1adc35c }",
            "",
          ].join("\n"),
        );
        const result = await runCli(["run", "--config", config, "--format", "json"], {
          env: { GOOGLE_APPLICATION_CREDENTIALS: key, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: certs.caCert },
        });
        const report = JSON.parse(result.stdout);
        expect(report.checks.map((entry: { status: string; failure: unknown }) => [entry.status, entry.failure]), result.stderr).toEqual([
          ["pass", null],
          ["pass", null],
          ["pass", null],
        ]);
        expect(result.code).toBe(0);
        expect(emulator.calls.length).toBeGreaterThanOrEqual(4);
        expect(emulator.calls.every((call) => call.authorized)).toBe(true);
        expect(Object.keys(report.checks[0].phasesMs)).toEqual(["auth", "client", "connect", "getService", "getRevisions"]);
        expect(result.stdout).not.toContain("ya29.test-token");
      } finally {
        await emulator.stop();
      }
    });

    it("gcp.apiEndpoints per API: the v1 digest read (REST) and Artifact Registry over TLS with the token, a regional secret at its own endpoint", async () => {
      const tlsOptions = { tls: { cert: await readFile(certs.server.cert, "utf8"), key: await readFile(certs.server.key, "utf8") }, requireAuth: true };
      // Two emulators stand for two Private Service Connect endpoints: Cloud Run + Artifact Registry on one, Secret Manager's regional one on the other.
      const [runEndpoint, secretEndpoint] = await Promise.all([startGcpEmulator(tlsOptions), startGcpEmulator(tlsOptions)]);
      try {
        seedCloudStack(runEndpoint.state, stackOptions());
        const regional = `projects/${PROJECT}/locations/us-east1/secrets/app-token`;
        secretEndpoint.state.addSecretVersion(regional, "t0ken-from-the-regional-endpoint");
        const redis = await startRedisServer({ password: "t0ken-from-the-regional-endpoint" });
        const config = path.join(scratch, "endpoints.yaml");
        await writeFile(
          config,
          [
            "gcp:",
            `  project: ${PROJECT}`,
            `  region: ${REGION}`,
            "  apiEndpoints:",
            `    run: 127.0.0.1:${runEndpoint.port}`,
            `    artifactregistry: 127.0.0.1:${runEndpoint.port}`,
            `    secretmanager.us-east1.rep.googleapis.com: 127.0.0.1:${secretEndpoint.port}`,
            "checks:",
            `  backend: { kind: cloud-run, service: backend-staging, expect: { image: "*:${stackOptions().labels!["commit-sha"]}" } }`,
            `  cache: { kind: redis, url: "${redis.url}", password: { secret: ${regional} } }`,
            "",
          ].join("\n"),
        );
        const result = await runCli(["run", "--config", config, "--format", "json"], {
          // grpc-js reads its roots from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, Node's fetch (the REST read) from NODE_EXTRA_CA_CERTS.
          env: { GOOGLE_APPLICATION_CREDENTIALS: key, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: certs.caCert, NODE_EXTRA_CA_CERTS: certs.caCert },
        });
        await redis.stop();
        const report = JSON.parse(result.stdout);
        expect(report.checks.map((entry: { status: string; failure: unknown }) => [entry.status, entry.failure]), result.stderr).toEqual([
          ["pass", null],
          ["pass", null],
        ]);
        expect(runEndpoint.calls.map((call) => call.method)).toEqual(["GetService", "GetRevision", "v1.GetRevision", "GetTag"]);
        expect(runEndpoint.calls.every((call) => call.authorized)).toBe(true);
        expect(secretEndpoint.calls).toMatchObject([{ method: "AccessSecretVersion", name: `${regional}/versions/latest`, authorized: true }]);
        expect(report.checks[0].metrics.imageDigest).toBe(runEndpoint.state.tagDigest(stackOptions().image));
      } finally {
        await Promise.all([runEndpoint.stop(), secretEndpoint.stop()]);
      }
    });

    it("Workload Identity Federation: the STS exchange happens in the auth phase, and its refusal is an auth failure there", async () => {
      const subjectToken = path.join(scratch, "github-oidc-token");
      await writeFile(subjectToken, "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl");
      let refuse = false;
      const exchanges: number[] = [];
      const sts = await httpServer((req, res) => {
        req.resume();
        req.on("end", () => {
          exchanges.push(emulatorCalls());
          res.setHeader("content-type", "application/json");
          if (refuse) {
            res.statusCode = 400;
            res.end(JSON.stringify({ error: "invalid_grant", error_description: "The audience in ID Token does not match the expected audience." }));
          } else {
            res.end(JSON.stringify({ access_token: "ya29.federated", issued_token_type: "urn:ietf:params:oauth:token-type:access_token", token_type: "Bearer", expires_in: 3600 }));
          }
        });
      });
      const emulator = await startGcpEmulator({ tls: { cert: await readFile(certs.server.cert, "utf8"), key: await readFile(certs.server.key, "utf8") }, requireAuth: true });
      const emulatorCalls = () => emulator.calls.length;
      try {
        seedCloudStack(emulator.state, stackOptions());
        const credentials = path.join(scratch, "wif.json");
        await writeFile(
          credentials,
          JSON.stringify({
            type: "external_account",
            audience: "//iam.googleapis.com/projects/204718835623/locations/global/workloadIdentityPools/github/providers/acme",
            subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
            token_url: sts.url("/v1/token"),
            credential_source: { file: subjectToken },
          }),
        );
        const config = path.join(scratch, "wif.yaml");
        await writeFile(config, `gcp: { project: ${PROJECT}, region: ${REGION}, apiEndpoint: "127.0.0.1:${emulator.port}" }\nchecks:\n  backend: { kind: cloud-run, service: backend-staging }\n`);
        const env = { GOOGLE_APPLICATION_CREDENTIALS: credentials, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: certs.caCert };
        const ok = JSON.parse((await runCli(["run", "--config", config, "--format", "json"], { env })).stdout);
        expect(ok.checks[0].status, JSON.stringify(ok.checks[0].failure)).toBe("pass");
        // Exchanged before the first RPC reached the API: its cost is in `auth`, not in getService.
        expect(exchanges).toEqual([0]);
        expect(Object.keys(ok.checks[0].phasesMs)).toEqual(["auth", "client", "connect", "getService", "getRevisions"]);
        refuse = true;
        emulator.calls.length = 0;
        const refused = JSON.parse((await runCli(["run", "--config", config, "--format", "json"], { env })).stdout);
        expect(refused.checks[0].failure).toMatchObject({ class: "auth", code: "NO_TOKEN", phase: "auth" });
        expect(refused.checks[0].failure.message).toContain("could not produce an access token");
        expect(refused.checks[0].failure.message).toContain("invalid_grant");
        expect(refused.checks[0].failure.hint).toContain("workload identity provider");
        expect(emulator.calls).toEqual([]);
      } finally {
        await Promise.all([emulator.stop(), sts.stop()]);
      }
    });

    it("an API that rejects the token → auth (UNAUTHENTICATED)", async () => {
      const emulator = await startGcpEmulator({ tls: { cert: await readFile(certs.server.cert, "utf8"), key: await readFile(certs.server.key, "utf8") } });
      try {
        seedCloudStack(emulator.state, stackOptions());
        emulator.state.fail("*", { code: "UNAUTHENTICATED" });
        const config = path.join(scratch, "rejected.yaml");
        await writeFile(config, `gcp: { project: ${PROJECT}, region: ${REGION}, apiEndpoint: "127.0.0.1:${emulator.port}" }\nchecks:\n  backend: { kind: cloud-run, service: backend-staging }\n`);
        const result = await runCli(["run", "--config", config, "--format", "json"], {
          env: { GOOGLE_APPLICATION_CREDENTIALS: key, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: certs.caCert },
        });
        const report = JSON.parse(result.stdout);
        expect(report.checks[0].failure).toMatchObject({ class: "auth", code: "UNAUTHENTICATED" });
        expect(report.checks[0].failure.hint).toContain("gcloud auth application-default login");
        expect(result.code).toBe(1);
      } finally {
        await emulator.stop();
      }
    });
  });
});
