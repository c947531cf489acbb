// The probe contract. A kind declares what it is (config schema, target,
// secrets), what it measures (a metric table: unit and the failure class of
// a missed expectation), how it is judged (default expectations, extra pure
// assertions, relations with the kinds it depends on), how its errors read
// (its catalogue entries and error rules), and its one-off command. While it
// runs it gets a ProbeContext: the budget and its own inner deadline, a phase
// timer, the sampling lane, and the one place to put what it observed —
// which survives a throw by construction, since the runner reads it from the
// context whether the probe returned or not.
import type { ZodType } from "zod";
import type { Assertion, ClassifiedError, Expectation, FailureClass, MetricValue, Status } from "../diagnose/vocabulary.js";
import type { Catalogue, Explanation, Facts } from "../diagnose/catalogue.js";
import type { ErrorRule, Refinements } from "../diagnose/classify.js";
import type { LookupFn } from "../net/resolve.js";
import type { TlsSpec } from "../net/tls.js";
import type { InnerDeadline } from "../util/deadline.js";

export type { LookupFn, TlsSpec, InnerDeadline };

/** Fields every check has, whatever its kind. */
export interface CheckSpecBase {
  name: string;
  kind: string;
  timeoutMs: number;
  dependsOn: string[];
  expect: Record<string, Expectation>;
  warn: Record<string, Expectation>;
  /** Per-check override of the top-level `regression:` settings (baseline comparison). */
  regression?: { factor?: number; minDelta?: string | number; action?: "warn" | "fail"; runs?: number };
  /** `every:`: how often `infra-check serve` runs the check (one-shot runs ignore it). */
  everyMs?: number;
  /**
   * `runner:` (or --runner): the runner that runs the check, absent for this
   * machine. With it, `shipped` is the check as the job receives it: the
   * config's own shape, ${VAR}s interpolated, secret-free (src/config/runners.ts).
   */
  runner?: string;
  shipped?: Record<string, unknown>;
}

/** One validated check: common fields plus the kind's own fields. */
export type CheckSpec<K extends object = Record<string, unknown>> = CheckSpecBase & K;

/** What a probe observed. Serialisable; judged afterwards, as often as wanted (a saved report is re-judged offline). */
export interface Measurement {
  /** Phases that happened, in order of completion. Phases that never happened are absent, not zero. */
  phasesMs: Record<string, number>;
  metrics: Record<string, MetricValue>;
  error?: ClassifiedError;
  /** Extra evidence for humans (body excerpt, messages that arrived instead). Already bounded. */
  details?: Record<string, MetricValue>;
  /** Short labels shown next to the check (e.g. "load test"). */
  labels?: string[];
}

export interface PhaseTimer {
  /** Time `fn` as phase `name`; the phase is recorded only when it completes. */
  time<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Record a phase measured elsewhere (e.g. from client hooks). */
  record(name: string, ms: number): void;
  /** Forget a phase that turned out not to be this session's (a discarded attempt). */
  discard(name: string): void;
  /** Mark a phase as started (for "which phase was in progress" diagnostics). */
  start(name: string): void;
  /** The phase in progress, or the last one started. */
  readonly current: string | undefined;
  /** When it started (the timer's clock). */
  readonly currentStartedAt?: number;
  /** Phases completed so far. */
  readonly phasesMs: Readonly<Record<string, number>>;
}

/** A finished check this one depends on, as a relation sees it. */
export interface DependencyResult {
  name: string;
  kind: string;
  status: Status;
  target: string;
  metrics: Record<string, MetricValue>;
}

export interface ProbeContext {
  signal: AbortSignal;
  /** The check's budget in ms (already min(own timeout, run remaining − margin)). */
  budgetMs: number;
  /** ms left of this check's budget. */
  remainingMs(): number;
  /** The probe's own end of the budget, a margin before the runner's: waits end here with their own message. */
  deadline: InnerDeadline;
  phases: PhaseTimer;
  /** Bounded, abortable DNS lookup; injectable for tests. */
  lookup: LookupFn;
  /**
   * Run a latency sample in the serialised sampling lane: only one sample runs at a
   * time across all concurrent checks, so reported round trips are not inflated by
   * other checks' work on the same event loop.
   */
  sample<T>(fn: () => Promise<T>): Promise<T>;
  /** Register a secret value discovered at run time (Secret Manager, minted token) so every output scrubs it. */
  addSecret(value: string): void;
  /** Results of the checks this one depends on (all passed or warned). */
  dependencies: ReadonlyMap<string, DependencyResult>;
  /** What was observed, kept whether the probe returns or throws. */
  metrics: Record<string, MetricValue>;
  details: Record<string, MetricValue>;
  labels: string[];
  /**
   * What the classifier may read to word a failure (the endpoint dialled, the
   * ACL user, the Google call in flight): facts, never fields stuck onto errors.
   */
  facts: Facts;
  /** Injected dependencies, keyed by name (e.g. GCP client factory, clock). */
  deps: ProbeDeps;
  /** Verbose log line to stderr (secrets scrubbed). */
  log(message: string): void;
}

export interface ProbeDeps {
  [name: string]: unknown;
}

/** What a metric is: its unit, and the class a missed expectation on it gives the check. */
export interface MetricInfo<K extends object = any> {
  unit?: "ms" | "count" | "ratio" | "bytes" | "days" | "percent";
  /** The class of a failed assertion on this metric; a function when the measured value decides (HTTP 401 → auth). */
  class: FailureClass | ((actual: MetricValue | undefined, spec: CheckSpec<K>, metric: string) => FailureClass);
  /** One line for docs and `--help`. */
  description?: string;
  /**
   * The phase a timing measures (`ping` for pingP95Ms), or "composite" for a
   * total of several (`totalMs`): a slow failure names the slowest phase only
   * when that is what the metric measured. A `<phase>Ms` metric measures that phase.
   */
  phase?: string;
  /**
   * Why a check configured like `spec` can never measure this metric (a p95
   * from fewer than 20 samples), or undefined: an expectation on it is then a
   * config error, said before anything is contacted, not "not measured" at run time.
   */
  requires?(spec: CheckSpec<K>): string | undefined;
  /**
   * Word a failed assertion in the resource's own terms (a state that is not
   * READY says what the state means), with a catalogue entry.
   */
  explain?(actual: MetricValue | undefined, expectation: Expectation, measurement: Measurement, spec: CheckSpec<K>): Explained | undefined;
}

export type Explained = Explanation;

export type MetricTable<K extends object = any> = Readonly<Record<string, MetricInfo<K>>>;

/** What a kind knows about the kinds it depends on: pure functions of its spec and their results. */
export interface Relations<K extends object = any> {
  /** Before the probe runs: a contradiction between this check's inputs and what a dependency measured fails it without connecting. */
  preflight?(spec: CheckSpec<K>, dependencies: ReadonlyMap<string, DependencyResult>): ClassifiedError | undefined;
  /** After: assertions of this measurement against the dependencies' results. */
  assert?(spec: CheckSpec<K>, measurement: Measurement, dependencies: ReadonlyMap<string, DependencyResult>): Assertion[];
}

/** How a kind's failures read. */
export interface KindDiagnosis<K extends object = any> {
  /** What is being reached, for generic messages ("Redis was never contacted"). */
  service: string;
  /** The kind's own catalogue entries (ids prefixed with its layer). */
  catalogue?: Catalogue;
  /** Error rules consulted before the generic Node ones. */
  rules?: readonly ErrorRule[];
  /** Better hints for generic entries, by entry id. */
  refine?: Refinements;
  /** Whether the first bytes a peer sent are this kind's protocol (so "not Redis: it sent SSH-2.0…" can be said). */
  speaks?: (firstBytes: string) => boolean;
  /** Hints by class for failed assertions (slow, drift, …), more specific than the generic ones. */
  hints?: Partial<Record<FailureClass, string | ((spec: CheckSpec<K>, failure: ClassifiedError, measurement?: Measurement) => string)>>;
}

export interface OneOffOption {
  flags: string;
  description: string;
  defaultValue?: string | boolean | string[];
  /** Repeatable flag collected into an array. */
  repeatable?: boolean;
}

/** A wait a check's spec bounds itself: its key under the check (`welcome.within`) and its length. */
export interface BoundedWait {
  key: string;
  ms: number;
}

/** How a kind exposes itself as `infra-check <command> TARGET [flags]`. */
export interface OneOffCommand {
  command: string;
  argument: string;
  /**
   * What the argument looks like, one form a line after the command
   * (`redis://HOST:PORT`, `HOST:PORT`): the argument's description in
   * --help, and what a usage error shows instead of flags people bring
   * from other tools (redis-cli's `-h HOST` is --help here).
   */
  forms?: string[];
  description: string;
  options: OneOffOption[];
  /** Extra help text (examples). */
  examples?: string[];
  /** Build the raw check config (as it would appear in YAML) from the argument and parsed flags. */
  toRawCheck(argument: string, options: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown>;
  /** The kind's config keys as its flags, for failures of a one-off (`welcome.within` → `--within`). */
  flagsFor?: readonly (readonly [RegExp, string])[];
}

export interface ProbeDefinition<K extends object = any> {
  kind: string;
  /** One line for --help and docs. */
  summary: string;
  /**
   * Zod schema of the kind's own fields (common fields are added by the config
   * schema). Must be a strict object so unknown keys are errors.
   */
  schema: ZodType<K>;
  /** Metrics `expect`/`warn` may name. */
  metrics: MetricTable<K>;
  /** Dynamic metric families (`json.` paths, `header.` names). */
  metricPrefixes?: MetricTable<K>;
  /** Expectations applied when the config does not set the metric (http status 2xx, a resource's state READY). */
  defaultExpect?(spec: CheckSpec<K>): Record<string, Expectation>;
  /** Extra pure judgement beyond expect/warn (e.g. drift lists). */
  judge?(spec: CheckSpec<K>, measurement: Measurement): Assertion[];
  /**
   * One line of what a check that passed measured, in the kind's own terms
   * (`PONG p50 0.19 ms · p95 0.69 ms · redis 7.0.15 master`): the figures
   * people read a passing row for. Pure; shown as the check's `summary`.
   */
  passLine?(measurement: Measurement, spec: CheckSpec<K>): string | undefined;
  relations?: Relations<K>;
  diagnosis: KindDiagnosis<K>;
  /**
   * The waits the spec bounds itself (`within:`). One longer than the check's
   * timeout can never run its course — the budget ends first — so the config
   * warns about it; the kind only says what its waits are.
   */
  waits?(spec: CheckSpec<K>): BoundedWait[];
  /** Redacted display target. */
  target(spec: CheckSpec<K>): string;
  /** Secret values in the spec (passwords, tokens, header values) for redaction. */
  secrets?(spec: CheckSpec<K>): string[];
  /**
   * Load heavy modules before any check's clock starts. Importing a client
   * library is synchronous CPU work on the shared event loop: done inside a
   * check it would be reported as other checks' latency. Best effort: a
   * failure here surfaces when the check itself runs.
   */
  prepare?(specs: CheckSpec<K>[]): Promise<void>;
  /**
   * Evidence for a check that came out `slow` or `timeout` (the resource's own
   * metrics: CPU, memory, connections), written into `ctx.details`. Run by the
   * runner after the judgement, in a budget of its own no longer than the
   * check's and within the run's deadline; it never changes a status, and a
   * failure of its own is a line in the details, not the check's failure.
   */
  evidence?(spec: CheckSpec<K>, measurement: Measurement, ctx: ProbeContext): Promise<void>;
  /** Observe, into ctx. Throw on failure (raw client errors are fine: the runner classifies them). */
  run(spec: CheckSpec<K>, ctx: ProbeContext): Promise<void>;
  oneOff?: OneOffCommand;
}

/** The class a failed assertion on `metric` gives, from the kind's metric table (timings are slow, the rest unhealthy). */
export function metricInfo(probe: Pick<ProbeDefinition, "metrics" | "metricPrefixes">, metric: string): MetricInfo | undefined {
  if (Object.hasOwn(probe.metrics, metric)) return probe.metrics[metric];
  for (const [prefix, info] of Object.entries(probe.metricPrefixes ?? {})) if (metric.startsWith(prefix)) return info;
  return undefined;
}
