// Report files: `--output FORMAT=FILE` (repeatable) writes several formats
// from one run, e.g. JUnit for the CI's test view and JSON as an artifact
// while the table goes to the terminal.
// - Targets are checked before anything is probed (bad format, a folder in the
//   way, an unwritable place → exit 2 with the flag named), so a CI job learns
//   about a typo in its own command line without waiting for a run.
// - A regular file is replaced atomically (temp file in the same folder +
//   rename), keeping its mode; /dev/null, /dev/stdout, a FIFO or a symlink are
//   written as `>` would (src/util/output-file.ts).
// - A config error (exit 2, nothing probed) still writes the JUnit targets: one
//   failed testcase naming the config and its problems, so a CI test view
//   shows why the run never started. Other formats describe a run; none is written.
// - With the github format and $GITHUB_STEP_SUMMARY set (GitHub Actions sets it
//   for every step), the Markdown summary is appended to that file; on GitHub
//   Actions a table run does so by itself (src/commands/ci.ts).
import { appendFile, stat, access } from "node:fs/promises";
import { constants } from "node:fs";
import path from "node:path";
import { ConfigError, ConfigErrors, configProblems, renderProblem } from "../util/errors.js";
import { VERSION } from "../version.js";
import { describeFsError, ensureFolder, writeOutputFile } from "../util/output-file.js";
import { FORMATS, isFormat, loadReporter, type FormatName } from "../reporters/index.js";
import type { Redactor } from "../redact.js";
import type { AsyncReporter, Reporter, ReporterOptions, RunReport } from "../report/schema.js";
import { escapeJsonControls, neutralizeDeep } from "../util/neutralize.js";

export interface OutputTarget {
  format: FormatName;
  /** Absolute path. */
  file: string;
  /** The flag value as written, for messages. */
  spec: string;
}

/** `["junit=reports/infra.xml", "json=out.json"]` → targets (paths resolved against `cwd`). */
export function parseOutputFlags(values: string[] | string | undefined, cwd: string): OutputTarget[] {
  const list = Array.isArray(values) ? values : values === undefined ? [] : [values];
  const targets: OutputTarget[] = [];
  for (const spec of list) {
    const equals = spec.indexOf("=");
    const format = equals > 0 ? spec.slice(0, equals).trim() : "";
    const file = equals > 0 ? spec.slice(equals + 1).trim() : "";
    if (!format || !file) {
      throw new ConfigError(`--output: expected FORMAT=FILE (e.g. junit=reports/infra-check.xml), found "${spec}"; formats: ${FORMATS.join(", ")}`);
    }
    if (!isFormat(format)) throw new ConfigError(`--output ${spec}: unknown format "${format}"; formats: ${FORMATS.join(", ")}`);
    const resolved = path.resolve(cwd, file);
    const clash = targets.find((target) => target.file === resolved);
    if (clash) throw new ConfigError(`--output ${spec}: ${file} is already the target of --output ${clash.spec}; give each format its own file`);
    targets.push({ format, file: resolved, spec });
  }
  return targets;
}

/** Create parent folders and make sure each target can be written — before probing, so mistakes cost nothing. */
export async function prepareOutputs(targets: OutputTarget[]): Promise<void> {
  for (const target of targets) {
    const dir = path.dirname(target.file);
    try {
      await ensureFolder(dir);
      await access(dir, constants.W_OK);
      const existing = await stat(target.file).catch(() => undefined);
      if (existing?.isDirectory()) throw Object.assign(new Error("it is a folder"), { code: "EISDIR" });
    } catch (error) {
      throw new ConfigError(`--output ${target.spec}: cannot write ${target.file} (${describeFsError(error)})`);
    }
  }
}

/** Render one format, scrubbed and inert (see renderLoaded). */
export async function renderReport(format: string, report: RunReport, options: ReporterOptions, redactor: Redactor): Promise<string> {
  return renderLoaded(format, await loadReporter(format), report, options, redactor);
}

/** Formats whose output is data: their strings stay exact, escaped by the encoder. */
const DATA_FORMATS = new Set(["json"]);

/**
 * The report redacted field by field (names stay names), then its outside
 * text made inert — servers' messages and saved reports may carry ANSI
 * escapes, a newline followed by `::error::`, bidi overrides: shown as
 * visible escapes in text formats, \u escapes in JSON — then the rendered
 * text scrubbed against known secrets once more.
 */
export async function renderLoaded(format: string, reporter: Reporter | AsyncReporter, report: RunReport, options: ReporterOptions, redactor: Redactor): Promise<string> {
  const redacted = redactor.deep(report);
  if (DATA_FORMATS.has(format)) return redactor.rendered(escapeJsonControls(await reporter(redacted, options)));
  return redactor.rendered(await reporter(neutralizeDeep(redacted), options));
}

export interface WriteOptions {
  redactor: Redactor;
  verbose: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The stdout format: `github` on stdout also appends the step summary. */
  stdoutFormat: string;
  /** A table run on GitHub Actions (src/commands/ci.ts): appends the step summary too. */
  githubZeroConfig?: boolean;
  /** This process's stdout and stderr, for a target that is /dev/stdout or /dev/stderr. */
  descriptors?: Record<number, (text: string) => void>;
}

/** Write every target (files never get colour), then the GitHub step summary when it applies. Returns the files written. */
export async function writeOutputs(report: RunReport, targets: OutputTarget[], options: WriteOptions): Promise<string[]> {
  const written: string[] = [];
  const reporterOptions = { color: false, verbose: options.verbose };
  for (const target of targets) {
    const text = await renderReport(target.format, report, reporterOptions, options.redactor);
    try {
      await writeOutputFile(target.file, text, { descriptors: options.descriptors });
    } catch (error) {
      throw new ConfigError(`--output ${target.spec}: cannot write ${target.file} (${describeFsError(error)})`);
    }
    written.push(target.file);
  }
  const summaryFile = stepSummaryFile(targets, options);
  if (summaryFile) {
    const text = await renderReport("markdown", report, reporterOptions, options.redactor);
    try {
      await appendFile(summaryFile, text + "\n");
    } catch (error) {
      throw new ConfigError(`GITHUB_STEP_SUMMARY=${summaryFile}: cannot append the Markdown summary (${describeFsError(error)})`);
    }
    written.push(summaryFile);
  }
  return written;
}

/**
 * The step-summary file to append to: only when the github format is in use (or
 * a table run on GitHub Actions) and GITHUB_STEP_SUMMARY is set, and not when an
 * --output already writes that file.
 */
export function stepSummaryFile(targets: OutputTarget[], options: Pick<WriteOptions, "env" | "cwd" | "stdoutFormat" | "githubZeroConfig">): string | undefined {
  const file = options.env.GITHUB_STEP_SUMMARY;
  if (!file) return undefined;
  const usesGithub = options.githubZeroConfig || options.stdoutFormat === "github" || targets.some((target) => target.format === "github");
  if (!usesGithub) return undefined;
  const resolved = path.resolve(options.cwd, file);
  return targets.some((target) => target.file === resolved) ? undefined : resolved;
}

/**
 * After a config error: write each `--output junit=FILE` as one failed
 * testcase (src/reporters/junit.ts). Returns the error to report: the config
 * error, plus any target that could not be written.
 */
export async function writeConfigFailure(
  flagValues: string[] | string | undefined,
  error: ConfigError | ConfigErrors,
  config: { file: string; env: string },
  options: { cwd: string; redactor: Redactor; descriptors?: Record<number, (text: string) => void> },
): Promise<ConfigError | ConfigErrors> {
  let targets: OutputTarget[];
  try {
    targets = parseOutputFlags(flagValues, options.cwd).filter((target) => target.format === "junit");
  } catch {
    return error; // a malformed --output is reported once the config is fixed
  }
  if (!targets.length) return error;
  const problems = configProblems(error);
  const { configFailureJUnit } = await import("../reporters/junit.js");
  const xml = configFailureJUnit({
    ...config,
    // Redacted before escaping, so an escaped form cannot hide a secret from the redactor (as renderReport does).
    problems: problems.map((problem) => options.redactor.text(renderProblem(problem, "").trimEnd())),
    line: problems.find((problem) => problem.location)?.location?.line,
    version: VERSION,
    startedAt: new Date().toISOString(),
  });
  const unwritable: ConfigError[] = [];
  for (const target of targets) {
    try {
      await prepareOutputs([target]);
      await writeOutputFile(target.file, options.redactor.text(xml), { descriptors: options.descriptors });
    } catch (failure) {
      unwritable.push(failure instanceof ConfigError ? failure : new ConfigError(`--output ${target.spec}: cannot write ${target.file} (${describeFsError(failure)})`));
    }
  }
  return unwritable.length ? new ConfigErrors([...problems, ...unwritable]) : error;
}
