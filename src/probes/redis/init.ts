// What the redis kind contributes to `infra-check init`: the Redis an app
// names in its env (REDIS_HOST, REDIS_URL, CACHE_REDIS_*; --redis-env sets
// the patterns) becomes a redis check, and the Memorystore instance at that
// address (ListInstances, src/probes/memorystore/init.ts) a memorystore check
// it depends on, as does the connector the traffic goes through. The
// password is the app's own secret reference when it has one, else the
// instance's AUTH string ({ memorystoreAuth }) when AUTH is on; a literal is
// never copied: `${VAR}`, to export.
import net from "node:net";
import type { EnvFact, KindInit, MappingRow, ProposedCheck } from "../init-api.js";
import { credentialValue, groupEnv, isPrivateAddress, matchingEnv, throughVpc } from "../init-api.js";
import { memorystoreFor, type MatchedInstance } from "../memorystore/init.js";
import { CONNECTOR_FACT } from "../vpc-connector/init.js";

export const DEFAULT_REDIS_ENV = ["REDIS_URL", "REDIS_HOST", "REDIS_*", "*_REDIS_*", "*_REDIS"];

interface Endpoint {
  group: string;
  /** The variables it came from. */
  from: EnvFact[];
  host: string;
  port?: number;
  tls: boolean;
  db?: string;
  username?: string;
  /** The URL had a password in it (a literal credential). */
  urlPassword: boolean;
  password?: EnvFact;
}

function literal(fact: EnvFact | undefined): string | undefined {
  return fact?.source.kind === "literal" && fact.source.value.trim() ? fact.source.value.trim() : undefined;
}

function parseEndpoint(group: string, roles: ReturnType<typeof groupEnv> extends Map<string, infer V> ? V : never): Endpoint | string | undefined {
  const urlFact = roles.url ?? (literal(roles.host)?.match(/^rediss?:\/\//) ? roles.host : undefined);
  const hostFact = urlFact ? undefined : roles.host;
  const carrier = urlFact ?? hostFact;
  if (!carrier) return undefined;
  const from = [carrier, roles.port, roles.password].filter((fact): fact is EnvFact => Boolean(fact));
  if (carrier.source.kind === "secret") return `${carrier.name} comes from a secret: its address cannot be read (init never reads secret values); add the redis check by hand`;
  const text = literal(carrier);
  if (!text) return `${carrier.name} is empty`;
  const portText = literal(roles.port);
  const port = portText && /^\d{1,5}$/.test(portText) ? Number(portText) : undefined;
  if (urlFact) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return `${carrier.name} is not a redis:// URL`;
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") return `${carrier.name} is a ${url.protocol}// URL, not redis://`;
    return {
      group,
      from,
      host: url.hostname.replace(/^\[|\]$/g, ""),
      ...(url.port ? { port: Number(url.port) } : port ? { port } : {}),
      tls: url.protocol === "rediss:",
      ...(url.pathname.length > 1 ? { db: url.pathname.slice(1) } : {}),
      ...(url.username && url.username !== "default" ? { username: decodeURIComponent(url.username) } : {}),
      urlPassword: Boolean(url.password),
      ...(roles.password ? { password: roles.password } : {}),
    };
  }
  const [host, inlinePort] = net.isIPv6(text) ? [text, undefined] : text.split(":");
  return {
    group,
    from,
    host,
    ...(inlinePort && /^\d+$/.test(inlinePort) ? { port: Number(inlinePort) } : port ? { port } : {}),
    tls: false,
    urlPassword: false,
    ...(roles.password ? { password: roles.password } : {}),
  };
}

const init: KindInit = {
  after: ["vpc-connector"],
  starter: {
    name: "cache",
    yaml: `    # Redis: AUTH, PING latency percentiles, role. rediss:// = TLS.
    url: redis://10.0.0.3:6379/0
    # \${VAR}, { secret: projects/P/secrets/S } or { memorystoreAuth: INSTANCE };
    # never a literal: the value is masked in every output either way.
    password: \${REDIS_PASSWORD}
    expect: { pingP95Ms: "< 50ms" }
    # dependsOn: [connector, cache-instance]
`,
  },
  options: [
    {
      flags: "--redis-env <patterns>",
      description: `env var names that hold the app's Redis host or URL (comma-separated globs; default ${DEFAULT_REDIS_ENV.join(",")})`,
    },
  ],
  async map(facts, ctx) {
    const patterns = typeof ctx.options.redisEnv === "string" ? ctx.options.redisEnv.split(",").map((entry) => entry.trim()).filter(Boolean) : DEFAULT_REDIS_ENV;
    const candidates = matchingEnv(facts.env, patterns);
    const checks: ProposedCheck[] = [];
    const rows: MappingRow[] = [];
    const claimed: string[] = [];
    const connector = ctx.checks.find((check) => check.provides?.[CONNECTOR_FACT]);
    for (const [group, roles] of groupEnv(candidates)) {
      const parsed = parseEndpoint(group, roles);
      const names = Object.values(roles).map((fact) => fact!.name);
      if (parsed === undefined) continue;
      claimed.push(...names);
      if (typeof parsed === "string") {
        rows.push({ from: `env ${names.join(", ")}`, note: parsed });
        continue;
      }
      const base = group === "REDIS" ? "cache" : `${group.toLowerCase().replace(/_?redis_?/, "").replace(/_/g, "-") || "cache"}`;
      const name = ctx.uniqueName(base);
      let matched: MatchedInstance | undefined;
      let listNote: string | undefined;
      try {
        matched = await memorystoreFor({ host: parsed.host, ...(parsed.port ? { port: parsed.port } : {}) }, { project: facts.project, region: facts.region, checkName: ctx.uniqueName(`${name}-instance`) }, await ctx.gcp());
        if (!matched) listNote = `no Memorystore instance in ${facts.region} has the address ${parsed.host}`;
      } catch (error) {
        listNote = `Memorystore instances could not be listed (${ctx.describe(error)})`;
      }
      const tls = parsed.tls || Boolean(matched?.tls);
      const port = parsed.port ?? matched?.port ?? (tls ? 6378 : 6379);
      const host = net.isIPv6(parsed.host) ? `[${parsed.host}]` : parsed.host;
      const fields: Record<string, unknown> = { url: `${tls ? "rediss" : "redis"}://${host}:${port}${parsed.db ? `/${parsed.db}` : ""}` };
      const keyComments: Record<string, string> = {};
      const envVars: string[] = [];
      if (parsed.username) fields.username = parsed.username;
      if (parsed.password || parsed.urlPassword) {
        const credential = credentialValue(parsed.password, facts.project, `${group}_PASSWORD`);
        fields.password = credential.value;
        keyComments.password = credential.note;
        if (credential.envVar) envVars.push(credential.envVar);
      } else if (matched?.authEnabled) {
        fields.password = { memorystoreAuth: matched.instance };
        keyComments.password = "The instance requires AUTH and the app names no password variable: its AUTH string, read at run time (needs redis.instances.getAuthString).";
      }
      if (tls && matched) {
        fields.tls = { ca: { memorystoreCa: matched.instance } };
        keyComments.tls = "In-transit encryption: trust the instance's own server CA.";
      }
      // Memorystore is only ever reached from inside the VPC, whatever address range it has.
      const viaVpc = Boolean(connector) && (Boolean(matched) || throughVpc(parsed.host, facts));
      const dependsOn = [...(viaVpc ? [connector!.name] : []), ...(matched ? [matched.check.name] : [])];
      if (dependsOn.length) fields.dependsOn = dependsOn;
      if (matched) checks.push(matched.check);
      checks.push({
        name,
        kind: "redis",
        comment: `The app's Redis (${names.join(", ")}): AUTH, PING latency, role.${dependsOn.length ? " Blocked, with one root cause, when what it depends on is broken." : ""}`,
        fields,
        keyComments,
        envVars,
        private: isPrivateAddress(parsed.host),
        provides: { redisHost: parsed.host },
      });
      rows.push({ from: `env ${names.join(", ")}`, to: matched ? `${matched.check.name} + ${name}` : name, note: listNote ?? `Memorystore ${matched?.instance}` });
    }
    if (!rows.length) rows.push({ from: "Redis", note: `no env var matches ${patterns.join(", ")} (--redis-env sets the patterns)` });
    return { checks, rows, claimed };
  },
};

export default init;
