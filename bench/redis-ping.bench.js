// The redis probe's PING p50 against the floor: a raw-socket PING to the same
// redis-server in the same run (RESP written by hand, no client library). Twice:
// with the redis check alone, and while a multi-check run is in flight (HTTP
// checks against slow in-process servers plus other redis checks), which is
// what the sampling lane is there for.
import http from "node:http";
import { once } from "node:events";
import { buildConfig } from "../dist/config/load.js";
import { runChecks } from "../dist/runner/run-checks.js";
import { buildReport } from "../dist/report/build.js";
import { startRedisServer } from "../dist/demo/redis-server.js";
import { median, rawRedisPingP50 } from "./lib.js";

export const title = "redis probe PING p50 vs a raw-socket PING p50 (same server, same run)";

const SAMPLES = 50;
const PASSWORD = "bench-Redis-pa55";
const HTTP_DELAYS_MS = [2, 5, 10, 20, 40, 80];
const OTHER_REDIS_CHECKS = 3;

/** p50 of `count` PINGs on one raw TCP connection (after AUTH and a warm-up PING). */
const rawPingP50 = (port, count) => rawRedisPingP50(port, PASSWORD, count);

async function runRedisCheck(checks) {
  const loaded = await buildConfig({ deadline: "20s", checks }, { dir: process.cwd(), defaultEnv: "bench", env: {} });
  const input = { env: "bench", deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes, strict: false };
  const report = buildReport(input, await runChecks(input));
  if (!report.ok) throw new Error(`bench run failed: ${JSON.stringify(report.rootCauses)}`);
  return report.checks.find((check) => check.name === "cache").metrics.pingP50Ms;
}

export default async function ({ runs }) {
  const redis = await startRedisServer({ password: PASSWORD });
  const server = http.createServer((req, res) => {
    const delay = Number(new URL(req.url, "http://x").searchParams.get("delay"));
    setTimeout(() => res.end(JSON.stringify({ status: "healthy" })), delay); // the endpoint's own latency
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const httpPort = server.address().port;
  const cache = { kind: "redis", url: redis.url, password: PASSWORD, samples: SAMPLES };
  const crowd = {
    cache,
    ...Object.fromEntries(HTTP_DELAYS_MS.map((delay) => [`http-${delay}ms`, { kind: "http", url: `http://127.0.0.1:${httpPort}/health?delay=${delay}` }])),
    ...Object.fromEntries(Array.from({ length: OTHER_REDIS_CHECKS }, (_, i) => [`redis-${i + 1}`, { ...cache, samples: 20, write: i === 0 }])),
  };
  try {
    // Warm-up: module loading and JIT for every path measured below.
    await rawPingP50(redis.port, SAMPLES);
    await runRedisCheck({ cache });
    await runRedisCheck(crowd);

    const raw = [];
    const alone = [];
    const loaded = [];
    for (let i = 0; i < runs; i += 1) {
      raw.push(await rawPingP50(redis.port, SAMPLES));
      alone.push(await runRedisCheck({ cache }));
      loaded.push(await runRedisCheck(crowd));
    }
    const rawP50 = median(raw);
    const row = (figure, values) => {
      const value = median(values);
      const ratio = value / rawP50;
      return {
        figure,
        value,
        unit: "ms",
        min: Math.min(...values),
        max: Math.max(...values),
        baseline: { label: "raw-socket PING p50", value: rawP50 },
        ratio,
        target: "≤ 1.5×",
        ok: ratio <= 1.5,
      };
    };
    return [
      row(`probe pingP50Ms, redis check alone (${SAMPLES} samples)`, alone),
      row(`probe pingP50Ms during a run of ${Object.keys(crowd).length} checks (${HTTP_DELAYS_MS.length} http, ${OTHER_REDIS_CHECKS + 1} redis)`, loaded),
    ];
  } finally {
    server.closeAllConnections();
    server.close();
    await redis.stop();
  }
}
