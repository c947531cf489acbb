// Parsing of flag values shared by several commands. Errors are ConfigErrors
// (exit 2) that name the flag.
import { ConfigError } from "./errors.js";
import { durationProblem, parseDurationMs } from "../util/duration.js";

export function durationFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const problem = durationProblem(value);
  if (problem) throw new ConfigError(`${flag}: ${problem.startsWith("expected") ? `expected a duration like 500ms, 2s or 1m, found "${value}"` : problem}`);
  return parseDurationMs(value)!;
}

/** A count flag such as --samples: a whole number from `min` to `max`. */
export function wholeNumberFlag(flag: string, value: unknown, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(`${flag}: expected a whole number from ${min} to ${max}, found "${String(value)}"`);
  }
  return number;
}

/** `--password-env VAR`: the password is read from that variable, so it never has to go on the command line. */
export function passwordEnvFlag(variable: string, env: NodeJS.ProcessEnv): string {
  const value = env[variable];
  if (value === undefined || value === "") {
    throw new ConfigError(`--password-env ${variable}: environment variable ${variable} is not set (export it first; the password itself never goes on the command line)`);
  }
  return value;
}

export function listFlag(value: string | string[] | undefined): string[] {
  const values = Array.isArray(value) ? value : value ? [value] : [];
  return values.flatMap((item) => item.split(",")).map((item) => item.trim()).filter(Boolean);
}

/**
 * `-H "Name: value"` → { Name: "value" }. `$VAR` / `${VAR}` in the value is read
 * from the environment so tokens never have to be typed on the command line.
 */
export function parseHeaderFlags(headers: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const parsed: Record<string, string> = {};
  for (const header of headers) {
    const colon = header.indexOf(":");
    if (colon <= 0) throw new ConfigError(`--header: expected "Name: value", found "${header.replace(/:.*/, ":…")}"`);
    const name = header.slice(0, colon).trim();
    parsed[name] = header.slice(colon + 1).trim().replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_match, variable: string) => {
      const value = env[variable];
      if (value === undefined) throw new ConfigError(`--header ${name}: environment variable ${variable} is not set`);
      return value;
    });
  }
  return parsed;
}
