// The run pipeline shared by every command that probes: loaded config →
// runner (with --wait and the baseline) → the report, built once → stdout
// → --output files → history → exit code.
import type { LoadedConfig } from "../config/load.js";
import type { RunOptions, Wording } from "../runner/run-checks.js";
import { runChecks } from "../runner/run-checks.js";
import { buildReport } from "../report/build.js";
import type { RunReport } from "../report/schema.js";
import { loadReporter } from "../reporters/index.js";
import { Redactor } from "../redact.js";
import { exitCodeFor } from "../exit-codes.js";
import { durationFlag } from "../util/flags.js";
import { renderProblems } from "../util/errors.js";
import { terminalWidth, useColor, type CommandIO } from "./io.js";
import type { RunFlags } from "./run-options.js";
import { parseOutputFlags, prepareOutputs, renderLoaded, writeOutputs } from "./outputs.js";
import { createProgress } from "./progress.js";
import type { RetryInfo, WaitOptions } from "../runner/wait.js";
import { formatMs } from "../util/duration.js";
import { decodeUrlPart } from "../util/url.js";
import { watchInterrupts } from "./interrupt.js";
import { githubZeroConfig } from "./ci.js";

export interface ExecuteOptions {
  /** Injected for tests (DNS failures, emulator clients). */
  runOptions?: Pick<RunOptions, "lookup" | "deps" | "now" | "clockStartMs" | "vantage">;
  /** --wait backoff schedule (tests use a short one). */
  wait?: Pick<WaitOptions, "backoffMs">;
  /** A one-off's vocabulary for its failures (src/commands/oneoff.ts). */
  wording?: Wording;
  /**
   * SIGINT/SIGTERM/SIGHUP stop the run and still print the partial report, write
   * the outputs and exit 128 + N (src/commands/interrupt.ts). `infra-check ENV` and
   * the one-offs set it; demo and serve handle signals their own way.
   */
  handleSignals?: boolean;
}

/** The names in a check's identity: its name, its kind, and its target's user, host and path segments. */
export function publicNames(name: string, kind: string, target: string | undefined): string[] {
  const names = [name, kind];
  try {
    const url = new URL(target?.split(" ").pop() ?? "");
    names.push(url.protocol.replace(/:$/, ""), decodeUrlPart(url.username), url.hostname, url.port, ...url.pathname.split("/").filter(Boolean).map(decodeUrlPart));
  } catch {
    // A target that is not a URL ("service backend in p/r") carries no user or database.
  }
  return names.filter(Boolean);
}

export async function execute(loaded: LoadedConfig, flags: RunFlags, io: CommandIO, options: ExecuteOptions = {}): Promise<{ exitCode: number; report: RunReport }> {
  const redactor = io.redactor ?? new Redactor();
  for (const secret of loaded.secrets) redactor.add(secret);
  // What the user named (checks, kinds, hosts, users, databases) is never masked as a value.
  for (const spec of loaded.checks) for (const name of publicNames(spec.name, spec.kind, loaded.probes.get(spec.kind)?.target(spec))) redactor.addPublic(name);
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
  const input = { env: loaded.env, file: loaded.file, deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes, ...(loaded.concurrency ? { concurrency: loaded.concurrency } : {}), ...(loaded.runners.size ? { runners: loaded.runners } : {}) };
  // A CI log has no live progress: it still learns that the run is waiting, and for what.
  const onRetry = (retry: RetryInfo) => {
    progress.onRetry(retry);
    if (!io.stderrIsTTY && !flags.quiet) io.stderr(`--wait: attempt ${retry.attempt} in ${formatMs(retry.delayMs)}: ${retry.checks.join(", ")}\n`);
  };
  const interrupt = options.handleSignals ? watchInterrupts(io, progress.finish) : undefined;
  try {
    return await runAndReport();
  } finally {
    interrupt?.dispose();
  }

  async function runAndReport(): Promise<{ exitCode: number; report: RunReport }> {
    const outcome = await runChecks(input, {
      ...options.runOptions,
      // The Google probes and secret references read gcp: (project, region, emulatorHost) and the environment from here.
      deps: { gcp: loaded.gcp, env: io.env, ...options.runOptions?.deps },
      redactor,
      strict: flags.strict,
      log: flags.verbose ? (line: string) => io.stderr(line + "\n") : undefined,
      onEvent: progress.onEvent,
      baseline: history?.runBaseline(plan),
      ...(interrupt ? { signal: interrupt.signal } : {}),
      ...(options.wording ? { wording: options.wording } : {}),
      ...(waitMs === undefined ? {} : { wait: { waitMs, retryAll: Boolean(flags.waitAll), onRetry: (retry) => onRetry(retry), ...options.wait } }),
    }).finally(progress.finish);
    // A signal came: the report is partial and says so (exit 128 + N).
    const interruptedBy = interrupt?.received;
    // With --wait the run's bound is the wait: that is the deadline the report states.
    const report = buildReport({ ...input, deadlineMs: waitMs ?? input.deadlineMs, strict: flags.strict ?? false, ...(interruptedBy ? { interruptedBy } : {}) }, outcome);
    for (const note of redactor.notes()) io.stderr(`note: ${note}\n`);
    io.stdout(await renderLoaded(flags.format, reporter, report, { color: useColor(flags.color, io), verbose: Boolean(flags.verbose), width: terminalWidth(io, "stdout") }, redactor));
    // On GitHub Actions the table is followed by the annotations (redacted like every format), and the step summary is appended.
    const zeroConfig = githubZeroConfig(flags, io.env);
    if (zeroConfig) {
      const { githubAnnotations } = await import("../reporters/github.js");
      const annotations = await renderLoaded("github", githubAnnotations, report, { color: false, verbose: false }, redactor);
      if (annotations) io.stdout(annotations);
    }
    await writeOutputs(report, outputs, { redactor, verbose: Boolean(flags.verbose), env: io.env, cwd: io.cwd, stdoutFormat: flags.format, githubZeroConfig: zeroConfig, descriptors: { 1: io.stdout, 2: io.stderr } });
    if (plan) await history!.recordRun(report, plan, io.stderr);
    return { exitCode: exitCodeFor(report), report };
  }
}
