// JUnit XML for CI test-report views (GitLab `artifacts:reports:junit`,
// Jenkins, GitHub test-report actions). One <testsuite> per run, named after
// the environment; one <testcase> per check (classname = kind, time in
// seconds). How statuses map:
//   fail    → <failure type="CLASS" message="…"> with the hint, phases and assertions in the body
//   blocked → <skipped message="blocked by X"> naming the root cause in the body
//   warn    → a passing testcase with a <system-out> note (a <failure> with --strict,
//             because then a warning fails the run too)
//   pass    → a plain testcase (<system-out> says "passed after N attempts" after --wait retries)
//   interrupted → <error type="interrupted" message="interrupted by SIGTERM during query">: the run
//             was stopped (a CI job timeout) before the check had a verdict

// A run that never started because its config is invalid is one failed
// testcase named after the config file (configFailureJUnit), so the CI's
// test view shows why instead of a missing report.
// Valid against test/fixtures/junit.xsd (the Jenkins/GitLab reading of the format).
import type { CheckResult, Reporter, RunReport } from "../report/schema.js";
import { describeAssertion } from "../evaluate/judge.js";
import { formatMs } from "../util/duration.js";
import { element, openTag } from "./xml.js";
import { INTERRUPTED_HINT, interruptedText } from "./interrupted.js";

const junit: Reporter = (report, options) => {
  const failures = report.checks.filter((check) => failsRun(check, report)).length;
  const skipped = report.summary.blocked;
  const suiteAttributes = {
    tests: report.summary.total,
    failures,
    errors: report.summary.interrupted ?? 0,
    time: seconds(report.durationMs),
  };
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`${openTag("testsuites", { name: "infra-check", ...suiteAttributes })}>`);
  lines.push(`  ${openTag("testsuite", { name: report.env, ...suiteAttributes, skipped, timestamp: report.startedAt })}>`);
  lines.push("    <properties>");
  for (const [name, value] of properties(report)) lines.push(`      ${element("property", { name, value })}`);
  lines.push("    </properties>");
  for (const check of report.checks) lines.push(...testcase(check, report, options.verbose).map((line) => `    ${line}`));
  lines.push("  </testsuite>");
  lines.push("</testsuites>");
  return lines.join("\n") + "\n";
};

function failsRun(check: CheckResult, report: RunReport): boolean {
  return check.status === "fail" || (check.status === "warn" && report.strict);
}

function properties(report: RunReport): [string, string][] {
  const entries: [string, string][] = [
    ["tool", `${report.tool.name} ${report.tool.version}`],
    ["env", report.env],
  ];
  if (report.configFile) entries.push(["configFile", report.configFile]);
  entries.push(["deadlineMs", String(report.deadlineMs)], ["strict", String(report.strict)], ["ok", String(report.ok)]);
  if (report.interrupted) entries.push(["interrupted", report.interrupted.signal]);
  return entries;
}

function testcase(check: CheckResult, report: RunReport, verbose: boolean): string[] {
  const attributes = { name: check.name, classname: check.kind, time: seconds(check.durationMs) };
  const children: string[] = [];
  if (check.status === "blocked") {
    children.push(element("skipped", { message: `blocked by ${check.blockedBy.join(", ")}` }, blockedBody(check, report)));
  } else if (check.status === "interrupted") {
    children.push(element("error", { type: "interrupted", message: interruptedText(check) }, [`hint: ${INTERRUPTED_HINT}`, ...evidence(check)].join("\n")));
  } else if (failsRun(check, report) && check.failure) {
    children.push(element("failure", { type: check.failure.class, message: check.failure.message }, failureBody(check)));
  } else {
    const notes = [
      ...(check.status === "warn" && check.failure ? [`warning: ${check.failure.class}: ${check.failure.message}`, `hint: ${check.failure.hint}`] : []),
      ...attemptsNote(check),
      ...(verbose ? evidence(check) : []),
    ];
    if (notes.length) children.push(element("system-out", {}, notes.join("\n")));
  }
  if (!children.length) return [`${openTag("testcase", attributes)}/>`];
  return [`${openTag("testcase", attributes)}>`, ...children.map((child) => `  ${child}`), "</testcase>"];
}

function failureBody(check: CheckResult): string {
  const failure = check.failure!;
  const lines = [`${failure.class}: ${failure.message}`, `hint: ${failure.hint}`];
  if (failure.phase) lines.push(`failed in phase: ${failure.phase}`);
  if (failure.code) lines.push(`code: ${failure.code}`);
  lines.push(...attemptsNote(check), ...evidence(check));
  return lines.join("\n");
}

/** Where the check pointed and what it measured: the facts to start triage from. */
function evidence(check: CheckResult): string[] {
  const lines = [`target: ${check.target}`];
  const phases = Object.entries(check.phasesMs).map(([name, ms]) => `${name} ${formatMs(ms)}`);
  if (phases.length) lines.push(`phases: ${phases.join(" · ")}`);
  const failed = check.assertions.filter((assertion) => !assertion.ok);
  if (failed.length) lines.push("assertions:", ...failed.map((assertion) => `  ${assertion.severity}: ${describeAssertion(assertion)}`));
  return lines;
}

function attemptsNote(check: CheckResult): string[] {
  if (!check.attempts || check.attempts <= 1) return [];
  return check.status === "pass" || check.status === "warn"
    ? [`passed after ${check.attempts} attempts`]
    : [`attempts: ${check.attempts} (never passed within --wait; this is the last failure)`];
}

function blockedBody(check: CheckResult, report: RunReport): string {
  const causes = report.rootCauses.filter((cause) => cause.blocks.includes(check.name));
  const lines = causes.map((cause) => `root cause: ${cause.check} failed (${cause.class}): ${cause.message}`);
  lines.push("not run: a check it depends on failed");
  return lines.join("\n");
}

/** JUnit times are seconds with a decimal point. */
function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

export interface ConfigFailure {
  /** The config file as the user named it. */
  file: string;
  env: string;
  /** Each problem as the terminal shows it (headline, position, code frame). */
  problems: string[];
  /** Where the first problem is, for viewers that link to the file. */
  line?: number;
  version: string;
  startedAt: string;
}

export function configFailureJUnit(failure: ConfigFailure): string {
  const counts = { tests: 1, failures: 1, errors: 0, time: seconds(0) };
  const count = failure.problems.length;
  const message = `invalid config (${count} problem${count === 1 ? "" : "s"}): nothing was probed`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `${openTag("testsuites", { name: "infra-check", ...counts })}>`,
    `  ${openTag("testsuite", { name: failure.env, ...counts, skipped: 0, timestamp: failure.startedAt })}>`,
    "    <properties>",
    ...[["tool", `infra-check ${failure.version}`], ["env", failure.env], ["configFile", failure.file], ["ok", "false"]].map(([name, value]) => `      ${element("property", { name, value })}`),
    "    </properties>",
    `    ${openTag("testcase", { name: failure.file, classname: "config", time: seconds(0), file: failure.file, line: failure.line })}>`,
    `      ${element("failure", { type: "config", message }, failure.problems.join("\n"))}`,
    "    </testcase>",
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}

export default junit;
