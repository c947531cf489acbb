// Google Cloud settings and resource names, shared by the Google kinds and
// the secret resolver. Pure: importing this file loads no Google library
// (only src/gcp/session.ts does, lazily).
import { z } from "zod";
import { failure } from "../diagnose/catalogue.js";
import type { Measurement, OneOffOption, ProbeDeps } from "../probes/api.js";
import { ConfigError } from "../util/errors.js";
import { GCP } from "./diagnose.js";

/** The environment variable that points every Google client at a local emulator (like PUBSUB_EMULATOR_HOST). */
export const EMULATOR_ENV = "INFRA_CHECK_GCP_EMULATOR_HOST";

/** The top-level `gcp:` block as the runner passes it to probes (ProbeContext.deps.gcp). */
export interface GcpConfig {
  project?: string;
  region?: string;
  emulatorHost?: string;
  apiEndpoint?: string;
  apiEndpoints?: Record<string, string>;
}

/** Per-check overrides every Google kind accepts (a connector in a Shared-VPC host project, one-off flags). */
export const gcpCheckFields = {
  project: z.string().min(1).optional().meta({ description: "Google Cloud project (default: gcp.project)" }),
  region: z.string().min(1).optional().meta({ description: "Region (default: gcp.region)" }),
  emulatorHost: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^\s:/]+):\d{1,5}$/, "expected host:port")
    .optional()
    .meta({ description: "host:port of a local API emulator (plaintext gRPC, no credentials); default: gcp.emulatorHost / $INFRA_CHECK_GCP_EMULATOR_HOST" }),
};

export interface GcpCheckOverrides {
  project?: string;
  region?: string;
  emulatorHost?: string;
}

/** Where and how the clients of one check connect. */
export interface GcpSettings {
  project?: string;
  region?: string;
  /** host:port: plaintext gRPC, no credentials. */
  emulatorHost?: string;
  /** host[:port]: TLS + Application Default Credentials (private endpoints), for every API. */
  apiEndpoint?: string;
  /** Per API (service name or default host → host[:port]); wins over apiEndpoint. */
  apiEndpoints?: Record<string, string>;
}

/**
 * Precedence: the check's own fields, then $INFRA_CHECK_GCP_EMULATOR_HOST (a
 * run-time override, as Google's emulators use), then the config's `gcp:` block.
 */
export function gcpSettings(overrides: GcpCheckOverrides, deps: ProbeDeps): GcpSettings {
  const config = (deps.gcp ?? {}) as GcpConfig;
  // The command's environment (execute.ts passes io.env); the process's when a caller passes none.
  const env = (deps.env ?? process.env) as NodeJS.ProcessEnv;
  const emulatorHost = overrides.emulatorHost ?? (env[EMULATOR_ENV] || undefined) ?? config.emulatorHost;
  return {
    project: overrides.project ?? config.project,
    region: overrides.region ?? config.region,
    ...(emulatorHost ? { emulatorHost } : {}),
    ...(!emulatorHost && config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}),
    ...(!emulatorHost && config.apiEndpoints ? { apiEndpoints: config.apiEndpoints } : {}),
  };
}

/** `host:port` / `[::1]:port` → parts; throws a config failure naming the setting. */
export function splitHostPort(value: string, what: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^\s:/\[\]]+))(?::(\d{1,5}))?$/.exec(value.trim());
  const port = match?.[3] !== undefined ? Number(match[3]) : undefined;
  if (!match || (port !== undefined && (port < 1 || port > 65535))) {
    throw failure(GCP.BAD_HOST_PORT, { what, value });
  }
  return { host: match[1] ?? match[2], port: port ?? 443 };
}

/** A kind's resource collection: its path segment and what to call one in messages. */
export interface GcpCollection {
  collection: string;
  noun: string;
}

/**
 * `backend` → projects/P/locations/R/services/backend; a full resource name is
 * kept as is (it wins over gcp.project / gcp.region).
 */
export function resourceName({ collection, noun }: GcpCollection, id: string, settings: GcpSettings): string {
  if (id.startsWith("projects/")) {
    const pattern = new RegExp(`^projects/[^/]+/locations/[^/]+/${collection}/[^/]+$`);
    if (!pattern.test(id)) throw failure(GCP.NOT_A_RESOURCE_NAME, { id, noun, collection });
    return id;
  }
  if (id.includes("/")) throw failure(GCP.NEITHER_NAME, { id, noun, collection });
  const missing = [!settings.project && "project", !settings.region && "region"].filter(Boolean) as string[];
  if (missing.length) throw failure(GCP.NO_PROJECT_OR_REGION, { id, noun, missing });
  return `projects/${settings.project}/locations/${settings.region}/${collection}/${id}`;
}

/**
 * The full resource name a check measured (its `metric`, e.g. `connector`),
 * else the name as configured. Hints see the spec, where a short name's
 * project and region may come from the config's `gcp:` block instead.
 */
export function measuredResource(measurement: Measurement | undefined, metric: string, configured: string): string {
  const value = measurement?.metrics[metric];
  return typeof value === "string" && value.startsWith("projects/") ? value : configured;
}

/** The region for a command in a hint: from a full resource name, the check's own region, else a placeholder. */
export function regionOf(id: string, region: string | undefined): string {
  return /^projects\/[^/]+\/locations\/([^/]+)\//.exec(id)?.[1] ?? region ?? "REGION";
}

/** Last segment of a resource name (`projects/p/locations/r/connectors/c` → `c`). */
export function shortName(name: string | null | undefined): string {
  if (!name) return "";
  const parts = name.split("/");
  return parts[parts.length - 1];
}

/**
 * Two names for the same resource, either may be short or full. Full names
 * are compared by what they name — location, collection, id — and project,
 * where a project number (as API responses often name it) equals any id: the
 * resource was reported by, or configured for, a project this check reads.
 */
export function sameResource(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  if (a.includes("/") && b.includes("/")) {
    const [x, y] = [projectAndRest(a), projectAndRest(b)];
    if (!x || !y) return a === b;
    return x.rest === y.rest && (x.project === y.project || isProjectNumber(x.project) || isProjectNumber(y.project));
  }
  return shortName(a) === shortName(b);
}

/** A project number (123456789012), as opposed to a project id (ids start with a letter). */
export function isProjectNumber(project: string | undefined): boolean {
  return project !== undefined && /^\d+$/.test(project);
}

function projectAndRest(name: string): { project: string; rest: string } | undefined {
  const match = /^projects\/([^/]+)(\/.*)?$/.exec(name);
  return match ? { project: match[1], rest: match[2] ?? "" } : undefined;
}

/** A full name with its project number replaced by the configured project id (names in reports and hints read as configured). */
export function withProjectId(name: string, project: string | undefined): string {
  if (!project) return name;
  return name.replace(/^projects\/(\d+)(?=\/|$)/, `projects/${project}`);
}

/**
 * Where a one-off's project comes from when --project is not given, first
 * set wins: Google's client libraries read the first, gcloud the second (so
 * a shell set up for either already names the project).
 */
export const PROJECT_VARIABLES = ["GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"] as const;
/**
 * …and the region when --region is not: Cloud Run's gcloud default. A
 * service's connector is in its region and its Memorystore instance usually
 * is, so one variable serves all three one-offs.
 */
export const REGION_VARIABLES = ["CLOUDSDK_RUN_REGION"] as const;

const firstSet = (env: NodeJS.ProcessEnv, names: readonly string[]) => names.map((name) => env[name]).find((value) => value !== undefined && value !== "");
const variables = (names: readonly string[]) => names.map((name) => `$${name}`).join(", else ");

/** The --project, --region and --emulator-host flags of a Google kind's one-off command. */
export function gcpOneOffOptions({ collection, noun }: GcpCollection): OneOffOption[] {
  return [
    { flags: "--project <project>", description: `Google Cloud project (default: ${variables(PROJECT_VARIABLES)}); or give projects/P/locations/R/${collection}/NAME` },
    { flags: "--region <region>", description: `region of the ${noun} (default: ${variables(REGION_VARIABLES)})` },
    { flags: "--emulator-host <host:port>", description: `talk plaintext gRPC to a local API emulator (default: $${EMULATOR_ENV})` },
  ];
}

/**
 * A one-off's project, region and emulator (flags win over the environment)
 * as the check's fields. A short name without a project or region is a usage
 * error (exit 2) naming the flag and the variables, before anything runs; a
 * full resource name needs neither.
 */
export function gcpOneOffFields(where: GcpCollection, id: string, options: Record<string, unknown>, env: NodeJS.ProcessEnv): GcpCheckOverrides {
  const flag = (name: string) => (typeof options[name] === "string" && options[name] !== "" ? (options[name] as string) : undefined);
  const fullName = id.includes("/");
  const project = flag("project") ?? (fullName ? undefined : firstSet(env, PROJECT_VARIABLES));
  const region = flag("region") ?? (fullName ? undefined : firstSet(env, REGION_VARIABLES));
  const emulatorHost = flag("emulatorHost");
  if (!fullName && (!project || !region)) {
    const setters = [
      !project && `--project PROJECT or set ${PROJECT_VARIABLES[0]} (or ${PROJECT_VARIABLES.slice(1).join(", ")})`,
      !region && `--region REGION or set ${REGION_VARIABLES.join(" or ")}`,
    ].filter(Boolean);
    const missing = [!project && "project", !region && "region"].filter(Boolean).join(" or ");
    throw new ConfigError(
      `no Google Cloud ${missing} for ${where.noun} "${id}": pass ${setters.join(", and ")}; or give the full name projects/PROJECT/locations/REGION/${where.collection}/${id}`,
    );
  }
  return { ...(project ? { project } : {}), ...(region ? { region } : {}), ...(emulatorHost ? { emulatorHost } : {}) };
}
