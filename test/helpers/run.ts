// Build a config from an object (as it would appear in YAML) and run it
// through the real runner: classification and evaluation end to end.
import { buildConfig } from "../../src/config/load.js";
import { runChecks, type RunOptions } from "../../src/runner/run-checks.js";
import { Redactor } from "../../src/redact.js";
import type { CheckResult, RunReport } from "../../src/report/schema.js";

export async function runConfig(raw: Record<string, unknown>, options: RunOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<RunReport> {
  const loaded = await buildConfig(raw, { dir: process.cwd(), defaultEnv: "test", env: options.env ?? {} });
  return runChecks(
    { env: loaded.env, deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes },
    { redactor: new Redactor(loaded.secrets), ...options },
  );
}

/** Run a single check and return its result. */
export async function runCheck(check: Record<string, unknown>, options: RunOptions & { env?: NodeJS.ProcessEnv; deadline?: string } = {}): Promise<CheckResult> {
  const report = await runConfig({ deadline: options.deadline ?? "20s", checks: { probe: check } }, options);
  return report.checks[0];
}
