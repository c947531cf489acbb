// Judging saved measurements again, offline: a report's checks carry what
// was observed (phases, metrics, details, and the probe's diagnosis when it
// could not measure), so the same judgement step gives the same verdicts —
// against the current config's expectations, or against another baseline.
import type { Judgement } from "../evaluate/judge.js";
import { judge, withRegression } from "../evaluate/judge.js";
import { judgeRegression, referenceFor, resolveRegression, baselineSummary, type BaselineSource, type RegressionConfig } from "../evaluate/regression.js";
import type { CheckSpec, ProbeDefinition } from "../probes/api.js";
import { blockedResult, topologicalOrder } from "../runner/run-checks.js";
import { Diagnosed } from "../diagnose/catalogue.js";
import { buildReport } from "./build.js";
import type { CheckResult, RunReport } from "./schema.js";

export { measurementOf } from "../evaluate/measurement.js";
import { measurementOf } from "../evaluate/measurement.js";

export interface RejudgeInput {
  checks: CheckSpec[];
  probes: Map<string, ProbeDefinition>;
  baseline?: { source: BaselineSource; regression?: RegressionConfig };
}

/**
 * Every check of `report` judged again from its saved measurement, with the
 * config's specs (expectations, relations) and optionally a baseline. A
 * check that was blocked was never measured: it stays blocked. A check whose
 * relation to a dependency failed before connecting (preflight) is judged by
 * that relation again. An interrupted check has no complete measurement: it
 * stays interrupted, and so does the report.
 */
export function rejudgeReport(report: RunReport, input: RejudgeInput): RunReport {
  const saved = new Map(report.checks.map((check) => [check.name, check]));
  const results = new Map<string, CheckResult>();
  const specs = input.checks.filter((spec) => saved.has(spec.name));
  for (const spec of topologicalOrder(specs)) {
    const check = saved.get(spec.name)!;
    if (check.status === "interrupted") {
      results.set(spec.name, check);
      continue;
    }
    const probe = input.probes.get(spec.kind)!;
    const dependencies = spec.dependsOn.map((name) => results.get(name)).filter((result): result is CheckResult => result !== undefined);
    const notOk = dependencies.filter((dependency) => dependency.status === "fail" || dependency.status === "blocked");
    if (check.status === "blocked" || notOk.length) {
      results.set(spec.name, blockedResult(spec, check.target, notOk.length ? notOk : check.blockedBy.map((name) => ({ name }))));
      continue;
    }
    const byName = new Map(dependencies.map((dependency) => [dependency.name, dependency]));
    const contradiction = probe.relations?.preflight?.(spec, byName);
    const measurement = contradiction ? { phasesMs: {}, metrics: {}, error: new Diagnosed(contradiction).diagnosis } : measurementOf(check);
    const baseline = input.baseline ? checkBaseline(spec.name, spec.regression, report.env, input.baseline) : undefined;
    const judgement = judge({ spec, measurement, probe, dependencies: byName, baseline });
    results.set(spec.name, resultOf(check, judgement));
  }
  const checks = report.checks.map((check) => results.get(check.name) ?? check);
  return buildReport(
    { env: report.env, file: report.configFile, deadlineMs: report.deadlineMs, strict: report.strict, ...(report.interrupted ? { interruptedBy: report.interrupted.signal } : {}) },
    { startedAt: report.startedAt, durationMs: report.durationMs, checks, extras: extrasWith(report, checks, input.baseline?.source) },
  );
}

export interface ApplyOptions {
  /** Top-level `regression:`. */
  regression?: RegressionConfig;
  /** Per-check `regression:` overrides, by check name. */
  perCheck?: Record<string, RegressionConfig | undefined>;
}

/**
 * A saved report's verdicts compared with a baseline, without its config:
 * each check's saved verdict is the one the regression rule combines with
 * (as the runner does with a fresh one).
 */
export function applyBaseline(report: RunReport, source: BaselineSource, options: ApplyOptions = {}): RunReport {
  const checks = report.checks.map((check): CheckResult => {
    if (check.status === "blocked" || check.status === "interrupted") return check;
    const baseline = checkBaseline(check.name, options.perCheck?.[check.name], report.env, { source, regression: options.regression });
    const verdict: Judgement = { status: check.status, assertions: check.assertions, failure: check.failure };
    return resultOf(check, withRegression(verdict, judgeRegression(check, baseline)));
  });
  return buildReport(
    { env: report.env, file: report.configFile, deadlineMs: report.deadlineMs, strict: report.strict, ...(report.interrupted ? { interruptedBy: report.interrupted.signal } : {}) },
    { startedAt: report.startedAt, durationMs: report.durationMs, checks, extras: extrasWith(report, checks, source) },
  );
}

function checkBaseline(name: string, override: RegressionConfig | undefined, env: string, baseline: { source: BaselineSource; regression?: RegressionConfig }) {
  const settings = resolveRegression(baseline.regression, override);
  return { settings, reference: referenceFor(baseline.source, env, name, settings), source: baseline.source };
}

function resultOf(check: CheckResult, judgement: Judgement): CheckResult {
  const { baseline: _old, ...rest } = check;
  return {
    ...rest,
    status: judgement.status,
    assertions: judgement.assertions,
    failure: judgement.failure,
    blockedBy: [],
    ...(judgement.baseline ? { baseline: judgement.baseline } : {}),
  };
}

function extrasWith(report: RunReport, checks: CheckResult[], source: BaselineSource | undefined): RunReport["extras"] {
  if (!source) return report.extras;
  return { ...report.extras, baseline: baselineSummary(source, report.env, checks) };
}
