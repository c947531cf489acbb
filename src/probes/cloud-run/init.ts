// What the cloud-run kind contributes to `infra-check init`: the source
// (`--from-cloud-run SERVICE` reads the service and the revision that serves
// its traffic, with the same client and API declaration as the check), and
// the cloud-run check that asserts what was read: its image, its VPC path
// and egress, the env names it requires. Env values are read as facts for
// the other kinds' mappers; a secret's value is never read, only its name.
import { resourceName, shortName } from "../../gcp/resources.js";
import type { EnvFact, KindInit, ServiceFacts } from "../init-api.js";
import { REVISIONS, SERVICES } from "./api.js";
import { CLOUD_RUN_SERVICES } from "./run.js";
import { parseImage } from "./image.js";

interface RunEnvVar {
  name?: string;
  value?: string;
  valueSource?: { secretKeyRef?: { secret?: string; version?: string } | null } | null;
}
interface RunRevision {
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  serviceAccount?: string;
  containers?: { image?: string; env?: RunEnvVar[] }[];
  volumes?: { name?: string; cloudSqlInstance?: { instances?: string[] } | null }[];
  vpcAccess?: { connector?: string; egress?: string; networkInterfaces?: { network?: string; subnetwork?: string }[] } | null;
}
interface RunService {
  name?: string;
  uri?: string;
  urls?: string[];
  annotations?: Record<string, string>;
  template?: RunRevision | null;
  latestReadyRevision?: string;
  trafficStatuses?: { type?: string; revision?: string; percent?: number }[];
}

/** The annotation that lists the Cloud SQL instances a service connects to (gcloud run deploy --add-cloudsql-instances). */
const CLOUD_SQL_ANNOTATION = "run.googleapis.com/cloudsql-instances";
const LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST";

/** The revision most of the traffic goes to (the latest ready one when traffic follows LATEST). */
function servingRevision(service: RunService, serviceName: string): string | undefined {
  const entries = [...(service.trafficStatuses ?? [])].sort((a, b) => (b.percent ?? 0) - (a.percent ?? 0));
  const top = entries[0];
  const revision = !top || top.type === LATEST || !top.revision ? service.latestReadyRevision : top.revision;
  if (!revision) return undefined;
  return revision.includes("/") ? revision : `${serviceName}/revisions/${revision}`;
}

function envFacts(env: readonly RunEnvVar[]): EnvFact[] {
  return env.flatMap((variable): EnvFact[] => {
    if (!variable.name) return [];
    const ref = variable.valueSource?.secretKeyRef;
    if (ref?.secret) return [{ name: variable.name, source: { kind: "secret", secret: ref.secret, version: ref.version || "latest" } }];
    return [{ name: variable.name, source: { kind: "literal", value: variable.value ?? "" } }];
  });
}

const init: KindInit = {
  starter: {
    name: "backend",
    usesGcp: true,
    yaml: `    # The Cloud Run service: Ready, 100 % of traffic on the latest ready
    # revision, and what that revision runs.
    service: backend-staging
    timeout: 5s
    expect:
      # The image as deployed: a glob, or the commit CI just deployed.
      image: "us-docker.pkg.dev/PROJECT/REPO/backend:*"
      # commit: \${GIT_SHA}
      vpcConnector: staging-connector
      vpcEgress: PRIVATE_RANGES_ONLY
      # Env vars the container must have (names only: values are never read).
      env: [DATABASE_URL, REDIS_HOST]
`,
  },
  options: [
    { flags: "--expect-commit <sha>", description: "cloud-run: require the serving revision to run this commit (e.g. '${GIT_SHA}') instead of a glob over its image repository" },
    { flags: "--base-url <url>", description: "the address the http/websocket checks use instead of the service's run.app URL (a custom domain, a load balancer)" },
  ],
  source: {
    from: "cloud-run",
    argument: "SERVICE",
    description: "read this Cloud Run service (with --project and --region) and write the checks of what it declares",
    async discover(name, options, ctx, gcp) {
      const settings = { project: options.project as string | undefined, region: options.region as string | undefined };
      const full = resourceName(CLOUD_RUN_SERVICES, name, settings);
      const [, project, , region] = full.split("/");
      await gcp.prepare(SERVICES, REVISIONS);
      const service = await ctx.phases.time("getService", () => gcp.call<RunService>(SERVICES, "GetService", { name: full }));
      const serviceName = service.name || full;
      const revisionName = servingRevision(service, serviceName);
      // The revision that serves is what runs; the template is what the next deploy would run. Read the serving one.
      const revision = revisionName ? await ctx.phases.time("getRevision", () => gcp.call<RunRevision>(REVISIONS, "GetRevision", { name: revisionName })) : (service.template ?? {});
      // With sidecars, the ingress container (the one with a port) is the app.
      const container = revision.containers?.find((candidate) => (candidate as { ports?: unknown[] }).ports?.length) ?? revision.containers?.[0] ?? {};
      const fromVolumes = (revision.volumes ?? []).flatMap((volume) => volume.cloudSqlInstance?.instances ?? []);
      const fromAnnotation = [revision.annotations, service.template?.annotations, service.annotations]
        .flatMap((annotations) => (annotations?.[CLOUD_SQL_ANNOTATION] ?? "").split(","))
        .map((entry) => entry.trim())
        .filter(Boolean);
      const vpc = revision.vpcAccess ?? {};
      const interfaces = (vpc.networkInterfaces ?? []).map((entry) => ({ ...(entry.network ? { network: entry.network } : {}), ...(entry.subnetwork ? { subnetwork: entry.subnetwork } : {}) }));
      const facts: ServiceFacts = {
        label: `Cloud Run service ${shortName(serviceName)}${revisionName ? ` (revision ${shortName(revisionName)})` : ""}`,
        project,
        region,
        name: shortName(serviceName),
        url: (options.baseUrl as string | undefined) ?? service.uri ?? service.urls?.[0],
        image: container.image,
        labels: revision.labels ?? {},
        serviceAccount: revision.serviceAccount,
        network: {
          ...(vpc.connector ? { connector: vpc.connector } : {}),
          ...(vpc.egress && vpc.egress !== "VPC_EGRESS_UNSPECIFIED" ? { egress: vpc.egress } : {}),
          ...(interfaces.length ? { directVpc: interfaces } : {}),
        },
        env: envFacts(container.env ?? []),
        cloudSqlInstances: [...new Set([...fromVolumes, ...fromAnnotation])],
      };
      return facts;
    },
  },
  map(facts, ctx) {
    const expect: Record<string, unknown> = {};
    const comments: string[] = [];
    const commit = ctx.options.expectCommit as string | undefined;
    const image = facts.image ? parseImage(facts.image) : undefined;
    if (commit) expect.commit = commit;
    else if (image && (image.tag || image.digest)) {
      expect.image = `${image.repository}:*`;
      comments.push(`The image must come from ${image.repository}; in CI, pin the commit just deployed instead: commit: \${GIT_SHA} (init --expect-commit).`);
    }
    const network = facts.network;
    if (network.connector) expect.vpcConnector = shortName(network.connector);
    else if (network.directVpc?.length) {
      const first = network.directVpc[0];
      expect.directVpc = { ...(first.network ? { network: shortName(first.network) } : {}), ...(first.subnetwork ? { subnetwork: shortName(first.subnetwork) } : {}) };
    }
    if (network.egress) expect.vpcEgress = network.egress;
    const names = facts.env.map((fact) => fact.name).sort();
    if (names.length) expect.env = names;
    const name = ctx.uniqueName("backend");
    const rows = [
      { from: `service ${facts.name}`, to: name, note: [expect.commit ? `commit ${commit}` : expect.image ? `image ${expect.image}` : "no image", network.connector ? "connector" : network.directVpc ? "Direct VPC" : "no VPC egress", `${names.length} env names`].join(", ") },
    ];
    return {
      checks: [
        {
          name,
          kind: "cloud-run",
          comment: `${facts.label}: Ready, all traffic on the latest ready revision, and what that revision runs.`,
          fields: { service: facts.name, timeout: "5s", expect },
          keyComments: {
            expect: [...comments, "Env names the container must have (values are never read)."].join("\n"),
          },
        },
      ],
      rows,
    };
  },
};

export default init;
