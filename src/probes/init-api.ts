// What a kind contributes to `infra-check init` (src/commands/init.ts), from
// its own folder (`src/probes/<kind>/init.ts`, loaded lazily through the
// registry's `init:`): a commented starter snippet for `init --kinds`, and a
// mapper from what a deployed service declares (ServiceFacts) to checks of
// its kind. A kind whose init hook can read a deployment (cloud-run) is also
// a *source*: `init --from-<source> NAME` discovers the facts through it.
// The generic command never names a kind: it orders the mappers by `after`,
// hands each the checks proposed so far, renders, validates and writes.
import type { GcpSession } from "../gcp/session.js";
import { isPrivateAddress } from "../net/private-range.js";
import type { OneOffOption, ProbeContext } from "./api.js";

/** How a deployment gets an env var: a literal, or a secret it references (never its value). */
export type EnvSource =
  | { kind: "literal"; value: string }
  /** A Secret Manager reference (projects/P/secrets/S, version "latest" or a number). */
  | { kind: "secret"; secret: string; version: string };

export interface EnvFact {
  name: string;
  source: EnvSource;
}

/** What a deployed service declares, in neutral terms: every mapper reads the same facts. */
export interface ServiceFacts {
  /** What the facts came from, for messages and the file's header ("Cloud Run service backend-staging"). */
  label: string;
  project: string;
  region: string;
  /** The source's own name of the service (backend-staging). */
  name: string;
  /** The address clients use (https://…run.app, or --base-url). */
  url?: string;
  /** Image of the serving revision, as deployed. */
  image?: string;
  labels: Record<string, string>;
  serviceAccount?: string;
  /** Serverless VPC Access connector (full resource name) and the egress setting, or Direct VPC interfaces. */
  network: {
    connector?: string;
    egress?: string;
    directVpc?: { network?: string; subnetwork?: string }[];
  };
  env: EnvFact[];
  /** Cloud SQL connection names the service mounts (volumes[].cloudSqlInstance, the cloudsql-instances annotation). */
  cloudSqlInstances: string[];
}

/** One check a mapper proposes: its name, kind, YAML fields, and comments by key. */
export interface ProposedCheck {
  name: string;
  kind: string;
  /** Fields as they go into the YAML (kind excluded). Secrets only as references or ${VAR}. */
  fields: Record<string, unknown>;
  /** A comment above the check. */
  comment?: string;
  /** Comments above keys of `fields` (top-level keys only). */
  keyComments?: Record<string, string>;
  /** What other mappers may read (the connector's resource, the instance's host). */
  provides?: Record<string, unknown>;
  /** Environment variables the check reads (`${VAR}`): said at the end, since they must be exported. */
  envVars?: string[];
  /** Its target is reachable only from inside the service's VPC (a private address): init puts it on a runner. */
  private?: boolean;
}

/** A row of the mapping table printed at the end. */
export interface MappingRow {
  /** The fact (env REDIS_HOST, connector demo-connector, service URL). */
  from: string;
  /** The check(s) it became, or undefined when not mapped. */
  to?: string;
  /** Why not mapped, or a note on how. */
  note?: string;
}

export interface MapResult {
  checks: ProposedCheck[];
  rows: MappingRow[];
  /** Env var names this mapper used (so they are not reported as unmapped). */
  claimed?: string[];
}

/** What a mapper gets besides the facts. */
export interface InitMapContext {
  /** Checks proposed by the mappers that ran before (see KindInit.after). */
  readonly checks: readonly ProposedCheck[];
  /** The init command's flags (camelCase), the kinds' own included. */
  readonly options: Readonly<Record<string, unknown>>;
  /** A Google session for reads (list instances, get a connector), bounded by init's deadline; closed by the command. */
  gcp(): Promise<GcpSession>;
  /** A name for a new check, unique among the proposals (`cache`, then `cache-2`). */
  uniqueName(wanted: string): string;
  /** A failure of a Google read in the catalogue's words (its message; the hint is printed once at the end). */
  describe(error: unknown): string;
  /** HTTP GET for probing a health path (bounded; loopback in tests). */
  fetch(url: string): Promise<{ status: number; body: string } | { error: string }>;
}

/** A source of facts: `infra-check init --from-<flag> NAME`. */
export interface InitSource {
  /** The flag's name after `--from-` (cloud-run). */
  from: string;
  argument: string;
  description: string;
  discover(name: string, options: Readonly<Record<string, unknown>>, ctx: ProbeContext, gcp: GcpSession): Promise<ServiceFacts>;
}

export interface KindInit {
  /** A commented starter check for `init --kinds KIND`: YAML of the check's fields (kind excluded), two-space indented, comments included. */
  starter?: { name: string; yaml: string; usesGcp?: boolean };
  /** The kinds whose proposals this mapper reads (it runs after them). */
  after?: readonly string[];
  /** Init flags of this kind (--health-path). */
  options?: readonly OneOffOption[];
  map?(facts: ServiceFacts, ctx: InitMapContext): Promise<MapResult> | MapResult;
  source?: InitSource;
}

/** `projects/P/secrets/S` (+ `/versions/V` unless latest): the form a `{ secret: … }` reference takes. */
export function secretReference(source: Extract<EnvSource, { kind: "secret" }>, project: string): { secret: string } {
  const name = source.secret.startsWith("projects/") ? source.secret : `projects/${project}/secrets/${source.secret}`;
  return { secret: source.version && source.version !== "latest" ? `${name}/versions/${source.version}` : name };
}

/** Env var names matching any of `patterns` (globs: `*` any run of characters; case-insensitive). */
export function matchingEnv(env: readonly EnvFact[], patterns: readonly string[]): EnvFact[] {
  const regexes = patterns.map((pattern) => new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i"));
  return env.filter((fact) => regexes.some((regex) => regex.test(fact.name)));
}

/** The role a variable plays in a group of related ones (CACHE_REDIS_HOST, CACHE_REDIS_PORT, CACHE_REDIS_PASSWORD). */
export type EnvRole = "url" | "host" | "port" | "password" | "user" | "database" | "other";

const ROLE_SUFFIXES: readonly (readonly [EnvRole, RegExp])[] = [
  // (?<=.): a suffix needs a group before it (URL alone is no role of anything).
  ["url", /(?<=.)_?(URL|URI|DSN|CONNECTION_STRING)$/i],
  ["host", /(?<=.)_?(HOST|HOSTNAME|ADDR|ADDRESS|ENDPOINT|SERVER)$/i],
  ["port", /(?<=.)_?PORT$/i],
  ["password", /(?<=.)_?(PASSWORD|PASSWD|PASS|PWD|AUTH|AUTH_STRING|AUTH_TOKEN|TOKEN|SECRET|SECRET_KEY|API_KEY|PRIVATE_KEY|KEY|CREDENTIALS)$/i],
  ["user", /(?<=.)_?(USER|USERNAME)$/i],
  ["database", /(?<=.)_?(DATABASE|DB_NAME|DBNAME|NAME|DB)$/i],
];

/** A variable's role and its group: the name without the role's suffix (REDIS_HOST → REDIS, PGHOST → PG). */
export function envRole(name: string): { role: EnvRole; group: string } {
  for (const [role, suffix] of ROLE_SUFFIXES) {
    const match = suffix.exec(name);
    if (match && match.index > 0) return { role, group: name.slice(0, match.index).replace(/_$/, "").toUpperCase() };
  }
  return { role: "other", group: name.toUpperCase() };
}

/** Related variables by group, each group's variables by role (the first of a role wins). */
export function groupEnv(facts: readonly EnvFact[]): Map<string, Partial<Record<EnvRole, EnvFact>>> {
  const groups = new Map<string, Partial<Record<EnvRole, EnvFact>>>();
  for (const fact of facts) {
    const { role, group } = envRole(fact.name);
    const entry = groups.get(group) ?? {};
    entry[role] ??= fact;
    groups.set(group, entry);
  }
  return groups;
}

/**
 * A credential as the config may hold it: the app's own secret reference when
 * it has one, else `${VAR}` (the value is never written). `variable` names
 * the variable to export when the credential was a literal.
 */
export function credentialValue(fact: EnvFact | undefined, project: string, fallbackVariable: string): { value: string | { secret: string }; envVar?: string; note: string } {
  if (fact?.source.kind === "secret") return { value: secretReference(fact.source, project), note: `from the app's own secret (${fact.name} → Secret Manager)` };
  const variable = fact?.name ?? fallbackVariable;
  return {
    value: `\${${variable}}`,
    envVar: variable,
    note: fact ? `${fact.name} is a literal on the service: not copied; export ${variable} (better: move it to Secret Manager)` : `the URL carries a literal password: not copied; export ${variable} (better: a Secret Manager secret)`,
  };
}

/** A private address (RFC 1918, unique-local IPv6): reachable only from inside a VPC — the diagnosis's own test. */
export { isPrivateAddress };

/**
 * Whether the service's traffic to `host` goes through its VPC egress (so a
 * check of it depends on the connector): all of it with ALL_TRAFFIC, private
 * ranges with PRIVATE_RANGES_ONLY (the default).
 */
export function throughVpc(host: string, facts: ServiceFacts): boolean {
  if (!facts.network.connector && !facts.network.directVpc?.length) return false;
  return facts.network.egress === "ALL_TRAFFIC" || isPrivateAddress(host);
}
