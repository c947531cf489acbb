// The one judgement step: (spec, measurement, the dependencies' results, the
// baseline) → status, assertions, failure. Pure — no I/O, no clock — so it is
// table-tested from hand-built inputs, and a saved report's measurements can
// be re-judged offline with the same verdict (src/evaluate/rejudge.ts).
//
// Order of precedence: a probe that could not measure fails with its
// diagnosis; otherwise failed `expect` assertions (the kind's defaults such
// as a resource's state, the config's own, the kind's extra judgement and its
// relations to its dependencies) fail the check; then a regression against
// the baseline with `action: fail`; then `warn` assertions and warning
// regressions. A failed check still shows what got slower in its baseline
// block, but keeps its own diagnosis.
import type { Assertion, ClassifiedError, Expectation, FailureClass, Failure, MetricValue, Status } from "../diagnose/vocabulary.js";
import type { BaselineBlock } from "../report/schema.js";
import { metricInfo, type CheckSpec, type DependencyResult, type Measurement, type ProbeDefinition } from "../probes/api.js";
import { satisfies } from "./expectations.js";
import { hintFor } from "./hints.js";
import { judgeRegression, type CheckBaseline, type RegressionVerdict } from "./regression.js";
import { formatMs } from "../util/duration.js";

export interface JudgeInput {
  spec: CheckSpec;
  measurement: Measurement;
  probe: ProbeDefinition;
  dependencies?: ReadonlyMap<string, DependencyResult>;
  baseline?: CheckBaseline;
}

export interface Judgement {
  status: Exclude<Status, "blocked" | "interrupted">;
  assertions: Assertion[];
  failure: Failure | null;
  baseline?: BaselineBlock;
}

const NO_DEPENDENCIES: ReadonlyMap<string, DependencyResult> = new Map();

export function judge(input: JudgeInput): Judgement {
  const regression = input.baseline ? judgeRegression(input.measurement, input.baseline) : undefined;
  return withRegression(judgeMeasurement(input), regression);
}

/** The verdict on the measurement alone: the probe's error, then `expect`, then `warn`. */
function judgeMeasurement(input: JudgeInput): Judgement {
  const { spec, measurement, probe } = input;
  const dependencies = input.dependencies ?? NO_DEPENDENCIES;
  const expectations: Record<string, Expectation> = { ...(probe.defaultExpect?.(spec) ?? {}), ...spec.expect };
  const assertions: Assertion[] = [
    ...assert(expectations, measurement, "fail", spec, probe),
    ...assert(spec.warn, measurement, "warn", spec, probe),
    ...(measurement.error ? [] : [...(probe.judge?.(spec, measurement) ?? []), ...(probe.relations?.assert?.(spec, measurement, dependencies) ?? [])]),
  ];
  if (measurement.error) {
    return {
      status: "fail",
      // Assertions on metrics the failed probe never reached say nothing.
      assertions: assertions.filter((assertion) => assertion.actual !== undefined),
      failure: { ...failureOf(measurement.error, spec, probe, measurement), source: "probe" },
    };
  }
  const failed = assertions.filter((assertion) => !assertion.ok && assertion.severity === "fail");
  if (failed.length) return { status: "fail", assertions, failure: failureFrom(failed, measurement, spec, probe) };
  const warned = assertions.filter((assertion) => !assertion.ok && assertion.severity === "warn");
  if (warned.length) return { status: "warn", assertions, failure: failureFrom(warned, measurement, spec, probe) };
  return { status: "pass", assertions, failure: null };
}

/**
 * A verdict with its baseline comparison. A failed check keeps its own
 * diagnosis (the block still shows what got slower); a regression with
 * `action: fail` fails a passing or warning check; with `action: warn` it
 * warns a passing one, and a check already warning for its own threshold
 * keeps that headline.
 */
export function withRegression(verdict: Judgement, regression: RegressionVerdict | undefined): Judgement {
  if (!regression) return verdict;
  const judged: Judgement = { ...verdict, baseline: regression.block };
  if (verdict.status === "fail" || !regression.failure) return judged;
  const assertions = [...verdict.assertions, ...regression.assertions];
  if (regression.assertions.some((assertion) => assertion.severity === "fail")) return { ...judged, status: "fail", assertions, failure: regression.failure };
  if (verdict.status === "warn") return { ...judged, assertions };
  return { ...judged, status: "warn", assertions, failure: regression.failure };
}

function assert(expectations: Record<string, Expectation>, measurement: Measurement, severity: "fail" | "warn", spec: CheckSpec, probe: ProbeDefinition): Assertion[] {
  return Object.entries(expectations).map(([metric, expectation]) => {
    const actual = measurement.metrics[metric] ?? measurement.phasesMs[metric.replace(/Ms$/, "")];
    const ok = satisfies(actual, expectation);
    const assertion: Assertion = { metric, op: expectation.op, expected: expectation.source, actual, ok, severity };
    if (!ok) {
      const info = metricInfo(probe, metric);
      const cls = info?.class;
      assertion.class = typeof cls === "function" ? cls(actual, spec, metric) : (cls ?? defaultAssertionClass(metric));
      const explained = info?.explain?.(actual, expectation, measurement, spec);
      if (explained) Object.assign(assertion, explained);
    }
    return assertion;
  });
}

/** Timings that miss their bound are "slow"; anything else the resource says about itself is "unhealthy". */
export function defaultAssertionClass(metric: string): FailureClass {
  return /Ms$|P\d+Ms$|Ms\b/.test(metric) ? "slow" : "unhealthy";
}

function failureOf(error: ClassifiedError, spec: CheckSpec, probe: ProbeDefinition, measurement: Measurement): Failure {
  return {
    class: error.class,
    message: error.message,
    hint: hintFor(probe, spec, error, measurement),
    ...(error.phase ? { phase: error.phase } : {}),
    ...(error.code ? { code: error.code } : {}),
    ...(error.diagnosis ? { diagnosis: error.diagnosis } : {}),
  };
}

function failureFrom(assertions: Assertion[], measurement: Measurement, spec: CheckSpec, probe: ProbeDefinition): Failure {
  const first = assertions[0];
  const failureClass = first.class ?? defaultAssertionClass(first.metric);
  let message = assertions.map((assertion) => assertion.message ?? describeAssertion(assertion)).join("; ");
  if (failureClass === "slow") {
    const slowest = slowestPhase(measurement.phasesMs);
    const measures = metricInfo(probe, first.metric)?.phase ?? (Object.hasOwn(measurement.phasesMs, first.metric.replace(/Ms$/, "")) ? first.metric.replace(/Ms$/, "") : undefined);
    // Only a phase the metric itself spans: "slowest phase: auth" beside a slow PING would send on-call to the wrong step.
    if (slowest && (measures === "composite" || measures === slowest.name)) message += ` — slowest phase: ${slowest.name} ${formatMs(slowest.ms)}`;
  }
  const excerpt = measurement.details?.bodyExcerpt;
  if (typeof excerpt === "string" && failureClass !== "slow") message += ` — body: ${excerpt}`;
  const classified: ClassifiedError = {
    class: failureClass,
    message,
    ...(first.hint ? { hint: first.hint } : {}),
    ...(first.code ? { code: first.code } : {}),
    ...(first.diagnosis ? { diagnosis: first.diagnosis } : {}),
  };
  return { ...failureOf(classified, spec, probe, measurement), source: "assertion" };
}

export function describeAssertion(assertion: Assertion): string {
  const actual = assertion.actual === undefined ? "not measured" : formatValue(assertion.metric, assertion.actual);
  return `${assertion.metric} is ${actual}, expected ${assertion.expected}`;
}

export function formatValue(metric: string, value: MetricValue): string {
  if (typeof value === "number" && /Ms$/.test(metric)) return formatMs(value);
  return JSON.stringify(value);
}

export function slowestPhase(phasesMs: Record<string, number>): { name: string; ms: number } | undefined {
  let slowest: { name: string; ms: number } | undefined;
  for (const [name, ms] of Object.entries(phasesMs)) {
    if (name === "total") continue;
    if (!slowest || ms > slowest.ms) slowest = { name, ms };
  }
  return slowest;
}
