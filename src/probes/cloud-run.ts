// Cloud Run service probe (incidents 8 and 9): is the service Ready and
// converged, does 100 % of the traffic go to the revision that was just
// deployed, and does that revision run the expected image, VPC egress and env?
//
// run() reads the service and the revisions it needs (the serving ones, and
// the newest one when it is not the serving one, for its failure message).
// A service that is not Ready / not converged is an `unhealthy` ProbeFailure
// with the API's own condition message. Traffic, image, connector and env are
// judged by judge() from the measurement (pure), so a saved report can be
// re-judged: traffic → unhealthy, the rest → drift.
import { z } from "zod";
import { preloadApis, withGcp } from "../gcp/clients.js";
import { gcpCheckFields, gcpSettings, measuredResource, regionOf, resourceName, sameResource, shortName } from "../gcp/resources.js";
import { type Assertion, type MetricValue } from "../diagnose/vocabulary.js";
import { ProbeFailure, type CheckSpec, type ProbeDefinition } from "./api.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const requireSchema = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Image of the serving revision: a glob ("*:${GIT_SHA}", "us-docker.pkg.dev/p/r/app:*") or a digest (sha256:…)' }),
    commitLabel: z
      .strictObject({
        key: z.string().min(1).meta({ description: "Revision label key, e.g. commit-sha" }),
        value: z.union([z.string(), z.number()]).transform(String).meta({ description: "Expected value, e.g. ${GIT_SHA}" }),
      })
      .optional()
      .meta({ description: "A label the serving revision must carry (the commit it was built from)" }),
    vpcConnector: z.string().min(1).optional().meta({ description: "Serverless VPC Access connector the serving revision uses (name or full resource name)" }),
    directVpc: z
      .strictObject({
        network: z.string().min(1).optional().meta({ description: "VPC network (name or projects/P/global/networks/N)" }),
        subnetwork: z.string().min(1).optional().meta({ description: "Subnetwork (name or full resource name)" }),
      })
      .optional()
      .meta({ description: "Direct VPC egress: a network interface on this network/subnetwork" }),
    env: z
      .array(z.string().regex(ENV_NAME, "expected an environment variable name"))
      .optional()
      .meta({ description: "Env vars the container must have (literal or from a secret); names only, values are never read into the report" }),
    revision: z.string().min(1).optional().meta({ description: "Revision that must receive 100 % of the traffic (default: the latest ready one)" }),
    tag: z.string().min(1).optional().meta({ description: "Traffic tag whose revision must receive 100 % of the traffic" }),
  })
  .superRefine((value, ctx) => {
    if (value.vpcConnector && value.directVpc) {
      ctx.addIssue({ code: "custom", path: ["directVpc"], message: "vpcConnector and directVpc exclude each other (a revision uses one or the other)" });
    }
    if (value.revision && value.tag) {
      ctx.addIssue({ code: "custom", path: ["tag"], message: "revision and tag exclude each other: say which revision must serve the traffic once" });
    }
  });

const schema = z.strictObject({
  service: z.string().min(1).meta({ description: "Service name (with gcp.project / gcp.region) or projects/P/locations/R/services/S" }),
  ...gcpCheckFields,
  require: requireSchema
    .optional()
    .meta({ description: "Requirements that are not metric comparisons; usually written under `expect:` with the metric expectations (image, commitLabel, vpcConnector, directVpc, env, revision, tag)" }),
});
type CloudRunFields = z.infer<typeof schema>;
type CloudRunSpec = CheckSpec<CloudRunFields>;

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

const LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST";

const probe: ProbeDefinition<CloudRunFields> = {
  kind: "cloud-run",
  summary: "Cloud Run service: Ready, revision traffic, image, VPC egress",
  schema,
  metrics: {
    names: [
      "service",
      "uri",
      "ready",
      "reconciling",
      "converged",
      "generation",
      "observedGeneration",
      "latestReadyRevision",
      "latestCreatedRevision",
      "servingRevisions",
      "traffic",
      "tags",
      "image",
      "labels",
      "vpcConnector",
      "vpcEgress",
      "networkInterfaces",
      "env",
      "serviceAccount",
    ],
  },

  target: (spec) => `service ${spec.service}${spec.project || spec.region ? ` in ${[spec.project, spec.region].filter(Boolean).join("/")}` : ""}`,

  assertionClass(metric) {
    if (metric === "ready" || metric === "reconciling" || metric === "converged" || metric === "traffic" || metric === "latestReadyRevision" || metric === "servingRevisions") {
      return "unhealthy";
    }
    return "drift";
  },

  judge: (spec, measurement) => judgeService(spec, measurement.metrics),

  hints: {
    unhealthy: (spec, _failure, measurement) => {
      const service = measuredResource(measurement, "service", spec.service);
      const region = regionOf(service, spec.region);
      return `The service is serving something other than what was deployed: inspect it (gcloud run services describe ${shortName(service)} --region ${region}) and its newest revision's logs; move traffic with gcloud run services update-traffic ${shortName(service)} --to-latest --region ${region}.`;
    },
    drift: (spec, _failure, measurement) => {
      const service = measuredResource(measurement, "service", spec.service);
      return `The serving revision's configuration differs from the expectation: redeploy with the right image / connector / env (gcloud run deploy ${shortName(service)} --region ${regionOf(service, spec.region)} …), or update the expectation.`;
    },
  },

  prepare: () => preloadApis(["services", "revisions"]),

  async run(spec, ctx) {
    const settings = gcpSettings(spec, ctx.deps);
    const name = resourceName("services", spec.service, settings);
    return withGcp(ctx, settings, async (gcp) => {
      await gcp.prepare("services", "revisions");
      const service = await ctx.phases.time("getService", () => gcp.call<RunService>("services", "GetService", { name }));
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
          Promise.all(servingNames.map((revision) => gcp.call<RunRevision>("revisions", "GetRevision", { name: revision }))),
          // Best effort: the service's own condition still explains a failed rollout if this read fails.
          newestIsExtra ? gcp.call<RunRevision>("revisions", "GetRevision", { name: latestCreated }).catch(() => undefined) : Promise.resolve(undefined),
        ]),
      );

      // Converged: the control plane has finished the latest change, whatever its outcome — a newest
      // revision that failed ends a rollout as surely as one that serves. `--wait` reads this metric
      // to tell "never converged" (waiting longer might help) from "converged but broken" (it won't).
      const newestFailed = Boolean(latestCreated) && latestCreated !== latestReady && readyCondition(newest)?.state === "CONDITION_FAILED";
      const converged = newestFailed || (!reconciling && generation === observedGeneration);
      ctx.metrics.converged = converged;
      const primary = primaryRevision(serving, servingRevisions, latestReady);
      if (primary) Object.assign(ctx.metrics, revisionMetrics(primary, name));

      const notServing = stateFailure({ service, terminal, ready, converged, generation, observedGeneration, latestReady, latestCreated, newest });
      if (notServing) throw notServing;
      if (!primary) {
        throw new ProbeFailure("unhealthy", `service ${shortName(name)} sends no traffic to any revision (${trafficText(serving) || "no traffic targets"})`, {
          code: "NO_TRAFFIC",
          hint: `Route traffic: gcloud run services update-traffic ${shortName(name)} --to-latest --region ${name.split("/")[3]}.`,
        });
      }
      return { phasesMs: {}, metrics: { ...ctx.metrics } };
    });
  },

  oneOff: {
    command: "cloud-run",
    argument: "<service>",
    description: "Check a Cloud Run service once: Ready, traffic on the latest revision, image, VPC egress, env",
    options: [
      { flags: "--project <project>", description: "Google Cloud project (or give projects/P/locations/R/services/S)" },
      { flags: "--region <region>", description: "region of the service" },
      { flags: "--emulator-host <host:port>", description: "talk plaintext gRPC to a local API emulator (default: $INFRA_CHECK_GCP_EMULATOR_HOST)" },
      { flags: "--image <glob>", description: 'expected image of the serving revision: glob ("*:3f9c2ab") or digest (sha256:…)' },
      { flags: "--commit-label <key=value>", description: "label the serving revision must carry, e.g. commit-sha=3f9c2ab" },
      { flags: "--connector <name>", description: "expected Serverless VPC Access connector" },
      { flags: "--egress <mode>", description: "expected VPC egress: PRIVATE_RANGES_ONLY | ALL_TRAFFIC" },
      { flags: "--direct-vpc <network>", description: "expected Direct VPC egress network" },
      { flags: "--env <names>", description: "env vars that must be set (comma-separated, repeatable); values are never printed", repeatable: true },
      { flags: "--revision <name>", description: "revision that must receive 100 % of the traffic (default: latest ready)" },
      { flags: "--tag <tag>", description: "traffic tag whose revision must receive 100 % of the traffic" },
    ],
    examples: [
      "infra-check cloud-run backend-staging --project acme-staging --region us-central1 --image '*:'$GIT_SHA",
      "infra-check cloud-run backend-staging --project acme-staging --region us-central1 --connector staging-connector --egress PRIVATE_RANGES_ONLY --env REDIS_PASSWORD,DATABASE_URL",
      "INFRA_CHECK_GCP_EMULATOR_HOST=127.0.0.1:8085 infra-check cloud-run chat-backend --project demo-project --region us-central1",
    ],
    toRawCheck(service, options) {
      const require: Record<string, unknown> = {};
      if (options.image) require.image = options.image;
      if (options.commitLabel) {
        const text = String(options.commitLabel);
        const equals = text.indexOf("=");
        require.commitLabel = equals > 0 ? { key: text.slice(0, equals), value: text.slice(equals + 1) } : { key: text };
      }
      if (options.connector) require.vpcConnector = options.connector;
      if (options.directVpc) require.directVpc = { network: options.directVpc };
      const env = ((options.env as string[] | undefined) ?? []).flatMap((item) => item.split(",")).map((item) => item.trim()).filter(Boolean);
      if (env.length) require.env = env;
      if (options.revision) require.revision = options.revision;
      if (options.tag) require.tag = options.tag;
      return {
        kind: "cloud-run",
        service,
        ...(options.project ? { project: options.project } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.emulatorHost ? { emulatorHost: options.emulatorHost } : {}),
        ...(Object.keys(require).length ? { require } : {}),
        ...(options.egress ? { expect: { vpcEgress: String(options.egress).toUpperCase() } } : {}),
      };
    },
  },
};

// ---------------------------------------------------------------- measurement helpers

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

function stateFailure(state: {
    service: RunService;
    terminal: Condition;
    ready: boolean;
    converged: boolean;
    generation: number;
    observedGeneration: number;
    latestReady: string;
    latestCreated: string;
    newest: RunRevision | undefined;
}): ProbeFailure | undefined {
  const name = shortName(state.service.name);
  const region = state.service.name.split("/")[3];
  const newestReady = readyCondition(state.newest);
  const logs = `gcloud run revisions describe ${shortName(state.latestCreated)} --region ${region}; its logs say why`;

  if (state.latestCreated && state.latestCreated !== state.latestReady && newestReady?.state === "CONDITION_FAILED") {
    return new ProbeFailure(
      "unhealthy",
      `newest revision ${shortName(state.latestCreated)} failed and never became ready (${conditionText(newestReady)}); traffic stays on ${shortName(state.latestReady) || "no ready revision"} — the deploy did not take effect`,
      { code: "REVISION_FAILED", hint: `Fix the newest revision (${logs}), then redeploy; until then the previous revision keeps serving.` },
    );
  }
  if (!state.converged) {
    const pending = state.latestCreated !== state.latestReady ? `; newest revision ${shortName(state.latestCreated)} is not ready yet` : "";
    return new ProbeFailure(
      "unhealthy",
      `service ${name} has not converged: a rollout is in progress (generation ${state.generation}, observed ${state.observedGeneration}, Ready ${conditionText(state.terminal)})${pending}`,
      { code: "NOT_CONVERGED", hint: "A deployment is still rolling out: re-run when it settles, or poll until it converges with --wait DURATION (a longer one if a wait already ran out)." },
    );
  }
  if (!state.ready) {
    const newest = state.latestCreated !== state.latestReady && newestReady ? `; newest revision ${shortName(state.latestCreated)}: ${conditionText(newestReady)}` : "";
    return new ProbeFailure("unhealthy", `service ${name} is not Ready (${conditionText(state.terminal)})${newest}`, {
      code: "NOT_READY",
      hint: `Inspect the service's conditions: gcloud run services describe ${name} --region ${region}.`,
    });
  }
  if (state.latestCreated && state.latestCreated !== state.latestReady) {
    return new ProbeFailure(
      "unhealthy",
      `newest revision ${shortName(state.latestCreated)} is not the latest ready one (${shortName(state.latestReady) || "none"})${newestReady ? `: ${conditionText(newestReady)}` : ""}`,
      { code: "LATEST_NOT_READY", hint: `Inspect it: ${logs}.` },
    );
  }
  return undefined;
}

// ---------------------------------------------------------------- judgement (pure)

function judgeService(spec: CloudRunSpec, metrics: Record<string, MetricValue>): Assertion[] {
  const require = spec.require ?? {};
  const assertions: Assertion[] = [];
  const add = (metric: string, expected: string, actual: MetricValue | undefined, ok: boolean, failureClass: "unhealthy" | "drift") =>
    assertions.push({ metric, op: "==", expected, actual, ok, severity: "fail", ...(ok ? {} : { class: failureClass }) });

  // Traffic first: an old revision serving explains every drift after it.
  const serving = (Array.isArray(metrics.servingRevisions) ? metrics.servingRevisions : []) as { revision: string; percent: number }[];
  const tags = (metrics.tags ?? {}) as Record<string, string>;
  let wanted: string | undefined;
  let why: string;
  if (require.revision) {
    wanted = shortName(require.revision);
    why = "expected revision";
  } else if (require.tag) {
    wanted = tags[require.tag];
    why = wanted ? `tagged ${require.tag}` : `tagged ${require.tag} — no such tag`;
  } else {
    wanted = typeof metrics.latestReadyRevision === "string" ? metrics.latestReadyRevision : undefined;
    why = "latest ready revision";
  }
  const percent = serving.filter((entry) => entry.revision === wanted).reduce((sum, entry) => sum + entry.percent, 0);
  add("traffic", `100% on ${wanted ?? "?"} (${why})`, metrics.traffic, wanted !== undefined && percent === 100, "unhealthy");

  if (require.image !== undefined) {
    const image = typeof metrics.image === "string" ? metrics.image : null;
    add("image", `matches ${JSON.stringify(require.image)}`, image, image !== null && imageMatches(image, require.image), "drift");
  }
  if (require.commitLabel) {
    const labels = (metrics.labels ?? {}) as Record<string, string>;
    const { key, value } = require.commitLabel;
    add(`labels.${key}`, value, labels[key] ?? null, labels[key] === value, "drift");
  }
  if (require.vpcConnector !== undefined) {
    const actual = typeof metrics.vpcConnector === "string" ? metrics.vpcConnector : null;
    add("vpcConnector", require.vpcConnector, actual, sameResource(actual, require.vpcConnector), "drift");
  }
  if (require.directVpc) {
    const interfaces = (Array.isArray(metrics.networkInterfaces) ? metrics.networkInterfaces : []) as { network: string | null; subnetwork: string | null }[];
    const { network, subnetwork } = require.directVpc;
    const ok = interfaces.some(
      (entry) => (!network || sameResource(entry.network, network)) && (!subnetwork || sameResource(entry.subnetwork, subnetwork)),
    );
    const expected = [network && `network ${network}`, subnetwork && `subnetwork ${subnetwork}`].filter(Boolean).join(", ") || "any network interface";
    const actual = interfaces.length
      ? interfaces.map((entry) => [entry.network, entry.subnetwork].filter(Boolean).join("/")).join(", ")
      : metrics.vpcConnector
        ? `no Direct VPC interface (connector ${String(metrics.vpcConnector)})`
        : "no Direct VPC interface";
    add("directVpc", expected, actual, ok, "drift");
  }
  const env = (metrics.env ?? {}) as Record<string, string>;
  for (const variable of require.env ?? []) {
    const how = env[variable];
    add(`env.${variable}`, "set", how === undefined ? "missing" : how === "empty" ? "set but empty" : how, how !== undefined && how !== "empty", "drift");
  }
  return assertions;
}

/** A digest (sha256:…, @sha256:…) must be the image's digest; anything else is a glob (* and ?) over the whole image reference. */
export function imageMatches(image: string, expected: string): boolean {
  const digest = /^@?(sha256:[0-9a-f]{64})$/i.exec(expected);
  if (digest) return image.toLowerCase().endsWith(`@${digest[1].toLowerCase()}`);
  const pattern = expected.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${pattern}$`).test(image);
}

export default probe;
