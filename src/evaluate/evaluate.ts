// Pure judgement: (spec, measurement) → status, assertions, failure. No I/O,
// so a saved report's measurements can be re-judged offline.
import type { Assertion, Expectation, FailureClass, Failure, MetricValue, Status } from "../diagnose/vocabulary.js";
import type { CheckSpec, Measurement, ProbeDefinition } from "../probes/api.js";
import { satisfies } from "./expectations.js";
import { hintFor } from "./hints.js";
import { formatMs } from "../util/duration.js";

export interface Judgement {
  status: Exclude<Status, "blocked">;
  assertions: Assertion[];
  failure: Failure | null;
}

/** `extra`: assertions computed elsewhere from the same measurement (cross-checks with dependencies). */
export function evaluate(spec: CheckSpec, measurement: Measurement, probe?: ProbeDefinition, extra: Assertion[] = []): Judgement {
  const expectations: Record<string, Expectation> = { ...(probe?.defaultExpect?.(spec) ?? {}), ...spec.expect };
  const assertions: Assertion[] = [
    ...assert(expectations, measurement, "fail", spec, probe),
    ...assert(spec.warn, measurement, "warn", spec, probe),
    ...(measurement.error ? [] : [...(probe?.judge?.(spec, measurement) ?? []), ...extra]),
  ];

  if (measurement.error) {
    const error = measurement.error;
    return {
      status: "fail",
      // Assertions on metrics the failed probe never reached say nothing.
      assertions: assertions.filter((assertion) => assertion.actual !== undefined),
      failure: { class: error.class, message: error.message, hint: hintFor(probe, spec, error, measurement), phase: error.phase, code: error.code },
    };
  }
  const failed = assertions.filter((assertion) => !assertion.ok && assertion.severity === "fail");
  if (failed.length) return { status: "fail", assertions, failure: failureFrom(failed, measurement, spec, probe) };
  const warned = assertions.filter((assertion) => !assertion.ok && assertion.severity === "warn");
  if (warned.length) return { status: "warn", assertions, failure: failureFrom(warned, measurement, spec, probe) };
  return { status: "pass", assertions, failure: null };
}

function assert(
  expectations: Record<string, Expectation>,
  measurement: Measurement,
  severity: "fail" | "warn",
  spec: CheckSpec,
  probe?: ProbeDefinition,
): Assertion[] {
  return Object.entries(expectations).map(([metric, expectation]) => {
    const actual = measurement.metrics[metric] ?? measurement.phasesMs[metric.replace(/Ms$/, "")];
    const ok = satisfies(actual, expectation);
    const assertion: Assertion = { metric, op: expectation.op, expected: expectation.source, actual, ok, severity };
    if (!ok) assertion.class = probe?.assertionClass?.(metric, actual, spec) ?? defaultAssertionClass(metric);
    return assertion;
  });
}

/** Timings that miss their bound are "slow"; anything else the resource says about itself is "unhealthy". */
export function defaultAssertionClass(metric: string): FailureClass {
  return /Ms$|P\d+Ms$|Ms\b/.test(metric) ? "slow" : "unhealthy";
}

function failureFrom(assertions: Assertion[], measurement: Measurement, spec: CheckSpec, probe?: ProbeDefinition): Failure {
  const first = assertions[0];
  const failureClass = first.class ?? defaultAssertionClass(first.metric);
  let message = assertions.map(describeAssertion).join("; ");
  if (failureClass === "slow") {
    const slowest = slowestPhase(measurement.phasesMs);
    if (slowest) message += ` — slowest phase: ${slowest.name} ${formatMs(slowest.ms)}`;
  }
  const excerpt = measurement.details?.bodyExcerpt;
  if (typeof excerpt === "string" && failureClass !== "slow") message += ` — body: ${excerpt}`;
  const classified = { class: failureClass, message };
  return { ...classified, hint: hintFor(probe, spec, classified, measurement) };
}

export function describeAssertion(assertion: Assertion): string {
  const actual = assertion.actual === undefined ? "not measured" : formatValue(assertion.metric, assertion.actual);
  return `${assertion.metric} is ${actual}, expected ${assertion.expected}`;
}

export function formatValue(metric: string, value: MetricValue): string {
  if (typeof value === "number" && /Ms$/.test(metric)) return formatMs(value);
  if (typeof value === "string") return JSON.stringify(value);
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
