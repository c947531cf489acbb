// Naming a Cloud SQL instance: its connection name (project:region:instance,
// what `gcloud sql instances describe` prints as connectionName and what the
// connector takes), or just its id with the project from gcp.project / the
// check. Shared by the cloud-sql kind and a postgres check's `cloudSql:`.
import { z } from "zod";
import { defineCatalogue, failure } from "../../diagnose/catalogue.js";
import type { GcpSettings } from "../../gcp/resources.js";

export const CONNECTION_NAME = /^([a-z0-9.:-]+?):([a-z]+-[a-z]+\d+):([a-z][a-z0-9-]*)$/;
const INSTANCE_ID = /^[a-z][a-z0-9-]*$/;

export const instanceSchema = z
  .string()
  .min(1)
  .refine((value) => CONNECTION_NAME.test(value) || INSTANCE_ID.test(value), {
    message: "expected a connection name PROJECT:REGION:INSTANCE (e.g. acme-staging:us-central1:staging-postgres-db) or an instance id with gcp.project",
  })
  .meta({ description: "Connection name PROJECT:REGION:INSTANCE, or the instance id with gcp.project" });

export interface CloudSqlInstance {
  project: string;
  /** From the connection name; absent for a bare id. */
  region?: string;
  id: string;
  /** projects/P/instances/I: how calls and failures name it. */
  resource: string;
}

export const CLOUD_SQL_CONFIG = defineCatalogue("cloudsql", {
  NO_PROJECT: {
    class: "config",
    message: (f: { id: string }) => `no Google Cloud project for Cloud SQL instance "${f.id}"`,
    hint: "Give the connection name PROJECT:REGION:INSTANCE, or set gcp.project at the top of the config (or project: on the check).",
  },
});

export function cloudSqlInstance(value: string, settings: GcpSettings): CloudSqlInstance {
  const match = CONNECTION_NAME.exec(value);
  if (match) return { project: match[1], region: match[2], id: match[3], resource: `projects/${match[1]}/instances/${match[3]}` };
  if (!settings.project) throw failure(CLOUD_SQL_CONFIG.NO_PROJECT, { id: value });
  return { project: settings.project, ...(settings.region ? { region: settings.region } : {}), id: value, resource: `projects/${settings.project}/instances/${value}` };
}
