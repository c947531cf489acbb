// The words every format uses for an interrupted run and its checks (status
// `interrupted`: the run was stopped by SIGINT/SIGTERM/SIGHUP while the check
// ran, or before it started), so the table, Markdown, JUnit and GitHub
// annotations say the same thing.
import type { CheckResult, RunReport } from "../report/schema.js";

/** "interrupted by SIGINT during query" / "interrupted by SIGTERM before it started". */
export function interruptedText(check: Pick<CheckResult, "interrupted">): string {
  const by = check.interrupted?.signal ? ` by ${check.interrupted.signal}` : "";
  const where = check.interrupted?.phase ? ` during ${check.interrupted.phase}` : " before it started";
  return `interrupted${by}${where}`;
}

/** What to do about it: nothing is known about what it did not finish. */
export const INTERRUPTED_HINT = "no verdict: the run was stopped before this check finished; run it again (a CI job timeout: raise the job's timeout or lower --deadline)";

/** ", 2 interrupted" — only in a run that has interrupted checks (the counts of other runs are unchanged). */
export function interruptedCount(report: Pick<RunReport, "summary">, separator = ", "): string {
  const n = report.summary.interrupted ?? 0;
  return n ? `${separator}${n} interrupted` : "";
}
