// GitHub-flavoured Markdown: a summary fit for $GITHUB_STEP_SUMMARY, a merge
// request note or a PR comment. One table row per check (status emoji, check,
// kind, time, failure class, result, hint), then the root causes.
// Cell text comes from servers and client libraries: Markdown punctuation is
// backslash-escaped (a `|` would otherwise split the cell, `<b>` would render)
// and newlines become <br> so a multi-line message stays in its row.
import type { Status } from "../diagnose/vocabulary.js";
import type { CheckResult, Reporter } from "../report/schema.js";
import { formatMs } from "../util/duration.js";
import { INTERRUPTED_HINT, interruptedCount, interruptedText } from "./interrupted.js";

const EMOJI: Record<Status, string> = { pass: "✅", warn: "⚠️", fail: "❌", blocked: "⛔", interrupted: "⏹️" };

const markdown: Reporter = (report, options) => {
  const s = report.summary;
  const lines: string[] = [];
  const verdict = report.interrupted ? `⏹️ INTERRUPTED (${report.interrupted.signal}): partial report` : report.ok ? "✅ healthy" : "❌ UNHEALTHY";
  lines.push(`### infra-check ${escapeMarkdown(report.env)}: ${verdict}`);
  lines.push("");
  const counts = `${s.pass} passed, ${s.warn} warned, ${s.fail} failed, ${s.blocked} blocked${interruptedCount(report)}`;
  const where = report.configFile ? ` · \`${report.configFile.replace(/`/g, "'")}\`` : "";
  lines.push(`${s.total} check${s.total === 1 ? "" : "s"}: ${counts} in ${formatMs(report.durationMs)} (deadline ${formatMs(report.deadlineMs)})${report.strict ? " · strict" : ""}${where}`);
  lines.push("");
  lines.push("| | Check | Kind | Time | Class | Result | Hint |");
  lines.push("|:-:|---|---|--:|---|---|---|");
  for (const check of report.checks) {
    const time = check.status === "blocked" || (check.status === "interrupted" && !check.interrupted?.phase) ? "—" : formatMs(check.durationMs);
    const failureClass = check.failure && check.status !== "pass" ? `\`${check.failure.class}\`` : "";
    // A slow or timed-out check's evidence (the resource's own metrics) goes with the hint: what to look at next.
    const evidence = check.status !== "pass" && typeof check.details?.evidence === "string" ? `<br>◦ ${escapeCell(check.details.evidence)}` : "";
    const hint = check.status === "interrupted" ? escapeCell(INTERRUPTED_HINT) : check.failure && check.status !== "pass" ? escapeCell(check.failure.hint) + evidence : "";
    const cells = [EMOJI[check.status], escapeCell(check.name), escapeCell(check.kind), time, failureClass, resultCell(check, options.verbose), hint];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  if (report.rootCauses.length) {
    lines.push("");
    lines.push(`**Root cause${report.rootCauses.length > 1 ? "s" : ""}:**`);
    for (const cause of report.rootCauses) {
      const blocks = cause.blocks.length ? ` — blocks ${cause.blocks.map(escapeMarkdown).join(", ")}` : "";
      lines.push(`- ${escapeMarkdown(cause.check)} (\`${cause.class}\`): ${escapeInline(cause.message)}${blocks}`);
    }
  }
  return lines.join("\n") + "\n";
};

function resultCell(check: CheckResult, verbose: boolean): string {
  const parts: string[] = [];
  if (check.labels?.length) parts.push(`[${check.labels.join(", ")}]`);
  if (check.status === "blocked") parts.push(`blocked by ${check.blockedBy.join(", ")}`);
  else if (check.status === "interrupted") parts.push(`${interruptedText(check)} — ${check.target}`);
  else if (check.failure && check.status !== "pass") parts.push(check.failure.message);
  else parts.push(check.summary ? `${check.summary} — ${check.target}` : check.target);
  if (check.attempts && check.attempts > 1 && check.status === "fail") parts.push(`(last of ${check.attempts} attempts)`);
  if (check.attempts && check.attempts > 1 && check.status === "blocked") parts.push(`(in all ${check.attempts} attempts)`);
  let text = escapeCell(parts.join(" "));
  if (verbose) {
    const phases = Object.entries(check.phasesMs).map(([name, ms]) => `${name} ${formatMs(ms)}`);
    if (phases.length) text += `<br>${escapeCell(`phases: ${phases.join(" · ")}`)}`;
  }
  return text;
}

/**
 * Backslash-escape the ASCII punctuation that Markdown (and GFM tables) would
 * interpret; control characters other than newlines (ANSI colour codes a
 * server sent) are shown as `\uXXXX` instead of being passed to the renderer.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]<>|&~#!]/g, (char) => `\\${char}`)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A table cell: escaped, on one line (newlines become <br>). */
export function escapeCell(text: string): string {
  return escapeMarkdown(text).replace(/\r\n|\r|\n/g, "<br>");
}

/** A list item: escaped, on one line. */
function escapeInline(text: string): string {
  return escapeMarkdown(text).replace(/\s*(\r\n|\r|\n)\s*/g, " ");
}

export default markdown;
