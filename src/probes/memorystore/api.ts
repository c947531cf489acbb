// The Memorystore for Redis API v1 as the memorystore kind (and the
// `{ memorystoreAuth }` secret reference) calls it.
import { defineGoogleApi } from "../../gcp/api.js";

const notFound = ({ resource, project, region }: { resource: string; project: string; region: string }) =>
  `No Memorystore instance "${resource.split("/")[5] ?? resource}" in project ${project}, region ${region}: check the name and region (gcloud redis instances list --region ${region} --project ${project}).`;

export const MEMORYSTORE = defineGoogleApi({
  id: "redis",
  label: "Memorystore for Redis",
  host: "redis.googleapis.com",
  load: async () => (await import("@google-cloud/redis")).CloudRedisClient as never,
  rpcs: {
    GetInstance: { permission: "redis.instances.get", role: "roles/redis.viewer", notFound },
    GetInstanceAuthString: {
      permission: "redis.instances.getAuthString",
      role: "roles/redis.editor",
      notFound,
      permissionHint: () =>
        "Reading a Memorystore AUTH string needs redis.instances.getAuthString (roles/redis.editor or roles/redis.admin; roles/redis.viewer does not include it). Grant it, or store the AUTH string in Secret Manager and use { secret: … }.",
    },
  },
});

export const MEMORYSTORE_INSTANCES = { collection: "instances", noun: "Memorystore instance" };
