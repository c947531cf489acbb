// kind: cloud-sql — a Cloud SQL instance as the Admin API reports it
// (SqlInstancesService.Get). Healthy is state RUNNABLE *and* activationPolicy
// ALWAYS (a stopped instance is still RUNNABLE to the API), and no
// out-of-disk report: three default expectations, each worded in Cloud SQL's
// terms. Every key of `expect` (tier, version, disk, IP type, SSL mode,
// connector enforcement, database flags) is compared with what the API
// reports; every mismatch listed (drift). A postgres check through the
// connector that depends on this check reads its metrics (relations owned by
// the postgres kind).
import { z } from "zod";
import { defineCatalogue, explanationOf } from "../../diagnose/catalogue.js";
import type { Assertion, MetricValue } from "../../diagnose/vocabulary.js";
import { parseExpectation, satisfies } from "../../evaluate/expectations.js";
import { gcpCheckFields, gcpSettings } from "../../gcp/resources.js";
import { preloadApis, withGcp } from "../../gcp/session.js";
import type { CheckSpec, Measurement, MetricInfo, ProbeDefinition } from "../api.js";
import { MONITORING } from "../shared/monitoring.js";
import { CLOUD_SQL, instanceParts } from "./api.js";
import { cloudSqlOneOff } from "./cli.js";
import { CLOUD_SQL_CONFIG, cloudSqlInstance, instanceSchema } from "./config.js";

const schema = z.strictObject({
  instance: instanceSchema,
  ...gcpCheckFields,
  require: z
    .strictObject({
      flags: z
        .record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]).transform(String))
        .optional()
        .meta({ description: "database flags and their values, e.g. { max_connections: \"200\" } (also: expect: { flags.max_connections: \"200\" })" }),
    })
    .optional()
    .meta({ description: "structured expectations; written under expect: too" }),
});
type CloudSqlFields = z.infer<typeof schema>;
type CloudSqlSpec = CheckSpec<CloudSqlFields>;

/** Wrapper types (Int64Value, BoolValue) arrive as { value } objects, unset ones as null. */
type Wrapped<T> = { value?: T | null } | null | undefined;
interface Instance {
  name?: string;
  connectionName?: string;
  state?: string;
  databaseVersion?: string;
  suspensionReason?: string[];
  region?: string;
  gceZone?: string;
  backendType?: string;
  instanceType?: string;
  ipAddresses?: { type?: string; ipAddress?: string }[];
  serverCaCert?: { expirationTime?: { seconds?: string | number | null } | null } | null;
  scheduledMaintenance?: { startTime?: { seconds?: string | number | null } | null } | null;
  outOfDiskReport?: { sqlOutOfDiskState?: string | null; sqlMinRecommendedIncreaseSizeGb?: number | null } | null;
  maintenanceVersion?: string;
  settings?: {
    tier?: string;
    availabilityType?: string;
    activationPolicy?: string;
    dataDiskType?: string;
    dataDiskSizeGb?: Wrapped<string | number>;
    storageAutoResize?: Wrapped<boolean>;
    storageAutoResizeLimit?: Wrapped<string | number>;
    edition?: string;
    connectorEnforcement?: string;
    ipConfiguration?: {
      ipv4Enabled?: Wrapped<boolean>;
      privateNetwork?: string;
      sslMode?: string;
      requireSsl?: Wrapped<boolean>;
      pscConfig?: { pscEnabled?: boolean | null } | null;
    } | null;
    databaseFlags?: { name?: string; value?: string }[];
  } | null;
}

const STATE_MEANING: Record<string, string> = {
  SUSPENDED: "suspended by Google",
  PENDING_DELETE: "being deleted",
  PENDING_CREATE: "being created",
  MAINTENANCE: "in maintenance (an update or scheduled maintenance is running; connections are refused or dropped)",
  FAILED: "failed to be created",
  ONLINE_MAINTENANCE: "in online maintenance",
  REPAIRING: "being repaired by Google",
  SQL_INSTANCE_STATE_UNSPECIFIED: "in no reported state",
};
const SUSPENSION_MEANING: Record<string, string> = {
  BILLING_ISSUE: "a billing problem (the billing account is closed or unpaid)",
  LEGAL_ISSUE: "a legal issue",
  OPERATIONAL_ISSUE: "an operational issue Google is handling",
  KMS_KEY_ISSUE: "its customer-managed encryption key is disabled, destroyed or not accessible",
  PROJECT_ABUSE: "abuse detected in the project",
};
/** An operation in progress: polling (--wait) may still see it settle. */
const CONVERGING = new Set(["PENDING_CREATE", "PENDING_DELETE", "MAINTENANCE", "ONLINE_MAINTENANCE", "REPAIRING"]);

interface StateFacts {
  id: string;
  project: string;
}
const describe = (f: StateFacts) => `gcloud sql instances describe ${f.id} --project ${f.project}`;

export const CLOUD_SQL_STATE = defineCatalogue("cloudsql", {
  NOT_RUNNABLE: {
    class: "unhealthy",
    code: (f: { state: string }) => f.state,
    message: (f: StateFacts & { state: string; meaning: string }) => `Cloud SQL instance ${f.id} is ${f.state} (${f.meaning}), not RUNNABLE`,
    hint: (f: StateFacts & { state: string }) =>
      f.state === "SUSPENDED"
        ? `Suspensions are lifted by fixing their cause (billing, the KMS key, a support case); see ${describe(f)} and the project's billing page.`
        : f.state === "FAILED"
          ? `Inspect the failed operation (gcloud sql operations list --instance ${f.id} --project ${f.project}); the instance has to be recreated.`
          : `Follow the operation (gcloud sql operations list --instance ${f.id} --project ${f.project}) and re-run when it is RUNNABLE, or use --wait.`,
  },
  STOPPED: {
    class: "unhealthy",
    code: "STOPPED",
    message: (f: StateFacts & { policy: string }) => `Cloud SQL instance ${f.id} is stopped (activationPolicy ${f.policy}): the API says RUNNABLE, but it serves no connections`,
    hint: (f: StateFacts) => `Someone stopped it (the console's Stop, or --activation-policy NEVER): start it with gcloud sql instances patch ${f.id} --activation-policy ALWAYS --project ${f.project}.`,
  },
  OUT_OF_DISK: {
    class: "unhealthy",
    code: (f: { diskState: string }) => f.diskState,
    message: (f: StateFacts & { diskState: string; size: string }) =>
      `Cloud SQL instance ${f.id} ran out of disk (${f.diskState}${f.size}): it no longer accepts writes`,
    hint: (f: StateFacts & { increase: string }) =>
      `Grow the disk (gcloud sql instances patch ${f.id} --storage-size SIZE --project ${f.project}${f.increase}) and enable automatic storage increases (--storage-auto-increase).`,
  },
});

function instanceOf(measurement: Measurement, spec: CloudSqlSpec): StateFacts {
  const measured = measurement.metrics.instance;
  if (typeof measured === "string" && measured.startsWith("projects/")) return instanceParts(measured);
  const match = /^([^:]+(?::[^:]+)?):[^:]+:([^:]+)$/.exec(spec.instance);
  return match ? { project: match[1], id: match[2] } : { project: spec.project ?? "PROJECT", id: spec.instance };
}

const unwrap = <T>(wrapped: Wrapped<T>): T | null => (wrapped && wrapped.value !== undefined ? (wrapped.value ?? null) : null);
const toNumber = (value: string | number | null): number | null => (value === null || value === "" ? null : Number(value));
const secondsOf = (timestamp: { seconds?: string | number | null } | null | undefined): number | null =>
  timestamp?.seconds === undefined || timestamp.seconds === null ? null : Number(timestamp.seconds);

/** The instance's IP type in one word: PRIVATE (only a private IP), PUBLIC (only a public one), PUBLIC_AND_PRIVATE, or null (none). */
function ipTypeOf(addresses: { type?: string }[]): string | null {
  const types = new Set(addresses.map((address) => address.type));
  const isPublic = types.has("PRIMARY");
  const isPrivate = types.has("PRIVATE");
  return isPublic && isPrivate ? "PUBLIC_AND_PRIVATE" : isPublic ? "PUBLIC" : isPrivate ? "PRIVATE" : null;
}

const drift = { class: "drift" } as const;
const stateMetric: MetricInfo<CloudSqlFields> = {
  class: "unhealthy",
  description: "RUNNABLE, or MAINTENANCE, SUSPENDED, FAILED, PENDING_CREATE, PENDING_DELETE, REPAIRING",
  explain(actual, _expectation, measurement, spec) {
    const state = String(actual ?? "SQL_INSTANCE_STATE_UNSPECIFIED");
    const reasons = Array.isArray(measurement.metrics.suspensionReason) ? (measurement.metrics.suspensionReason as string[]) : [];
    const meaning =
      state === "SUSPENDED" && reasons.length
        ? `suspended by Google because of ${reasons.map((reason) => SUSPENSION_MEANING[reason] ?? reason).join(" and ")}`
        : (STATE_MEANING[state] ?? "not serving normally");
    return explanationOf(CLOUD_SQL_STATE.NOT_RUNNABLE, { ...instanceOf(measurement, spec), state, meaning });
  },
};

const probe: ProbeDefinition<CloudSqlFields> = {
  kind: "cloud-sql",
  summary: "Cloud SQL instance: state (RUNNABLE and not stopped), disk, and configuration drift",
  schema,
  metrics: {
    state: stateMetric,
    activationPolicy: {
      class: "unhealthy",
      description: "ALWAYS (running) or NEVER (stopped by its owner)",
      explain: (actual, _expectation, measurement, spec) => explanationOf(CLOUD_SQL_STATE.STOPPED, { ...instanceOf(measurement, spec), policy: String(actual) }),
    },
    suspensionReason: { class: "unhealthy", description: "why a SUSPENDED instance is suspended (BILLING_ISSUE, KMS_KEY_ISSUE, …)" },
    outOfDisk: {
      class: "unhealthy",
      description: "Cloud SQL reports the disk full (SOFT_SHUTDOWN: writes refused)",
      explain: (_actual, _expectation, measurement, spec) => {
        const increase = measurement.metrics.diskIncreaseRecommendedGb;
        const size = measurement.metrics.dataDiskSizeGb;
        return explanationOf(CLOUD_SQL_STATE.OUT_OF_DISK, {
          ...instanceOf(measurement, spec),
          diskState: String(measurement.metrics.outOfDiskState ?? "SOFT_SHUTDOWN"),
          size: typeof size === "number" ? `, ${size} GB disk` : "",
          increase: typeof increase === "number" && increase > 0 ? `; Cloud SQL recommends at least ${increase} GB more` : "",
        });
      },
    },
    outOfDiskState: { class: "unhealthy", description: "NORMAL or SOFT_SHUTDOWN" },
    diskIncreaseRecommendedGb: { class: "unhealthy", description: "the minimum disk increase Cloud SQL recommends when out of disk" },
    instance: { ...drift, description: "projects/PROJECT/instances/ID" },
    connectionName: { ...drift, description: "PROJECT:REGION:INSTANCE, what the connector takes" },
    region: { ...drift, description: "the instance's region" },
    zone: { ...drift, description: "the zone of the primary" },
    tier: { ...drift, description: "machine type, e.g. db-custom-2-4096" },
    databaseVersion: { ...drift, description: "e.g. POSTGRES_15" },
    edition: { ...drift, description: "ENTERPRISE or ENTERPRISE_PLUS" },
    availabilityType: { ...drift, description: "ZONAL or REGIONAL (high availability)" },
    dataDiskSizeGb: { ...drift, description: "disk size in GB" },
    dataDiskType: { ...drift, description: "PD_SSD, PD_HDD or HYPERDISK_BALANCED" },
    storageAutoResize: { ...drift, description: "automatic storage increase" },
    storageAutoResizeLimitGb: { ...drift, description: "the ceiling of automatic increases in GB (0: none)" },
    ipType: { ...drift, description: "PRIVATE (only a private IP), PUBLIC, PUBLIC_AND_PRIVATE" },
    privateIp: { ...drift, description: "private IP address" },
    publicIp: { ...drift, description: "public (PRIMARY) IP address" },
    privateNetwork: { ...drift, description: "the VPC network of the private IP" },
    pscEnabled: { ...drift, description: "Private Service Connect is enabled (what cloudSql.ipType PSC connects through)" },
    sslMode: { ...drift, description: "ALLOW_UNENCRYPTED_AND_ENCRYPTED, ENCRYPTED_ONLY or TRUSTED_CLIENT_CERTIFICATE_REQUIRED" },
    connectorEnforcement: { ...drift, description: "REQUIRED: only the Cloud SQL connectors (and Auth Proxy) may connect" },
    serverCaExpiresInDays: { unit: "days", class: "tls", description: "days until the server CA certificate expires" },
    maintenanceInHours: { class: "unhealthy", description: "hours until the next scheduled maintenance (absent: none scheduled)" },
    maintenanceVersion: { ...drift, description: "the database maintenance version" },
    converged: { class: "unhealthy", description: "no operation in progress" },
  },
  metricPrefixes: {
    "flags.": { ...drift, description: "a database flag's value (flags.max_connections); absent when the flag is not set" },
  },
  defaultExpect: () => ({ state: parseExpectation("RUNNABLE"), activationPolicy: parseExpectation("ALWAYS"), outOfDisk: parseExpectation(false) }),
  judge(spec, measurement) {
    return Object.entries(spec.require?.flags ?? {}).map(([flag, value]): Assertion => {
      const metric = `flags.${flag}`;
      const actual = measurement.metrics[metric];
      const ok = satisfies(actual, parseExpectation(value));
      return { metric, op: "==", expected: value, actual: actual ?? null, ok, severity: "fail", ...(ok ? {} : { class: "drift" as const }) };
    });
  },
  diagnosis: {
    service: "the Cloud SQL Admin API",
    catalogue: { ...CLOUD_SQL_STATE, ...CLOUD_SQL_CONFIG },
    hints: {
      drift: (spec, _failure, measurement) => {
        const { id, project } = measurement ? instanceOf(measurement, spec as CloudSqlSpec) : { id: spec.instance, project: spec.project ?? "PROJECT" };
        return `The instance differs from the expected configuration: compare with gcloud sql instances describe ${id} --project ${project}, then fix the instance (or its Terraform) or update the expectation.`;
      },
    },
  },
  target: (spec) => `Cloud SQL instance ${spec.instance}${spec.project ? ` in ${spec.project}` : ""}`,
  // Monitoring too: a slow or timed-out check's evidence must fit in a budget no longer than the check's, without a cold client.
  prepare: () => preloadApis([CLOUD_SQL, MONITORING]),
  evidence: async (spec, _measurement, ctx) => (await import("./evidence.js")).cloudSqlEvidence(ctx, spec.instance),

  async run(spec, ctx) {
    const settings = gcpSettings(spec, ctx.deps);
    const where = cloudSqlInstance(spec.instance, settings);
    const instance = await withGcp(ctx, settings, async (gcp) => {
      await gcp.prepare(CLOUD_SQL);
      return ctx.phases.time("getInstance", () => gcp.call<Instance>(CLOUD_SQL, "Get", { project: where.project, instance: where.id }, where.resource));
    });
    const settingsOf = instance.settings ?? {};
    const ip = settingsOf.ipConfiguration ?? {};
    const addresses = instance.ipAddresses ?? [];
    const now = Date.now() / 1000;
    const caExpires = secondsOf(instance.serverCaCert?.expirationTime);
    const maintenance = secondsOf(instance.scheduledMaintenance?.startTime);
    const diskState = instance.outOfDiskReport?.sqlOutOfDiskState ?? null;
    const metrics: Record<string, MetricValue> = {
      state: instance.state ?? "SQL_INSTANCE_STATE_UNSPECIFIED",
      activationPolicy: settingsOf.activationPolicy ?? null,
      ...(instance.suspensionReason?.length ? { suspensionReason: instance.suspensionReason } : {}),
      outOfDisk: diskState === "SOFT_SHUTDOWN",
      ...(diskState ? { outOfDiskState: diskState } : {}),
      ...(instance.outOfDiskReport?.sqlMinRecommendedIncreaseSizeGb ? { diskIncreaseRecommendedGb: instance.outOfDiskReport.sqlMinRecommendedIncreaseSizeGb } : {}),
      instance: where.resource,
      connectionName: instance.connectionName || null,
      region: instance.region || null,
      zone: instance.gceZone || null,
      tier: settingsOf.tier || null,
      databaseVersion: instance.databaseVersion || null,
      edition: settingsOf.edition || null,
      availabilityType: settingsOf.availabilityType || null,
      dataDiskSizeGb: toNumber(unwrap(settingsOf.dataDiskSizeGb)),
      dataDiskType: settingsOf.dataDiskType || null,
      storageAutoResize: unwrap(settingsOf.storageAutoResize),
      storageAutoResizeLimitGb: toNumber(unwrap(settingsOf.storageAutoResizeLimit)),
      ipType: ipTypeOf(addresses),
      privateIp: addresses.find((address) => address.type === "PRIVATE")?.ipAddress ?? null,
      publicIp: addresses.find((address) => address.type === "PRIMARY")?.ipAddress ?? null,
      privateNetwork: ip.privateNetwork || null,
      pscEnabled: ip.pscConfig?.pscEnabled === true,
      sslMode: ip.sslMode || (unwrap(ip.requireSsl) ? "ENCRYPTED_ONLY" : null),
      connectorEnforcement: settingsOf.connectorEnforcement || null,
      ...(caExpires !== null ? { serverCaExpiresInDays: Math.floor((caExpires - now) / 86_400) } : {}),
      ...(maintenance !== null ? { maintenanceInHours: Math.round(((maintenance - now) / 3600) * 10) / 10 } : {}),
      maintenanceVersion: instance.maintenanceVersion || null,
      // Read by --wait to tell "never converged" from "converged but broken".
      converged: !instance.state || instance.state === "SQL_INSTANCE_STATE_UNSPECIFIED" ? null : !CONVERGING.has(instance.state),
    };
    for (const flag of settingsOf.databaseFlags ?? []) if (flag.name) metrics[`flags.${flag.name}`] = flag.value ?? "";
    Object.assign(ctx.metrics, metrics);
  },

  oneOff: cloudSqlOneOff,
};

export default probe;
