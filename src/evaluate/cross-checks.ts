// Cross-checks between cloud state and data-plane checks (issue 6): pure
// functions of a check's spec and the results of the checks it depends on.
import type { Assertion, CheckResult, CheckSpec, ClassifiedError, Measurement } from "../types.js";

/** Run before a check's probe: a contradiction found here fails the check without connecting. */
export function preflight(_spec: CheckSpec, _dependencies: ReadonlyMap<string, CheckResult>): ClassifiedError | undefined {
  return undefined;
}

/** Extra assertions computed after the probe ran, from its measurement and its dependencies'. */
export function afterRun(_spec: CheckSpec, _measurement: Measurement, _dependencies: ReadonlyMap<string, CheckResult>): Assertion[] {
  return [];
}
