// The main thread's side of the sampling worker (src/net/sampler-worker.ts):
// one worker per process, started only when a kind that samples is prepared
// (so --help, validate and runs without Redis/PostgreSQL never load it),
// kept unref'd while idle so it never holds the process open. A job streams
// back its setup, each round trip and the worst event-loop delay the worker
// saw while sampling; an abort (the check's deadline) ends it at once.
import { Worker } from "node:worker_threads";
import type { FromWorker, SampleJob, ToWorker, WorkerError } from "./sampler-worker.js";

export type { SampleJob, RedisJob, PostgresJob } from "./sampler-worker.js";

export interface SampleProgress {
  /** Each round trip as it completes, so a job cut short keeps what it measured. */
  onRound(ms: number): void;
  /** The sampling connection is ready: its setup and the discarded warm-up round trip. */
  onSetup?(setupMs: number, warmupMs: number): void;
}

export interface SampleOutcome {
  /** The worst event-loop delay of the sampling thread while it sampled (null: the window was shorter than its timer's tick). */
  loopDelayMs: number | null;
}

/** A failure the worker reported, with the fields the classifier reads (code, severity) and where it happened. */
export class SamplerError extends Error {
  readonly code?: string;
  readonly severity?: string;
  readonly stage: WorkerError["stage"];
  readonly loopDelayMs: number | null;

  constructor(error: WorkerError, loopDelayMs: number | null) {
    super(error.message);
    this.name = error.name;
    if (error.code) this.code = error.code;
    if (error.severity) this.severity = error.severity;
    this.stage = error.stage;
    this.loopDelayMs = loopDelayMs;
  }
}

interface Pending {
  progress: SampleProgress;
  resolve(outcome: SampleOutcome): void;
  reject(error: Error): void;
}

let worker: Worker | undefined;
let online: Promise<boolean> | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();
/** Jobs whose last message (done or error) has not arrived: told when it does, even after the caller stopped listening. */
const unfinished = new Map<number, () => void>();

function finishedAll(): void {
  for (const finished of unfinished.values()) finished();
  unfinished.clear();
}

/**
 * The worker's file next to this module: `.ts` when running from src/ (Node strips the types; the
 * worker has no relative imports), `.js` from dist/ and the bundle (its own entry, same folder).
 */
function workerUrl(): URL {
  return new URL(import.meta.url.endsWith(".ts") ? "./sampler-worker.ts" : "./sampler-worker.js", import.meta.url);
}

/**
 * Start the worker (once per process). Resolves true when it is online, false
 * when it could not start — callers then sample on the main thread and say so.
 * Its start-up runs on its own thread: calling this in a kind's prepare() costs
 * the main loop next to nothing.
 */
export function startSampler(): Promise<boolean> {
  if (mainThreadOnly) return Promise.resolve(false);
  if (online) return online;
  online = new Promise<boolean>((resolve) => {
    let started: Worker;
    try {
      started = new Worker(workerUrl());
    } catch {
      resolve(false);
      return;
    }
    worker = started;
    started.unref();
    started.once("online", () => resolve(true));
    started.on("message", (message: FromWorker) => dispatch(message));
    started.on("error", (error) => {
      resolve(false);
      for (const job of pending.values()) job.reject(error as Error);
      pending.clear();
      finishedAll();
      worker = undefined;
      online = Promise.resolve(false);
    });
    started.on("exit", () => {
      finishedAll();
      worker = undefined;
      online = undefined;
    });
  });
  return online;
}

function dispatch(message: FromWorker): void {
  if (message.type === "done" || message.type === "error") {
    unfinished.get(message.id)?.();
    unfinished.delete(message.id);
  }
  const job = pending.get(message.id);
  if (!job) return;
  if (message.type === "setup") job.progress.onSetup?.(message.setupMs, message.warmupMs);
  else if (message.type === "round") job.progress.onRound(message.ms);
  else {
    finish(message.id);
    if (message.type === "done") job.resolve({ loopDelayMs: message.loopDelayMs });
    else job.reject(new SamplerError(message.error, message.loopDelayMs));
  }
}

function finish(id: number): void {
  pending.delete(id);
  // Idle, the worker must not keep the process alive.
  if (pending.size === 0) worker?.unref();
}

/** A job in the worker: its connection is set up at once; samples are taken on `sample()`. */
export interface SamplingJob {
  /** Resolves when the sampling connection is ready, or with why it could not be set up (then sample here instead). */
  ready: Promise<{ ok: true } | { ok: false; reason: string }>;
  /**
   * `ready`, waited for at most `waitMs` (the worker still booting on a loaded machine): a job not
   * ready by then is cancelled, and the caller samples on its own thread instead.
   */
  readyWithin(waitMs: number): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Take the samples; rejects with SamplerError, or with the signal's reason on abort. */
  sample(): Promise<SampleOutcome>;
  /** End the job (idempotent): the worker closes its connection. */
  cancel(): void;
  /**
   * Resolves when the worker is done with the job — after an abort, once it has
   * cancelled a statement still running on the server — or at once if it never ran there.
   */
  finished: Promise<void>;
}

/**
 * Start a job in the worker. Its connection is opened in parallel with the
 * caller's own session — on a 20 ms path that costs no wall time — and the
 * samples wait for `sample()`, so errors still come from the caller's
 * session first, where they are classified.
 */
export function beginSampling(job: SampleJob, progress: SampleProgress, signal: AbortSignal): SamplingJob {
  let markReady!: (value: { ok: true } | { ok: false; reason: string }) => void;
  const ready = new Promise<{ ok: true } | { ok: false; reason: string }>((resolve) => (markReady = resolve));
  let settle: { resolve(outcome: SampleOutcome): void; reject(error: Error): void } | undefined;
  let result: { outcome?: SampleOutcome; error?: Error } | undefined;
  let id = 0;
  let running: Worker | undefined;
  let done = false;
  let markFinished!: () => void;
  const finished = new Promise<void>((resolve) => (markFinished = resolve));
  const end = (outcome: { outcome?: SampleOutcome; error?: Error }) => {
    if (done) return;
    done = true;
    signal.removeEventListener("abort", onAbort);
    if (id) finish(id);
    const error = outcome.error;
    const reason = error instanceof SamplerError && error.message.startsWith("the sampling") ? error.message : `the sampling connection failed (${(error?.message ?? "ended").slice(0, 120)})`;
    markReady({ ok: false, reason });
    result = outcome;
    if (settle) outcome.error ? settle.reject(outcome.error) : settle.resolve(outcome.outcome!);
  };
  const onAbort = () => {
    if (id && running) running.postMessage({ id, abort: true } satisfies ToWorker);
    end({ error: signal.reason as Error });
  };
  signal.addEventListener("abort", onAbort, { once: true });
  void startSampler().then((ok) => {
    // Ended before it reached the worker, or no worker: nothing runs there.
    if (done || !ok || !worker) markFinished();
    if (done) return;
    if (!ok || !worker) return end({ error: new SamplerError({ name: "Error", message: "the sampling worker is not available", stage: "setup" }, null) });
    running = worker;
    id = nextId++;
    unfinished.set(id, markFinished);
    pending.set(id, {
      progress: {
        onRound: progress.onRound,
        onSetup: (setupMs, warmupMs) => {
          progress.onSetup?.(setupMs, warmupMs);
          markReady({ ok: true });
        },
      },
      resolve: (outcome) => end({ outcome }),
      reject: (error) => end({ error }),
    });
    running.ref();
    running.postMessage({ id, job } satisfies ToWorker);
  });
  return {
    ready,
    finished,
    async readyWithin(waitMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<{ ok: false; reason: string }>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, reason: `the sampling thread was not ready within ${Math.round(waitMs)} ms` }), Math.max(0, waitMs));
      });
      const outcome = await Promise.race([ready, late]);
      clearTimeout(timer);
      if (!outcome.ok) this.cancel();
      return outcome;
    },
    sample() {
      if (result) return result.error ? Promise.reject(result.error) : Promise.resolve(result.outcome!);
      running?.postMessage({ id, go: true } satisfies ToWorker);
      return new Promise((resolve, reject) => (settle = { resolve, reject }));
    },
    cancel() {
      if (done) return;
      if (id && running) running.postMessage({ id, abort: true } satisfies ToWorker);
      end({ error: new Error("sampling cancelled") });
    },
  };
}

let mainThreadOnly = false;

/** For tests and benchmarks: sample on the main thread (the fallback), as if the worker could not start. */
export function sampleOnMainThread(on: boolean): void {
  mainThreadOnly = on;
}

/** For tests and benchmarks: end the worker (the next job starts a new one). */
export async function stopSampler(): Promise<void> {
  const running = worker;
  worker = undefined;
  online = undefined;
  await running?.terminate();
}
