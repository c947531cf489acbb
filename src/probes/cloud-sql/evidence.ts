// What Cloud Monitoring says about a Cloud SQL instance while a check on it
// is slow or times out: CPU, memory and disk utilization and PostgreSQL's
// backends, the last 10 minutes (src/probes/shared/monitoring.ts). Used by
// the cloud-sql kind and by postgres checks that reach (or depend on) an instance.
import { gcpSettings } from "../../gcp/resources.js";
import type { ProbeContext } from "../api.js";
import { recentMetrics, type EvidenceQuery } from "../shared/monitoring.js";
import { instanceParts } from "./api.js";
import { cloudSqlInstance } from "./config.js";

const PREFIX = "cloudsql.googleapis.com/database";

export function cloudSqlQueries(project: string, id: string): EvidenceQuery[] {
  const resourceLabels = { database_id: `${project}:${id}` };
  return [
    { metricType: `${PREFIX}/cpu/utilization`, resourceLabels, label: "Cloud SQL CPU", unit: "ratio", key: "cpuUtilization" },
    { metricType: `${PREFIX}/memory/utilization`, resourceLabels, label: "memory", unit: "ratio", key: "memoryUtilization" },
    { metricType: `${PREFIX}/disk/utilization`, resourceLabels, label: "disk", unit: "ratio", key: "diskUtilization" },
    { metricType: `${PREFIX}/postgresql/num_backends`, resourceLabels, label: "backends", unit: "count", key: "numBackends" },
  ];
}

/** `instance` as configured (connection name or id) or measured (projects/P/instances/I). */
export async function cloudSqlEvidence(ctx: ProbeContext, instance: string): Promise<void> {
  const settings = gcpSettings({}, ctx.deps);
  const { project, id } = instance.startsWith("projects/") ? instanceParts(instance) : cloudSqlInstance(instance, settings);
  await recentMetrics(ctx, settings, project, cloudSqlQueries(project, id));
}
