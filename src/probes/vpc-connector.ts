// Serverless VPC Access connector probe (incident 9): the connector must be
// READY — an ERROR connector silently cuts Cloud Run off Redis and Cloud SQL —
// and its network, IP range and instance bounds can be pinned in `expect`
// (a mismatch is drift).
import { z } from "zod";
import { preloadApis, withGcp } from "../gcp/clients.js";
import { gcpCheckFields, gcpSettings, measuredResource, regionOf, resourceName, shortName } from "../gcp/resources.js";
import { type MetricValue } from "../diagnose/vocabulary.js";
import { ProbeFailure, type ProbeDefinition } from "./api.js";

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

const probe: ProbeDefinition<ConnectorFields> = {
  kind: "vpc-connector",
  summary: "Serverless VPC Access connector: state and configuration",
  schema,
  metrics: {
    names: ["state", "connector", "network", "ipCidrRange", "subnet", "minInstances", "maxInstances", "minThroughput", "maxThroughput", "machineType", "connectedProjects", "converged"],
  },

  target: (spec) => `connector ${spec.connector}${spec.project || spec.region ? ` in ${[spec.project, spec.region].filter(Boolean).join("/")}` : ""}`,

  assertionClass: (metric) => (metric === "state" || metric === "converged" ? "unhealthy" : "drift"),

  hints: {
    drift: (spec, _failure, measurement) => {
      const connector = measuredResource(measurement, "connector", spec.connector);
      return `The connector differs from the expectation: compare with gcloud compute networks vpc-access connectors describe ${shortName(connector)} --region ${regionOf(connector, spec.region)}; a connector's network and range cannot change — recreate it, or update the expectation.`;
    },
  },

  prepare: () => preloadApis(["connectors"]),

  async run(spec, ctx) {
    const settings = gcpSettings(spec, ctx.deps);
    const name = resourceName("connectors", spec.connector, settings);
    const connector = await withGcp(ctx, settings, async (gcp) => {
      await gcp.prepare("connectors");
      return ctx.phases.time("getConnector", () => gcp.call<Connector>("connectors", "GetConnector", { name }));
    });
    const metrics: Record<string, MetricValue> = {
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
    };
    if (metrics.state !== "READY") {
      const region = name.split("/")[3];
      throw new ProbeFailure("unhealthy", `connector ${shortName(name)} is in state ${metrics.state}, not READY: ${STATE_MEANING[String(metrics.state)] ?? "it cannot carry traffic"}`, {
        code: String(metrics.state),
        metrics,
        hint:
          metrics.state === "ERROR"
            ? `Nothing behind this connector is reachable from Cloud Run. Inspect it (gcloud compute networks vpc-access connectors describe ${shortName(name)} --region ${region}); an ERROR connector usually has to be deleted and recreated.`
            : `Wait for the operation to finish (gcloud compute networks vpc-access operations list --region ${region}) and re-run, or use --wait.`,
      });
    }
    return { phasesMs: {}, metrics };
  },

  oneOff: {
    command: "vpc-connector",
    argument: "<name>",
    description: "Check a Serverless VPC Access connector once: state READY, network, IP range, instances",
    options: [
      { flags: "--project <project>", description: "Google Cloud project (or give projects/P/locations/R/connectors/C)" },
      { flags: "--region <region>", description: "region of the connector" },
      { flags: "--emulator-host <host:port>", description: "talk plaintext gRPC to a local API emulator (default: $INFRA_CHECK_GCP_EMULATOR_HOST)" },
      { flags: "--network <network>", description: "expected VPC network" },
      { flags: "--ip-cidr-range <range>", description: "expected IP range, e.g. 10.8.0.0/28" },
    ],
    examples: [
      "infra-check vpc-connector staging-connector --project acme-staging --region us-central1",
      "infra-check vpc-connector staging-connector --project acme-staging --region us-central1 --network staging-vpc --expect 'maxInstances>=3'",
    ],
    toRawCheck(name, options) {
      const expect: Record<string, unknown> = {};
      if (options.network) expect.network = options.network;
      if (options.ipCidrRange) expect.ipCidrRange = options.ipCidrRange;
      return {
        kind: "vpc-connector",
        name,
        ...(options.project ? { project: options.project } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.emulatorHost ? { emulatorHost: options.emulatorHost } : {}),
        ...(Object.keys(expect).length ? { expect } : {}),
      };
    },
  },
};

export default probe;
