// Budgets that cannot fit, found before anything runs: a wait longer than
// its check's timeout (the kind declares its waits), a check timeout longer
// than the run's deadline, a dependsOn chain whose timeouts add up to more
// than the deadline (a dependent starts only when what it depends on has
// ended, so the last checks of the chain get what is left, maybe nothing).
// They are warnings: the run may still pass when everything answers fast.
import type { CheckSpec, ProbeDefinition } from "../probes/api.js";
import { ConfigError } from "../util/errors.js";

/** Where a budget was set: a key path of the file, or the flag / default it came from. */
export interface BudgetSource {
  keyPath?: string;
  /** How a message names it: `timeout`, `defaults.timeout`, `--timeout`, `the default timeout`. */
  label: string;
}

export interface BudgetInput {
  file?: string;
  checks: CheckSpec[];
  probes: ReadonlyMap<string, ProbeDefinition>;
  deadlineMs: number;
  deadline: BudgetSource;
  /** Where each check's timeout was set; undefined when it is the built-in default. */
  timeoutSource(check: CheckSpec): BudgetSource | undefined;
}

export function budgetWarnings(input: BudgetInput): ConfigError[] {
  const { file, checks, deadlineMs, deadline } = input;
  const warnings: ConfigError[] = [];
  const warn = (keyPath: string | undefined, detail: string) => warnings.push(new ConfigError(detail, { file, keyPath }));
  const deadlineText = `the run's deadline (${written(deadlineMs)}, ${deadline.label})`;

  for (const check of checks) {
    for (const wait of input.probes.get(check.kind)?.waits?.(check) ?? []) {
      if (wait.ms <= check.timeoutMs) continue;
      const source = input.timeoutSource(check);
      warn(
        `checks.${check.name}.${wait.key}`,
        `${written(wait.ms)} is longer than the check's timeout (${written(check.timeoutMs)}${source ? `, ${source.label}` : ""}): the budget ends first, so this wait never runs its course; raise the timeout or shorten the wait`,
      );
    }
  }

  // A timeout set once (defaults.timeout, --timeout) is warned about once.
  const warnedSources = new Set<string>();
  for (const check of checks) {
    const source = input.timeoutSource(check);
    if (!source || check.timeoutMs <= deadlineMs || warnedSources.has(source.keyPath ?? source.label)) continue;
    warnedSources.add(source.keyPath ?? source.label);
    warn(source.keyPath, `${source.label} ${written(check.timeoutMs)} is longer than ${deadlineText}: the check is cut short at the deadline; lower the timeout or raise the deadline`);
  }

  // The longest chain of timeouts ending at each check (dependsOn is acyclic by now). A check never
  // takes longer than the deadline, so that is what a longer timeout counts for.
  const takes = (check: CheckSpec) => Math.min(check.timeoutMs, deadlineMs);
  const byName = new Map(checks.map((check) => [check.name, check]));
  const longest = new Map<string, { ms: number; chain: CheckSpec[] }>();
  const chainTo = (check: CheckSpec): { ms: number; chain: CheckSpec[] } => {
    const known = longest.get(check.name);
    if (known) return known;
    let before: { ms: number; chain: CheckSpec[] } = { ms: 0, chain: [] };
    for (const name of check.dependsOn) {
      const dependency = byName.get(name);
      if (!dependency) continue;
      const candidate = chainTo(dependency);
      if (candidate.ms > before.ms) before = candidate;
    }
    const result = { ms: before.ms + takes(check), chain: [...before.chain, check] };
    longest.set(check.name, result);
    return result;
  };
  for (const check of checks) {
    const { ms, chain } = chainTo(check);
    // Warn where the chain first outgrows the deadline, not again for every check after it; and only
    // about budgets someone set: with the built-in timeout everywhere, the deadline is the only budget given.
    if (chain.length < 2 || ms <= deadlineMs || chainTo(chain[chain.length - 2]).ms > deadlineMs) continue;
    if (!chain.some((link) => input.timeoutSource(link))) continue;
    warn(
      `checks.${check.name}.dependsOn`,
      `the dependsOn chain ${chain.map((link) => link.name).join(" → ")} can take ${written(ms)} (${chain.map((link) => written(takes(link))).join(" + ")}), longer than ${deadlineText}: ${check.name} starts when the checks before it end, and may be cut short or never run`,
    );
  }
  return warnings;
}

/** A duration the way configs write it (2s, 250ms, 1.5s), so a warning reads like the file. */
function written(ms: number): string {
  if (ms < 1000) return `${Math.round(ms * 100) / 100}ms`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  return `${Math.round(ms / 10) / 100}s`;
}
