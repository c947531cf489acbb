// GitHub Actions workflow commands: an `::error` annotation per failed check,
// `::warning` per warned check (`::error` with --strict), `::notice` for
// blocked checks and for checks that passed only after --wait retries, then
// one plain summary line for the log. Annotations show on the run's summary
// page and, with a file, in the PR diff; here there is no file, the title
// names the environment, check and failure class.
// The Markdown summary for $GITHUB_STEP_SUMMARY is appended by the output
// writer (src/commands/outputs.ts), since a reporter only returns text. On
// GitHub Actions a table run adds the same annotations by itself
// (githubAnnotations, src/commands/ci.ts).
import type { CheckResult, Reporter, RunReport } from "../report/schema.js";
import { formatMs } from "../util/duration.js";
import { INTERRUPTED_HINT, interruptedCount, interruptedText } from "./interrupted.js";

const github: Reporter = (report) => {
  const lines = annotationLines(report);
  const s = report.summary;
  lines.push(
    `infra-check ${report.env}: ${report.interrupted ? `INTERRUPTED by ${report.interrupted.signal} (partial report)` : report.ok ? "healthy" : "UNHEALTHY"} — ${s.total} checks: ${s.pass} passed, ${s.warn} warned, ${s.fail} failed, ${s.blocked} blocked${interruptedCount(report)} in ${formatMs(report.durationMs)}`,
  );
  return lines.join("\n") + "\n";
};

/**
 * Only the annotations (no summary line): what a table run adds to its output
 * on GitHub Actions (GITHUB_ACTIONS=true, src/commands/ci.ts), where the table
 * already says the rest. Empty when nothing needs one.
 */
export const githubAnnotations: Reporter = (report) => {
  const lines = annotationLines(report);
  return lines.length ? lines.join("\n") + "\n" : "";
};

function annotationLines(report: RunReport): string[] {
  return report.checks.map((check) => annotate(check, report)).filter((line): line is string => line !== undefined);
}

function annotate(check: CheckResult, report: RunReport): string | undefined {
  const title = (suffix: string) => `infra-check ${report.env}: ${check.name} (${check.kind}) ${suffix}`;
  if (check.status === "blocked") {
    return command("notice", title("blocked"), `not run: blocked by ${check.blockedBy.join(", ")}`);
  }
  if (check.status === "interrupted") {
    // The run did not conclude and exits non-zero: the annotation says why this check has no verdict.
    return command("error", title("interrupted"), `${interruptedText(check)}\nHint: ${INTERRUPTED_HINT}`);
  }
  if ((check.status === "fail" || check.status === "warn") && check.failure) {
    const level = check.status === "fail" || report.strict ? "error" : "warning";
    const attempts = check.attempts && check.attempts > 1 && check.status === "fail" ? `\nLast of ${check.attempts} attempts.` : "";
    return command(level, title(check.failure.class), `${check.failure.message}\nHint: ${check.failure.hint}${attempts}`);
  }
  if (check.attempts && check.attempts > 1) {
    return command("notice", title(`passed after ${check.attempts} attempts`), `${check.target} passed on attempt ${check.attempts}`);
  }
  return undefined;
}

function command(level: "error" | "warning" | "notice", title: string, message: string): string {
  return `::${level} title=${escapeProperty(title)}::${escapeData(message)}`;
}

/**
 * Message text of a workflow command, escaped as @actions/core does; other
 * control characters (ANSI colour codes a server sent) are shown as `\uXXXX`
 * so they cannot restyle or corrupt the log line.
 */
export function escapeData(text: string): string {
  return text
    .replace(/%/g, "%25")
    .replace(/\r/g, "%0D")
    .replace(/\n/g, "%0A")
    .replace(/[\u0000-\u001f\u007f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A property value (title=…): also `:` and `,`, which would end the property. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

export default github;
