// PostgreSQL probe: dns → connect (dial) → tls (SSLRequest, then the
// handshake on the same socket, with libpq's sslmode semantics) → auth
// (startup until ReadyForQuery) → query samples. The probe opens the
// connection and negotiates TLS itself, so each phase is real and its errors
// are Node's own; then it hands the open stream to pg, which speaks the
// protocol. The session is read-only and bounded by the check's budget on
// both sides: statement_timeout on the server at the probe's inner deadline,
// a cancel request then for a query still running, and the client closed in
// `finally`.
import { resolvedCa } from "../../net/tls.js";
import { createRequire } from "node:module";
import net from "node:net";
import type tls from "node:tls";
import path from "node:path";
import type { Client as PgClient, FieldDef } from "pg";
import type { SamplingJob } from "../../net/sampler.js";
import { failure } from "../../diagnose/catalogue.js";
import { shownBytes } from "../../diagnose/codes.js";
import type { MetricValue } from "../../diagnose/vocabulary.js";
import { dial, resolveAddress, startTls } from "../../net/dial.js";
import { loopDelayMetrics, percentileNote, roundTripMetrics, SAMPLER_WAIT_MS, SocketStamps, watchLoop } from "../../net/round-trips.js";
import { formatMs } from "../../util/duration.js";
import { percentile, roundMs } from "../../util/stats.js";
import type { ProbeContext } from "../api.js";
import type { PostgresSpec, SslMode } from "./config.js";
import { PG } from "./diagnose.js";

// tls is loaded only when a cancel goes through the Cloud SQL connector's tunnel.
const require = createRequire(import.meta.url);
/** A value longer than this is cut in `value` (a metric, not a data export). */
const MAX_VALUE_CHARS = 500;
/** How long closing may take before the sockets are simply destroyed. */
const CLOSE_GRACE_MS = 100;
const SSL_REQUEST_CODE = 80877103;
const CANCEL_REQUEST_CODE = 80877102;
/** A cancel request's connection is given up after this long (the server closes it as soon as it has read the key). */
const CANCEL_SEND_MS = 1000;
/** Type OIDs whose text form is a number pg leaves as a string (int8, numeric). */
const NUMERIC_STRING_TYPES = new Set([20, 1700]);
const CERTIFICATE_METRIC_NAMES = ["tlsMs", "certExpiresInDays", "certNotAfter", "certSubject", "certNames", "certIssuer"];

/** Where we talk to: a TCP address or a Unix socket. */
interface Endpoint {
  host: string;
  port: number;
  socketPath?: string;
  address?: { address: string; family: 4 | 6 };
  /** For messages: host:port or the socket path. */
  label: string;
  /** Through the Cloud SQL connector: TLS right after connect, with these options (ephemeral certificate, the instance's CA). */
  connector?: tls.ConnectionOptions;
}

interface Session {
  client: PgClient;
  socket: net.Socket;
  secure?: tls.TLSSocket;
  params: Record<string, string>;
}

export async function runPostgres(spec: PostgresSpec, ctx: ProbeContext): Promise<void> {
  // Loaded before any phase's clock starts.
  const { default: pg } = await import("pg");
  let password = typeof spec.password === "string" ? spec.password : undefined;
  let endpoint: Endpoint;
  if (spec.cloudSql) {
    const connector = await (await import("./cloud-sql.js")).connectorSetup(spec, ctx);
    // An IP for public and private addresses; a DNS name with Private Service Connect (the dns phase, then).
    const address = await resolveAddress(ctx, connector.host);
    endpoint = { host: connector.host, port: connector.port, address, label: connector.label, connector: connector.tls };
    password = connector.token ?? password;
    const setupMs = ctx.phases.phasesMs.connectorSetup;
    if (setupMs !== undefined) ctx.metrics.connectorSetupMs = roundMs(setupMs);
  } else {
    endpoint = await locate(spec, ctx);
  }

  const open = new Set<Session>();
  let sampling: { job: SamplingJob; rounds: number[] } | undefined;
  const raw = new Set<net.Socket>();
  const cancels: Promise<void>[] = [];
  const onAbort = () => {
    // A statement running on the server goes on when only our socket closes (until statement_timeout):
    // when the check is stopped (its budget, Ctrl-C, a CI job's SIGTERM), it is cancelled there. The
    // sampling worker cancels its own session's (src/net/sampler-worker.ts); `finished` waits for that.
    for (const session of open) {
      const key = backendKey(session);
      if (key) cancels.push(sendCancel(endpoint, key));
    }
    if (sampling) cancels.push(sampling.job.finished);
    for (const socket of raw) socket.destroy();
  };
  ctx.signal.addEventListener("abort", onAbort, { once: true });

  /** One connection attempt: TCP, optional TLS, startup until ReadyForQuery. */
  const attempt = async (wantTls: boolean): Promise<Session> => {
    const socket = await dial(ctx, { host: endpoint.host, port: endpoint.port, ...(endpoint.socketPath ? { socketPath: endpoint.socketPath } : { address: endpoint.address }) });
    raw.add(socket);
    let secure: tls.TLSSocket | undefined;
    // The connector's tunnel is TLS from the first byte (no SSLRequest), to the instance's server-side proxy.
    if (endpoint.connector) secure = await startTls(ctx, socket, { hostname: endpoint.host, verify: "full", extra: endpoint.connector });
    else if (wantTls) secure = await negotiateTls(socket, endpoint, spec, ctx);
    // The sampling worker's connection opens now, in parallel with this session's startup (one per attempt).
    // Through the connector the tunnel's certificate lives here: the samples are taken on this session.
    if (spec.samples > 1 && !endpoint.connector) {
      sampling?.job.cancel();
      const rounds: number[] = [];
      sampling = { ...(await beginQuerySampling(endpoint, spec, Boolean(secure), rounds, ctx)), rounds };
    }
    const stream = secure ?? socket;
    const params: Record<string, string> = {};
    const client = new pg.Client({
      // pg dials its own socket; ours is already connected (and encrypted): see `preconnected`.
      stream: () => preconnected(stream),
      host: endpoint.address?.address ?? endpoint.host,
      port: endpoint.port,
      user: spec.user,
      database: spec.database,
      // A function, so pg never falls back to $PGPASSWORD or ~/.pgpass behind the config's back
      // (pg accepts undefined from it at run time: "no password").
      password: (async () => password) as () => Promise<string>,
      ssl: false,
      application_name: "infra-check",
      // The session can only read, and the server itself stops a statement at our inner deadline.
      options: `-c default_transaction_read_only=on -c statement_timeout=${Math.max(1, Math.floor(ctx.deadline.remainingMs()))}`,
      // A backstop at the very end of the budget (the runner's timer is what reports a stall).
      connectionTimeoutMillis: ctx.deadline.clientTimeoutMs(),
    });
    const session: Session = { client, socket, secure, params };
    open.add(session);
    // Errors after startup arrive through the pending query; an idle client's must not crash the process.
    client.on("error", () => undefined);
    let passwordAsked: string | undefined;
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    connection.on("parameterStatus", (message: { parameterName: string; parameterValue: string }) => {
      params[message.parameterName] = message.parameterValue;
    });
    for (const [event, method] of [["authenticationSASL", "SCRAM-SHA-256"], ["authenticationMD5Password", "md5"], ["authenticationCleartextPassword", "password"]] as const) {
      connection.once(event, () => (passwordAsked ??= method));
    }
    ctx.phases.start("auth");
    const started = performance.now();
    try {
      await client.connect();
    } catch (error) {
      if (passwordAsked && password === undefined) throw failure(PG.NO_PASSWORD, { method: passwordAsked, user: spec.user, configured: "none" }, { cause: error });
      throw error;
    }
    const authMs = performance.now() - started;
    ctx.phases.record("auth", authMs);
    ctx.metrics.authMs = roundMs(authMs);
    return session;
  };

  let sessionStart = performance.now();
  try {
    let session: Session;
    const firstTls = Boolean(endpoint.connector) || (!endpoint.socketPath && spec.sslMode !== "disable");
    try {
      sessionStart = performance.now();
      session = await attempt(firstTls);
    } catch (error) {
      if (!isNoHbaEntry(error) || ctx.deadline.remainingMs() <= 0 || endpoint.connector) throw error;
      if (spec.sslMode === "prefer" && firstTls) {
        // libpq's prefer: a TLS session rejected by pg_hba.conf is retried without TLS.
        // The discarded attempt's handshake is not this session's tls phase.
        ctx.phases.discard("sslRequest");
        ctx.phases.discard("tls");
        for (const name of ["sslRequestMs", ...CERTIFICATE_METRIC_NAMES]) delete ctx.metrics[name];
        ctx.details.tls = "pg_hba.conf rejected the TLS session; retried without TLS (sslmode prefer)";
        sessionStart = performance.now();
        session = await attempt(false);
      } else if (spec.sslMode === "disable" && !endpoint.socketPath) {
        throw await whetherTlsWouldPass(error, () => attempt(true), spec);
      } else {
        throw error;
      }
    }
    // What an application pays for a new connection: TCP, TLS and authentication.
    ctx.metrics.sessionMs = roundMs(performance.now() - sessionStart);
    ctx.metrics.tls = Boolean(session.secure);
    if (session.secure) {
      const cipher = session.secure.getCipher();
      ctx.details.tls = `${session.secure.getProtocol() ?? "TLS"} ${cipher?.name ?? ""}`.trim();
    }
    if (session.params.server_version) ctx.metrics.serverVersion = session.params.server_version;
    await sampleQueries(session, spec, endpoint, ctx, sampling);
  } finally {
    sampling?.job.cancel();
    ctx.signal.removeEventListener("abort", onAbort);
    await Promise.all([...open].map((session) => close(session)));
    for (const socket of raw) socket.destroy();
    // The cancel requests reach the server before the check ends (and the process may exit).
    await Promise.all(cancels);
  }
}

async function locate(spec: PostgresSpec, ctx: ProbeContext): Promise<Endpoint> {
  if (spec.host.startsWith("/")) {
    const socketPath = path.join(spec.host, `.s.PGSQL.${spec.port}`);
    return { host: spec.host, port: spec.port, socketPath, label: socketPath };
  }
  // Resolved once: a prefer retry or a TLS probe dials the same address again.
  const address = await resolveAddress(ctx, spec.host);
  return { host: spec.host, port: spec.port, address, label: `${address.family === 6 ? `[${address.address}]` : address.address}:${spec.port}` };
}

/**
 * SSLRequest, then the TLS handshake on the same socket — what libpq does.
 * Returns undefined when the server has no TLS and the mode allows plaintext (prefer).
 */
async function negotiateTls(socket: net.Socket, endpoint: Endpoint, spec: PostgresSpec, ctx: ProbeContext): Promise<tls.TLSSocket | undefined> {
  // The SSLRequest round trip is its own phase (sslRequest), before the handshake's (tls): under
  // prefer against a server without TLS it is the only one, and the phases add up to the session.
  ctx.phases.start("sslRequest");
  const started = performance.now();
  const request = Buffer.alloc(8);
  request.writeInt32BE(8, 0);
  request.writeInt32BE(SSL_REQUEST_CODE, 4);
  socket.write(request);
  const answer = await firstBytes(socket, ctx.deadline.remainingMs(), ctx.signal);
  if (answer === "timeout") throw failure(PG.NO_SSL_ANSWER, { where: endpoint.label, waited: formatMs(performance.now() - started) });
  if (answer === "closed") throw failure(PG.CLOSED_ON_SSL_REQUEST, { where: endpoint.label });
  if (answer.length !== 1 || (answer[0] !== 0x53 && answer[0] !== 0x4e)) {
    throw failure(PG.BAD_SSL_ANSWER, { where: endpoint.label, shown: shownBytes(answer.toString("latin1")) });
  }
  const answeredAt = performance.now();
  ctx.phases.record("sslRequest", answeredAt - started);
  ctx.metrics.sslRequestMs = roundMs(answeredAt - started);
  ctx.phases.start("tls");
  if (answer[0] === 0x4e) {
    if (spec.sslMode === "prefer") {
      ctx.details.tls = "the server does not offer TLS (sslmode prefer: continued without)";
      return undefined;
    }
    throw failure(PG.SSL_NOT_SUPPORTED, { where: endpoint.label, mode: spec.sslMode });
  }
  const verify = verifyOf(spec);
  const secure = await startTls({ ...ctx, phases: { start: () => undefined, record: () => undefined } }, socket, { spec: spec.tls, hostname: spec.host, verify });
  // The handshake alone; what TLS costs a PostgreSQL session in all is sslRequestMs + tlsMs.
  const ms = performance.now() - answeredAt;
  ctx.phases.record("tls", ms);
  ctx.metrics.tlsMs = roundMs(ms);
  return secure;
}

/** The first chunk the server sends (the one-byte SSL answer), "closed", or "timeout" after `waitMs`. */
function firstBytes(socket: net.Socket, waitMs: number, signal: AbortSignal): Promise<Buffer | "closed" | "timeout"> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
      // Nothing more is read until pg (or TLS) takes the socket over.
      socket.pause();
    };
    const onData = (chunk: Buffer) => {
      done();
      resolve(chunk);
    };
    const onClose = () => {
      done();
      resolve("closed");
    };
    const onAbort = () => {
      done();
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve("timeout");
    }, Math.max(0, waitMs));
    socket.on("data", onData);
    socket.once("close", onClose);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * pg calls connect() on the stream it is given and waits for "connect". This
 * stream is already connected (and possibly TLS), so connect() only announces
 * it — and lets data flow again: the socket was paused after the SSL answer,
 * and pg's own "data" listener does not resume an explicitly paused stream.
 */
function preconnected(stream: net.Socket): net.Socket {
  stream.connect = function connect(this: net.Socket) {
    process.nextTick(() => {
      this.emit("connect");
      this.resume();
    });
    return this;
  } as net.Socket["connect"];
  return stream;
}

/**
 * With ssl.mode disable, "no pg_hba.conf entry … no encryption" may only mean
 * the server wants TLS for this user. One TLS attempt tells: if it gets past
 * pg_hba.conf, the check's mode is the problem; otherwise the original error stands.
 */
async function whetherTlsWouldPass(original: unknown, attemptTls: () => Promise<Session>, spec: PostgresSpec): Promise<unknown> {
  if (!/no encryption/i.test((original as Error).message ?? "")) return original;
  try {
    await attemptTls();
  } catch (error) {
    if (isNoHbaEntry(error) || !(error as { code?: string }).code?.match(/^[0-9A-Z]{5}$/) || !(error as { severity?: string }).severity) return original;
  }
  return failure(PG.TLS_ONLY, { user: spec.user, database: spec.database }, { cause: original });
}

function isNoHbaEntry(error: unknown): boolean {
  return (error as { code?: string })?.code === "28000" && /no pg_hba\.conf entry/i.test((error as Error).message ?? "");
}

/**
 * Asked with a query (not the in_hot_standby startup parameter, which servers
 * before 14 do not send) on purpose: it is also the session's first statement,
 * whose one-time costs (client code paths, the backend's first snapshot) would
 * otherwise inflate the first sample — measured ~1 ms on loopback, the whole p95 at 5 samples.
 */
async function readInRecovery(client: PgClient): Promise<boolean> {
  const result = await client.query<[boolean]>({ text: "SELECT pg_is_in_recovery()", rowMode: "array", queryMode: "extended" } as never);
  return Boolean(result.rows[0]?.[0]);
}

/**
 * The configured query, `samples` times, each through the sampling lane. It
 * runs as one statement of the extended protocol, so a query string cannot
 * smuggle a second statement (`SET … read_write; DELETE …`) past the
 * read-only session. At the inner deadline a still-running query is
 * cancelled on the server, whose answer (57014) is what the check reports.
 *
 * Each round trip is timed at the socket (src/net/round-trips.ts): from the
 * query's bytes being handed to the kernel (pg corks around one query's
 * messages) to the arrival of the chunk that carries the server's
 * ReadyForQuery. Measured for SELECT 1 on loopback: 0.10–0.14 ms wall,
 * 0.06 ms at the socket; pgbench -c 1: 0.05 ms.
 */
async function sampleQueries(session: Session, spec: PostgresSpec, endpoint: Endpoint, ctx: ProbeContext, worker?: { job: SamplingJob; rounds: number[] }): Promise<void> {
  const { client } = session;
  const stream = session.secure ?? session.socket;
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  ctx.phases.start("query");
  const stamps = new SocketStamps(stream);
  let readyAt = 0;
  const onReady = () => {
    readyAt = stamps.chunkAt;
  };
  connection.prependListener("readyForQuery", onReady);
  const rounds: number[] = [];
  let last: { rows: unknown[][]; fields: FieldDef[] } | undefined;
  let sampledElsewhere = false;
  let loop: ReturnType<typeof watchLoop> | undefined;
  try {
    // The session's first statement is the warm-up: discarded from the samples, reported on its own.
    const warmupStarted = performance.now();
    ctx.metrics.inRecovery = await readInRecovery(client);
    ctx.metrics.queryWarmupMs = roundMs(stamps.roundTrip(warmupStarted, readyAt, performance.now()));
    for (let i = 0; i < spec.samples; i += 1) {
      const slowest = rounds.length ? Math.max(...rounds) : 0;
      // Leave room for one more round trip like the slowest so far, or stop with what we have.
      if (i > 0 && ctx.deadline.remainingMs() < slowest * 1.5) {
        ctx.details.samples = `took ${rounds.length} of ${spec.samples} samples: the budget left no room for more (slowest ${formatMs(slowest)})`;
        break;
      }
      const outcome = await ctx.sample(async () => {
        const cancelTimer = setTimeout(() => void sendCancel(endpoint, session), ctx.deadline.remainingMs());
        stamps.writtenAt = 0;
        const started = performance.now();
        try {
          const result = await client.query<unknown[]>({
            text: spec.query,
            rowMode: "array",
            queryMode: "extended",
            // A backstop at the very end of the budget.
            query_timeout: ctx.deadline.clientTimeoutMs(),
          } as never);
          return { ms: stamps.roundTrip(started, readyAt, performance.now()), result };
        } finally {
          clearTimeout(cancelTimer);
        }
      });
      rounds.push(outcome.ms);
      last = { rows: outcome.result.rows, fields: outcome.result.fields };
      Object.assign(ctx.metrics, roundTripMetrics("query", rounds));
      // The session ran the query once (its value, rows and errors are read here, where errors are
      // classified); the samples are the sampling worker's, on its own connection, when it is available.
      if (i === 0 && worker && (await sampleQueriesInWorker(worker, ctx))) {
        rounds.splice(0, rounds.length, ...worker.rounds);
        sampledElsewhere = true;
        break;
      }
      if (i === 0) loop = watchLoop();
    }
  } finally {
    connection.off("readyForQuery", onReady);
    stamps.restore();
  }
  if (!sampledElsewhere && loop) Object.assign(ctx.metrics, loopDelayMetrics("query", loop.stop(), ctx.metrics));
  if (ctx.metrics.queryNoisy) ctx.labels.push("noisy samples");
  ctx.phases.record("query", percentile(rounds, 95));
  const note = percentileNote("query", rounds.length);
  if (note) ctx.details.percentiles = note;
  if (last) {
    ctx.metrics.rows = last.rows.length;
    ctx.metrics.value = last.rows.length && last.fields.length ? metricValue(last.rows[0][0], last.fields[0].dataTypeID) : null;
  }
}

/** Stops a worker job that has taken all the samples the budget leaves room for. */
const ENOUGH = new Error("enough samples for the budget");

/**
 * The samples, from the sampling worker on its own connection (the same
 * address, TLS as this session negotiated it, the same read-only options and
 * statement_timeout), set up in parallel with this session's startup.
 */
async function beginQuerySampling(endpoint: Endpoint, spec: PostgresSpec, secure: boolean, rounds: number[], ctx: ProbeContext): Promise<{ job: SamplingJob; enough: AbortController }> {
  const { beginSampling } = await import("../../net/sampler.js");
  const enough = new AbortController();
  const signal = AbortSignal.any([ctx.signal, enough.signal]);
  const taken: number[] = [];
  const password = typeof spec.password === "string" ? spec.password : undefined;
  const job = beginSampling(
    {
      protocol: "postgres",
      address: endpoint.address?.address ?? spec.host,
      family: endpoint.address?.family ?? 4,
      port: endpoint.port,
      ...(endpoint.socketPath ? { socketPath: endpoint.socketPath } : {}),
      ...(secure ? { tls: { ...spec.tls, ca: resolvedCa(spec.tls?.ca), hostname: spec.host, verify: verifyOf(spec) } } : {}),
      user: spec.user,
      database: spec.database,
      ...(password !== undefined ? { password } : {}),
      options: `-c default_transaction_read_only=on -c statement_timeout=${Math.max(1, Math.floor(ctx.deadline.remainingMs()))}`,
      query: spec.query,
      samples: spec.samples,
      timeoutMs: ctx.deadline.clientTimeoutMs(),
    },
    {
      onSetup: (setupMs, warmupMs) => {
        ctx.metrics.queryWarmupMs = roundMs(warmupMs);
        ctx.details.sampler = `sampling thread, own connection (ready in ${formatMs(setupMs)})`;
      },
      onRound: (ms) => {
        taken.push(ms);
        rounds.splice(0, rounds.length, ...taken);
        Object.assign(ctx.metrics, roundTripMetrics("query", rounds));
        // Leave room for one more round trip like the slowest so far, or stop with what we have.
        const slowest = Math.max(...taken);
        if (taken.length < spec.samples && ctx.deadline.remainingMs() < slowest * 1.5) {
          ctx.details.samples = `took ${taken.length} of ${spec.samples} samples: the budget left no room for more (slowest ${formatMs(slowest)})`;
          enough.abort(ENOUGH);
        }
      },
    },
    signal,
  );
  return { job, enough };
}

/**
 * Samples from the worker when its connection is ready (replacing `rounds`, the session's one
 * execution, with the worker's); false when it could not be set up (a server at max_connections
 * may refuse a second one): the caller goes on sampling here, and `details.sampler` says so.
 */
async function sampleQueriesInWorker(sampling: { job: SamplingJob }, ctx: ProbeContext): Promise<boolean> {
  const ready = await sampling.job.readyWithin(Math.min(SAMPLER_WAIT_MS, ctx.deadline.remainingMs() / 4));
  if (!ready.ok) {
    ctx.details.sampler = `main thread: ${ready.reason}`;
    return false;
  }
  try {
    const outcome = await sampling.job.sample();
    Object.assign(ctx.metrics, loopDelayMetrics("query", outcome.loopDelayMs, ctx.metrics));
  } catch (error) {
    if (error === ENOUGH) return true;
    const loopDelayMs = (error as { loopDelayMs?: number | null }).loopDelayMs;
    if (loopDelayMs !== undefined) Object.assign(ctx.metrics, loopDelayMetrics("query", loopDelayMs, ctx.metrics));
    throw error;
  }
  return true;
}

/** libpq's meaning of each sslmode: prefer/require encrypt without verifying; verify-ca checks the chain; verify-full the name too. */
function verifyOf(spec: PostgresSpec): "full" | "ca" | "none" {
  const mode: SslMode = spec.sslMode === "require" && spec.tls?.ca ? "verify-ca" : spec.sslMode;
  return mode === "verify-full" ? "full" : mode === "verify-ca" ? "ca" : "none";
}

/** A backend's cancel key (BackendKeyData), once the session has authenticated. */
interface BackendKey {
  processID: number;
  secretKey: number;
}

function backendKey(session: Session): BackendKey | undefined {
  const { processID, secretKey } = session.client as unknown as { processID: number | null; secretKey: number | null };
  return processID === null || secretKey === null ? undefined : { processID, secretKey };
}

/**
 * CancelRequest on a fresh connection: the server interrupts the backend's
 * running statement (57014). Resolves once the request is sent and the server
 * closed the connection (or after CANCEL_SEND_MS, or on an error).
 */
function sendCancel(endpoint: Endpoint, key: BackendKey | Session): Promise<void> {
  const { processID, secretKey } = "client" in key ? (backendKey(key) ?? { processID: null, secretKey: null }) : key;
  if (processID === null || secretKey === null) return Promise.resolve();
  const socket = endpoint.connector
    ? (require("node:tls") as typeof import("node:tls")).connect({ host: endpoint.address!.address, port: endpoint.port, ...endpoint.connector })
    : endpoint.socketPath
      ? net.connect({ path: endpoint.socketPath })
      : net.connect({ host: endpoint.address!.address, port: endpoint.port });
  socket.on("error", () => undefined);
  socket.unref();
  socket.setTimeout(CANCEL_SEND_MS, () => socket.destroy());
  socket.once(endpoint.connector ? "secureConnect" : "connect", () => {
    const message = Buffer.alloc(16);
    message.writeInt32BE(16, 0);
    message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
    message.writeInt32BE(processID, 8);
    message.writeInt32BE(secretKey, 12);
    socket.end(message);
  });
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

/** Terminate politely, but never wait long for it. */
async function close(session: Session): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      session.client.end().catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    session.secure?.destroy();
    session.socket.destroy();
  }
}

/** A query result cell as a metric: numbers stay numbers (count(*) is int8, sent as text), the rest JSON-friendly. */
export function metricValue(value: unknown, typeId?: number): MetricValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === "string") {
    if (typeId !== undefined && NUMERIC_STRING_TYPES.has(typeId)) {
      const number = Number(value);
      if (Number.isFinite(number) && (typeId !== 20 || Number.isSafeInteger(number))) return number;
    }
    return value.length > MAX_VALUE_CHARS ? `${value.slice(0, MAX_VALUE_CHARS)}…` : value;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (Buffer.isBuffer(value)) return metricValue(`\\x${value.toString("hex")}`);
  if (Array.isArray(value)) return value.map((item) => metricValue(item));
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, metricValue(item)]));
  return String(value);
}
