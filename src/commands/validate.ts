// `infra-check validate <env>`: load and validate a config without probing.
// With -f json the verdict is data either way: `ok`, and every problem with
// its file, key path, line and column (null when unknown), exit 2 when any.
import path from "node:path";
import { loadConfigFile } from "../config/load.js";
import { formatMs } from "../util/duration.js";
import { configProblems, isConfigError, renderProblems, type ConfigError } from "../util/errors.js";
import { Redactor } from "../redact.js";
import { configPathFor } from "./run.js";
import type { CommandIO } from "./io.js";
import { EXIT } from "../exit-codes.js";

export async function validateCommand(envName: string | undefined, flags: { config?: string; format?: string }, io: CommandIO): Promise<number> {
  const json = flags.format === "json";
  let loaded: Awaited<ReturnType<typeof loadConfigFile>>;
  let file: string;
  try {
    file = await configPathFor(envName, flags, io);
    loaded = await loadConfigFile(file, { env: io.env, cwd: io.cwd, redactor: io.redactor });
  } catch (error) {
    if (!json || !isConfigError(error)) throw error;
    const errors = configProblems(error).map(problemJson);
    io.stdout(JSON.stringify(io.redactor ? io.redactor.deep({ ok: false, errors }) : { ok: false, errors }, null, 2) + "\n");
    return EXIT.USAGE;
  }
  const shown = path.relative(io.cwd, file) || file;
  // On stderr in every format: stdout stays the verdict (and -f json its documented shape).
  if (loaded.warnings.length) io.stderr((io.redactor ?? new Redactor()).text(renderProblems(loaded.warnings, "warning: ")));
  if (json) {
    io.stdout(JSON.stringify({ ok: true, file: shown, env: loaded.env, deadlineMs: loaded.deadlineMs, checks: loaded.checks.map((check) => ({ name: check.name, kind: check.kind, timeoutMs: check.timeoutMs, dependsOn: check.dependsOn, ...(check.runner ? { runner: check.runner } : {}) })), errors: [] }, null, 2) + "\n");
  } else {
    io.stdout(`${shown}: valid — env ${loaded.env}, ${loaded.checks.length} checks, deadline ${formatMs(loaded.deadlineMs)}\n`);
    for (const check of loaded.checks) {
      const deps = check.dependsOn.length ? ` (after ${check.dependsOn.join(", ")})` : "";
      const where = check.runner ? ` on runner ${check.runner}` : "";
      io.stdout(`  ${check.name.padEnd(20)} ${check.kind.padEnd(14)} timeout ${formatMs(check.timeoutMs)}${deps}${where}\n`);
    }
  }
  return EXIT.OK;
}

/** `path` is the key the problem is about: for an unknown key, that key (where line and column point). */
function problemJson(problem: ConfigError) {
  const keyPath = [problem.keyPath, problem.key].filter((part) => part !== undefined).join(".");
  return { file: problem.file ?? null, path: keyPath || null, line: problem.location?.line ?? null, column: problem.location?.column ?? null, message: problem.detail };
}
