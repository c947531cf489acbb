// `infra-check runner …`: the Cloud Run Job runner's commands.
// - `runner exec` is what the job's container runs (the lead ships it as the
//   execution's args): the payload's checks, run here, inside the VPC; the
//   human table on stderr, the one structured result line on stdout (Cloud
//   Run makes it a jsonPayload the lead reads back from Cloud Logging).
import { buildConfig } from "../config/load.js";
import { EXIT } from "../exit-codes.js";
import { JOB_PAYLOAD_ENV, RESULTS_MARK, type JobPayload, type ResultsLine } from "../runner/cloud-run-job/job.js";
import { ConfigError } from "../util/errors.js";
import { execute, type ExecuteOptions } from "./execute.js";
import type { Egress } from "./io.js";

export async function runnerExecCommand(io: Egress, options: ExecuteOptions = {}): Promise<number> {
  const text = io.env[JOB_PAYLOAD_ENV];
  if (!text) throw new ConfigError(`${JOB_PAYLOAD_ENV} is not set: \`infra-check runner exec\` is what a runner's job runs, with the checks the lead ships in that variable (see docs/runners.md)`);
  let payload: JobPayload;
  try {
    payload = JSON.parse(text) as JobPayload;
  } catch (error) {
    throw new ConfigError(`${JOB_PAYLOAD_ENV} is not JSON (${(error as Error).message}): the lead and the job's image are different infra-check versions?`);
  }
  // The lead interpolated every ${VAR} and shipped no secret: nothing here is expanded again.
  const loaded = await buildConfig(
    { ...(payload.gcp ? { gcp: payload.gcp } : {}), checks: payload.checks },
    { dir: io.cwd, defaultEnv: payload.env, env: io.env, noInterpolation: true, deadlineMs: payload.deadlineMs, redactor: io.redactor },
  );
  // The table goes to stderr (the execution's logs, for a human); stdout carries only the result line.
  const { exitCode, report } = await execute(loaded, { format: "table", quiet: true, color: false }, { ...io, stdout: io.stderr, stdoutIsTTY: false }, options);
  const line: ResultsLine & { severity: string; message: string } = {
    infraCheck: RESULTS_MARK,
    runner: payload.runner,
    ...(io.env.CLOUD_RUN_EXECUTION ? { execution: io.env.CLOUD_RUN_EXECUTION } : {}),
    exitCode,
    severity: exitCode === EXIT.OK ? "INFO" : "ERROR",
    message: `infra-check results: ${report.summary.pass} pass, ${report.summary.warn} warn, ${report.summary.fail} fail, ${report.summary.blocked} blocked`,
    checks: report.checks,
  };
  io.stdout(`${JSON.stringify(line)}\n`);
  return exitCode;
}
