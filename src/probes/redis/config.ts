// A redis check's config: the URL (redis:// or rediss://, with the user,
// password and database in it or beside it) and what the probe makes of it.
import { z } from "zod";
import { secretValueSchema, tlsSchema } from "../shared/schema.js";
import { bareHost } from "../../net/resolve.js";
import { failure } from "../../diagnose/catalogue.js";
import { CHECK } from "../../diagnose/codes.js";
import type { CheckSpec } from "../api.js";
import { decodeUrlPart, malformedEscape } from "../../util/url.js";

export const DEFAULT_PORT = 6379;
/** Enough for a 95th percentile that is not simply the slowest sample (MIN_P95_SAMPLES); sub-millisecond each on a LAN. */
export const DEFAULT_SAMPLES = 20;
export const MAX_SAMPLES = 1000;

export const schema = z
  .strictObject({
    url: z
      .url({ protocol: /^rediss?$/, error: "expected a redis:// or rediss:// URL, e.g. redis://10.0.0.3:6379/0" })
      .superRefine((value, ctx) => {
        const problem = urlProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .meta({ description: "redis://[user[:password]@]host[:port][/db]; rediss:// = TLS" }),
    username: z.string().min(1).optional().meta({ description: "ACL user (Redis 6+); default: the URL's user, else `default`" }),
    password: secretValueSchema.optional().meta({ description: "Password / AUTH string: ${ENV_VAR}, { secret: projects/P/secrets/S }, or { memorystoreAuth: INSTANCE }" }),
    tls: tlsSchema.optional().meta({ description: "TLS options; a tls: block turns TLS on even for redis://" }),
    samples: z.number().int().min(1).max(MAX_SAMPLES).default(DEFAULT_SAMPLES).meta({ description: `PING round trips for the percentiles (default ${DEFAULT_SAMPLES})` }),
    write: z.boolean().default(false).meta({ description: "Opt-in: SET/GET/DEL one canary key infra-check:canary:<random> with a 30 s TTL" }),
  })
  .superRefine((spec, ctx) => {
    let url: URL;
    try {
      url = new URL(spec.url);
    } catch {
      return; // reported by the url field itself
    }
    if (url.password && spec.password !== undefined) {
      ctx.addIssue({ code: "custom", path: ["password"], message: "the password is set twice (in the URL and in `password:`); keep only `password:`" });
    }
    if ((spec.username ?? url.username) && !url.password && spec.password === undefined) {
      ctx.addIssue({ code: "custom", path: ["username"], message: "an ACL user needs a password: set `password:` too" });
    }
  });

export type RedisFields = z.infer<typeof schema>;
export type RedisSpec = CheckSpec<RedisFields>;

/** Where and as whom the probe connects. */
export interface Target {
  hostname: string;
  port: number;
  db: number;
  useTls: boolean;
  username?: string;
  password?: string;
}

export function parseTarget(spec: RedisSpec): Target {
  const url = new URL(spec.url);
  const password = spec.password ?? (url.password ? decodeUrlPart(url.password) : undefined);
  if (password !== undefined && typeof password !== "string") throw failure(CHECK.UNRESOLVED_SECRET, {});
  const username = spec.username ?? (url.username ? decodeUrlPart(url.username) : undefined);
  return {
    hostname: bareHost(url.hostname),
    port: url.port ? Number(url.port) : DEFAULT_PORT,
    db: dbOf(url),
    useTls: url.protocol === "rediss:" || spec.tls !== undefined,
    ...(username ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

function dbOf(url: URL): number {
  const path = url.pathname.replace(/^\//, "");
  return path === "" ? 0 : Number(path);
}

/** What is wrong with a redis URL beyond its scheme, or undefined. */
function urlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const escape = malformedEscape(url);
  if (escape) return escape;
  if (!url.hostname) return "the URL has no host, e.g. redis://10.0.0.3:6379";
  const path = url.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d{1,5}$/.test(path)) return `the path selects a database and must be a number (redis://host:6379/0), found "/${path}"`;
  if (url.search) return "query parameters are not supported: use the check's keys (username, password, tls, samples)";
  return undefined;
}

export function urlPassword(raw: string): string[] {
  try {
    const url = new URL(raw);
    return url.password ? [decodeUrlPart(url.password), url.password] : [];
  } catch {
    return [];
  }
}

/** host:port as configured (IPv6 in brackets), for messages. */
export function endpoint(target: Pick<Target, "hostname" | "port">): string {
  return `${target.hostname.includes(":") ? `[${target.hostname}]` : target.hostname}:${target.port}`;
}

/** host, port and whether any password is configured (literal, ${ENV} already expanded, or a secret reference). */
export function configuredEndpoint(spec: Pick<RedisSpec, "url" | "password"> & { tls?: unknown }): { host: string; port: number; hasPassword: boolean; tls: boolean } | undefined {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    return undefined;
  }
  const password = spec.password;
  const hasPassword = Boolean(url.password) || (typeof password === "string" ? password.length > 0 : password !== undefined && password !== null);
  return { host: bareHost(url.hostname), port: url.port ? Number(url.port) : DEFAULT_PORT, hasPassword, tls: url.protocol === "rediss:" || spec.tls !== undefined };
}
