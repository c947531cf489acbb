// The runner: runs checks concurrently (respecting dependsOn), gives each a
// budget inherited from the run deadline and an inner deadline armed in the
// same turn, and is the one place that catches and classifies what probes
// throw. Each check is judged once, right after it ran — with its
// dependencies' results and its baseline — so a check that fails (a
// regression with `action: fail` included) blocks its dependents. With
// `wait` it re-runs what has not passed (src/runner/wait.ts). It returns the
// checks' results; src/report/build.ts makes the report of them.
import { Diagnosed, diagnosisOf, type Facts } from "../diagnose/catalogue.js";
import { RUNNER } from "./cloud-run-job/diagnose.js";
import { classify } from "../diagnose/classify.js";
import { endpointHost } from "../util/url.js";
import type { CheckResult, RunExtras, WaitSummary } from "../report/schema.js";
import type { CheckSpec, LookupFn, Measurement, ProbeContext, ProbeDefinition, ProbeDeps } from "../probes/api.js";
import { judge } from "../evaluate/judge.js";
import { measurementOf } from "../evaluate/measurement.js";
import { baselineSummary, referenceFor, resolveRegression, type BaselineSource, type CheckBaseline, type RegressionConfig } from "../evaluate/regression.js";
import { grpcRule } from "../gcp/diagnose.js";
import { systemLookup } from "../net/resolve.js";
import { Redactor } from "../redact.js";
import { armInnerDeadline, BudgetExceeded, checkBudget, Interrupted, raceAbort } from "../util/deadline.js";
import { roundMs } from "../util/stats.js";
import { formatMs } from "../util/duration.js";
import { createPhaseTimer } from "./phase-timer.js";
import { SamplingLane } from "./sampling-lane.js";
import { Slots } from "./slots.js";
import { defaultConcurrency, openFilesLimit } from "../util/open-files.js";
import { resolveSecretRefs } from "./secret-refs.js";
import { runRounds, type WaitOptions } from "./wait.js";
import type { RunnerSpec } from "../config/runners.js";
import type { GcpConfig } from "../gcp/resources.js";
import { remoteBatchKeys } from "./remote-batches.js";

export interface RunInput {
  env: string;
  file?: string;
  deadlineMs: number;
  checks: CheckSpec[];
  probes: Map<string, ProbeDefinition>;
  /** Checks in flight at once, at most (`concurrency:`); default: sized to the open-files limit (src/util/open-files.ts). */
  concurrency?: number;
  /** `runners:` (src/config/runners.ts): the checks with a `runner` run there, one execution per runner. */
  runners?: ReadonlyMap<string, RunnerSpec>;
}

export type RunEvent =
  | { type: "start"; name: string; kind: string; budgetMs: number }
  | { type: "end"; result: CheckResult };

/** What the run is compared with: a baseline source and the top-level `regression:` (checks may override it). */
export interface RunBaseline {
  source: BaselineSource;
  regression?: RegressionConfig;
}

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
  baseline?: RunBaseline;
  /** --wait: re-run what has not passed until it does or the wait is spent. */
  wait?: WaitOptions;
  /** How failures name the user's inputs: a one-off names its flags, not config keys. */
  wording?: Wording;
  /**
   * Stops the run (SIGINT/SIGTERM, a long-running process shutting down): every
   * running check is aborted — its clients close, a running query is cancelled, a
   * token command is killed — and becomes `interrupted` with the phase it was in;
   * checks that had not started become `interrupted` too.
   */
  signal?: AbortSignal;
  /** The kinds' prepare() already ran in this process (see prepareProbes): a repeated run skips it. */
  prepared?: boolean;
  /** The runner this run measures from (`infra-check runner exec` inside a runner's job): failures word the vantage point by its name. */
  vantage?: string;
}

/** A one-off's vocabulary: what set the budget, and config keys → the flags that set them. */
export interface Wording {
  budgetNote: string;
  keys: readonly (readonly [RegExp, string])[];
}

/** The checks' results (in config order) and what the run's optional features did. */
export interface RunOutcome {
  startedAt: string;
  durationMs: number;
  checks: CheckResult[];
  extras?: RunExtras;
}

export async function runChecks(input: RunInput, options: RunOptions = {}): Promise<RunOutcome> {
  const now = options.now ?? (() => performance.now());
  // A run's clock may start before this (the CLI passes its process start); otherwise it starts once
  // the client libraries are loaded, so a one-off's --timeout is all the check's.
  const preparedBy = options.clockStartMs === undefined ? undefined : options.clockStartMs + input.deadlineMs;
  if (!options.prepared) await prepareProbes(input, (preparedBy ?? now() + input.deadlineMs) - now());
  const runStart = options.clockStartMs ?? now();
  const startedAt = new Date().toISOString();
  const rounds: { checks: CheckResult[]; wait?: WaitSummary } = options.wait
    ? await runRounds(input, { ...options, now, clockStartMs: runStart }, options.wait, runRound)
    : { checks: await runRound(input, { ...options, now, clockStartMs: runStart }) };
  const extras: RunExtras = {
    ...(rounds.wait ? { wait: rounds.wait } : {}),
    ...(options.baseline ? { baseline: baselineSummary(options.baseline.source, input.env, rounds.checks) } : {}),
  };
  return {
    startedAt,
    durationMs: roundMs(now() - runStart),
    checks: rounds.checks,
    ...(Object.keys(extras).length ? { extras } : {}),
  };
}

/** One pass over every check not already done, within the run deadline counted from `clockStartMs`. */
export async function runRound(input: RunInput, options: RunOptions & { now: () => number; clockStartMs: number }): Promise<CheckResult[]> {
  const { now } = options;
  const redactor = options.redactor ?? new Redactor();
  const lookup = options.lookup ?? systemLookup;
  const lane = new SamplingLane();
  const runDeadline = options.clockStartMs + input.deadlineMs;
  const fdLimit = openFilesLimit();
  const concurrency = input.concurrency ?? defaultConcurrency(fdLimit);
  const slots = new Slots(concurrency);
  const results = new Map<string, Promise<CheckResult>>();

  const runOne = async (spec: CheckSpec): Promise<CheckResult> => {
    const previous = options.previous?.get(spec.name);
    if (previous) return previous;
    const batch = batchKeys.get(spec.name);
    if (batch !== undefined) {
      const result = (await batchFor(batch)).get(spec.name)!;
      options.onEvent?.({ type: "end", result });
      return result;
    }
    const dependencies = await Promise.all(spec.dependsOn.map((name) => results.get(name)!));
    const probe = input.probes.get(spec.kind)!;
    const target = redactor.text(probe.target(spec));
    const notOk = dependencies.filter((dependency) => dependency.status === "fail" || dependency.status === "blocked");
    const result = options.signal?.aborted
      ? interruptedResult(spec, target, options.signal.reason)
      : notOk.length
        ? blockedResult(spec, target, notOk)
        : await inSlot(() => measureAndJudge(spec, probe, target, new Map(dependencies.map((d) => [d.name, d]))));
    options.onEvent?.({ type: "end", result });
    return result;
  };

  // A check waits for a slot within the run's deadline; one still waiting when it passes starts with no budget and says so.
  const inSlot = async <T>(fn: () => Promise<T>): Promise<T> => {
    const release = await slots.acquire(Math.max(0, runDeadline - now()));
    try {
      return await fn();
    } finally {
      release();
    }
  };

  /**
   * A probe's context for one budget: its signal ends with the budget (or the run's own signal); release() disarms it.
   * `detached`: not ended by the run's signal (cancelling a remote execution after that signal).
   */
  const contextFor = (spec: Pick<CheckSpec, "name" | "timeoutMs">, probe: Pick<ProbeDefinition, "diagnosis">, target: string, dependencies: ReadonlyMap<string, CheckResult>, budget: { budgetMs: number; byRunDeadline: boolean }, detached = false) => {
    const { budgetMs, byRunDeadline } = budget;
    const controller = new AbortController();
    const phases = createPhaseTimer(now, options.log ? (name) => options.log!(redactor.text(`[${spec.name}] ${name}…`)) : undefined);
    const checkStart = now();
    const endpoint = endpointOf(target);
    const remainingMs = () => Math.max(0, budgetMs - (now() - checkStart));
    // Both timers are armed in this turn: the inner deadline always fires first (see armInnerDeadline).
    const timer = setTimeout(() => controller.abort(new BudgetExceeded(budgetMs, byRunDeadline)), budgetMs);
    const stop = () => controller.abort(options.signal!.reason);
    const signal = detached ? undefined : options.signal;
    if (signal?.aborted) stop();
    else signal?.addEventListener("abort", stop, { once: true });
    const deadline = armInnerDeadline({ signal: controller.signal, budgetMs, remainingMs, ...(options.wording ? { label: `--timeout ${formatMs(spec.timeoutMs)}` } : {}) });
    const facts: Facts = {
      service: probe.diagnosis.service,
      ...(endpoint ? { host: endpointHost(endpoint) } : {}),
      ...(options.wording ? { budgetNote: options.wording.budgetNote } : {}),
      // For an out-of-descriptors failure: infra-check's own limits, in its words.
      ...(fdLimit !== undefined ? { limit: fdLimit } : {}),
      concurrency,
      ...(options.vantage ? { vantage: options.vantage } : {}),
    };
    const ctx: ProbeContext = {
      signal: controller.signal,
      budgetMs,
      remainingMs,
      deadline,
      phases,
      lookup,
      sample: (fn) => lane.run(() => raceAbort(fn(), controller.signal), controller.signal),
      addSecret: (value) => redactor.add(value),
      dependencies,
      metrics: {},
      details: {},
      labels: [],
      facts,
      deps: options.deps ?? {},
      log: (line) => options.log?.(redactor.text(`[${spec.name}] ${line}`)),
    };
    const release = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
      deadline.dispose();
      // Anything still listening on the signal (a stray wait, a client hook) lets go now.
      if (!controller.signal.aborted) controller.abort(new Error("check finished"));
    };
    return { ctx, controller, phases, checkStart, endpoint, facts, release };
  };

  /**
   * A slow or timed-out check's evidence (the resource's own metrics), in a
   * budget no longer than the check's and within the run's deadline. Evidence
   * only: a failure of its own becomes a line of the details.
   */
  const gatherEvidence = async (spec: CheckSpec, probe: ProbeDefinition, target: string, dependencies: ReadonlyMap<string, CheckResult>, measurement: Measurement) => {
    const budget = checkBudget(spec.timeoutMs, runDeadline - now());
    if (budget.budgetMs <= 0) return measurement.details;
    const { ctx, controller, release } = contextFor(spec, probe, target, dependencies, budget);
    try {
      await raceAbort(probe.evidence!(spec, measurement, ctx), controller.signal);
    } catch (thrown) {
      ctx.details.evidence = `no evidence: ${(thrown as Error)?.message ?? String(thrown)}`;
    } finally {
      release();
    }
    return { ...measurement.details, ...ctx.details };
  };

  const measureAndJudge = async (spec: CheckSpec, probe: ProbeDefinition, target: string, dependencies: ReadonlyMap<string, CheckResult>): Promise<CheckResult> => {
    // Stopped while it waited for a slot: it never started.
    if (options.signal?.aborted) return interruptedResult(spec, target, options.signal.reason);
    const { budgetMs, byRunDeadline } = checkBudget(spec.timeoutMs, runDeadline - now());
    options.onEvent?.({ type: "start", name: spec.name, kind: spec.kind, budgetMs });
    const { ctx, controller, phases, checkStart, endpoint, facts, release } = contextFor(spec, probe, target, dependencies, { budgetMs, byRunDeadline });
    let error: Measurement["error"];
    let running: Promise<unknown> | undefined;
    try {
      if (budgetMs <= 0) throw new BudgetExceeded(0, true);
      const contradiction = probe.relations?.preflight?.(spec, dependencies);
      // A contradiction between the check's inputs and its dependencies is its failure, found without connecting.
      if (contradiction) throw new Diagnosed(contradiction);
      const resolved = await raceAbort(resolveSecretRefs(spec, ctx), controller.signal);
      running = probe.run(resolved, ctx);
      await raceAbort(running, controller.signal);
    } catch (thrown) {
      if (options.signal?.aborted && thrown === options.signal.reason) {
        // What it had reached when the run was stopped; then its own cleanup (a cancel, a kill, a close) gets a moment to finish.
        const reached = { ...interruptedResult(spec, target, thrown, phases.current ?? "setup"), durationMs: roundMs(now() - checkStart), budgetMs: roundMs(budgetMs), phasesMs: { ...phases.phasesMs }, metrics: { ...ctx.metrics } };
        await settledWithin(running, INTERRUPT_CLEANUP_MS);
        return redactor.deep(reached);
      }
      const classified = classify(
        thrown,
        {
          kind: spec.kind,
          phase: phases.current,
          completedPhases: Object.keys(phases.phasesMs),
          endpoint,
          budgetMs,
          timeoutMs: spec.timeoutMs,
          ...(phases.currentStartedAt !== undefined ? { phaseElapsedMs: now() - phases.currentStartedAt } : {}),
          startedAfterMs: checkStart - options.clockStartMs,
          facts,
        },
        { rules: [...(probe.diagnosis.rules ?? []), grpcRule], refine: probe.diagnosis.refine, speaks: probe.diagnosis.speaks },
      );
      error = { ...classified, message: redactor.text(classified.message) };
      ctx.log(`failed: ${classified.class}: ${classified.message}`);
    } finally {
      release();
    }
    const durationMs = roundMs(now() - checkStart);
    // What the probe observed, whether it returned or threw: the context is the one channel.
    const measurement: Measurement = {
      phasesMs: { ...phases.phasesMs },
      metrics: { ...ctx.metrics },
      ...(Object.keys(ctx.details).length ? { details: { ...ctx.details } } : {}),
      ...(ctx.labels.length ? { labels: [...ctx.labels] } : {}),
      ...(error ? { error } : {}),
    };
    const judged = judge({ spec, measurement, probe, dependencies, baseline: baselineFor(spec, input.env, options.baseline) });
    const judgement = options.wording && judged.failure ? { ...judged, failure: reworded(judged.failure, options.wording) } : judged;
    const slowOrTimeout = judgement.failure?.class === "slow" || judgement.failure?.class === "timeout";
    if (probe.evidence && slowOrTimeout) measurement.details = await gatherEvidence(spec, probe, target, dependencies, measurement);
    // What a measured check saw, in the kind's words (shown on its passing row).
    const summary = !error && judgement.status !== "fail" ? probe.passLine?.(measurement, spec) : undefined;
    return redactor.deep({
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
      ...(measurement.details ? { details: measurement.details } : {}),
      ...(measurement.labels ? { labels: measurement.labels } : {}),
      ...(judgement.baseline ? { baseline: judgement.baseline } : {}),
      ...(summary ? { summary } : {}),
    });
  };

  // ------------------------------------------------------------ remote checks (runner: NAME)
  const batchKeys = remoteBatchKeys(input.checks.filter((spec) => spec.runner && input.runners?.has(spec.runner)), input.checks);
  const batches = new Map<string, Promise<Map<string, CheckResult>>>();
  const batchFor = (key: string) => {
    let batch = batches.get(key);
    if (!batch) {
      batch = runBatchOf(key);
      batches.set(key, batch);
    }
    return batch;
  };

  /**
   * One runner's checks in one execution, once every check they depend on
   * outside it has a result: a check blocked by one is never shipped.
   */
  const runBatchOf = async (key: string): Promise<Map<string, CheckResult>> => {
    const members = topologicalOrder(input.checks.filter((spec) => batchKeys.get(spec.name) === key && !options.previous?.has(spec.name)));
    const inBatch = new Set(members.map((spec) => spec.name));
    const external = [...new Set(members.flatMap((spec) => spec.dependsOn).filter((name) => !inBatch.has(name)))];
    const known = new Map((await Promise.all(external.map((name) => results.get(name)!))).map((result) => [result.name, result]));
    const outcome = new Map<string, CheckResult>();
    // Stopped before the batch shipped: none of it started.
    if (options.signal?.aborted) {
      for (const spec of members) outcome.set(spec.name, interruptedResult(spec, redactor.text(input.probes.get(spec.kind)!.target(spec)), options.signal.reason));
      return outcome;
    }
    const shipped: CheckSpec[] = [];
    for (const spec of members) {
      const probe = input.probes.get(spec.kind)!;
      const blockers = spec.dependsOn.filter((name) => {
        const result = outcome.get(name) ?? known.get(name) ?? options.previous?.get(name);
        return result !== undefined && (result.status === "fail" || result.status === "blocked");
      });
      const target = redactor.text(probe.target(spec));
      if (blockers.length) {
        outcome.set(spec.name, blockedResult(spec, target, blockers.map((name) => ({ name }))));
        continue;
      }
      // A contradiction with a dependency measured here (a Memorystore instance that requires AUTH) fails the check before it ships.
      const metHere = new Map(spec.dependsOn.flatMap((name) => known.get(name) ?? options.previous?.get(name) ?? []).map((result) => [result.name, result]));
      const contradiction = probe.relations?.preflight?.(spec, metHere);
      if (contradiction) {
        const measurement: Measurement = { phasesMs: {}, metrics: {}, error: { ...new Diagnosed(contradiction).diagnosis, message: redactor.text(contradiction.message) } };
        const judged = judge({ spec, measurement, probe, dependencies: metHere });
        outcome.set(spec.name, redactor.deep({ name: spec.name, kind: spec.kind, target, status: judged.status, durationMs: 0, budgetMs: 0, phasesMs: {}, metrics: {}, assertions: judged.assertions, failure: judged.failure, blockedBy: [] }));
        continue;
      }
      // Inside the job only the shipped checks exist: a dependency already met here is dropped.
      shipped.push({ ...spec, dependsOn: spec.dependsOn.filter((name) => inBatch.has(name)) });
    }
    if (!shipped.length) return outcome;
    const runner = input.runners!.get(shipped[0].runner!)!;
    const metBefore = new Map([...known, ...(options.previous ?? new Map())]);
    await inSlot(async () => {
      for (const [name, result] of await runRemote(runner, shipped, members, metBefore)) outcome.set(name, result);
    });
    return outcome;
  };

  /** `members`: the shipped checks as configured (every dependency); `metBefore`: the results of those outside the batch. */
  const runRemote = async (runner: RunnerSpec, shipped: CheckSpec[], members: CheckSpec[], metBefore: ReadonlyMap<string, CheckResult>): Promise<Map<string, CheckResult>> => {
    const { runBatch, cancelExecution } = await import("./cloud-run-job/run.js");
    // The execution's own timeout, plus the time to read its results back.
    const { budgetMs, byRunDeadline } = checkBudget(runner.cloudRunJob.timeoutMs + COLLECT_ALLOWANCE_MS, runDeadline - now());
    for (const spec of shipped) options.onEvent?.({ type: "start", name: spec.name, kind: spec.kind, budgetMs });
    const who = { name: `runner ${runner.name}`, timeoutMs: runner.cloudRunJob.timeoutMs };
    const service = { diagnosis: { service: "Cloud Run Jobs" } } as Pick<ProbeDefinition, "diagnosis">;
    const { ctx, phases, checkStart, facts, release } = contextFor(who, service, "", new Map(), { budgetMs, byRunDeadline });
    const progress: { execution?: string; logUri?: string } = {};
    // Cancelling outlives the batch's own context (which the run's signal or deadline just ended), in a budget of its own.
    const cancel = async (execution: string) => {
      const own = contextFor(who, service, "", new Map(), { budgetMs: CANCEL_BUDGET_MS, byRunDeadline: false }, true);
      try {
        await cancelExecution(execution, runner, own.ctx);
        ctx.log(`cancelled ${execution}`);
      } finally {
        own.release();
      }
    };
    let outcome: Awaited<ReturnType<typeof runBatch>> | undefined;
    let error: Measurement["error"];
    try {
      if (budgetMs <= 0) throw new BudgetExceeded(0, true);
      // Where the Google APIs are travels with the checks (an emulator named only by $INFRA_CHECK_GCP_EMULATOR_HOST included).
      const { gcpSettings } = await import("../gcp/resources.js");
      const gcp: GcpConfig = { ...(options.deps?.gcp as GcpConfig | undefined), ...gcpSettings({}, options.deps ?? {}) };
      outcome = await runBatch({ runner, env: input.env, checks: shipped, gcp }, ctx, progress, cancel);
    } catch (thrown) {
      // Stopped (Ctrl-C): runBatch has cancelled the execution; the checks are interrupted in the runner's phase they reached.
      if (options.signal?.aborted) {
        const phase = phases.current ?? "schedule";
        const block = { name: runner.name, ...(progress.execution ? { execution: progress.execution } : {}), ...(progress.logUri ? { logUri: progress.logUri } : {}), phasesMs: { ...phases.phasesMs } };
        const durationMs = roundMs(now() - checkStart);
        return new Map(
          shipped.map((spec) => {
            const target = redactor.text(input.probes.get(spec.kind)!.target(spec));
            return [spec.name, redactor.deep({ ...interruptedResult(spec, target, options.signal!.reason, phase), durationMs, budgetMs: roundMs(budgetMs), runner: block })];
          }),
        );
      }
      const classified = classify(
        thrown,
        { kind: "cloud-run-job", phase: phases.current, completedPhases: Object.keys(phases.phasesMs), budgetMs, timeoutMs: runner.cloudRunJob.timeoutMs, startedAfterMs: checkStart - options.clockStartMs, facts },
        { rules: [grpcRule] },
      );
      error = { ...classified, message: redactor.text(classified.message) };
      ctx.log(`failed: ${classified.class}: ${classified.message}`);
    } finally {
      release();
    }
    const durationMs = roundMs(now() - checkStart);
    const block = {
      name: runner.name,
      ...(outcome?.execution ?? progress.execution ? { execution: outcome?.execution ?? progress.execution } : {}),
      ...(outcome?.logUri ?? progress.logUri ? { logUri: outcome?.logUri ?? progress.logUri } : {}),
      phasesMs: { ...phases.phasesMs },
      ...(outcome ? { verdictFrom: outcome.verdict.from } : {}),
    };
    const out = new Map<string, CheckResult>();
    for (const spec of shipped) {
      const probe = input.probes.get(spec.kind)!;
      const target = redactor.text(probe.target(spec));
      const verdict = outcome?.verdict;
      let result: CheckResult;
      if (verdict?.from === "results" && verdict.results.has(spec.name)) {
        const remote = verdict.results.get(spec.name)!;
        if (remote.status === "blocked") result = { ...remote, runner: block };
        else {
          // Measured inside the job; judged here, once more from its measurement (as a saved report is re-judged),
          // with what only the lead has: the results of dependencies that ran elsewhere, and the baseline.
          const configured = members.find((member) => member.name === spec.name) ?? spec;
          const dependencies = new Map(configured.dependsOn.flatMap((name) => out.get(name) ?? metBefore.get(name) ?? []).map((dependency) => [dependency.name, dependency]));
          const measurement = measurementOf(remote);
          const judged = judge({ spec: configured, measurement, probe, dependencies, baseline: baselineFor(configured, input.env, options.baseline) });
          const summary = !measurement.error && judged.status !== "fail" ? remote.summary : undefined;
          const { summary: _remoteSummary, baseline: _remoteBaseline, ...rest } = remote;
          result = {
            ...rest,
            status: judged.status,
            assertions: judged.assertions,
            failure: judged.failure,
            ...(judged.baseline ? { baseline: judged.baseline } : {}),
            ...(summary ? { summary } : {}),
            runner: block,
          };
        }
      } else if (verdict?.from === "exit-code") {
        result = {
          name: spec.name, kind: spec.kind, target, status: "pass", durationMs, budgetMs: roundMs(budgetMs), phasesMs: {}, metrics: {}, assertions: [], failure: null, blockedBy: [],
          details: { verdict: `results not yet in Cloud Logging after ${formatMs(verdict.waitedMs)}: the execution exited 0, so every check it ran passed (figures unknown)` },
          summary: "passed inside the VPC (exit code 0; results not yet in Cloud Logging)",
          runner: block,
        };
      } else {
        const missing = verdict?.from === "results" ? diagnosisOf(RUNNER.NO_RESULT, { runner: runner.name, execution: block.execution ?? "", condition: "", logUri: block.logUri ?? "", check: spec.name }) : error!;
        const measurement: Measurement = { phasesMs: {}, metrics: {}, error: missing };
        const judged = judge({ spec, measurement, probe, dependencies: new Map() });
        result = { name: spec.name, kind: spec.kind, target, status: judged.status, durationMs, budgetMs: roundMs(budgetMs), phasesMs: {}, metrics: {}, assertions: judged.assertions, failure: judged.failure, blockedBy: [], runner: block };
      }
      out.set(spec.name, redactor.deep(result));
    }
    return out;
  };

  // Dependencies come first in the map so their promises exist when dependents look them up.
  for (const spec of topologicalOrder(input.checks)) results.set(spec.name, runOne(spec));
  return Promise.all(input.checks.map((spec) => results.get(spec.name)!));
}

/** How long cancelling an abandoned remote execution may take (after the run's signal or deadline). */
const CANCEL_BUDGET_MS = 3_000;
/** Beyond a runner's execution timeout: reading its results back (or its exit code) from Cloud Logging and the API. */
const COLLECT_ALLOWANCE_MS = 5_000;

/** A failure in the words of the command line: flags instead of the config keys they set. */
function reworded<T extends { message: string; hint: string }>(failure: T, wording: Wording): T {
  const swap = (text: string) => wording.keys.reduce((out, [pattern, flag]) => out.replace(pattern, flag), text);
  return { ...failure, message: swap(failure.message), hint: swap(failure.hint) };
}

/** The baseline one check is judged against, when the run has one. */
export function baselineFor(spec: CheckSpec, env: string, baseline: RunBaseline | undefined): CheckBaseline | undefined {
  if (!baseline) return undefined;
  const settings = resolveRegression(baseline.regression, spec.regression);
  return { settings, reference: referenceFor(baseline.source, env, spec.name, settings), source: baseline.source };
}

/** Run each used kind's prepare() once, bounded by the run's deadline (half of what is left at most). */
export async function prepareProbes(input: RunInput, remainingMs: number): Promise<void> {
  const preparations = [...input.probes.values()]
    .filter((probe) => probe.prepare)
    .map((probe) => probe.prepare!(input.checks.filter((spec) => input.probes.get(spec.kind) === probe)).catch(() => undefined));
  if (preparations.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(preparations), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, remainingMs / 2))))]);
  clearTimeout(timer);
}

/** How long an interrupted probe may take to clean up (cancel a query, kill a command, close clients) before the report. */
export const INTERRUPT_CLEANUP_MS = 1000;

async function settledWithin(promise: Promise<unknown> | undefined, waitMs: number): Promise<void> {
  if (!promise) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.then(() => undefined, () => undefined), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
}

/** A check the run was stopped in (`phase`: where it was) or before (no phase): no verdict, only what it had observed. */
export function interruptedResult(spec: Pick<CheckSpec, "name" | "kind">, target: string, reason: unknown, phase?: string): CheckResult {
  const signal = reason instanceof Interrupted ? reason.signal : undefined;
  return { ...unmeasured(spec, target, "interrupted"), interrupted: { ...(phase ? { phase } : {}), ...(signal ? { signal } : {}) } };
}

export function blockedResult(spec: Pick<CheckSpec, "name" | "kind">, target: string, blockers: Pick<CheckResult, "name">[]): CheckResult {
  return { ...unmeasured(spec, target, "blocked"), blockedBy: blockers.map((blocker) => blocker.name) };
}

/** A result with nothing measured: a check that never ran (blocked) or was stopped (interrupted). */
function unmeasured(spec: Pick<CheckSpec, "name" | "kind">, target: string, status: CheckResult["status"]): CheckResult {
  return { name: spec.name, kind: spec.kind, target, status, durationMs: 0, budgetMs: 0, phasesMs: {}, metrics: {}, assertions: [], failure: null, blockedBy: [] };
}

export function topologicalOrder<T extends { name: string; dependsOn: string[] }>(checks: T[]): T[] {
  const byName = new Map(checks.map((check) => [check.name, check]));
  const ordered: T[] = [];
  const seen = new Set<string>();
  const visit = (check: T) => {
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
