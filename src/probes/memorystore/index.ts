// kind: memorystore — the instance must be READY (the default expectation
// state == READY, worded with what the state means), and every key of
// `expect` is compared with what the API reports: each mismatch listed as
// expected vs actual (drift). The measured host, port and authEnabled also
// feed the relations of a `redis` check that depends on it.
import { z } from "zod";
import { defineCatalogue, explanationOf } from "../../diagnose/catalogue.js";
import type { MetricValue } from "../../diagnose/vocabulary.js";
import { parseExpectation } from "../../evaluate/expectations.js";
import { gcpCheckFields, gcpOneOffFields, gcpOneOffOptions, gcpSettings, measuredResource, regionOf, resourceName, shortName } from "../../gcp/resources.js";
import { preloadApis, withGcp } from "../../gcp/session.js";
import type { MetricInfo, ProbeDefinition } from "../api.js";
import { MONITORING } from "../shared/monitoring.js";
import { MEMORYSTORE, MEMORYSTORE_INSTANCES } from "./api.js";
import { AUTH_STRING } from "./auth-string.js";
import { SERVER_CA } from "./server-ca.js";

const schema = z.strictObject({
  instance: z.string().min(1).meta({ description: "Instance ID (with gcp.project / gcp.region) or projects/P/locations/R/instances/I" }),
  ...gcpCheckFields,
});
type MemorystoreFields = z.infer<typeof schema>;

interface Instance {
  name: string;
  /** Runtime shape: timestamps as { seconds, nanos }. */
  serverCaCerts?: { cert?: string; expireTime?: { seconds?: string | number } | null }[];
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

export const MEMORYSTORE_STATE = defineCatalogue("memorystore", {
  NOT_READY: {
    class: "unhealthy",
    code: (f: { state: string }) => f.state,
    message: (f: { id: string; state: string; meaning: string; status: string }) => `instance ${f.id} is ${f.state} (${f.meaning}), not READY${f.status}`,
    hint: (f: { region: string }) =>
      `Clients may see errors or failovers until it is READY again: follow the operation (gcloud redis operations list --region ${f.region}) and re-run, or use --wait.`,
  },
});

const DAY_MS = 24 * 60 * 60 * 1000;

function serverCaMetrics(instance: Instance): Record<string, MetricValue> {
  const certs = instance.serverCaCerts ?? [];
  const expiries = certs.map((cert) => Number(cert.expireTime?.seconds ?? NaN) * 1000).filter((ms) => Number.isFinite(ms));
  return {
    caExpiresInDays: expiries.length ? Math.floor((Math.min(...expiries) - Date.now()) / DAY_MS) : null,
    serverCaCount: certs.length,
  };
}

/** Enum values carry their type's prefix in the API; configs use the short form. */
function transitEncryption(mode: string | undefined): string | null {
  if (!mode || mode === "TRANSIT_ENCRYPTION_MODE_UNSPECIFIED") return null;
  return mode;
}

const drift = { class: "drift" } as const;
const stateMetric: MetricInfo<MemorystoreFields> = {
  class: "unhealthy",
  description: "READY, or the operation in progress (CREATING, UPDATING, MAINTENANCE, FAILING_OVER, …)",
  explain(actual, _expectation, measurement, spec) {
    const instance = measuredResource(measurement, "instance", spec.instance);
    const state = String(actual ?? "STATE_UNSPECIFIED");
    const statusMessage = measurement.metrics.statusMessage;
    return explanationOf(MEMORYSTORE_STATE.NOT_READY, {
      id: shortName(instance),
      state,
      meaning: STATE_MEANING[state] ?? "not serving normally",
      status: typeof statusMessage === "string" && statusMessage ? `: ${statusMessage}` : "",
      region: regionOf(instance, spec.region),
    });
  },
};

const probe: ProbeDefinition<MemorystoreFields> = {
  kind: "memorystore",
  summary: "Memorystore for Redis instance: state and configuration drift",
  schema,
  metrics: {
    state: stateMetric,
    statusMessage: { class: "unhealthy", description: "the API's status message for the state" },
    instance: { ...drift, description: "the instance's full resource name" },
    host: { ...drift, description: "primary endpoint IP" },
    port: { ...drift, description: "primary endpoint port" },
    tier: { ...drift, description: "BASIC or STANDARD_HA" },
    memorySizeGb: { ...drift, description: "capacity in GB" },
    redisVersion: { ...drift, description: "e.g. REDIS_7_2" },
    authEnabled: { ...drift, description: "AUTH required" },
    transitEncryption: { ...drift, description: "DISABLED or SERVER_AUTHENTICATION" },
    readEndpoint: { ...drift, description: "read replicas' endpoint IP" },
    readEndpointPort: { ...drift, description: "read replicas' endpoint port" },
    replicaCount: { ...drift, description: "read replicas" },
    readReplicasMode: { ...drift, description: "READ_REPLICAS_ENABLED or DISABLED" },
    connectMode: { ...drift, description: "DIRECT_PEERING or PRIVATE_SERVICE_ACCESS" },
    authorizedNetwork: { ...drift, description: "the VPC network clients connect from" },
    reservedIpRange: { ...drift, description: "the instance's IP range" },
    locationId: { ...drift, description: "zone of the primary" },
    currentLocationId: { ...drift, description: "zone currently serving" },
    maintenanceVersion: { ...drift, description: "maintenance version" },
    converged: { class: "unhealthy", description: "no operation in progress" },
    caExpiresInDays: {
      class: "unhealthy",
      description:
        "days until the soonest-expiring server CA of an instance with transit encryption expires (clients trusting only that CA break then; the API rotates CAs: re-read them with tls.ca.memorystoreCa); null without TLS",
    },
    serverCaCount: { ...drift, description: "server CA certificates the instance reports (two during a rotation)" },
  },
  defaultExpect: () => ({ state: parseExpectation("READY") }),
  diagnosis: {
    service: "the Memorystore API",
    catalogue: { ...MEMORYSTORE_STATE, ...AUTH_STRING, ...SERVER_CA },
    hints: {
      drift: (spec, _failure, measurement) => {
        const instance = measuredResource(measurement, "instance", spec.instance);
        return `The instance differs from the expected configuration: compare with gcloud redis instances describe ${shortName(instance)} --region ${regionOf(instance, spec.region)}, then fix the instance (or its Terraform) or update the expectation. Clients configured with the old host/port/password break silently.`;
      },
    },
  },
  target: (spec) => `instance ${spec.instance}${spec.project || spec.region ? ` in ${[spec.project, spec.region].filter(Boolean).join("/")}` : ""}`,
  // Monitoring too: a dependent redis check's evidence (slow, timeout) must not pay for a cold client within its budget.
  prepare: () => preloadApis([MEMORYSTORE, MONITORING]),

  async run(spec, ctx) {
    const settings = gcpSettings(spec, ctx.deps);
    const name = resourceName(MEMORYSTORE_INSTANCES, spec.instance, settings);
    const instance = await withGcp(ctx, settings, async (gcp) => {
      await gcp.prepare(MEMORYSTORE);
      return ctx.phases.time("getInstance", () => gcp.call<Instance>(MEMORYSTORE, "GetInstance", { name }));
    });
    Object.assign(ctx.metrics, {
      state: instance.state ?? "STATE_UNSPECIFIED",
      ...(instance.statusMessage ? { statusMessage: instance.statusMessage } : {}),
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
      ...serverCaMetrics(instance),
      // Read by --wait to tell "never converged" from "converged but broken".
      converged: !instance.state || instance.state === "STATE_UNSPECIFIED" ? null : !CONVERGING.has(instance.state),
    } satisfies Record<string, MetricValue>);
  },

  oneOff: {
    command: "memorystore",
    argument: "<instance>",
    forms: ["INSTANCE --project PROJECT --region REGION", "projects/PROJECT/locations/REGION/instances/INSTANCE"],
    description: "Check a Memorystore for Redis instance once: state READY and configuration (--expect host=…, tier=…)",
    options: [
      ...gcpOneOffOptions(MEMORYSTORE_INSTANCES),
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
    toRawCheck(instance, options, env) {
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
        ...gcpOneOffFields(MEMORYSTORE_INSTANCES, instance, options, env),
        ...(Object.keys(expect).length ? { expect } : {}),
      };
    },
  },
};

export default probe;
