// Prometheus text exposition format (version 0.0.4), rendered by prom-client
// (the ecosystem's client library, which `infra-check serve` exposes too), for
// node_exporter's textfile collector (write it with
// `--output prometheus=/var/lib/node_exporter/infra-check.prom`) or a
// Pushgateway (`curl --data-binary @file`). Every series carries the
// environment, so several environments can share one collector directory.
//
//   infra_check_up{env,check,kind}                     1 = passed or warned, 0 = failed, blocked or interrupted
//   infra_check_status{env,check,kind,status}          1 for the check's status (pass, warn, fail, blocked, interrupted), 0 for the others
//   infra_check_failure_info{env,check,kind,class,code,diagnosis}
//                                                      1 while the check has a failure: the diagnosis as labels
//                                                      (the failure class, the evidence code, the catalogue id) — never free text
//   infra_check_duration_seconds{env,check,kind}       check wall time (absent for blocked checks)
//   infra_check_phase_seconds{env,check,kind,phase}    phases that happened (dns, connect, tls, …)
//   infra_check_metric{env,check,kind,metric}          numeric and boolean (1/0) probe metrics, as
//                                                      measured: the metric name carries its unit (totalMs)
//   infra_check_attempts{env,check,kind}               runs the check needed (with --wait)
//   infra_check_run_ok{env}                            1 when the run's exit code is 0
//   infra_check_run_duration_seconds{env}
//   infra_check_run_timestamp_seconds{env}             when the run started (alert on staleness)
import { Gauge, Registry } from "prom-client";
import { STATUSES, type MetricValue } from "../diagnose/vocabulary.js";
import type { AsyncReporter, CheckResult, RunReport } from "../report/schema.js";

export type Labels = Record<string, string>;
export interface Sample {
  labels: Labels;
  value: number;
}
export interface FamilyDef {
  name: string;
  help: string;
  labelNames: readonly string[];
}

const CHECK = ["env", "check", "kind"] as const;

/** The per-check families, in exposition order: the same names in `--format prometheus`, `/metrics` and `/probe`. */
export const CHECK_FAMILIES: readonly FamilyDef[] = [
  { name: "infra_check_up", help: "Whether the check passed or warned (1) or failed, was blocked or was interrupted (0).", labelNames: CHECK },
  { name: "infra_check_status", help: "1 for the check's status (pass, warn, fail, blocked, interrupted), 0 for the others.", labelNames: [...CHECK, "status"] },
  {
    name: "infra_check_failure_info",
    help: "1 while the check has a failure: its class, evidence code and catalogue diagnosis as labels (never free text).",
    labelNames: [...CHECK, "class", "code", "diagnosis"],
  },
  { name: "infra_check_duration_seconds", help: "Wall time of the check in seconds.", labelNames: CHECK },
  { name: "infra_check_phase_seconds", help: "Time spent in each phase of the check in seconds (only phases that happened).", labelNames: [...CHECK, "phase"] },
  {
    name: "infra_check_metric",
    help: "Numeric probe metrics as measured (the metric name carries its unit, e.g. totalMs); booleans as 1/0.",
    labelNames: [...CHECK, "metric"],
  },
  { name: "infra_check_attempts", help: "How many times the check ran before the report (more than 1 with --wait retries).", labelNames: CHECK },
];

/** The whole run's families (a one-shot run; `serve` has no "run"). */
export const RUN_FAMILIES: readonly FamilyDef[] = [
  { name: "infra_check_run_ok", help: "Whether the whole run was healthy (exit code 0).", labelNames: ["env"] },
  { name: "infra_check_run_duration_seconds", help: "Wall time of the whole run in seconds.", labelNames: ["env"] },
  { name: "infra_check_run_timestamp_seconds", help: "Start of the run as a Unix timestamp in seconds.", labelNames: ["env"] },
];

/** The samples of CHECK_FAMILIES for these checks, by family name. */
export function checkSamples(env: string, checks: readonly CheckResult[]): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>(CHECK_FAMILIES.map((family) => [family.name, []]));
  const add = (name: string, labels: Labels, value: number) => out.get(name)!.push({ labels, value });
  for (const check of checks) {
    const labels = { env, check: check.name, kind: check.kind };
    add("infra_check_up", labels, check.status === "pass" || check.status === "warn" ? 1 : 0);
    for (const status of STATUSES) add("infra_check_status", { ...labels, status }, check.status === status ? 1 : 0);
    if (check.failure) {
      add("infra_check_failure_info", { ...labels, class: check.failure.class, code: codeLabel(check.failure.code), diagnosis: codeLabel(check.failure.diagnosis) }, 1);
    }
    if (check.status === "blocked" || (check.status === "interrupted" && !check.interrupted?.phase)) continue;
    add("infra_check_duration_seconds", labels, seconds(check.durationMs));
    for (const [name, ms] of Object.entries(check.phasesMs)) add("infra_check_phase_seconds", { ...labels, phase: name }, seconds(ms));
    for (const [name, value] of numericMetrics(check)) add("infra_check_metric", { ...labels, metric: name }, value);
    if (check.attempts !== undefined) add("infra_check_attempts", labels, check.attempts);
  }
  return out;
}

function runSamples(report: RunReport): Map<string, Sample[]> {
  const labels = { env: report.env };
  const started = Date.parse(report.startedAt);
  return new Map([
    ["infra_check_run_ok", [{ labels, value: report.ok ? 1 : 0 }]],
    ["infra_check_run_duration_seconds", [{ labels, value: seconds(report.durationMs) }]],
    ["infra_check_run_timestamp_seconds", Number.isFinite(started) ? [{ labels, value: started / 1000 }] : []],
  ]);
}

/**
 * A label made of an identifier the tool chose (an errno, a SQLSTATE, a close
 * code, a catalogue id): anything else is not a label value — free text would
 * make a series per message, and could carry what a label must never show.
 */
export function codeLabel(value: string | undefined): string {
  if (value === undefined || value === "") return "";
  return /^[A-Za-z0-9_.:/-]{1,64}$/.test(value) ? value : "other";
}

/** One gauge per family that has samples, in `registry`. */
export function registerGauges(registry: Registry, families: readonly FamilyDef[], samples: ReadonlyMap<string, Sample[]>): void {
  for (const family of families) {
    const found = samples.get(family.name) ?? [];
    if (found.length === 0) continue;
    const gauge = new Gauge({ name: family.name, help: family.help, labelNames: family.labelNames, registers: [registry] });
    for (const sample of found) gauge.set(sample.labels, sample.value);
  }
}

/** A registry's text: prom-client writes NaN as "Nan" (e.g. its event-loop lag gauges before their first sample); the text format spells it NaN. */
export async function exposition(registry: Registry): Promise<string> {
  return (await registry.metrics()).replace(/ Nan$/gm, " NaN");
}

const prometheus: AsyncReporter = (report) => {
  const registry = new Registry();
  registerGauges(registry, CHECK_FAMILIES, checkSamples(report.env, report.checks));
  registerGauges(registry, RUN_FAMILIES, runSamples(report));
  return exposition(registry);
};

function numericMetrics(check: CheckResult): [string, number][] {
  return Object.entries(check.metrics).flatMap(([name, value]: [string, MetricValue]): [string, number][] => {
    if (typeof value === "number") return [[name, value]];
    if (typeof value === "boolean") return [[name, value ? 1 : 0]];
    return [];
  });
}

/** ms → s without binary-fraction noise (0.0123, not 0.012300000000000001). */
export function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(6));
}

export default prometheus;
