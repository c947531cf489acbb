// `infra-check cloud-run SERVICE`: one check from flags.
import { gcpOneOffFields, gcpOneOffOptions } from "../../gcp/resources.js";
import type { OneOffCommand } from "../api.js";
import { CLOUD_RUN_SERVICES } from "./run.js";

export const cloudRunOneOff: OneOffCommand = {
  command: "cloud-run",
  argument: "<service>",
  forms: ["SERVICE --project PROJECT --region REGION", "projects/PROJECT/locations/REGION/services/SERVICE"],
  description: "Check a Cloud Run service once: Ready, traffic on the latest revision, image, VPC egress, env",
  options: [
    ...gcpOneOffOptions(CLOUD_RUN_SERVICES),
    { flags: "--image <glob>", description: 'expected image of the serving revision: glob ("*:3f9c2ab"; a tag is also checked against what it points to now) or the digest it runs (sha256:…, IMAGE@sha256:…)' },
    { flags: "--expect-commit <sha>", description: "the serving revision runs this commit: its image tag, a revision label, or the digest of that tag (CI: --expect-commit $GITHUB_SHA)" },
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
    "infra-check cloud-run backend-staging --project acme-staging --region us-central1 --expect-commit $GITHUB_SHA",
    "infra-check cloud-run backend-staging --project acme-staging --region us-central1 --connector staging-connector --egress PRIVATE_RANGES_ONLY --env REDIS_PASSWORD,DATABASE_URL",
    "GOOGLE_CLOUD_PROJECT=acme-staging CLOUDSDK_RUN_REGION=us-central1 infra-check cloud-run backend-staging",
    "INFRA_CHECK_GCP_EMULATOR_HOST=127.0.0.1:8085 infra-check cloud-run chat-backend --project demo-project --region us-central1",
  ],
  toRawCheck(service, options, environment) {
    const require: Record<string, unknown> = {};
    if (options.image) require.image = options.image;
    if (options.expectCommit) require.commit = String(options.expectCommit);
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
      ...gcpOneOffFields(CLOUD_RUN_SERVICES, service, options, environment),
      ...(Object.keys(require).length ? { require } : {}),
      ...(options.egress ? { expect: { vpcEgress: String(options.egress).toUpperCase() } } : {}),
    };
  },
};
