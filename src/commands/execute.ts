// The run pipeline shared by every command that probes: loaded config →
// runner → reporters → exit code.
import type { LoadedConfig } from "../config/load.js";
import { runChecks, type RunOptions } from "../runner/run-checks.js";
import { loadReporter } from "../reporters/index.js";
import { Redactor, setProcessRedactor } from "../redact.js";
import { exitCodeFor } from "../exit-codes.js";
import { useColor, type CommandIO } from "./io.js";
import type { RunFlags } from "./run-options.js";
import type { RunReport } from "../types.js";

export interface ExecuteOptions {
  /** Injected for tests (DNS failures, emulator clients). */
  runOptions?: Pick<RunOptions, "lookup" | "deps" | "now">;
}

export async function execute(loaded: LoadedConfig, flags: RunFlags, io: CommandIO, options: ExecuteOptions = {}): Promise<{ exitCode: number; report: RunReport }> {
  const redactor = new Redactor(loaded.secrets);
  setProcessRedactor(redactor);
  const reporter = await loadReporter(flags.format);
  for (const note of loaded.notes) io.stderr(`note: ${note}\n`);
  const report = await runChecks(
    { env: loaded.env, file: loaded.file, deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes },
    {
      ...options.runOptions,
      redactor,
      strict: flags.strict,
      log: flags.verbose ? (line) => io.stderr(line + "\n") : undefined,
    },
  );
  io.stdout(redactor.text(reporter(report, { color: useColor(flags.color, io), verbose: Boolean(flags.verbose) })));
  return { exitCode: exitCodeFor(report), report };
}
