// The run pipeline shared by every command that probes: loaded config →
// runner (with --wait and the baseline) → the report, built once → stdout
// → --output files → history → exit code.
import type { LoadedConfig } from "../config/load.js";
import type { RunOptions } from "../runner/run-checks.js";
import { runChecks } from "../runner/run-checks.js";
import { buildReport } from "../report/build.js";
import type { RunReport } from "../report/schema.js";
import { loadReporter } from "../reporters/index.js";
import { Redactor } from "../redact.js";
import { exitCodeFor } from "../exit-codes.js";
import { durationFlag } from "../util/flags.js";
import { renderProblems } from "../util/errors.js";
import { useColor, type CommandIO } from "./io.js";
import type { RunFlags } from "./run-options.js";
import { parseOutputFlags, prepareOutputs, writeOutputs } from "./outputs.js";
import { createProgress } from "./progress.js";
import type { WaitOptions } from "../runner/wait.js";

export interface ExecuteOptions {
  /** Injected for tests (DNS failures, emulator clients). */
  runOptions?: Pick<RunOptions, "lookup" | "deps" | "now" | "clockStartMs">;
  /** --wait backoff schedule (tests use a short one). */
  wait?: Pick<WaitOptions, "backoffMs">;
}

export async function execute(loaded: LoadedConfig, flags: RunFlags, io: CommandIO, options: ExecuteOptions = {}): Promise<{ exitCode: number; report: RunReport }> {
  const redactor = io.redactor ?? new Redactor();
  for (const secret of loaded.secrets) redactor.add(secret);
  const reporter = await loadReporter(flags.format);
  // Output files and --wait are checked before probing: a typo exits 2 with nothing run.
  const outputs = parseOutputFlags(flags.output, io.cwd);
  await prepareOutputs(outputs);
  const waitMs = durationFlag("--wait", flags.wait);
  const progress = createProgress(io, flags, redactor);
  for (const note of loaded.notes) io.stderr(`note: ${note}\n`);
  if (loaded.warnings.length) io.stderr(redactor.text(renderProblems(loaded.warnings, "warning: ")));
  // Baseline and history paths are checked before probing: a bad path exits 2 with nothing run.
  const history = flags.history || flags.baseline || loaded.history || loaded.regression ? await import("../baseline/history.js") : undefined;
  const plan = await history?.planBaseline(loaded, flags, io.cwd);
  for (const warning of plan?.baseline?.warnings ?? []) io.stderr(`warning: ${warning}\n`);
  const input = { env: loaded.env, file: loaded.file, deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes };
  const outcome = await runChecks(input, {
    ...options.runOptions,
    // The Google probes and secret references read gcp: (project, region, emulatorHost) and the environment from here.
    deps: { gcp: loaded.gcp, env: io.env, ...options.runOptions?.deps },
    redactor,
    strict: flags.strict,
    log: flags.verbose ? (line: string) => io.stderr(line + "\n") : undefined,
    onEvent: progress.onEvent,
    baseline: history?.runBaseline(plan),
    ...(waitMs === undefined ? {} : { wait: { waitMs, onRetry: progress.onRetry, ...options.wait } }),
  }).finally(progress.finish);
  const report = buildReport({ ...input, strict: flags.strict ?? false }, outcome);
  io.stdout(redactor.text(reporter(report, { color: useColor(flags.color, io), verbose: Boolean(flags.verbose) })));
  await writeOutputs(report, outputs, { redactor, verbose: Boolean(flags.verbose), env: io.env, cwd: io.cwd, stdoutFormat: flags.format });
  if (plan) await history!.recordRun(report, plan, io.stderr);
  return { exitCode: exitCodeFor(report), report };
}
