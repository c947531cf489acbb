// `infra-check <env>` / `infra-check run [env] [--config FILE]`.
import { ConfigError, isConfigError } from "../util/errors.js";
import { loadConfigFile, resolveEnvConfig, type LoadedConfig } from "../config/load.js";
import { Redactor } from "../redact.js";
import { writeConfigFailure } from "./outputs.js";
import { durationFlag, listFlag, wholeNumberFlag } from "../util/flags.js";
import { MAX_CONCURRENCY } from "../config/schema.js";
import { execute, type ExecuteOptions } from "./execute.js";
import type { CommandIO } from "./io.js";
import type { RunFlags } from "./run-options.js";
import path from "node:path";

/**
 * An environment argument that is a file (`./prod.yaml`, `config/x.yml`): it
 * ends in .yaml/.yml or has a path separator, which no environment name has.
 * People type the file they have open where the environment goes.
 */
export function isConfigPath(envName: string): boolean {
  return /\.ya?ml$/i.test(envName) || /[\\/]/.test(envName);
}

/** `commands`: the CLI's command names, for a did-you-mean when `envName` is none of the environments. */
export async function configPathFor(envName: string | undefined, flags: { config?: string }, io: CommandIO, commands: readonly string[] = []): Promise<string> {
  if (envName && isConfigPath(envName)) {
    if (flags.config) throw new ConfigError(`${envName} is a config file and --config names another (${flags.config}): give one of them`);
    return path.resolve(io.cwd, envName);
  }
  if (flags.config) return path.resolve(io.cwd, flags.config);
  if (!envName) throw new ConfigError("name an environment (infra-check staging) or pass --config FILE");
  return resolveEnvConfig(envName, io.cwd, commands);
}

/** What the flags shared by run and serve (--only, --skip, --timeout, --deadline) ask of loading a config. */
export function loadOptionsFrom(flags: Pick<RunFlags, "only" | "skip" | "timeout" | "deadline" | "concurrency"> & Pick<Partial<RunFlags>, "runner">, io: Pick<CommandIO, "env" | "cwd" | "redactor">) {
  return {
    only: listFlag(flags.only),
    skip: listFlag(flags.skip),
    timeoutMs: durationFlag("--timeout", flags.timeout),
    deadlineMs: durationFlag("--deadline", flags.deadline),
    ...(flags.concurrency !== undefined ? { concurrency: wholeNumberFlag("--concurrency", flags.concurrency, 1, MAX_CONCURRENCY) } : {}),
    ...(flags.runner !== undefined ? { runner: flags.runner } : {}),
    env: io.env,
    cwd: io.cwd,
    redactor: io.redactor,
  };
}

export async function runCommand(envName: string | undefined, flags: RunFlags, io: CommandIO, options: ExecuteOptions = {}, commands: readonly string[] = []): Promise<number> {
  let file: string | undefined;
  let loaded: LoadedConfig;
  try {
    file = await configPathFor(envName, flags, io, commands);
    loaded = await loadConfigFile(file, loadOptionsFrom(flags, io));
  } catch (error) {
    if (!isConfigError(error)) throw error;
    const shown = file ? shownPath(file, io.cwd) : flags.config ?? (envName ? `config/${envName}.yaml` : "config");
    const env = envName ?? path.basename(shown).replace(/\.ya?ml$/, "");
    throw await writeConfigFailure(flags.output, error, { file: shown, env }, { cwd: io.cwd, redactor: io.redactor ?? new Redactor(), descriptors: { 1: io.stdout, 2: io.stderr } });
  }
  loaded.file = shownPath(file, io.cwd);
  if (envName && !flags.config && !isConfigPath(envName)) loaded.env = loaded.env || envName;
  // Ctrl-C / SIGTERM: the partial report, the outputs, exit 128 + N (src/commands/interrupt.ts).
  return (await execute(loaded, flags, io, { handleSignals: true, ...options })).exitCode;
}

function shownPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative.startsWith("..") ? file : relative;
}
