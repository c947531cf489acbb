// A healthy Cloud SQL for PostgreSQL instance as the Admin API reports it
// (proto3 JSON, what `gcloud sql instances describe --format=json` prints),
// seeded into the emulator, and the changes that reproduce what goes wrong:
// stopped by its owner, maintenance, suspension, a full disk, drift,
// connector enforcement. Shared by the tests and `infra-check demo --break`.
import type { GcpEmulatorState, Proto3Json } from "../gcp-emulator/index.js";

export interface CloudSqlOptions {
  project: string;
  region: string;
  instance: string;
  /** Private IP (default 10.20.0.5); the connector dials it on port 3307. */
  privateIp?: string;
  /** A public (PRIMARY) IP as well; default none. */
  publicIp?: string;
  tier?: string;
  databaseVersion?: string;
  dataDiskSizeGb?: number;
  /** Next maintenance, if one is scheduled. */
  maintenanceAt?: Date;
}

export interface CloudSqlFixture {
  /** projects/P/instances/I */
  name: string;
  /** P:R:I */
  connectionName: string;
  /** activationPolicy NEVER: still RUNNABLE, but stopped by its owner (what `gcloud sql instances patch --activation-policy NEVER` does). */
  stop(): void;
  /** state MAINTENANCE (an update or maintenance in progress). */
  startMaintenance(): void;
  suspend(reason: "BILLING_ISSUE" | "LEGAL_ISSUE" | "OPERATIONAL_ISSUE" | "KMS_KEY_ISSUE"): void;
  /** The out-of-disk report Cloud SQL sets when the disk is full. */
  fillDisk(): void;
  setConnectorEnforcement(value: "REQUIRED" | "NOT_REQUIRED"): void;
  /** Where the instance's addresses point (tests: 127.0.0.N, where a server-side proxy listens on 3307). */
  setIpAddresses(addresses: { type: "PRIVATE" | "PRIMARY"; ipAddress: string }[]): void;
  /** What Cloud Monitoring reports for the instance (utilizations 0–1, one value a minute, oldest first). */
  reportMetrics(series: { cpu?: number[]; memory?: number[]; disk?: number[]; backends?: number[] }): void;
  /** Patch the instance (proto3 JSON fields); `settings` keys merge into its settings. */
  patch(fields: Record<string, unknown> & { settings?: Record<string, unknown> }): void;
}

export function seedCloudSql(state: GcpEmulatorState, options: CloudSqlOptions): CloudSqlFixture {
  const name = `projects/${options.project}/instances/${options.instance}`;
  const connectionName = `${options.project}:${options.region}:${options.instance}`;
  const ipAddresses = [
    { type: "PRIVATE", ipAddress: options.privateIp ?? "10.20.0.5" },
    ...(options.publicIp ? [{ type: "PRIMARY", ipAddress: options.publicIp }] : []),
  ];
  const instance: Proto3Json = {
    name,
    kind: "sql#instance",
    connectionName,
    state: "RUNNABLE",
    databaseVersion: options.databaseVersion ?? "POSTGRES_15",
    databaseInstalledVersion: "POSTGRES_15_13",
    backendType: "SECOND_GEN",
    instanceType: "CLOUD_SQL_INSTANCE",
    region: options.region,
    gceZone: `${options.region}-c`,
    ipAddresses,
    serviceAccountEmailAddress: `p123456789012-abcd@gcp-sa-cloud-sql.iam.gserviceaccount.com`,
    serverCaCert: { kind: "sql#sslCert", commonName: "C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA,dnQualifier=1c2d", expirationTime: "2034-11-02T12:00:00Z" },
    maintenanceVersion: "POSTGRES_15_13.R20250302.00_04",
    createTime: "2024-11-04T12:00:00Z",
    ...(options.maintenanceAt ? { scheduledMaintenance: { startTime: options.maintenanceAt.toISOString(), canDefer: true, canReschedule: true } } : {}),
    settings: {
      tier: options.tier ?? "db-custom-2-4096",
      availabilityType: "ZONAL",
      activationPolicy: "ALWAYS",
      pricingPlan: "PER_USE",
      dataDiskType: "PD_SSD",
      dataDiskSizeGb: String(options.dataDiskSizeGb ?? 50),
      storageAutoResize: true,
      storageAutoResizeLimit: "0",
      edition: "ENTERPRISE",
      connectorEnforcement: "NOT_REQUIRED",
      ipConfiguration: {
        ipv4Enabled: Boolean(options.publicIp),
        privateNetwork: `projects/${options.project}/global/networks/staging-vpc`,
        sslMode: "ENCRYPTED_ONLY",
      },
      databaseFlags: [
        { name: "max_connections", value: "200" },
        { name: "cloudsql.iam_authentication", value: "on" },
      ],
      maintenanceWindow: { hour: 3, day: 7, updateTrack: "stable" },
      backupConfiguration: { enabled: true, startTime: "02:00", pointInTimeRecoveryEnabled: true },
    },
  };
  state.put(instance);

  const patch: CloudSqlFixture["patch"] = ({ settings, ...fields }) =>
    state.patch(name, (current) => {
      Object.assign(current, fields);
      if (settings) current.settings = { ...(current.settings as object), ...settings };
    });
  return {
    name,
    connectionName,
    stop: () => patch({ settings: { activationPolicy: "NEVER" } }),
    startMaintenance: () => patch({ state: "MAINTENANCE" }),
    suspend: (reason) => patch({ state: "SUSPENDED", suspensionReason: [reason] }),
    fillDisk: () => patch({ outOfDiskReport: { sqlOutOfDiskState: "SOFT_SHUTDOWN", sqlMinRecommendedIncreaseSizeGb: 10 } }),
    setConnectorEnforcement: (value) => patch({ settings: { connectorEnforcement: value } }),
    reportMetrics(series) {
      const metricTypes = { cpu: "cpu/utilization", memory: "memory/utilization", disk: "disk/utilization", backends: "postgresql/num_backends" } as const;
      for (const [key, values] of Object.entries(series) as [keyof typeof metricTypes, number[] | undefined][]) {
        if (!values) continue;
        state.setTimeSeries({
          metricType: `cloudsql.googleapis.com/database/${metricTypes[key]}`,
          resourceType: "cloudsql_database",
          resourceLabels: { database_id: `${options.project}:${options.instance}` },
          values,
          valueType: key === "backends" ? "INT64" : "DOUBLE",
        });
      }
    },
    setIpAddresses: (addresses) => patch({ ipAddresses: addresses, settings: { ipConfiguration: { ...ipConfiguration(state, name), ipv4Enabled: addresses.some((entry) => entry.type === "PRIMARY") } } }),
    patch,
  };
}

function ipConfiguration(state: GcpEmulatorState, name: string): Record<string, unknown> {
  return ((state.get(name)?.settings as Record<string, unknown> | undefined)?.ipConfiguration ?? {}) as Record<string, unknown>;
}
