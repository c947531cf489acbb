// The sampling worker's promise: latency samples taken while another check
// burns the main thread's CPU are close to samples taken alone. Not a timed
// test of how fast anything is — the bound is a generous factor between two
// figures of the same run; the benchmark (bench/sampling.bench.js) measures
// the alternatives and how big the difference is.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { buildConfig } from "../../src/config/load.js";
import { runChecks } from "../../src/runner/run-checks.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
import type { CheckResult } from "../../src/report/schema.js";
import type { CheckSpec, ProbeDefinition } from "../../src/probes/api.js";
import { sampleOnMainThread } from "../../src/net/sampler.js";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

/** A check that keeps the main thread busy in 20 ms slices (like SCRAM, TLS or a Google client's start-up) until told to stop. */
function burner(): { probe: ProbeDefinition; spec: CheckSpec; stop(): void; slices(): number } {
  let stopped = false;
  let slices = 0;
  const probe: ProbeDefinition = {
    kind: "burn",
    summary: "burns CPU on the main thread",
    schema: z.strictObject({}),
    metrics: {},
    diagnosis: { service: "the burner" },
    target: () => "burn://main-thread",
    async run(_spec, ctx) {
      while (!stopped && !ctx.signal.aborted) {
        const until = performance.now() + 20;
        while (performance.now() < until) slices += 0; // busy: nothing else runs on this loop meanwhile
        slices += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
  const spec: CheckSpec = { name: "burn", kind: "burn", timeoutMs: 20_000, dependsOn: [], expect: {}, warn: {} };
  return { probe, spec, stop: () => (stopped = true), slices: () => slices };
}

async function pingCheck(): Promise<{ spec: CheckSpec; probes: Map<string, ProbeDefinition> }> {
  const loaded = await buildConfig({ deadline: "20s", checks: { cache: { kind: "redis", url: redis.url, samples: 100, timeout: "15s" } } }, { dir: process.cwd(), defaultEnv: "test", env: {} });
  return { spec: loaded.checks[0], probes: loaded.probes };
}

describe("sampling isolation", () => {
  it("PING samples taken while a CPU-burning check runs are within a generous bound of samples taken alone", async () => {
    const { spec, probes } = await pingCheck();
    const alone = (await runChecks({ env: "test", deadlineMs: 20_000, checks: [spec], probes })).checks[0];
    expect(alone.status).toBe("pass");

    const burn = burner();
    const withBurner = new Map(probes).set("burn", burn.probe);
    let cache: CheckResult | undefined;
    await runChecks(
      { env: "test", deadlineMs: 20_000, checks: [burn.spec, spec], probes: withBurner },
      {
        onEvent: (event) => {
          if (event.type === "end" && event.result.name === "cache") {
            cache = event.result;
            burn.stop();
          }
        },
      },
    );
    expect(cache?.status).toBe("pass");
    // The burner really ran throughout the sampling: with 100 sub-millisecond PINGs, at least a few slices.
    expect(burn.slices()).toBeGreaterThan(2);
    expect(cache!.details?.sampler).toMatch(/^sampling thread/);

    const metric = (result: CheckResult, name: string) => result.metrics[name] as number;
    // On the main thread each reply would wait for the current 20 ms slice (p50 ≈ 10 ms); the
    // worker's stamps do not. The factor is generous: a busy 2-core machine moves both figures.
    expect(metric(cache!, "pingP50Ms")).toBeLessThan(metric(alone, "pingP50Ms") * 4 + 1);
    expect(metric(cache!, "pingP95Ms")).toBeLessThan(metric(alone, "pingP95Ms") * 4 + 3);
    expect(metric(cache!, "pingLoopDelayMs")).toBeTypeOf("number");
  });

  it("without the worker the samples are taken on the main thread, and the check says so", async () => {
    const { spec, probes } = await pingCheck();
    sampleOnMainThread(true);
    try {
      const result = (await runChecks({ env: "test", deadlineMs: 20_000, checks: [spec], probes })).checks[0];
      expect(result.status).toBe("pass");
      expect(result.details?.sampler).toMatch(/^main thread: the sampling worker is not available/);
      expect(result.metrics).toMatchObject({ pingSamples: 100, pingNoisy: expect.any(Boolean) });
    } finally {
      sampleOnMainThread(false);
    }
  });
});
