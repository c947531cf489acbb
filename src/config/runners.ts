// `runners:` — where checks run when not on this machine. A runner is a
// vantage point inside the network the checks target (a Cloud Run Job on the
// service's VPC connector or Direct VPC network), so a private address is
// probed from where the app reaches it. This file owns the config shape and
// the rules that keep secrets out of what is shipped to a runner; the runner
// itself lives in src/runner/cloud-run-job/.
import { z } from "zod";
import { collectSecrets } from "../redact.js";
import { durationSchema } from "../probes/shared/schema.js";
import { parseDurationMs } from "../util/duration.js";
import { didYouMean } from "../util/did-you-mean.js";

/** The runner name that means "this machine" (in `runner:` and `--runner`). */
export const LOCAL_RUNNER = "local";
/** A Cloud Run Job execution's budget when the runner sets none: a cold start with Direct VPC egress can take a minute. */
export const DEFAULT_JOB_TIMEOUT_MS = 120_000;

export const cloudRunJobSchema = z.strictObject({
  job: z.string().regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, "expected a Cloud Run job name: lower-case letters, digits and '-', starting with a letter").meta({ description: "Cloud Run job name (created by `infra-check runner deploy NAME`)" }),
  region: z.string().min(1).optional().meta({ description: "Region of the job (default: gcp.region)" }),
  project: z.string().min(1).optional().meta({ description: "Project of the job (default: gcp.project)" }),
  image: z.string().min(1).optional().meta({ description: "Container image of infra-check (pin by digest in production); needed by `runner deploy`" }),
  vpcConnector: z.string().min(1).optional().meta({ description: "Serverless VPC Access connector the job egresses through (name or full resource name)" }),
  directVpc: z
    .strictObject({
      network: z.string().min(1).meta({ description: "VPC network" }),
      subnetwork: z.string().min(1).optional().meta({ description: "Subnetwork (default: the network's subnet in the region)" }),
    })
    .optional()
    .meta({ description: "Direct VPC egress instead of a connector" }),
  vpcEgress: z.enum(["PRIVATE_RANGES_ONLY", "ALL_TRAFFIC"]).optional().meta({ description: "Which traffic goes through the VPC (default PRIVATE_RANGES_ONLY)" }),
  serviceAccount: z.string().min(1).optional().meta({ description: "Service account the job runs as: it reads the checks' secrets ({ secret: … }) itself" }),
  timeout: durationSchema.optional().meta({ description: "Budget of one execution, cold start included (default 2m); the run's deadline still bounds the wait" }),
});

export const runnerSchema = z.strictObject({
  cloudRunJob: cloudRunJobSchema.meta({ description: "Run the checks as one execution of a Cloud Run Job" }),
});

export const runnersSchema = z
  // Names are checked in resolveRunners: a record key's own issue reads "Invalid key in record", which says too little.
  .record(z.string(), runnerSchema)
  .meta({ description: "Where `runner: NAME` checks run: e.g. a Cloud Run Job inside the VPC (see docs/runners.md)" });

export type RunnerConfig = z.infer<typeof runnerSchema>;

/** A runner as the run uses it: every default filled in. */
export interface RunnerSpec {
  name: string;
  cloudRunJob: {
    job: string;
    project: string;
    region: string;
    image?: string;
    vpcConnector?: string;
    directVpc?: { network: string; subnetwork?: string };
    vpcEgress?: "PRIVATE_RANGES_ONLY" | "ALL_TRAFFIC";
    serviceAccount?: string;
    timeoutMs: number;
    /** The job's full resource name: projects/P/locations/R/jobs/J. */
    resource: string;
  };
}

const RUNNER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

type Fail = (keyPath: string | undefined, message: string) => void;

/** Fill the runners' defaults from `gcp:`; problems go to `fail` with their key path. */
export function resolveRunners(raw: Record<string, RunnerConfig> | undefined, gcp: { project?: string; region?: string } | undefined, fail: Fail): Map<string, RunnerSpec> {
  const runners = new Map<string, RunnerSpec>();
  for (const [name, runner] of Object.entries(raw ?? {})) {
    const job = runner.cloudRunJob;
    const keyPath = `runners.${name}.cloudRunJob`;
    if (name === LOCAL_RUNNER) {
      fail(`runners.${name}`, `"${LOCAL_RUNNER}" means this machine (runner: ${LOCAL_RUNNER}, --runner ${LOCAL_RUNNER}): choose another runner name`);
      continue;
    }
    if (!RUNNER_NAME.test(name)) {
      fail(`runners.${name}`, "runner names use letters, digits, '-' and '_', starting with a letter or digit");
      continue;
    }
    const project = job.project ?? gcp?.project;
    const region = job.region ?? gcp?.region;
    if (!project) fail(keyPath, "no project for the job: set gcp.project (or project: here)");
    if (!region) fail(keyPath, "no region for the job: set gcp.region (or region: here)");
    if (job.vpcConnector && job.directVpc) fail(`${keyPath}.directVpc`, "vpcConnector and directVpc exclude each other: a job egresses through one of them");
    if (!project || !region) continue;
    runners.set(name, {
      name,
      cloudRunJob: {
        ...job,
        project,
        region,
        timeoutMs: job.timeout !== undefined ? parseDurationMs(job.timeout)! : DEFAULT_JOB_TIMEOUT_MS,
        resource: `projects/${project}/locations/${region}/jobs/${job.job}`,
      },
    });
  }
  return runners;
}

/** `runner: X` or --runner X that names no runner: the message, with a did-you-mean. */
export function unknownRunner(name: string, known: Iterable<string>): string {
  const names = [LOCAL_RUNNER, ...known];
  return `unknown runner "${name}"${didYouMean(name, names)}; runners: ${names.join(", ")} (declare one under runners:, see docs/runners.md)`;
}

const PLACEHOLDER = /\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}/;

/**
 * The secret-bearing fields of a check that will be shipped to runner
 * `runner`, as written (before ${VAR} interpolation): each one is a problem,
 * since a job's overrides are stored in plain text on the execution (anyone
 * who may read executions reads them). Which fields bear secrets is the
 * redactor's knowledge (collectSecrets): passwords, tokens, credential
 * headers, URL userinfo — whatever the kind.
 */
export function shippedSecretProblems(rawCheck: Record<string, unknown>, keyPath: string, runner: string, notSecretBearing: readonly string[] = []): { keyPath: string; message: string }[] {
  const problems: { keyPath: string; message: string }[] = [];
  const walk = (value: unknown, path: string, key: string, parent: string) => {
    if (typeof value === "string" || typeof value === "number") {
      const secrets = collectSecrets(value, key, parent).filter((secret) => secret !== "");
      if (!secrets.length) return;
      const placeholder = secrets.some((secret) => PLACEHOLDER.test(secret)) || PLACEHOLDER.test(String(value));
      problems.push({
        keyPath: path,
        message:
          `${placeholder ? "a ${VAR}" : "a literal secret"} in a secret-bearing field of a check that runs on runner "${runner}": ` +
          "the check travels to the job as an execution override, and overrides are stored in plain text on the execution (anyone who may read executions reads them). " +
          "Write a reference the job resolves with its own service account instead: `{ secret: projects/P/secrets/S }` (Secret Manager) or `{ memorystoreAuth: INSTANCE }` (a Memorystore AUTH string)" +
          (parent === "headers" || key === "url" ? ", in a field that takes one (password:, token:), not inline in a URL or header" : "") +
          `; or run the check here (runner: ${LOCAL_RUNNER})`,
      });
      return;
    }
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, `${path}.${index}`, key, parent));
    else if (value !== null && typeof value === "object") for (const [childKey, item] of Object.entries(value)) walk(item, `${path}.${childKey}`, childKey, key);
  };
  // The fields every check has (kind, timeout, expect: metric names like sessionMs…) bear no credential.
  for (const [key, value] of Object.entries(rawCheck)) if (!notSecretBearing.includes(key)) walk(value, `${keyPath}.${key}`, key, "");
  return problems;
}
