// Human-readable report for terminals: one row per check, the diagnosis and
// the hint under failures, a summary line and the root causes.
// - Wide (120 columns or more, or a file/pipe): a table; on a terminal the
//   result and hint wrap at its width under the RESULT column.
// - Narrow (below 120 columns): stacked — status, check, kind and time on one
//   line, the result and hint under it, wrapped with a hanging indent.
// Root causes are listed only when they say something the rows do not: when a
// check is blocked (the cause names what it blocks) or causes are fewer than
// the checks that did not pass. Otherwise each failure would be printed twice.
import { Chalk } from "chalk";
import type { Status } from "../diagnose/vocabulary.js";
import type { CheckResult, Reporter, RunReport } from "../report/schema.js";
import { formatMs } from "../util/duration.js";
import { describeAssertion } from "../evaluate/judge.js";
import { describeRegression, type BaselineBlock } from "../evaluate/regression.js";
import { columnsOf, wrapPieces, type Piece } from "../util/wrap.js";
import { interruptedText } from "./interrupted.js";

const ICON: Record<Status, string> = { pass: "✔", warn: "▲", fail: "✖", blocked: "⊘", interrupted: "■" };
/** Below this many columns the table does not fit its rows: stacked layout. */
export const STACKED_BELOW_COLUMNS = 120;
type Paint = (text: string) => string;

/**
 * Text from servers (error messages, body excerpts) must not drive the
 * terminal: control characters, ANSI escapes included, are shown escaped.
 */
function terminalSafe<T>(value: T): T {
  if (typeof value === "string") {
    return value.replace(/[\t\r\n]+/g, " ").replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`) as T;
  }
  if (Array.isArray(value)) return value.map(terminalSafe) as T;
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, terminalSafe(item)])) as T;
  return value;
}

const table: Reporter = (untrusted, options) => {
  const report = terminalSafe(untrusted);
  const chalk = new Chalk({ level: options.color ? 1 : 0 });
  const paint: Record<Status, Paint> = {
    pass: chalk.green,
    warn: chalk.yellow,
    fail: chalk.red,
    blocked: chalk.gray,
    interrupted: chalk.magenta,
  };
  const width = options.width;
  const stacked = width !== undefined && width < STACKED_BELOW_COLUMNS;
  const nameWidth = Math.max(5, ...report.checks.map((check) => columnsOf(check.name)));
  const kindWidth = Math.max(4, ...report.checks.map((check) => check.kind.length));
  // "✔ PASS" … "⊘ BLOCKED" fit 9 columns; "■ INTERRUPTED" widens the column only in a run that has one.
  const statusWidth = Math.max(9, ...report.checks.map((check) => check.status.length + 2));
  const lines: string[] = [];
  /** A paragraph: unwrapped without a width, else wrapped with a hanging indent. */
  const paragraph = (pieces: Piece[], indent: string, hanging: string) => {
    if (width === undefined) lines.push(indent + pieces.map((piece) => (piece.paint ? piece.paint(piece.text) : piece.text)).join(""));
    else lines.push(...wrapPieces(pieces, width, indent, hanging));
  };
  lines.push(chalk.bold(`infra-check ${report.env}`) + chalk.gray(report.configFile ? `  (${report.configFile})` : ""));
  if (!stacked) lines.push(chalk.gray(`  ${"STATUS".padEnd(statusWidth)} ${"CHECK".padEnd(nameWidth)}  ${"KIND".padEnd(kindWidth)}  ${"TIME".padStart(9)}  RESULT`));
  // Stacked rows align their names while that still fits a line.
  const padNames = stacked && 2 + statusWidth + 1 + nameWidth + 2 + kindWidth + 2 + 9 <= width!;
  for (const check of report.checks) {
    const status = paint[check.status](`${ICON[check.status]} ${check.status.toUpperCase()}`.padEnd(statusWidth));
    const time = check.status === "blocked" || (check.status === "interrupted" && !check.interrupted?.phase) ? "—" : formatMs(check.durationMs);
    let indent: string;
    let hanging: string;
    if (stacked) {
      const name = padNames ? check.name.padEnd(nameWidth) : check.name;
      const kind = padNames ? check.kind.padEnd(kindWidth) : check.kind;
      lines.push(`  ${status} ${name}  ${chalk.gray(kind)}  ${padNames ? time.padStart(9) : time}`.trimEnd());
      indent = "    ";
      hanging = "      ";
      paragraph(resultPieces(check, chalk), indent, hanging);
    } else {
      indent = " ".repeat(2 + statusWidth + 1 + nameWidth + 2 + kindWidth + 2 + 9 + 2);
      hanging = indent + "  ";
      const head = `  ${status} ${check.name.padEnd(nameWidth + Math.max(0, check.name.length - columnsOf(check.name)))}  ${chalk.gray(check.kind.padEnd(kindWidth))}  ${time.padStart(9)}  `;
      if (width === undefined) lines.push(head + resultPieces(check, chalk).map((piece) => (piece.paint ? piece.paint(piece.text) : piece.text)).join(""));
      else {
        const [first, ...rest] = wrapPieces(resultPieces(check, chalk), width, indent, hanging);
        lines.push(head + first.slice(indent.length), ...rest);
      }
    }
    if (check.failure && check.status !== "pass") paragraph([{ text: "→ " + check.failure.hint, paint: chalk.cyan }], indent, hanging);
    // Evidence a slow or timed-out check gathered (the resource's own metrics): what to look at, not a verdict.
    if (check.status !== "pass" && typeof check.details?.evidence === "string") paragraph([{ text: "◦ " + check.details.evidence, paint: chalk.gray }], indent, hanging);
    for (const [metric, entry] of Object.entries((check.baseline ?? {}) as BaselineBlock)) {
      if (entry.regressed) paragraph([{ text: "↑ " + describeRegression(metric, entry), paint: check.status === "fail" ? chalk.red : chalk.yellow }], indent, hanging);
    }
    if (options.verbose) {
      paragraph([{ text: "target: " + check.target, paint: chalk.gray }], indent, hanging);
      const phases = Object.entries(check.phasesMs).map(([name, ms]) => `${name} ${formatMs(ms)}`);
      if (phases.length) paragraph([{ text: "phases: " + phases.join(" · "), paint: chalk.gray }], indent, hanging);
      if (check.runner) {
        const runnerPhases = Object.entries(check.runner.phasesMs).map(([name, ms]) => `${name} ${formatMs(ms)}`);
        const where = [`runner ${check.runner.name}`, check.runner.execution ? `execution ${check.runner.execution.split("/").pop()}` : undefined, ...runnerPhases].filter(Boolean);
        paragraph([{ text: where.join(" · "), paint: chalk.gray }], indent, hanging);
      }
      const metrics = Object.entries(check.metrics)
        .filter(([, value]) => value === null || typeof value !== "object")
        .map(([name, value]) => `${name}=${typeof value === "number" && /Ms$/.test(name) ? formatMs(value) : String(value)}`);
      if (metrics.length) paragraph([{ text: "metrics: " + metrics.join(" "), paint: chalk.gray }], indent, hanging);
      for (const assertion of check.assertions) {
        const mark = assertion.ok ? { text: "ok", paint: chalk.green } : assertion.severity === "warn" ? { text: "warn", paint: chalk.yellow } : { text: "fail", paint: chalk.red };
        paragraph([{ text: "assert ", paint: chalk.gray }, mark, { text: " " + describeAssertion(assertion), paint: chalk.gray }], indent, hanging);
      }
    }
  }
  lines.push("");
  const s = report.summary;
  const verdict = report.interrupted
    ? { text: `INTERRUPTED (${report.interrupted.signal})`, paint: chalk.magenta.bold }
    : report.ok
      ? { text: "HEALTHY", paint: chalk.green.bold }
      : { text: "UNHEALTHY", paint: chalk.red.bold };
  const count = (n: number, word: string, status: Status): Piece => ({ text: `${n} ${word}`, ...(n || status === "pass" ? { paint: paint[status] } : {}) });
  paragraph(
    [
      verdict,
      { text: `  ${s.total} check${s.total === 1 ? "" : "s"}: ` },
      count(s.pass, "passed,", "pass"),
      { text: " " },
      count(s.warn, "warned,", "warn"),
      { text: " " },
      count(s.fail, "failed,", "fail"),
      { text: " " },
      count(s.blocked, s.interrupted ? "blocked," : "blocked", "blocked"),
      ...(s.interrupted ? [{ text: " " }, count(s.interrupted, "interrupted", "interrupted")] : []),
      { text: ` in ${formatMs(report.durationMs)} (deadline ${formatMs(report.deadlineMs)})${report.strict ? " [strict]" : ""}` },
    ],
    "",
    "  ",
  );
  if (report.interrupted) paragraph([{ text: `The run was stopped by ${report.interrupted.signal}: this is a partial report (finished checks as they ended, the others where they were).`, paint: chalk.magenta }], "", "  ");
  if (showRootCauses(report)) {
    lines.push(chalk.bold("Root cause" + (report.rootCauses.length > 1 ? "s" : "") + ":"));
    for (const cause of report.rootCauses) {
      const blocks = cause.blocks.length ? [{ text: ` — blocks ${cause.blocks.join(", ")}`, paint: chalk.gray }] : [];
      paragraph([{ text: cause.check, paint: chalk.red }, { text: ` [${cause.class}] ${cause.message}` }, ...blocks], "  ", "    ");
    }
  }
  return lines.join("\n") + "\n";
};

/** Root causes add to the rows only when something is blocked, or fewer causes explain more checks that did not pass. */
export function showRootCauses(report: Pick<RunReport, "rootCauses" | "summary">): boolean {
  if (!report.rootCauses.length) return false;
  return report.summary.blocked > 0 || report.rootCauses.length < report.summary.fail + report.summary.blocked;
}

function resultPieces(check: CheckResult, chalk: InstanceType<typeof Chalk>): Piece[] {
  if (check.status === "blocked") return [{ text: `blocked by ${check.blockedBy.join(", ")}`, paint: chalk.gray }];
  if (check.status === "interrupted") return [{ text: interruptedText(check), paint: chalk.magenta }, { text: "  " }, { text: check.target, paint: chalk.gray }];
  const pieces: Piece[] = [];
  if (check.labels?.length) pieces.push({ text: `[${check.labels.join(", ")}] `, paint: chalk.magenta });
  // Measured elsewhere: from inside the runner's network (docs/runners.md).
  if (check.runner) pieces.push({ text: `[via ${check.runner.name}] `, paint: chalk.magenta });
  if (check.failure) {
    pieces.push({ text: `${check.failure.class}: `, paint: check.status === "warn" ? chalk.yellow : chalk.red }, { text: check.failure.message });
  } else if (check.summary) {
    // A check that measured shows what it measured (the kind's pass line), then where.
    pieces.push({ text: check.summary }, { text: "  " }, { text: check.target, paint: chalk.gray });
  } else pieces.push({ text: check.target, paint: chalk.gray });
  if (check.attempts && check.attempts > 1) pieces.push({ text: ` (attempt ${check.attempts})`, paint: chalk.gray, keep: true });
  return pieces;
}

export default table;
