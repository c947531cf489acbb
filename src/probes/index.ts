// The registry: the only list of probe kinds. Each entry loads its module
// lazily, so a run only pays for the kinds it uses (and --help for none).
// Adding a kind = its own folder + one line here.
import type { ProbeContext, ProbeDefinition } from "./api.js";
import type { KindInit } from "./init-api.js";

interface RegistryEntry {
  /** One-off triage command (`infra-check <command> <arg>`). */
  command: string;
  summary: string;
  /** URL schemes of the kind's targets: a config that names one as its kind (`kind: rediss`) is told the kind. */
  schemes?: readonly string[];
  load: () => Promise<{ default: ProbeDefinition }>;
  /** What the kind contributes to `infra-check init` (a starter check, a mapper, a source); lazy like `load`. */
  init?: () => Promise<{ default: KindInit }>;
}

export const PROBES = {
  http: { command: "http", summary: "HTTP(S) health endpoint: status, JSON body, phase timings", schemes: ["http", "https"], load: () => import("./http/index.js"), init: () => import("./http/init.js") },
  redis: { command: "redis", summary: "Redis: auth, TLS, PING latency percentiles, role", schemes: ["redis", "rediss"], load: () => import("./redis/index.js"), init: () => import("./redis/init.js") },
  postgres: { command: "postgres", summary: "PostgreSQL: connect/auth/query phases, query percentiles", schemes: ["postgres", "postgresql"], load: () => import("./postgres/index.js"), init: () => import("./postgres/init.js") },
  websocket: { command: "ws", summary: "WebSocket: handshake phases, subprotocol, welcome, scripted events, load", schemes: ["ws", "wss"], load: () => import("./websocket/index.js"), init: () => import("./websocket/init.js") },
  "cloud-run": { command: "cloud-run", summary: "Cloud Run service: Ready, revision traffic, image, VPC egress", load: () => import("./cloud-run/index.js"), init: () => import("./cloud-run/init.js") },
  "vpc-connector": { command: "vpc-connector", summary: "Serverless VPC Access connector: state and configuration", load: () => import("./vpc-connector/index.js"), init: () => import("./vpc-connector/init.js") },
  tcp: { command: "tcp", summary: "TCP (and TLS) reachability, banner, certificate expiry", load: () => import("./tcp/index.js"), init: () => import("./tcp/init.js") },
  memorystore: { command: "memorystore", summary: "Memorystore for Redis instance: state and configuration drift", load: () => import("./memorystore/index.js"), init: () => import("./memorystore/init.js") },
  "cloud-sql": { command: "cloud-sql", summary: "Cloud SQL instance: state (RUNNABLE and not stopped), disk, and configuration drift", load: () => import("./cloud-sql/index.js"), init: () => import("./cloud-sql/init.js") },
} satisfies Record<string, RegistryEntry>;

export type ProbeKind = keyof typeof PROBES;

/** The init hooks of every kind that has one, in registry order. */
export async function loadInitHooks(): Promise<{ kind: ProbeKind; hook: KindInit }[]> {
  const entries = PROBE_KINDS.map((kind) => [kind, (PROBES[kind] as RegistryEntry).init] as const).filter((entry) => entry[1] !== undefined);
  return Promise.all(entries.map(async ([kind, load]) => ({ kind, hook: (await load!()).default })));
}
export const PROBE_KINDS = Object.keys(PROBES) as ProbeKind[];

export function isProbeKind(kind: string): kind is ProbeKind {
  return Object.hasOwn(PROBES, kind);
}

export async function loadProbe(kind: string): Promise<ProbeDefinition> {
  if (!isProbeKind(kind)) throw new Error(`unknown probe kind "${kind}"`);
  const module = await PROBES[kind].load();
  return module.default;
}

/** The kind whose targets use URL scheme `scheme` (`rediss` → redis), if any. */
export function kindForScheme(scheme: string): ProbeKind | undefined {
  return PROBE_KINDS.find((kind) => ((PROBES[kind] as RegistryEntry).schemes ?? []).includes(scheme));
}

export function kindForCommand(command: string): ProbeKind | undefined {
  // The kind's own name works too (`infra-check websocket URL` is the ws one-off).
  return PROBE_KINDS.find((kind) => PROBES[kind].command === command || kind === command);
}

type SecretResolver = (reference: string, ctx: ProbeContext) => Promise<string>;

/** Where a secret reference's value comes from, by its key (`password: { secret: … }`); loaded only when used. */
export const SECRET_SOURCES = {
  secret: async (): Promise<SecretResolver> => (await import("../gcp/secrets.js")).resolveSecret,
  memorystoreAuth: async (): Promise<SecretResolver> => (await import("./memorystore/auth-string.js")).resolveAuthString,
  // Not a secret, but read the same way (at run time, in the check's budget): the instance's server CA bundle.
  memorystoreCa: async (): Promise<SecretResolver> => (await import("./memorystore/server-ca.js")).resolveServerCa,
} satisfies Record<string, () => Promise<SecretResolver>>;

export type SecretSource = keyof typeof SECRET_SOURCES;
