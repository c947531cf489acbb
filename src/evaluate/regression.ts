// Regression detection against a baseline. Pure: saved reports in, per-check
// verdicts out, so a run can be compared offline with any history.
//
// A check's latency metrics are its phase timings (phasesMs, keyed as
// `<phase>Ms` so `welcome` and `welcomeMs` are one metric) and every numeric
// metric named `*Ms` (totalMs, rttP95Ms, …). The baseline of a metric is the
// median over the last N runs of the same environment in which the check
// worked (status pass or warn): a failed run's timings are those of a timeout,
// not of normal service. A metric regresses when it is both `factor` times the
// baseline and `minDelta` above it, so loopback jitter (0.1 → 0.3 ms) never
// counts while 420 ms → 1.31 s does.
import type { Assertion, Failure, Status } from "../diagnose/vocabulary.js";
import type { BaselineBlock, BaselineSummary, CheckResult, MetricBaseline, RunReport } from "../report/schema.js";
import { formatMs, parseDurationMs } from "../util/duration.js";
import { median, roundMs } from "../util/stats.js";

/** `regression:` as written in the config (top level or per check). */
export interface RegressionConfig {
  factor?: number;
  minDelta?: string | number;
  action?: "warn" | "fail";
  runs?: number;
}

export interface RegressionSettings {
  factor: number;
  minDeltaMs: number;
  action: "warn" | "fail";
  runs: number;
}

export const DEFAULT_REGRESSION: RegressionSettings = { factor: 2, minDeltaMs: 50, action: "warn", runs: 10 };

export type { BaselineBlock, MetricBaseline };

/** Where the baseline comes from: a history folder (median of runs) or one saved report. */
export interface BaselineSource {
  kind: "history" | "report";
  /** Path as shown to the user. */
  source: string;
  reports: RunReport[];
}

/** Global settings overridden key by key by a check's own `regression:`. */
export function resolveRegression(global?: RegressionConfig, override?: RegressionConfig): RegressionSettings {
  const pick = <K extends keyof RegressionConfig>(key: K) => override?.[key] ?? global?.[key];
  const minDelta = pick("minDelta");
  return {
    factor: pick("factor") ?? DEFAULT_REGRESSION.factor,
    minDeltaMs: minDelta !== undefined ? (parseDurationMs(minDelta) ?? DEFAULT_REGRESSION.minDeltaMs) : DEFAULT_REGRESSION.minDeltaMs,
    action: pick("action") ?? DEFAULT_REGRESSION.action,
    runs: pick("runs") ?? DEFAULT_REGRESSION.runs,
  };
}

/** Both conditions, so a tiny baseline cannot turn jitter into a "10× regression". */
export function isRegression(valueMs: number, baselineMs: number, settings: Pick<RegressionSettings, "factor" | "minDeltaMs">): boolean {
  return valueMs >= settings.factor * baselineMs && valueMs - baselineMs >= settings.minDeltaMs;
}

/** The smallest value that counts as a regression, for messages ("expected < 840 ms"). */
export function regressionThreshold(baselineMs: number, settings: Pick<RegressionSettings, "factor" | "minDeltaMs">): number {
  return Math.max(settings.factor * baselineMs, baselineMs + settings.minDeltaMs);
}

/** Phase timings as `<phase>Ms`, then numeric `*Ms` metrics (a metric wins over a phase of the same name). */
export function latencyMetrics(check: Pick<CheckResult, "phasesMs" | "metrics">): Record<string, number> {
  const found: Record<string, number> = {};
  for (const [phase, ms] of Object.entries(check.phasesMs ?? {})) {
    if (isTiming(ms)) found[`${phase}Ms`] = ms;
  }
  for (const [name, value] of Object.entries(check.metrics ?? {})) {
    if (name.endsWith("Ms") && isTiming(value)) found[name] = value;
  }
  return found;
}

function isTiming(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/** A check's result counts towards a baseline when it worked: its timings are real measurements. */
export function countsForBaseline(check: Pick<CheckResult, "status">): boolean {
  return check.status === "pass" || check.status === "warn";
}

/**
 * Per-metric median of `check` over the newest `runs` reports in which it
 * worked. `reports` may be in any order; newest is by `startedAt`.
 */
export function baselineOf(reports: RunReport[], checkName: string, runs: number): Record<string, { value: number; runs: number }> {
  const newestFirst = [...reports].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  const samples = new Map<string, number[]>();
  let used = 0;
  for (const report of newestFirst) {
    if (used >= runs) break;
    const check = report.checks.find((candidate) => candidate.name === checkName);
    if (!check || !countsForBaseline(check)) continue;
    used += 1;
    for (const [metric, ms] of Object.entries(latencyMetrics(check))) {
      const list = samples.get(metric) ?? [];
      list.push(ms);
      samples.set(metric, list);
    }
  }
  return Object.fromEntries([...samples].map(([metric, values]) => [metric, { value: roundMs(median(values)), runs: values.length }]));
}

/** value/baseline, 2 decimals; null when the baseline is 0. */
export function ratioOf(valueMs: number, baselineMs: number): number | null {
  return baselineMs > 0 ? Math.round((valueMs / baselineMs) * 100) / 100 : null;
}

export function formatRatio(ratio: number | null): string {
  if (ratio === null) return "∞×";
  return `${ratio < 10 ? ratio.toFixed(1) : Math.round(ratio)}×`;
}

/** "welcomeMs 1.31 s vs 420 ms baseline, 3.1×" */
export function describeRegression(metric: string, entry: Pick<MetricBaseline, "baseline" | "value" | "ratio">): string {
  return `${metric} ${formatMs(entry.value)} vs ${formatMs(entry.baseline)} baseline, ${formatRatio(entry.ratio)}`;
}

/** What a slower phase usually means, to point at the next thing to look at. */
const PHASE_ADVICE: Record<string, string> = {
  dns: "name resolution got slower: check the resolver this runner uses and the record's TTL",
  connect: "reaching the server got slower: check the network path (VPC connector, egress, proxies) and cold starts",
  tls: "the TLS handshake got slower: check the certificate chain and whether the server is CPU-starved",
  auth: "authentication got slower: check the server's auth backend and password hashing cost",
  upgrade: "the WebSocket upgrade got slower: the server (or a proxy in front of it) is slower to accept sessions",
  welcome: "the server takes longer to greet a session: read its logs for what happens on connect (auth lookups, cache warm-up, DB calls)",
  ttfb: "the server takes longer to answer: read its logs and latency around the deploy",
  query: "queries take longer: check the database's load, locks and recent schema or plan changes",
  transfer: "the response takes longer to arrive: it grew, or the link got slower",
};

/** The regressed metric to name in the hint: a phase other than the total, by largest slowdown. */
function culprit(regressed: [string, MetricBaseline][], phasesMs: Record<string, number>): { metric: string; phase?: string; entry: MetricBaseline } {
  const withPhase = regressed.map(([metric, entry]) => {
    const phase = metric.slice(0, -2);
    return { metric, entry, phase: Object.hasOwn(phasesMs, phase) ? phase : undefined };
  });
  const rank = (item: (typeof withPhase)[number]) => (item.phase && item.phase !== "total" ? 2 : /^total/.test(item.metric) ? 0 : 1);
  withPhase.sort((a, b) => rank(b) - rank(a) || b.entry.value - b.entry.baseline - (a.entry.value - a.entry.baseline));
  return withPhase[0];
}

function hintFor(regressed: [string, MetricBaseline][], phasesMs: Record<string, number>, source: Pick<BaselineSource, "kind" | "source">): { hint: string; phase?: string } {
  const { metric, phase, entry } = culprit(regressed, phasesMs);
  const against =
    isOneReport(source)
      ? `the saved report ${source.source}`
      : entry.runs === 1
        ? `the last working run in ${source.source}`
        : `the median of the last ${entry.runs} working runs in ${source.source}`;
  const what = phase ? `The ${phase} phase regressed` : `${metric} regressed`;
  const advice = PHASE_ADVICE[phase ?? ""] ?? "look at what changed in that step since the baseline runs (deploy, config, load)";
  return {
    phase,
    hint:
      `${what} (${formatMs(entry.value)} vs ${formatMs(entry.baseline)}, ${formatRatio(entry.ratio)} ${against}): ${advice}. ` +
      `If the slowdown is expected, raise regression.factor / regression.minDelta for this check.`,
  };
}

// Regressed metrics first by how much later they made the check, totals last.
function orderForMessage(regressed: [string, MetricBaseline][]): [string, MetricBaseline][] {
  return [...regressed].sort(
    ([a, x], [b, y]) => Number(/^total/.test(a)) - Number(/^total/.test(b)) || y.value - y.baseline - (x.value - x.baseline),
  );
}

/** What a check is compared with: the reference medians, how, and where they come from (for hints). */
export interface CheckBaseline {
  settings: RegressionSettings;
  /** Per metric: the baseline value and how many runs it is the median of. */
  reference: Record<string, { value: number; runs: number }>;
  source: Pick<BaselineSource, "kind" | "source">;
}

export interface RegressionVerdict {
  block: BaselineBlock;
  /** Regressed metrics, as assertions of the action's severity (class slow). */
  assertions: Assertion[];
  /** The headline when the regression decides the status (set by the caller's rule, see judge.ts). */
  failure?: Failure;
}

/**
 * A measurement's latency metrics against its baseline: the `baseline`
 * block, and for each regression an assertion whose severity is the
 * configured action. Undefined when no metric has a reference.
 */
export function judgeRegression(measured: Pick<CheckResult, "phasesMs" | "metrics">, baseline: CheckBaseline): RegressionVerdict | undefined {
  const { settings } = baseline;
  const block: BaselineBlock = {};
  for (const [metric, value] of Object.entries(latencyMetrics(measured))) {
    const reference = baseline.reference[metric];
    if (!reference) continue;
    block[metric] = {
      baseline: reference.value,
      value,
      ratio: ratioOf(value, reference.value),
      regressed: isRegression(value, reference.value, settings),
      runs: reference.runs,
    };
  }
  if (Object.keys(block).length === 0) return undefined;
  const regressed = orderForMessage(Object.entries(block).filter(([, entry]) => entry.regressed));
  const assertions: Assertion[] = regressed.map(([metric, entry]) => ({
    metric,
    op: "<",
    expected: `< ${formatMs(regressionThreshold(entry.baseline, settings))} (${settings.factor}× baseline ${formatMs(entry.baseline)}, at least +${formatMs(settings.minDeltaMs)})`,
    actual: entry.value,
    ok: false,
    severity: settings.action,
    class: "slow",
  }));
  if (regressed.length === 0) return { block, assertions };
  const { hint, phase } = hintFor(regressed, measured.phasesMs, baseline.source);
  return {
    block,
    assertions,
    failure: { class: "slow", message: regressed.map(([metric, entry]) => describeRegression(metric, entry)).join("; "), hint, source: "baseline", ...(phase ? { phase } : {}) },
  };
}

/** The saved runs a run is compared with: a history's runs of the same env, or the one saved report whatever its env. */
function comparable(source: BaselineSource, env: string): RunReport[] {
  switch (source.kind) {
    case "history":
      return source.reports.filter((candidate) => candidate.env === env);
    case "report":
      return source.reports;
  }
}

/** One saved report (`--baseline FILE`) rather than a history folder. */
function isOneReport(source: Pick<BaselineSource, "kind">): boolean {
  switch (source.kind) {
    case "report":
      return true;
    case "history":
      return false;
  }
}

/** How many saved runs a baseline is the median of. */
function medianOver(source: BaselineSource, settings: RegressionSettings): number {
  return isOneReport(source) ? 1 : settings.runs;
}

/** The references for one check from a baseline source (reports of the same env, or the one saved report). */
export function referenceFor(source: BaselineSource, env: string, checkName: string, settings: RegressionSettings): Record<string, { value: number; runs: number }> {
  return baselineOf(comparable(source, env), checkName, medianOver(source, settings));
}

/** `extras.baseline` of a run: what it was compared with and what regressed. */
export function baselineSummary(source: BaselineSource, env: string, checks: CheckResult[]): BaselineSummary {
  const reports = comparable(source, env);
  const withoutBaseline = checks.filter((check) => check.status !== "blocked" && check.status !== "interrupted" && !check.baseline).map((check) => check.name);
  const regressions = checks.flatMap((check) =>
    orderForMessage(Object.entries(check.baseline ?? {}).filter(([, entry]) => entry.regressed)).map(([metric, entry]) => ({
      check: check.name,
      metric,
      baseline: entry.baseline,
      value: entry.value,
      ratio: entry.ratio,
    })),
  );
  return {
    kind: source.kind,
    source: source.source,
    reports: reports.length,
    ...(withoutBaseline.length ? { checksWithoutBaseline: withoutBaseline } : {}),
    regressions,
  };
}

// ---------------------------------------------------------------- compare two reports

export interface MetricDiff {
  metric: string;
  old?: number;
  new?: number;
  /** new − old, when both exist. */
  deltaMs?: number;
  ratio?: number | null;
  regressed: boolean;
}

export interface CheckDiff {
  name: string;
  kind: string;
  oldStatus?: Status;
  newStatus?: Status;
  statusChanged: boolean;
  metrics: MetricDiff[];
}

export interface ReportDiff {
  old: { env: string; startedAt: string; ok: boolean };
  new: { env: string; startedAt: string; ok: boolean };
  checks: CheckDiff[];
  regressions: number;
}

/** Per-check, per-metric differences of two saved reports; `regressed` uses the same rule as a baseline run. */
export function diffReports(
  oldReport: RunReport,
  newReport: RunReport,
  settings: Pick<RegressionSettings, "factor" | "minDeltaMs"> = DEFAULT_REGRESSION,
): ReportDiff {
  const oldByName = new Map(oldReport.checks.map((check) => [check.name, check]));
  const names = [...newReport.checks.map((check) => check.name), ...oldReport.checks.map((check) => check.name).filter((name) => !newReport.checks.some((check) => check.name === name))];
  let regressions = 0;
  const checks = names.map((name): CheckDiff => {
    const before = oldByName.get(name);
    const after = newReport.checks.find((check) => check.name === name);
    const oldMetrics = before ? latencyMetrics(before) : {};
    const newMetrics = after ? latencyMetrics(after) : {};
    const metricNames = [...Object.keys(newMetrics), ...Object.keys(oldMetrics).filter((metric) => !(metric in newMetrics))];
    const metrics = metricNames.map((metric): MetricDiff => {
      const o = oldMetrics[metric];
      const n = newMetrics[metric];
      if (o === undefined || n === undefined) return { metric, old: o, new: n, regressed: false };
      const regressed = isRegression(n, o, settings);
      if (regressed) regressions += 1;
      return { metric, old: o, new: n, deltaMs: roundMs(n - o), ratio: ratioOf(n, o), regressed };
    });
    return {
      name,
      kind: (after ?? before)!.kind,
      oldStatus: before?.status,
      newStatus: after?.status,
      statusChanged: before?.status !== after?.status,
      metrics,
    };
  });
  return {
    old: { env: oldReport.env, startedAt: oldReport.startedAt, ok: oldReport.ok },
    new: { env: newReport.env, startedAt: newReport.startedAt, ok: newReport.ok },
    checks,
    regressions,
  };
}
