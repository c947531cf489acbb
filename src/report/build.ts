// The one builder of a RunReport: the run's results → summary, verdict and
// root causes. Nothing after it changes a status; reporters only render it.
import type { CheckResult, RootCause, RunReport, RunSummary } from "./schema.js";
import type { InterruptSignal } from "../diagnose/vocabulary.js";
import { SCHEMA_VERSION } from "./schema.js";
import type { RunOutcome } from "../runner/run-checks.js";
import { VERSION } from "../version.js";

export interface ReportInput {
  env: string;
  file?: string;
  deadlineMs: number;
  strict: boolean;
  /** The signal that stopped the run before every check finished (a partial report). */
  interruptedBy?: InterruptSignal;
}

export function buildReport(input: ReportInput, outcome: RunOutcome): RunReport {
  const { checks } = outcome;
  const summary: RunSummary = { total: checks.length, pass: 0, warn: 0, fail: 0, blocked: 0 };
  for (const check of checks) summary[check.status] = (summary[check.status] ?? 0) + 1;
  // A partial report is never healthy: what was not measured is not known to be fine.
  const ok = !input.interruptedBy && !summary.interrupted && summary.fail === 0 && summary.blocked === 0 && (!input.strict || summary.warn === 0);
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: "infra-check", version: VERSION },
    env: input.env,
    ...(input.file ? { configFile: input.file } : {}),
    startedAt: outcome.startedAt,
    durationMs: outcome.durationMs,
    deadlineMs: input.deadlineMs,
    ok,
    strict: input.strict,
    summary,
    rootCauses: rootCauses(checks),
    checks,
    ...(outcome.extras ? { extras: outcome.extras } : {}),
    ...(input.interruptedBy ? { interrupted: { signal: input.interruptedBy } } : {}),
  };
}

/** Failed checks that are not themselves blocked, each with every check it blocked (transitively). */
export function rootCauses(checks: CheckResult[]): RootCause[] {
  const byName = new Map(checks.map((check) => [check.name, check]));
  const rootsOf = (name: string, seen = new Set<string>()): string[] => {
    const check = byName.get(name);
    if (!check || seen.has(name)) return [];
    seen.add(name);
    if (check.status !== "blocked") return [name];
    return check.blockedBy.flatMap((blocker) => rootsOf(blocker, seen));
  };
  const causes = new Map<string, RootCause>();
  for (const check of checks) {
    if (check.status === "fail" && check.failure) {
      causes.set(check.name, { check: check.name, class: check.failure.class, message: check.failure.message, blocks: [] });
    }
  }
  for (const check of checks) {
    if (check.status !== "blocked") continue;
    for (const root of new Set(rootsOf(check.name))) causes.get(root)?.blocks.push(check.name);
  }
  return [...causes.values()];
}
