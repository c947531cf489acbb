// A postgres check's config: a URL and/or explicit keys (explicit keys win),
// libpq's sslmode, and what they normalise to.
import net from "node:net";
import { z } from "zod";
import { secretValueSchema, tlsSchema, type SecretValue } from "../shared/schema.js";
import { bareHost } from "../../net/resolve.js";
import type { CheckSpec, TlsSpec } from "../api.js";
import { decodeUrlPart, malformedEscape } from "../../util/url.js";

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

export function displayTarget(spec: PostgresFields): string {
  const user = encodeURIComponent(spec.user);
  const database = encodeURIComponent(spec.database);
  if (spec.host.startsWith("/")) return `postgres://${user}@/${database}?host=${spec.host}&port=${spec.port}`;
  const host = net.isIPv6(spec.host) ? `[${spec.host}]` : spec.host;
  return `postgres://${user}@${host}:${spec.port}/${database}`;
}

