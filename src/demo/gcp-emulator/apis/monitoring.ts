// Cloud Monitoring API v3: MetricService.ListTimeSeries over series the
// tests and the demo set (a metric type, the monitored resource's labels,
// values spread over the last minutes). The filter is read the way infra-check
// writes it — metric.type = "…" AND resource.labels.NAME = "…" — and every
// named label must match.
import { defineEmulatedApi, type ServiceHandlers } from "../api.js";

export interface StoredSeries {
  metricType: string;
  resourceType: string;
  resourceLabels: Record<string, string>;
  /** Oldest first; one point a minute ending now. */
  values: number[];
  valueType: "DOUBLE" | "INT64";
}

export interface MonitoringControls {
  /** Add (or replace, by metric type and labels) a series. */
  setTimeSeries(series: Omit<StoredSeries, "valueType" | "resourceType"> & Partial<Pick<StoredSeries, "valueType" | "resourceType">>): void;
  clearTimeSeries(): void;
}

const FILTER_TERM = /(metric\.type|resource\.labels\.([a-z_]+))\s*=\s*"([^"]*)"/g;

export const MONITORING = defineEmulatedApi<MonitoringControls>({
  protos: { monitoring: "@google-cloud/monitoring/build/protos/protos.json" },
  domain: "monitoring.googleapis.com",
  permissions: { ListTimeSeries: "monitoring.timeSeries.list" },
  start(tools) {
    const stored: StoredSeries[] = [];
    const sameSeries = (a: Pick<StoredSeries, "metricType" | "resourceLabels">, b: Pick<StoredSeries, "metricType" | "resourceLabels">) =>
      a.metricType === b.metricType && JSON.stringify(a.resourceLabels) === JSON.stringify(b.resourceLabels);
    return {
      controls: {
        setTimeSeries(series) {
          const entry: StoredSeries = { valueType: "DOUBLE", resourceType: "global", ...series };
          const index = stored.findIndex((candidate) => sameSeries(candidate, entry));
          if (index >= 0) stored[index] = entry;
          else stored.push(entry);
        },
        clearTimeSeries: () => void (stored.length = 0),
      },
      clearFaults: () => void (stored.length = 0),
      services: <ServiceHandlers[]>[
        {
          proto: "monitoring",
          service: "google.monitoring.v3.MetricService",
          handlers: {
            listTimeSeries: tools.rpc("ListTimeSeries", "name", (_name, request) => {
              const filter = String(request.filter ?? "");
              let metricType: string | undefined;
              const labels: Record<string, string> = {};
              for (const match of filter.matchAll(FILTER_TERM)) {
                if (match[1] === "metric.type") metricType = match[3];
                else labels[match[2]] = match[3];
              }
              if (!metricType) return tools.errorFor("INVALID_ARGUMENT", "Field filter had an invalid value: a metric.type is required.");
              const now = Math.floor(Date.now() / 1000);
              const timeSeries = stored
                .filter((series) => series.metricType === metricType && Object.entries(labels).every(([key, value]) => series.resourceLabels[key] === value))
                .map((series) => ({
                  metric: { type: series.metricType, labels: {} },
                  resource: { type: series.resourceType, labels: series.resourceLabels },
                  metricKind: "GAUGE",
                  valueType: series.valueType,
                  // Newest first, as the API returns them.
                  points: series.values
                    .map((value, index) => {
                      const at = { seconds: String(now - (series.values.length - 1 - index) * 60), nanos: 0 };
                      return { interval: { startTime: at, endTime: at }, value: series.valueType === "INT64" ? { int64Value: String(Math.round(value)) } : { doubleValue: value } };
                    })
                    .reverse(),
                }));
              return { ok: { timeSeries, nextPageToken: "", executionErrors: [], unit: "" } };
            }),
          },
        },
      ],
    };
  },
});
