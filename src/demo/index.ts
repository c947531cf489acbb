// The local stack of `infra-check demo`, the demo tests and the benchmarks:
// every piece of the chat product (docs/demo.md), on ephemeral loopback
// ports, started concurrently (PostgreSQL's initdb is the long pole), with
// the incidents of src/demo/breaks.ts injected on request.
//
// It returns the variables config/demo.yaml needs (ports, passwords,
// emulator address), a resolver for the names the breaks make unresolvable,
// and stop(), which stops everything it started — also when the start
// itself fails halfway or is aborted.
import { randomBytes } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { systemLookup } from "../net/resolve.js";
import type { LookupFn } from "../probes/api.js";
import { findBreaks, type BreakDefinition, type DemoControls, type DemoPlan } from "./breaks.js";
import { HEALTHY } from "./health-server.js";
import { findPostgresBinDir } from "./postgres.js";
import { PACKAGE_ROOT } from "../package-root.js";

/** config/demo.yaml of this package (dist/demo/index.js → ../../config). */
export const DEMO_CONFIG = path.join(PACKAGE_ROOT, "config", "demo.yaml");

/** The values config/demo.yaml reads as ${DEMO_…}. */
export const DEMO_PROJECT = "demo-project";
export const DEMO_REGION = "us-central1";
/** The demo's Cloud Run service (what `infra-check demo --print-config` reads with init). */
export const DEMO_SERVICE = "chat-backend";

export interface LocalStackOptions {
  /** Break names (src/demo/breaks.ts). */
  breaks?: readonly string[];
  /** Aborting stops whatever has started and rejects. */
  signal?: AbortSignal;
}

export interface LocalStack {
  /** Variables for config/demo.yaml (DEMO_*). */
  env: Record<string, string>;
  /** Which of `env` are passwords/secrets (never printed). */
  secretNames: string[];
  /** Resolver for runs against the stack: fails the names the breaks made unresolvable, and every `.invalid` name. */
  lookup: LookupFn;
  breaks: BreakDefinition[];
  /** Human-readable endpoints, for `--keep`. */
  endpoints: { name: string; url: string }[];
  /** How long each piece took to start, in ms. */
  startupMs: Record<string, number>;
  /** Write `env` to a 0600 file in the stack's temp dir (removed on stop); returns its path. */
  writeEnvFile(): Promise<string>;
  stop(): Promise<void>;
}

/** redis-server or PostgreSQL is not installed: the demo cannot run (exit 2). */
export class StackUnavailableError extends Error {
  constructor(readonly missing: { what: string; aptPackage: string }[]) {
    super(
      `${missing.map((entry) => entry.what).join(" and ")} not installed. ` +
        `Install ${missing.length > 1 ? "them" : "it"} with \`apt-get install -y ${missing.map((entry) => entry.aptPackage).join(" ")}\` ` +
        "(Debian/Ubuntu), or run `scripts/setup.sh`, which installs everything the demo and the tests need.",
    );
    this.name = "StackUnavailableError";
  }
}

interface Stoppable {
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const breaks = findBreaks(options.breaks ?? []);
  const missing = missingBinaries();
  if (missing.length) throw new StackUnavailableError(missing);

  const plan = defaultPlan();
  for (const entry of breaks) entry.plan?.(plan);

  const started: Stoppable[] = [];
  const startupMs: Record<string, number> = {};
  let tempDir: string | undefined;
  const stopAll = async () => {
    // In reverse start order, all of them even if one fails to stop.
    const results = await Promise.allSettled(started.splice(0).reverse().map((piece) => piece.stop()));
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed.length) throw new AggregateError(failed.map((result) => result.reason), "some demo stack pieces did not stop cleanly");
  };
  const timed = async <T extends Stoppable>(name: string, start: () => Promise<T>): Promise<T> => {
    const begin = performance.now();
    const piece = await start();
    started.push(piece);
    startupMs[name] = performance.now() - begin;
    return piece;
  };

  try {
    options.signal?.throwIfAborted();
    tempDir = await mkdtemp(path.join(tmpdir(), "infra-check-demo-"));
    // Each piece starts as soon as its own module is loaded; initdb is the
    // long pole (~1 s), so nothing waits for anything else.
    const { seedCloudStack } = await import("./gcp-fixtures.js");
    const pieces = await settleAll({
      postgres: timed("postgres", async () => {
        const { startPostgres } = await import("./postgres.js");
        const server = await startPostgres({
          database: DEMO_PG_DATABASE,
          roles: [{ name: DEMO_PG_USER, password: plan.postgres.password }],
          maxConnections: 20,
        });
        try {
          await server.sql(healthFunctionSql(plan.postgres.healthQueryDelayMs));
        } catch (error) {
          await server.stop();
          throw error;
        }
        return server;
      }),
      redis: timed("redis", async () => {
        const { startRedisServer } = await import("./redis-server.js");
        return startRedisServer({ password: plan.redis.password });
      }),
      chat: timed("chat", async () => {
        const { startChatServer } = await import("./chat-server.js");
        return startChatServer({ jwtSecret: plan.chat.jwtSecret, fault: plan.chat.fault });
      }),
      health: timed("health", async () => {
        const { startHealthServer } = await import("./health-server.js");
        return startHealthServer({ state: plan.health, version: DEMO_GIT_SHA });
      }),
      // Loading the Google protos makes this the second-longest start.
      gcp: timed("gcp", async () => {
        const { startGcpEmulator } = await import("./gcp-emulator/index.js");
        return startGcpEmulator();
      }),
    });
    options.signal?.throwIfAborted();

    // The cloud side describes the data plane that just started: the
    // Memorystore instance is this redis-server (host, port, AUTH string).
    const cloud = seedCloudStack(pieces.gcp.state, {
      project: DEMO_PROJECT,
      region: DEMO_REGION,
      service: DEMO_SERVICE,
      image: `${DEMO_IMAGE}:${DEMO_GIT_SHA}`,
      previousImage: `${DEMO_IMAGE}:${DEMO_PREVIOUS_GIT_SHA}`,
      labels: { "commit-sha": DEMO_GIT_SHA },
      connector: "demo-connector",
      egress: "PRIVATE_RANGES_ONLY",
      // What the backend reads, in the shapes a real service declares them (init maps each to a check).
      env: {
        REDIS_HOST: "127.0.0.1",
        REDIS_PORT: String(pieces.redis.port),
        REDIS_PASSWORD: { secret: "redis-password" },
        DATABASE_URL: `postgres://${DEMO_PG_USER}@127.0.0.1:${pieces.postgres.port}/${DEMO_PG_DATABASE}`,
        DB_PASSWORD: { secret: "db-password" },
      },
      instance: "demo-redis",
      redis: { host: "127.0.0.1", port: pieces.redis.port, tier: "BASIC", memorySizeGb: 1, redisVersion: "REDIS_7_2", authString: plan.redis.password },
      // What the app (and the demo's cache check) reads the Redis password from.
      secrets: { "redis-password": plan.redis.configPassword, "db-password": plan.postgres.configPassword },
    });

    // The Cloud SQL instance the data plane's PostgreSQL stands for (its private IP is where that server listens).
    const { seedCloudSql } = await import("./cloud-sql/fixtures.js");
    const database = seedCloudSql(pieces.gcp.state, { project: DEMO_PROJECT, region: DEMO_REGION, instance: "demo-postgres", privateIp: "127.0.0.1" });
    cloud.mountCloudSql(database.connectionName, "volume");

    const controls: DemoControls = {
      setChatFault: (fault) => pieces.chat.setFault(fault),
      setHealth: (state) => pieces.health.setState(state),
      serveOldRevision: async () => cloud.serveOldRevision(),
      failLatestRevision: async () => void cloud.failLatestRevision(),
      setServiceEgress: async (egress) => cloud.setServiceEgress(egress),
      setConnectorState: async (state) => cloud.setConnectorState(state),
      patchInstance: async (fields) => cloud.patchInstance(fields),
      stopCloudSql: async () => database.stop(),
      reportCloudSqlMetrics: async (series) => database.reportMetrics(series),
      deployRunnerOutsideVpc: async () => {
        const { createNetworkNamespace } = await import("./netns.js");
        const namespace = await createNetworkNamespace(`ic-demo-${process.pid}-${randomBytes(2).toString("hex")}`);
        started.push(namespace);
        pieces.gcp.state.put({
          name: `projects/${DEMO_PROJECT}/locations/${DEMO_REGION}/jobs/demo-probe`,
          labels: { "managed-by": "infra-check" },
          template: { taskCount: 1, template: { containers: [{ image: `${DEMO_IMAGE.replace(/\/chat\/backend$/, "/tools/infra-check")}:demo`, args: ["runner", "exec"] }], timeout: "20s", maxRetries: 0 } },
        });
        pieces.gcp.state.setJobFaults({ vpcNamespace: namespace.name });
      },
    };
    for (const entry of breaks) await entry.apply?.(controls);
    if (plan.redis.down) {
      await pieces.redis.stop();
    }

    const env: Record<string, string> = {
      DEMO_REDIS_HOST: plan.redis.configHost,
      DEMO_REDIS_PORT: String(pieces.redis.port),
      DEMO_PG_PORT: String(pieces.postgres.port),
      DEMO_PG_PASSWORD: plan.postgres.configPassword,
      DEMO_CHAT_PORT: String(pieces.chat.port),
      DEMO_CHAT_JWT_SECRET: plan.chat.configJwtSecret,
      DEMO_HEALTH_PORT: String(pieces.health.port),
      DEMO_GCP_EMULATOR_HOST: pieces.gcp.emulatorHost,
      DEMO_GIT_SHA,
      DEMO_CACHE_RUNNER: plan.cacheRunner,
    };
    const secretNames = ["DEMO_PG_PASSWORD", "DEMO_CHAT_JWT_SECRET"];
    const envDir = tempDir;
    let stopped: Promise<void> | undefined;
    return {
      env,
      secretNames,
      lookup: stackLookup(plan.resolverFailures),
      breaks,
      endpoints: [
        { name: "redis", url: `${pieces.redis.url}${plan.redis.down ? " (stopped: redis-down)" : ""}` },
        { name: "postgres", url: `postgres://${DEMO_PG_USER}@127.0.0.1:${pieces.postgres.port}/${DEMO_PG_DATABASE} (PostgreSQL ${pieces.postgres.version})` },
        { name: "chat", url: pieces.chat.url },
        { name: "health", url: pieces.health.url },
        { name: "gcp", url: `${pieces.gcp.emulatorHost} (Google Cloud API emulator: project ${DEMO_PROJECT}, region ${DEMO_REGION})` },
      ],
      startupMs,
      async writeEnvFile() {
        const file = path.join(envDir, "demo.env");
        const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
        await writeFile(file, Object.entries(env).map(([name, value]) => `${name}=${quote(value)}`).join("\n") + "\n", { mode: 0o600 });
        return file;
      },
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

/** The app's role and database in the demo cluster (config/demo.yaml: postgres://app@…/app). */
const DEMO_PG_USER = "app";
const DEMO_PG_DATABASE = "app";

/**
 * The app's health query, as a function the demo database owns: `slow-postgres`
 * makes the server slow (the function sleeps), not the config.
 */
function healthFunctionSql(delayMs: number): string {
  const seconds = Math.max(0, delayMs) / 1000;
  return `CREATE FUNCTION app_health() RETURNS text LANGUAGE sql AS $$ SELECT 'ok'::text FROM pg_sleep(${seconds.toFixed(3)}) $$;
GRANT EXECUTE ON FUNCTION app_health() TO ${DEMO_PG_USER};`;
}

/** The commit the demo's Cloud Run service was "just deployed" from, and the one before it. */
export const DEMO_GIT_SHA = "3f9c2ab";
const DEMO_PREVIOUS_GIT_SHA = "a1b2c3d";
const DEMO_IMAGE = `us-central1-docker.pkg.dev/${DEMO_PROJECT}/chat/backend`;

function defaultPlan(): DemoPlan {
  const secret = () => randomBytes(18).toString("base64url");
  const redisPassword = secret();
  const postgresPassword = secret();
  const jwtSecret = secret();
  return {
    redis: { password: redisPassword, configPassword: redisPassword, configHost: "127.0.0.1", down: false },
    postgres: { password: postgresPassword, configPassword: postgresPassword, healthQueryDelayMs: 0 },
    chat: { jwtSecret, configJwtSecret: jwtSecret, fault: null },
    health: structuredClone(HEALTHY),
    cacheRunner: "local",
    resolverFailures: new Map(),
  };
}

/**
 * Wait for every piece to start, even when one fails, so that the ones that
 * did start are known (and stopped by the caller) — never left running.
 */
async function settleAll<T extends Record<string, Promise<unknown>>>(pending: T): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
  const names = Object.keys(pending);
  const results = await Promise.allSettled(Object.values(pending));
  const failures = results.flatMap((result, index) => (result.status === "rejected" ? [{ name: names[index], reason: result.reason as Error }] : []));
  if (failures.length === 1) throw failures[0].reason;
  if (failures.length > 1) {
    throw new AggregateError(
      failures.map((failure) => failure.reason),
      `demo stack: ${failures.map((failure) => `${failure.name}: ${failure.reason?.message ?? failure.reason}`).join("; ")}`,
    );
  }
  return Object.fromEntries(results.map((result, index) => [names[index], (result as PromiseFulfilledResult<unknown>).value])) as {
    [K in keyof T]: Awaited<T[K]>;
  };
}

/**
 * Names under `.invalid` never resolve (RFC 6761 §6.4: resolvers should answer
 * them without asking anyone), so no query leaves the machine; a break may
 * make one fail temporarily instead (EAI_AGAIN). Other names go to the system.
 */
export function stackLookup(failures: ReadonlyMap<string, "ENOTFOUND" | "EAI_AGAIN">, fallback: LookupFn = systemLookup): LookupFn {
  return (hostname, signal) => {
    const name = hostname.toLowerCase().replace(/\.$/, "");
    const code = failures.get(name) ?? (name === "invalid" || name.endsWith(".invalid") ? "ENOTFOUND" : undefined);
    if (!code) return fallback(hostname, signal);
    const error = Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), {
      code,
      errno: code === "ENOTFOUND" ? -3008 : -3001,
      syscall: "getaddrinfo",
      hostname,
    });
    return Promise.reject(error);
  };
}

/** The binaries the stack needs, checked before anything starts so the message names all of them at once. */
function missingBinaries(): { what: string; aptPackage: string }[] {
  const missing: { what: string; aptPackage: string }[] = [];
  const redis = process.env.REDIS_SERVER ?? "redis-server";
  if (!onPath(redis)) missing.push({ what: "redis-server", aptPackage: "redis-server" });
  try {
    findPostgresBinDir();
  } catch {
    missing.push({ what: "PostgreSQL (initdb, postgres)", aptPackage: "postgresql" });
  }
  return missing;
}

function onPath(binary: string): boolean {
  const candidates = binary.includes("/") ? [binary] : (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, binary));
  return candidates.some((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
