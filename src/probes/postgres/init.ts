// What the postgres kind contributes to `infra-check init`: the database an
// app names in its env (DATABASE_URL, DB_HOST/DB_USER/DB_NAME, PG*,
// POSTGRES_*) becomes a postgres check on the path the app itself uses: a
// TCP host (a private IP through the connector) is dialled as is; a Cloud SQL
// socket (/cloudsql/P:R:I, what the service's Cloud SQL volume provides) goes
// through the Cloud SQL connector (`cloudSql:`). It depends on the connector
// and on the cloud-sql check of its instance. Host, port, database and user
// are parsed from literal values; a password never is: the app's secret
// reference when it has one, else `${VAR}` to export.
import net from "node:net";
import type { EnvFact, EnvRole, KindInit, MappingRow, ProposedCheck } from "../init-api.js";
import { credentialValue, groupEnv, isPrivateAddress, matchingEnv, throughVpc } from "../init-api.js";
import { CLOUD_SQL_FACT, type CloudSqlProvided } from "../cloud-sql/init.js";
import { CONNECTOR_FACT } from "../vpc-connector/init.js";
import { CONNECTION_NAME } from "../cloud-sql/config.js";

const PATTERNS = ["DATABASE_*", "*_DATABASE_*", "DB_*", "*_DB_*", "PG*", "POSTGRES*", "*_POSTGRES_*", "*_PG_*"];
type Roles = Partial<Record<EnvRole, EnvFact>>;

function literal(fact: EnvFact | undefined): string | undefined {
  return fact?.source.kind === "literal" && fact.source.value.trim() ? fact.source.value.trim() : undefined;
}

/** Stands in for the empty host of postgres://user@/db?host=/cloudsql/… (libpq's form), which WHATWG URLs refuse. */
const NO_HOST = "no-host.invalid";

function parseDatabaseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    const hostless = /^(postgres(?:ql)?:\/\/(?:[^@/]*@)?)(\/.*)?$/.exec(text);
    if (!hostless) return undefined;
    try {
      return new URL(`${hostless[1]}${NO_HOST}${hostless[2] ?? ""}`);
    } catch {
      return undefined;
    }
  }
}

interface Target {
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  sslmode?: string;
  /** A /cloudsql/P:R:I socket: the connection name. */
  socketInstance?: string;
  urlPassword: boolean;
}

function parseTarget(roles: Roles): Target | string {
  const urlFact = roles.url;
  if (urlFact) {
    if (urlFact.source.kind === "secret") return `${urlFact.name} comes from a secret: its host and user cannot be read (init never reads secret values)`;
    const text = literal(urlFact);
    if (!text) return `${urlFact.name} is empty`;
    const url = parseDatabaseUrl(text);
    if (!url) return `${urlFact.name} is not a postgres:// URL`;
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") return `${urlFact.name} is a ${url.protocol}// URL, not PostgreSQL`;
    const socket = url.searchParams.get("host") ?? undefined;
    const socketInstance = socket ? /^\/cloudsql\/(.+)$/.exec(socket)?.[1] : undefined;
    const hostless = url.hostname === NO_HOST;
    return {
      ...(url.hostname && !hostless ? { host: url.hostname.replace(/^\[|\]$/g, "") } : socket && !socketInstance ? { host: socket } : {}),
      ...(url.port ? { port: Number(url.port) } : {}),
      ...(url.pathname.length > 1 ? { database: decodeURIComponent(url.pathname.slice(1)) } : {}),
      ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
      ...(url.searchParams.get("sslmode") ? { sslmode: url.searchParams.get("sslmode")! } : {}),
      ...(socketInstance ? { socketInstance } : {}),
      urlPassword: Boolean(url.password) || url.searchParams.has("password"),
    };
  }
  const host = literal(roles.host);
  if (!host) return roles.host ? `${roles.host.name} comes from a secret or is empty: the host cannot be read` : "no host";
  const socketInstance = /^\/cloudsql\/(.+)$/.exec(host)?.[1];
  const port = literal(roles.port);
  return {
    ...(socketInstance ? { socketInstance } : { host }),
    ...(port && /^\d{1,5}$/.test(port) ? { port: Number(port) } : {}),
    ...(literal(roles.database) ? { database: literal(roles.database) } : {}),
    ...(literal(roles.user) ? { user: literal(roles.user) } : {}),
    urlPassword: false,
  };
}

const init: KindInit = {
  after: ["vpc-connector", "cloud-sql"],
  starter: {
    name: "db",
    yaml: `    # PostgreSQL: connect, auth and query phases, query percentiles. A
    # read-only session; the password is masked in every output.
    url: postgres://app@10.20.0.5:5432/app
    password: { secret: projects/PROJECT/secrets/db-password }
    # Or through the Cloud SQL connector instead of url:
    # cloudSql: { instance: PROJECT:REGION:staging-postgres }
    expect: { queryP95Ms: "< 200ms" }
    # dependsOn: [connector, db-instance]
`,
  },
  map(facts, ctx) {
    const candidates = matchingEnv(facts.env, PATTERNS);
    const groups = groupEnv(candidates);
    const endpoints = [...groups].filter(([, roles]) => roles.url || roles.host);
    // Variables of a group with no address (DB_PASSWORD beside DATABASE_URL) lend their roles to the one address there is.
    const loose: Roles = {};
    for (const [, roles] of groups) if (!roles.url && !roles.host) for (const [role, fact] of Object.entries(roles) as [EnvRole, EnvFact][]) loose[role] ??= fact;
    const instances = ctx.checks.filter((check) => check.provides?.[CLOUD_SQL_FACT]);
    const connector = ctx.checks.find((check) => check.provides?.[CONNECTOR_FACT]);
    const checks: ProposedCheck[] = [];
    const rows: MappingRow[] = [];
    const claimed: string[] = [];
    for (const [group, own] of endpoints) {
      const roles: Roles = endpoints.length === 1 ? { ...loose, ...own } : own;
      const names = Object.values(roles).map((fact) => fact!.name);
      claimed.push(...names);
      const target = parseTarget(roles);
      if (typeof target === "string") {
        rows.push({ from: `env ${names.join(", ")}`, note: target });
        continue;
      }
      const name = ctx.uniqueName(endpoints.length === 1 ? "db" : group.toLowerCase().replace(/_/g, "-"));
      const fields: Record<string, unknown> = {};
      const keyComments: Record<string, string> = {};
      const envVars: string[] = [];
      const byInstance = (connectionName: string) => instances.find((check) => (check.provides![CLOUD_SQL_FACT] as CloudSqlProvided).connectionName === connectionName);
      const byAddress = (host: string) => instances.find((check) => [(check.provides![CLOUD_SQL_FACT] as CloudSqlProvided).privateIp, (check.provides![CLOUD_SQL_FACT] as CloudSqlProvided).publicIp].includes(host));
      let instanceCheck: ProposedCheck | undefined;
      let how: string;
      if (!target.host) {
        // A Cloud SQL socket, or no host at all beside a single mounted instance: the connector's path.
        const connectionName = target.socketInstance ?? (instances.length === 1 ? (instances[0].provides![CLOUD_SQL_FACT] as CloudSqlProvided).connectionName : undefined);
        if (!connectionName || !CONNECTION_NAME.test(connectionName)) {
          rows.push({ from: `env ${names.join(", ")}`, note: "no host, and no single Cloud SQL instance to reach it through" });
          continue;
        }
        instanceCheck = byInstance(connectionName);
        const provided = instanceCheck?.provides?.[CLOUD_SQL_FACT] as CloudSqlProvided | undefined;
        // An instance with a private IP only is reached on it (from inside the VPC); the connector's default is the public one.
        const privateOnly = Boolean(provided?.privateIp && !provided.publicIp);
        fields.cloudSql = { instance: connectionName, ...(privateOnly ? { ipType: "PRIVATE" } : {}) };
        keyComments.cloudSql =
          "The app reaches it through the Cloud SQL socket: this check goes through the Cloud SQL connector (ephemeral certificate, TLS to port 3307; needs roles/cloudsql.client)." +
          (privateOnly ? " The instance has a private IP only: run the check from inside its VPC." : " ipType: PRIVATE from inside the VPC.");
        how = `Cloud SQL connector to ${connectionName}${privateOnly ? " (private IP)" : ""}`;
      } else {
        const host = net.isIPv6(target.host) ? `[${target.host}]` : target.host;
        const user = target.user ? `${encodeURIComponent(target.user)}@` : "";
        const query = target.sslmode ? `?sslmode=${target.sslmode}` : "";
        fields.url = `postgres://${user}${host}${target.port ? `:${target.port}` : ""}/${encodeURIComponent(target.database ?? target.user ?? "postgres")}${query}`;
        instanceCheck = byAddress(target.host);
        how = `${target.host}${instanceCheck ? ` (Cloud SQL ${(instanceCheck.provides![CLOUD_SQL_FACT] as CloudSqlProvided).connectionName})` : ""}`;
      }
      if (!target.host) {
        if (target.user) fields.user = target.user;
        if (target.database) fields.database = target.database;
      }
      if (!target.user && !fields.url) {
        fields.user = `\${DB_USER}`;
        envVars.push("DB_USER");
        keyComments.user = "No env var names the database user: export DB_USER, or write it here.";
      }
      if (roles.password || target.urlPassword) {
        const credential = credentialValue(roles.password, facts.project, `${group}_PASSWORD`);
        fields.password = credential.value;
        keyComments.password = credential.note;
        if (credential.envVar) envVars.push(credential.envVar);
      }
      // A Cloud SQL private IP is inside the VPC whatever its range; a socket goes through Cloud Run's own Cloud SQL path.
      const viaVpc = Boolean(target.host) && (throughVpc(target.host!, facts) || Boolean(instanceCheck && facts.network.connector));
      const dependsOn = [...(connector && viaVpc ? [connector.name] : []), ...(instanceCheck ? [instanceCheck.name] : [])];
      if (dependsOn.length) fields.dependsOn = dependsOn;
      const privateTarget = Boolean(target.host && isPrivateAddress(target.host)) || (fields.cloudSql as { ipType?: string } | undefined)?.ipType === "PRIVATE";
      checks.push({
        name,
        kind: "postgres",
        private: privateTarget,
        comment: `The app's database (${names.join(", ")}): connect, auth and query phases, query percentiles, in a read-only session.`,
        fields,
        keyComments,
        envVars,
      });
      rows.push({ from: `env ${names.join(", ")}`, to: name, note: how });
    }
    // A mounted instance no variable leads to: the instance is checked, the database is not.
    const reached = new Set(checks.flatMap((check) => (check.fields.dependsOn as string[] | undefined) ?? []));
    for (const instance of instances) {
      if (reached.has(instance.name)) continue;
      const provided = instance.provides![CLOUD_SQL_FACT] as CloudSqlProvided;
      const unread = !provided.privateIp && !provided.publicIp;
      const tcp = checks.filter((check) => typeof check.fields.url === "string").map((check) => check.name);
      rows.push({
        from: `Cloud SQL ${provided.connectionName}`,
        note:
          unread && tcp.length
            ? `its addresses are unknown (not read): if ${tcp.join(" or ")} reaches it, add ${instance.name} to its dependsOn`
            : "no env var names a database user or URL for it: add a postgres check with cloudSql: by hand",
      });
    }
    if (!endpoints.length && !instances.length) rows.push({ from: "PostgreSQL", note: "no DATABASE_URL, DB_HOST, PGHOST or POSTGRES_* variable, and no Cloud SQL instance" });
    return { checks, rows, claimed };
  },
};

export default init;
