// kind: cloud-run — is the service Ready and converged, does 100 % of the
// traffic go to the revision that was just deployed, and does that revision
// run the expected image, VPC egress and env?
import { preloadApis } from "../../gcp/session.js";
import { measuredResource, regionOf, shortName } from "../../gcp/resources.js";
import type { ProbeDefinition } from "../api.js";
import { ARTIFACT_TAGS, REVISIONS, SERVICES } from "./api.js";
import { cloudRunOneOff } from "./cli.js";
import { schema, type CloudRunFields } from "./config.js";
import { CLOUD_RUN, explainRollout, judgeService, ROLLOUT_SERVING } from "./judge.js";
import { cloudRunRelations } from "./relations.js";
import { needsDigest, runCloudRun } from "./run.js";

const state = { class: "unhealthy" } as const;
const drift = { class: "drift" } as const;

const probe: ProbeDefinition<CloudRunFields> = {
  kind: "cloud-run",
  summary: "Cloud Run service: Ready, revision traffic, image, VPC egress",
  schema,
  metrics: {
    service: { ...drift, description: "the service's full resource name" },
    uri: { ...drift, description: "the service's URL" },
    rollout: { ...state, description: "SERVING, REVISION_FAILED, NOT_CONVERGED, NOT_READY or LATEST_NOT_READY", explain: explainRollout },
    ready: { ...state, description: "the service's Ready condition succeeded" },
    reconciling: { ...state, description: "a change is being rolled out" },
    converged: { ...state, description: "the control plane finished the latest change (even if its newest revision failed)" },
    finalFailure: { ...state, description: "the rollout ended with its newest revision failed: it will not recover by itself (--wait does not poll it again)" },
    condition: { ...state, description: "the service's terminal condition" },
    generation: { ...state, description: "the service's generation" },
    observedGeneration: { ...state, description: "the generation the control plane has acted on" },
    latestReadyRevision: { ...state, description: "newest revision that became ready" },
    latestCreatedRevision: { ...state, description: "newest revision created" },
    newestRevisionCondition: { ...state, description: "the newest revision's Ready condition, when it is not the latest ready one" },
    servingRevisions: { ...state, description: "revisions with traffic and their percentages" },
    traffic: { ...state, description: "the traffic split, as text" },
    tags: { ...drift, description: "traffic tags → revisions" },
    image: { ...drift, description: "image of the serving revision's ingress container, as deployed (a tag or a digest)" },
    imageDigest: {
      ...drift,
      description: "the digest (sha256:…) the serving revision resolved its image to when it was created — what actually runs (Cloud Run Admin API v1, regional endpoint); read when the check expects an image, a commit or this metric",
    },
    tagDigests: { ...drift, description: "what the tags an image or commit expectation relies on point to now in Artifact Registry (tag → sha256:…, null: no such tag)" },
    projectNumber: { ...drift, description: "the project's number, as the v1 API names the namespace" },
    serviceConditions: { ...state, description: "the service's conditions that did not succeed (RoutesReady, ConfigurationsReady…), with their reasons" },
    newestRevisionConditions: { ...state, description: "the newest revision's conditions that did not succeed, with reason / revisionReason (HEALTH_CHECK_CONTAINER_ERROR, MIN_INSTANCES_NOT_PROVISIONED…)" },
    newestRevisionLogs: { ...state, description: "the failed newest revision's last error lines (redacted, excerpted), when a Cloud Logging reader is wired in" },
    newestRevisionLogUri: { ...state, description: "the Cloud Logging link of the newest revision, when it is not the latest ready one" },
    labels: { ...drift, description: "labels of the serving revision" },
    vpcConnector: { ...drift, description: "Serverless VPC Access connector of the serving revision" },
    vpcEgress: { ...drift, description: "PRIVATE_RANGES_ONLY or ALL_TRAFFIC" },
    networkInterfaces: { ...drift, description: "Direct VPC egress interfaces" },
    env: { ...drift, description: "how each env var is set (literal, secret, empty) — never its value" },
    serviceAccount: { ...drift, description: "the serving revision's service account" },
  },
  defaultExpect: () => ({ rollout: ROLLOUT_SERVING }),
  judge: judgeService,
  relations: cloudRunRelations,
  diagnosis: {
    service: "the Cloud Run API",
    catalogue: CLOUD_RUN,
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
  },
  target: (spec) => `service ${spec.service}${spec.project || spec.region ? ` in ${[spec.project, spec.region].filter(Boolean).join("/")}` : ""}`,
  // Artifact Registry's client only when a check may ask it what a tag points to now.
  prepare: (specs) => preloadApis(specs.some(needsDigest) ? [SERVICES, REVISIONS, ARTIFACT_TAGS] : [SERVICES, REVISIONS]),
  run: runCloudRun,
  oneOff: cloudRunOneOff,
};

export default probe;
