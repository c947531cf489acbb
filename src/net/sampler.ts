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
      worker = undefined;
      online = Promise.resolve(false);
    });
    started.on("exit", () => {
      worker = undefined;
      online = undefined;
    });
  });
  return online;
}

function dispatch(message: FromWorker): void {
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

/** Run one job in the worker; rejects with SamplerError, or with the signal's reason on abort. */
export async function sampleInWorker(job: SampleJob, progress: SampleProgress, signal: AbortSignal): Promise<SampleOutcome> {
  if (!(await startSampler()) || !worker) throw new Error("the sampling worker is not available");
  signal.throwIfAborted();
  const id = nextId++;
  const running = worker;
  return new Promise<SampleOutcome>((resolve, reject) => {
    const onAbort = () => {
      running.postMessage({ id, abort: true } satisfies ToWorker);
      finish(id);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const settle = <T>(fn: (value: T) => void) => (value: T) => {
      signal.removeEventListener("abort", onAbort);
      fn(value);
    };
    pending.set(id, { progress, resolve: settle(resolve), reject: settle(reject) });
    running.ref();
    running.postMessage({ id, job } satisfies ToWorker);
  });
}

/** For tests and benchmarks: end the worker (the next job starts a new one). */
export async function stopSampler(): Promise<void> {
  const running = worker;
  worker = undefined;
  online = undefined;
  await running?.terminate();
}
