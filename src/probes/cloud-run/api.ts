// The Cloud Run Admin API v2 as the cloud-run kind calls it: RPCs, the IAM
// permission each needs, the role that grants it, and what NOT_FOUND means.
import { defineGoogleApi } from "../../gcp/api.js";

const load = async () => await import("@google-cloud/run");

export const SERVICES = defineGoogleApi({
  id: "run.services",
  label: "Cloud Run",
  host: "run.googleapis.com",
  load: async () => (await load()).v2.ServicesClient as never,
  rpcs: {
    GetService: {
      permission: "run.services.get",
      role: "roles/run.viewer",
      notFound: ({ name, project, region }) =>
        `No Cloud Run service "${name}" in project ${project}, region ${region}: check the name, gcp.project and gcp.region (gcloud run services list --project ${project} --region ${region}).`,
    },
  },
});

export const REVISIONS = defineGoogleApi({
  id: "run.revisions",
  label: "Cloud Run",
  host: "run.googleapis.com",
  load: async () => (await load()).v2.RevisionsClient as never,
  rpcs: {
    GetRevision: {
      permission: "run.revisions.get",
      role: "roles/run.viewer",
      notFound: ({ region }) => `The revision is gone (deleted, or the service was re-created): re-run after the rollout settles (gcloud run revisions list --service … --region ${region}).`,
    },
  },
});
