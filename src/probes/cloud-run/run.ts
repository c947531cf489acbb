// Observe a Cloud Run service: the service, the revisions that serve its
// traffic, and the newest one when it is not serving (for why it failed).
// Everything is recorded as metrics — the rollout's state included — and
// judged afterwards (./judge.ts), so a saved report can be re-judged.
import { gcpSettings, resourceName, shortName } from "../../gcp/resources.js";
import { withGcp } from "../../gcp/session.js";
import type { MetricValue } from "../../diagnose/vocabulary.js";
import type { ProbeContext } from "../api.js";
import { REVISIONS, SERVICES } from "./api.js";
import type { CloudRunSpec } from "./config.js";

// ---------------------------------------------------------------- API shapes (runtime: enums and int64 as strings, unset messages null)
interface Condition {
  type?: string;
  state?: string;
  message?: string;
  reason?: string;
  revisionReason?: string;
}
interface TrafficEntry {
  type?: string;
  revision?: string;
  percent?: number;
  tag?: string;
}
interface EnvVar {
  name?: string;
  value?: string;
  valueSource?: { secretKeyRef?: { secret?: string; version?: string } | null } | null;
}
interface Container {
  name?: string;
  image?: string;
  env?: EnvVar[];
  ports?: unknown[];
}
interface VpcAccess {
  connector?: string;
  egress?: string;
  networkInterfaces?: { network?: string; subnetwork?: string; tags?: string[] }[];
}
interface RunService {
  name: string;
  generation?: string | number;
  observedGeneration?: string | number;
  reconciling?: boolean;
  terminalCondition?: Condition | null;
  latestReadyRevision?: string;
  latestCreatedRevision?: string;
  traffic?: TrafficEntry[];
  trafficStatuses?: TrafficEntry[];
  uri?: string;
}
interface RunRevision {
  name: string;
  labels?: Record<string, string>;
  containers?: Container[];
  vpcAccess?: VpcAccess | null;
  conditions?: Condition[];
  serviceAccount?: string;
}

interface Serving {
  revision: string;
  percent: number;
}

export const CLOUD_RUN_SERVICES = { collection: "services", noun: "Cloud Run service" };
const LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST";

/** Where the rollout stands, from the API's own fields (judged by the default expectation rollout == SERVING). */
export type Rollout = "SERVING" | "REVISION_FAILED" | "NOT_CONVERGED" | "NOT_READY" | "LATEST_NOT_READY";

export async function runCloudRun(spec: CloudRunSpec, ctx: ProbeContext): Promise<void> {
  const settings = gcpSettings(spec, ctx.deps);
  const name = resourceName(CLOUD_RUN_SERVICES, spec.service, settings);
  await withGcp(ctx, settings, async (gcp) => {
    await gcp.prepare(SERVICES, REVISIONS);
    const service = await ctx.phases.time("getService", () => gcp.call<RunService>(SERVICES, "GetService", { name }));
    const latestReady = service.latestReadyRevision || "";
    const latestCreated = service.latestCreatedRevision || "";
    const { split: serving, tags } = servingOf(service);
    const generation = Number(service.generation ?? 0);
    const observedGeneration = Number(service.observedGeneration ?? 0);
    const terminal = service.terminalCondition ?? {};
    const ready = terminal.state === "CONDITION_SUCCEEDED";
    const reconciling = Boolean(service.reconciling) || terminal.state === "CONDITION_RECONCILING" || terminal.state === "CONDITION_PENDING";
    Object.assign(ctx.metrics, {
      service: service.name || name,
      uri: service.uri || null,
      ready,
      reconciling,
      generation,
      observedGeneration,
      condition: conditionText(terminal),
      latestReadyRevision: shortName(latestReady) || null,
      latestCreatedRevision: shortName(latestCreated) || null,
      servingRevisions: serving.map(servingMetric),
      traffic: trafficText(serving),
      tags,
    } satisfies Record<string, MetricValue>);

    // The revisions that serve traffic, and the newest one when it is not serving (for its failure).
    const servingNames = serving.map((entry) => entry.revision);
    const newestIsExtra = latestCreated && latestCreated !== latestReady && !servingNames.includes(latestCreated);
    const [servingRevisions, newest] = await ctx.phases.time("getRevisions", () =>
      Promise.all([
        Promise.all(servingNames.map((revision) => gcp.call<RunRevision>(REVISIONS, "GetRevision", { name: revision }))),
        // Best effort: the service's own condition still explains a failed rollout if this read fails.
        newestIsExtra ? gcp.call<RunRevision>(REVISIONS, "GetRevision", { name: latestCreated }).catch(() => undefined) : Promise.resolve(undefined),
      ]),
    );

    const newestReady = readyCondition(newest);
    if (latestCreated && latestCreated !== latestReady && newestReady) ctx.metrics.newestRevisionCondition = conditionText(newestReady);
    // Converged: the control plane has finished the latest change, whatever its outcome — a newest
    // revision that failed ends a rollout as surely as one that serves. `--wait` reads this metric
    // to tell "never converged" (waiting longer might help) from "converged but broken" (it won't).
    const newestFailed = Boolean(latestCreated) && latestCreated !== latestReady && newestReady?.state === "CONDITION_FAILED";
    const converged = newestFailed || (!reconciling && generation === observedGeneration);
    ctx.metrics.converged = converged;
    ctx.metrics.rollout = rolloutOf({ ready, converged, newestFailed, newestDiffers: Boolean(latestCreated) && latestCreated !== latestReady });
    const primary = primaryRevision(serving, servingRevisions, latestReady);
    if (primary) Object.assign(ctx.metrics, revisionMetrics(primary, name));
  });
}

function rolloutOf(state: { ready: boolean; converged: boolean; newestFailed: boolean; newestDiffers: boolean }): Rollout {
  if (state.newestFailed) return "REVISION_FAILED";
  if (!state.converged) return "NOT_CONVERGED";
  if (!state.ready) return "NOT_READY";
  if (state.newestDiffers) return "LATEST_NOT_READY";
  return "SERVING";
}

/**
 * Who gets the traffic: the status the API reports (traffic as it is), else the
 * spec (traffic as asked). LATEST resolves to the latest ready revision. Tags
 * map to the revision they name (a tag usually carries 0 %: its own URL).
 */
function servingOf(service: RunService): { split: Serving[]; tags: Record<string, string> } {
  const entries = service.trafficStatuses?.length ? service.trafficStatuses : (service.traffic ?? []);
  const byRevision = new Map<string, Serving>();
  const tags: Record<string, string> = {};
  for (const entry of entries) {
    const revision = entry.type === LATEST || !entry.revision ? service.latestReadyRevision || "" : entry.revision;
    if (!revision) continue;
    const full = revision.includes("/") ? revision : `${service.name}/revisions/${revision}`;
    const percent = entry.percent ?? 0;
    if (percent > 0) {
      const existing = byRevision.get(full);
      if (existing) existing.percent += percent;
      else byRevision.set(full, { revision: full, percent });
    }
    if (entry.tag) tags[entry.tag] = shortName(full);
  }
  return { split: [...byRevision.values()].sort((a, b) => b.percent - a.percent), tags };
}

function servingMetric(entry: Serving): MetricValue {
  return { revision: shortName(entry.revision), percent: entry.percent };
}

function trafficText(serving: Serving[]): string {
  return serving.map((entry) => `${shortName(entry.revision)} ${entry.percent}%`).join(", ");
}

/** The revision that carries most of the traffic (the latest ready one on a tie): what "the service runs". */
function primaryRevision(serving: Serving[], revisions: RunRevision[], latestReady: string): RunRevision | undefined {
  if (!serving.length) return undefined;
  const top = serving[0].percent;
  const best = serving.find((entry) => entry.percent === top && entry.revision === latestReady) ?? serving[0];
  return revisions.find((revision) => revision.name === best.revision);
}

/** The container that receives requests: the one with a port, else the only/first one. */
function ingressContainer(revision: RunRevision): Container | undefined {
  const containers = revision.containers ?? [];
  return containers.find((container) => (container.ports ?? []).length > 0) ?? containers[0];
}

function revisionMetrics(revision: RunRevision, serviceName: string): Record<string, MetricValue> {
  const container = ingressContainer(revision);
  const vpc = revision.vpcAccess ?? {};
  const location = serviceName.split("/").slice(0, 4).join("/");
  const connector = vpc.connector || "";
  const interfaces = (vpc.networkInterfaces ?? []).map((entry) => ({ network: entry.network || null, subnetwork: entry.subnetwork || null }));
  const usesVpc = Boolean(connector) || interfaces.length > 0;
  // Values are never copied: only how each variable is set.
  const env: Record<string, MetricValue> = {};
  for (const variable of container?.env ?? []) {
    if (!variable.name) continue;
    const secret = variable.valueSource?.secretKeyRef;
    env[variable.name] = secret?.secret ? `secret ${secret.secret}:${secret.version || "latest"}` : variable.value ? "literal" : "empty";
  }
  return {
    image: container?.image || null,
    labels: { ...(revision.labels ?? {}) },
    // Same project and region as the service: the short name, as gcloud shows it.
    vpcConnector: connector ? (connector.startsWith(`${location}/connectors/`) ? shortName(connector) : connector) : null,
    // An unspecified egress with a connector means the default, private ranges only.
    vpcEgress: usesVpc ? (vpc.egress && vpc.egress !== "VPC_EGRESS_UNSPECIFIED" ? vpc.egress : "PRIVATE_RANGES_ONLY") : null,
    networkInterfaces: interfaces,
    env,
    serviceAccount: revision.serviceAccount || null,
  };
}

function conditionText(condition: Condition | undefined | null): string {
  if (!condition) return "no condition reported";
  const reason = condition.reason && condition.reason !== "COMMON_REASON_UNDEFINED" ? ` [${condition.reason}]` : "";
  return `${condition.state ?? "STATE_UNSPECIFIED"}${reason}${condition.message ? `: ${condition.message}` : ""}`;
}

function readyCondition(revision: RunRevision | undefined): Condition | undefined {
  return revision?.conditions?.find((condition) => condition.type === "Ready");
}
