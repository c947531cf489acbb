// `infra-check validate <env>`: load and validate a config without probing.
import path from "node:path";
import { loadConfigFile } from "../config/load.js";
import { formatMs } from "../util/duration.js";
import { configPathFor } from "./run.js";
import type { CommandIO } from "./io.js";
import { EXIT } from "../exit-codes.js";

export async function validateCommand(envName: string | undefined, flags: { config?: string; format?: string }, io: CommandIO): Promise<number> {
  const file = await configPathFor(envName, flags, io);
  const loaded = await loadConfigFile(file, { env: io.env, cwd: io.cwd, redactor: io.redactor });
  const shown = path.relative(io.cwd, file) || file;
  if (flags.format === "json") {
    io.stdout(JSON.stringify({ ok: true, file: shown, env: loaded.env, deadlineMs: loaded.deadlineMs, checks: loaded.checks.map((check) => ({ name: check.name, kind: check.kind, timeoutMs: check.timeoutMs, dependsOn: check.dependsOn })) }, null, 2) + "\n");
  } else {
    io.stdout(`${shown}: valid — env ${loaded.env}, ${loaded.checks.length} checks, deadline ${formatMs(loaded.deadlineMs)}\n`);
    for (const check of loaded.checks) {
      const deps = check.dependsOn.length ? ` (after ${check.dependsOn.join(", ")})` : "";
      io.stdout(`  ${check.name.padEnd(20)} ${check.kind.padEnd(14)} timeout ${formatMs(check.timeoutMs)}${deps}\n`);
    }
  }
  return EXIT.OK;
}
