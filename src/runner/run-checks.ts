// The runner: runs checks concurrently (respecting dependsOn), gives each a
// budget inherited from the run deadline, and is the one place that catches
// and classifies what probes throw. Its output is redacted before anyone sees it.
import type { CheckResult, RootCause, RunExtras, RunReport } from "../report/schema.js";
import { ProbeFailure, type CheckSpec, type LookupFn, type Measurement, type ProbeContext, type ProbeDefinition, type ProbeDeps } from "../probes/api.js";
import { BudgetExceeded, checkBudget, raceAbort } from "./deadline.js";
import { createPhaseTimer } from "./phase-timer.js";
import { SamplingLane } from "./sampling-lane.js";
import { classify } from "./classify.js";
import { resolveSecretRefs } from "./secret-refs.js";
import { evaluate } from "../evaluate/evaluate.js";
import { afterRun, preflight } from "../evaluate/cross-checks.js";
import { systemLookup } from "../net/resolve.js";
import { Redactor } from "../redact.js";
import { roundMs } from "../util/stats.js";
import { VERSION } from "../version.js";

export interface RunInput {
  env: string;
  file?: string;
  deadlineMs: number;
  checks: CheckSpec[];
  probes: Map<string, ProbeDefinition>;
}

export type RunEvent =
  | { type: "start"; name: string; kind: string; budgetMs: number }
  | { type: "end"; result: CheckResult };

export interface RunOptions {
  redactor?: Redactor;
  lookup?: LookupFn;
  deps?: ProbeDeps;
  strict?: boolean;
  onEvent?: (event: RunEvent) => void;
  log?: (line: string) => void;
  /** Clock in ms (performance.now by default). */
  now?: () => number;
  /**
   * When the run's clock started, in `now()` time (default: when runChecks is
   * called). The CLI passes its process start, so --deadline bounds the whole
   * process — start-up and config loading included — not just the checks.
   */
  clockStartMs?: number;
  /** Results of checks that already passed in an earlier attempt (--wait): treated as done. */
  previous?: ReadonlyMap<string, CheckResult>;
}

export async function runChecks(input: RunInput, options: RunOptions = {}): Promise<RunReport> {
  const now = options.now ?? (() => performance.now());
  const redactor = options.redactor ?? new Redactor();
  const lookup = options.lookup ?? systemLookup;
  const lane = new SamplingLane();
  const startedAt = new Date().toISOString();
  const runStart = options.clockStartMs ?? now();
  const runDeadline = runStart + input.deadlineMs;
  const results = new Map<string, Promise<CheckResult>>();

  const runOne = async (spec: CheckSpec): Promise<CheckResult> => {
    const previous = options.previous?.get(spec.name);
    if (previous) return previous;
    const dependencies = await Promise.all(spec.dependsOn.map((name) => results.get(name)!));
    const probe = input.probes.get(spec.kind)!;
    const target = redactor.text(probe.target(spec));
    const notOk = dependencies.filter((dependency) => dependency.status === "fail" || dependency.status === "blocked");
    if (notOk.length) {
      const result = blockedResult(spec, target, notOk);
      options.onEvent?.({ type: "end", result });
      return result;
    }
    const result = await measureAndJudge(spec, probe, target, new Map(dependencies.map((d) => [d.name, d])));
    options.onEvent?.({ type: "end", result });
    return result;
  };

  const measureAndJudge = async (
    spec: CheckSpec,
    probe: ProbeDefinition,
    target: string,
    dependencies: ReadonlyMap<string, CheckResult>,
  ): Promise<CheckResult> => {
    const { budgetMs, byRunDeadline } = checkBudget(spec.timeoutMs, runDeadline - now());
    options.onEvent?.({ type: "start", name: spec.name, kind: spec.kind, budgetMs });
    const controller = new AbortController();
    const phases = createPhaseTimer(now);
    const checkStart = now();
    const ctx: ProbeContext = {
      signal: controller.signal,
      budgetMs,
      remainingMs: () => Math.max(0, budgetMs - (now() - checkStart)),
      phases,
      lookup,
      sample: (fn) => lane.run(() => raceAbort(fn(), controller.signal), controller.signal),
      addSecret: (value) => redactor.add(value),
      dependencies,
      metrics: {},
      details: {},
      deps: options.deps ?? {},
      log: (line) => options.log?.(redactor.text(`[${spec.name}] ${line}`)),
    };
    const timer = setTimeout(() => controller.abort(new BudgetExceeded(budgetMs, byRunDeadline)), budgetMs);
    let measurement: Measurement;
    try {
      if (budgetMs <= 0) throw new BudgetExceeded(0, true);
      const contradiction = preflight(spec, dependencies);
      // A contradiction between the check's inputs is its failure, found without connecting.
      if (contradiction) throw new ProbeFailure(contradiction.class, contradiction.message, { code: contradiction.code, hint: contradiction.hint, phase: contradiction.phase ?? "preflight" });
      const resolved = await raceAbort(resolveSecretRefs(spec, ctx), controller.signal);
      measurement = await raceAbort(probe.run(resolved, ctx), controller.signal);
      measurement = {
        ...measurement,
        phasesMs: { ...phases.phasesMs, ...measurement.phasesMs },
        metrics: { ...ctx.metrics, ...measurement.metrics },
        details: mergeDetails(ctx.details, measurement.details),
      };
    } catch (error) {
      const classified = classify(error, {
        kind: spec.kind,
        phase: phases.current,
        completedPhases: Object.keys(phases.phasesMs),
        endpoint: endpointOf(target),
        budgetMs,
      });
      // Only our own ProbeFailure carries evidence objects; client errors use these names for strings.
      const failureDetails = plainObject((error as { details?: unknown })?.details) as Measurement["details"];
      const failureMetrics = plainObject((error as { metrics?: unknown })?.metrics) as Measurement["metrics"];
      measurement = {
        phasesMs: { ...phases.phasesMs },
        metrics: { ...ctx.metrics, ...(failureMetrics ?? {}) },
        details: mergeDetails(ctx.details, failureDetails),
        error: { ...classified, message: redactor.text(classified.message) },
      };
      ctx.log(`failed: ${classified.class}: ${classified.message}`);
    } finally {
      clearTimeout(timer);
      // Anything still listening on the signal (a stray wait, a client hook) lets go now.
      if (!controller.signal.aborted) controller.abort(new Error("check finished"));
    }
    const durationMs = roundMs(now() - checkStart);
    // Cross-checks judge this measurement against the dependencies' results, in the same pure step.
    const cross = measurement.error ? [] : afterRun(spec, measurement, dependencies);
    const judgement = evaluate(spec, measurement, probe, cross);
    return {
      name: spec.name,
      kind: spec.kind,
      target,
      status: judgement.status,
      durationMs,
      budgetMs: roundMs(budgetMs),
      phasesMs: measurement.phasesMs,
      metrics: measurement.metrics,
      assertions: judgement.assertions,
      failure: judgement.failure,
      blockedBy: [],
      ...(measurement.details && Object.keys(measurement.details).length ? { details: measurement.details } : {}),
      ...(measurement.labels?.length ? { labels: measurement.labels } : {}),
    };
  };

  await prepareProbes(input, runDeadline - now());

  // Dependencies come first in the map so their promises exist when dependents look them up.
  for (const spec of topologicalOrder(input.checks)) results.set(spec.name, runOne(spec));
  const checks = await Promise.all(input.checks.map((spec) => results.get(spec.name)!));

  const report = buildReport(input, checks, { startedAt, durationMs: roundMs(now() - runStart), strict: options.strict ?? false });
  return redactor.deep(report);
}

/** Run each used kind's prepare() once, bounded by the run's deadline (half of what is left at most). */
async function prepareProbes(input: RunInput, remainingMs: number): Promise<void> {
  const preparations = [...input.probes.values()]
    .filter((probe) => probe.prepare)
    .map((probe) => probe.prepare!(input.checks.filter((spec) => spec.kind === probe.kind)).catch(() => undefined));
  if (preparations.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(preparations), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, remainingMs / 2))))]);
  clearTimeout(timer);
}

function plainObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function mergeDetails(a?: Measurement["details"], b?: Measurement["details"]): Measurement["details"] {
  const merged = { ...(a ?? {}), ...(b ?? {}) };
  return Object.keys(merged).length ? merged : undefined;
}

function blockedResult(spec: CheckSpec, target: string, blockers: CheckResult[]): CheckResult {
  const names = blockers.map((blocker) => blocker.name);
  return {
    name: spec.name,
    kind: spec.kind,
    target,
    status: "blocked",
    durationMs: 0,
    budgetMs: 0,
    phasesMs: {},
    metrics: {},
    assertions: [],
    failure: null,
    blockedBy: names,
  };
}

export function topologicalOrder(checks: CheckSpec[]): CheckSpec[] {
  const byName = new Map(checks.map((check) => [check.name, check]));
  const ordered: CheckSpec[] = [];
  const seen = new Set<string>();
  const visit = (check: CheckSpec) => {
    if (seen.has(check.name)) return;
    seen.add(check.name);
    for (const dependency of check.dependsOn) {
      const found = byName.get(dependency);
      if (found) visit(found);
    }
    ordered.push(check);
  };
  checks.forEach(visit);
  return ordered;
}

/** host:port from a URL-shaped target, for error messages. */
export function endpointOf(target: string): string | undefined {
  try {
    const url = new URL(target);
    return url.host || undefined;
  } catch {
    return undefined;
  }
}

export function buildReport(
  input: Pick<RunInput, "env" | "file" | "deadlineMs">,
  checks: CheckResult[],
  run: { startedAt: string; durationMs: number; strict: boolean; extras?: RunExtras },
): RunReport {
  const summary = { total: checks.length, pass: 0, warn: 0, fail: 0, blocked: 0 };
  for (const check of checks) summary[check.status] += 1;
  const ok = summary.fail === 0 && summary.blocked === 0 && (!run.strict || summary.warn === 0);
  return {
    schemaVersion: 1,
    tool: { name: "infra-check", version: VERSION },
    env: input.env,
    ...(input.file ? { configFile: input.file } : {}),
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    deadlineMs: input.deadlineMs,
    ok,
    strict: run.strict,
    summary,
    rootCauses: rootCauses(checks),
    checks,
    ...(run.extras ? { extras: run.extras } : {}),
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
