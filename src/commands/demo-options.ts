// Flags of `infra-check demo`, declared eagerly for --help; the command
// itself (src/commands/demo.ts) and the stack are imported only when it runs.
import type { Command } from "commander";
import { addOutputOptions, type RunFlags } from "./run-options.js";

export interface DemoFlags extends RunFlags {
  break?: string[];
  listBreaks?: boolean;
  keep?: boolean;
  printConfig?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export const DEMO_HELP = `
Starts a local stack on ephemeral loopback ports — redis-server with a
password, a PostgreSQL cluster in a temp dir, a WebSocket chat server
(agent_chat, welcome, agent events), an HTTP /health endpoint and a Google
Cloud API emulator (Cloud Run, VPC connector, Memorystore) — runs
config/demo.yaml against it, prints the report and stops everything it
started (also on Ctrl-C). No cloud account, no network.

Examples:
  $ infra-check demo                          a green run
  $ infra-check demo --list-breaks            the incidents it can inject
  $ infra-check demo --break redis-auth       one incident: diagnosis + hint
  $ infra-check demo --break connector-down --break no-welcome
  $ infra-check demo --format json | jq .rootCauses
  $ infra-check demo --keep                   leave it running for your own runs
  $ infra-check demo --print-config           the demo's config as \`infra-check init\`
                                              writes it from its Cloud Run service

Exit codes: those of a run (0 healthy, 1 a check failed — expected with
--break), 2 for a usage error or when redis-server / PostgreSQL are not
installed (run scripts/setup.sh), 130/143 when interrupted.`;

export function addDemoOptions(command: Command): Command {
  command
    .option("-b, --break <name>", "inject an incident into the stack (repeatable; see --list-breaks)", collect)
    .option("--list-breaks", "list the incidents --break can inject, with the diagnosis each gives")
    .option("--keep", "leave the stack running after the run: print its env vars and the command to check it, stop on Ctrl-C")
    .option("--print-config", "print the config `infra-check init --from-cloud-run` generates from the demo's Cloud Run service (and what it mapped), then stop")
    .option("-c, --config <file>", "run this config against the stack instead of the bundled config/demo.yaml (it may use the stack's DEMO_* variables)");
  return addOutputOptions(command).addHelpText("after", DEMO_HELP);
}
