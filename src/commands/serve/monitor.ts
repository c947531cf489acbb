// The long-running side of `infra-check serve`: each check on its own
// schedule (`every:` or --every, jittered so checks drift apart instead of
// firing in lockstep), each cycle a run of the real runner under the config's
// budgets and deadline — the same code path as a one-shot run, with the
// check's dependencies handed in as their latest results. One cycle at a time
// per check: a scheduled cycle or a /probe that finds one running joins it.
// Memory is bounded by the config, not by uptime: the latest result, the last
// hour of latencies (at most MAX_POINTS) and a few numbers per check.
import type { LoadedConfig } from "../../config/load.js";
import type { Status } from "../../diagnose/vocabulary.js";
import type { CheckSpec } from "../../probes/api.js";
import type { Redactor } from "../../redact.js";
import { buildReport } from "../../report/build.js";
import type { CheckResult, RunReport } from "../../report/schema.js";
import { prepareProbes, runChecks, type RunOptions } from "../../runner/run-checks.js";

export const DEFAULT_EVERY_MS = 30_000;
/** Each interval is drawn from every × (1 ± JITTER). */
export const JITTER = 0.1;
/** The sparkline's window. */
export const HISTORY_MS = 60 * 60 * 1000;
/** A check run every second keeps its last MAX_POINTS cycles, not a whole hour of them. */
export const MAX_POINTS = 720;
/** How long stop() waits for cycles it aborted to close their clients. */
const STOP_GRACE_MS = 500;

export interface Point {
  /** End of the cycle, ms since the epoch. */
  atMs: number;
  durationMs: number;
  status: Status;
}

export interface CheckState {
  spec: CheckSpec;
  latest?: CheckResult;
  /** Wall clock (ms since the epoch) of the latest cycle's start and end. */
  startedAtMs?: number;
  endedAtMs?: number;
  /** Since when the check has had its current status. */
  sinceMs?: number;
  history: Point[];
  cycles: number;
  inflight?: Promise<CheckResult>;
  timer?: NodeJS.Timeout;
}

/** One JSON line of the log (stdout): a transition, a reload, the server's own life. */
export type LogEvent = Record<string, unknown> & { event: string };

export interface MonitorOptions {
  everyMs?: number;
  redactor: Redactor;
  /** Process environment: secret references and Google settings read it, as in a one-shot run. */
  env: NodeJS.ProcessEnv;
  strict?: boolean;
  /** Injected for tests (DNS failures, emulator clients). */
  runOptions?: Pick<RunOptions, "lookup" | "deps" | "now">;
  log: (event: LogEvent) => void;
  /** --verbose: the runner's log lines. */
  verbose?: (line: string) => void;
  /** Wall clock, ms since the epoch. */
  clock?: () => number;
  random?: () => number;
}

export interface CycleListener {
  /** A cycle ended and its result is the check's latest. */
  onCycle?(state: CheckState, result: CheckResult): void;
  /** A request for a cycle found one running and waits for it. */
  onJoin?(state: CheckState): void;
  /** A reload removed these checks. */
  onRemoved?(specs: CheckSpec[]): void;
}

export class Monitor {
  private config: LoadedConfig;
  private states = new Map<string, CheckState>();
  private readonly abort = new AbortController();
  private stopped = false;
  private changes = 0;
  private readonly listeners: CycleListener[] = [];
  private readonly clock: () => number;
  private readonly random: () => number;

  constructor(
    config: LoadedConfig,
    private readonly options: MonitorOptions,
  ) {
    this.config = config;
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    for (const spec of config.checks) this.states.set(spec.name, newState(spec));
  }

  /** Changes whenever a result is recorded or the config is reloaded: what is derived from the results may be kept until then. */
  get version(): number {
    return this.changes;
  }

  get env(): string {
    return this.config.env;
  }

  get file(): string | undefined {
    return this.config.file;
  }

  listen(listener: CycleListener): void {
    this.listeners.push(listener);
  }

  /** Every check in config order. */
  checks(): CheckState[] {
    return [...this.states.values()];
  }

  check(name: string): CheckState | undefined {
    return this.states.get(name);
  }

  /** The check's target as reports show it (credentials masked), known before it ever ran. */
  targetOf(spec: CheckSpec): string {
    return this.options.redactor.text(this.config.probes.get(spec.kind)?.target(spec) ?? "");
  }

  /** The latest result of every check that has one, in config order. */
  latest(): CheckResult[] {
    return this.checks().flatMap((state) => (state.latest ? [state.latest] : []));
  }

  /** Prepare the kinds once, then run every check's first cycle; resolves when all have a result. */
  async start(): Promise<void> {
    await this.prepare(this.config);
    await Promise.allSettled(this.checks().map((state) => this.cycle(state.spec.name)));
  }

  /**
   * A cycle of one check: the running one if there is one (joined: `joined`
   * is true), else a new one. Rejects only once the monitor is stopped.
   */
  cycle(name: string): Promise<CheckResult> & { joined?: boolean } {
    const state = this.states.get(name);
    if (!state) return Promise.reject(new Error(`unknown check ${name}`));
    if (state.inflight) {
      for (const listener of this.listeners) listener.onJoin?.(state);
      return Object.assign(state.inflight.then((result) => result), { joined: true });
    }
    if (this.stopped) return Promise.reject(new Error("stopping"));
    clearTimeout(state.timer);
    const run = this.runCycle(state);
    state.inflight = run;
    void run
      .catch((error: unknown) => this.options.log({ event: "cycle-error", severity: "ERROR", check: name, message: String((error as Error)?.message ?? error) }))
      .finally(() => {
        if (state.inflight === run) state.inflight = undefined;
        // A check dropped by a reload is not scheduled again.
        if (!this.stopped && this.states.get(name) === state) this.arm(state);
      });
    return Object.assign(run.then((result) => result), { joined: false });
  }

  private async runCycle(state: CheckState): Promise<CheckResult> {
    const config = this.config;
    const spec = state.spec;
    // A dependency that has no result yet (the first cycle, a check added by a reload) runs first.
    const dependencies = await Promise.all(
      spec.dependsOn.filter((name) => this.states.has(name)).map(async (name) => {
        const dependency = this.states.get(name)!;
        return dependency.latest ?? (await (dependency.inflight ?? this.cycle(name)));
      }),
    );
    const dependencySpecs = spec.dependsOn.flatMap((name) => this.states.get(name)?.spec ?? []);
    const startedAtMs = this.clock();
    const outcome = await runChecks(
      // A remote check (runner:) is one execution of its runner per cycle.
      { env: config.env, file: config.file, deadlineMs: config.deadlineMs, checks: [...dependencySpecs, spec], probes: config.probes, ...(config.runners?.size ? { runners: config.runners } : {}) },
      {
        ...this.options.runOptions,
        deps: { gcp: config.gcp, env: this.options.env, ...this.options.runOptions?.deps },
        redactor: this.options.redactor,
        strict: this.options.strict,
        previous: new Map(dependencies.map((result) => [result.name, result])),
        signal: this.abort.signal,
        prepared: true,
        ...(this.options.verbose ? { log: this.options.verbose } : {}),
      },
    );
    const result = outcome.checks.find((check) => check.name === spec.name)!;
    if (this.stopped) return result;
    this.record(state, result, startedAtMs);
    return result;
  }

  private record(state: CheckState, result: CheckResult, startedAtMs: number): void {
    const endedAtMs = this.clock();
    this.changes += 1;
    const before = state.latest;
    state.latest = result;
    state.startedAtMs = startedAtMs;
    state.endedAtMs = endedAtMs;
    state.cycles += 1;
    state.history.push({ atMs: endedAtMs, durationMs: result.durationMs, status: result.status });
    while (state.history.length > MAX_POINTS || (state.history.length && state.history[0].atMs < endedAtMs - HISTORY_MS)) state.history.shift();
    if (!before || before.status !== result.status) state.sinceMs = endedAtMs;
    if (!before || before.status !== result.status || failureKey(before) !== failureKey(result)) this.options.log(transition(before, result, endedAtMs, this.env));
    for (const listener of this.listeners) listener.onCycle?.(state, result);
  }

  /** The next cycle: every ± jitter after the latest one started (a cycle longer than that is followed at once). */
  private arm(state: CheckState): void {
    clearTimeout(state.timer);
    const everyMs = state.spec.everyMs ?? this.options.everyMs ?? DEFAULT_EVERY_MS;
    const intervalMs = everyMs * (1 + JITTER * (2 * this.random() - 1));
    const elapsedMs = this.clock() - (state.startedAtMs ?? this.clock());
    // Whole milliseconds, and a ref'd timer: Node forgets an emptied timer list only for ref'd timers,
    // and a list per distinct duration would otherwise pile up for as long as the interval.
    state.timer = setTimeout(() => void this.cycle(state.spec.name).catch(() => undefined), Math.max(0, Math.round(intervalMs - elapsedMs)));
  }

  /**
   * A new config (SIGHUP), already validated: checks that keep their name and
   * kind keep their history and status; new ones run now; removed ones stop.
   * Their running cycles finish, and are not recorded.
   */
  async reload(config: LoadedConfig): Promise<{ added: string[]; removed: string[]; kept: string[] }> {
    const previous = this.states;
    const next = new Map<string, CheckState>();
    for (const spec of config.checks) {
      const old = previous.get(spec.name);
      if (old && old.spec.kind === spec.kind) {
        old.spec = spec;
        next.set(spec.name, old);
      } else next.set(spec.name, newState(spec));
    }
    const removed = [...previous.values()].filter((state) => next.get(state.spec.name) !== state);
    for (const state of removed) clearTimeout(state.timer);
    this.config = config;
    this.states = next;
    this.changes += 1;
    for (const listener of this.listeners) listener.onRemoved?.(removed.map((state) => state.spec));
    await this.prepare(config);
    const added = [...next.values()].filter((state) => !state.latest && !state.inflight);
    for (const state of next.values()) if (state.latest && !state.inflight) this.arm(state);
    for (const state of added) void this.cycle(state.spec.name).catch(() => undefined);
    return {
      added: added.map((state) => state.spec.name),
      removed: removed.map((state) => state.spec.name),
      kept: [...next.values()].filter((state) => !added.includes(state)).map((state) => state.spec.name),
    };
  }

  /** The latest results as a report (`/report.json`, the `--format json` schema). */
  report(): RunReport {
    const states = this.checks().filter((state) => state.latest);
    const starts = states.map((state) => state.startedAtMs!);
    const ends = states.map((state) => state.endedAtMs!);
    const startedAtMs = starts.length ? Math.min(...starts) : this.clock();
    return buildReport(
      { env: this.config.env, ...(this.config.file ? { file: this.config.file } : {}), deadlineMs: this.config.deadlineMs, strict: this.options.strict ?? false },
      { startedAt: new Date(startedAtMs).toISOString(), durationMs: ends.length ? Math.max(...ends) - startedAtMs : 0, checks: states.map((state) => state.latest!) },
    );
  }

  /** Every check has a result and the report is ok (what /healthz answers). */
  healthy(): boolean {
    return this.checks().every((state) => state.latest) && this.report().ok;
  }

  /** No new cycle starts; running ones are aborted and given STOP_GRACE_MS to close their clients. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const state of this.states.values()) clearTimeout(state.timer);
    this.abort.abort(new Error("infra-check serve is stopping"));
    const running = this.checks().flatMap((state) => (state.inflight ? [state.inflight.catch(() => undefined)] : []));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(running), new Promise((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)))]);
    clearTimeout(timer);
  }

  private async prepare(config: LoadedConfig): Promise<void> {
    await prepareProbes({ env: config.env, deadlineMs: config.deadlineMs, checks: config.checks, probes: config.probes }, config.deadlineMs);
  }
}

function newState(spec: CheckSpec): CheckState {
  return { spec, history: [], cycles: 0 };
}

/** A change of diagnosis within a status (fail: auth → fail: timeout) is a transition too. */
function failureKey(result: CheckResult): string {
  return `${result.failure?.class ?? ""}/${result.failure?.code ?? ""}/${result.failure?.diagnosis ?? ""}`;
}

/** The log line of a transition: the fields a log pipeline alerts on, and one sentence for people. */
function transition(before: CheckResult | undefined, after: CheckResult, atMs: number, env: string): LogEvent {
  const from = before?.status ?? null;
  const failure = after.failure;
  const reason = failure ? `${failure.class}: ${failure.message}` : after.status === "blocked" ? `blocked by ${after.blockedBy.join(", ")}` : "";
  return {
    time: new Date(atMs).toISOString(),
    severity: after.status === "fail" || after.status === "blocked" ? "WARNING" : after.status === "warn" ? "NOTICE" : "INFO",
    event: "transition",
    env,
    check: after.name,
    kind: after.kind,
    from,
    to: after.status,
    ...(failure ? { class: failure.class } : {}),
    ...(failure?.code ? { code: failure.code } : {}),
    ...(failure?.diagnosis ? { diagnosis: failure.diagnosis } : {}),
    ...(before?.failure && before.failure.class !== failure?.class ? { fromClass: before.failure.class } : {}),
    ...(failure ? { reason: failure.message, hint: failure.hint } : {}),
    ...(after.blockedBy.length ? { blockedBy: after.blockedBy } : {}),
    durationMs: after.durationMs,
    message: `${after.name}: ${from ?? "start"} → ${after.status}${reason ? ` (${reason})` : ""}`,
  };
}
