// PostgreSQL probe: dns → connect → tls → auth (startup until ReadyForQuery)
// → query samples. The probe opens the TCP connection and negotiates TLS
// itself (SSLRequest, with libpq's sslmode semantics), so each phase is real
// and its errors are Node's own; then it hands the open stream to pg, which
// speaks the protocol. The session is read-only and bounded by the check's
// budget on both sides: statement_timeout on the server, a cancel request at
// the deadline for a query still running, and the client closed in `finally`.
import { once } from "node:events";
import net from "node:net";
import tls from "node:tls";
import { userInfo } from "node:os";
import path from "node:path";
import { z } from "zod";
import type { Client as PgClient, FieldDef } from "pg";
import { secretValueSchema, tlsSchema, type SecretValue } from "../config/schema.js";
import { ConfigError } from "../util/errors.js";
import { passwordEnvFlag, wholeNumberFlag } from "../util/flags.js";
import { bareHost, resolveHost } from "../net/resolve.js";
import { tlsOptions } from "../net/tls.js";
import { formatMs } from "../util/duration.js";
import { percentile, roundMs } from "../util/stats.js";
import { type MetricValue } from "../diagnose/vocabulary.js";
import { ProbeFailure, type CheckSpec, type ProbeContext, type ProbeDefinition, type TlsSpec } from "./api.js";
import { Redactor } from "../redact.js";

const DEFAULT_PORT = 5432;
const DEFAULT_SAMPLES = 5;
const MAX_SAMPLES = 1000;
const DEFAULT_QUERY = "SELECT 1";
export const SSL_MODES = ["disable", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];
/** URL query parameters understood (libpq's names); anything else is a config error, not silently ignored. */
const URL_PARAMETERS = ["sslmode", "host", "port", "user", "dbname", "password"];
/** A value longer than this is cut in `value` (a metric, not a data export). */
const MAX_VALUE_CHARS = 500;
/**
 * Our own deadline (cancel the running query, give up waiting for the SSL
 * answer) fires a tenth of the budget — within these bounds — before the
 * runner's budget timer, so the server's answer to the cancel (57014, with
 * its reason) can still arrive and be reported: the cancel needs a new
 * connection, so about two round trips.
 */
const MIN_MARGIN_MS = 20;
const MAX_MARGIN_MS = 250;
/** How long closing may take before the sockets are simply destroyed. */
const CLOSE_GRACE_MS = 100;
const SSL_REQUEST_CODE = 80877103;
const CANCEL_REQUEST_CODE = 80877102;
/** Type OIDs whose text form is a number pg leaves as a string (int8, numeric). */
const NUMERIC_STRING_TYPES = new Set([20, 1700]);

const sslModeSchema = z.enum(SSL_MODES);

const sslSchema = z.union([
  sslModeSchema,
  z.strictObject({
    mode: sslModeSchema.optional().meta({ description: "disable | prefer (default) | require | verify-ca | verify-full — libpq's sslmode" }),
    ca: z.string().optional().meta({ description: "CA bundle (PEM) that signed the server certificate, relative to the config file; with mode require it verifies the chain (like libpq's sslrootcert)" }),
    cert: z.string().optional().meta({ description: "Client certificate (PEM) for `cert` authentication" }),
    key: z.string().optional().meta({ description: "Client private key (PEM)" }),
    servername: z.string().optional().meta({ description: "Name to verify the server certificate against (default: the host)" }),
  }),
]);

const fieldsSchema = z.strictObject({
    url: z
      .string()
      .optional()
      .meta({ description: "postgres://[user[:password]@]host[:port][/database][?sslmode=…] (postgresql:// too); explicit keys win over URL parts" }),
    host: z.string().min(1).optional().meta({ description: "Host name or IP; a path is a Unix-socket directory" }),
    port: z.number().int().min(1).max(65535).optional().meta({ description: `TCP port (default ${DEFAULT_PORT})` }),
    database: z.string().min(1).optional().meta({ description: "Database (default: the user name, like libpq)" }),
    user: z.string().min(1).optional().meta({ description: "Role to log in as" }),
    password: secretValueSchema
      .optional()
      .meta({ description: "Password: ${ENV_VAR} or { secret: projects/P/secrets/S }; never printed" }),
    ssl: sslSchema.optional().meta({ description: "TLS: a mode (`require`) or { mode, ca, cert, key, servername }" }),
    tls: tlsSchema.optional().meta({ description: "The shared TLS block (ca, cert, key, servername); same as the files under ssl:" }),
    query: z.string().trim().min(1).default(DEFAULT_QUERY).meta({ description: `Read-only query whose round trip is sampled; its first column of the first row is the \`value\` metric (default ${DEFAULT_QUERY})` }),
    samples: z.number().int().min(1).max(MAX_SAMPLES).default(DEFAULT_SAMPLES).meta({ description: `Query round trips for the percentiles (default ${DEFAULT_SAMPLES})` }),
});

const schema = fieldsSchema
  .superRefine((raw, ctx) => {
    let url: URL | undefined;
    if (raw.url !== undefined) {
      const parsed = parseUrl(raw.url);
      if (typeof parsed === "string") {
        ctx.addIssue({ code: "custom", path: ["url"], message: parsed });
        return;
      }
      url = parsed;
      if (urlPassword(url) !== undefined && raw.password !== undefined) {
        ctx.addIssue({ code: "custom", path: ["password"], message: "the password is set twice (in the URL and in `password:`); keep only `password:`" });
      }
    }
    if (!raw.host && !url?.hostname && !url?.searchParams.get("host")) {
      ctx.addIssue({ code: "custom", path: raw.url === undefined ? [] : ["url"], message: "no host: give `url: postgres://user@host:5432/db` or `host:`" });
    }
    if (!raw.user && !url?.username && !url?.searchParams.get("user")) {
      ctx.addIssue({ code: "custom", path: raw.url === undefined ? [] : ["url"], message: "no user: put it in the URL (postgres://USER@host/db) or set `user:`" });
    }
    const files = typeof raw.ssl === "object" ? raw.ssl : {};
    for (const key of ["ca", "cert", "key", "servername"] as const) {
      if (files[key] !== undefined && raw.tls?.[key] !== undefined) {
        ctx.addIssue({ code: "custom", path: ["ssl", key], message: `set twice (ssl.${key} and tls.${key}); keep one` });
      }
    }
    const mode = sslModeOf(raw.ssl) ?? (url?.searchParams.get("sslmode") as SslMode | null) ?? undefined;
    if (raw.tls?.insecure && (mode === "verify-ca" || mode === "verify-full")) {
      ctx.addIssue({ code: "custom", path: ["tls", "insecure"], message: `tls.insecure contradicts ssl mode ${mode}; use mode require to skip verification` });
    }
  })
  .transform((raw) => normalize(raw));

type RawFields = z.output<typeof fieldsSchema>;
/** A check's fields once the URL and the explicit keys are merged (explicit keys win). */
export interface PostgresFields {
  url?: string;
  /** Host name, IP, or a Unix-socket directory (starts with "/"). */
  host: string;
  port: number;
  database: string;
  user: string;
  password?: SecretValue;
  sslMode: SslMode;
  /** Certificate files and names (ssl.ca etc. land here, so the loader resolves them against the config file). */
  tls?: TlsSpec;
  query: string;
  samples: number;
}
type PostgresSpec = CheckSpec<PostgresFields>;

/** Where we talk to: a TCP address or a Unix socket. */
interface Endpoint {
  host: string;
  port: number;
  socketPath?: string;
  address?: string;
  family?: 4 | 6;
  /** For messages: host:port or the socket path. */
  label: string;
}

interface Session {
  client: PgClient;
  socket: net.Socket;
  secure?: tls.TLSSocket;
  params: Record<string, string>;
}

const postgresProbe: ProbeDefinition<PostgresFields> = {
  kind: "postgres",
  summary: "PostgreSQL: connect/auth/query phases, query percentiles",
  schema,
  metrics: {
    names: [
      "connectMs", "dnsMs", "tcpMs", "tlsMs", "authMs",
      "queryP50Ms", "queryP95Ms", "queryMaxMs", "samples",
      "value", "rows", "serverVersion", "inRecovery", "tls",
    ],
  },

  target: (spec) => displayTarget(spec),
  secrets: (spec) => [
    ...(typeof spec.password === "string" ? [spec.password] : []),
    ...(spec.url ? [urlPassword(parseUrl(spec.url))].filter((value): value is string => Boolean(value)) : []),
  ],

  assertionClass(metric) {
    if (metric.endsWith("Ms")) return "slow";
    if (metric === "serverVersion") return "drift";
    if (metric === "tls") return "tls";
    return "unhealthy";
  },

  hints: {
    slow: "Compare the phases: a slow connect or tls is the network path (VPC connector, cross-region); a slow auth is the server forking a backend or a slow auth method; a slow query is the server itself (load, locks: pg_stat_activity, pg_locks) or the query.",
    unhealthy: "The query answered, but its value is not what the check expects: run the query by hand and look at what changed.",
    drift: "This is not the server version the check expects: an upgrade happened, or the check points at another instance.",
    tls: "Fix the TLS setup: ssl.mode, the CA (ssl.ca) that signed the server certificate, and the name it is issued for.",
    timeout: "The server accepted the connection but did not answer in time: look for load, locks or a long-running statement (pg_stat_activity), or a pooler with no free server connection.",
  },

  async run(spec, ctx) {
    // Loaded before any phase's clock starts.
    const { default: pg } = await import("pg");
    const password = typeof spec.password === "string" ? spec.password : undefined;
    const endpoint = await locate(spec, ctx);
    const deadlineAt = performance.now() + ctx.remainingMs() - Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, ctx.budgetMs * 0.1));

    const open = new Set<Session>();
    const raw = new Set<net.Socket>();
    const onAbort = () => {
      for (const socket of raw) socket.destroy();
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });

    /** One connection attempt: TCP, optional TLS, startup until ReadyForQuery. */
    const attempt = async (wantTls: boolean): Promise<Session> => {
      const socket = await connectTcp(endpoint, ctx);
      raw.add(socket);
      let secure: tls.TLSSocket | undefined;
      if (wantTls) secure = await negotiateTls(socket, endpoint, spec, ctx, deadlineAt);
      const stream = secure ?? socket;
      const params: Record<string, string> = {};
      const client = new pg.Client({
        // pg dials its own socket; ours is already connected (and encrypted): see `preconnected`.
        stream: () => preconnected(stream),
        host: endpoint.address ?? endpoint.host,
        port: endpoint.port,
        user: spec.user,
        database: spec.database,
        // A function, so pg never falls back to $PGPASSWORD or ~/.pgpass behind the config's back
        // (pg accepts undefined from it at run time: "no password").
        password: (async () => password) as () => Promise<string>,
        ssl: false,
        application_name: "infra-check",
        // The session can only read, and the server itself stops a statement at our deadline.
        options: `-c default_transaction_read_only=on -c statement_timeout=${Math.max(1, Math.floor(deadlineAt - performance.now()))}`,
        // Backstops at the very end of the budget (the runner's timer is what reports a stall).
        connectionTimeoutMillis: Math.max(1, Math.ceil(ctx.remainingMs())),
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
        if (passwordAsked && password === undefined) {
          throw new ProbeFailure("auth", `the server asks for a password (${passwordAsked}) for user "${spec.user}", and the check has none configured`, {
            code: "NO_PASSWORD",
            hint: "Set `password:` (e.g. ${PGPASSWORD} or { secret: projects/P/secrets/S }); for the one-off command, --password-env VAR or PGPASSWORD.",
            cause: error,
          });
        }
        throw error;
      }
      const authMs = performance.now() - started;
      ctx.phases.record("auth", authMs);
      ctx.metrics.authMs = roundMs(authMs);
      return session;
    };

    let connectStart = performance.now();
    try {
      let session: Session;
      const firstTls = !endpoint.socketPath && spec.sslMode !== "disable";
      try {
        connectStart = performance.now();
        session = await attempt(firstTls);
      } catch (error) {
        if (!isNoHbaEntry(error) || performance.now() >= deadlineAt) throw error;
        if (spec.sslMode === "prefer" && firstTls) {
          // libpq's prefer: a TLS session rejected by pg_hba.conf is retried without TLS.
          // The discarded attempt's handshake is not this session's tls phase.
          delete ctx.phases.phasesMs.tls;
          delete ctx.metrics.tlsMs;
          ctx.details.tls = "pg_hba.conf rejected the TLS session; retried without TLS (sslmode prefer)";
          connectStart = performance.now();
          session = await attempt(false);
        } else if (spec.sslMode === "disable" && !endpoint.socketPath) {
          throw await whetherTlsWouldPass(error, () => attempt(true), spec);
        } else {
          throw error;
        }
      }
      const connectMs = performance.now() - connectStart;
      ctx.metrics.connectMs = roundMs(connectMs);
      ctx.metrics.tls = Boolean(session.secure);
      if (session.secure) {
        const cipher = session.secure.getCipher();
        ctx.details.tls = `${session.secure.getProtocol() ?? "TLS"} ${cipher?.name ?? ""}`.trim();
      }
      if (session.params.server_version) ctx.metrics.serverVersion = session.params.server_version;
      ctx.phases.start("query");
      ctx.metrics.inRecovery = await readInRecovery(session.client);

      await sampleQueries(session, spec, endpoint, ctx, deadlineAt);
      return { phasesMs: {}, metrics: { ...ctx.metrics } };
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      await Promise.all([...open].map((session) => close(session)));
      for (const socket of raw) socket.destroy();
    }
  },

  oneOff: {
    command: "postgres",
    argument: "[url]",
    description: "Connect to PostgreSQL once — TCP, TLS, authentication, a read-only query — and say which phase fails",
    options: [
      { flags: "--password-env <var>", description: "read the password from this environment variable (default: the URL's password, else $PGPASSWORD like psql); never pass it as a flag value" },
      { flags: "--query <sql>", description: `read-only query to sample (default ${DEFAULT_QUERY}); its first value is the \`value\` metric` },
      { flags: "--samples <n>", description: `query round trips for the percentiles (default ${DEFAULT_SAMPLES})` },
      { flags: "--sslmode <mode>", description: "disable | prefer | require | verify-ca | verify-full (default: the URL's sslmode, else $PGSSLMODE, else prefer)" },
      { flags: "--tls-ca <file>", description: "CA bundle (PEM) that signed the server certificate (default: $PGSSLROOTCERT)" },
    ],
    examples: [
      "infra-check postgres postgres://app@10.20.0.5:5432/app --password-env DB_PASSWORD",
      "PGPASSWORD=... infra-check postgres postgres://app@db.internal/app --sslmode verify-full --tls-ca ./server-ca.pem",
      "infra-check postgres postgres://app@10.20.0.5/app --query 'SELECT count(*) FROM pg_stat_activity' --expect 'value<80'",
      "PGHOST=10.20.0.5 PGUSER=app PGDATABASE=app infra-check postgres --samples 20 --format json",
    ],
    toRawCheck(argument, options, env) {
      return oneOffCheck(argument, options, env);
    },
  },
};

export default postgresProbe;

// ---------------------------------------------------------------- config

function parseUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "expected a URL like postgres://user@host:5432/database";
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") return `expected a postgres:// or postgresql:// URL, found ${url.protocol}//`;
  for (const name of url.searchParams.keys()) {
    if (!URL_PARAMETERS.includes(name)) {
      return `URL parameter "${name}" is not supported (supported: ${URL_PARAMETERS.join(", ")}); use the check's keys instead (timeout:, ssl:, …)`;
    }
  }
  const mode = url.searchParams.get("sslmode");
  if (mode !== null && !(SSL_MODES as readonly string[]).includes(mode)) return `sslmode=${mode}: expected one of ${SSL_MODES.join(", ")}`;
  const port = url.searchParams.get("port") ?? (url.port || undefined);
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return `port ${JSON.stringify(port)} is not a port number`;
  if (url.pathname.length > 1 && url.pathname.slice(1).includes("/")) return "the database is the single path segment after the host (postgres://host/DATABASE)";
  return url;
}

function urlPassword(url: URL | string | undefined): string | undefined {
  if (!url || typeof url === "string") return undefined;
  const fromUserinfo = url.password ? decodeURIComponent(url.password) : undefined;
  return fromUserinfo ?? url.searchParams.get("password") ?? undefined;
}

function sslModeOf(ssl: RawFields["ssl"]): SslMode | undefined {
  if (ssl === undefined) return undefined;
  return typeof ssl === "string" ? ssl : ssl.mode;
}

function normalize(fields: RawFields): PostgresFields {
  const url = fields.url !== undefined ? (parseUrl(fields.url) as URL) : undefined;
  const fromUrl = {
    host: url?.searchParams.get("host") ?? (url?.hostname ? bareHost(decodeURIComponent(url.hostname)) : undefined),
    port: url ? Number(url.searchParams.get("port") ?? (url.port || DEFAULT_PORT)) : undefined,
    user: url?.searchParams.get("user") ?? (url?.username ? decodeURIComponent(url.username) : undefined),
    database: url?.searchParams.get("dbname") ?? (url && url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined),
  };
  const user = fields.user ?? fromUrl.user!;
  const files = typeof fields.ssl === "object" ? fields.ssl : {};
  const tlsBlock: TlsSpec = { ...fields.tls };
  for (const key of ["ca", "cert", "key", "servername"] as const) if (files[key] !== undefined) tlsBlock[key] = files[key];
  const password = fields.password ?? urlPassword(url);
  return {
    ...(fields.url !== undefined ? { url: fields.url } : {}),
    host: fields.host ?? fromUrl.host!,
    port: fields.port ?? fromUrl.port ?? DEFAULT_PORT,
    database: fields.database ?? fromUrl.database ?? user,
    user,
    ...(password !== undefined ? { password } : {}),
    sslMode: sslModeOf(fields.ssl) ?? (url?.searchParams.get("sslmode") as SslMode | null) ?? "prefer",
    ...(Object.keys(tlsBlock).length ? { tls: tlsBlock } : {}),
    query: fields.query,
    samples: fields.samples,
  };
}

function displayTarget(spec: PostgresFields): string {
  const user = encodeURIComponent(spec.user);
  const database = encodeURIComponent(spec.database);
  if (spec.host.startsWith("/")) return `postgres://${user}@/${database}?host=${spec.host}&port=${spec.port}`;
  const host = net.isIPv6(spec.host) ? `[${spec.host}]` : spec.host;
  return `postgres://${user}@${host}:${spec.port}/${database}`;
}

/** The one-off command's flags and psql's PG* variables → a raw check (URL parts win over the environment, like psql). */
function oneOffCheck(argument: string | undefined, options: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const raw: Record<string, unknown> = { kind: "postgres" };
  let url: URL | undefined;
  if (argument) {
    const text = /^postgres(ql)?:\/\//i.test(argument) ? argument : `postgres://${argument}`;
    const parsed = parseUrl(text);
    if (typeof parsed === "string") throw new ConfigError(`${new Redactor().text(argument)}: ${parsed}`);
    url = parsed;
    raw.url = text;
  }
  if (!url?.hostname && !url?.searchParams.get("host")) raw.host = env.PGHOST || "localhost";
  if (!url?.port && !url?.searchParams.get("port") && env.PGPORT) {
    if (!/^\d{1,5}$/.test(env.PGPORT)) throw new ConfigError(`PGPORT: expected a port number, found "${env.PGPORT}"`);
    raw.port = Number(env.PGPORT);
  }
  if (!url?.username && !url?.searchParams.get("user")) raw.user = env.PGUSER || userInfo().username;
  if (!(url && url.pathname.length > 1) && !url?.searchParams.get("dbname") && env.PGDATABASE) raw.database = env.PGDATABASE;

  const variable = options.passwordEnv as string | undefined;
  if (variable !== undefined) {
    const value = passwordEnvFlag(variable, env);
    if (urlPassword(url) !== undefined) throw new ConfigError(`--password-env ${variable}: the URL has a password too; keep only one`);
    raw.password = value;
  } else if (urlPassword(url) === undefined && env.PGPASSWORD) {
    raw.password = env.PGPASSWORD;
  }

  const mode = (options.sslmode as string | undefined) ?? url?.searchParams.get("sslmode") ?? (env.PGSSLMODE || undefined);
  if (mode !== undefined && !(SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`${options.sslmode !== undefined ? "--sslmode" : url?.searchParams.get("sslmode") ? "sslmode" : "PGSSLMODE"}: expected one of ${SSL_MODES.join(", ")}, found "${mode}"`);
  }
  const ca = (options.tlsCa as string | undefined) ?? (env.PGSSLROOTCERT && env.PGSSLROOTCERT !== "system" ? env.PGSSLROOTCERT : undefined);
  if (mode !== undefined || ca !== undefined) raw.ssl = { ...(mode !== undefined ? { mode } : {}), ...(ca !== undefined ? { ca } : {}) };

  if (options.query !== undefined) raw.query = options.query;
  if (options.samples !== undefined) raw.samples = wholeNumberFlag("--samples", options.samples, 1, MAX_SAMPLES);
  return raw;
}

// ---------------------------------------------------------------- phases

async function locate(spec: PostgresSpec, ctx: ProbeContext): Promise<Endpoint> {
  if (spec.host.startsWith("/")) {
    const socketPath = path.join(spec.host, `.s.PGSQL.${spec.port}`);
    return { host: spec.host, port: spec.port, socketPath, label: socketPath };
  }
  const { address, family } = await resolveHost(spec.host, ctx);
  if (ctx.phases.phasesMs.dns !== undefined) ctx.metrics.dnsMs = ctx.phases.phasesMs.dns;
  return { host: spec.host, port: spec.port, address, family, label: `${family === 6 ? `[${address}]` : address}:${spec.port}` };
}

async function connectTcp(endpoint: Endpoint, ctx: ProbeContext): Promise<net.Socket> {
  ctx.phases.start("connect");
  const started = performance.now();
  const socket = endpoint.socketPath
    ? net.connect({ path: endpoint.socketPath })
    : net.connect({ host: endpoint.address!, port: endpoint.port, family: endpoint.family, noDelay: true });
  socket.on("error", () => undefined); // errors surface through the awaited events below, or through pg
  try {
    await once(socket, "connect", { signal: ctx.signal });
  } catch (error) {
    socket.destroy();
    throw error;
  }
  const ms = performance.now() - started;
  ctx.phases.record("connect", ms);
  ctx.metrics.tcpMs = roundMs(ms);
  return socket;
}

/**
 * SSLRequest, then the TLS handshake on the same socket — what libpq does.
 * Returns undefined when the server has no TLS and the mode allows plaintext (prefer).
 */
async function negotiateTls(socket: net.Socket, endpoint: Endpoint, spec: PostgresSpec, ctx: ProbeContext, deadlineAt: number): Promise<tls.TLSSocket | undefined> {
  ctx.phases.start("tls");
  const started = performance.now();
  const request = Buffer.alloc(8);
  request.writeInt32BE(8, 0);
  request.writeInt32BE(SSL_REQUEST_CODE, 4);
  socket.write(request);
  const answer = await firstBytes(socket, deadlineAt, ctx.signal);
  if (answer === "timeout") {
    throw new ProbeFailure("timeout", `connected to ${endpoint.label} and asked for TLS (SSLRequest), but got no answer within ${formatMs(performance.now() - started)}: the port accepts connections and says nothing`, {
      code: "NO_SSL_ANSWER",
      hint: "Check what listens on this port: a PostgreSQL server answers at once. A hung server, a proxy without a backend, or another service would stay silent.",
    });
  }
  if (answer === "closed") {
    throw new ProbeFailure("protocol", `${endpoint.label} closed the connection when asked for TLS (SSLRequest): this is not PostgreSQL, or a proxy in front of it dropped us`, {
      code: "CLOSED_ON_SSL_REQUEST",
    });
  }
  if (answer.length !== 1 || (answer[0] !== 0x53 && answer[0] !== 0x4e)) {
    const shown = answer.subarray(0, 16).toString("latin1").replace(/[^\x20-\x7e]/g, ".");
    throw new ProbeFailure("protocol", `${endpoint.label} answered the SSL request with "${shown}" instead of S or N: this is not a PostgreSQL server (or a proxy speaking something else)`, {
      code: "BAD_SSL_ANSWER",
      hint: "Check the port: another service answers there (Redis, HTTP, a pooler in another mode).",
    });
  }
  if (answer[0] === 0x4e) {
    if (spec.sslMode === "prefer") {
      ctx.details.tls = "the server does not offer TLS (sslmode prefer: continued without)";
      return undefined;
    }
    throw new ProbeFailure("tls", `sslmode is ${spec.sslMode}, but ${endpoint.label} does not support SSL connections (it answered "N" to the SSL request)`, {
      code: "SSL_NOT_SUPPORTED",
      hint: "Turn TLS on in the server (ssl = on with a certificate), or — only if plaintext is acceptable on this network — set ssl.mode: prefer.",
    });
  }
  const mode: SslMode = spec.sslMode === "require" && spec.tls?.ca ? "verify-ca" : spec.sslMode;
  const secure = tls.connect({ socket, ...secureOptions(mode, spec) });
  secure.on("error", () => undefined);
  try {
    await once(secure, "secureConnect", { signal: ctx.signal });
  } catch (error) {
    secure.destroy();
    throw error;
  }
  const ms = performance.now() - started;
  ctx.phases.record("tls", ms);
  ctx.metrics.tlsMs = roundMs(ms);
  return secure;
}

/** libpq's meaning of each sslmode: prefer/require encrypt without verifying; verify-ca checks the chain; verify-full the name too. */
function secureOptions(mode: SslMode, spec: PostgresSpec): tls.ConnectionOptions {
  const options = tlsOptions(spec.tls, spec.host);
  if (mode === "verify-full") return { ...options, rejectUnauthorized: true };
  if (mode === "verify-ca") return { ...options, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { ...options, rejectUnauthorized: false };
}

/** The first chunk the server sends (the one-byte SSL answer), "closed", or "timeout" at the deadline. */
function firstBytes(socket: net.Socket, deadlineAt: number, signal: AbortSignal): Promise<Buffer | "closed" | "timeout"> {
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
    }, Math.max(0, deadlineAt - performance.now()));
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
    if (isNoHbaEntry(error) || error instanceof ProbeFailure || !(error as { code?: string }).code?.match(/^[0-9A-Z]{5}$/)) return original;
  }
  return new ProbeFailure(
    "tls",
    `the server accepts user "${spec.user}" on database "${spec.database}" only over TLS: without encryption pg_hba.conf has no entry for them (28000), and a TLS connection gets past it — the check uses ssl.mode disable`,
    {
      code: "28000",
      hint: "Set ssl.mode: require (or verify-full with ssl.ca, to also check the server's certificate).",
      cause: original,
    },
  );
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
 * read-only session. At the deadline a still-running query is cancelled on
 * the server, whose answer (57014) is what the check reports.
 *
 * Each round trip is timed at the socket: from the query's bytes being
 * written to the arrival of the chunk that carries the server's ReadyForQuery
 * (a "data" listener placed before pg's parser stamps every chunk). What the
 * client does around that — building messages, parsing rows, resolving
 * promises, the lane — is not server or network latency; on loopback it was
 * more than half of the wall-clock figure (measured for SELECT 1: 0.10–0.14 ms
 * wall, 0.06 ms at the socket; pgbench -c 1: 0.05 ms).
 */
async function sampleQueries(session: Session, spec: PostgresSpec, endpoint: Endpoint, ctx: ProbeContext, deadlineAt: number): Promise<void> {
  const { client } = session;
  const stream = session.secure ?? session.socket;
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  ctx.phases.start("query");
  let writtenAt = 0;
  let chunkAt = 0;
  let readyAt = 0;
  const onData = () => {
    chunkAt = performance.now();
  };
  const onReady = () => {
    readyAt = chunkAt;
  };
  // pg corks the stream around the messages of one query, so the bytes are
  // handed to the kernel at uncork (or at an uncorked write): each of those
  // moves the stamp, taken just before the call — on loopback the send call
  // itself already runs the server side's network stack.
  const { write, uncork } = stream;
  // Our own socket instance, for the duration of the samples only.
  stream.write = function (this: net.Socket, ...args: Parameters<net.Socket["write"]>) {
    if (!this.writableCorked) writtenAt = performance.now();
    return write.apply(this, args);
  } as net.Socket["write"];
  stream.uncork = function (this: net.Socket) {
    writtenAt = performance.now();
    uncork.call(this);
  };
  stream.prependListener("data", onData);
  connection.prependListener("readyForQuery", onReady);
  const rounds: number[] = [];
  let last: { rows: unknown[][]; fields: FieldDef[] } | undefined;
  try {
    for (let i = 0; i < spec.samples; i += 1) {
      const slowest = rounds.length ? Math.max(...rounds) : 0;
      // Leave room for one more round trip like the slowest so far, or stop with what we have.
      if (i > 0 && deadlineAt - performance.now() < slowest * 1.5) {
        ctx.details.samples = `took ${rounds.length} of ${spec.samples} samples: the budget left no room for more (slowest ${formatMs(slowest)})`;
        break;
      }
      const outcome = await ctx.sample(async () => {
        const cancelTimer = setTimeout(() => sendCancel(endpoint, client), Math.max(0, deadlineAt - performance.now()));
        writtenAt = 0;
        const started = performance.now();
        try {
          const result = await client.query<unknown[]>({
            text: spec.query,
            rowMode: "array",
            queryMode: "extended",
            // Backstop at the very end of the budget.
            query_timeout: Math.max(1, Math.ceil(ctx.remainingMs())),
          } as never);
          const ended = performance.now();
          // Fall back to the whole call if a timestamp is missing (never expected).
          return { ms: (readyAt > started ? readyAt : ended) - (writtenAt >= started ? writtenAt : started), result };
        } finally {
          clearTimeout(cancelTimer);
        }
      });
      rounds.push(outcome.ms);
      last = { rows: outcome.result.rows, fields: outcome.result.fields };
      Object.assign(ctx.metrics, queryMetrics(rounds));
    }
  } finally {
    connection.off("readyForQuery", onReady);
    stream.off("data", onData);
    stream.write = write;
    stream.uncork = uncork;
  }
  ctx.phases.record("query", percentile(rounds, 95));
  if (last) {
    ctx.metrics.rows = last.rows.length;
    ctx.metrics.value = last.rows.length && last.fields.length ? metricValue(last.rows[0][0], last.fields[0].dataTypeID) : null;
  }
}

function queryMetrics(rounds: number[]): Record<string, MetricValue> {
  return {
    queryP50Ms: roundMs(percentile(rounds, 50)),
    queryP95Ms: roundMs(percentile(rounds, 95)),
    queryMaxMs: roundMs(Math.max(...rounds)),
    samples: rounds.length,
  };
}

/** CancelRequest on a fresh connection: the server interrupts the session's running statement (57014). */
function sendCancel(endpoint: Endpoint, client: PgClient): void {
  const { processID, secretKey } = client as unknown as { processID: number | null; secretKey: number | null };
  if (processID === null || secretKey === null) return;
  const socket = endpoint.socketPath ? net.connect({ path: endpoint.socketPath }) : net.connect({ host: endpoint.address!, port: endpoint.port });
  socket.on("error", () => undefined);
  socket.unref();
  socket.setTimeout(5_000, () => socket.destroy());
  socket.once("connect", () => {
    const message = Buffer.alloc(16);
    message.writeInt32BE(16, 0);
    message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
    message.writeInt32BE(processID, 8);
    message.writeInt32BE(secretKey, 12);
    socket.end(message);
  });
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
