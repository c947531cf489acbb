// Redis probe: dns → connect → tls → auth (HELLO/AUTH) → PING samples → INFO
// → optional canary write. The probe opens the TCP/TLS connection itself, so
// connect and tls are real phases with Node's own error codes, then hands the
// open socket to ioredis, which speaks RESP. The client is bounded: no
// reconnect, no offline queue, command timeout from the check's budget, and it
// is closed in `finally` whatever happens.
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { z } from "zod";
import { secretValueSchema, tlsSchema } from "../config/schema.js";
import { passwordEnvFlag, wholeNumberFlag } from "../util/flags.js";
import { bareHost, resolveHost } from "../net/resolve.js";
import { tlsOptions } from "../net/tls.js";
import { redactUrl } from "../redact.js";
import { percentile, roundMs } from "../util/stats.js";
import { type MetricValue } from "../diagnose/vocabulary.js";
import { ProbeFailure, type CheckSpec, type ProbeContext, type ProbeDefinition } from "./api.js";
import type { Redis as RedisClient } from "ioredis";

const DEFAULT_PORT = 6379;
const DEFAULT_SAMPLES = 10;
const MAX_SAMPLES = 1000;
/** The canary key expires on its own even if DEL never runs (crash, budget spent). */
const CANARY_TTL_MS = 30_000;
/** How long the post-mortem connection waits for the server to say why it dropped us. */
const WHY_CLOSED_WAIT_MS = 200;
/**
 * The runner's own budget timer is what ends a stuck check (its message names the
 * phase); the client's timeout is a backstop just behind it, so a client that
 * outlives an aborted check still lets go.
 */
const CLIENT_TIMEOUT_SLACK_MS = 50;

const schema = z
  .strictObject({
    url: z
      .url({ protocol: /^rediss?$/, error: "expected a redis:// or rediss:// URL, e.g. redis://10.0.0.3:6379/0" })
      .superRefine((value, ctx) => {
        const problem = urlProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .meta({ description: "redis://[user[:password]@]host[:port][/db]; rediss:// = TLS" }),
    username: z.string().min(1).optional().meta({ description: "ACL user (Redis 6+); default: the URL's user, else `default`" }),
    password: secretValueSchema.optional().meta({ description: "Password / AUTH string: ${ENV_VAR}, { secret: projects/P/secrets/S }, or { memorystoreAuth: INSTANCE }" }),
    tls: tlsSchema.optional().meta({ description: "TLS options; a tls: block turns TLS on even for redis://" }),
    samples: z.number().int().min(1).max(MAX_SAMPLES).default(DEFAULT_SAMPLES).meta({ description: `PING round trips for the percentiles (default ${DEFAULT_SAMPLES})` }),
    write: z.boolean().default(false).meta({ description: "Opt-in: SET/GET/DEL one canary key infra-check:canary:<random> with a 30 s TTL" }),
  })
  .superRefine((spec, ctx) => {
    let url: URL;
    try {
      url = new URL(spec.url);
    } catch {
      return; // reported by the url field itself
    }
    if (url.password && spec.password !== undefined) {
      ctx.addIssue({ code: "custom", path: ["password"], message: "the password is set twice (in the URL and in `password:`); keep only `password:`" });
    }
    if ((spec.username ?? url.username) && !url.password && spec.password === undefined) {
      ctx.addIssue({ code: "custom", path: ["username"], message: "an ACL user needs a password: set `password:` too" });
    }
  });

type RedisFields = z.infer<typeof schema>;
type RedisSpec = CheckSpec<RedisFields>;

interface Target {
  hostname: string;
  port: number;
  db: number;
  useTls: boolean;
  username?: string;
  password?: string;
}

const redisProbe: ProbeDefinition<RedisFields> = {
  kind: "redis",
  summary: "Redis: auth, TLS, PING latency percentiles, role",
  schema,
  metrics: {
    names: [
      "pingP50Ms", "pingP95Ms", "pingMaxMs", "pingSamples",
      "dnsMs", "connectMs", "tlsMs", "authMs", "writeMs",
      "serverVersion", "role", "masterLinkStatus", "connectedClients",
    ],
  },

  target: (spec) => redactUrl(spec.url),
  secrets: (spec) => [...(typeof spec.password === "string" ? [spec.password] : []), ...urlPassword(spec.url)],

  assertionClass(metric) {
    if (metric.endsWith("Ms")) return "slow";
    if (metric === "role" || metric === "serverVersion") return "drift";
    return "unhealthy";
  },

  hints: {
    slow: "PING does no work on the server, so slow PINGs are the network path (VPC connector throughput, cross-region) or a blocked server (SLOWLOG GET, LATENCY DOCTOR, CPU). Compare with connectMs: both high = network.",
    drift: "The server is not the expected one: a replica instead of the primary (failover?), or another Redis version than planned.",
    unhealthy: "The replica's link to its primary is down (INFO replication): check the primary and replication.",
    timeout: "Connected but Redis did not answer: it is blocked by a long command or script (SLOWLOG GET), overloaded, or the port is not Redis.",
  },

  async run(spec, ctx) {
    const target = parseTarget(spec);
    // Loaded before the clock of any phase starts.
    const { Redis, AbstractConnector } = await import("ioredis");
    const { address, family } = await resolveHost(target.hostname, ctx);
    if (ctx.phases.phasesMs.dns !== undefined) ctx.metrics.dnsMs = ctx.phases.phasesMs.dns;

    let socket: net.Socket | tls.TLSSocket | undefined;
    let client: RedisClient | undefined;
    const onAbort = () => {
      client?.disconnect();
      socket?.destroy();
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      socket = await openSocket(address, family, target, spec, ctx);
      const stream = socket;
      // Hands ioredis the connection we opened (the `Connector` option), so it never dials on its own.
      class OpenedStream extends AbstractConnector {
        constructor() {
          super(0);
        }
        connect() {
          this.connecting = true;
          this.stream = stream;
          return Promise.resolve(stream);
        }
      }
      const clientTimeoutMs = Math.max(1, Math.ceil(ctx.remainingMs())) + CLIENT_TIMEOUT_SLACK_MS;
      client = new Redis({
        Connector: OpenedStream,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        enableReadyCheck: false,
        autoResubscribe: false,
        autoResendUnfulfilledCommands: false,
        commandTimeout: clientTimeoutMs,
        connectTimeout: clientTimeoutMs,
        disableClientInfo: true,
        connectionName: "infra-check",
        db: target.db,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password !== undefined ? { password: target.password } : {}),
      });

      // connect() itself only ever says "Connection is closed."; the `error` events have the reason.
      // Listening for the client's whole life also keeps its errors off the process.
      const errors: Error[] = [];
      client.on("error", (error: Error) => errors.push(error));

      await handshake(client, errors, target, address, family, ctx, clientTimeoutMs);
      await samplePings(client, stream, spec.samples, ctx, clientTimeoutMs, target);
      await readInfo(client, ctx, target, clientTimeoutMs);
      if (spec.write) await canaryWrite(client, ctx, target, clientTimeoutMs);
      return { phasesMs: {}, metrics: { ...ctx.metrics } };
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      client?.disconnect();
      socket?.destroy();
    }
  },

  oneOff: {
    command: "redis",
    argument: "<url>",
    description: "Connect to Redis once: auth, TLS, PING percentiles, role — and say which layer fails",
    options: [
      { flags: "--password-env <var>", description: "read the password from this environment variable (default: the URL's password, else $REDISCLI_AUTH like redis-cli); never pass it as a flag value" },
      { flags: "--user <name>", description: "ACL user name (Redis 6+)" },
      { flags: "--samples <n>", description: `PING round trips for the percentiles (default ${DEFAULT_SAMPLES})` },
      { flags: "--write", description: "also SET/GET/DEL a canary key with a 30 s TTL (off: read-only PING and INFO)" },
      { flags: "--tls-ca <file>", description: "CA bundle (PEM) to trust; turns TLS on (e.g. Memorystore's server CA)" },
      { flags: "--servername <name>", description: "TLS name to verify the certificate against (when connecting by IP)" },
      { flags: "-k, --insecure", description: "accept any TLS certificate (triage only)" },
    ],
    examples: [
      "infra-check redis redis://10.0.0.3:6379 --password-env REDIS_PASSWORD",
      "REDISCLI_AUTH=... infra-check redis rediss://10.0.0.3:6378 --tls-ca ./memorystore-ca.pem --servername redis.internal",
      "infra-check redis redis://127.0.0.1:6379/0 --samples 50 --expect 'pingP95Ms<5ms' --format json",
    ],
    toRawCheck(url, options, env) {
      const raw: Record<string, unknown> = { kind: "redis", url };
      const variable = options.passwordEnv as string | undefined;
      if (variable !== undefined) {
        raw.password = passwordEnvFlag(variable, env);
      } else if (!hasUrlPassword(url) && env.REDISCLI_AUTH) {
        raw.password = env.REDISCLI_AUTH;
      }
      if (options.user !== undefined) raw.username = options.user;
      if (options.samples !== undefined) raw.samples = wholeNumberFlag("--samples", options.samples, 1, MAX_SAMPLES);
      if (options.write) raw.write = true;
      const tlsBlock: Record<string, unknown> = {};
      if (options.tlsCa) tlsBlock.ca = options.tlsCa;
      if (options.servername) tlsBlock.servername = options.servername;
      if (options.insecure) tlsBlock.insecure = true;
      if (Object.keys(tlsBlock).length) raw.tls = tlsBlock;
      return raw;
    },
  },
};

export default redisProbe;

// ---------------------------------------------------------------- phases

async function openSocket(address: string, family: 4 | 6, target: Target, spec: RedisSpec, ctx: ProbeContext): Promise<net.Socket | tls.TLSSocket> {
  ctx.phases.start("connect");
  const started = performance.now();
  const socket = net.connect({ host: address, port: target.port, family, noDelay: true });
  socket.on("error", () => undefined); // errors surface through the awaited events below
  try {
    await once(socket, "connect", { signal: ctx.signal });
  } catch (error) {
    socket.destroy();
    throw withEndpoint(error, address, target.port);
  }
  const connectedAt = performance.now();
  ctx.phases.record("connect", connectedAt - started);
  ctx.metrics.connectMs = roundMs(connectedAt - started);
  if (!target.useTls) return socket;

  ctx.phases.start("tls");
  const secure = tls.connect({ socket, ...tlsOptions(spec.tls, target.hostname) });
  secure.on("error", () => undefined);
  try {
    await once(secure, "secureConnect", { signal: ctx.signal });
  } catch (error) {
    secure.destroy();
    throw error;
  }
  const secureAt = performance.now();
  ctx.phases.record("tls", secureAt - connectedAt);
  ctx.metrics.tlsMs = roundMs(secureAt - connectedAt);
  return secure;
}

/** HELLO (with AUTH when configured) and SELECT, until ioredis reports ready. */
async function handshake(client: RedisClient, errors: Error[], target: Target, address: string, family: 4 | 6, ctx: ProbeContext, clientTimeoutMs: number): Promise<void> {
  ctx.phases.start("auth");
  const started = performance.now();
  try {
    await client.connect();
  } catch (error) {
    const first = errors[0] ?? (error as Error);
    if (dropped(first)) {
      const reason = await whyClosed(address, family, target, ctx);
      if (reason) throw reason;
    }
    throw annotate(first, target, clientTimeoutMs);
  }
  // Setup errors ioredis only reports as events (a failed SELECT) still fail the check.
  if (errors.length) throw annotate(errors[0], target, clientTimeoutMs);
  const ms = performance.now() - started;
  ctx.phases.record("auth", ms);
  ctx.metrics.authMs = roundMs(ms);
}

/**
 * Each round trip is timed at the socket: from the PING's bytes being written
 * to its reply's bytes arriving (a `data` listener placed before ioredis's
 * parser). The client's own work on either side (building the command,
 * resolving promises) is not network or server latency, so it is not reported
 * as such.
 */
async function samplePings(client: RedisClient, stream: net.Socket, samples: number, ctx: ProbeContext, clientTimeoutMs: number, target: Target): Promise<void> {
  ctx.phases.start("ping");
  let writtenAt = 0;
  let replyAt = 0;
  const onData = () => {
    replyAt = performance.now();
  };
  // A per-command timer costs 10–15 µs per PING on loopback (measured), a fifth of the
  // round trip itself. The samples are bounded by the check's signal instead: on abort
  // the client is disconnected, which rejects the PING in flight.
  const commandTimeout = client.options.commandTimeout;
  client.options.commandTimeout = undefined;
  const write = stream.write;
  // Our own socket instance, for the duration of the samples only.
  stream.write = function (this: net.Socket, ...args: Parameters<net.Socket["write"]>) {
    writtenAt = performance.now();
    return write.apply(this, args);
  } as net.Socket["write"];
  stream.prependListener("data", onData);
  try {
    // The first command on a connection pays one-time client costs (code paths warming up): not a round trip to report.
    await expectPong(client);
    const rounds: number[] = [];
    for (let i = 0; i < samples; i += 1) {
      const ms = await ctx.sample(async () => {
        const started = performance.now();
        await expectPong(client);
        const ended = performance.now();
        // Fall back to the whole call if a timestamp is missing (never expected).
        return (replyAt > started ? replyAt : ended) - (writtenAt >= started ? writtenAt : started);
      });
      rounds.push(ms);
      Object.assign(ctx.metrics, pingMetrics(rounds));
    }
  } catch (error) {
    throw annotate(error, target, clientTimeoutMs);
  } finally {
    stream.off("data", onData);
    stream.write = write;
    client.options.commandTimeout = commandTimeout;
  }
}

async function expectPong(client: RedisClient): Promise<void> {
  const reply: unknown = await client.ping();
  if (reply !== "PONG") throw new ProbeFailure("protocol", `PING was answered with ${JSON.stringify(String(reply)).slice(0, 80)} instead of PONG: this is not a plain Redis server`);
}

function pingMetrics(rounds: number[]): Record<string, MetricValue> {
  return {
    pingP50Ms: roundMs(percentile(rounds, 50)),
    pingP95Ms: roundMs(percentile(rounds, 95)),
    pingMaxMs: roundMs(Math.max(...rounds)),
    pingSamples: rounds.length,
  };
}

/** serverVersion, role, … from INFO; an ACL user without +info skips this quietly. */
async function readInfo(client: RedisClient, ctx: ProbeContext, target: Target, clientTimeoutMs: number): Promise<void> {
  ctx.phases.start("info");
  const started = performance.now();
  const sections = await Promise.allSettled([client.info("server"), client.info("replication"), client.info("clients")]);
  const fields: Record<string, string> = {};
  for (const section of sections) {
    if (section.status === "fulfilled") Object.assign(fields, parseInfo(section.value));
    else if (/^NOPERM/.test((section.reason as Error)?.message ?? "")) ctx.details.info = "skipped: the ACL user may not run INFO (NOPERM)";
    else throw annotate(section.reason, target, clientTimeoutMs);
  }
  ctx.phases.record("info", performance.now() - started);
  if (fields.redis_version) ctx.metrics.serverVersion = fields.redis_version;
  if (fields.role) ctx.metrics.role = fields.role === "slave" ? "replica" : fields.role;
  if (fields.master_link_status) ctx.metrics.masterLinkStatus = fields.master_link_status;
  if (fields.connected_clients !== undefined && Number.isFinite(Number(fields.connected_clients))) ctx.metrics.connectedClients = Number(fields.connected_clients);
}

export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return fields;
}

async function canaryWrite(client: RedisClient, ctx: ProbeContext, target: Target, clientTimeoutMs: number): Promise<void> {
  ctx.phases.start("write");
  const key = `infra-check:canary:${randomBytes(8).toString("hex")}`;
  const value = randomBytes(8).toString("hex");
  const started = performance.now();
  try {
    await client.set(key, value, "PX", CANARY_TTL_MS);
    const readBack = await client.get(key);
    await client.del(key);
    if (readBack !== value) {
      throw new ProbeFailure("protocol", `the canary key ${key} read back ${readBack === null ? "nothing" : "a different value"} right after SET: a proxy or replica routing is losing writes`);
    }
  } catch (error) {
    throw annotate(error, target, clientTimeoutMs);
  }
  const ms = performance.now() - started;
  ctx.phases.record("write", ms);
  ctx.metrics.writeMs = roundMs(ms);
}

// ---------------------------------------------------------------- diagnosis

/** ioredis's ways of saying "the server hung up" (the server's reason is usually lost). */
function dropped(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "EPIPE" || code === "ECONNRESET" || /^Connection is closed\.?$/.test(error.message);
}

/**
 * The server hung up during the handshake. Redis says why on a fresh
 * connection before we send anything ("-ERR max number of clients reached",
 * "-DENIED … protected mode"); a TLS port instead waits for a ClientHello.
 * One short look tells those apart.
 */
async function whyClosed(address: string, family: 4 | 6, target: Target, ctx: ProbeContext): Promise<Error | undefined> {
  const waitMs = Math.min(WHY_CLOSED_WAIT_MS, ctx.remainingMs() / 2);
  if (ctx.signal.aborted || waitMs < 5) return undefined;
  const greeting = await firstWords(address, family, target.port, waitMs, ctx.signal);
  if (greeting.kind === "said" && greeting.text.startsWith("-")) {
    const error = new Error(greeting.text.slice(1).trim());
    error.name = "ReplyError";
    return error;
  }
  if (greeting.kind === "closed") {
    return new ProbeFailure("protocol", `${endpoint(target)} accepts TCP connections and closes them at once, without a Redis reply`, {
      code: "CLOSED_ON_ACCEPT",
      hint: "Something in front of Redis (proxy, load balancer without healthy backends) or a server at capacity: check the server's log and connection limits.",
    });
  }
  if (greeting.kind === "silent" && !target.useTls && (await speaksTls(address, target, ctx))) {
    return new ProbeFailure("tls", `${endpoint(target)} speaks TLS, and this check connected in plaintext: Redis dropped the plaintext handshake`, {
      code: "PLAINTEXT_TO_TLS_PORT",
      hint: "Use rediss:// (or a tls: block with the server's CA). Memorystore with in-transit encryption listens on 6378 with TLS only.",
    });
  }
  return undefined;
}

type Greeting = { kind: "said"; text: string } | { kind: "closed" } | { kind: "silent" } | { kind: "failed" };

function firstWords(address: string, family: 4 | 6, port: number, waitMs: number, signal: AbortSignal): Promise<Greeting> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, family });
    let received = "";
    const finish = (greeting: Greeting) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(greeting);
    };
    const onAbort = () => finish({ kind: "failed" });
    const timer = setTimeout(() => finish(received ? { kind: "said", text: received } : { kind: "silent" }), waitMs);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const line = received.indexOf("\r\n");
      if (line >= 0 || received.length > 512) finish({ kind: "said", text: received.slice(0, line >= 0 ? line : 512) });
    });
    socket.on("end", () => finish(received ? { kind: "said", text: received } : { kind: "closed" }));
    socket.on("error", () => finish(received ? { kind: "said", text: received } : { kind: "failed" }));
  });
}

/** True when a TLS handshake (any certificate accepted) completes on the port. */
async function speaksTls(address: string, target: Target, ctx: ProbeContext): Promise<boolean> {
  const socket = tls.connect({ host: address, port: target.port, rejectUnauthorized: false, ...(net.isIP(target.hostname) ? {} : { servername: target.hostname }) });
  socket.on("error", () => undefined);
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(1, Math.floor(ctx.remainingMs() / 2)))]);
  try {
    await once(socket, "secureConnect", { signal });
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

// ---------------------------------------------------------------- helpers

function parseTarget(spec: RedisSpec): Target {
  const url = new URL(spec.url);
  const password = spec.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  if (password !== undefined && typeof password !== "string") {
    throw new ProbeFailure("internal", "the password reference was not resolved before the probe ran");
  }
  const username = spec.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  return {
    hostname: bareHost(url.hostname),
    port: url.port ? Number(url.port) : DEFAULT_PORT,
    db: dbOf(url),
    useTls: url.protocol === "rediss:" || spec.tls !== undefined,
    ...(username ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

function dbOf(url: URL): number {
  const path = url.pathname.replace(/^\//, "");
  return path === "" ? 0 : Number(path);
}

/** What is wrong with a redis URL beyond its scheme, or undefined. */
function urlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (!url.hostname) return "the URL has no host, e.g. redis://10.0.0.3:6379";
  const path = url.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d{1,5}$/.test(path)) return `the path selects a database and must be a number (redis://host:6379/0), found "/${path}"`;
  if (url.search) return "query parameters are not supported: use the check's keys (username, password, tls, samples)";
  return undefined;
}

function urlPassword(raw: string): string[] {
  try {
    const url = new URL(raw);
    return url.password ? [decodeURIComponent(url.password), url.password] : [];
  } catch {
    return [];
  }
}

function hasUrlPassword(raw: string): boolean {
  return urlPassword(raw).length > 0;
}

function endpoint(target: Target): string {
  return `${target.hostname.includes(":") ? `[${target.hostname}]` : target.hostname}:${target.port}`;
}

/** Node's connect errors name the address; the check's messages name host:port as configured. */
function withEndpoint(error: unknown, address: string, port: number): unknown {
  if (error && typeof error === "object" && !(error as { address?: string }).address) Object.assign(error, { address, port });
  return error;
}

/** What the classifier needs to word an error: the ACL user and the command timeout in force. */
function annotate(error: unknown, target: Target, clientTimeoutMs: number): unknown {
  if (error instanceof Error && !(error instanceof ProbeFailure)) {
    Object.assign(error, { redisUser: target.username ?? "default", commandTimeoutMs: clientTimeoutMs });
  }
  return error;
}
