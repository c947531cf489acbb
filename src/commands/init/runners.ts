// The runner step of `infra-check init` (after every kind has mapped): the
// checks a mapper marked `private` — an address reachable only from inside
// the service's VPC — run on a runner (docs/runners.md): a Cloud Run Job on
// the service's own network path (its connector, or Direct VPC, and egress),
// as the service's own service account, so it reads the same secrets. A
// check whose credential is a `${VAR}` stays here: a runner receives its
// checks in plain text (the rule is the config loader's own,
// shippedSecretProblems), and the table says what to move to Secret Manager.
import { LOCAL_RUNNER, shippedSecretProblems } from "../../config/runners.js";
import { BASE_CHECK_KEYS } from "../../config/schema.js";
import type { MappingRow, ProposedCheck, ServiceFacts } from "../../probes/init-api.js";

export const DEFAULT_RUNNER = "vpc";
/** The job `infra-check runner deploy` creates when the file names this one (docs/runners.md). */
export const DEFAULT_JOB = "infra-check-probe";

export interface RunnerBlock {
  name: string;
  /** The cloudRunJob fields, in the order written. */
  cloudRunJob: Record<string, unknown>;
  comment: string;
}

/** A resource in the service's own project and region by its short name; elsewhere (Shared VPC) by its full name. */
function nameFor(resource: string, facts: ServiceFacts): string {
  const home = `projects/${facts.project}/locations/${facts.region}/`;
  return resource.startsWith(home) || !resource.startsWith("projects/") ? resource.split("/").pop()! : resource;
}

const lastSegment = (name: string) => name.split("/").pop()!;

/** Put the private checks on the runner (in place: `fields.runner`), and say what the runners: block is. */
export function mapRunner(checks: ProposedCheck[], facts: ServiceFacts, runner = DEFAULT_RUNNER): { block?: RunnerBlock; rows: MappingRow[] } {
  const privateChecks = checks.filter((check) => check.private);
  if (!privateChecks.length) return { rows: [] };
  const names = privateChecks.map((check) => check.name).join(", ");
  if (runner === LOCAL_RUNNER) return { rows: [{ from: `private targets (${names})`, note: "--runner local: they run where infra-check runs (a machine inside the VPC)" }] };

  const network = facts.network;
  const job: Record<string, unknown> = { job: DEFAULT_JOB };
  const directVpc = network.directVpc?.find((entry) => entry.network);
  if (network.connector) job.vpcConnector = nameFor(network.connector, facts);
  else if (directVpc) job.directVpc = { network: lastSegment(directVpc.network!), ...(directVpc.subnetwork ? { subnetwork: lastSegment(directVpc.subnetwork) } : {}) };
  else return { rows: [{ from: `private targets (${names})`, note: "the service has no VPC egress (connector or Direct VPC network) a runner could use: run them from inside the VPC" }] };
  if (network.egress === "PRIVATE_RANGES_ONLY" || network.egress === "ALL_TRAFFIC") job.vpcEgress = network.egress;
  if (facts.serviceAccount) job.serviceAccount = facts.serviceAccount;

  const placed: string[] = [];
  const rows: MappingRow[] = [];
  for (const check of privateChecks) {
    const problems = shippedSecretProblems(check.fields, `checks.${check.name}`, runner, BASE_CHECK_KEYS);
    if (problems.length) {
      const fields = problems.map((problem) => problem.keyPath.split(".").slice(2).join(".")).join(", ");
      rows.push({ from: `private target ${check.name}`, note: `stays here: its ${fields} is a \${VAR}, and a runner receives its checks in plain text — move it to Secret Manager ({ secret: … }), then add runner: ${runner}` });
      continue;
    }
    check.fields.runner = runner;
    check.keyComments = { ...check.keyComments, runner: `A private address: the check runs on the runner "${runner}" (inside the VPC, see runners: above).` };
    placed.push(check.name);
  }
  if (!placed.length) return { rows };
  const path = job.vpcConnector ? `connector ${job.vpcConnector}` : `Direct VPC ${(job.directVpc as { network: string }).network}`;
  rows.unshift({ from: "private targets", to: `runners.${runner}`, note: `${placed.join(", ")} run on a Cloud Run Job on the service's ${path}${facts.serviceAccount ? `, as ${facts.serviceAccount}` : ""}` });
  return {
    rows,
    block: {
      name: runner,
      cloudRunJob: job,
      comment:
        `A vantage point inside the VPC (docs/runners.md): the checks with runner: ${runner} run in one execution of this Cloud Run Job, on the service's own ${path} and as its service account (so it reads the same secrets). ` +
        `Create it once with \`infra-check runner deploy ${runner}\` after setting image: to an infra-check image.`,
    },
  };
}
