// The Cloud SQL Admin API v1 as the cloud-sql kind (SqlInstancesService.Get)
// and a postgres check through the connector (SqlConnectService: connect
// settings and the ephemeral client certificate) call it. Cloud SQL names an
// instance by project and id (no region in the path): the resource the calls
// are reported under is projects/P/instances/I.
import { defineGoogleApi, type ResourceParts } from "../../gcp/api.js";

/** projects/P/instances/I → P and I. */
export function instanceParts(resource: string): { project: string; id: string } {
  const match = /^projects\/([^/]+)\/instances\/([^/]+)$/.exec(resource);
  return { project: match?.[1] ?? "PROJECT", id: match?.[2] ?? resource.split("/").pop() ?? resource };
}

/**
 * Cloud SQL answers 403 notAuthorized, not 404, for an instance that does not
 * exist (so that names cannot be probed): the same words for both cases.
 */
const notAuthorized = (role: string, permission: string) => ({ resource }: ResourceParts) => {
  const { project, id } = instanceParts(resource);
  return (
    `Cloud SQL says "not authorized" both for an instance that does not exist and for one you may not see: instance "${id}" in project ${project} does not exist, or you may not see it. ` +
    `Check the name (gcloud sql instances list --project ${project}); if it is there, grant ${role} (${permission}) to the identity infra-check runs as.`
  );
};
const notFound = ({ resource }: ResourceParts) => {
  const { project, id } = instanceParts(resource);
  return `No Cloud SQL instance "${id}" in project ${project}: check the name (gcloud sql instances list --project ${project}).`;
};

export const CLOUD_SQL = defineGoogleApi({
  id: "sql.instances",
  label: "Cloud SQL Admin",
  host: "sqladmin.googleapis.com",
  load: async () => (await import("@google-cloud/sql")).SqlInstancesServiceClient as never,
  rpcs: {
    Get: { permission: "cloudsql.instances.get", role: "roles/cloudsql.viewer", notFound, permissionHint: notAuthorized("roles/cloudsql.viewer", "cloudsql.instances.get") },
  },
});

const connectHint = (what: string) => ({ resource }: ResourceParts) => {
  const { project, id } = instanceParts(resource);
  return (
    `${what} needs cloudsql.instances.connect: grant roles/cloudsql.client on project ${project} (gcloud projects add-iam-policy-binding ${project} --member=IDENTITY --role=roles/cloudsql.client) ` +
    `— or instance "${id}" does not exist, or you may not see it (Cloud SQL answers "not authorized" for both).`
  );
};

export const CLOUD_SQL_CONNECT = defineGoogleApi({
  id: "sql.connect",
  label: "Cloud SQL Admin (connect)",
  host: "sqladmin.googleapis.com",
  load: async () => (await import("@google-cloud/sql")).SqlConnectServiceClient as never,
  rpcs: {
    GetConnectSettings: { permission: "cloudsql.instances.connect", role: "roles/cloudsql.client", notFound, permissionHint: connectHint("Reading the instance's connect settings") },
    GenerateEphemeralCert: {
      permission: "cloudsql.instances.connect",
      role: "roles/cloudsql.client",
      notFound,
      permissionHint: connectHint("Refreshing the connector's ephemeral client certificate"),
    },
  },
});
