// What Cloud Monitoring says about a Memorystore instance while a redis check
// on it is slow or times out: memory usage ratio and connected clients, the
// last 10 minutes (src/probes/shared/monitoring.ts).
import { gcpSettings } from "../../gcp/resources.js";
import type { ProbeContext } from "../api.js";
import { recentMetrics } from "../shared/monitoring.js";

/** `instance`: the full name a memorystore check measured (projects/P/locations/R/instances/I), the resource's instance_id label. */
export async function memorystoreEvidence(ctx: ProbeContext, instance: string): Promise<void> {
  const project = /^projects\/([^/]+)\//.exec(instance)?.[1];
  if (!project) return;
  const resourceLabels = { instance_id: instance };
  await recentMetrics(ctx, gcpSettings({}, ctx.deps), project, [
    { metricType: "redis.googleapis.com/stats/memory/usage_ratio", resourceLabels, label: "Memorystore memory", unit: "ratio", key: "memoryUsageRatio" },
    { metricType: "redis.googleapis.com/clients/connected", resourceLabels, label: "clients", unit: "count", key: "connectedClients" },
  ]);
}
