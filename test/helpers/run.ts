// Build a config from an object (as it would appear in YAML) and run it
// through the real runner: classification and evaluation end to end.
import { buildConfig } from "../../src/config/load.js";
import { runChecks, type RunInput, type RunOptions } from "../../src/runner/run-checks.js";
import type { WaitOptions } from "../../src/runner/wait.js";
import { buildReport } from "../../src/report/build.js";
import { Redactor } from "../../src/redact.js";
import type { CheckResult, RunReport } from "../../src/report/schema.js";

export async function runConfig(raw: Record<string, unknown>, options: RunOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<RunReport> {
  const loaded = await buildConfig(raw, { dir: process.cwd(), defaultEnv: "test", env: options.env ?? {} });
  const input = { env: loaded.env, deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes, ...(loaded.runners.size ? { runners: loaded.runners } : {}) };
  return runToReport(input, { redactor: new Redactor(loaded.secrets), ...options });
}

/** The runner's results as the report a command would print. */
export async function runToReport(input: RunInput, options: RunOptions = {}): Promise<RunReport> {
  return buildReport({ ...input, strict: options.strict ?? false }, await runChecks(input, options));
}

/** A run with --wait, as the report it ends in. */
export function runWithWait(input: RunInput, options: RunOptions, wait?: WaitOptions): Promise<RunReport> {
  return runToReport(input, { ...options, ...(wait ? { wait } : {}) });
}

/** Run a single check and return its result. */
export async function runCheck(check: Record<string, unknown>, options: RunOptions & { env?: NodeJS.ProcessEnv; deadline?: string } = {}): Promise<CheckResult> {
  const report = await runConfig({ deadline: options.deadline ?? "20s", checks: { probe: check } }, options);
  return report.checks[0];
}
