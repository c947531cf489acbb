// The sampling worker: a thread with its own event loop that takes latency
// samples (Redis PING, PostgreSQL query round trips) on its own connection,
// after the main thread's session proved the target works. Nothing else runs
// on this loop — no SCRAM, no TLS handshake of another check, no JSON of a
// Google client — so a reply's bytes are stamped when they arrive, not when
// the main loop gets round to them (measured in bench/sampling.bench.js).
//
// Self-contained on purpose: only built-ins and pg (loaded when a postgres
// job arrives), no relative imports, erasable TypeScript only — so the same
// file runs from src/ under Node's type stripping (tests), from dist/ and as
// its own entry of the bundle. Jobs run concurrently: each is a few writes
// and a few parsed bytes per sample, microseconds next to any round trip.
import { readFileSync } from "node:fs";
import net from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

interface TlsJob {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  insecure?: boolean;
  hostname: string;
  verify?: "full" | "ca" | "none";
}

interface BaseJob {
  address: string;
  family: 4 | 6;
  port: number;
  socketPath?: string;
  tls?: TlsJob;
  samples: number;
  /** A backstop: the main thread aborts the job at the check's deadline before this. */
  timeoutMs: number;
}

export interface RedisJob extends BaseJob {
  protocol: "redis";
  username?: string;
  password?: string;
  db: number;
}

export interface PostgresJob extends BaseJob {
  protocol: "postgres";
  user: string;
  database: string;
  password?: string;
  options: string;
  query: string;
}

export type SampleJob = RedisJob | PostgresJob;

/** A job sets its connection up at once (in parallel with the main session's own handshake) and samples on `go`. */
export type ToWorker = { id: number; job: SampleJob } | { id: number; go: true } | { id: number; abort: true };

export interface WorkerError {
  name: string;
  message: string;
  code?: string;
  severity?: string;
  /** Where it failed: before the first sample (the sampling connection) or while sampling. */
  stage: "setup" | "sampling";
}

export type FromWorker =
  | { id: number; type: "setup"; setupMs: number; warmupMs: number }
  | { id: number; type: "round"; ms: number }
  | { id: number; type: "done"; loopDelayMs: number | null }
  | { id: number; type: "error"; error: WorkerError; loopDelayMs: number | null };

/** The monitor's timer interval: the finest it offers. A reading below it is the timer itself, not a delay. */
const LOOP_RESOLUTION_MS = 1;
const MAX_REPLY_BYTES = 64 * 1024;

const running = new Map<number, { abort: (reason: Error) => void; go: () => void }>();

parentPort?.on("message", (message: ToWorker) => {
  if ("abort" in message) running.get(message.id)?.abort(new Error("sampling aborted"));
  else if ("go" in message) running.get(message.id)?.go();
  else void runJob(message.id, message.job);
});

async function runJob(id: number, job: SampleJob): Promise<void> {
  const sockets = new Set<net.Socket>();
  let aborted: Error | undefined;
  let go!: () => void;
  let stop!: (reason: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    go = resolve;
    stop = reject;
  });
  started.catch(() => undefined);
  /** A PostgreSQL session's cancel key, once it has authenticated. */
  let backend: BackendKey | undefined;
  let cancelled: Promise<void> | undefined;
  const abort = (reason: Error) => {
    aborted ??= reason;
    stop(reason);
    // A statement running on the server goes on when only our socket closes (until statement_timeout): cancel it there.
    if (backend && !cancelled) cancelled = cancelRequest(job, backend);
    for (const socket of sockets) socket.destroy(reason);
  };
  running.set(id, { abort, go });
  const timer = setTimeout(() => abort(Object.assign(new Error(`no answer within ${job.timeoutMs} ms`), { code: "ETIMEDOUT" })), job.timeoutMs);
  const delay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  let stage: WorkerError["stage"] = "setup";
  try {
    const session = job.protocol === "redis" ? await redisSession(job, sockets) : await postgresSession(job, sockets, (key) => (backend = key));
    post({ id, type: "setup", setupMs: session.setupMs, warmupMs: session.warmupMs });
    await started;
    stage = "sampling";
    delay.enable();
    for (let i = 0; i < job.samples; i += 1) {
      if (aborted) throw aborted;
      post({ id, type: "round", ms: await session.roundTrip() });
    }
    delay.disable();
    post({ id, type: "done", loopDelayMs: loopDelayMs(delay) });
    await session.close();
  } catch (error) {
    delay.disable();
    // The job's last message waits for the cancel to reach the server: the main thread may exit right after it.
    await cancelled;
    const failed = (aborted ?? error) as Error & { code?: string; severity?: string };
    post({ id, type: "error", loopDelayMs: loopDelayMs(delay), error: { name: failed.name, message: failed.message, ...(failed.code ? { code: String(failed.code) } : {}), ...(failed.severity ? { severity: failed.severity } : {}), stage } });
  } finally {
    clearTimeout(timer);
    running.delete(id);
    for (const socket of sockets) socket.destroy();
  }
}

function post(message: FromWorker): void {
  parentPort?.postMessage(message);
}

/** The worst delay the loop that stamped the samples suffered, in ms; null when the window was shorter than one tick. */
function loopDelayMs(histogram: ReturnType<typeof monitorEventLoopDelay>): number | null {
  if (histogram.count === 0) return null;
  return Math.max(0, Math.round((histogram.max / 1e6 - LOOP_RESOLUTION_MS) * 1000) / 1000);
}

interface SamplingSession {
  setupMs: number;
  warmupMs: number;
  roundTrip(): Promise<number>;
  close(): Promise<void>;
}

function tlsConnectionOptions(spec: TlsJob): ConnectionOptions {
  const tls = require("node:tls") as typeof import("node:tls");
  const name = spec.servername ?? spec.hostname;
  const options: ConnectionOptions = {};
  if (name && !net.isIP(name)) options.servername = name;
  // A path, or PEM text (a { memorystoreCa } reference as the run resolved it).
  if (spec.ca) options.ca = spec.ca.startsWith("-----BEGIN") ? spec.ca : readFileSync(spec.ca);
  if (spec.cert) options.cert = readFileSync(spec.cert);
  if (spec.key) options.key = readFileSync(spec.key);
  const verify = spec.insecure ? "none" : (spec.verify ?? "full");
  if (verify === "none") options.rejectUnauthorized = false;
  options.checkServerIdentity = verify === "full" ? (_host, cert) => tls.checkServerIdentity(name, cert) : () => undefined;
  return options;
}

function connected(socket: net.Socket, event: "connect" | "secureConnect"): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once(event, () => {
      socket.off("error", reject);
      resolve();
    });
    socket.once("error", reject);
  });
}

async function dialFor(job: BaseJob, sockets: Set<net.Socket>): Promise<net.Socket> {
  const plain = job.socketPath ? net.connect({ path: job.socketPath }) : net.connect({ host: job.address, port: job.port, family: job.family });
  sockets.add(plain);
  plain.setNoDelay(true);
  await connected(plain, "connect");
  if (!job.tls) return plain;
  const tls = require("node:tls") as typeof import("node:tls");
  const secure: TLSSocket = tls.connect({ socket: plain, ...tlsConnectionOptions(job.tls) });
  sockets.add(secure);
  await connected(secure, "secureConnect");
  return secure;
}

// ---------------------------------------------------------------- Redis: RESP by hand, one reply at a time

function resp(...parts: string[]): Buffer {
  return Buffer.from(`*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join("")}`);
}

const PING = resp("PING");

async function redisSession(job: RedisJob, sockets: Set<net.Socket>): Promise<SamplingSession> {
  const started = performance.now();
  const socket = await dialFor(job, sockets);
  let buffered = "";
  let arrivedAt = 0;
  let waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | undefined;
  const fail = (error: Error) => {
    waiting?.reject(error);
    waiting = undefined;
  };
  socket.on("data", (chunk: Buffer) => {
    arrivedAt = performance.now();
    buffered += chunk.toString("latin1");
    if (buffered.length > MAX_REPLY_BYTES) return fail(new Error("reply too large"));
    const end = buffered.indexOf("\r\n");
    if (end < 0 || !waiting) return;
    const line = buffered.slice(0, end);
    buffered = buffered.slice(end + 2);
    const pending = waiting;
    waiting = undefined;
    pending.resolve(line);
  });
  socket.on("error", fail);
  socket.on("close", () => fail(Object.assign(new Error("Connection is closed."), { code: "ECONNRESET" })));
  /** One command, its one-line reply (simple string, error or integer: all the sampler sends). */
  const command = (bytes: Buffer): Promise<{ line: string; ms: number }> =>
    new Promise((resolve, reject) => {
      const writtenAt = performance.now();
      waiting = {
        resolve: (line) => {
          if (line.startsWith("-")) reject(Object.assign(new Error(line.slice(1)), { name: "ReplyError" }));
          else resolve({ line, ms: arrivedAt - writtenAt });
        },
        reject,
      };
      socket.write(bytes);
    });
  if (job.password !== undefined) await command(job.username ? resp("AUTH", job.username, job.password) : resp("AUTH", job.password));
  if (job.db) await command(resp("SELECT", String(job.db)));
  const setupMs = performance.now() - started;
  const warmup = await command(PING);
  return {
    setupMs,
    warmupMs: warmup.ms,
    async roundTrip() {
      const reply = await command(PING);
      if (reply.line !== "+PONG") throw Object.assign(new Error(`PING answered ${JSON.stringify(reply.line.slice(0, 80))}`), { name: "ReplyError" });
      return reply.ms;
    },
    async close() {
      socket.end();
    },
  };
}

// ---------------------------------------------------------------- PostgreSQL: pg on our own connection

interface PgConnection {
  stream: net.Socket;
  prependListener(event: string, listener: () => void): void;
}

interface BackendKey {
  processID: number;
  secretKey: number;
}

/** CancelRequest on a fresh connection (plaintext, as libpq sends it): resolves once the server closed it, or after 1 s. */
function cancelRequest(job: BaseJob, key: BackendKey): Promise<void> {
  const socket = job.socketPath ? net.connect({ path: job.socketPath }) : net.connect({ host: job.address, port: job.port, family: job.family });
  socket.on("error", () => undefined);
  socket.setTimeout(1000, () => socket.destroy());
  socket.once("connect", () => {
    const message = Buffer.alloc(16);
    message.writeInt32BE(16, 0);
    message.writeInt32BE(80877102, 4);
    message.writeInt32BE(key.processID, 8);
    message.writeInt32BE(key.secretKey, 12);
    socket.end(message);
  });
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

async function postgresSession(job: PostgresJob, sockets: Set<net.Socket>, onBackend: (key: BackendKey) => void): Promise<SamplingSession> {
  const started = performance.now();
  const { default: pg } = await import("pg");
  const socket = await dialFor({ ...job, tls: undefined }, sockets);
  let stream = socket;
  if (job.tls) {
    // SSLRequest, then TLS on the same socket: the main session already negotiated it, so the answer is S.
    const request = Buffer.alloc(8);
    request.writeInt32BE(8, 0);
    request.writeInt32BE(80877103, 4);
    socket.write(request);
    const answer: Buffer = await new Promise((resolve, reject) => {
      socket.once("data", resolve);
      socket.once("error", reject);
    });
    socket.pause();
    if (answer[0] !== 0x53) throw new Error("the server no longer offers TLS");
    const tls = require("node:tls") as typeof import("node:tls");
    const secure = tls.connect({ socket, ...tlsConnectionOptions(job.tls) });
    sockets.add(secure);
    await connected(secure, "secureConnect");
    stream = secure;
  }
  stream.connect = function connect(this: net.Socket) {
    process.nextTick(() => {
      this.emit("connect");
      this.resume();
    });
    return this;
  } as net.Socket["connect"];
  const client = new pg.Client({
    stream: () => stream,
    user: job.user,
    database: job.database,
    password: (async () => job.password) as () => Promise<string>,
    ssl: false,
    application_name: "infra-check sampler",
    options: job.options,
    connectionTimeoutMillis: job.timeoutMs,
  });
  client.on("error", () => undefined);
  await client.connect();
  const { processID, secretKey } = client as unknown as { processID: number | null; secretKey: number | null };
  if (processID !== null && secretKey !== null) onBackend({ processID, secretKey });
  const setupMs = performance.now() - started;
  const connection = (client as unknown as { connection: PgConnection }).connection;
  let writtenAt = 0;
  let readyAt = 0;
  const write = stream.write;
  stream.write = function (this: net.Socket, ...args: Parameters<net.Socket["write"]>) {
    if (!this.writableCorked) writtenAt = performance.now();
    return write.apply(this, args);
  } as net.Socket["write"];
  const uncork = stream.uncork;
  stream.uncork = function (this: net.Socket) {
    writtenAt = performance.now();
    uncork.call(this);
  };
  let chunkAt = 0;
  stream.prependListener("data", () => {
    chunkAt = performance.now();
  });
  connection.prependListener("readyForQuery", () => {
    readyAt = chunkAt;
  });
  const once = async (text: string): Promise<number> => {
    writtenAt = 0;
    const startedAt = performance.now();
    await client.query({ text, rowMode: "array", queryMode: "extended", query_timeout: job.timeoutMs } as never);
    const endedAt = performance.now();
    return (readyAt > startedAt ? readyAt : endedAt) - (writtenAt >= startedAt ? writtenAt : startedAt);
  };
  const warmupMs = await once(job.query);
  return {
    setupMs,
    warmupMs,
    roundTrip: () => once(job.query),
    async close() {
      await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 100))]);
    },
  };
}
