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
      list: { method: "ListServices" },
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

/**
 * The Cloud Run Admin API v1 (Knative-style REST), on the regional endpoint:
 * the only surface that reports the digest a revision resolved its image to
 * (`status.imageDigest`, what `gcloud run revisions describe` shows as
 * "Image: X at sha256:Y"). v2 Revisions carry only the image as deployed.
 */
export const REVISIONS_V1 = defineGoogleApi({
  id: "run.v1",
  label: "Cloud Run",
  host: "run.googleapis.com",
  rpcs: {
    "v1.GetRevision": {
      permission: "run.revisions.get",
      role: "roles/run.viewer",
      notFound: ({ region }) => `The revision is gone (deleted, or the service was re-created): re-run after the rollout settles (gcloud run revisions list --service … --region ${region}).`,
    },
  },
});

/** The regional host of the v1 API (`us-central1-run.googleapis.com`). */
export const runV1Host = (region: string) => `${region}-run.googleapis.com`;

/**
 * Artifact Registry: what a tag points to now, to tell a re-pushed tag (the
 * serving revision still runs the digest the tag had when it was created).
 */
export const ARTIFACT_TAGS = defineGoogleApi({
  id: "artifactregistry",
  label: "Artifact Registry",
  host: "artifactregistry.googleapis.com",
  load: async () => (await import("@google-cloud/artifact-registry")).ArtifactRegistryClient as never,
  rpcs: {
    GetTag: {
      permission: "artifactregistry.tags.get",
      role: "roles/artifactregistry.reader",
      list: { method: "ListTags" },
      permissionHint: ({ resource, project }) => {
        const repository = /\/repositories\/([^/]+)/.exec(resource)?.[1] ?? "REPOSITORY";
        const location = /\/locations\/([^/]+)/.exec(resource)?.[1] ?? "LOCATION";
        return `The identity infra-check runs as needs artifactregistry.tags.get to read which digest the tag points to now: grant roles/artifactregistry.reader on the repository (gcloud artifacts repositories add-iam-policy-binding ${repository} --location ${location} --project ${project} --member=IDENTITY --role=roles/artifactregistry.reader), or expect the image by digest (image@sha256:…) instead of by tag.`;
      },
    },
  },
});
