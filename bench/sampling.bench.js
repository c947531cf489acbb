// Where latency samples are taken, measured (issue 21). One redis-server; a
// redis check with 50 PING samples, alone and next to a check that burns the
// main thread in 20 ms slices (what SCRAM, TLS handshakes, JSON parsing or a
// Google client's start-up do to a shared event loop). Three ways to sample:
//   worker   — the sampling thread on its own connection (what ships)
//   lane     — the main thread, samples one at a time through the sampling lane (the fallback, and what was there before)
//   windows  — the main thread, with the CPU-heavy work taking turns with the samples through the same lane
//              ("sampling windows the runner keeps free of other CPU-heavy phases")
// Figures are ratios within this run: each way with the burner against the same way alone, and what the
// windows cost the other check (its slices per second against the burner running next to the worker).
import { buildConfig } from "../dist/config/load.js";
import { runChecks } from "../dist/runner/run-checks.js";
import { startRedisServer } from "../dist/demo/redis-server.js";
import { sampleOnMainThread } from "../dist/net/sampler.js";
import { median, rawRedisPingP50 } from "./lib.js";

export const title = "where latency samples are taken: sampling worker vs main-thread lane vs CPU-free windows, next to a CPU-burning check";

const SAMPLES = 50;
const SLICE_MS = 20;
const PASSWORD = "bench-Redis-pa55";

function burner({ windows }) {
  let stopped = false;
  let slices = 0;
  let startedAt = 0;
  let endedAt = 0;
  const probe = {
    kind: "burn",
    summary: "burns the main thread",
    schema: { safeParse: (value) => ({ success: true, data: value }), parse: (value) => value },
    metrics: {},
    diagnosis: { service: "the burner" },
    target: () => "burn://",
    async run(_spec, ctx) {
      startedAt = performance.now();
      const slice = async () => {
        const until = performance.now() + SLICE_MS;
        while (performance.now() < until);
      };
      while (!stopped && !ctx.signal.aborted) {
        // With windows, a slice takes its turn in the lane, so no sample's reply lands during one.
        if (windows) await ctx.sample(slice);
        else await slice();
        slices += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
      endedAt = performance.now();
    },
  };
  return {
    probe,
    spec: { name: "burn", kind: "burn", timeoutMs: 30_000, dependsOn: [], expect: {}, warn: {} },
    stop: () => (stopped = true),
    slicesPerSecond: () => (slices * 1000) / Math.max(1, endedAt - startedAt),
  };
}

async function measure(redis, { mainThread, burn }) {
  sampleOnMainThread(mainThread);
  const loaded = await buildConfig({ deadline: "30s", checks: { cache: { kind: "redis", url: redis.url, password: PASSWORD, samples: SAMPLES, timeout: "20s" } } }, { dir: process.cwd(), defaultEnv: "bench", env: {} });
  const probes = new Map(loaded.probes);
  const checks = [...loaded.checks];
  const burning = burn ? burner(burn) : undefined;
  if (burning) {
    probes.set("burn", burning.probe);
    checks.unshift(burning.spec);
  }
  let cache;
  await runChecks(
    { env: "bench", deadlineMs: 30_000, checks, probes },
    {
      onEvent: (event) => {
        if (event.type === "end" && event.result.name === "cache") {
          cache = event.result;
          burning?.stop();
        }
      },
    },
  );
  sampleOnMainThread(false);
  if (cache?.status === "fail") throw new Error(`bench check failed: ${JSON.stringify(cache.failure)}`);
  return { p50: cache.metrics.pingP50Ms, p95: cache.metrics.pingP95Ms, loopDelay: cache.metrics.pingLoopDelayMs, noisy: cache.metrics.pingNoisy, durationMs: cache.durationMs, slicesPerSecond: burning?.slicesPerSecond() };
}

export default async function ({ runs }) {
  const redis = await startRedisServer({ password: PASSWORD });
  try {
    const ways = {
      "worker alone": { mainThread: false },
      "worker + burner": { mainThread: false, burn: { windows: false } },
      "lane alone": { mainThread: true },
      "lane + burner": { mainThread: true, burn: { windows: false } },
      "windows + burner": { mainThread: true, burn: { windows: true } },
    };
    const figures = Object.fromEntries(Object.keys(ways).map((way) => [way, []]));
    const raw = [];
    for (const way of Object.keys(ways)) await measure(redis, ways[way]); // warm-up of every path
    for (let i = 0; i < runs; i += 1) {
      raw.push(await rawRedisPingP50(redis.port, PASSWORD, SAMPLES));
      // Interleaved, so a burst of load from other processes hits every way alike.
      for (const [way, options] of Object.entries(ways)) figures[way].push(await measure(redis, options));
    }
    const pick = (way, key) => figures[way].map((figure) => figure[key]).filter((value) => typeof value === "number");
    const m = (way, key) => median(pick(way, key));
    const row = (figure, way, key, baselineLabel, baseline, target, limit) => {
      const values = pick(way, key);
      const value = median(values);
      return { figure, value, unit: key === "slicesPerSecond" ? "/s" : "ms", min: Math.min(...values), max: Math.max(...values), baseline: { label: baselineLabel, value: baseline }, ratio: value / baseline, target, ok: limit === undefined ? undefined : value / baseline <= limit };
    };
    const rawP50 = median(raw);
    return [
      row(`worker: pingP50Ms alone (${SAMPLES} samples)`, "worker alone", "p50", "raw-socket PING p50", rawP50, "≤ 1.5×", 1.5),
      row("worker: pingP50Ms next to a check burning the main thread in 20 ms slices", "worker + burner", "p50", "worker alone", m("worker alone", "p50"), "≤ 1.5×", 1.5),
      row("worker: pingP95Ms next to the burner", "worker + burner", "p95", "worker alone", m("worker alone", "p95"), "≤ 2×", 2),
      row("lane (main thread): pingP50Ms next to the burner", "lane + burner", "p50", "lane alone", m("lane alone", "p50"), "—"),
      row("lane (main thread): pingP95Ms next to the burner", "lane + burner", "p95", "lane alone", m("lane alone", "p95"), "—"),
      row("windows (slices take turns with samples): pingP50Ms next to the burner", "windows + burner", "p50", "lane alone", m("lane alone", "p50"), "—"),
      row("windows: the redis check's duration", "windows + burner", "durationMs", "worker + burner", m("worker + burner", "durationMs"), "—"),
      row("windows: the burning check's slices per second", "windows + burner", "slicesPerSecond", "next to the worker", m("worker + burner", "slicesPerSecond"), "—"),
      row("worker: pingLoopDelayMs of the sampling thread next to the burner", "worker + burner", "loopDelay", "lane + burner (main loop)", m("lane + burner", "loopDelay"), "—"),
    ];
  } finally {
    sampleOnMainThread(false);
    await redis.stop();
  }
}
