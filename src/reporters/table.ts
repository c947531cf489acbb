// Human-readable report for terminals: one row per check, the diagnosis and
// the hint under failures, a summary line and the root causes.
import { Chalk } from "chalk";
import type { Status } from "../diagnose/vocabulary.js";
import type { CheckResult, Reporter } from "../report/schema.js";
import { formatMs } from "../util/duration.js";
import { describeAssertion } from "../evaluate/judge.js";
import { describeRegression, type BaselineBlock } from "../evaluate/regression.js";

const ICON: Record<Status, string> = { pass: "✔", warn: "▲", fail: "✖", blocked: "⊘" };

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
  const paint: Record<Status, (text: string) => string> = {
    pass: chalk.green,
    warn: chalk.yellow,
    fail: chalk.red,
    blocked: chalk.gray,
  };
  const nameWidth = Math.max(5, ...report.checks.map((check) => check.name.length));
  const kindWidth = Math.max(4, ...report.checks.map((check) => check.kind.length));
  const lines: string[] = [];
  lines.push(chalk.bold(`infra-check ${report.env}`) + chalk.gray(report.configFile ? `  (${report.configFile})` : ""));
  lines.push(
    chalk.gray(`  ${"STATUS".padEnd(9)} ${"CHECK".padEnd(nameWidth)}  ${"KIND".padEnd(kindWidth)}  ${"TIME".padStart(9)}  RESULT`),
  );
  for (const check of report.checks) {
    const status = paint[check.status](`${ICON[check.status]} ${check.status.toUpperCase()}`.padEnd(9));
    const time = check.status === "blocked" ? "—" : formatMs(check.durationMs);
    lines.push(`  ${status} ${check.name.padEnd(nameWidth)}  ${chalk.gray(check.kind.padEnd(kindWidth))}  ${time.padStart(9)}  ${resultText(check, chalk)}`);
    const indent = " ".repeat(2 + 9 + 1 + nameWidth + 2 + kindWidth + 2 + 9 + 2);
    if (check.failure && check.status !== "pass") lines.push(`${indent}${chalk.cyan("→ " + check.failure.hint)}`);
    // Evidence a slow or timed-out check gathered (the resource's own metrics): what to look at, not a verdict.
    if (check.status !== "pass" && typeof check.details?.evidence === "string") lines.push(`${indent}${chalk.gray("◦ " + check.details.evidence)}`);
    for (const [metric, entry] of Object.entries((check.baseline ?? {}) as BaselineBlock)) {
      if (entry.regressed) lines.push(`${indent}${(check.status === "fail" ? chalk.red : chalk.yellow)("↑ " + describeRegression(metric, entry))}`);
    }
    if (options.verbose) {
      lines.push(`${indent}${chalk.gray("target: " + check.target)}`);
      const phases = Object.entries(check.phasesMs).map(([name, ms]) => `${name} ${formatMs(ms)}`);
      if (phases.length) lines.push(`${indent}${chalk.gray("phases: " + phases.join(" · "))}`);
      const metrics = Object.entries(check.metrics)
        .filter(([, value]) => value === null || typeof value !== "object")
        .map(([name, value]) => `${name}=${typeof value === "number" && /Ms$/.test(name) ? formatMs(value) : String(value)}`);
      if (metrics.length) lines.push(`${indent}${chalk.gray("metrics: " + metrics.join(" "))}`);
      for (const assertion of check.assertions) {
        const mark = assertion.ok ? chalk.green("ok") : assertion.severity === "warn" ? chalk.yellow("warn") : chalk.red("fail");
        lines.push(`${indent}${chalk.gray("assert")} ${mark} ${chalk.gray(describeAssertion(assertion))}`);
      }
    }
  }
  lines.push("");
  const s = report.summary;
  const parts = [
    paint.pass(`${s.pass} passed`),
    s.warn ? paint.warn(`${s.warn} warned`) : `${s.warn} warned`,
    s.fail ? paint.fail(`${s.fail} failed`) : `${s.fail} failed`,
    s.blocked ? paint.blocked(`${s.blocked} blocked`) : `${s.blocked} blocked`,
  ];
  const verdict = report.ok ? chalk.green.bold("HEALTHY") : chalk.red.bold("UNHEALTHY");
  lines.push(`${verdict}  ${s.total} check${s.total === 1 ? "" : "s"}: ${parts.join(", ")} in ${formatMs(report.durationMs)} (deadline ${formatMs(report.deadlineMs)})${report.strict ? " [strict]" : ""}`);
  if (report.rootCauses.length) {
    lines.push(chalk.bold("Root cause" + (report.rootCauses.length > 1 ? "s" : "") + ":"));
    for (const cause of report.rootCauses) {
      const blocks = cause.blocks.length ? chalk.gray(` — blocks ${cause.blocks.join(", ")}`) : "";
      lines.push(`  ${chalk.red(cause.check)} [${cause.class}] ${cause.message}${blocks}`);
    }
  }
  return lines.join("\n") + "\n";
};

function resultText(check: CheckResult, chalk: InstanceType<typeof Chalk>): string {
  if (check.status === "blocked") return chalk.gray(`blocked by ${check.blockedBy.join(", ")}`);
  const labels = check.labels?.length ? chalk.magenta(`[${check.labels.join(", ")}] `) : "";
  const attempts = check.attempts && check.attempts > 1 ? chalk.gray(` (attempt ${check.attempts})`) : "";
  if (check.failure) {
    const color = check.status === "warn" ? chalk.yellow : chalk.red;
    return labels + color(`${check.failure.class}: `) + check.failure.message + attempts;
  }
  return labels + chalk.gray(check.target) + attempts;
}

export default table;
