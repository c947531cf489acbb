// Prometheus text exposition format (version 0.0.4), for node_exporter's
// textfile collector (write it with `--output prometheus=/var/lib/node_exporter/infra-check.prom`)
// or a Pushgateway (`curl --data-binary @file`). Every series carries the
// environment, so several environments can share one collector directory.
//
//   infra_check_up{env,check,kind}                     1 = passed or warned, 0 = failed or blocked
//   infra_check_duration_seconds{env,check,kind}       check wall time (absent for blocked checks)
//   infra_check_phase_seconds{env,check,kind,phase}    phases that happened (dns, connect, tls, …)
//   infra_check_metric{env,check,kind,metric}          numeric and boolean (1/0) probe metrics, as
//                                                      measured: the metric name carries its unit (totalMs)
//   infra_check_attempts{env,check,kind}               runs the check needed (with --wait)
//   infra_check_run_ok{env}                            1 when the run's exit code is 0
//   infra_check_run_duration_seconds{env}
//   infra_check_run_timestamp_seconds{env}             when the run started (alert on staleness)
import type { MetricValue } from "../diagnose/vocabulary.js";
import type { CheckResult, Reporter } from "../report/schema.js";

type Labels = Record<string, string>;
interface Family {
  name: string;
  help: string;
  samples: { labels: Labels; value: number }[];
}

const prometheus: Reporter = (report) => {
  const env = report.env;
  const families: Family[] = [
    family("infra_check_up", "Whether the check passed or warned (1) or failed or was blocked (0)."),
    family("infra_check_duration_seconds", "Wall time of the check in seconds."),
    family("infra_check_phase_seconds", "Time spent in each phase of the check in seconds (only phases that happened)."),
    family("infra_check_metric", "Numeric probe metrics as measured (the metric name carries its unit, e.g. totalMs); booleans as 1/0."),
    family("infra_check_attempts", "How many times the check ran before the report (more than 1 with --wait retries)."),
    family("infra_check_run_ok", "Whether the whole run was healthy (exit code 0)."),
    family("infra_check_run_duration_seconds", "Wall time of the whole run in seconds."),
    family("infra_check_run_timestamp_seconds", "Start of the run as a Unix timestamp in seconds."),
  ];
  const [up, duration, phase, metric, attempts, runOk, runDuration, runTimestamp] = families;
  for (const check of report.checks) {
    const labels = { env, check: check.name, kind: check.kind };
    up.samples.push({ labels, value: check.status === "pass" || check.status === "warn" ? 1 : 0 });
    if (check.status === "blocked") continue;
    duration.samples.push({ labels, value: seconds(check.durationMs) });
    for (const [name, ms] of Object.entries(check.phasesMs)) phase.samples.push({ labels: { ...labels, phase: name }, value: seconds(ms) });
    for (const [name, value] of numericMetrics(check)) metric.samples.push({ labels: { ...labels, metric: name }, value });
    if (check.attempts !== undefined) attempts.samples.push({ labels, value: check.attempts });
  }
  runOk.samples.push({ labels: { env }, value: report.ok ? 1 : 0 });
  runDuration.samples.push({ labels: { env }, value: seconds(report.durationMs) });
  const started = Date.parse(report.startedAt);
  if (Number.isFinite(started)) runTimestamp.samples.push({ labels: { env }, value: started / 1000 });
  return families.filter((f) => f.samples.length).map(render).join("");
};

function family(name: string, help: string): Family {
  return { name, help, samples: [] };
}

function render(f: Family): string {
  const lines = [`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} gauge`];
  for (const sample of f.samples) lines.push(`${f.name}{${formatLabels(sample.labels)}} ${formatValue(sample.value)}`);
  return lines.join("\n") + "\n";
}

function numericMetrics(check: CheckResult): [string, number][] {
  return Object.entries(check.metrics).flatMap(([name, value]: [string, MetricValue]): [string, number][] => {
    if (typeof value === "number") return [[name, value]];
    if (typeof value === "boolean") return [[name, value ? 1 : 0]];
    return [];
  });
}

function formatLabels(labels: Labels): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(",");
}

/** Label values: backslash, double quote and line feed are the characters the format escapes. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text: backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** ms → s without binary-fraction noise (0.0123, not 0.012300000000000001). */
function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(6));
}

export default prometheus;
