// The Cloud Run Job runner's own failures: what happened to the execution
// that was to run the checks inside the VPC. Failures of the API calls
// themselves (the job missing, RunJob denied, a VPC-SC perimeter) are the
// Google layer's (src/gcp/diagnose.ts), worded from the RPCs' declarations
// in ./api.ts; these entries cover the execution and its results.
import { defineCatalogue } from "../../diagnose/catalogue.js";
import { formatMs } from "../../util/duration.js";

interface ExecutionFacts {
  runner: string;
  execution: string;
  /** The execution's Completed condition message. */
  condition: string;
  logUri: string;
  exitCode?: number;
  waitedMs?: number;
}

const logs = (f: ExecutionFacts) => (f.logUri ? ` Its logs: ${f.logUri}` : "");

export const RUNNER = defineCatalogue("runner", {
  JOB_MISSING: {
    class: "not-found",
    code: "NOT_FOUND",
    message: (f: { runner: string; job: string; project: string; region: string }) => `runner ${f.runner}: no Cloud Run job "${f.job}" in project ${f.project}, region ${f.region} (RunJob: NOT_FOUND)`,
    hint: (f: { runner: string }) =>
      `Create it: \`infra-check runner deploy ${f.runner}\` (\`--print\` shows the gcloud commands and IAM bindings), or fix runners.${f.runner}.cloudRunJob.job / region if it exists elsewhere.`,
  },
  EXECUTION_FAILED: {
    class: "unhealthy",
    code: (f: ExecutionFacts) => (f.exitCode !== undefined ? `EXIT_${f.exitCode}` : "EXECUTION_FAILED"),
    message: (f: ExecutionFacts) => `runner ${f.runner}: execution ${f.execution} failed (${f.condition || "no condition message"}) and left no results in Cloud Logging`,
    hint: (f: ExecutionFacts) =>
      `The job itself failed, before or instead of reporting the checks: read the execution's logs (an exit code 2 is a config the job's infra-check refused; 137 an out-of-memory kill), check the image runs \`infra-check\` as its entrypoint, then run again.${logs(f)}`,
  },
  EXECUTION_TIMEOUT: {
    class: "timeout",
    code: "EXECUTION_TIMEOUT",
    message: (f: ExecutionFacts) => `runner ${f.runner}: execution ${f.execution} reached its timeout (${f.condition})`,
    hint: (f: ExecutionFacts) =>
      `Raise runners.${f.runner}.cloudRunJob.timeout (cold start included: Direct VPC egress can take a minute at instance start) or the run's deadline, or ship fewer checks to the runner.${logs(f)}`,
  },
  IMAGE_PULL: {
    class: "permission",
    code: "IMAGE_PULL_DENIED",
    message: (f: ExecutionFacts) => `runner ${f.runner}: execution ${f.execution} could not start its container: ${f.condition}`,
    hint: (f: ExecutionFacts) =>
      `Cloud Run could not pull the image: check runners.${f.runner}.cloudRunJob.image exists (gcloud artifacts docker images list …) and grant the Cloud Run Service Agent (service-PROJECT_NUMBER@serverless-robot-prod.iam.gserviceaccount.com) roles/artifactregistry.reader on the repository; then \`infra-check runner deploy ${f.runner}\`.`,
  },
  CANCELLED: {
    class: "timeout",
    code: "EXECUTION_CANCELLED",
    message: (f: ExecutionFacts) => `runner ${f.runner}: execution ${f.execution} was cancelled before it reported (${f.condition || "cancelled"})`,
    hint: (f: ExecutionFacts) => `Someone (or another run) cancelled the execution: run again.${logs(f)}`,
  },
  NOT_DONE_IN_TIME: {
    class: "timeout",
    code: "EXECUTION_NOT_DONE",
    message: (f: ExecutionFacts & { stage: string; waitedMs: number }) =>
      `runner ${f.runner}: execution ${f.execution} ${f.stage} within the ${formatMs(f.waitedMs)} the run had left; it was cancelled`,
    hint: (f: ExecutionFacts) =>
      `A job's cold start (image pull, Direct VPC egress set-up: up to a minute) counts against the run: raise the run's deadline (deadline:, --deadline) for runs with remote checks, or keep a warm instance out of it by running them less often.${logs(f)}`,
  },
  RESULTS_LATE_FAILED: {
    class: "unhealthy",
    code: (f: ExecutionFacts) => `EXIT_${f.exitCode ?? "?"}`,
    message: (f: ExecutionFacts) =>
      `runner ${f.runner}: results not yet in Cloud Logging after ${formatMs(f.waitedMs ?? 0)}; the execution ${f.execution} exited ${f.exitCode} (a check failed inside the VPC, or the job did): which check is unknown`,
    hint: (f: ExecutionFacts) => `Read the execution's result line in Cloud Logging (jsonPayload.infraCheck="results"), or run again with a longer deadline so the results arrive in time.${logs(f)}`,
  },
  NO_RESULT: {
    class: "internal",
    code: "NO_RESULT",
    message: (f: ExecutionFacts & { check: string }) => `runner ${f.runner}: the results of execution ${f.execution} have no entry for check ${f.check}`,
    hint: "The job runs another infra-check version than this one (the image is older or newer): rebuild the image from this version and deploy it.",
  },
});
