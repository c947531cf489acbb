// Live progress on stderr while a run is in flight: one line per finished
// check, and a status line (redrawn in place) naming the checks still
// running — on a slow run you see which check is holding it up. Only when
// stderr is a terminal and --quiet is not given; otherwise nothing is written,
// so CI logs and redirected output stay exactly the report. Progress never
// touches stdout, which carries the report (possibly JSON or XML).
import { Chalk } from "chalk";
import type { RunEvent } from "../runner/run-checks.js";
import type { Status } from "../diagnose/vocabulary.js";
import { formatMs } from "../util/duration.js";
import { terminalWidth, useColor, type CommandIO } from "./io.js";
import { columnsOf, truncateColumns } from "../util/wrap.js";
import type { RetryInfo } from "../runner/wait.js";
import type { Redactor } from "../redact.js";
import { neutralizeLine } from "../util/neutralize.js";
import { interruptedText } from "../reporters/interrupted.js";

export interface Progress {
  onEvent(event: RunEvent): void;
  onRetry(retry: RetryInfo): void;
  /** Erase the status line (before the report is printed). */
  finish(): void;
}

const NO_PROGRESS: Progress = { onEvent: () => undefined, onRetry: () => undefined, finish: () => undefined };
const ICON: Record<Status, string> = { pass: "✔", warn: "▲", fail: "✖", blocked: "⊘", interrupted: "■" };
/**
 * The redrawn line is kept shorter than the terminal (read at each redraw: it
 * may be resized) so it never wraps — a wrapped line cannot be erased with \r
 * and would be left behind as a stale "… running" line. Without a known width,
 * shorter than any terminal. Finished lines are cut to one line as well.
 */
const FALLBACK_WIDTH = 80;
const CLEAR_LINE = "\r\x1b[2K";

/** `redactor` scrubs what is shown: events carry results before the report's final redaction pass. */
export function createProgress(io: CommandIO, flags: { quiet?: boolean; color?: boolean }, redactor: Redactor): Progress {
  if (flags.quiet || !io.stderrIsTTY) return NO_PROGRESS;
  const chalk = new Chalk({ level: useColor(flags.color, io, io.stderrIsTTY) ? 1 : 0 });
  const paint: Record<Status, (text: string) => string> = { pass: chalk.green, warn: chalk.yellow, fail: chalk.red, blocked: chalk.gray, interrupted: chalk.magenta };
  const running = new Map<string, string>();
  let finished = 0;
  let statusShown = false;

  const clear = () => {
    if (statusShown) io.stderr(CLEAR_LINE);
    statusShown = false;
  };
  const width = () => Math.max(10, (terminalWidth(io, "stderr") ?? FALLBACK_WIDTH) - 1);
  const drawStatus = () => {
    if (running.size === 0) return clear();
    const text = truncateColumns(`… running ${[...running.keys()].join(", ")} (${finished} finished)`, width());
    io.stderr(CLEAR_LINE + chalk.gray(text));
    statusShown = true;
  };

  return {
    onEvent(event) {
      if (event.type === "start") {
        running.set(event.name, event.kind);
        drawStatus();
        return;
      }
      const check = event.result;
      running.delete(check.name);
      finished += 1;
      // One line each: the table under it has the whole message and the hint.
      const time = check.status === "blocked" ? "" : ` ${formatMs(check.durationMs)}`;
      const head = `${ICON[check.status]} ${check.name} ${check.kind}${time}`;
      let outcome = "";
      if (check.status === "blocked") outcome = chalk.gray(truncateColumns(` blocked by ${check.blockedBy.join(", ")}`, width() - columnsOf(head)));
      else if (check.status === "interrupted") outcome = chalk.magenta(truncateColumns(` ${interruptedText(check)}`, width() - columnsOf(head)));
      else if (check.failure && check.status !== "pass") {
        const label = ` ${check.failure.class}: `;
        outcome = paint[check.status](label) + truncateColumns(oneLine(redactor.text(check.failure.message)), width() - columnsOf(head) - columnsOf(label));
      }
      clear();
      io.stderr(`${paint[check.status](ICON[check.status])} ${check.name} ${chalk.gray(check.kind)}${time ? chalk.gray(time) : ""}${outcome}\n`);
      drawStatus();
    },
    onRetry(retry) {
      clear();
      io.stderr(chalk.cyan(`↻ attempt ${retry.attempt} in ${formatMs(retry.delayMs)}: ${retry.checks.join(", ")}`) + "\n");
      finished = 0;
    },
    finish: clear,
  };
}

/** One terminal line: no newlines, and control or bidi characters a server may have sent shown as escapes (they would drive the terminal). */
function oneLine(text: string): string {
  return neutralizeLine(text.replace(/\s*[\r\n]+\s*/g, " "));
}
