// Google Cloud settings and resource names, shared by the Google probes, the
// secret resolver, the gRPC classifier and the emulator. Pure: importing this
// file loads no Google library (only src/gcp/clients.ts does, lazily).
import { z } from "zod";
import { ProbeFailure, type Measurement, type ProbeDeps } from "../probes/api.js";

/** The environment variable that points every Google client at a local emulator (like PUBSUB_EMULATOR_HOST). */
export const EMULATOR_ENV = "INFRA_CHECK_GCP_EMULATOR_HOST";

/** The top-level `gcp:` block as the runner passes it to probes (ProbeContext.deps.gcp). */
export interface GcpConfig {
  project?: string;
  region?: string;
  emulatorHost?: string;
  apiEndpoint?: string;
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
  /** host[:port]: TLS + Application Default Credentials (private endpoints). */
  apiEndpoint?: string;
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
  };
}

/** `host:port` / `[::1]:port` → parts; throws a config failure naming the setting. */
export function splitHostPort(value: string, what: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^\s:/\[\]]+))(?::(\d{1,5}))?$/.exec(value.trim());
  const port = match?.[3] !== undefined ? Number(match[3]) : undefined;
  if (!match || (port !== undefined && (port < 1 || port > 65535))) {
    throw new ProbeFailure("config", `${what} "${value}" is not host:port`, { hint: `Write ${what} as host:port, e.g. 127.0.0.1:8085.` });
  }
  return { host: match[1] ?? match[2], port: port ?? 443 };
}

export type GcpCollection = "services" | "connectors" | "instances";

const COLLECTION_NOUN: Record<GcpCollection, string> = {
  services: "Cloud Run service",
  connectors: "VPC connector",
  instances: "Memorystore instance",
};

/**
 * `backend` → projects/P/locations/R/services/backend; a full resource name is
 * kept as is (it wins over gcp.project / gcp.region).
 */
export function resourceName(collection: GcpCollection, id: string, settings: GcpSettings): string {
  if (id.startsWith("projects/")) {
    const pattern = new RegExp(`^projects/[^/]+/locations/[^/]+/${collection}/[^/]+$`);
    if (!pattern.test(id)) {
      throw new ProbeFailure("config", `"${id}" is not a ${COLLECTION_NOUN[collection]} name (projects/PROJECT/locations/REGION/${collection}/NAME)`, {
        hint: `Give the short name with gcp.project and gcp.region set, or the full resource name.`,
      });
    }
    return id;
  }
  if (id.includes("/")) {
    throw new ProbeFailure("config", `"${id}" is neither a ${COLLECTION_NOUN[collection]} name nor a full resource name`, {
      hint: `Use the short name (e.g. "my-${collection.slice(0, -1)}") or projects/PROJECT/locations/REGION/${collection}/NAME.`,
    });
  }
  const missing = [!settings.project && "project", !settings.region && "region"].filter(Boolean) as string[];
  if (missing.length) {
    throw new ProbeFailure("config", `no Google Cloud ${missing.join(" or ")} for ${COLLECTION_NOUN[collection]} "${id}"`, {
      hint: `Set ${missing.map((key) => `gcp.${key}`).join(" and ")} at the top of the config (or ${missing.join("/")} on the check, or --${missing.join(" --")} on a one-off command), or give the full resource name.`,
    });
  }
  return `projects/${settings.project}/locations/${settings.region}/${collection}/${id}`;
}

/** Secret Manager: `projects/P/secrets/S` → …/versions/latest; a bare `S` uses gcp.project. */
export function secretVersionName(ref: string, settings: GcpSettings): string {
  let name = ref.trim();
  if (!name.startsWith("projects/")) {
    if (name.includes("/")) {
      throw new ProbeFailure("config", `secret reference "${ref}" is not a secret name`, {
        hint: "Write { secret: projects/PROJECT/secrets/NAME } (latest version) or …/versions/N, or a bare NAME with gcp.project set.",
      });
    }
    if (!settings.project) {
      throw new ProbeFailure("config", `secret reference "${ref}" has no project`, {
        hint: "Write the full name projects/PROJECT/secrets/NAME, or set gcp.project in the config.",
      });
    }
    name = `projects/${settings.project}/secrets/${name}`;
  }
  if (/^projects\/[^/]+\/(locations\/[^/]+\/)?secrets\/[^/]+$/.test(name)) return `${name}/versions/latest`;
  if (/^projects\/[^/]+\/(locations\/[^/]+\/)?secrets\/[^/]+\/versions\/[^/]+$/.test(name)) return name;
  throw new ProbeFailure("config", `secret reference "${ref}" is not projects/PROJECT/secrets/NAME[/versions/VERSION]`, {
    hint: "Copy the name from `gcloud secrets describe NAME --format='value(name)'`.",
  });
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

/** Two names for the same resource, either may be short or full: equal when both full names match, else by last segment. */
export function sameResource(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  if (a.includes("/") && b.includes("/")) return a === b;
  return shortName(a) === shortName(b);
}

/**
 * What clients.ts attaches to an error from a Google API call, so the classifier
 * can name the API, the resource, the endpoint and the IAM role without parsing text.
 */
export interface GcpCallInfo {
  /** "Cloud Run", "Secret Manager", … */
  api: string;
  /** RPC name, e.g. GetService. */
  method: string;
  /** The resource asked for. */
  resource: string;
  /** host:port the client talked to. */
  endpoint: string;
  /** emulator (plaintext, no credentials), endpoint (gcp.apiEndpoint), default (googleapis.com). */
  mode: "emulator" | "endpoint" | "default";
  /** The IAM permission the call needs (used when the error does not carry one). */
  permission: string;
  /** The server's error text (gRPC status details). */
  details?: string;
}

export const GCP_CALL = Symbol.for("infra-check.gcpCall");

export function gcpCallOf(error: unknown): GcpCallInfo | undefined {
  if (error === null || typeof error !== "object") return undefined;
  return (error as { [GCP_CALL]?: GcpCallInfo })[GCP_CALL];
}

/** The predefined role to grant for a permission (what an operator actually types in `gcloud ... add-iam-policy-binding`). */
export function roleForPermission(permission: string): string {
  if (permission === "secretmanager.versions.access") return "roles/secretmanager.secretAccessor";
  if (permission === "redis.instances.getAuthString") return "roles/redis.editor";
  if (permission.startsWith("run.")) return "roles/run.viewer";
  if (permission.startsWith("vpcaccess.")) return "roles/vpcaccess.viewer";
  if (permission.startsWith("redis.")) return "roles/redis.viewer";
  if (permission.startsWith("secretmanager.")) return "roles/secretmanager.viewer";
  return "a role that includes " + permission;
}
