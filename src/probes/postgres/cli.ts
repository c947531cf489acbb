// `infra-check postgres [URL | HOST:PORT]`: one check from flags and psql's PG* variables.
import { userInfo } from "node:os";
import { ConfigError } from "../../util/errors.js";
import { passwordEnvFlag, wholeNumberFlag } from "../../util/flags.js";
import { Redactor } from "../../redact.js";
import type { OneOffCommand } from "../api.js";
import { withScheme } from "../shared/target.js";
import { DEFAULT_QUERY, DEFAULT_SAMPLES, MAX_SAMPLES, parseUrl, SSL_MODES, urlPassword } from "./config.js";

export const postgresOneOff: OneOffCommand = {
  command: "postgres",
  argument: "[target]",
  forms: ["postgres://USER@HOST:PORT/DATABASE", "HOST:PORT", "--cloud-sql PROJECT:REGION:INSTANCE --user USER --database DATABASE"],
  description: "Connect to PostgreSQL once — TCP, TLS, authentication, a read-only query — and say which phase fails",
  options: [
    { flags: "--user <name>", description: "role to log in as (default: the URL's user, else $PGUSER, else the OS user, like psql); with --iam, the identity itself (SA@PROJECT.iam)" },
    { flags: "--database <name>", description: "database to connect to (default: the URL's path, else $PGDATABASE, else the user name)" },
    { flags: "--password-env <var>", description: "read the password from this environment variable (default: the URL's password, else $PGPASSWORD like psql); never pass it as a flag value" },
    { flags: "--query <sql>", description: `read-only query to sample (default ${DEFAULT_QUERY}); its first value is the \`value\` metric` },
    { flags: "--samples <n>", description: `query round trips for the percentiles (default ${DEFAULT_SAMPLES})` },
    { flags: "--sslmode <mode>", description: "disable | prefer | require | verify-ca | verify-full (default: the URL's sslmode, else $PGSSLMODE, else prefer)" },
    { flags: "--tls-ca <file>", description: "CA bundle (PEM) that signed the server certificate (default: $PGSSLROOTCERT)" },
    { flags: "--cloud-sql <instance>", description: "connect through the Cloud SQL connector to PROJECT:REGION:INSTANCE instead of a host, as Cloud Run apps do (no target then; --user and --database, or postgres://USER@/DATABASE). Needs roles/cloudsql.client" },
    { flags: "--ip-type <type>", description: "with --cloud-sql: the instance address to dial: PUBLIC (default) | PRIVATE (from inside its VPC) | PSC" },
    { flags: "--iam", description: "with --cloud-sql: IAM database login as the identity infra-check runs as (--user is that identity, e.g. SA@PROJECT.iam); no password. Needs roles/cloudsql.instanceUser" },
  ],
  examples: [
    "infra-check postgres postgres://app@10.20.0.5:5432/app --password-env DB_PASSWORD",
    "PGPASSWORD=... infra-check postgres postgres://app@db.internal/app --sslmode verify-full --tls-ca ./server-ca.pem",
    "infra-check postgres postgres://app@10.20.0.5/app --query 'SELECT count(*) FROM pg_stat_activity' --expect 'value<80'",
    "PGUSER=app PGDATABASE=app infra-check postgres db.internal:5432 --password-env DB_PASSWORD",
    "PGHOST=10.20.0.5 PGUSER=app PGDATABASE=app infra-check postgres --samples 20 --format json",
    "infra-check postgres --cloud-sql acme-staging:us-central1:staging-postgres-db --ip-type PRIVATE --iam --user infra-check-probe@acme-staging.iam --database app",
    "infra-check postgres --cloud-sql acme-staging:us-central1:staging-postgres-db --user app --database app --password-env DB_PASSWORD",
  ],
  toRawCheck(argument, options, env) {
    return oneOffCheck(argument, options, env);
  },
  // Hints name config keys; a one-off has these flags instead.
  flagsFor: [
    [/`?cloudSql\.ipType(?::)?`?/g, "--ip-type"],
    [/`?cloudSql\.auth: iam`?/g, "--iam"],
    [/`?\buser:`?/g, "--user"],
    [/`?\bdatabase:`?/g, "--database"],
  ],
};

/** The one-off command's flags and psql's PG* variables → a raw check (URL parts win over the environment, like psql). */
function oneOffCheck(argument: string | undefined, options: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const raw: Record<string, unknown> = { kind: "postgres" };
  let url: URL | undefined;
  if (argument) {
    const text = withScheme(argument, "postgres");
    const parsed = parseUrl(text);
    if (typeof parsed === "string") throw new ConfigError(`${new Redactor().text(argument)}: ${parsed}`);
    url = parsed;
    raw.url = text;
  }
  const cloudSql = typeof options.cloudSql === "string" ? options.cloudSql : undefined;
  if (!cloudSql && (options.ipType !== undefined || options.iam)) throw new ConfigError(`${options.iam ? "--iam" : "--ip-type"} goes with --cloud-sql INSTANCE`);
  if (cloudSql) {
    // The connector finds the address and does TLS: PGHOST, PGPORT and the ssl flags do not apply.
    raw.cloudSql = { instance: cloudSql, ...(options.ipType !== undefined ? { ipType: String(options.ipType).toUpperCase() } : {}), auth: options.iam ? "iam" : "password" };
  } else if (!url?.hostname && !url?.searchParams.get("host")) raw.host = env.PGHOST || "localhost";
  if (!cloudSql && !url?.port && !url?.searchParams.get("port") && env.PGPORT) {
    if (!/^\d{1,5}$/.test(env.PGPORT)) throw new ConfigError(`PGPORT: expected a port number, found "${env.PGPORT}"`);
    raw.port = Number(env.PGPORT);
  }
  const urlUser = Boolean(url?.username || url?.searchParams.get("user"));
  const urlDatabase = Boolean((url && url.pathname.length > 1) || url?.searchParams.get("dbname"));
  const user = typeof options.user === "string" ? options.user : undefined;
  const database = typeof options.database === "string" ? options.database : undefined;
  if (user !== undefined && urlUser) throw new ConfigError(`--user ${user}: the URL names a user too; keep only one`);
  if (database !== undefined && urlDatabase) throw new ConfigError(`--database ${database}: the URL names a database too; keep only one`);
  if (user === "" || database === "") throw new ConfigError(`${user === "" ? "--user" : "--database"}: expected a name, found an empty value`);
  if (!urlUser) raw.user = user ?? (env.PGUSER || userInfo().username);
  if (!urlDatabase && (database ?? env.PGDATABASE)) raw.database = database ?? env.PGDATABASE;

  const variable = options.passwordEnv as string | undefined;
  if (variable !== undefined) {
    const value = passwordEnvFlag(variable, env);
    if (urlPassword(url) !== undefined) throw new ConfigError(`--password-env ${variable}: the URL has a password too; keep only one`);
    raw.password = value;
  } else if (urlPassword(url) === undefined && env.PGPASSWORD && !options.iam) {
    raw.password = env.PGPASSWORD;
  }

  const mode = cloudSql ? (options.sslmode as string | undefined) : ((options.sslmode as string | undefined) ?? url?.searchParams.get("sslmode") ?? (env.PGSSLMODE || undefined));
  if (mode !== undefined && !(SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`${options.sslmode !== undefined ? "--sslmode" : url?.searchParams.get("sslmode") ? "sslmode" : "PGSSLMODE"}: expected one of ${SSL_MODES.join(", ")}, found "${mode}"`);
  }
  const ca = (options.tlsCa as string | undefined) ?? (!cloudSql && env.PGSSLROOTCERT && env.PGSSLROOTCERT !== "system" ? env.PGSSLROOTCERT : undefined);
  if (mode !== undefined || ca !== undefined) raw.ssl = { ...(mode !== undefined ? { mode } : {}), ...(ca !== undefined ? { ca } : {}) };

  if (options.query !== undefined) raw.query = options.query;
  if (options.samples !== undefined) raw.samples = wholeNumberFlag("--samples", options.samples, 1, MAX_SAMPLES);
  return raw;
}

