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
    GetInstance: { permission: "redis.instances.get", role: "roles/redis.viewer", notFound, list: { method: "ListInstances" } },
    // `infra-check init`: which instance an app's Redis host is (src/probes/memorystore/init.ts).
    ListInstances: { permission: "redis.instances.list", role: "roles/redis.viewer" },
    GetInstanceAuthString: {
      permission: "redis.instances.getAuthString",
      // Only roles/redis.admin among the Memorystore roles (and basic Editor/Owner) holds it; roles/redis.editor does not.
      role: "roles/redis.admin",
      notFound,
      permissionHint: ({ project }) =>
        "Reading a Memorystore AUTH string needs redis.instances.getAuthString, which among predefined roles only roles/redis.admin (and basic Editor/Owner) holds — not roles/redis.editor or roles/redis.viewer. " +
        `Rather than admin, grant a custom role with just that permission (gcloud iam roles create redisAuthStringReader --project ${project} --permissions=redis.instances.getAuthString,redis.instances.get; ` +
        `gcloud projects add-iam-policy-binding ${project} --member=IDENTITY --role=projects/${project}/roles/redisAuthStringReader), or store the AUTH string in Secret Manager and use { secret: … }.`,
    },
  },
});

export const MEMORYSTORE_INSTANCES = { collection: "instances", noun: "Memorystore instance" };
