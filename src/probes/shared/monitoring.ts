// Cloud Monitoring as evidence for a slow or timed-out check
// (ProbeDefinition.evidence): a resource's recent metrics — the last 10
// minutes of each series, via MetricService.ListTimeSeries — summed up in one
// line per metric, mean and max. Google's metrics are sampled every 60 s and
// land up to ~3 minutes late: the line says so, since "CPU 12 %" may predate
// the slowness it is read for.
import { defineGoogleApi } from "../../gcp/api.js";
import type { GcpSettings } from "../../gcp/resources.js";
import type { ProbeContext } from "../api.js";

export const MONITORING = defineGoogleApi({
  id: "monitoring",
  label: "Cloud Monitoring",
  host: "monitoring.googleapis.com",
  load: async () => (await import("@google-cloud/monitoring")).MetricServiceClient as never,
  rpcs: {
    ListTimeSeries: {
      permission: "monitoring.timeSeries.list",
      role: "roles/monitoring.viewer",
      notFound: ({ project }) => `Cloud Monitoring has no project ${project}: check gcp.project.`,
    },
  },
});

export const EVIDENCE_WINDOW_MINUTES = 10;
export const LAG_NOTE = "Cloud Monitoring metrics lag by up to ~3 minutes";

export interface EvidenceQuery {
  /** Full metric type, e.g. cloudsql.googleapis.com/database/cpu/utilization. */
  metricType: string;
  /** Monitored-resource labels that pick the resource (database_id = "P:I"). */
  resourceLabels: Record<string, string>;
  /** How the line names it ("Cloud SQL CPU"). */
  label: string;
  /** Ratios (0–1) are shown as percent. */
  unit: "ratio" | "count";
  /** Key of the numbers in details.evidenceMetrics. */
  key: string;
}

interface Series {
  points?: { value?: { doubleValue?: number | null; int64Value?: string | number | null } | null }[] | null;
}

const shown = (value: number, unit: EvidenceQuery["unit"]) => (unit === "ratio" ? `${Math.round(value * 100)} %` : String(Math.round(value)));

/**
 * One ListTimeSeries call per query (concurrently, in one session), into
 * ctx.details: `evidence` (the sentence) and `evidenceMetrics` (the numbers).
 */
export async function recentMetrics(ctx: ProbeContext, settings: GcpSettings, project: string, queries: EvidenceQuery[]): Promise<void> {
  const { withGcp } = await import("../../gcp/session.js");
  const end = Date.now();
  const interval = {
    startTime: { seconds: Math.floor((end - EVIDENCE_WINDOW_MINUTES * 60_000) / 1000), nanos: 0 },
    endTime: { seconds: Math.floor(end / 1000), nanos: 0 },
  };
  const results = await withGcp(ctx, settings, (gcp) =>
    Promise.all(
      queries.map(async (query) => {
        const labels = Object.entries(query.resourceLabels).map(([name, value]) => ` AND resource.labels.${name} = "${value}"`).join("");
        const request = { name: `projects/${project}`, filter: `metric.type = "${query.metricType}"${labels}`, interval, view: "FULL" };
        const series = await gcp.call<Series[]>(MONITORING, "ListTimeSeries", request, `projects/${project}`);
        const values = (series ?? []).flatMap((entry) => entry.points ?? []).map((point) => Number(point.value?.doubleValue ?? point.value?.int64Value ?? NaN)).filter(Number.isFinite);
        return { query, values };
      }),
    ),
  );
  const parts: string[] = [];
  const numbers: Record<string, { mean: number; max: number; points: number }> = {};
  for (const { query, values } of results) {
    if (!values.length) continue;
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    const max = Math.max(...values);
    numbers[query.key] = { mean: Math.round(mean * 1000) / 1000, max: Math.round(max * 1000) / 1000, points: values.length };
    parts.push(`${query.label} ${shown(mean, query.unit)} over the last ${EVIDENCE_WINDOW_MINUTES} min (max ${shown(max, query.unit)})`);
  }
  ctx.details.evidence = parts.length
    ? `${parts.join("; ")} — ${LAG_NOTE}`
    : `no Cloud Monitoring data for the last ${EVIDENCE_WINDOW_MINUTES} min (${LAG_NOTE})`;
  if (parts.length) ctx.details.evidenceMetrics = numbers;
}
