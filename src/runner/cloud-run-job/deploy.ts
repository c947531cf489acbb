// `infra-check runner deploy NAME` / `runner status NAME`: the job a runner
// runs as, created or updated from `runners.NAME.cloudRunJob` (idempotent:
// an unchanged job is left alone; labelled managed-by: infra-check, and a
// job without that label is never changed), the equivalent gcloud commands
// and IAM bindings (--print), and what the job looks like now.
import { classify } from "../../diagnose/classify.js";
import type { ClassifiedError } from "../../diagnose/vocabulary.js";
import type { RunnerSpec } from "../../config/runners.js";
import type { CheckSpec, ProbeContext, ProbeDeps } from "../../probes/api.js";
import { grpcRule } from "../../gcp/diagnose.js";
import { gcpSettings } from "../../gcp/resources.js";
import { GcpSession } from "../../gcp/session.js";
import { systemLookup } from "../../net/resolve.js";
import { armInnerDeadline, raceAbort } from "../../util/deadline.js";
import { createPhaseTimer } from "../phase-timer.js";
import { EXECUTIONS, JOBS } from "./api.js";

export const MANAGED_BY = { "managed-by": "infra-check" } as const;
/** What one deploy or status call may take. */
const COMMAND_BUDGET_MS = 60_000;

/** The job as Cloud Run's v2 API takes it, from the runner's settings. */
export function jobFor(runner: RunnerSpec): Record<string, unknown> {
  const job = runner.cloudRunJob;
  const vpcAccess = job.vpcConnector
    ? { connector: connectorName(runner), egress: job.vpcEgress ?? "PRIVATE_RANGES_ONLY" }
    : job.directVpc
      ? { networkInterfaces: [{ network: job.directVpc.network, ...(job.directVpc.subnetwork ? { subnetwork: job.directVpc.subnetwork } : {}) }], egress: job.vpcEgress ?? "PRIVATE_RANGES_ONLY" }
      : undefined;
  return {
    labels: { ...MANAGED_BY },
    template: {
      taskCount: 1,
      parallelism: 1,
      template: {
        containers: [{ image: job.image, args: ["runner", "exec"] }],
        // A retry would run the checks twice and report once: the lead decides what to do with a failure.
        maxRetries: 0,
        timeout: { seconds: String(Math.ceil(job.timeoutMs / 1000)) },
        ...(job.serviceAccount ? { serviceAccount: job.serviceAccount } : {}),
        ...(vpcAccess ? { vpcAccess } : {}),
      },
    },
  };
}

function connectorName(runner: RunnerSpec): string {
  const { vpcConnector, project, region } = runner.cloudRunJob;
  return vpcConnector!.includes("/") ? vpcConnector! : `projects/${project}/locations/${region}/connectors/${vpcConnector}`;
}

/** Secret Manager secrets the runner's checks reference (the job's service account reads them). */
export function secretsOf(checks: CheckSpec[]): string[] {
  const found = new Set<string>();
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === "object") {
      const secret = (value as { secret?: unknown }).secret;
      if (typeof secret === "string" && Object.keys(value).length === 1) found.add(secret.replace(/\/versions\/[^/]+$/, ""));
      else Object.values(value).forEach(walk);
    }
  };
  for (const check of checks) walk(check.shipped);
  return [...found];
}

/** `--print`: what deploy does, as gcloud commands, and the IAM bindings both sides need. */
export function gcloudCommands(runner: RunnerSpec, checks: CheckSpec[]): string {
  const job = runner.cloudRunJob;
  const where = `--project ${job.project} --region ${job.region}`;
  const sa = job.serviceAccount ?? "SERVICE_ACCOUNT";
  const egress = (job.vpcEgress ?? "PRIVATE_RANGES_ONLY").toLowerCase().replace(/_/g, "-");
  const network = job.vpcConnector
    ? ` \\\n    --vpc-connector ${connectorName(runner)} --vpc-egress ${egress}`
    : job.directVpc
      ? ` \\\n    --network ${job.directVpc.network}${job.directVpc.subnetwork ? ` --subnet ${job.directVpc.subnetwork}` : ""} --vpc-egress ${egress}`
      : "";
  const lines = [
    `# The job (what \`infra-check runner deploy ${runner.name}\` creates or updates):`,
    `gcloud run jobs deploy ${job.job} ${where} \\`,
    `    --image ${job.image ?? "IMAGE"} --args=runner,exec --tasks 1 --max-retries 0 --task-timeout ${Math.ceil(job.timeoutMs / 1000)}s \\`,
    `    --labels managed-by=infra-check${job.serviceAccount ? ` --service-account ${job.serviceAccount}` : ""}${network}`,
    "",
    "# Whoever runs infra-check (you, CI) runs the job with overrides and reads its result line:",
    `gcloud run jobs add-iam-policy-binding ${job.job} ${where} --member=IDENTITY --role=roles/run.developer   # run.jobs.runWithOverrides, run.executions.get/cancel`,
    `gcloud projects add-iam-policy-binding ${job.project} --member=IDENTITY --role=roles/logging.viewer   # logging.logEntries.list`,
    "",
    `# The job's service account (${sa}) resolves the checks' secrets itself:`,
    ...secretsOf(checks).map((secret) => `gcloud secrets add-iam-policy-binding ${secret.split("/").pop()} --project ${/^projects\/([^/]+)/.exec(secret)?.[1] ?? job.project} --member=serviceAccount:${sa} --role=roles/secretmanager.secretAccessor   # secretmanager.versions.access`),
    ...(secretsOf(checks).length ? [] : ["#   (no { secret: … } reference among this runner's checks)"]),
    `# and, if a remote check connects through the Cloud SQL connector or reads a Memorystore AUTH string:`,
    `#   gcloud projects add-iam-policy-binding ${job.project} --member=serviceAccount:${sa} --role=roles/cloudsql.client`,
    `#   gcloud projects add-iam-policy-binding ${job.project} --member=serviceAccount:${sa} --role=roles/redis.viewer`,
  ];
  return `${lines.join("\n")}\n`;
}

export interface CommandContext {
  ctx: ProbeContext;
  release(): void;
  /** A failure of the commands' Google calls, worded from the one catalogue. */
  classify(error: unknown): ClassifiedError;
}

/** A context for a command's Google calls (no run around it): one budget, its signal, the shared classifier. */
export function commandContext(deps: ProbeDeps, signal?: AbortSignal): CommandContext {
  const controller = new AbortController();
  const started = performance.now();
  const remainingMs = () => Math.max(0, COMMAND_BUDGET_MS - (performance.now() - started));
  const timer = setTimeout(() => controller.abort(new Error("the command's budget ran out")), COMMAND_BUDGET_MS);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const phases = createPhaseTimer();
  const deadline = armInnerDeadline({ signal: controller.signal, budgetMs: COMMAND_BUDGET_MS, remainingMs });
  const ctx: ProbeContext = {
    signal: controller.signal,
    budgetMs: COMMAND_BUDGET_MS,
    remainingMs,
    deadline,
    phases,
    lookup: systemLookup,
    sample: (fn) => fn(),
    addSecret: () => undefined,
    dependencies: new Map(),
    metrics: {},
    details: {},
    labels: [],
    facts: { service: "Cloud Run Jobs" },
    deps,
    log: () => undefined,
  };
  return {
    ctx,
    release: () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      deadline.dispose();
    },
    classify: (error) => classify(error, { kind: "cloud-run-job", phase: phases.current, completedPhases: Object.keys(phases.phasesMs), budgetMs: COMMAND_BUDGET_MS, facts: ctx.facts }, { rules: [grpcRule] }),
  };
}

interface JobMessage {
  name?: string;
  labels?: Record<string, string>;
  template?: { template?: { containers?: { image?: string }[]; serviceAccount?: string; timeout?: { seconds?: unknown } | null; vpcAccess?: { connector?: string; egress?: string; networkInterfaces?: { network?: string; subnetwork?: string }[] } | null } | null } | null;
  executionCount?: number;
}

export type DeployOutcome = { action: "created" | "updated" | "unchanged"; job: string } | { action: "refused"; job: string; reason: string };

/** Create the job, or update it when it differs; a job infra-check does not manage is refused. */
export async function deployJob(runner: RunnerSpec, ctx: ProbeContext): Promise<DeployOutcome> {
  const job = runner.cloudRunJob;
  const session = new GcpSession(ctx, gcpSettings({ project: job.project, region: job.region }, ctx.deps));
  try {
    const wanted = jobFor(runner);
    let existing: JobMessage | undefined;
    try {
      existing = await session.call<JobMessage>(JOBS, "GetJob", { name: job.resource });
    } catch (error) {
      if ((error as { code?: number }).code !== 5) throw error;
    }
    type Operation = { promise?: () => Promise<unknown> };
    const settle = async (operation: Operation) => void (operation?.promise ? await raceAbort(operation.promise(), ctx.signal) : undefined);
    if (!existing) {
      await settle(await session.call<Operation>(JOBS, "CreateJob", { parent: `projects/${job.project}/locations/${job.region}`, jobId: job.job, job: wanted }, job.resource));
      return { action: "created", job: job.resource };
    }
    if (existing.labels?.["managed-by"] !== MANAGED_BY["managed-by"]) {
      return { action: "refused", job: job.resource, reason: `the job exists and is not labelled managed-by: infra-check; infra-check changes only jobs it created (label it, or name another job in runners.${runner.name}.cloudRunJob.job)` };
    }
    if (sameJob(existing, wanted)) return { action: "unchanged", job: job.resource };
    await settle(await session.call<Operation>(JOBS, "UpdateJob", { job: { ...wanted, name: job.resource } }, job.resource));
    return { action: "updated", job: job.resource };
  } finally {
    await session.close();
  }
}

function sameJob(existing: JobMessage, wanted: Record<string, unknown>): boolean {
  const want = (wanted.template as { template: { containers: { image?: string }[]; serviceAccount?: string; timeout: { seconds: string }; vpcAccess?: { connector?: string; egress?: string; networkInterfaces?: { network?: string; subnetwork?: string }[] } } }).template;
  const have = existing.template?.template;
  const vpc = (access: typeof want.vpcAccess | null | undefined) => JSON.stringify({ connector: access?.connector || "", egress: access?.connector || access?.networkInterfaces?.length ? access?.egress ?? "" : "", nics: (access?.networkInterfaces ?? []).map((nic) => [nic.network ?? "", nic.subnetwork ?? ""]) });
  return (
    (have?.containers?.[0]?.image ?? "") === (want.containers[0].image ?? "") &&
    (have?.serviceAccount ?? "") === (want.serviceAccount ?? have?.serviceAccount ?? "") &&
    String(have?.timeout?.seconds ?? "") === want.timeout.seconds &&
    vpc(have?.vpcAccess) === vpc(want.vpcAccess)
  );
}

export interface JobStatus {
  job: string;
  image?: string;
  serviceAccount?: string;
  network?: string;
  managed: boolean;
  executions: { name: string; state: string; message?: string; createTime?: string; completionTime?: string }[];
}

/** The job and its last executions (newest first). */
export async function jobStatus(runner: RunnerSpec, ctx: ProbeContext, last = 5): Promise<JobStatus> {
  const job = runner.cloudRunJob;
  const session = new GcpSession(ctx, gcpSettings({ project: job.project, region: job.region }, ctx.deps));
  try {
    const found = await session.call<JobMessage>(JOBS, "GetJob", { name: job.resource });
    type Execution = { name?: string; createTime?: Timestamp | null; completionTime?: Timestamp | null; conditions?: { type?: string; state?: string; message?: string }[] };
    const executions = await session.call<Execution[]>(EXECUTIONS, "ListExecutions", { parent: job.resource, pageSize: last }, job.resource, { autoPaginate: false });
    const access = found.template?.template?.vpcAccess;
    return {
      job: job.resource,
      image: found.template?.template?.containers?.[0]?.image,
      serviceAccount: found.template?.template?.serviceAccount || undefined,
      network: access?.connector ? `connector ${access.connector} (${access.egress})` : access?.networkInterfaces?.length ? `Direct VPC ${access.networkInterfaces.map((nic) => [nic.network, nic.subnetwork].filter(Boolean).join("/")).join(", ")} (${access.egress})` : undefined,
      managed: found.labels?.["managed-by"] === MANAGED_BY["managed-by"],
      executions: (executions ?? []).slice(0, last).map((execution) => {
        const completed = execution.conditions?.find((condition) => condition.type === "Completed");
        const state = !execution.completionTime ? "running" : completed?.state === "CONDITION_SUCCEEDED" ? "succeeded" : "failed";
        return {
          name: String(execution.name).split("/").pop()!,
          state,
          ...(completed?.message && state !== "running" ? { message: completed.message } : {}),
          ...(execution.createTime ? { createTime: iso(execution.createTime) } : {}),
          ...(execution.completionTime ? { completionTime: iso(execution.completionTime) } : {}),
        };
      }),
    };
  } finally {
    await session.close();
  }
}

type Timestamp = { seconds?: unknown; nanos?: number };
const iso = (timestamp: Timestamp) => new Date(Number(String(timestamp.seconds ?? 0)) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6)).toISOString();
