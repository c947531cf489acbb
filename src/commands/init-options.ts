// Flags of `infra-check init`. The generic ones are here; a source
// (`--from-cloud-run SERVICE`) and each kind's own (`--health-path`) come
// from the kinds' init hooks, loaded only when `init` is the command (or its
// help is asked for), so start-up for every other command stays as it was.
import type { Command } from "commander";
import { loadInitHooks } from "../probes/index.js";

export const INIT_SUMMARY = "write a first config: from a deployed service (--from-cloud-run SERVICE) or a commented starter (--kinds redis,postgres,http)";

export const INIT_HELP = `
From a deployed service: init reads the service and the revision that serves
its traffic (the same read-only Google calls a check makes: roles/run.viewer,
roles/redis.viewer, roles/cloudsql.viewer) and writes one check per thing it
declares — the service itself (image, VPC egress, required env names), its VPC
connector, the Memorystore instance and Redis its REDIS_* variables point at,
its Cloud SQL instances and the database of DATABASE_URL, its health endpoint
(and a WebSocket with --ws-path) — wired with dependsOn, so a broken connector
is one root cause, not N timeouts. A table at the end says what each fact
became, and what was not mapped and why.

Secrets are never written: a password, token or URL credential becomes the
app's own Secret Manager reference ({ secret: projects/P/secrets/S }) when it
has one, else \${VAR} with a comment saying what to export.

Private targets (a Redis or PostgreSQL private IP) get runner: vpc and a
runners: block — a Cloud Run Job on the service's own connector (or Direct
VPC) and egress, as its service account; create it once with
\`infra-check runner deploy vpc\` (docs/runners.md). --runner local keeps
them here.

An existing file is never overwritten: init prints the diff and exits 1;
--force writes it. The file starts with the $schema line (editors complete
and check keys) and passes \`infra-check validate\`.

Examples:
  $ infra-check init --from-cloud-run backend-staging \\
      --project acme-staging --region us-central1
  $ infra-check init --from-cloud-run backend --project P --region R \\
      --env production --expect-commit '\${GIT_SHA}' --ws-path /ws
  $ infra-check init --kinds redis,postgres,http -o config/local.yaml
  $ infra-check demo --print-config     the demo's own config, made by init

Exit codes: 0 written (or unchanged), 1 the service could not be read or the
file exists and differs (diff shown, nothing written), 2 usage error,
3 internal error. See docs/init.md.`;

export async function addInitOptions(command: Command): Promise<Command> {
  const hooks = await loadInitHooks();
  for (const { hook } of hooks) {
    if (hook.source) command.option(`--from-${hook.source.from} <${hook.source.argument.toLowerCase()}>`, hook.source.description);
  }
  command
    .option("--kinds <kinds>", `a commented starter config for these kinds (comma-separated: ${hooks.filter((entry) => entry.hook.starter).map((entry) => entry.kind).join(",")})`)
    .option("--project <project>", "Google Cloud project of the service (default: $GOOGLE_CLOUD_PROJECT)")
    .option("--region <region>", "its region (default: $CLOUDSDK_RUN_REGION)")
    .option("--env <name>", "the environment the file is for (its env: and default file name)", undefined)
    .option("-o, --output <file>", "where to write it (default: config/<env>.yaml; - for stdout)")
    .option("--force", "overwrite an existing file (without it, init shows the diff and changes nothing)")
    .option("--timeout <duration>", "budget for everything init reads (default 30s)")
    .option("--runner <name>", "the runner private targets run on, declared under runners: from the service's network path and service account (default vpc; local: no runner, they run here)");
  for (const { hook } of hooks) for (const option of hook.options ?? []) command.option(option.flags, option.description);
  return command.addHelpText("after", INIT_HELP);
}
