// How PostgreSQL failures read. The server's errors carry a SQLSTATE
// (`code`), which says exactly which layer refused us; pg's own client-side
// errors only have their text. Anything not recognised here falls through to
// the generic Node network and TLS rules.
import { defineCatalogue, diagnosisOf } from "../../diagnose/catalogue.js";
import type { ClassifyContext, ErrorRule } from "../../diagnose/classify.js";
import type { ClassifiedError, FailureClass } from "../../diagnose/vocabulary.js";
import { formatMs } from "../../util/duration.js";
import type { KindDiagnosis } from "../api.js";

interface ServerError {
  code: string;
  message: string;
  severity?: string;
  detail?: string;
  hint?: string;
}

interface Said {
  where: string;
  /** "the server's message (SQLSTATE)" */
  said: string;
  sqlstate: string;
}
interface Budget {
  where: string;
  budget: string;
}

const sqlstate = (f: Said) => f.sqlstate;
const SET_PASSWORD_HINT = "Set `password:` (e.g. ${PGPASSWORD} or { secret: projects/P/secrets/S }); for the one-off command, --password-env VAR or PGPASSWORD.";

export const PG = defineCatalogue("pg", {
  // ---------------------------------------------------------------- the server's SQLSTATEs
  "28P01": {
    class: "auth",
    code: sqlstate,
    message: (f: Said & { user?: string }) => `${f.where} rejected the credentials: ${f.said}`,
    hint: "The password does not match the role's — or the role does not exist (the server says the same for both, on purpose): check `user:`, the configured secret (password: / PGPASSWORD / Secret Manager) and whether the role's password was rotated.",
  },
  NO_HBA_ENTRY: {
    class: "auth",
    code: sqlstate,
    message: (f: Said) => `${f.where} has no pg_hba.conf entry that lets this client in: ${f.said}`,
    hint: "Add a pg_hba.conf line for this user, database and client address (Cloud SQL: authorized networks / the connector), or, if the server only accepts TLS (hostssl), set ssl.mode: require.",
  },
  ROLE_MISSING: {
    class: "auth",
    code: sqlstate,
    message: (f: Said) => `${f.where} refused the login: ${f.said}`,
    hint: "The role does not exist on this server: check `user:` (or the URL's user) and that the role was created.",
  },
  NOLOGIN: {
    class: "auth",
    code: sqlstate,
    message: (f: Said) => `${f.where} refused the login: ${f.said}`,
    hint: "The role exists but has NOLOGIN: ALTER ROLE … LOGIN, or use a login role.",
  },
  LOGIN_REJECTED: {
    class: "auth",
    code: sqlstate,
    message: (f: Said) => `${f.where} refused the login: ${f.said}`,
    hint: "pg_hba.conf rejects this user/database/address combination: check the server's pg_hba.conf.",
  },
  TLS_ONLY: {
    class: "tls",
    code: "28000",
    message: (f: { user: string; database: string }) =>
      `the server accepts user "${f.user}" on database "${f.database}" only over TLS: without encryption pg_hba.conf has no entry for them (28000), and a TLS connection gets past it — the check uses ssl.mode disable`,
    hint: "Set ssl.mode: require (or verify-full with ssl.ca, to also check the server's certificate).",
  },
  "3D000": {
    class: "not-found",
    code: sqlstate,
    message: (f: Said & { database?: string }) => `${f.database ? `database "${f.database}"` : "the database"} does not exist on ${f.where}: ${f.said}`,
    hint: "Check `database:` (or the URL's path) — the default is the user name, like libpq — and that the database was created on this instance.",
  },
  "53300": {
    class: "server-error",
    code: sqlstate,
    message: (f: Said) => `${f.where} has no free connection slot: ${f.said}`,
    hint: "max_connections is exhausted: look for connection leaks and pool sizes (SELECT usename, application_name, count(*) FROM pg_stat_activity GROUP BY 1, 2), or raise max_connections / put a pooler in front.",
  },
  "57P03": {
    class: "server-error",
    code: sqlstate,
    message: (f: Said) => `${f.where} is not accepting connections right now: ${f.said}`,
    hint: "The server is starting up, shutting down or recovering: check for a restart, maintenance or failover in progress, then re-run (--wait retries until it is up).",
  },
  TERMINATED: {
    class: "server-error",
    code: sqlstate,
    message: (f: Said) => `${f.where} ended the session: ${f.said}`,
    hint: "An administrator or a restart terminated the session: check the server's log and whether a restart or failover is in progress.",
  },
  "57014": {
    class: "timeout",
    code: sqlstate,
    message: (f: Said & { phase: string; budget: string; why: string }) => `the ${f.phase} phase did not finish within the check's budget (${f.budget}): ${f.why} — ${f.said}`,
    hint: "The query itself is slow, waiting on a lock, or the server is overloaded: look at pg_stat_activity and pg_locks; raise the check's timeout only if this query is expected to take that long.",
  },
  "25006": {
    class: "config",
    code: sqlstate,
    message: (f: Said) => `the query tries to write; the probe runs read-only: ${f.said}`,
    hint: "Use a read-only query (SELECT …): infra-check runs every session with default_transaction_read_only = on and never writes.",
  },
  "42601": {
    class: "config",
    code: sqlstate,
    message: (f: Said & { multiple: boolean }) => (f.multiple ? `the query must be a single statement: ${f.said}` : `the configured query is not valid SQL: ${f.said}`),
    hint: "Fix `query:` (or --query): one read-only statement, e.g. SELECT 1.",
  },
  "42501": {
    class: "permission",
    code: sqlstate,
    message: (f: Said) => `the role may not run the configured query: ${f.said}`,
    hint: "GRANT the role what the query reads (SELECT on the table, or pg_monitor/pg_read_all_stats for statistics views), or choose another query.",
  },
  UNDEFINED_OBJECT: {
    class: "not-found",
    code: sqlstate,
    message: (f: Said) => `the query refers to something that does not exist on ${f.where}: ${f.said}`,
    hint: "A missing table, column or function: were the migrations of this release applied to this database? Or fix `query:`.",
  },
  POOLER_PARAMETER: {
    class: "config",
    code: sqlstate,
    message: (f: Said) => `a pooler in front of the server rejects the session settings infra-check sends: ${f.said}`,
    hint: "infra-check sets default_transaction_read_only and statement_timeout through the startup `options`; a PgBouncer must list `options` in ignore_startup_parameters.",
  },
  "08P01": {
    class: "protocol",
    code: sqlstate,
    message: (f: Said) => `${f.where} reports a protocol violation: ${f.said}`,
    hint: "A proxy or pooler in between speaks another protocol version or mode.",
  },
  SERVER_ERROR: {
    class: "server-error",
    code: sqlstate,
    message: (f: Said & { what: string; during: string; detail: string }) => `${f.what}${f.during}: ${f.said}${f.detail}`,
    hint: (f: { serverHint?: string }) => (f.serverHint ? `The server says: ${f.serverHint}` : "Read the server's error above; its log around this time has the statement and the reason."),
  },
  // ---------------------------------------------------------------- the client and the connection
  NO_PASSWORD: {
    class: "auth",
    code: "NO_PASSWORD",
    message: (f: { method: string; user?: string; configured: string }) => `the server asks for a password (${f.method})${f.user ? ` for user "${f.user}"` : ""}, and the check has ${f.configured} configured`,
    hint: SET_PASSWORD_HINT,
  },
  SASL: {
    class: "auth",
    code: "SASL",
    message: (f: { where: string; reason: string }) => `SCRAM authentication with ${f.where} failed on the client side: ${f.reason}`,
    hint: "The server's SCRAM exchange was not what the client expects (a pooler or proxy rewriting authentication?); check the server's password_encryption and any pooler in between.",
  },
  SSL_NOT_SUPPORTED: {
    class: "tls",
    code: "SSL_NOT_SUPPORTED",
    message: (f: { where: string; mode?: string }) => `sslmode is ${f.mode ?? "require"}, but ${f.where} does not support SSL connections (it answered "N" to the SSL request)`,
    hint: "Turn TLS on in the server (ssl = on with a certificate), or — only if plaintext is acceptable on this network — set ssl.mode: prefer.",
  },
  SSL_REQUEST_FAILED: {
    class: "tls",
    code: "SSL_REQUEST_FAILED",
    message: (f: { where: string }) => `${f.where} answered the SSL request with an error instead of S or N`,
    hint: "The server (or a pooler in front of it) refused TLS negotiation: check its TLS settings.",
  },
  NO_SSL_ANSWER: {
    class: "timeout",
    code: "NO_SSL_ANSWER",
    message: (f: { where: string; waited: string }) => `connected to ${f.where} and asked for TLS (SSLRequest), but got no answer within ${f.waited}: the port accepts connections and says nothing`,
    hint: "Check what listens on this port: a PostgreSQL server answers at once. A hung server, a proxy without a backend, or another service would stay silent.",
  },
  CLOSED_ON_SSL_REQUEST: {
    class: "protocol",
    code: "CLOSED_ON_SSL_REQUEST",
    message: (f: { where: string }) => `${f.where} closed the connection when asked for TLS (SSLRequest): this is not PostgreSQL, or a proxy in front of it dropped us`,
    hint: "Check the port and any proxy in front of the server: a PostgreSQL server answers an SSL request with S or N.",
  },
  BAD_SSL_ANSWER: {
    class: "protocol",
    code: "BAD_SSL_ANSWER",
    message: (f: { where: string; shown: string }) => `${f.where} is not PostgreSQL: it sent "${f.shown}" when asked for TLS (a PostgreSQL server answers the SSL request with S or N)`,
    hint: "Check the port: another service answers there (Redis, HTTP, a pooler in another mode).",
  },
  QUERY_TIMEOUT: {
    class: "timeout",
    code: "QUERY_TIMEOUT",
    phase: "query",
    message: (f: Budget) => `the query got no answer from ${f.where} within the check's budget (${f.budget})`,
    hint: "A long-running statement, a lock wait or an overloaded server: look at pg_stat_activity and pg_locks.",
  },
  STARTUP_TIMEOUT: {
    class: "timeout",
    code: "STARTUP_TIMEOUT",
    message: (f: Budget) => `connected to ${f.where}, but the session was not ready (startup and authentication) within the check's budget (${f.budget})`,
    hint: "The server accepted the connection but stalled before ReadyForQuery: overload, a pooler with no free server connection, or a slow authentication backend (LDAP, PAM).",
  },
  CONNECTION_CLOSED: {
    class: "protocol",
    code: "CONNECTION_CLOSED",
    message: (f: { where: string; during: string }) => `${f.where} closed the connection${f.during} without an error message`,
    hint: "The server (or a proxy in front of it) dropped the session: look at the server log for a crash or restart, and at connection limits of any pooler in between.",
  },
  NO_SOCKET: {
    class: "refused",
    code: (f: { errno: string }) => f.errno,
    message: (f: { path: string }) => `no PostgreSQL socket at ${f.path}: no server listens there on that port`,
    hint: "Is the server running, is `host` its unix_socket_directories entry, and is the port right?",
  },
});

/** Fallback by SQLSTATE class (the first two characters). */
const SQLSTATE_CLASSES: Record<string, { class: FailureClass; what: string }> = {
  "08": { class: "protocol", what: "the connection failed" },
  "0A": { class: "config", what: "the server does not support what the query asks" },
  "22": { class: "config", what: "the query failed on its data" },
  "25": { class: "config", what: "the query is not allowed in this session" },
  "28": { class: "auth", what: "authorization failed" },
  "3D": { class: "not-found", what: "the database does not exist" },
  "40": { class: "server-error", what: "the server rolled the query back" },
  "42": { class: "config", what: "the query is invalid or not allowed" },
  "53": { class: "server-error", what: "the server ran out of resources" },
  "54": { class: "config", what: "the query exceeds a server limit" },
  "55": { class: "server-error", what: "the server was not in a state to run the query" },
  "57": { class: "server-error", what: "the server interrupted the session" },
  "58": { class: "server-error", what: "the server hit a system error" },
  F0: { class: "server-error", what: "the server's configuration file is broken" },
  XX: { class: "server-error", what: "the server hit an internal error" },
};

// A check through the Cloud SQL connector (src/probes/postgres/cloud-sql.ts).
interface NoAddressFacts {
  instance: string;
  ipType: string;
  has: string;
}
/** A tunnel the instance's server-side proxy closed after TLS, before PostgreSQL answered the login. */
interface TunnelFacts {
  instance: string;
  id: string;
  project: string;
  iam: boolean;
  user: string;
  /** "without a word", "with a reset (ECONNRESET)" */
  how: string;
}
const operations = (f: TunnelFacts) => `gcloud sql operations list --instance ${f.id} --project ${f.project}`;
export const PG_CLOUD_SQL = defineCatalogue("pg", {
  CLOUDSQL_NO_ADDRESS: {
    class: "config",
    code: "NO_ADDRESS",
    phase: "connectorSetup",
    message: (f: NoAddressFacts) => `Cloud SQL instance ${f.instance} has no ${f.ipType} address (it has: ${f.has}): cloudSql.ipType ${f.ipType} cannot connect`,
    hint: (f: NoAddressFacts) =>
      f.ipType === "PUBLIC"
        ? "Use cloudSql.ipType: PRIVATE from inside the instance's VPC (a Cloud Run service with a VPC connector or Direct VPC egress), or give the instance a public IP."
        : f.ipType === "PRIVATE"
          ? "The instance has no private IP: use cloudSql.ipType: PUBLIC, or enable private IP on the instance (its VPC network and private services access)."
          : "The instance does not have Private Service Connect enabled: use PUBLIC or PRIVATE.",
  },
  CLOUDSQL_WRONG_REGION: {
    class: "config",
    code: "WRONG_REGION",
    phase: "connectorSetup",
    message: (f: { named: string; region: string; id: string }) =>
      `cloudSql.instance names region ${f.named}, but Cloud SQL instance ${f.id} is in ${f.region}: the connection name is wrong (the connectors refuse a mismatched region)`,
    hint: (f: { project: string; region: string; id: string }) => `Use the instance's connection name: ${f.project}:${f.region}:${f.id} (gcloud sql instances describe ${f.id} --project ${f.project} --format 'value(connectionName)').`,
  },
  CLOUDSQL_IAM_LOGIN_DENIED: {
    class: "auth",
    code: (f: { sqlstate: string }) => f.sqlstate,
    message: (f: { where: string; said: string }) => `${f.where} refused the IAM database login: ${f.said}`,
    hint: (f: { user: string }) =>
      `The identity's token was not accepted for database user "${f.user}": it needs cloudsql.instances.login (roles/cloudsql.instanceUser), ` +
      `"${f.user}" must exist as an IAM database user (gcloud sql users create ${f.user} --instance INSTANCE --type cloud_iam_service_account, or cloud_iam_user for a person), ` +
      "the instance needs the flag cloudsql.iam_authentication=on, and user: must be the identity itself (a service account without .gserviceaccount.com).",
  },
  CLOUDSQL_TUNNEL_CLOSED: {
    class: "auth",
    code: "TUNNEL_CLOSED",
    message: (f: TunnelFacts) =>
      `the server-side proxy of Cloud SQL instance ${f.instance} accepted the connector's TLS tunnel, then closed it ${f.how}, before PostgreSQL answered the ${f.iam ? "IAM database login" : "login"} of "${f.user}"`,
    hint: (f: TunnelFacts) => {
      const restarting = `the instance is restarting, in maintenance or failing over (${operations(f)}; a cloud-sql check in dependsOn says so before this one)`;
      const certificate = "it refused this client's ephemeral certificate (the instance enforces its connectors — connectorEnforcement REQUIRED — and the certificate is for another instance, expired, or the runner's clock is off)";
      return f.iam
        ? `The proxy drops a login it will not let through without saying why. With IAM database login, most often: "${f.user}" is not an IAM database user of the instance (gcloud sql users list --instance ${f.id} --project ${f.project}; ` +
            `create it: gcloud sql users create ${f.user} --instance ${f.id} --type cloud_iam_service_account, or cloud_iam_user for a person), the identity lacks cloudsql.instances.login (roles/cloudsql.instanceUser), ` +
            `or the instance's flag cloudsql.iam_authentication is off. Otherwise ${restarting}, or ${certificate}.`
        : `The proxy drops a connection it will not let through without saying why: ${restarting}; or ${certificate}.`;
    },
  },
});

function isServerError(error: object): error is ServerError {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && typeof severity === "string";
}

function serverDiagnosis(error: ServerError, ctx: ClassifyContext, where: string): ClassifiedError {
  const said: Said = { where, said: `${error.message} (${error.code})`, sqlstate: error.code };
  switch (error.code) {
    case "28P01":
      return diagnosisOf(PG["28P01"], said);
    case "28000":
      if (/no pg_hba\.conf entry/i.test(error.message)) return diagnosisOf(PG.NO_HBA_ENTRY, said);
      if (/does not exist/i.test(error.message)) return diagnosisOf(PG.ROLE_MISSING, said);
      if (/not permitted to log in/i.test(error.message)) return diagnosisOf(PG.NOLOGIN, said);
      return diagnosisOf(PG.LOGIN_REJECTED, said);
    case "3D000":
      return diagnosisOf(PG["3D000"], { ...said, database: /database "(.+)" does not exist/.exec(error.message)?.[1] });
    case "53300":
      return diagnosisOf(PG["53300"], said);
    case "57P03":
      return diagnosisOf(PG["57P03"], said);
    case "57P01":
    case "57P02":
      return diagnosisOf(PG.TERMINATED, said);
    case "57014": {
      const phase = ctx.phase ?? "query";
      const why = /statement timeout/i.test(error.message)
        ? "the server stopped it at the statement_timeout infra-check derives from the check's budget"
        : /user request/i.test(error.message)
          ? "infra-check cancelled it on the server when the check's budget ran out"
          : "the server cancelled it";
      return diagnosisOf(PG["57014"], { ...said, phase, budget: formatMs(ctx.budgetMs), why }, { phase });
    }
    case "25006":
      return diagnosisOf(PG["25006"], said);
    case "42601":
      return diagnosisOf(PG["42601"], { ...said, multiple: /multiple commands/i.test(error.message) });
    case "42501":
      return diagnosisOf(PG["42501"], said);
    case "42P01":
    case "42883":
    case "42703":
    case "3F000":
      return diagnosisOf(PG.UNDEFINED_OBJECT, said);
    case "08P01":
      return diagnosisOf(/unsupported startup parameter/i.test(error.message) ? PG.POOLER_PARAMETER : PG["08P01"], said);
  }
  const byClass = SQLSTATE_CLASSES[error.code.slice(0, 2)];
  const found = diagnosisOf(PG.SERVER_ERROR, {
    ...said,
    what: byClass?.what ?? "the server reported an error",
    during: ctx.phase ? ` during ${ctx.phase}` : "",
    detail: error.detail ? ` — ${error.detail}` : "",
    serverHint: error.hint,
  });
  return { ...found, class: byClass?.class ?? "server-error" };
}

const postgresRule: ErrorRule = (error: unknown, ctx: ClassifyContext) => {
  if (error === null || typeof error !== "object") return undefined;
  const where = ctx.endpoint ?? "the server";
  if (isServerError(error)) {
    // Cloud SQL's server-side proxy refuses an IAM database login before PostgreSQL sees it, in its own words.
    const iam = /Cloud SQL IAM (?:user|service account) authentication failed for user "([^"]*)"/.exec(error.message);
    if (iam) return diagnosisOf(PG_CLOUD_SQL.CLOUDSQL_IAM_LOGIN_DENIED, { where, said: `${error.message} (${error.code})`, sqlstate: error.code, user: iam[1] });
    return serverDiagnosis(error, ctx, where);
  }
  const err = error as NodeJS.ErrnoException & { address?: string };
  const message = typeof err.message === "string" ? err.message : "";
  const budget = formatMs(ctx.budgetMs);

  const tunnel = cloudSqlTunnelClosed(err, message, ctx);
  if (tunnel) return tunnel;

  if (/client password must be a (non-empty )?string|Password must be a string/i.test(message)) {
    return diagnosisOf(PG.NO_PASSWORD, { method: "SCRAM-SHA-256", configured: /non-empty/.test(message) ? "an empty one" : "none" });
  }
  if (/^SASL: /.test(message)) return diagnosisOf(PG.SASL, { where, reason: message.replace(/^SASL: /, "") });
  if (/The server does not support SSL connections/i.test(message)) return diagnosisOf(PG.SSL_NOT_SUPPORTED, { where });
  if (/There was an error establishing an SSL connection/i.test(message)) return diagnosisOf(PG.SSL_REQUEST_FAILED, { where });
  if (message === "Query read timeout") return diagnosisOf(PG.QUERY_TIMEOUT, { where, budget });
  if (/timeout expired|Connection terminated due to connection timeout/i.test(message)) return diagnosisOf(PG.STARTUP_TIMEOUT, { where, budget });
  if (/Connection terminated unexpectedly/i.test(message)) return diagnosisOf(PG.CONNECTION_CLOSED, { where, during: ctx.phase ? ` during ${ctx.phase}` : "" });
  // A Unix socket that is not there: nothing listens in that directory on that port.
  if ((err.code === "ENOENT" || err.code === "ECONNREFUSED") && typeof err.address === "string" && err.address.includes(".s.PGSQL.")) {
    return diagnosisOf(PG.NO_SOCKET, { path: err.address, errno: err.code });
  }
  return undefined;
};

/**
 * Through the connector, a connection closed (or reset) after the TLS tunnel
 * was up and before the session was ready: the server-side proxy's refusal,
 * not a generic reset — it says nothing, so the hint lists its real causes.
 */
function cloudSqlTunnelClosed(err: NodeJS.ErrnoException, message: string, ctx: ClassifyContext): ClassifiedError | undefined {
  const facts = ctx.facts ?? {};
  if (typeof facts.cloudSqlInstance !== "string" || !ctx.completedPhases.includes("tls") || ctx.completedPhases.includes("auth") || ctx.phase === "query") return undefined;
  const closed = /Connection terminated unexpectedly/i.test(message);
  const reset = err.code === "ECONNRESET" || err.code === "EPIPE";
  if (!closed && !reset) return undefined;
  return diagnosisOf(PG_CLOUD_SQL.CLOUDSQL_TUNNEL_CLOSED, {
    instance: facts.cloudSqlInstance,
    id: String(facts.cloudSqlId ?? facts.cloudSqlInstance),
    project: String(facts.cloudSqlProject ?? "PROJECT"),
    iam: facts.cloudSqlIam === true,
    user: String(facts.user ?? "the user"),
    how: reset ? `with a reset (${err.code})` : "without a word",
  }, { phase: "auth" });
}

/** A backend message: a type byte the server sends first (auth, error, notice, parameter status) and a sane length. */
function speaksPostgres(firstBytes: string): boolean {
  if (!"REKNSZ".includes(firstBytes[0])) return false;
  if (firstBytes.length < 5) return true;
  const length = ((firstBytes.charCodeAt(1) << 24) | (firstBytes.charCodeAt(2) << 16) | (firstBytes.charCodeAt(3) << 8) | firstBytes.charCodeAt(4)) >>> 0;
  return length >= 4 && length < 1 << 20;
}

export const postgresDiagnosis: KindDiagnosis = {
  service: "PostgreSQL",
  speaks: speaksPostgres,
  catalogue: { ...PG, ...PG_CLOUD_SQL },
  rules: [postgresRule],
  hints: {
    slow: "Compare the phases: a slow connect or tls is the network path (VPC connector, cross-region); a slow auth is the server forking a backend or a slow auth method; a slow query is the server itself (load, locks: pg_stat_activity, pg_locks) or the query.",
    unhealthy: "The query answered, but its value is not what the check expects: run the query by hand and look at what changed.",
    drift: "This is not the server version the check expects: an upgrade happened, or the check points at another instance.",
    tls: "Fix the TLS setup: ssl.mode, the CA (ssl.ca) that signed the server certificate, and the name it is issued for.",
  },
};
