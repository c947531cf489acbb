// The Cloud Run Admin API v2 as the Cloud Run Job runner calls it: jobs
// (run with overrides, create, update), executions (read, cancel, list) and
// tasks (the exit code when the results line is not in Cloud Logging yet).
import { defineGoogleApi } from "../../gcp/api.js";

const load = async () => await import("@google-cloud/run");

/** What to run when the job does not exist yet (the runner's name comes from the resource's job id only when the caller knows no better). */
export const deployCommand = (runner: string) => `infra-check runner deploy ${runner}`;

export const JOBS = defineGoogleApi({
  id: "run.jobs",
  label: "Cloud Run Jobs",
  host: "run.googleapis.com",
  load: async () => (await load()).v2.JobsClient as never,
  rpcs: {
    GetJob: {
      permission: "run.jobs.get",
      role: "roles/run.viewer",
      notFound: ({ name, project, region }) => `No Cloud Run job "${name}" in project ${project}, region ${region}: create it with \`infra-check runner deploy NAME\` (or --print for the gcloud commands).`,
    },
    RunJob: {
      permission: "run.jobs.runWithOverrides",
      role: "roles/run.developer",
      notFound: ({ name, project, region }) =>
        `No Cloud Run job "${name}" in project ${project}, region ${region}: create it with \`infra-check runner deploy NAME\` (NAME: the runner under runners:; --print shows the gcloud commands), or fix runners.NAME.cloudRunJob.job / region.`,
      permissionHint: ({ name, project, region }) =>
        `The identity infra-check runs as must run the job with overrides (the checks travel as overrides): grant run.jobs.runWithOverrides, e.g. roles/run.developer on the job (gcloud run jobs add-iam-policy-binding ${name} --project ${project} --region ${region} --member=IDENTITY --role=roles/run.developer), or a custom role with run.jobs.runWithOverrides and run.executions.get.`,
    },
    CreateJob: { permission: "run.jobs.create", role: "roles/run.developer" },
    UpdateJob: { permission: "run.jobs.update", role: "roles/run.developer" },
  },
});

export const EXECUTIONS = defineGoogleApi({
  id: "run.executions",
  label: "Cloud Run Jobs",
  host: "run.googleapis.com",
  load: async () => (await load()).v2.ExecutionsClient as never,
  rpcs: {
    GetExecution: { permission: "run.executions.get", role: "roles/run.viewer", notFound: () => "The execution is gone (deleted while the run waited for it): run again." },
    ListExecutions: { permission: "run.executions.list", role: "roles/run.viewer" },
    CancelExecution: { permission: "run.executions.cancel", role: "roles/run.developer" },
  },
});

export const TASKS = defineGoogleApi({
  id: "run.tasks",
  label: "Cloud Run Jobs",
  host: "run.googleapis.com",
  load: async () => (await load()).v2.TasksClient as never,
  rpcs: {
    ListTasks: { permission: "run.tasks.list", role: "roles/run.viewer" },
  },
});
