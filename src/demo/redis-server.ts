// A real redis-server for the tests, the `demo` stack and the benchmarks: one
// process per call, on a loopback port, in its own temp dir, nothing persisted
// unless asked. The configuration goes into a 0600 file in that dir, so
// passwords never show up in `ps`.
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeCerts, type CertSet } from "./certs.js";
import { freePort } from "./free-port.js";
import { startServerProcess, type ServerProcess } from "./server-process.js";

export interface RedisAclUser {
  name: string;
  password: string;
  /** ACL rules after the password, e.g. "~* &* +@all" (the default) or "~* -@all +ping". */
  rules?: string;
}

export interface RedisTlsFiles {
  cert: string;
  key: string;
  /** CA that signed `cert`: what clients must trust. */
  ca: string;
}

export interface RedisServerOptions {
  /** `requirepass` of the default user. */
  password?: string;
  /** ACL users (in addition to `default`). */
  users?: RedisAclUser[];
  /** Serve TLS only: `true` makes throw-away certificates (removed on stop), or pass your own files. */
  tls?: boolean | RedisTlsFiles;
  maxclients?: number;
  /**
   * Extra redis.conf directives, e.g. { "busy-reply-threshold": 100, "enable-debug-command": "local" };
   * an array for several arguments: { replicaof: ["127.0.0.1", 6379] }.
   */
  config?: Record<string, string | number | (string | number)[]>;
  /** Start from this RDB file (copied into the server's dir). */
  rdbFile?: string;
  /**
   * When start() returns: `ready` (default) once Redis accepts commands;
   * `loading` as soon as it listens and starts loading `rdbFile` (it then answers -LOADING).
   */
  waitFor?: "ready" | "loading";
  /** Loopback address to bind (default 127.0.0.1). */
  host?: "127.0.0.1" | "::1";
  /** redis-server binary (default $REDIS_SERVER or `redis-server` on PATH). */
  bin?: string;
  /** Give up starting after this long (default 10 s). */
  startTimeoutMs?: number;
}

export interface RedisServer {
  host: string;
  port: number;
  /** redis:// or rediss:// URL, without credentials. */
  url: string;
  tls: boolean;
  /** The default user's password, when one was set. */
  password?: string;
  /** CA certificate (PEM path) clients must trust, for TLS servers. */
  caCert?: string;
  /** The server's working dir (dump.rdb goes here on SAVE). */
  dir: string;
  pid: number;
  /** The last lines the server logged. */
  logs(): string;
  /**
   * Resolve with the next log line matching `pattern` (lines logged from now on),
   * e.g. /Slow script detected/ or /Background saving error/. Rejects if the server
   * exits or nothing matches within `timeoutMs` (default 10 s).
   */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Stop the server (SIGTERM, SIGKILL if it lingers) and remove its dir and generated certificates. */
  stop(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 5;
const LOG_LINES_KEPT = 200;

export class RedisServerError extends Error {
  constructor(message: string, readonly logTail: string) {
    super(logTail ? `${message}\n--- redis-server log (last lines) ---\n${logTail}` : message);
    this.name = "RedisServerError";
  }
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const host = options.host ?? "127.0.0.1";
  const dir = await mkdtemp(path.join(tmpdir(), "infra-check-redis-"));
  let generatedCerts: CertSet | undefined;
  try {
    let tlsFiles: RedisTlsFiles | undefined;
    if (options.tls === true) {
      generatedCerts = await makeCerts();
      tlsFiles = { cert: generatedCerts.server.cert, key: generatedCerts.server.key, ca: generatedCerts.caCert };
    } else if (options.tls) {
      tlsFiles = options.tls;
    }
    if (options.rdbFile) await copyFile(options.rdbFile, path.join(dir, "dump.rdb"));

    let lastError: RedisServerError | undefined;
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt += 1) {
      // The OS hands out a free port; another process may grab it before redis-server
      // binds it, in which case the server says so and we try the next one.
      const port = await freePort(host);
      const confFile = path.join(dir, "redis.conf");
      await writeFile(confFile, configText({ ...options, host, port, dir, tlsFiles }), { mode: 0o600 });
      try {
        const server = await launch(options.bin ?? process.env.REDIS_SERVER ?? "redis-server", confFile, options.waitFor ?? "ready", options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
        const certs = generatedCerts;
        let stopped: Promise<void> | undefined;
        return {
          host,
          port,
          url: `${tlsFiles ? "rediss" : "redis"}://${host.includes(":") ? `[${host}]` : host}:${port}`,
          tls: Boolean(tlsFiles),
          ...(options.password !== undefined ? { password: options.password } : {}),
          ...(tlsFiles ? { caCert: tlsFiles.ca } : {}),
          dir,
          pid: server.child.pid!,
          logs: server.logs,
          waitForLog: server.waitForLog,
          // A server stuck in a busy script ignores SIGTERM until the script yields.
          stop: () => (stopped ??= server.stop("SIGTERM", STOP_GRACE_MS).finally(() => cleanup(dir, certs))),
        };
      } catch (error) {
        if (error instanceof RedisServerError && /Address already in use/i.test(error.logTail)) {
          lastError = error;
          continue;
        }
        throw error;
      }
    }
    throw lastError ?? new RedisServerError("could not find a free port for redis-server", "");
  } catch (error) {
    await cleanup(dir, generatedCerts);
    throw error;
  }
}

async function cleanup(dir: string, certs: CertSet | undefined): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await certs?.cleanup();
}

/** redis.conf quoting: double quotes, backslash escapes (sdssplitargs rules). */
function quote(value: string | number): string {
  return `"${String(value).replace(/[\\"]/g, (char) => `\\${char}`).replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`;
}

function configText(options: RedisServerOptions & { host: string; port: number; dir: string; tlsFiles?: RedisTlsFiles }): string {
  const lines: string[] = [
    `bind ${options.host}`,
    `dir ${quote(options.dir)}`,
    `save ""`,
    "appendonly no",
    "daemonize no",
    `logfile ""`,
    "loglevel notice",
    // Loopback only, and tests may run without a password.
    "protected-mode no",
    // stop() means stop: no final save, even when a test configured save points (Redis 7+).
    "shutdown-on-sigterm nosave force",
  ];
  if (options.tlsFiles) {
    lines.push(
      "port 0",
      `tls-port ${options.port}`,
      `tls-cert-file ${quote(options.tlsFiles.cert)}`,
      `tls-key-file ${quote(options.tlsFiles.key)}`,
      `tls-ca-cert-file ${quote(options.tlsFiles.ca)}`,
      "tls-auth-clients no",
    );
  } else {
    lines.push(`port ${options.port}`);
  }
  if (options.password !== undefined) lines.push(`requirepass ${quote(options.password)}`);
  for (const user of options.users ?? []) {
    if (!/^[A-Za-z0-9_.@-]+$/.test(user.name)) throw new Error(`ACL user name ${JSON.stringify(user.name)}: use letters, digits, '_', '.', '@', '-'`);
    lines.push(`user ${user.name} on ${quote(">" + user.password)} ${user.rules ?? "~* &* +@all"}`);
  }
  if (options.maxclients !== undefined) lines.push(`maxclients ${options.maxclients}`);
  for (const [key, value] of Object.entries(options.config ?? {})) {
    if (!/^[a-z0-9-]+$/.test(key)) throw new Error(`redis config directive ${JSON.stringify(key)}: expected lowercase letters, digits and '-'`);
    lines.push(`${key} ${(Array.isArray(value) ? value : [value]).map(quote).join(" ")}`);
  }
  return lines.join("\n") + "\n";
}

const READY_LINE = /Ready to accept connections/;
const LOADING_LINE = /Loading RDB produced by|DB loaded from disk|Ready to accept connections/;

function launch(bin: string, confFile: string, waitFor: "ready" | "loading", startTimeoutMs: number): Promise<ServerProcess> {
  return startServerProcess({
    name: "redis-server",
    bin,
    args: [confFile],
    readyLine: waitFor === "loading" ? LOADING_LINE : READY_LINE,
    notReady: `did not report "${waitFor}"`,
    startTimeoutMs,
    logLinesKept: LOG_LINES_KEPT,
    notFoundMessage: `${bin} not found: install Redis (e.g. apt-get install redis-server) or set REDIS_SERVER to the binary`,
    error: (message, logTail) => new RedisServerError(message, logTail),
  });
}
