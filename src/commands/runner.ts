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
  const { exitCode, report } = await execute(loaded, { format: "table", quiet: true, color: false }, { ...io, stdout: io.stderr, stdoutIsTTY: false }, { ...options, runOptions: { ...options.runOptions, vantage: payload.runner } });
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

interface RunnerCommandFlags {
  config?: string;
  print?: boolean;
}

async function loadRunner(name: string, env: string | undefined, flags: RunnerCommandFlags, io: Egress) {
  const { configPathFor } = await import("./run.js");
  const { loadConfigFile } = await import("../config/load.js");
  const { unknownRunner } = await import("../config/runners.js");
  const file = await configPathFor(env, flags, io);
  const loaded = await loadConfigFile(file, { env: io.env, cwd: io.cwd, redactor: io.redactor });
  const runner = loaded.runners.get(name);
  if (!runner) throw new ConfigError(`runner deploy/status: ${unknownRunner(name, loaded.runners.keys())}`, { file: loaded.file });
  return { loaded, runner, checks: loaded.checks.filter((check) => check.runner === name) };
}

/** `infra-check runner deploy NAME [env]`: create or update the runner's job (idempotent); --print shows gcloud commands instead. */
export async function runnerDeployCommand(name: string, env: string | undefined, flags: RunnerCommandFlags, io: Egress): Promise<number> {
  const { loaded, runner, checks } = await loadRunner(name, env, flags, io);
  const { gcloudCommands, commandContext, deployJob } = await import("../runner/cloud-run-job/deploy.js");
  if (flags.print) {
    io.stdout(gcloudCommands(runner, checks));
    return EXIT.OK;
  }
  if (!runner.cloudRunJob.image) throw new ConfigError(`runners.${name}.cloudRunJob.image is needed to deploy the job: the infra-check image you pushed (see docs/runners.md), e.g. REGION-docker.pkg.dev/PROJECT/tools/infra-check:VERSION`, { file: loaded.file });
  const command = commandContext({ gcp: loaded.gcp, env: io.env });
  try {
    const outcome = await deployJob(runner, command.ctx);
    if (outcome.action === "refused") {
      io.stderr(`runner deploy ${name}: ${outcome.job}: ${outcome.reason}\n`);
      return EXIT.FAILED;
    }
    io.stdout(`${outcome.action} ${outcome.job}${outcome.action === "unchanged" ? " (already as runners." + name + " describes it)" : ""}\n`);
    io.stdout(`next: grant the IAM bindings (infra-check runner deploy ${name} --print), then put runner: ${name} on the private checks\n`);
    return EXIT.OK;
  } catch (error) {
    const failure = command.classify(error);
    io.stderr(`runner deploy ${name}: ${failure.class}: ${failure.message}\n  → ${failure.hint}\n`);
    return EXIT.FAILED;
  } finally {
    command.release();
  }
}

/** `infra-check runner status NAME [env]`: the job, its image and network, its last executions. */
export async function runnerStatusCommand(name: string, env: string | undefined, flags: RunnerCommandFlags, io: Egress): Promise<number> {
  const { loaded, runner } = await loadRunner(name, env, flags, io);
  const { commandContext, jobStatus } = await import("../runner/cloud-run-job/deploy.js");
  const command = commandContext({ gcp: loaded.gcp, env: io.env });
  try {
    const status = await jobStatus(runner, command.ctx);
    const lines = [
      `job       ${status.job}${status.managed ? "" : "  (not labelled managed-by: infra-check)"}`,
      `image     ${status.image ?? "—"}`,
      `network   ${status.network ?? "none (the job reaches only public addresses)"}`,
      `identity  ${status.serviceAccount ?? "the project's default compute service account"}`,
      status.executions.length ? "last executions:" : "no executions yet",
      ...status.executions.map((execution) => `  ${execution.name}  ${execution.state.padEnd(9)}  ${execution.createTime ?? ""}${execution.message && execution.state === "failed" ? `  ${execution.message}` : ""}`),
    ];
    io.stdout(`${lines.join("\n")}\n`);
    return EXIT.OK;
  } catch (error) {
    const failure = command.classify(error);
    io.stderr(`runner status ${name}: ${failure.class}: ${failure.message}\n  → ${failure.hint}\n`);
    return EXIT.FAILED;
  } finally {
    command.release();
  }
}
