// Google Cloud settings and resource names, shared by the Google kinds and
// the secret resolver. Pure: importing this file loads no Google library
// (only src/gcp/session.ts does, lazily).
import { z } from "zod";
import { failure } from "../diagnose/catalogue.js";
import type { Measurement, ProbeDeps } from "../probes/api.js";
import { GCP } from "./diagnose.js";

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

/** Two names for the same resource, either may be short or full: equal when both full names match, else by last segment. */
export function sameResource(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  if (a.includes("/") && b.includes("/")) return a === b;
  return shortName(a) === shortName(b);
}

