// Round trips timed at the socket: from a request's bytes being handed to
// the kernel to the arrival of the chunk that carries the answer. What a
// client library does around that — building commands, parsing replies,
// resolving promises — is not network or server latency (on loopback it was
// more than half of the wall-clock figure), so it is not reported as such.
// Shared by every kind that samples a request/response protocol.
import type { Socket } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { percentile, roundMs } from "../util/stats.js";

/**
 * Stamps on one socket, for the duration of the samples: `writtenAt` when
 * bytes go out (clients that cork around one request hand them to the kernel
 * at uncork), `chunkAt` when a chunk arrives — the stamp listener runs before
 * the client's own parser.
 */
export class SocketStamps {
  writtenAt = 0;
  chunkAt = 0;
  private readonly write: Socket["write"];
  private readonly uncork: Socket["uncork"];
  private readonly onData = () => {
    this.chunkAt = performance.now();
  };

  constructor(private readonly stream: Socket) {
    const stamps = this;
    const { write, uncork } = stream;
    this.write = write;
    this.uncork = uncork;
    // Our own socket instance, patched for the samples only (restore() puts the methods back).
    stream.write = function (this: Socket, ...args: Parameters<Socket["write"]>) {
      if (!this.writableCorked) stamps.writtenAt = performance.now();
      return write.apply(this, args);
    } as Socket["write"];
    stream.uncork = function (this: Socket) {
      stamps.writtenAt = performance.now();
      uncork.call(this);
    };
    stream.prependListener("data", this.onData);
  }

  /** The round trip of a request started at `startedAt` and answered by the chunk stamped at `answeredAt` (the call's own end when a stamp is missing). */
  roundTrip(startedAt: number, answeredAt: number, endedAt: number): number {
    return (answeredAt > startedAt ? answeredAt : endedAt) - (this.writtenAt >= startedAt ? this.writtenAt : startedAt);
  }

  restore(): void {
    this.stream.off("data", this.onData);
    this.stream.write = this.write;
    this.stream.uncork = this.uncork;
  }
}

/**
 * Below this many samples the 95th percentile by nearest rank is simply the
 * slowest sample (with 10 samples rank ⌈9.5⌉ = 10): one scheduling hiccup
 * would become "p95". Fewer samples report `<op>MaxMs` under its own name and
 * no `<op>P95Ms` at all.
 */
export const MIN_P95_SAMPLES = 20;

/** `{ pingP50Ms, pingP95Ms, pingMaxMs, pingSamples }` for op "ping" (`pingP95Ms` only from MIN_P95_SAMPLES samples). */
export function roundTripMetrics(op: string, rounds: readonly number[]): Record<string, number> {
  return {
    [`${op}P50Ms`]: roundMs(percentile(rounds, 50)),
    ...(rounds.length >= MIN_P95_SAMPLES ? { [`${op}P95Ms`]: roundMs(percentile(rounds, 95)) } : {}),
    [`${op}MaxMs`]: roundMs(Math.max(...rounds)),
    [`${op}Samples`]: rounds.length,
  };
}

/** For a metric table: an expectation on `<op>P95Ms` needs `samples` ≥ MIN_P95_SAMPLES (the flag or key that sets it is named by the loader). */
export function p95Requires(op: string): (spec: { samples?: unknown }) => string | undefined {
  return (spec) => {
    const samples = typeof spec.samples === "number" ? spec.samples : undefined;
    if (samples === undefined || samples >= MIN_P95_SAMPLES) return undefined;
    return `${op}P95Ms is a 95th percentile, reported from at least ${MIN_P95_SAMPLES} samples; samples is ${samples}: raise samples to ${MIN_P95_SAMPLES} or more, or bound ${op}MaxMs (the slowest sample) instead`;
  };
}

/** Why `<op>P95Ms` is absent (details.percentiles), or undefined when it is reported. */
export function percentileNote(op: string, taken: number): string | undefined {
  if (taken >= MIN_P95_SAMPLES) return undefined;
  return `${op}P95Ms needs at least ${MIN_P95_SAMPLES} samples (${taken} taken): with fewer, the 95th percentile is the slowest sample, reported as ${op}MaxMs`;
}

/**
 * A sample set is `noisy` when the loop that stamped it was delayed by more
 * than this fraction of the figure reported: a reply that arrived during
 * the delay was stamped late by up to that much, so the figure may be as
 * much ours as the server's. Delays under NOISE_FLOOR_MS are the delay
 * monitor's own timer slack (measured idle: 0.05–0.09 ms), not a stall.
 */
export const NOISE_FRACTION = 0.5;
export const NOISE_FLOOR_MS = 0.2;

/** `{ pingLoopDelayMs, pingNoisy }`: the worst event-loop delay while sampling, and whether it may have inflated the figure (p95, else the max). */
export function loopDelayMetrics(op: string, loopDelayMs: number | null, metrics: Readonly<Record<string, unknown>>): Record<string, number | boolean> {
  if (loopDelayMs === null) return { [`${op}Noisy`]: false };
  const figure = (metrics[`${op}P95Ms`] ?? metrics[`${op}MaxMs`]) as number | undefined;
  const noisy = figure !== undefined && loopDelayMs > NOISE_FLOOR_MS && loopDelayMs > NOISE_FRACTION * figure;
  return { [`${op}LoopDelayMs`]: roundMs(loopDelayMs), [`${op}Noisy`]: noisy };
}

/**
 * How long a probe waits for the sampling worker's connection once its own
 * session is ready (at most a quarter of what is left of the budget): the
 * worker boots in 15–25 ms on an idle machine but 150–400 ms on a 2-core one
 * running 16 processes (measured), and its first PostgreSQL session loads pg
 * and logs in. Numbers that can be trusted are worth that wait on a loaded
 * runner — which is where the main thread's are least trustworthy; past it,
 * the samples are taken on the main thread and the check says so.
 */
export const SAMPLER_WAIT_MS = 1000;

/** Watch this thread's event loop while samples are taken on it (the main-thread fallback); `stop()` gives the worst delay, as the worker reports it. */
export function watchLoop(): { stop(): number | null } {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return histogram.count === 0 ? null : Math.max(0, histogram.max / 1e6 - 1);
    },
  };
}
