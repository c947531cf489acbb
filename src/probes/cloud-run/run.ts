// Observe a Cloud Run service: the service, the revisions that serve its
// traffic, and the newest one when it is not serving (for why it failed).
// Everything is recorded as metrics — the rollout's state included — and
// judged afterwards (./judge.ts), so a saved report can be re-judged.
import { gcpSettings, resourceName, sameResource, shortName } from "../../gcp/resources.js";
import { withGcp } from "../../gcp/session.js";
import type { MetricValue } from "../../diagnose/vocabulary.js";
import type { ProbeContext } from "../api.js";
import { ARTIFACT_TAGS, REVISIONS, REVISIONS_V1, runV1Host, SERVICES } from "./api.js";
import type { CloudRunSpec } from "./config.js";
import { artifactTagName, parseImage } from "./image.js";
import { failedRevisionLines } from "./logs.js";

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
  conditions?: Condition[];
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
  logUri?: string;
  createTime?: { seconds?: string | number | null; nanos?: number | null } | null;
}
/** The v1 (Knative) Revision, as far as it is read: the digest and the project number. */
interface RunRevisionV1 {
  metadata?: { namespace?: string };
  status?: { imageDigest?: string };
}

interface Serving {
  revision: string;
  percent: number;
}

export const CLOUD_RUN_SERVICES = { collection: "services", noun: "Cloud Run service" };
const LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST";
const SUCCEEDED = "CONDITION_SUCCEEDED";
const FAILED = "CONDITION_FAILED";

/** Where the rollout stands, from the API's own fields (judged by the default expectation rollout == SERVING). */
export type Rollout = "SERVING" | "REVISION_FAILED" | "NOT_CONVERGED" | "NOT_READY" | "LATEST_NOT_READY";

/** Whether the check needs the digest the serving revision runs (and the tag's current one): only when it asserts what runs. */
export function needsDigest(spec: CloudRunSpec): boolean {
  const require = spec.require ?? {};
  return Boolean(require.image || require.commit || spec.expect?.imageDigest || spec.warn?.imageDigest);
}

export async function runCloudRun(spec: CloudRunSpec, ctx: ProbeContext): Promise<void> {
  const settings = gcpSettings(spec, ctx.deps);
  const name = resourceName(CLOUD_RUN_SERVICES, spec.service, settings);
  const [, project, , region] = name.split("/");
  await withGcp(ctx, settings, async (gcp) => {
    // Artifact Registry's client is made (and connected) up front only when the check may ask it what a tag points to now.
    await gcp.prepare(SERVICES, REVISIONS, ...(needsDigest(spec) ? [ARTIFACT_TAGS] : []));
    const service = await ctx.phases.time("getService", () => gcp.call<RunService>(SERVICES, "GetService", { name }));
    // The API may name revisions with the project number: every name below is the service's own form.
    const serviceName = service.name || name;
    const latestReady = fullRevision(serviceName, service.latestReadyRevision);
    const latestCreated = fullRevision(serviceName, service.latestCreatedRevision);
    const { split: serving, tags } = servingOf(service, serviceName, latestReady);
    const generation = Number(service.generation ?? 0);
    const observedGeneration = Number(service.observedGeneration ?? 0);
    const terminal = service.terminalCondition ?? {};
    const ready = terminal.state === SUCCEEDED;
    const reconciling = Boolean(service.reconciling) || terminal.state === "CONDITION_RECONCILING" || terminal.state === "CONDITION_PENDING";
    const newestDiffers = Boolean(latestCreated) && latestCreated !== latestReady;
    Object.assign(ctx.metrics, {
      service: serviceName,
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
    const serviceConditions = failedConditions(service.conditions);
    if (serviceConditions.length) ctx.metrics.serviceConditions = serviceConditions;

    // The revisions that serve traffic, and the newest one when it is not serving (for its failure).
    const servingNames = serving.map((entry) => entry.revision);
    const newestIsExtra = newestDiffers && !servingNames.includes(latestCreated);
    const primaryName = primaryRevisionName(serving, latestReady);
    const digestWanted = needsDigest(spec) && primaryName !== undefined;
    const [servingRevisions, newest, v1] = await ctx.phases.time("getRevisions", () =>
      Promise.all([
        Promise.all(servingNames.map((revision) => gcp.call<RunRevision>(REVISIONS, "GetRevision", { name: revision }))),
        // Best effort: the service's own condition still explains a failed rollout if this read fails.
        newestIsExtra ? gcp.call<RunRevision>(REVISIONS, "GetRevision", { name: latestCreated }).catch(() => undefined) : Promise.resolve(undefined),
        // The digest the serving revision resolved its image to: only the v1 API, on the regional endpoint, says.
        digestWanted
          ? gcp.getJson<RunRevisionV1>(REVISIONS_V1, "v1.GetRevision", {
              name: primaryName,
              path: `/apis/serving.knative.dev/v1/namespaces/${encodeURIComponent(project)}/revisions/${encodeURIComponent(shortName(primaryName))}`,
              host: runV1Host(region),
            })
          : Promise.resolve(undefined),
      ]),
    );

    const newestRevision = newestDiffers ? (newest ?? servingRevisions.find((revision) => sameResource(revision.name, latestCreated))) : undefined;
    const newestReady = readyCondition(newestRevision);
    if (newestDiffers && newestReady) ctx.metrics.newestRevisionCondition = conditionText(newestReady);
    if (newestDiffers && newestRevision) {
      const conditions = failedConditions(newestRevision.conditions);
      if (conditions.length) ctx.metrics.newestRevisionConditions = conditions;
      if (newestRevision.logUri) ctx.metrics.newestRevisionLogUri = newestRevision.logUri;
    }
    // Converged: the control plane has finished the latest change, whatever its outcome. After a
    // failed reconciliation the API keeps observedGeneration, latestReadyRevision and trafficStatuses
    // at the last serving state, so generation == observedGeneration is no test of it: the terminal
    // condition is, once it has settled (SUCCEEDED or FAILED) and nothing is reconciling. `--wait`
    // reads this metric to tell "never converged" (waiting longer might help) from "converged but
    // broken" (it won't).
    const settled = terminal.state === SUCCEEDED || terminal.state === FAILED;
    const newestFailed = newestDiffers && newestReady?.state === FAILED;
    const converged = !reconciling && settled;
    ctx.metrics.converged = converged;
    ctx.metrics.rollout = rolloutOf({ ready, converged, newestFailed, newestDiffers });
    // A failed revision with the rollout over stays failed: --wait stops polling it.
    ctx.metrics.finalFailure = converged && newestFailed;
    if (newestFailed) {
      // Its container's own last error lines (Cloud Logging, when a reader is wired in; best effort, within the budget).
      const created = newestRevision?.createTime?.seconds;
      const lines = await failedRevisionLines(
        ctx,
        { project, region, service: shortName(serviceName), revision: shortName(latestCreated), ...(created !== undefined && created !== null ? { createdAtMs: Number(created) * 1000 } : {}) },
        settings,
      );
      if (lines?.length) ctx.metrics.newestRevisionLogs = lines;
    }
    const primary = primaryName ? servingRevisions.find((revision) => sameResource(revision.name, primaryName)) : undefined;
    if (primary) Object.assign(ctx.metrics, revisionMetrics(primary, serviceName));
    if (v1?.metadata?.namespace && /^\d+$/.test(v1.metadata.namespace)) ctx.metrics.projectNumber = v1.metadata.namespace;
    if (digestWanted) {
      const resolved = v1?.status?.imageDigest ? parseImage(v1.status.imageDigest).digest : undefined;
      ctx.metrics.imageDigest = resolved ?? null;
      await readTagDigests(spec, ctx, gcp);
    }
  });
}

/**
 * What the tags the expectation names point to now (Artifact Registry), for
 * images deployed by tag: the serving image's own tag when `image` is a glob,
 * and the commit's tag for `commit`. A tag that does not exist is null.
 */
async function readTagDigests(spec: CloudRunSpec, ctx: ProbeContext, gcp: Parameters<Parameters<typeof withGcp>[2]>[0]): Promise<void> {
  const image = typeof ctx.metrics.image === "string" ? parseImage(ctx.metrics.image) : undefined;
  if (!image || image.digest) return;
  const require = spec.require ?? {};
  const wanted = new Set<string>();
  if (require.image && !/sha256:[0-9a-f]{64}$/i.test(require.image) && image.tag) wanted.add(image.tag);
  if (require.commit) wanted.add(image.tag && image.tag.toLowerCase().startsWith(require.commit.toLowerCase()) ? image.tag : require.commit);
  const names = [...wanted].map((tag) => [tag, artifactTagName(image.repository, tag)] as const).filter((entry): entry is readonly [string, string] => entry[1] !== undefined);
  if (!names.length) return;
  const digests: Record<string, MetricValue> = {};
  await ctx.phases.time("getTags", () =>
    Promise.all(
      names.map(async ([tag, tagName]) => {
        try {
          const found = await gcp.call<{ version?: string }>(ARTIFACT_TAGS, "GetTag", { name: tagName });
          digests[tag] = found.version ? (found.version.split("/").pop() ?? null) : null;
        } catch (error) {
          // No such tag is an answer (the commit was never pushed under that tag); anything else is the check's failure.
          if ((error as { code?: unknown })?.code === 5) digests[tag] = null;
          else throw error;
        }
      }),
    ),
  );
  ctx.metrics.tagDigests = digests;
}

/** A revision name as the service names itself (short names and project numbers made full, in the service's project form). */
function fullRevision(serviceName: string, revision: string | undefined): string {
  if (!revision) return "";
  return `${serviceName}/revisions/${shortName(revision)}`;
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
 * map to the revision they name (a tag usually carries 0 %: its own URL). The
 * API names revisions here by their short name; full names (either project
 * form) are accepted too.
 */
function servingOf(service: RunService, serviceName: string, latestReady: string): { split: Serving[]; tags: Record<string, string> } {
  const entries = service.trafficStatuses?.length ? service.trafficStatuses : (service.traffic ?? []);
  const byRevision = new Map<string, Serving>();
  const tags: Record<string, string> = {};
  for (const entry of entries) {
    const full = entry.type === LATEST || !entry.revision ? latestReady : fullRevision(serviceName, entry.revision);
    if (!full) continue;
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
function primaryRevisionName(serving: Serving[], latestReady: string): string | undefined {
  if (!serving.length) return undefined;
  const top = serving[0].percent;
  return (serving.find((entry) => entry.percent === top && entry.revision === latestReady) ?? serving[0]).revision;
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
  const why = [condition.reason, condition.revisionReason].find((value) => value && !/_UNDEFINED$|_UNSPECIFIED$/.test(value));
  const reason = why ? ` [${why}]` : "";
  return `${condition.state ?? "STATE_UNSPECIFIED"}${reason}${condition.message ? `: ${condition.message}` : ""}`;
}

function readyCondition(revision: RunRevision | undefined): Condition | undefined {
  return revision?.conditions?.find((condition) => condition.type === "Ready");
}

/** Every condition that did not succeed (RoutesReady, ConfigurationsReady, ContainerHealthy, …) with its reason: why, in the API's words. */
function failedConditions(conditions: Condition[] | undefined): string[] {
  return (conditions ?? [])
    .filter((condition) => condition.state && condition.state !== SUCCEEDED && condition.state !== "STATE_UNSPECIFIED")
    .map((condition) => `${condition.type ?? "?"}: ${conditionText(condition)}`);
}
