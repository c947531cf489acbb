// The probe contract: what a kind declares (its config schema, metrics,
// judgement, diagnoses, one-off flags) and what the runner hands it while it
// runs (the budget, phases, the sampling lane, where to put observations).
import type { ZodType } from "zod";
import type { Assertion, ClassifiedError, Expectation, FailureClass, MetricValue } from "../diagnose/vocabulary.js";
import type { CheckResult } from "../report/schema.js";
import type { LookupFn } from "../net/resolve.js";
import type { TlsSpec } from "../net/tls.js";

export type { LookupFn, TlsSpec };

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
}

/** One validated check: common fields plus the kind's own fields. */
export type CheckSpec<K extends object = Record<string, unknown>> = CheckSpecBase & K;

/** What a probe observed. Serialisable; judged later by evaluate(). */
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
  /** Mark a phase as started (for "which phase was in progress" diagnostics). */
  start(name: string): void;
  /** The phase in progress, or the last one started. */
  readonly current: string | undefined;
  /** Phases completed so far. */
  readonly phasesMs: Record<string, number>;
}

export interface ProbeContext {
  signal: AbortSignal;
  /** The check's budget in ms (already min(own timeout, run remaining − margin)). */
  budgetMs: number;
  /** ms left of this check's budget. */
  remainingMs(): number;
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
  dependencies: ReadonlyMap<string, CheckResult>;
  /**
   * Partial observations, kept even when the probe throws (e.g. the handshake
   * time of a WebSocket whose welcome never came). Merged into the result.
   */
  metrics: Record<string, MetricValue>;
  details: Record<string, MetricValue>;
  /** Injected dependencies, keyed by name (e.g. GCP client factory, clock). */
  deps: ProbeDeps;
  /** Verbose log line to stderr (secrets scrubbed). */
  log(message: string): void;
}

export interface ProbeDeps {
  [name: string]: unknown;
}

export interface OneOffOption {
  flags: string;
  description: string;
  defaultValue?: string | boolean | string[];
  /** Repeatable flag collected into an array. */
  repeatable?: boolean;
}

/** How a probe kind exposes itself as `infra-check <command> URL [flags]`. */
export interface OneOffCommand {
  command: string;
  argument: string;
  description: string;
  options: OneOffOption[];
  /** Extra help text (examples). */
  examples?: string[];
  /** Build the raw check config (as it would appear in YAML) from the argument and parsed flags. */
  toRawCheck(argument: string, options: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown>;
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
  /** Metric names `expect`/`warn` may use; `prefixes` allow dynamic ones like `json.`. */
  metrics: { names: string[]; prefixes?: string[] };
  /** The class a failed assertion on `metric` gives (default: slow for *Ms metrics, else unhealthy). */
  assertionClass?(metric: string, actual: MetricValue | undefined, spec: CheckSpec<K>): FailureClass;
  /** Expectations applied when the config does not set the metric (e.g. http status 2xx). */
  defaultExpect?(spec: CheckSpec<K>): Record<string, Expectation>;
  /** Extra pure judgement beyond expect/warn (e.g. drift lists). */
  judge?(spec: CheckSpec<K>, measurement: Measurement): Assertion[];
  /** Redacted display target. */
  target(spec: CheckSpec<K>): string;
  /** Secret values in the spec (passwords, tokens, header values) for redaction. */
  secrets?(spec: CheckSpec<K>): string[];
  /**
   * Hints by failure class, more specific than the generic ones. `measurement` is what the
   * probe observed (absent when judging without one): e.g. the resource name it resolved
   * from the config's defaults, which the spec alone does not hold.
   */
  hints?: Partial<Record<FailureClass, string | ((spec: CheckSpec<K>, failure: ClassifiedError, measurement?: Measurement) => string)>>;
  /**
   * Load heavy modules before any check's clock starts. Importing a client
   * library is synchronous CPU work on the shared event loop: done inside a
   * check it would be reported as other checks' latency. Best effort: a
   * failure here surfaces when the check itself runs.
   */
  prepare?(specs: CheckSpec<K>[]): Promise<void>;
  /** Measure. Throw on failure (raw client errors are fine: the runner classifies them). */
  run(spec: CheckSpec<K>, ctx: ProbeContext): Promise<Measurement>;
  oneOff?: OneOffCommand;
}

/** A failure a probe has already understood (semantic failure, not a client error). */
export class ProbeFailure extends Error {
  readonly failureClass: FailureClass;
  readonly code?: string;
  readonly hint?: string;
  readonly details?: Record<string, MetricValue>;
  readonly metrics?: Record<string, MetricValue>;
  /** The phase the failure belongs to, when it is not the one in progress (e.g. "preflight"). */
  readonly phase?: string;
  constructor(
    failureClass: FailureClass,
    message: string,
    options: {
      code?: string;
      hint?: string;
      cause?: unknown;
      details?: Record<string, MetricValue>;
      metrics?: Record<string, MetricValue>;
      phase?: string;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ProbeFailure";
    this.failureClass = failureClass;
    this.code = options.code;
    this.hint = options.hint;
    this.details = options.details;
    this.metrics = options.metrics;
    this.phase = options.phase;
  }
}

