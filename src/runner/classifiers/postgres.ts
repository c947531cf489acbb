// Error rules of the postgres client (pg). The server's errors carry a
// SQLSTATE (`code`), which says exactly which layer refused us; pg's own
// client-side errors only have their text. Anything not recognised here falls
// through to the generic Node network rules (ECONNREFUSED, TLS codes, …).
import type { ClassifiedError, FailureClass } from "../../diagnose/vocabulary.js";
import type { ClassifyContext } from "../classify.js";
import { formatMs } from "../../util/duration.js";

interface ServerError {
  code: string;
  message: string;
  severity?: string;
  detail?: string;
  hint?: string;
}

type Rule = Omit<ClassifiedError, "code">;

export function classifyPostgresError(error: unknown, ctx: ClassifyContext): ClassifiedError | undefined {
  if (ctx.kind !== "postgres" || error === null || typeof error !== "object") return undefined;
  const where = ctx.endpoint ?? "the server";
  if (isServerError(error)) {
    const rule = serverRule(error, ctx, where);
    return { code: error.code, ...rule };
  }
  const err = error as NodeJS.ErrnoException & { address?: string };
  const message = typeof err.message === "string" ? err.message : "";

  if (/client password must be a (non-empty )?string|Password must be a string/i.test(message)) {
    const empty = /non-empty/.test(message);
    return {
      class: "auth",
      code: "NO_PASSWORD",
      message: `the server asks for a password (SCRAM-SHA-256) and the check has ${empty ? "an empty one" : "none"} configured`,
      hint: "Set `password:` (e.g. ${PGPASSWORD} or { secret: projects/P/secrets/S }); for the one-off command, --password-env VAR or PGPASSWORD.",
    };
  }
  if (/^SASL: /.test(message)) {
    return {
      class: "auth",
      code: "SASL",
      message: `SCRAM authentication with ${where} failed on the client side: ${message.replace(/^SASL: /, "")}`,
      hint: "The server's SCRAM exchange was not what the client expects (a pooler or proxy rewriting authentication?); check the server's password_encryption and any pooler in between.",
    };
  }
  if (/The server does not support SSL connections/i.test(message)) {
    return {
      class: "tls",
      code: "SSL_NOT_SUPPORTED",
      message: `TLS is required, but ${where} does not support SSL connections`,
      hint: "Turn TLS on in the server (ssl = on with a certificate), or — only if plaintext is acceptable on this network — set ssl.mode: prefer.",
    };
  }
  if (/There was an error establishing an SSL connection/i.test(message)) {
    return {
      class: "tls",
      code: "SSL_REQUEST_FAILED",
      message: `${where} answered the SSL request with an error instead of S or N`,
      hint: "The server (or a pooler in front of it) refused TLS negotiation: check its TLS settings.",
    };
  }
  if (message === "Query read timeout") {
    return {
      class: "timeout",
      code: "QUERY_TIMEOUT",
      phase: "query",
      message: `the query got no answer from ${where} within the check's budget (${formatMs(ctx.budgetMs)})`,
      hint: "A long-running statement, a lock wait or an overloaded server: look at pg_stat_activity and pg_locks.",
    };
  }
  if (/timeout expired|Connection terminated due to connection timeout/i.test(message)) {
    return {
      class: "timeout",
      code: "STARTUP_TIMEOUT",
      message: `connected to ${where}, but the session was not ready (startup and authentication) within the check's budget (${formatMs(ctx.budgetMs)})`,
      hint: "The server accepted the connection but stalled before ReadyForQuery: overload, a pooler with no free server connection, or a slow authentication backend (LDAP, PAM).",
    };
  }
  if (/Connection terminated unexpectedly/i.test(message)) {
    const phase = ctx.phase;
    return {
      class: "protocol",
      code: "CONNECTION_CLOSED",
      message: `${where} closed the connection${phase ? ` during ${phase}` : ""} without an error message`,
      hint: "The server (or a proxy in front of it) dropped the session: look at the server log for a crash or restart, and at connection limits of any pooler in between.",
    };
  }
  // A Unix socket that is not there: nothing listens in that directory on that port.
  if ((err.code === "ENOENT" || err.code === "ECONNREFUSED") && typeof err.address === "string" && err.address.includes(".s.PGSQL.")) {
    return {
      class: "refused",
      code: err.code,
      message: `no PostgreSQL socket at ${err.address}: no server listens there on that port`,
      hint: "Is the server running, is `host` its unix_socket_directories entry, and is the port right?",
    };
  }
  return undefined;
}

function isServerError(error: object): error is ServerError {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && typeof severity === "string";
}

function serverRule(error: ServerError, ctx: ClassifyContext, where: string): Rule {
  const said = `${error.message} (${error.code})`;
  switch (error.code) {
    case "28P01":
      return {
        class: "auth",
        message: `${where} rejected the credentials: ${said}`,
        hint: "The password does not match the role's: check the configured secret (password: / PGPASSWORD / Secret Manager) and whether the role's password was rotated.",
      };
    case "28000":
      if (/no pg_hba\.conf entry/i.test(error.message)) {
        return {
          class: "auth",
          message: `${where} has no pg_hba.conf entry that lets this client in: ${said}`,
          hint: /no encryption/i.test(error.message)
            ? "Add a pg_hba.conf line for this user, database and client address (Cloud SQL: authorized networks / the connector), or, if the server only accepts TLS (hostssl), set ssl.mode: require."
            : "Add a pg_hba.conf line for this user, database and client address (Cloud SQL: authorized networks / the connector).",
        };
      }
      return {
        class: "auth",
        message: `${where} refused the login: ${said}`,
        hint: /does not exist/i.test(error.message)
          ? "The role does not exist on this server: check `user:` (or the URL's user) and that the role was created."
          : /not permitted to log in/i.test(error.message)
            ? "The role exists but has NOLOGIN: ALTER ROLE … LOGIN, or use a login role."
            : "pg_hba.conf rejects this user/database/address combination: check the server's pg_hba.conf.",
      };
    case "3D000":
      return {
        class: "not-found",
        message: `${databaseName(error.message) ? `database "${databaseName(error.message)}"` : "the database"} does not exist on ${where}: ${said}`,
        hint: "Check `database:` (or the URL's path) — the default is the user name, like libpq — and that the database was created on this instance.",
      };
    case "53300":
      return {
        class: "server-error",
        message: `${where} has no free connection slot: ${said}`,
        hint: "max_connections is exhausted: look for connection leaks and pool sizes (SELECT usename, application_name, count(*) FROM pg_stat_activity GROUP BY 1, 2), or raise max_connections / put a pooler in front.",
      };
    case "57P03":
      return {
        class: "server-error",
        message: `${where} is not accepting connections right now: ${said}`,
        hint: "The server is starting up, shutting down or recovering: check for a restart, maintenance or failover in progress, then re-run (--wait retries until it is up).",
      };
    case "57P01":
    case "57P02":
      return {
        class: "server-error",
        message: `${where} ended the session: ${said}`,
        hint: "An administrator or a restart terminated the session: check the server's log and whether a restart or failover is in progress.",
      };
    case "57014": {
      const phase = ctx.phase ?? "query";
      const why = /statement timeout/i.test(error.message)
        ? "the server stopped it at the statement_timeout infra-check derives from the check's budget"
        : /user request/i.test(error.message)
          ? "infra-check cancelled it on the server when the check's budget ran out"
          : "the server cancelled it";
      return {
        class: "timeout",
        phase,
        message: `the ${phase} phase did not finish within the check's budget (${formatMs(ctx.budgetMs)}): ${why} — ${said}`,
        hint: "The query itself is slow, waiting on a lock, or the server is overloaded: look at pg_stat_activity and pg_locks; raise the check's timeout only if this query is expected to take that long.",
      };
    }
    case "25006":
      return {
        class: "config",
        message: `the query tries to write; the probe runs read-only: ${said}`,
        hint: "Use a read-only query (SELECT …): infra-check runs every session with default_transaction_read_only = on and never writes.",
      };
    case "42601":
      return {
        class: "config",
        message: /multiple commands/i.test(error.message)
          ? `the query must be a single statement: ${said}`
          : `the configured query is not valid SQL: ${said}`,
        hint: "Fix `query:` (or --query): one read-only statement, e.g. SELECT 1.",
      };
    case "42501":
      return {
        class: "permission",
        message: `the role may not run the configured query: ${said}`,
        hint: "GRANT the role what the query reads (SELECT on the table, or pg_monitor/pg_read_all_stats for statistics views), or choose another query.",
      };
    case "42P01":
    case "42883":
    case "42703":
    case "3F000":
      return {
        class: "not-found",
        message: `the query refers to something that does not exist on ${where}: ${said}`,
        hint: "A missing table, column or function: were the migrations of this release applied to this database? Or fix `query:`.",
      };
    case "08P01":
      return /unsupported startup parameter/i.test(error.message)
        ? {
            class: "config",
            message: `a pooler in front of the server rejects the session settings infra-check sends: ${said}`,
            hint: "infra-check sets default_transaction_read_only and statement_timeout through the startup `options`; a PgBouncer must list `options` in ignore_startup_parameters.",
          }
        : { class: "protocol", message: `${where} reports a protocol violation: ${said}`, hint: "A proxy or pooler in between speaks another protocol version or mode." };
  }
  const byClass = SQLSTATE_CLASSES[error.code.slice(0, 2)];
  return {
    class: byClass?.class ?? "server-error",
    message: `${byClass?.what ?? "the server reported an error"}${ctx.phase ? ` during ${ctx.phase}` : ""}: ${said}${error.detail ? ` — ${error.detail}` : ""}`,
    ...(error.hint ? { hint: `The server says: ${error.hint}` } : {}),
  };
}

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

function databaseName(message: string): string | undefined {
  return /database "(.+)" does not exist/.exec(message)?.[1];
}
