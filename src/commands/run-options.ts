// Flags shared by `run`, the default command, one-off probe commands and demo.
import type { Command } from "commander";
import { FORMATS } from "../reporters/index.js";

export interface RunFlags {
  config?: string;
  format: string;
  only?: string[];
  skip?: string[];
  timeout?: string;
  deadline?: string;
  /** --concurrency N: checks in flight at once. */
  concurrency?: string;
  strict?: boolean;
  verbose?: boolean;
  color?: boolean;
  /** Folder to append this run's JSON report to. */
  history?: string;
  /** History folder or saved report to compare timings with. */
  baseline?: string;
  /** --output FORMAT=FILE, repeatable (src/commands/outputs.ts). */
  output?: string[];
  /** --wait DURATION (src/commands/wait.ts). */
  wait?: string;
  /** --wait-all: retry credential, config and not-found failures too. */
  waitAll?: boolean;
  quiet?: boolean;
  /** false with --no-ci-annotations: no GitHub Actions annotations or step summary from a table run (src/commands/ci.ts). */
  ciAnnotations?: boolean;
  /** --runner local|NAME: where every selected check runs. */
  runner?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Output and judgement flags (every command that runs checks). */
export function addOutputOptions(command: Command): Command {
  return command
    .option("-f, --format <format>", `stdout format: ${FORMATS.join(" | ")}`, "table")
    .option("--strict", "warnings count as failures (exit 1)")
    .option("-v, --verbose", "phase breakdown, metrics and assertions per check; log lines on stderr")
    .option("--no-color", "no ANSI colours (also NO_COLOR=1; FORCE_COLOR=1 forces them)")
    .option("-o, --output <format=file>", `also write the report to a file, e.g. junit=reports/infra-check.xml (repeatable; formats: ${FORMATS.join(", ")})`, collect)
    .option("--wait <duration>", "re-run failing checks with backoff until all pass or this much time is spent, e.g. 2m (after a deploy); auth, config and not-found failures are not retried")
    .option("--wait-all", "with --wait: retry auth, config and not-found failures too")
    .option("-q, --quiet", "no live progress on stderr (shown only when stderr is a terminal)")
    .option("--no-ci-annotations", "on GitHub Actions (GITHUB_ACTIONS=true), do not add ::error/::warning annotations after the table nor the Markdown summary to $GITHUB_STEP_SUMMARY");
}

/** Selection and budget flags (config-driven runs). */
export function addRunOptions(command: Command): Command {
  command
    .option("-c, --config <file>", "run this config file instead of config/<env>.yaml")
    .option("--only <names>", "run only these checks (comma-separated, repeatable)", collect)
    .option("--skip <names>", "skip these checks (comma-separated, repeatable)", collect)
    .option("-t, --timeout <duration>", "default per-check budget, e.g. 2s (a check's own timeout wins)")
    .option("-d, --deadline <duration>", "budget of the whole command, counted from its start, e.g. 20s (default: config's deadline, else 30s)")
    .option("--concurrency <n>", "checks in flight at once, at most (default: config's concurrency, else sized to the open-files limit)")
    .option("--runner <local|name>", "run every selected check here (local) or on runner NAME from runners: (triage from a bastion, or all checks inside the VPC); default: each check's runner:")
    .option("--history <dir>", "append this run's JSON report to DIR, one file per run (default: config's history.dir)")
    .option("--baseline <dir|file>", "compare timings with a history DIR (median of the last passing runs) or one saved report FILE; regressions warn, or fail with regression.action: fail");
  return addOutputOptions(command);
}
