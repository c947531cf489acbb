// One-off triage commands (`infra-check http URL`, `infra-check redis URL`, …):
// a probe's flags become a single-check config, run through the same pipeline.
import type { Command } from "commander";
import { buildConfig } from "../config/load.js";
import { durationFlag } from "../util/flags.js";
import { parseExpectFlags } from "../evaluate/expectations.js";
import { execute, type ExecuteOptions } from "./execute.js";
import { addOutputOptions, type RunFlags } from "./run-options.js";
import type { CommandIO } from "./io.js";
import type { OneOffCommand, ProbeDefinition } from "../probes/api.js";
import { REPORT_MARGIN_MS } from "../util/deadline.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Config keys every one-off sets with the same flags (the shared tls: block, the check's budget). */
const SHARED_FLAGS: readonly (readonly [RegExp, string])[] = [
  [/\btls\.ca\b/g, "--tls-ca"],
  [/\btls\.servername\b/g, "--servername"],
  [/`?\btls\.insecure(: true)?`?/g, "-k/--insecure"],
  [/\braise (this|the) check's timeout\b/g, "raise --timeout"],
];
export const ONE_OFF_DEFAULT_TIMEOUT = "5s";

/** Declare a probe's one-off command with all its flags (done only when that command is invoked). */
export function defineOneOff(program: Command, probe: ProbeDefinition, io: CommandIO, setExit: (code: number) => void, options: ExecuteOptions = {}): Command {
  const oneOff = probe.oneOff!;
  const command = program
    .command(oneOff.command)
    .argument(oneOff.argument, oneOff.forms?.length ? oneOff.forms.join(", or ") : "")
    .description(oneOff.description);
  if (probe.kind !== oneOff.command) command.alias(probe.kind);
  for (const option of oneOff.options) {
    if (option.repeatable) command.option(option.flags, option.description, collect);
    else command.option(option.flags, option.description, option.defaultValue as string | boolean | undefined);
  }
  command
    .option("-t, --timeout <duration>", "budget of the check", ONE_OFF_DEFAULT_TIMEOUT)
    .option("-e, --expect <assertion>", "fail unless METRIC<op>VALUE holds, e.g. 'totalMs<500ms' (repeatable)", collect)
    .option("-w, --warn <assertion>", "warn unless METRIC<op>VALUE holds (repeatable)", collect);
  addOutputOptions(command);
  if (oneOff.examples?.length) command.addHelpText("after", `\nExamples:\n${oneOff.examples.map((example) => `  $ ${example}`).join("\n")}\n`);
  command.action(async (argument: string, flags: Record<string, unknown> & RunFlags) => {
    setExit(await runOneOff(probe, argument, flags, io, options));
  });
  return command;
}

/**
 * `-h VALUE` / `--help VALUE` among a one-off's arguments (`args`: what
 * follows the command's name), or undefined. redis-cli and psql take `-h
 * HOST`; here it is --help, and help exits 0: a script would read the help
 * it printed as a healthy target. Values of the command's own flags are
 * skipped (`--user -h` names a user), as commander reads them.
 */
export function helpGivenAValue(command: Command, args: readonly string[]): { flag: string; value: string } | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === "--") return undefined;
    if (arg === "-h" || arg === "--help") {
      const next = args[i + 1];
      if (next !== undefined && !next.startsWith("-")) return { flag: arg, value: next };
      continue;
    }
    const option = arg.startsWith("-") ? command.options.find((candidate) => candidate.short === arg || candidate.long === arg) : undefined;
    if (option && (option.required || option.optional)) i += 1;
  }
  return undefined;
}

/** The usage error for helpGivenAValue(): what the command's argument looks like instead. */
export function helpValueMessage(oneOff: OneOffCommand, misuse: { flag: string; value: string }): string {
  const forms = oneOff.forms?.length ? oneOff.forms : [oneOff.argument];
  const what = misuse.flag === "-h" ? "-h is --help here, and it takes no value" : "--help takes no value";
  return [
    `infra-check ${oneOff.command}: ${what} (got ${JSON.stringify(misuse.value)}); nothing was checked.`,
    "Give the target as the argument:",
    ...forms.map((form) => `  infra-check ${oneOff.command} ${form}`),
    `(infra-check ${oneOff.command} --help lists its flags)`,
    "",
  ].join("\n");
}

export async function runOneOff(probe: ProbeDefinition, argument: string, flags: Record<string, unknown> & RunFlags, io: CommandIO, options: ExecuteOptions = {}): Promise<number> {
  const timeoutMs = durationFlag("--timeout", flags.timeout ?? ONE_OFF_DEFAULT_TIMEOUT)!;
  const raw = probe.oneOff!.toRawCheck(argument, flags, io.env);
  const expect = { ...((raw.expect as Record<string, unknown>) ?? {}), ...parseExpectFlags("--expect", (flags.expect as string[]) ?? []) };
  const warn = { ...((raw.warn as Record<string, unknown>) ?? {}), ...parseExpectFlags("--warn", (flags.warn as string[]) ?? []) };
  const check = { ...raw, timeout: `${timeoutMs}ms`, ...(Object.keys(expect).length ? { expect } : {}), ...(Object.keys(warn).length ? { warn } : {}) };
  const loaded = await buildConfig(
    { env: "one-off", deadline: `${timeoutMs + 2 * REPORT_MARGIN_MS}ms`, checks: { [probe.oneOff!.command]: check } },
    { dir: io.cwd, defaultEnv: "one-off", noInterpolation: true, redactor: io.redactor },
  );
  // The --timeout is the check's: its clock starts with the check, not with the process (start-up is not the target's time).
  const runOptions = { ...options.runOptions, clockStartMs: undefined };
  const wording = { budgetNote: " (--timeout)", keys: [...(probe.oneOff!.flagsFor ?? []), ...SHARED_FLAGS] };
  // The budget warnings name config keys (checks.ws.welcome.within) a one-off never had; its flags are checked where they are parsed.
  loaded.warnings = [];
  return (await execute(loaded, flags, io, { handleSignals: true, ...options, runOptions, wording })).exitCode;
}
