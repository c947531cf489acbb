// A consistent, healthy Google Cloud side of the chat product (a Cloud Run
// service with two revisions, its VPC connector, its Memorystore instance,
// secrets) in the APIs' proto3 JSON form, seeded into the emulator — and the
// changes that reproduce the incidents (old revision serving, newest
// revision failed, connector ERROR, Memorystore drift, …). Shared by the
// tests, `infra-check demo --break` and the benchmarks.
import { artifactNames } from "./gcp-emulator/apis/artifact-registry.js";
import type { GcpEmulatorState, Proto3Json } from "./gcp-emulator/index.js";

export interface CloudStackOptions {
  project: string;
  region: string;
  service: string;
  /** Image of the newest revision (the commit "just deployed"). */
  image: string;
  /** Image of the previous revision. */
  previousImage: string;
  connector: string;
  egress?: "PRIVATE_RANGES_ONLY" | "ALL_TRAFFIC";
  network?: string;
  ipCidrRange?: string;
  /** Env vars of the service's container: a literal value, or a Secret Manager reference. */
  env?: Record<string, string | { secret: string; version?: string }>;
  /** Labels of the newest revision (e.g. { "commit-sha": "3f9c2ab" }). */
  labels?: Record<string, string>;
  instance: string;
  redis: {
    host: string;
    port: number;
    tier?: "BASIC" | "STANDARD_HA";
    memorySizeGb?: number;
    redisVersion?: string;
    /** AUTH string; absent = AUTH disabled. */
    authString?: string;
    transitEncryptionMode?: "DISABLED" | "SERVER_AUTHENTICATION";
  };
  /** Secret Manager secrets (short name → value) in `project`. */
  secrets?: Record<string, string>;
}

export interface CloudStackNames {
  service: string;
  revisions: { previous: string; latest: string };
  connector: string;
  instance: string;
}

/** What tests and the demo change on a seeded stack. Every change is what the API would then report. */
export interface CloudStackControls {
  names: CloudStackNames;
  /** 100 % of traffic back on the previous revision (the old image): "deployed" but not serving. */
  serveOldRevision(): void;
  /** A newer revision was created and failed to start; traffic stays on the last ready one. */
  failLatestRevision(message?: string): string;
  /** Split traffic: `percentOnLatest` on the newest revision, the rest on the previous one. */
  splitTraffic(percentOnLatest: number): void;
  /** A rollout in progress: the service is reconciling a generation it has not observed yet. */
  startRollout(): void;
  /** The rollout started by startRollout() completes: generation observed, Ready again, no longer reconciling. */
  finishRollout(): void;
  /** The Ready condition fails on the service itself (e.g. the route could not be programmed). */
  setServiceNotReady(message: string): void;
  setServiceEgress(egress: "ALL_TRAFFIC" | "PRIVATE_RANGES_ONLY"): void;
  /** Point the serving revision at another connector (null: no connector). */
  setServiceConnector(connector: string | null): void;
  /** Replace the connector by Direct VPC egress network interfaces. */
  useDirectVpc(network: string, subnetwork?: string): void;
  setServiceImage(image: string): void;
  /**
   * Push the newest revision's image tag again with another build (`docker push` of a re-used tag)
   * and no new revision: the registry's tag moves, the serving revision keeps the digest it resolved.
   * Returns the tag's new digest.
   */
  repushImageTag(): string;
  /**
   * A deploy whose new revision failed, as the API reports it once it has given up: generation
   * bumped, observedGeneration / latestReadyRevision / trafficStatuses still the last serving
   * state, not reconciling, terminal condition FAILED with the revision's reason.
   */
  failRollout(options?: { message?: string; reason?: string; revisionReason?: string }): string;
  setConnectorState(state: "READY" | "ERROR" | "CREATING" | "DELETING" | "UPDATING"): void;
  /** Patch the Memorystore instance as the API reports it (proto3 JSON field names). */
  patchInstance(fields: Record<string, unknown>): void;
  /**
   * Connect the serving revisions to a Cloud SQL instance (P:R:I) as a deploy does: a Cloud SQL
   * volume mounted at /cloudsql (`gcloud run deploy --add-volume type=cloudsql`), or the older
   * run.googleapis.com/cloudsql-instances annotation (`--add-cloudsql-instances`).
   */
  mountCloudSql(connectionName: string, via: "volume" | "annotation"): void;
}

const TIME = "2025-06-02T09:14:07.412Z";
const EARLIER = "2025-05-28T16:40:51.003Z";

export function seedCloudStack(state: GcpEmulatorState, options: CloudStackOptions): CloudStackControls {
  const location = `projects/${options.project}/locations/${options.region}`;
  const service = `${location}/services/${options.service}`;
  const connector = `${location}/connectors/${options.connector}`;
  const instance = `${location}/instances/${options.instance}`;
  const previous = `${service}/revisions/${options.service}-00041-kiv`;
  const latest = `${service}/revisions/${options.service}-00042-xoz`;
  const egress = options.egress ?? "PRIVATE_RANGES_ONLY";
  const env = Object.entries(options.env ?? {}).map(([name, value]) =>
    typeof value === "string"
      ? { name, value }
      : { name, valueSource: { secretKeyRef: { secret: value.secret, version: value.version ?? "latest" } } },
  );
  const container = (image: string) => ({ name: "app", image, env, ports: [{ name: "http1", containerPort: 8080 }] });
  const vpcAccess = { connector, egress };

  const ready = (time: string) => ({ type: "Ready", state: "CONDITION_SUCCEEDED", lastTransitionTime: time, severity: "ERROR" });
  const revision = (name: string, image: string, labels: Record<string, string>, time: string): Proto3Json => ({
    name,
    uid: `uid-${name.split("/").pop()}`,
    generation: "1",
    labels,
    createTime: time,
    service,
    vpcAccess,
    containers: [container(image)],
    serviceAccount: `backend@${options.project}.iam.gserviceaccount.com`,
    conditions: [ready(time), { type: "ContainerHealthy", state: "CONDITION_SUCCEEDED", lastTransitionTime: time }],
    observedGeneration: "1",
    logUri: `https://console.cloud.google.com/logs/viewer?project=${options.project}`,
  });

  // The images are in Artifact Registry before the revisions that resolve them exist.
  for (const image of [options.previousImage, options.image]) if (artifactNames(image)?.tag && !state.tagDigest(image)) state.pushImage(image);
  state.put(revision(previous, options.previousImage, {}, EARLIER));
  state.put(revision(latest, options.image, options.labels ?? {}, TIME));
  state.put({
    name: service,
    uid: "7c1f0d0e-9a51-4b53-8d3a-2f8f6a1f2b10",
    generation: "42",
    createTime: "2024-11-04T12:00:00Z",
    updateTime: TIME,
    ingress: "INGRESS_TRAFFIC_ALL",
    template: { vpcAccess, containers: [container(options.image)], labels: options.labels ?? {}, serviceAccount: `backend@${options.project}.iam.gserviceaccount.com` },
    traffic: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }],
    observedGeneration: "42",
    terminalCondition: ready(TIME),
    conditions: [
      { type: "RoutesReady", state: "CONDITION_SUCCEEDED", lastTransitionTime: TIME },
      { type: "ConfigurationsReady", state: "CONDITION_SUCCEEDED", lastTransitionTime: TIME },
    ],
    latestReadyRevision: latest,
    latestCreatedRevision: latest,
    trafficStatuses: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }],
    uri: `https://${options.service}-4k2x7vq3pa-uc.a.run.app`,
    urls: [`https://${options.service}-123456789012.${options.region}.run.app`],
    reconciling: false,
  });
  state.put({
    name: connector,
    network: options.network ?? "default",
    ipCidrRange: options.ipCidrRange ?? "10.8.0.0/28",
    state: "READY",
    minThroughput: 200,
    maxThroughput: 1000,
    minInstances: 2,
    maxInstances: 10,
    machineType: "e2-micro",
    connectedProjects: [options.project],
  });
  const authEnabled = options.redis.authString !== undefined;
  state.put({
    name: instance,
    displayName: options.instance,
    locationId: `${options.region}-a`,
    currentLocationId: `${options.region}-a`,
    redisVersion: options.redis.redisVersion ?? "REDIS_7_2",
    reservedIpRange: "10.166.204.80/29",
    host: options.redis.host,
    port: options.redis.port,
    createTime: "2024-11-04T12:00:00Z",
    state: "READY",
    tier: options.redis.tier ?? "BASIC",
    memorySizeGb: options.redis.memorySizeGb ?? 1,
    authorizedNetwork: `projects/${options.project}/global/networks/${options.network ?? "default"}`,
    connectMode: "DIRECT_PEERING",
    authEnabled,
    transitEncryptionMode: options.redis.transitEncryptionMode ?? "DISABLED",
    readReplicasMode: "READ_REPLICAS_DISABLED",
  });
  if (authEnabled) state.setAuthString(instance, options.redis.authString!);
  for (const [name, value] of Object.entries(options.secrets ?? {})) state.addSecretVersion(`projects/${options.project}/secrets/${name}`, value);

  const names: CloudStackNames = { service, revisions: { previous, latest }, connector, instance };
  const patchServingRevisions = (change: (revision: Proto3Json) => void) => {
    for (const name of [previous, latest]) state.patch(name, change);
    state.patch(service, (svc) => change(svc.template as Proto3Json));
  };
  let revisionCounter = 43;
  const short = (name: string) => name.split("/").pop()!;
  const failedRevision = (text: string, reason = "REVISION_FAILED", revisionReason?: string) => {
    const failed = `${service}/revisions/${options.service}-000${revisionCounter++}-bad`;
    state.put({
      ...revision(failed, options.image, options.labels ?? {}, TIME),
      conditions: [
        // reason and revisionReason are one field (a oneof): a revision's own reason wins.
        { type: "Ready", state: "CONDITION_FAILED", message: text, lastTransitionTime: TIME, severity: "ERROR", ...(revisionReason ? { revisionReason } : { reason }) },
        { type: "ContainerHealthy", state: "CONDITION_FAILED", message: text, lastTransitionTime: TIME },
      ],
    });
    return failed;
  };

  return {
    names,
    serveOldRevision() {
      state.patch(service, {
        traffic: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: short(previous), percent: 100 }],
        trafficStatuses: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: short(previous), percent: 100 }],
      });
    },
    failLatestRevision(message) {
      return this.failRollout({ message });
    },
    splitTraffic(percentOnLatest) {
      const statuses = [
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: short(latest), percent: percentOnLatest },
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: short(previous), percent: 100 - percentOnLatest },
      ].filter((entry) => entry.percent > 0);
      state.patch(service, { traffic: statuses, trafficStatuses: statuses });
    },
    startRollout() {
      state.patch(service, (svc) => {
        svc.generation = String(Number(svc.generation) + 1);
        svc.reconciling = true;
        svc.terminalCondition = { type: "Ready", state: "CONDITION_RECONCILING", message: "Deploying revision.", lastTransitionTime: TIME };
      });
    },
    finishRollout() {
      state.patch(service, (svc) => {
        svc.observedGeneration = svc.generation;
        svc.reconciling = false;
        svc.terminalCondition = ready(TIME);
      });
    },
    setServiceNotReady(message) {
      state.patch(service, { terminalCondition: { type: "Ready", state: "CONDITION_FAILED", message, lastTransitionTime: TIME, severity: "ERROR" } });
    },
    setServiceEgress(value) {
      patchServingRevisions((target) => {
        target.vpcAccess = { ...(target.vpcAccess as object), egress: value };
      });
    },
    setServiceConnector(name) {
      patchServingRevisions((target) => {
        const current = (target.vpcAccess ?? {}) as Record<string, unknown>;
        target.vpcAccess = name === null ? { ...current, connector: "", egress: "VPC_EGRESS_UNSPECIFIED" } : { ...current, connector: name.includes("/") ? name : `${location}/connectors/${name}` };
      });
    },
    useDirectVpc(network, subnetwork) {
      patchServingRevisions((target) => {
        target.vpcAccess = { egress, networkInterfaces: [{ network, ...(subnetwork ? { subnetwork } : {}) }] };
      });
    },
    setServiceImage(image) {
      patchServingRevisions((target) => {
        target.containers = [container(image)];
      });
    },
    repushImageTag() {
      return state.pushImage(options.image);
    },
    failRollout(failure = {}) {
      const text = failure.message ?? "The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable within the allocated timeout.";
      const failed = failedRevision(text, failure.reason ?? "REVISION_FAILED", failure.revisionReason ?? "HEALTH_CHECK_CONTAINER_ERROR");
      state.patch(service, (svc) => {
        svc.generation = String(Number(svc.generation) + 1);
        // observedGeneration, latestReadyRevision and trafficStatuses keep the last serving state.
        svc.latestCreatedRevision = failed;
        svc.reconciling = false;
        svc.terminalCondition = {
          type: "Ready",
          state: "CONDITION_FAILED",
          message: `Revision '${short(failed)}' is not ready and cannot serve traffic. ${text}`,
          lastTransitionTime: TIME,
          severity: "ERROR",
          reason: "REVISION_FAILED",
        };
        svc.conditions = [
          { type: "RoutesReady", state: "CONDITION_SUCCEEDED", lastTransitionTime: TIME },
          { type: "ConfigurationsReady", state: "CONDITION_FAILED", message: `Revision '${short(failed)}' is not ready.`, lastTransitionTime: TIME, reason: "REVISION_FAILED" },
        ];
      });
      return failed;
    },
    setConnectorState(value) {
      state.patch(connector, { state: value });
    },
    patchInstance(fields) {
      state.patch(instance, fields);
    },
    mountCloudSql(connectionName, via) {
      patchServingRevisions((target) => {
        if (via === "annotation") {
          const annotations = (target.annotations ?? {}) as Record<string, string>;
          const current = annotations["run.googleapis.com/cloudsql-instances"];
          target.annotations = { ...annotations, "run.googleapis.com/cloudsql-instances": current ? `${current},${connectionName}` : connectionName };
          return;
        }
        const volumes = (target.volumes ?? []) as Proto3Json[];
        target.volumes = [...volumes, { name: "cloudsql", cloudSqlInstance: { instances: [connectionName] } }];
        target.containers = ((target.containers ?? []) as Proto3Json[]).map((container) => ({ ...container, volumeMounts: [{ name: "cloudsql", mountPath: "/cloudsql" }] }));
      });
    },
  };
}
