// Memorystore for Redis instance probe (incidents 1 and 10): the instance must
// be READY, and every key of `expect` is compared with what the API reports —
// each mismatch is listed as expected vs actual (class drift). The measured
// host, port and authEnabled also feed the cross-checks with the `redis`
// check that depends on it (src/evaluate/cross-checks.ts).
import { z } from "zod";
import { preloadApis, withGcp } from "../gcp/clients.js";
import { gcpCheckFields, gcpSettings, measuredResource, regionOf, resourceName, shortName } from "../gcp/resources.js";
import { type MetricValue } from "../diagnose/vocabulary.js";
import { ProbeFailure, type ProbeDefinition } from "./api.js";

const schema = z.strictObject({
  instance: z.string().min(1).meta({ description: "Instance ID (with gcp.project / gcp.region) or projects/P/locations/R/instances/I" }),
  ...gcpCheckFields,
});
type MemorystoreFields = z.infer<typeof schema>;

interface Instance {
  name: string;
  state?: string;
  statusMessage?: string;
  host?: string;
  port?: number;
  tier?: string;
  memorySizeGb?: number;
  redisVersion?: string;
  authEnabled?: boolean;
  transitEncryptionMode?: string;
  readEndpoint?: string;
  readEndpointPort?: number;
  replicaCount?: number;
  readReplicasMode?: string;
  connectMode?: string;
  authorizedNetwork?: string;
  reservedIpRange?: string;
  locationId?: string;
  currentLocationId?: string;
  maintenanceVersion?: string;
}

const STATE_MEANING: Record<string, string> = {
  CREATING: "being created",
  UPDATING: "being updated (scaling, version upgrade or config change)",
  DELETING: "being deleted",
  REPAIRING: "being repaired by Google",
  MAINTENANCE: "in maintenance",
  IMPORTING: "importing an RDB file",
  FAILING_OVER: "failing over to its replica",
  STATE_UNSPECIFIED: "in no reported state",
};

/** States of an operation in progress: polling (--wait) may still see the instance settle. */
const CONVERGING = new Set(["CREATING", "UPDATING", "DELETING", "REPAIRING", "MAINTENANCE", "IMPORTING", "FAILING_OVER"]);

/** Enum values carry their type's prefix in the API; configs use the short form. */
function transitEncryption(mode: string | undefined): string | null {
  if (!mode || mode === "TRANSIT_ENCRYPTION_MODE_UNSPECIFIED") return null;
  return mode;
}

const probe: ProbeDefinition<MemorystoreFields> = {
  kind: "memorystore",
  summary: "Memorystore for Redis instance: state and configuration drift",
  schema,
  metrics: {
    names: [
      "state",
      "instance",
      "host",
      "port",
      "tier",
      "memorySizeGb",
      "redisVersion",
      "authEnabled",
      "transitEncryption",
      "readEndpoint",
      "readEndpointPort",
      "replicaCount",
      "readReplicasMode",
      "connectMode",
      "authorizedNetwork",
      "reservedIpRange",
      "locationId",
      "currentLocationId",
      "maintenanceVersion",
      "converged",
    ],
  },

  target: (spec) => `instance ${spec.instance}${spec.project || spec.region ? ` in ${[spec.project, spec.region].filter(Boolean).join("/")}` : ""}`,

  assertionClass: (metric) => (metric === "state" || metric === "converged" ? "unhealthy" : "drift"),

  hints: {
    drift: (spec, _failure, measurement) => {
      const instance = measuredResource(measurement, "instance", spec.instance);
      return `The instance differs from the expected configuration: compare with gcloud redis instances describe ${shortName(instance)} --region ${regionOf(instance, spec.region)}, then fix the instance (or its Terraform) or update the expectation. Clients configured with the old host/port/password break silently.`;
    },
  },

  prepare: () => preloadApis(["redis"]),

  async run(spec, ctx) {
    const settings = gcpSettings(spec, ctx.deps);
    const name = resourceName("instances", spec.instance, settings);
    const instance = await withGcp(ctx, settings, async (gcp) => {
      await gcp.prepare("redis");
      return ctx.phases.time("getInstance", () => gcp.call<Instance>("redis", "GetInstance", { name }));
    });
    const metrics: Record<string, MetricValue> = {
      state: instance.state ?? "STATE_UNSPECIFIED",
      instance: instance.name || name,
      host: instance.host || null,
      port: instance.port ?? null,
      tier: instance.tier ?? null,
      memorySizeGb: instance.memorySizeGb ?? null,
      redisVersion: instance.redisVersion || null,
      authEnabled: instance.authEnabled ?? false,
      transitEncryption: transitEncryption(instance.transitEncryptionMode),
      readEndpoint: instance.readEndpoint || null,
      readEndpointPort: instance.readEndpointPort || null,
      replicaCount: instance.replicaCount ?? 0,
      readReplicasMode: instance.readReplicasMode || null,
      connectMode: instance.connectMode || null,
      authorizedNetwork: instance.authorizedNetwork || null,
      reservedIpRange: instance.reservedIpRange || null,
      locationId: instance.locationId || null,
      currentLocationId: instance.currentLocationId || null,
      maintenanceVersion: instance.maintenanceVersion || null,
      // Read by --wait to tell "never converged" from "converged but broken".
      converged: !instance.state || instance.state === "STATE_UNSPECIFIED" ? null : !CONVERGING.has(instance.state),
    };
    if (metrics.state !== "READY") {
      const region = name.split("/")[3];
      const status = instance.statusMessage ? `: ${instance.statusMessage}` : "";
      throw new ProbeFailure(
        "unhealthy",
        `instance ${shortName(name)} is ${metrics.state} (${STATE_MEANING[String(metrics.state)] ?? "not serving normally"}), not READY${status}`,
        {
          code: String(metrics.state),
          metrics,
          hint: `Clients may see errors or failovers until it is READY again: follow the operation (gcloud redis operations list --region ${region}) and re-run, or use --wait.`,
        },
      );
    }
    return { phasesMs: {}, metrics };
  },

  oneOff: {
    command: "memorystore",
    argument: "<instance>",
    description: "Check a Memorystore for Redis instance once: state READY and configuration (--expect host=…, tier=…)",
    options: [
      { flags: "--project <project>", description: "Google Cloud project (or give projects/P/locations/R/instances/I)" },
      { flags: "--region <region>", description: "region of the instance" },
      { flags: "--emulator-host <host:port>", description: "talk plaintext gRPC to a local API emulator (default: $INFRA_CHECK_GCP_EMULATOR_HOST)" },
      { flags: "--host <ip>", description: "expected host (IP address)" },
      { flags: "--port <port>", description: "expected port" },
      { flags: "--tier <tier>", description: "expected tier: BASIC | STANDARD_HA" },
      { flags: "--redis-version <version>", description: "expected version, e.g. REDIS_7_2" },
      { flags: "--memory-size-gb <gb>", description: "expected capacity in GB" },
      { flags: "--auth-enabled <bool>", description: "expected AUTH setting: true | false" },
    ],
    examples: [
      "infra-check memorystore staging-redis-f1adc35c --project acme-staging --region us-central1 --tier BASIC --redis-version REDIS_7_2",
      "infra-check memorystore staging-redis-f1adc35c --project acme-staging --region us-central1 --expect host=10.166.204.83 --expect authEnabled=true",
    ],
    toRawCheck(instance, options) {
      const expect: Record<string, unknown> = {};
      if (options.host) expect.host = options.host;
      if (options.port) expect.port = options.port;
      if (options.tier) expect.tier = String(options.tier).toUpperCase();
      if (options.redisVersion) expect.redisVersion = String(options.redisVersion).toUpperCase();
      if (options.memorySizeGb) expect.memorySizeGb = options.memorySizeGb;
      if (options.authEnabled !== undefined) expect.authEnabled = options.authEnabled;
      return {
        kind: "memorystore",
        instance,
        ...(options.project ? { project: options.project } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.emulatorHost ? { emulatorHost: options.emulatorHost } : {}),
        ...(Object.keys(expect).length ? { expect } : {}),
      };
    },
  },
};

export default probe;
