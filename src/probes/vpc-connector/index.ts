// kind: vpc-connector — the connector must be READY (an ERROR connector
// silently cuts Cloud Run off Redis and Cloud SQL: the default expectation
// state == READY says so), and its network, IP range and instance bounds can
// be pinned in `expect` (a mismatch is drift).
import { z } from "zod";
import { defineCatalogue, explanationOf } from "../../diagnose/catalogue.js";
import type { MetricValue } from "../../diagnose/vocabulary.js";
import { parseExpectation } from "../../evaluate/expectations.js";
import { defineGoogleApi } from "../../gcp/api.js";
import { gcpCheckFields, gcpOneOffFields, gcpOneOffOptions, gcpSettings, measuredResource, regionOf, resourceName, shortName } from "../../gcp/resources.js";
import { preloadApis, withGcp } from "../../gcp/session.js";
import type { MetricInfo, ProbeDefinition } from "../api.js";

export const VPC_ACCESS = defineGoogleApi({
  id: "vpcaccess",
  label: "Serverless VPC Access",
  host: "vpcaccess.googleapis.com",
  load: async () => (await import("@google-cloud/vpc-access")).VpcAccessServiceClient as never,
  rpcs: {
    GetConnector: {
      permission: "vpcaccess.connectors.get",
      role: "roles/vpcaccess.viewer",
      list: { method: "ListConnectors" },
      notFound: ({ name, project, region }) =>
        `No Serverless VPC Access connector "${name}" in project ${project}, region ${region}: check the name and region (gcloud compute networks vpc-access connectors list --region ${region} --project ${project}).`,
    },
  },
});

const CONNECTORS = { collection: "connectors", noun: "VPC connector" };

// `name:` as in the config (and gcloud); it becomes `connector` because every check already has a `name` (the check's own).
const schema = z
  .strictObject({
    name: z.string().min(1).meta({ description: "Connector name (with gcp.project / gcp.region) or projects/P/locations/R/connectors/C" }),
    ...gcpCheckFields,
  })
  .transform(({ name, ...rest }) => ({ connector: name, ...rest }));
type ConnectorFields = z.output<typeof schema>;

interface Connector {
  name: string;
  network?: string;
  ipCidrRange?: string;
  state?: string;
  minThroughput?: number;
  maxThroughput?: number;
  minInstances?: number;
  maxInstances?: number;
  machineType?: string;
  connectedProjects?: string[];
  subnet?: { name?: string; projectId?: string } | null;
}

const STATE_MEANING: Record<string, string> = {
  ERROR: "the connector is broken (often: its IP range overlaps a subnet, or the Serverless VPC Access service agent lost roles/vpcaccess.serviceAgent)",
  CREATING: "the connector is still being created",
  DELETING: "the connector is being deleted",
  UPDATING: "the connector is being updated",
  STATE_UNSPECIFIED: "the API reports no state",
};

/** States of an operation in progress: polling (--wait) may still see the connector settle. */
const CONVERGING = new Set(["CREATING", "UPDATING", "DELETING"]);

interface StateFacts {
  id: string;
  state: string;
  meaning: string;
  region: string;
}

export const CONNECTOR_STATE = defineCatalogue("vpc-connector", {
  BROKEN: {
    class: "unhealthy",
    code: "ERROR",
    message: (f: StateFacts) => `connector ${f.id} is in state ${f.state}, not READY: ${f.meaning}`,
    hint: (f: StateFacts) =>
      `Nothing behind this connector is reachable from Cloud Run. Inspect it (gcloud compute networks vpc-access connectors describe ${f.id} --region ${f.region}); an ERROR connector usually has to be deleted and recreated.`,
  },
  NOT_READY: {
    class: "unhealthy",
    code: (f: StateFacts) => f.state,
    message: (f: StateFacts) => `connector ${f.id} is in state ${f.state}, not READY: ${f.meaning}`,
    hint: (f: StateFacts) => `Wait for the operation to finish (gcloud compute networks vpc-access operations list --region ${f.region}) and re-run, or use --wait.`,
  },
});

const drift = { class: "drift" } as const;
const stateMetric: MetricInfo<ConnectorFields> = {
  class: "unhealthy",
  description: "READY, ERROR, or an operation in progress (CREATING, UPDATING, DELETING)",
  explain(actual, _expectation, measurement, spec) {
    const connector = measuredResource(measurement, "connector", spec.connector);
    const state = String(actual ?? "STATE_UNSPECIFIED");
    const facts = { id: shortName(connector), state, meaning: STATE_MEANING[state] ?? "it cannot carry traffic", region: regionOf(connector, spec.region) };
    return explanationOf(state === "ERROR" ? CONNECTOR_STATE.BROKEN : CONNECTOR_STATE.NOT_READY, facts);
  },
};

const probe: ProbeDefinition<ConnectorFields> = {
  kind: "vpc-connector",
  summary: "Serverless VPC Access connector: state and configuration",
  schema,
  metrics: {
    state: stateMetric,
    connector: { ...drift, description: "the connector's full resource name" },
    network: { ...drift, description: "VPC network" },
    ipCidrRange: { ...drift, description: "the connector's /28 range" },
    subnet: { ...drift, description: "subnet (instead of an IP range)" },
    minInstances: { ...drift, description: "minimum instances" },
    maxInstances: { ...drift, description: "maximum instances" },
    minThroughput: { ...drift, description: "minimum throughput (Mbps)" },
    maxThroughput: { ...drift, description: "maximum throughput (Mbps)" },
    machineType: { ...drift, description: "machine type of its instances" },
    connectedProjects: { ...drift, description: "projects that use it" },
    converged: { class: "unhealthy", description: "no operation in progress (ERROR has settled)" },
  },
  defaultExpect: () => ({ state: parseExpectation("READY") }),
  diagnosis: {
    service: "the Serverless VPC Access API",
    catalogue: CONNECTOR_STATE,
    hints: {
      drift: (spec, _failure, measurement) => {
        const connector = measuredResource(measurement, "connector", spec.connector);
        return `The connector differs from the expectation: compare with gcloud compute networks vpc-access connectors describe ${shortName(connector)} --region ${regionOf(connector, spec.region)}; a connector's network and range cannot change — recreate it, or update the expectation.`;
      },
    },
  },
  target: (spec) => `connector ${spec.connector}${spec.project || spec.region ? ` in ${[spec.project, spec.region].filter(Boolean).join("/")}` : ""}`,
  prepare: () => preloadApis([VPC_ACCESS]),

  async run(spec, ctx) {
    const settings = gcpSettings(spec, ctx.deps);
    const name = resourceName(CONNECTORS, spec.connector, settings);
    const connector = await withGcp(ctx, settings, async (gcp) => {
      await gcp.prepare(VPC_ACCESS);
      return ctx.phases.time("getConnector", () => gcp.call<Connector>(VPC_ACCESS, "GetConnector", { name }));
    });
    Object.assign(ctx.metrics, {
      state: connector.state ?? "STATE_UNSPECIFIED",
      connector: connector.name || name,
      network: connector.network || null,
      ipCidrRange: connector.ipCidrRange || null,
      subnet: connector.subnet?.name || null,
      minInstances: connector.minInstances ?? null,
      maxInstances: connector.maxInstances ?? null,
      minThroughput: connector.minThroughput ?? null,
      maxThroughput: connector.maxThroughput ?? null,
      machineType: connector.machineType || null,
      connectedProjects: connector.connectedProjects ?? [],
      // Read by --wait to tell "never converged" from "converged but broken" (ERROR is settled).
      converged: !connector.state || connector.state === "STATE_UNSPECIFIED" ? null : !CONVERGING.has(connector.state),
    } satisfies Record<string, MetricValue>);
  },

  oneOff: {
    command: "vpc-connector",
    argument: "<name>",
    forms: ["CONNECTOR --project PROJECT --region REGION", "projects/PROJECT/locations/REGION/connectors/CONNECTOR"],
    description: "Check a Serverless VPC Access connector once: state READY, network, IP range, instances",
    options: [
      ...gcpOneOffOptions(CONNECTORS),
      { flags: "--network <network>", description: "expected VPC network" },
      { flags: "--ip-cidr-range <range>", description: "expected IP range, e.g. 10.8.0.0/28" },
    ],
    examples: [
      "infra-check vpc-connector staging-connector --project acme-staging --region us-central1",
      "infra-check vpc-connector staging-connector --project acme-staging --region us-central1 --network staging-vpc --expect 'maxInstances>=3'",
    ],
    toRawCheck(name, options, env) {
      const expect: Record<string, unknown> = {};
      if (options.network) expect.network = options.network;
      if (options.ipCidrRange) expect.ipCidrRange = options.ipCidrRange;
      return {
        kind: "vpc-connector",
        name,
        ...gcpOneOffFields(CONNECTORS, name, options, env),
        ...(Object.keys(expect).length ? { expect } : {}),
      };
    },
  },
};

export default probe;
