// `/metrics` and `/probe` of `infra-check serve`, through prom-client. The
// per-check families are the ones `--format prometheus` writes
// (src/reporters/prometheus.ts), read from the monitor's latest results at
// each scrape; on top of them what only a long-running process has: when each
// check last ran and last changed, a histogram of cycle durations, counters
// of cycles, probe requests and reloads, and prom-client's process metrics.
import * as client from "prom-client";
import { CHECK_FAMILIES, checkSamples, exposition, registerGauges, seconds } from "../../reporters/prometheus.js";
import type { CheckResult } from "../../report/schema.js";
import { STATUSES } from "../../diagnose/vocabulary.js";
import type { CheckState, Monitor } from "./monitor.js";

type PromClient = typeof client;

const CHECK = ["env", "check", "kind"] as const;
/** How old the process metrics in a scrape may be. */
const LIVE_MAX_AGE_MS = 1000;
/** Seconds: from a loopback ping to a check that spends a 30 s budget. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface ServeMetrics {
  contentType: string;
  /** The whole exposition (`/metrics`). */
  metrics(): Promise<string>;
  /** One probe's exposition (`/probe`): the checks' families and blackbox_exporter's probe_success / probe_duration_seconds. */
  probe(results: CheckResult[], durationMs: number): Promise<string>;
  /** A `/probe` asked for the check; `joined` when it waited for a cycle already running. */
  probeRequested(spec: CheckState["spec"], joined: boolean): void;
  reloaded(ok: boolean): void;
}

export function createServeMetrics(monitor: Monitor): ServeMetrics {
  // Two registries: what derives from the checks' results changes only when a cycle ends (or a reload),
  // so its text is rendered once per change; the process metrics and request counters at every scrape.
  const registry = new client.Registry();
  const live = new client.Registry();
  client.collectDefaultMetrics({ register: live });
  const labelsOf = (spec: { name: string; kind: string }) => ({ env: monitor.env, check: spec.name, kind: spec.kind });
  // The families' samples change only when a cycle ends: computed once per change, not once per family per scrape.
  let cached: { version: number; samples: ReturnType<typeof checkSamples> } | undefined;
  const samples = () => {
    if (cached?.version !== monitor.version) cached = { version: monitor.version, samples: checkSamples(monitor.env, monitor.latest()) };
    return cached.samples;
  };

  // Read at scrape time: the series are exactly the current config's checks, whatever reloads did.
  for (const family of CHECK_FAMILIES) {
    const gauge: InstanceType<PromClient["Gauge"]> = new client.Gauge({
      name: family.name,
      help: family.help,
      labelNames: family.labelNames,
      registers: [registry],
      collect() {
        gauge.reset();
        for (const sample of samples().get(family.name) ?? []) gauge.set(sample.labels, sample.value);
      },
    });
  }
  const perCheck = (name: string, help: string, value: (state: CheckState) => number | undefined) => {
    const gauge: InstanceType<PromClient["Gauge"]> = new client.Gauge({
      name,
      help,
      labelNames: CHECK,
      registers: [registry],
      collect() {
        gauge.reset();
        for (const state of monitor.checks()) {
          const found = value(state);
          if (found !== undefined) gauge.set(labelsOf(state.spec), found);
        }
      },
    });
  };
  perCheck("infra_check_last_run_timestamp_seconds", "When the check's latest cycle ended, as a Unix timestamp in seconds (alert on staleness).", (state) =>
    state.endedAtMs === undefined ? undefined : state.endedAtMs / 1000,
  );
  perCheck("infra_check_last_change_timestamp_seconds", "Since when the check has had its current status, as a Unix timestamp in seconds.", (state) =>
    state.sinceMs === undefined ? undefined : state.sinceMs / 1000,
  );
  const healthy: InstanceType<PromClient["Gauge"]> = new client.Gauge({
    name: "infra_check_run_ok",
    help: "Whether every check's latest result is healthy (what /healthz answers: 1 = 200, 0 = 503).",
    labelNames: ["env"],
    registers: [registry],
    collect() {
      healthy.reset();
      healthy.set({ env: monitor.env }, monitor.healthy() ? 1 : 0);
    },
  });

  const cycleSeconds = new client.Histogram({
    name: "infra_check_cycle_duration_seconds",
    help: "Wall time of each cycle of the check in seconds.",
    labelNames: CHECK,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const cycles = new client.Counter({ name: "infra_check_cycles_total", help: "Cycles run, by the status they ended in.", labelNames: [...CHECK, "status"], registers: [registry] });
  const probes = new client.Counter({
    name: "infra_check_probe_requests_total",
    help: "/probe requests, by whether they joined a cycle already running (joined=true) or started one.",
    labelNames: [...CHECK, "joined"],
    registers: [live],
  });
  const reloads = new client.Counter({ name: "infra_check_config_reloads_total", help: "SIGHUP reloads, by result (ok, or rejected: the old config kept).", labelNames: ["result"], registers: [live] });

  monitor.listen({
    onCycle(state, result) {
      cycleSeconds.observe(labelsOf(state.spec), seconds(result.durationMs));
      cycles.inc({ ...labelsOf(state.spec), status: result.status });
    },
    // A removed check's series go with it: a config's history does not accumulate in memory.
    onRemoved(specs) {
      for (const spec of specs) {
        const labels = labelsOf(spec);
        cycleSeconds.remove(labels);
        for (const status of STATUSES) cycles.remove({ ...labels, status });
        for (const joined of ["true", "false"]) probes.remove({ ...labels, joined });
      }
    },
  });

  let results: { version: number; text: Promise<string> } | undefined;
  const resultsText = () => {
    if (results?.version !== monitor.version) results = { version: monitor.version, text: exposition(registry) };
    return results.text;
  };
  // The process metrics of one rendering serve every scrape of the next LIVE_MAX_AGE_MS: scrapes that
  // come together (several Prometheus replicas, a dashboard's burst) cost one rendering, not one each.
  let liveText: { at: number; text: Promise<string> } | undefined;
  const liveExposition = () => {
    const now = performance.now();
    if (!liveText || now - liveText.at > LIVE_MAX_AGE_MS) liveText = { at: now, text: exposition(live) };
    return liveText.text;
  };
  return {
    contentType: registry.contentType,
    metrics: async () => `${await resultsText()}\n${await liveExposition()}`,
    probe: (results, durationMs) => probeExposition(monitor.env, results, durationMs),
    probeRequested: (spec, joined) => probes.inc({ ...labelsOf(spec), joined: String(joined) }),
    reloaded: (ok) => reloads.inc({ result: ok ? "ok" : "rejected" }),
  };
}

function probeExposition(env: string, results: CheckResult[], durationMs: number): Promise<string> {
  const registry = new client.Registry();
  const success = new client.Gauge({ name: "probe_success", help: "Whether the probe succeeded: every check asked for passed or warned.", registers: [registry] });
  success.set(results.every((result) => result.status === "pass" || result.status === "warn") ? 1 : 0);
  const duration = new client.Gauge({ name: "probe_duration_seconds", help: "How long the probe took, in seconds.", registers: [registry] });
  duration.set(seconds(durationMs));
  registerGauges(registry, CHECK_FAMILIES, checkSamples(env, results));
  return exposition(registry);
}
