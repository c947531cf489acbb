// The Cloud Run Job runner, lead side: the checks of one runner go to the
// job as ONE execution (RunJob with overrides: the checks in the config's own
// shape, secret-free — src/config/runners.ts refused any secret), the job's
// infra-check runs them inside the VPC and prints one structured result line
// on stdout (./job.ts), Cloud Run turns it into a Cloud Logging jsonPayload,
// and this side reads it back filtered by the execution. When the line has
// not arrived in time, the task's exit code is the verdict instead.
//
// Phases (the runner's, kept apart from each check's own): schedule (RunJob
// answered: the execution exists), start (until the task's container runs:
// the cold start), probe (until the execution completed), collect (until the
// result line was read). An abort — the run's signal, its deadline — cancels
// the execution, so nothing keeps running (and billing) after the run.
import { failure } from "../../diagnose/catalogue.js";
import type { RunnerSpec } from "../../config/runners.js";
import type { CheckResult } from "../../report/schema.js";
import type { CheckSpec, ProbeContext } from "../../probes/api.js";
import { listLogEntries } from "../../gcp/logging.js";
import { gcpSettings, type GcpConfig } from "../../gcp/resources.js";
import { GcpSession } from "../../gcp/session.js";
import { EXECUTIONS, JOBS, TASKS } from "./api.js";
import { RUNNER } from "./diagnose.js";
import { JOB_PAYLOAD_ENV, RESULTS_MARK, type JobPayload, type ResultsLine } from "./job.js";

/** How long the lead waits for the result line after the execution completed, at most (Cloud Logging ingests within seconds). */
const COLLECT_WAIT_MS = 15_000;
/** Kept back from the run for the exit-code fallback (ListTasks) when the result line is late. */
const FALLBACK_RESERVE_MS = 400;
const FIRST_POLL_MS = 100;
const NOT_FOUND = 5;
const DEADLINE_EXCEEDED = 4;
const MAX_POLL_MS = 1_000;
/** The share of what is left of the run that the checks inside the job get; the rest covers the cold start and collecting. */
const INSIDE_SHARE = 0.6;

export interface BatchInput {
  runner: RunnerSpec;
  env: string;
  /** The shipped checks (each with `shipped`), dependencies inside the batch kept. */
  checks: CheckSpec[];
  gcp?: GcpConfig;
}

export type BatchVerdict =
  | { from: "results"; results: Map<string, CheckResult> }
  | { from: "exit-code"; exitCode: number; waitedMs: number };

export interface BatchOutcome {
  execution?: string;
  logUri?: string;
  verdict: BatchVerdict;
}

interface ExecutionMessage {
  name?: string;
  startTime?: unknown;
  completionTime?: unknown;
  logUri?: string;
  failedCount?: number;
  cancelledCount?: number;
  succeededCount?: number;
  conditions?: { type?: string; state?: string | number; message?: string; executionReason?: string | number }[];
}

/** What an execution is known by so far, for the caller's failure row and for cancelling. */
export interface BatchProgress {
  execution?: string;
  logUri?: string;
}

/**
 * Run the batch in one execution; throws what went wrong (a Google call's
 * error, or a runner failure from ./diagnose.ts) for the runner's one catch.
 * `cancel` is called with the execution's name when the batch is abandoned
 * (the context's signal aborted, the inner deadline passed) while it runs.
 */
export async function runBatch(input: BatchInput, ctx: ProbeContext, progress: BatchProgress, cancel: (execution: string) => Promise<void>): Promise<BatchOutcome> {
  const { runner } = input;
  const job = runner.cloudRunJob;
  const session = new GcpSession(ctx, gcpSettings({ project: job.project, region: job.region }, ctx.deps));
  const now = () => performance.now();
  let running: string | undefined;
  try {
    await session.prepare(JOBS, EXECUTIONS);
    const leftMs = ctx.deadline.remainingMs();
    const payload: JobPayload = {
      env: input.env,
      runner: runner.name,
      deadlineMs: Math.max(500, Math.floor(leftMs * INSIDE_SHARE)),
      ...(input.gcp ? { gcp: { ...input.gcp } } : {}),
      checks: Object.fromEntries(input.checks.map((spec) => [spec.name, { ...spec.shipped, dependsOn: spec.dependsOn }])),
    };
    const overrides = {
      containerOverrides: [{ args: ["runner", "exec"], env: [{ name: JOB_PAYLOAD_ENV, value: JSON.stringify(payload) }] }],
      // The execution never outlives the run (nor the runner's own budget).
      timeout: { seconds: String(Math.max(1, Math.ceil(Math.min(job.timeoutMs, leftMs) / 1000))) },
    };
    // A long-running operation whose first answer's metadata is the Execution: it exists from here on.
    const operation = await ctx.phases
      .time("schedule", () => session.call<{ metadata?: ExecutionMessage | null; name?: string }>(JOBS, "RunJob", { name: job.resource, overrides }, job.resource))
      .catch((error: unknown) => {
        // The runner knows what to deploy: its own name, not the API's generic "check the name".
        if ((error as { code?: unknown })?.code === NOT_FOUND) throw failure(RUNNER.JOB_MISSING, { runner: runner.name, job: job.job, project: job.project, region: job.region }, { cause: error });
        throw error;
      });
    const first = operation?.metadata ?? undefined;
    const execution = first?.name;
    if (!execution) throw new Error(`RunJob answered without the execution's name (operation ${String(operation?.name)})`);
    running = execution;
    progress.execution = execution;
    progress.logUri = first?.logUri || undefined;
    ctx.facts.execution = execution;
    const scheduledAt = now();

    // Wait for the execution: started (the cold start), then completed.
    ctx.phases.start("start");
    let startedAt: number | undefined;
    let state: ExecutionMessage = first ?? {};
    let pollMs = FIRST_POLL_MS;
    const notDone = (cause?: unknown) =>
      failure(
        RUNNER.NOT_DONE_IN_TIME,
        {
          runner: runner.name,
          execution: short(execution),
          condition: "",
          logUri: progress.logUri ?? "",
          stage: startedAt ? "did not finish" : "did not start",
          waitedMs: Math.round(now() - scheduledAt),
        },
        { cause },
      );
    for (;;) {
      if (!startedAt && isSet(state.startTime)) {
        startedAt = now();
        ctx.phases.record("start", startedAt - scheduledAt);
        ctx.phases.start("probe");
      }
      if (isSet(state.completionTime)) break;
      if (!(await pause(pollMs, ctx))) throw notDone();
      pollMs = Math.min(MAX_POLL_MS, Math.round(pollMs * 1.5));
      // The poll's gRPC deadline is what is left of the check's: running out there is the same wait ending.
      state = await session.call<ExecutionMessage>(EXECUTIONS, "GetExecution", { name: execution }).catch((error: unknown) => {
        throw (error as { code?: unknown })?.code === DEADLINE_EXCEEDED ? notDone(error) : error;
      });
      progress.logUri = state.logUri || progress.logUri;
    }
    running = undefined;
    const completedAt = now();
    if (startedAt) ctx.phases.record("probe", completedAt - startedAt);

    // Collect the result line: read Cloud Logging until it is there, or the run can wait no longer.
    ctx.phases.start("collect");
    const filter = [
      `resource.type="cloud_run_job"`,
      `resource.labels.job_name="${job.job}"`,
      `labels."run.googleapis.com/execution_name"="${short(execution)}"`,
      `jsonPayload.infraCheck="${RESULTS_MARK}"`,
    ].join(" AND ");
    const collectUntil = completedAt + Math.min(COLLECT_WAIT_MS, Math.max(0, ctx.deadline.remainingMs() - FALLBACK_RESERVE_MS));
    pollMs = FIRST_POLL_MS;
    // A task that never started, timed out or was cancelled wrote no line (it prints it last): nothing to wait for.
    const completed = state.conditions?.find((entry) => entry.type === "Completed");
    const killed = Number(state.cancelledCount ?? 0) > 0 || TIMED_OUT.test(completed?.message ?? "");
    for (let attempt = 0; startedAt && (!killed || attempt === 0); attempt += 1) {
      const entries = await listLogEntries({ project: job.project, filter, pageSize: 5 }, ctx, session);
      const line = entries.map((entry) => entry.jsonPayload as ResultsLine | undefined).find((payload) => payload?.infraCheck === RESULTS_MARK && Array.isArray(payload.checks));
      if (line) {
        ctx.phases.record("collect", now() - completedAt);
        return { execution, ...(progress.logUri ? { logUri: progress.logUri } : {}), verdict: { from: "results", results: new Map(line.checks.map((result) => [result.name, result])) } };
      }
      const waitMs = Math.min(pollMs, collectUntil - now());
      if (waitMs <= 0 || !(await pause(waitMs, ctx))) break;
      pollMs = Math.min(MAX_POLL_MS, Math.round(pollMs * 1.5));
    }

    // No result line: the execution's own outcome is the verdict.
    const condition = state.conditions?.find((entry) => entry.type === "Completed");
    const facts = { runner: runner.name, execution: short(execution), condition: condition?.message ?? "", logUri: progress.logUri ?? "", waitedMs: Math.round(now() - completedAt) };
    if (!startedAt) throw failure(/image|pull|permission to read/i.test(facts.condition) ? RUNNER.IMAGE_PULL : RUNNER.EXECUTION_FAILED, facts);
    if (Number(state.cancelledCount ?? 0) > 0 || /CANCELLED/.test(String(condition?.executionReason ?? ""))) throw failure(RUNNER.CANCELLED, facts);
    if (TIMED_OUT.test(facts.condition)) throw failure(RUNNER.EXECUTION_TIMEOUT, facts);
    const exitCode = await taskExitCode(session, execution);
    if (exitCode === 0) return { execution, ...(progress.logUri ? { logUri: progress.logUri } : {}), verdict: { from: "exit-code", exitCode, waitedMs: facts.waitedMs } };
    if (exitCode === 1) throw failure(RUNNER.RESULTS_LATE_FAILED, { ...facts, exitCode });
    throw failure(RUNNER.EXECUTION_FAILED, { ...facts, ...(exitCode !== undefined ? { exitCode } : {}) });
  } finally {
    // Abandoned while it ran (abort, deadline, an error reading it): cancel it, so it stops probing and billing.
    if (running) await cancel(running).catch((error: unknown) => ctx.log(`could not cancel ${running}: ${(error as Error)?.message ?? String(error)}`));
    await session.close();
  }
}

/** Cancel an execution in a context of its own (the batch's was aborted). */
export async function cancelExecution(execution: string, runner: RunnerSpec, ctx: ProbeContext): Promise<void> {
  const session = new GcpSession(ctx, gcpSettings({ project: runner.cloudRunJob.project, region: runner.cloudRunJob.region }, ctx.deps));
  try {
    await session.call(EXECUTIONS, "CancelExecution", { name: execution });
  } finally {
    await session.close();
  }
}

async function taskExitCode(session: GcpSession, execution: string): Promise<number | undefined> {
  const tasks = await session.call<{ lastAttemptResult?: { exitCode?: number } | null }[]>(TASKS, "ListTasks", { parent: execution, pageSize: 10 }, execution, { autoPaginate: false });
  const code = tasks?.[0]?.lastAttemptResult?.exitCode;
  return typeof code === "number" ? code : undefined;
}

/** How Cloud Run words a task killed at the job's timeout. */
const TIMED_OUT = /timeout was reached|exceeded (its|the) .*timeout/i;

const short = (execution: string) => execution.split("/").pop() ?? execution;

/** A protobuf timestamp as the client decodes it (null when unset). */
function isSet(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  const seconds = (value as { seconds?: unknown }).seconds;
  return seconds !== undefined && seconds !== null && String(seconds) !== "0";
}

/** Wait `ms` unless the inner deadline or the check's signal ends first; false when it did. */
function pause(ms: number, ctx: ProbeContext): Promise<boolean> {
  const signal = ctx.deadline.signal;
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(true), Math.max(0, Math.min(ms, ctx.deadline.remainingMs())));
    const onAbort = () => done(false);
    function done(ok: boolean) {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(ok && !signal.aborted && ctx.deadline.remainingMs() > 0);
    }
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
