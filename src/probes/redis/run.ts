// Redis probe: dns → connect → tls (dial) → auth (HELLO/AUTH) → PING
// samples → INFO → optional canary write. The probe opens the connection
// itself, so connect and tls are real phases with Node's own error codes,
// then hands the open socket to ioredis, which speaks RESP. The client is
// bounded: no reconnect, no offline queue, a command timeout just behind the
// check's budget, and it is closed in `finally` whatever happens.
import { resolvedCa } from "../../net/tls.js";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import net from "node:net";
import type { Redis as RedisClient } from "ioredis";
import type { SamplingJob } from "../../net/sampler.js";
import { dial, type DialedSocket } from "../../net/dial.js";
import { loopDelayMetrics, percentileNote, roundTripMetrics, SAMPLER_WAIT_MS, SocketStamps, watchLoop } from "../../net/round-trips.js";
import { failure } from "../../diagnose/catalogue.js";
import { roundMs } from "../../util/stats.js";
import { formatMs } from "../../util/duration.js";
import type { ProbeContext } from "../api.js";
import { endpoint, parseTarget, type RedisSpec, type Target } from "./config.js";
import { REDIS } from "./diagnose.js";

/** What one probe connection may receive in all: PING and INFO server/replication/clients answer in a few KiB. */
const MAX_RECEIVED_BYTES = 1024 * 1024;

/** The canary key expires on its own even if DEL never runs (crash, budget spent). */
const CANARY_TTL_MS = 30_000;
/** How long the post-mortem connection waits for the server to say why it dropped us. */
const WHY_CLOSED_WAIT_MS = 200;

export async function runRedis(spec: RedisSpec, ctx: ProbeContext): Promise<void> {
  const target = parseTarget(spec);
  // Loaded before the clock of any phase starts.
  const { Redis, AbstractConnector } = await import("ioredis");
  const clientTimeoutMs = ctx.deadline.clientTimeoutMs();
  // What the classifier needs to word an error: the ACL user and the command timeout in force.
  ctx.facts.user = target.username ?? "default";
  ctx.facts.commandTimeoutMs = clientTimeoutMs;

  let socket: DialedSocket | undefined;
  let client: RedisClient | undefined;
  let overflow: Error | undefined;
  let sampling: SamplingJob | undefined;
  const onAbort = () => {
    client?.disconnect();
    socket?.destroy();
  };
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    socket = await dial(ctx, { host: target.hostname, port: target.port, ...(target.useTls ? { tls: { spec: spec.tls, hostname: target.hostname } } : {}) });
    const stream = socket;
    // The reply parser buffers a reply whole: bound what the peer may send before it is believed.
    let received = 0;
    stream.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_RECEIVED_BYTES && !overflow) {
        overflow = failure(REDIS.REPLY_TOO_LARGE, { where: endpoint(target), during: ctx.phases.current ? ` during ${ctx.phases.current}` : "", limit: `${MAX_RECEIVED_BYTES / 1024 / 1024} MiB` });
        stream.destroy();
      }
    });
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

    // One PING is a check that the server answers, not a distribution: it is taken on this session.
    if (spec.samples > 1) sampling = await beginPingSampling(stream, target, spec, ctx);
    await handshake(client, errors, stream, target, ctx);
    if (!sampling || !(await samplePingsInWorker(client, sampling, ctx))) await samplePings(client, stream, spec.samples, ctx);
    sampling?.cancel();
    await readInfo(client, ctx);
    if (spec.write) await canaryWrite(client, ctx);
  } catch (error) {
    throw overflow ?? error;
  } finally {
    sampling?.cancel();
    ctx.signal.removeEventListener("abort", onAbort);
    client?.disconnect();
    socket?.destroy();
  }
}

/** HELLO (with AUTH when configured) and SELECT, until ioredis reports ready. */
async function handshake(client: RedisClient, errors: Error[], socket: DialedSocket, target: Target, ctx: ProbeContext): Promise<void> {
  ctx.phases.start("auth");
  const started = performance.now();
  const peer = { address: socket.remoteAddress, family: socket.remoteFamily === "IPv6" ? 6 : 4 } as const;
  try {
    await client.connect();
  } catch (error) {
    const first = errors[0] ?? (error as Error);
    if (dropped(first) && peer.address) {
      const reason = await whyClosed(peer.address, peer.family, target, ctx);
      if (reason) throw reason;
    }
    throw first;
  }
  // Setup errors ioredis only reports as events (a failed SELECT) still fail the check.
  if (errors.length) throw errors[0];
  const ms = performance.now() - started;
  ctx.phases.record("auth", ms);
  ctx.metrics.authMs = roundMs(ms);
}

/**
 * The samples, taken by the sampling worker on its own connection
 * (src/net/sampler.ts), set up in parallel with this session's handshake.
 * This session proves the server answers PING for these credentials first;
 * the worker's loop, which nothing else runs on, stamps the replies.
 */
async function beginPingSampling(stream: DialedSocket, target: Target, spec: RedisSpec, ctx: ProbeContext): Promise<SamplingJob> {
  const { beginSampling } = await import("../../net/sampler.js");
  const rounds: number[] = [];
  return beginSampling(
    {
      protocol: "redis",
      address: stream.remoteAddress ?? target.hostname,
      family: stream.remoteFamily === "IPv6" ? 6 : 4,
      port: target.port,
      ...(target.useTls ? { tls: { ...spec.tls, ca: resolvedCa(spec.tls?.ca), hostname: target.hostname } } : {}),
      ...(target.username ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      db: target.db,
      samples: spec.samples,
      timeoutMs: ctx.deadline.clientTimeoutMs(),
    },
    {
      onSetup: (setupMs, warmupMs) => {
        ctx.metrics.pingWarmupMs = roundMs(warmupMs);
        ctx.details.sampler = `sampling thread, own connection (ready in ${formatMs(setupMs)})`;
      },
      onRound: (ms) => {
        rounds.push(ms);
        Object.assign(ctx.metrics, roundTripMetrics("ping", rounds));
      },
    },
    ctx.signal,
  );
}

/**
 * Samples from the worker when its connection is ready; false when it could not be set up (a server
 * at maxclients may refuse a second connection): then they are taken here, and `details.sampler` says so.
 */
async function samplePingsInWorker(client: RedisClient, sampling: SamplingJob, ctx: ProbeContext): Promise<boolean> {
  ctx.phases.start("ping");
  // The session's own PING: its reply and the ACL user's right to PING are checked here, where errors are classified.
  await expectPong(client);
  const ready = await sampling.readyWithin(Math.min(SAMPLER_WAIT_MS, ctx.deadline.remainingMs() / 4));
  if (!ready.ok) {
    ctx.details.sampler = `main thread: ${ready.reason}`;
    return false;
  }
  try {
    const outcome = await sampling.sample();
    Object.assign(ctx.metrics, loopDelayMetrics("ping", outcome.loopDelayMs, ctx.metrics));
  } catch (error) {
    const loopDelayMs = (error as { loopDelayMs?: number | null }).loopDelayMs;
    if (loopDelayMs !== undefined) Object.assign(ctx.metrics, loopDelayMetrics("ping", loopDelayMs, ctx.metrics));
    throw error;
  }
  if (ctx.metrics.pingNoisy) ctx.labels.push("noisy samples");
  const note = percentileNote("ping", Number(ctx.metrics.pingSamples ?? 0));
  if (note) ctx.details.percentiles = note;
  return true;
}

/**
 * On the main thread, through the run's sampling lane (the fallback). Each round trip is timed at the
 * socket (src/net/round-trips.ts): from the PING's bytes being written to its reply's bytes arriving.
 */
async function samplePings(client: RedisClient, stream: DialedSocket, samples: number, ctx: ProbeContext): Promise<void> {
  ctx.phases.start("ping");
  // A per-command timer costs 10–15 µs per PING on loopback (measured), a fifth of the
  // round trip itself. The samples are bounded by the check's signal instead: on abort
  // the client is disconnected, which rejects the PING in flight.
  const commandTimeout = client.options.commandTimeout;
  client.options.commandTimeout = undefined;
  const stamps = new SocketStamps(stream);
  try {
    // The first command on a connection pays one-time client costs (code paths warming up): not a round
    // trip to report among the samples, but reported on its own (pingWarmupMs) so nothing is hidden.
    const warmupStarted = performance.now();
    await expectPong(client);
    ctx.metrics.pingWarmupMs = roundMs(stamps.roundTrip(warmupStarted, stamps.chunkAt, performance.now()));
    const rounds: number[] = [];
    const loop = watchLoop();
    for (let i = 0; i < samples; i += 1) {
      const ms = await ctx.sample(async () => {
        const started = performance.now();
        await expectPong(client);
        return stamps.roundTrip(started, stamps.chunkAt, performance.now());
      });
      rounds.push(ms);
      Object.assign(ctx.metrics, roundTripMetrics("ping", rounds));
    }
    Object.assign(ctx.metrics, loopDelayMetrics("ping", loop.stop(), ctx.metrics));
    if (ctx.metrics.pingNoisy) ctx.labels.push("noisy samples");
    const note = percentileNote("ping", rounds.length);
    if (note) ctx.details.percentiles = note;
  } finally {
    stamps.restore();
    client.options.commandTimeout = commandTimeout;
  }
}

async function expectPong(client: RedisClient): Promise<void> {
  const reply: unknown = await client.ping();
  if (reply !== "PONG") throw failure(REDIS.NOT_PONG, { reply: JSON.stringify(String(reply)).slice(0, 80) });
}

/** serverVersion, role, … from INFO; an ACL user without +info skips this quietly. */
async function readInfo(client: RedisClient, ctx: ProbeContext): Promise<void> {
  ctx.phases.start("info");
  const started = performance.now();
  const sections = await Promise.allSettled([client.info("server"), client.info("replication"), client.info("clients")]);
  const fields: Record<string, string> = {};
  for (const section of sections) {
    if (section.status === "fulfilled") Object.assign(fields, parseInfo(section.value));
    else if (/^NOPERM/.test((section.reason as Error)?.message ?? "")) ctx.details.info = "skipped: the ACL user may not run INFO (NOPERM)";
    else throw section.reason;
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

async function canaryWrite(client: RedisClient, ctx: ProbeContext): Promise<void> {
  ctx.phases.start("write");
  const key = `infra-check:canary:${randomBytes(8).toString("hex")}`;
  const value = randomBytes(8).toString("hex");
  const started = performance.now();
  await client.set(key, value, "PX", CANARY_TTL_MS);
  const readBack = await client.get(key);
  await client.del(key);
  if (readBack !== value) throw failure(REDIS.CANARY_LOST, { key, readBack: readBack === null ? "nothing" : "a different value" });
  const ms = performance.now() - started;
  ctx.phases.record("write", ms);
  ctx.metrics.writeMs = roundMs(ms);
}

// ---------------------------------------------------------------- post-mortem of a dropped handshake

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
  if (greeting.kind === "closed") return failure(REDIS.CLOSED_ON_ACCEPT, { where: endpoint(target) });
  if (greeting.kind === "silent" && !target.useTls && (await speaksTls(address, target, ctx))) return failure(REDIS.PLAINTEXT_TO_TLS_PORT, { where: endpoint(target) });
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
  const tls = await import("node:tls");
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
