// `infra-check <env>` / `infra-check run [env] [--config FILE]`.
import { ConfigError } from "../util/errors.js";
import { loadConfigFile, resolveEnvConfig } from "../config/load.js";
import { durationFlag, listFlag } from "../util/flags.js";
import { execute, type ExecuteOptions } from "./execute.js";
import type { CommandIO } from "./io.js";
import type { RunFlags } from "./run-options.js";
import path from "node:path";

export async function configPathFor(envName: string | undefined, flags: { config?: string }, io: CommandIO): Promise<string> {
  if (flags.config) return path.resolve(io.cwd, flags.config);
  if (!envName) throw new ConfigError("name an environment (infra-check staging) or pass --config FILE");
  return resolveEnvConfig(envName, io.cwd);
}

export async function runCommand(envName: string | undefined, flags: RunFlags, io: CommandIO, options: ExecuteOptions = {}): Promise<number> {
  const file = await configPathFor(envName, flags, io);
  const loaded = await loadConfigFile(file, {
    only: listFlag(flags.only),
    skip: listFlag(flags.skip),
    timeoutMs: durationFlag("--timeout", flags.timeout),
    deadlineMs: durationFlag("--deadline", flags.deadline),
    env: io.env,
    cwd: io.cwd,
    redactor: io.redactor,
  });
  const relative = path.relative(io.cwd, file);
  loaded.file = relative.startsWith("..") ? file : relative;
  if (envName && !flags.config) loaded.env = loaded.env || envName;
  return (await execute(loaded, flags, io, options)).exitCode;
}
