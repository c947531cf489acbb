// One-off triage commands (`infra-check http URL`, `infra-check redis URL`, …):
// a probe's flags become a single-check config, run through the same pipeline.
import type { Command } from "commander";
import { buildConfig } from "../config/load.js";
import { durationFlag, parseExpectFlags } from "../util/flags.js";
import { execute, type ExecuteOptions } from "./execute.js";
import { addOutputOptions, type RunFlags } from "./run-options.js";
import type { CommandIO } from "./io.js";
import type { ProbeDefinition } from "../probes/api.js";
import { REPORT_MARGIN_MS } from "../util/deadline.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];
export const ONE_OFF_DEFAULT_TIMEOUT = "5s";

/** Declare a probe's one-off command with all its flags (done only when that command is invoked). */
export function defineOneOff(program: Command, probe: ProbeDefinition, io: CommandIO, setExit: (code: number) => void, options: ExecuteOptions = {}): void {
  const oneOff = probe.oneOff!;
  const command = program.command(oneOff.command).argument(oneOff.argument).description(oneOff.description);
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
}

export async function runOneOff(probe: ProbeDefinition, argument: string, flags: Record<string, unknown> & RunFlags, io: CommandIO, options: ExecuteOptions = {}): Promise<number> {
  const timeoutMs = durationFlag("--timeout", flags.timeout ?? ONE_OFF_DEFAULT_TIMEOUT)!;
  const raw = probe.oneOff!.toRawCheck(argument, flags, io.env);
  const expect = { ...((raw.expect as Record<string, unknown>) ?? {}), ...parseExpectFlags("--expect", (flags.expect as string[]) ?? []) };
  const warn = { ...((raw.warn as Record<string, unknown>) ?? {}), ...parseExpectFlags("--warn", (flags.warn as string[]) ?? []) };
  const check = { ...raw, timeout: timeoutMs, ...(Object.keys(expect).length ? { expect } : {}), ...(Object.keys(warn).length ? { warn } : {}) };
  const loaded = await buildConfig(
    { env: "one-off", deadline: timeoutMs + 2 * REPORT_MARGIN_MS, checks: { [probe.oneOff!.command]: check } },
    { dir: io.cwd, defaultEnv: "one-off", noInterpolation: true, redactor: io.redactor },
  );
  // The budget warnings name config keys (checks.ws.welcome.within) a one-off never had; its flags are checked where they are parsed.
  loaded.warnings = [];
  return (await execute(loaded, flags, io, options)).exitCode;
}
