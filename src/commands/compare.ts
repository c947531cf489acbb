// `infra-check compare OLD.json NEW.json`: per-check, per-phase differences of
// two saved reports, for triage or a PR comment. Reading and printing only;
// the diff itself is the pure diffReports().
import path from "node:path";
import { Chalk } from "chalk";
import { ConfigError } from "../util/errors.js";
import { readReportFile } from "../baseline/history.js";
import { DEFAULT_REGRESSION, diffReports, formatRatio, type CheckDiff, type MetricDiff, type ReportDiff } from "../evaluate/regression.js";
import { formatMs, parseDurationMs } from "../util/duration.js";
import { EXIT } from "../exit-codes.js";
import { useColor, type CommandIO } from "./io.js";
import { escapeJsonControls, neutralizeDeep } from "../util/neutralize.js";

export const COMPARE_FORMATS = ["table", "json", "markdown"] as const;
type CompareFormat = (typeof COMPARE_FORMATS)[number];

export interface CompareFlags {
  format?: string;
  factor?: string;
  minDelta?: string;
  color?: boolean;
}

export async function compareCommand(oldFile: string, newFile: string, flags: CompareFlags, io: CommandIO): Promise<number> {
  const format = (flags.format ?? "table") as CompareFormat;
  if (!COMPARE_FORMATS.includes(format)) throw new ConfigError(`--format: expected one of ${COMPARE_FORMATS.join(", ")}, found "${flags.format}"`);
  const settings = {
    factor: parseFactor(flags.factor),
    minDeltaMs: parseMinDelta(flags.minDelta),
  };
  const [oldReport, newReport] = await Promise.all([
    readReportFile(path.resolve(io.cwd, oldFile), oldFile),
    readReportFile(path.resolve(io.cwd, newFile), newFile),
  ]);
  const diff = diffReports(oldReport, newReport, settings);
  const files = { old: oldFile, new: newFile };
  // Saved reports are outside text (anyone may craft one): shown, never obeyed by the terminal or a CI log.
  if (format === "json") {
    io.stdout(escapeJsonControls(JSON.stringify({ files, settings, ...diff }, null, 2)) + "\n");
  } else if (format === "markdown") {
    io.stdout(markdown(neutralizeDeep(diff), neutralizeDeep(files), settings));
  } else {
    io.stdout(table(neutralizeDeep(diff), neutralizeDeep(files), settings, useColor(flags.color, io)));
  }
  return EXIT.OK;
}

function parseFactor(value: string | undefined): number {
  if (value === undefined) return DEFAULT_REGRESSION.factor;
  const factor = Number(value);
  if (!Number.isFinite(factor) || factor <= 0) throw new ConfigError(`--factor: expected a positive number like 2 or 1.5, found "${value}"`);
  return factor;
}

function parseMinDelta(value: string | undefined): number {
  if (value === undefined) return DEFAULT_REGRESSION.minDeltaMs;
  const ms = parseDurationMs(value);
  if (ms === undefined) throw new ConfigError(`--min-delta: expected a duration like 50ms or 1s, found "${value}"`);
  return ms;
}

type Settings = { factor: number; minDeltaMs: number };

const value = (ms: number | undefined) => (ms === undefined ? "—" : formatMs(ms));
const delta = (metric: MetricDiff) => (metric.deltaMs === undefined ? "" : `${metric.deltaMs < 0 ? "−" : "+"}${formatMs(Math.abs(metric.deltaMs))}`);
const ratio = (metric: MetricDiff) => (metric.ratio === undefined ? "" : formatRatio(metric.ratio));
const statusText = (check: CheckDiff) =>
  check.statusChanged ? `${check.oldStatus ?? "(absent)"} → ${check.newStatus ?? "(absent)"}` : (check.newStatus ?? "");
const describeRun = (side: ReportDiff["old"]) => `${side.env}, ${side.startedAt}, ${side.ok ? "healthy" : "unhealthy"}`;
const rule = (settings: Settings) => `≥ ${settings.factor}× and ≥ +${formatMs(settings.minDeltaMs)}`;

function summaryLine(diff: ReportDiff, settings: Settings): string {
  const changed = diff.checks.filter((check) => check.statusChanged).length;
  return (
    `${diff.checks.length} check${diff.checks.length === 1 ? "" : "s"} compared: ` +
    `${changed} status change${changed === 1 ? "" : "s"}, ${diff.regressions} regressed metric${diff.regressions === 1 ? "" : "s"} (${rule(settings)})`
  );
}

function table(diff: ReportDiff, files: { old: string; new: string }, settings: Settings, color: boolean): string {
  const chalk = new Chalk({ level: color ? 1 : 0 });
  const lines = [
    chalk.bold("infra-check compare"),
    chalk.gray(`  old: ${files.old} (${describeRun(diff.old)})`),
    chalk.gray(`  new: ${files.new} (${describeRun(diff.new)})`),
    "",
  ];
  const metricWidth = Math.max(6, ...diff.checks.flatMap((check) => check.metrics.map((metric) => metric.metric.length)));
  for (const check of diff.checks) {
    const worse = check.statusChanged && rank(check.newStatus) > rank(check.oldStatus);
    const status = check.statusChanged ? (worse ? chalk.red : chalk.green)(statusText(check)) : chalk.gray(statusText(check));
    lines.push(`  ${chalk.bold(check.name)} ${chalk.gray(`(${check.kind})`)}  ${status}`);
    if (check.metrics.length === 0) lines.push(chalk.gray("      no timings"));
    for (const metric of check.metrics) {
      const row = `      ${metric.metric.padEnd(metricWidth)}  ${value(metric.old).padStart(9)} → ${value(metric.new).padStart(9)}  ${delta(metric).padStart(10)}  ${ratio(metric).padStart(6)}`;
      lines.push(metric.regressed ? chalk.red(`${row}  ↑ regressed`) : row);
    }
  }
  lines.push("", summaryLine(diff, settings));
  return lines.join("\n") + "\n";
}

const STATUS_RANK: Record<string, number> = { pass: 0, warn: 1, fail: 2, blocked: 2, interrupted: 2 };
const rank = (status: string | undefined) => (status === undefined ? -1 : STATUS_RANK[status]);

function markdown(diff: ReportDiff, files: { old: string; new: string }, settings: Settings): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const lines = [
    `### infra-check compare: ${cell(diff.new.env)}`,
    "",
    `Old: \`${files.old}\` (${cell(describeRun(diff.old))})  `,
    `New: \`${files.new}\` (${cell(describeRun(diff.new))})`,
    "",
    "| Check | Status | Metric | Old | New | Δ | Ratio |",
    "|---|---|---|---:|---:|---:|---:|",
  ];
  for (const check of diff.checks) {
    const status = check.statusChanged ? `**${cell(statusText(check))}**` : cell(statusText(check));
    const rows = check.metrics.length ? check.metrics : [undefined];
    rows.forEach((metric, index) => {
      const first = index === 0;
      const name = first ? `${cell(check.name)} (${cell(check.kind)})` : "";
      if (!metric) {
        lines.push(`| ${name} | ${status} | — | | | | |`);
        return;
      }
      const mark = metric.regressed ? " ⚠️" : "";
      const shownRatio = metric.regressed ? `**${ratio(metric)}**${mark}` : ratio(metric);
      lines.push(`| ${name} | ${first ? status : ""} | ${cell(metric.metric)} | ${value(metric.old)} | ${value(metric.new)} | ${delta(metric)} | ${shownRatio} |`);
    });
  }
  lines.push("", summaryLine(diff, settings));
  return lines.join("\n") + "\n";
}
