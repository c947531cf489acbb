// The registry: the only list of probe kinds. Each entry loads its module
// lazily, so a run only pays for the kinds it uses (and --help for none).
// Adding a kind = its own folder + one line here.
import type { ProbeContext, ProbeDefinition } from "./api.js";

interface RegistryEntry {
  /** One-off triage command (`infra-check <command> <arg>`). */
  command: string;
  summary: string;
  /** URL schemes of the kind's targets: a config that names one as its kind (`kind: rediss`) is told the kind. */
  schemes?: readonly string[];
  load: () => Promise<{ default: ProbeDefinition }>;
}

export const PROBES = {
  http: { command: "http", summary: "HTTP(S) health endpoint: status, JSON body, phase timings", schemes: ["http", "https"], load: () => import("./http/index.js") },
  redis: { command: "redis", summary: "Redis: auth, TLS, PING latency percentiles, role", schemes: ["redis", "rediss"], load: () => import("./redis/index.js") },
  postgres: { command: "postgres", summary: "PostgreSQL: connect/auth/query phases, query percentiles", schemes: ["postgres", "postgresql"], load: () => import("./postgres/index.js") },
  websocket: { command: "ws", summary: "WebSocket: handshake phases, subprotocol, welcome, scripted events, load", schemes: ["ws", "wss"], load: () => import("./websocket/index.js") },
  "cloud-run": { command: "cloud-run", summary: "Cloud Run service: Ready, revision traffic, image, VPC egress", load: () => import("./cloud-run/index.js") },
  "vpc-connector": { command: "vpc-connector", summary: "Serverless VPC Access connector: state and configuration", load: () => import("./vpc-connector/index.js") },
  tcp: { command: "tcp", summary: "TCP (and TLS) reachability, banner, certificate expiry", load: () => import("./tcp/index.js") },
  memorystore: { command: "memorystore", summary: "Memorystore for Redis instance: state and configuration drift", load: () => import("./memorystore/index.js") },
  "cloud-sql": { command: "cloud-sql", summary: "Cloud SQL instance: state (RUNNABLE and not stopped), disk, and configuration drift", load: () => import("./cloud-sql/index.js") },
} satisfies Record<string, RegistryEntry>;

export type ProbeKind = keyof typeof PROBES;
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
