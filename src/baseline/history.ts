// Run history on disk: one JSON report per run in a folder that CI
// can cache or upload. Writers never share a file: each run gets its own name
// (time + random suffix) and is written to a temp file in the same folder, then
// renamed, so a reader or a concurrent writer never sees half a report.
// Reading never deletes: a corrupt file is skipped with a warning (in a
// folder) or is a usage error (a single --baseline FILE), and stays on disk.
import { randomBytes } from "node:crypto";
import { open, readdir, rename, stat, unlink, access } from "node:fs/promises";
import { ensureFolder } from "../util/output-file.js";
import { FileTooLarge, NotUtf8, readBoundedText } from "../util/bounded-read.js";

import { constants } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { ConfigError } from "../util/errors.js";
import type { LoadedConfig } from "../config/load.js";
import type { RunReport } from "../report/schema.js";
import { STATUSES } from "../diagnose/vocabulary.js";
import type { BaselineSource, RegressionConfig } from "../evaluate/regression.js";
import type { RunBaseline } from "../runner/run-checks.js";

/** A saved report is read up to this size: a thousand checks make about 2 MiB. */
const MAX_REPORT_BYTES = 32 * 1024 * 1024;

export const DEFAULT_KEEP = 50;
/** A crashed writer's temp file older than this is litter, not a write in progress. */
const STALE_TEMP_MS = 60 * 60 * 1000;

// <startedAt with ':' → '-'>_<env>_<random>.json: sorts by time, groups by env.
const HISTORY_NAME = /^(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(?:\.\d+)?Z)_([A-Za-z0-9.-]+)_([0-9a-f]{12})\.json$/;
const TEMP_NAME = /^\..+\.tmp$/;

function envSlug(env: string): string {
  return env.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/^[.-]+/, "") || "default";
}

/** The file name a run is stored under. */
export function historyFileName(report: Pick<RunReport, "startedAt" | "env">, random = randomBytes(6).toString("hex")): string {
  const started = new Date(report.startedAt);
  const stamp = (Number.isNaN(started.getTime()) ? new Date() : started).toISOString().replace(/:/g, "-");
  return `${stamp}_${envSlug(report.env)}_${random}.json`;
}

/** Make sure `dir` exists and is writable before anything is probed (a bad path is a usage error). */
export async function ensureHistoryDir(dir: string, label: string): Promise<void> {
  try {
    await ensureFolder(dir);
    await access(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "EEXIST" || code === "ENOTDIR" ? "exists but is not a folder" : code === "EACCES" || code === "EPERM" ? "is not writable" : `cannot be created (${code ?? (error as Error).message})`;
    throw new ConfigError(`${label} ${dir} ${reason}; it must be a folder this user can write to`);
  }
}

/**
 * Write `report` as a new file in `dir` (created if needed), then prune the
 * oldest reports of the same env beyond `keep`. Returns the new file's path
 * and the files pruned.
 */
export async function appendToHistory(dir: string, report: RunReport, options: { keep?: number } = {}): Promise<{ file: string; pruned: string[] }> {
  await ensureFolder(dir);
  const name = historyFileName(report);
  const final = path.join(dir, name);
  const temp = path.join(dir, `.${name}.${process.pid}.tmp`);
  const handle = await open(temp, "wx");
  try {
    try {
      await handle.writeFile(JSON.stringify(report, null, 2) + "\n", "utf8");
      // Flushed before the rename, so a crash never leaves a renamed-but-empty report.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, final);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  const pruned = await pruneHistory(dir, report.env, options.keep ?? DEFAULT_KEEP);
  return { file: final, pruned };
}

/**
 * Delete the oldest history files of `env` beyond the newest `keep`. Only
 * files named by appendToHistory are touched. Concurrent pruners each delete a
 * prefix of the same time order, so together they never go below `keep`; a
 * file another pruner already removed is not an error.
 */
export async function pruneHistory(dir: string, env: string, keep: number): Promise<string[]> {
  const slug = envSlug(env);
  const names = await readdir(dir);
  const ours = names.filter((name) => HISTORY_NAME.exec(name)?.[2] === slug).sort();
  const pruned: string[] = [];
  for (const name of ours.slice(0, Math.max(0, ours.length - keep))) {
    const file = path.join(dir, name);
    try {
      await unlink(file);
      pruned.push(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  const now = Date.now();
  for (const name of names.filter((candidate) => TEMP_NAME.test(candidate))) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && now - info.mtimeMs > STALE_TEMP_MS) await unlink(file).catch(() => undefined);
  }
  return pruned;
}

// Only what comparison relies on is required; newer reports may carry more.
const checkShape = z.looseObject({
  name: z.string(),
  kind: z.string(),
  status: z.enum(STATUSES),
  phasesMs: z.record(z.string(), z.number()),
  metrics: z.record(z.string(), z.unknown()),
});
const reportShape = z.looseObject({
  schemaVersion: z.literal(1),
  env: z.string(),
  startedAt: z.string(),
  ok: z.boolean(),
  checks: z.array(checkShape),
});

/** Parse a saved JSON report; the error says what is wrong and where. */
export function parseReport(text: string, file: string): RunReport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const empty = text.trim() === "";
    // Node's message quotes the file's text, which may be anything: say only where it broke.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new ConfigError(empty ? "empty file, expected an infra-check JSON report" : `not valid JSON${position ? ` (at character ${position})` : ""}`, { file });
  }
  const result = reportShape.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw new ConfigError(`not an infra-check JSON report (schemaVersion 1, as written by --format json or --history): ${where}${issue.message}`, { file });
  }
  return result.data as unknown as RunReport;
}

/** Read one saved report; a missing or corrupt file is a ConfigError (exit 2). */
export async function readReportFile(file: string, shown = file): Promise<RunReport> {
  let text: string;
  try {
    text = await readBoundedText(file, MAX_REPORT_BYTES);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "file not found"
      : code === "EISDIR" ? "is a folder, expected a JSON report file"
      : error instanceof FileTooLarge || error instanceof NotUtf8 ? `not a report written by infra-check: ${error.message}`
      : `cannot read file (${code ?? (error as Error).message})`;
    throw new ConfigError(reason, { file: shown });
  }
  return parseReport(text, shown);
}

export interface HistoryRead {
  reports: { file: string; report: RunReport }[];
  /** Files that could not be used, with why. They are left where they are. */
  skipped: { file: string; reason: string }[];
}

/** Every report in `dir` (any env). Corrupt files are skipped and listed, never deleted. */
export async function readHistory(dir: string): Promise<HistoryRead> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".json") && !name.startsWith(".")).sort();
  const read: HistoryRead = { reports: [], skipped: [] };
  await Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      let text: string;
      try {
        text = await readBoundedText(file, MAX_REPORT_BYTES);
      } catch (error) {
        // Pruned by a concurrent run between readdir and read: simply gone.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        const why = error instanceof FileTooLarge || error instanceof NotUtf8 ? error.message : (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        read.skipped.push({ file, reason: `cannot read (${why})` });
        return;
      }
      try {
        read.reports.push({ file, report: parseReport(text, file) });
      } catch (error) {
        read.skipped.push({ file, reason: (error as Error).message.replace(`${file}: `, "") });
      }
    }),
  );
  read.reports.sort((a, b) => (a.file < b.file ? -1 : 1));
  read.skipped.sort((a, b) => (a.file < b.file ? -1 : 1));
  return read;
}

export interface LoadedBaseline {
  source: BaselineSource;
  /** Lines for stderr (skipped files, no runs yet). */
  warnings: string[];
}

/**
 * A baseline from a history folder or one saved report. An explicit
 * --baseline that does not exist or is corrupt is a ConfigError; the implicit
 * one (config `regression:` + history folder) may not exist yet on a first run.
 */
export async function loadBaseline(target: string, options: { shown: string; env: string; explicit: boolean }): Promise<LoadedBaseline> {
  const { shown } = options;
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(target)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !options.explicit) {
      return {
        source: { kind: "history", source: shown, reports: [] },
        warnings: [`no history in ${shown} yet: nothing to compare with; this run starts the baseline`],
      };
    }
    if (code === "ENOENT") {
      throw new ConfigError(
        `--baseline ${shown}: no such folder or file. Pass a history folder written by --history (create it with mkdir -p to start one: ` +
          `the first run then has no baseline and passes) or a JSON report saved with --format json`,
      );
    }
    throw new ConfigError(`--baseline ${shown}: cannot read (${code ?? (error as Error).message})`);
  }
  if (!isDirectory) {
    const report = await readReportFile(target, shown);
    const warnings = report.env === options.env ? [] : [`the baseline report ${shown} is from env "${report.env}", this run is env "${options.env}"`];
    return { source: { kind: "report", source: shown, reports: [report] }, warnings };
  }
  const read = await readHistory(target);
  const warnings = read.skipped.map(({ file, reason }) => `skipped ${file} (left in place): ${reason}`);
  const sameEnv = read.reports.filter(({ report }) => report.env === options.env);
  if (sameEnv.length === 0) warnings.push(`no runs of env "${options.env}" in ${shown} yet: nothing to compare with; this run starts the baseline`);
  return { source: { kind: "history", source: shown, reports: read.reports.map(({ report }) => report) }, warnings };
}

/** What a run asked for: a baseline to compare with, a history folder to append to, or both. */
export interface BaselinePlan {
  baseline?: LoadedBaseline;
  historyDir?: string;
  keep: number;
  regression?: RegressionConfig;
}

/** What the runner judges each check against (a check's own `regression:` overrides the top level there). */
export function runBaseline(plan: BaselinePlan | undefined): RunBaseline | undefined {
  return plan?.baseline ? { source: plan.baseline.source, regression: plan.regression } : undefined;
}

/**
 * Read the flags and config, validate paths and load the baseline — before
 * anything is probed, so a bad path exits 2 with nothing run. Undefined when
 * neither history nor baseline is in use. `--baseline` wins; otherwise a config
 * with `regression:` compares with its own history folder.
 */
export async function planBaseline(loaded: LoadedConfig, flags: { history?: string; baseline?: string }, cwd: string): Promise<BaselinePlan | undefined> {
  const historyDir = flags.history ? path.resolve(cwd, flags.history) : loaded.history ? path.resolve(loaded.dir, loaded.history.dir) : undefined;
  const baselineTarget = flags.baseline ? path.resolve(cwd, flags.baseline) : loaded.regression ? historyDir : undefined;
  if (!historyDir && !baselineTarget) return undefined;
  const shown = (absolute: string) => {
    const relative = path.relative(cwd, absolute);
    return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : absolute;
  };
  const baseline = baselineTarget
    ? await loadBaseline(baselineTarget, { shown: shown(baselineTarget), env: loaded.env, explicit: Boolean(flags.baseline) })
    : undefined;
  if (historyDir) await ensureHistoryDir(historyDir, flags.history ? "--history" : `history.dir (${loaded.file ?? "config"})`);
  return {
    baseline,
    historyDir,
    keep: loaded.history?.keep ?? DEFAULT_KEEP,
    regression: loaded.regression,
  };
}

/** Append the judged report to the plan's history folder. A failed write is reported, not fatal: the run's verdict stands. */
export async function recordRun(report: RunReport, plan: BaselinePlan, warn: (line: string) => void): Promise<string | undefined> {
  if (!plan.historyDir) return undefined;
  try {
    return (await appendToHistory(plan.historyDir, report, { keep: plan.keep })).file;
  } catch (error) {
    warn(`warning: could not add this run to the history in ${plan.historyDir}: ${(error as Error).message}\n`);
    return undefined;
  }
}
