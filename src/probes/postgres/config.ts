// A postgres check's config: a URL and/or explicit keys (explicit keys win),
// libpq's sslmode, and what they normalise to.
import net from "node:net";
import { z } from "zod";
import { secretValueSchema, tlsSchema, type SecretValue } from "../shared/schema.js";
import { bareHost } from "../../net/resolve.js";
import type { CheckSpec, TlsSpec } from "../api.js";
import { decodeUrlPart, malformedEscape } from "../../util/url.js";
import { instanceSchema } from "../cloud-sql/config.js";

export const DEFAULT_PORT = 5432;
/** Enough for a 95th percentile that is not simply the slowest sample (MIN_P95_SAMPLES); sub-millisecond each on a LAN. */
export const DEFAULT_SAMPLES = 20;
export const MAX_SAMPLES = 1000;
export const DEFAULT_QUERY = "SELECT 1";
export const SSL_MODES = ["disable", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];
/** URL query parameters understood (libpq's names); anything else is a config error, not silently ignored. */
const URL_PARAMETERS = ["sslmode", "host", "port", "user", "dbname", "password"];
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

export const CLOUD_SQL_IP_TYPES = ["PUBLIC", "PRIVATE", "PSC"] as const;
export type CloudSqlIpType = (typeof CLOUD_SQL_IP_TYPES)[number];
/** The Cloud SQL server-side proxy's port: the connector always dials it. */
export const CLOUD_SQL_PORT = 3307;

const cloudSqlSchema = z.strictObject({
  instance: instanceSchema,
  ipType: z.enum(CLOUD_SQL_IP_TYPES).default("PUBLIC").meta({ description: "Which of the instance's addresses to dial: PUBLIC (default, like the connector), PRIVATE (from inside its VPC) or PSC" }),
  auth: z.enum(["password", "iam"]).default("password").meta({ description: "password (the role's password: password:) or iam (IAM database login with the identity's OAuth2 token; user: is the IAM user, e.g. SA@PROJECT.iam)" }),
});

const fieldsSchema = z.strictObject({
    cloudSql: cloudSqlSchema.optional().meta({ description: "Connect through the Cloud SQL connector (ephemeral certificate, TLS to the instance's server-side proxy on 3307) instead of host/port" }),
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

export const schema = fieldsSchema
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
    if (raw.cloudSql) {
      // The connector finds the address and does TLS itself: a host, port or TLS setting would be ignored, so it is an error.
      for (const key of ["host", "port", "ssl", "tls"] as const) {
        if (raw[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: `cloudSql: connects through the Cloud SQL connector, which finds the address and does TLS itself: remove \`${key}:\`` });
      }
      if (url?.hostname) ctx.addIssue({ code: "custom", path: ["url"], message: "with cloudSql: the URL names no host: postgres://USER@/DATABASE, or use user: and database:" });
      if (raw.cloudSql.auth === "iam" && (raw.password !== undefined || urlPassword(url) !== undefined)) {
        ctx.addIssue({ code: "custom", path: ["password"], message: "cloudSql.auth iam logs in with the identity's OAuth2 token: remove the password (or use auth: password)" });
      }
    } else if (!raw.host && !url?.hostname && !url?.searchParams.get("host")) {
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
  /** Through the Cloud SQL connector: `host` is then empty and `port` the server-side proxy's. */
  cloudSql?: { instance: string; ipType: CloudSqlIpType; auth: "password" | "iam" };
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
export type PostgresSpec = CheckSpec<PostgresFields>;

export function parseUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "expected a URL like postgres://user@host:5432/database";
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") return `expected a postgres:// or postgresql:// URL, found ${url.protocol}//`;
  const escape = malformedEscape(url);
  if (escape) return escape;
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

export function urlPassword(url: URL | string | undefined): string | undefined {
  if (!url || typeof url === "string") return undefined;
  const fromUserinfo = url.password ? decodeUrlPart(url.password) : undefined;
  return fromUserinfo ?? url.searchParams.get("password") ?? undefined;
}

function sslModeOf(ssl: RawFields["ssl"]): SslMode | undefined {
  if (ssl === undefined) return undefined;
  return typeof ssl === "string" ? ssl : ssl.mode;
}

function normalize(fields: RawFields): PostgresFields {
  const url = fields.url !== undefined ? (parseUrl(fields.url) as URL) : undefined;
  const fromUrl = {
    host: url?.searchParams.get("host") ?? (url?.hostname ? bareHost(decodeUrlPart(url.hostname)) : undefined),
    port: url ? Number(url.searchParams.get("port") ?? (url.port || DEFAULT_PORT)) : undefined,
    user: url?.searchParams.get("user") ?? (url?.username ? decodeUrlPart(url.username) : undefined),
    database: url?.searchParams.get("dbname") ?? (url && url.pathname.length > 1 ? decodeUrlPart(url.pathname.slice(1)) : undefined),
  };
  const user = fields.user ?? fromUrl.user!;
  const files = typeof fields.ssl === "object" ? fields.ssl : {};
  const tlsBlock: TlsSpec = { ...fields.tls };
  for (const key of ["ca", "cert", "key", "servername"] as const) if (files[key] !== undefined) tlsBlock[key] = files[key];
  const password = fields.password ?? urlPassword(url);
  return {
    ...(fields.url !== undefined ? { url: fields.url } : {}),
    ...(fields.cloudSql ? { cloudSql: fields.cloudSql } : {}),
    host: fields.cloudSql ? "" : (fields.host ?? fromUrl.host!),
    port: fields.cloudSql ? CLOUD_SQL_PORT : (fields.port ?? fromUrl.port ?? DEFAULT_PORT),
    database: fields.database ?? fromUrl.database ?? user,
    user,
    ...(password !== undefined ? { password } : {}),
    sslMode: sslModeOf(fields.ssl) ?? (url?.searchParams.get("sslmode") as SslMode | null) ?? "prefer",
    ...(Object.keys(tlsBlock).length ? { tls: tlsBlock } : {}),
    query: fields.query,
    samples: fields.samples,
  };
}

export function displayTarget(spec: PostgresFields): string {
  const user = encodeURIComponent(spec.user);
  const database = encodeURIComponent(spec.database);
  // Not a URL: a long user name alone in a postgres:// userinfo reads as a token to the redactor (IAM users are long).
  if (spec.cloudSql) return `Cloud SQL ${spec.cloudSql.instance}/${spec.database} as ${spec.user} (connector, ${spec.cloudSql.ipType} IP${spec.cloudSql.auth === "iam" ? ", IAM login" : ""})`;
  if (spec.host.startsWith("/")) return `postgres://${user}@/${database}?host=${spec.host}&port=${spec.port}`;
  const host = net.isIPv6(spec.host) ? `[${spec.host}]` : spec.host;
  return `postgres://${user}@${host}:${spec.port}/${database}`;
}

