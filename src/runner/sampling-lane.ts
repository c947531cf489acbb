// Concurrent checks share one event loop: a PING whose reply lands while
// another check is parsing a TLS handshake is reported late (measured: 30–45 ms
// reported concurrently vs 1.5–13 ms sequentially for the same probes).
// Connections are set up in parallel, but latency samples go through this
// lane one at a time, so each sample's round trip has the event loop to itself.
//
// A sample holds the lane for at most `holdLimitMs`: a slow target (whose
// latency dwarfs any interference anyway) must not stall other checks'
// samples and eat their budgets.
export class SamplingLane {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly holdLimitMs = 20) {}

  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.tail = released;
    const start = async (): Promise<T> => {
      await waitOrAbort(previous, signal);
      const timer = setTimeout(release, this.holdLimitMs);
      try {
        return await fn();
      } finally {
        clearTimeout(timer);
        release();
      }
    };
    const result = start();
    result.catch(() => release());
    return result;
  }
}

function waitOrAbort(promise: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
