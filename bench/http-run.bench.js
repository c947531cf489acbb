// A run of N HTTP checks against servers of different speeds, against the
// slowest of them alone: concurrency should make the run cost ~one check.
import http from "node:http";
import { once } from "node:events";
import { buildConfig } from "../dist/config/load.js";
import { runChecks } from "../dist/runner/run-checks.js";
import { buildReport } from "../dist/report/build.js";
import { median } from "./lib.js";

export const title = "N HTTP checks in one run vs the slowest single check";
const DELAYS_MS = [5, 10, 20, 40, 80, 120, 160, 200];

async function run(checks) {
  const loaded = await buildConfig({ deadline: "10s", checks }, { dir: process.cwd(), defaultEnv: "bench", env: {} });
  const started = performance.now();
  const input = { env: "bench", deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes, strict: false };
  const report = buildReport(input, await runChecks(input));
  const elapsed = performance.now() - started;
  if (!report.ok) throw new Error(`bench run failed: ${JSON.stringify(report.rootCauses)}`);
  return elapsed;
}

export default async function ({ runs }) {
  const server = http.createServer((req, res) => {
    const delay = Number(new URL(req.url, "http://x").searchParams.get("delay"));
    setTimeout(() => res.end("ok"), delay); // the server's latency under test
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  const check = (delay) => ({ kind: "http", url: `http://127.0.0.1:${port}/?delay=${delay}` });
  try {
    const all = Object.fromEntries(DELAYS_MS.map((delay) => [`d${delay}`, check(delay)]));
    const slowest = { slowest: check(Math.max(...DELAYS_MS)) };
    await run(all); // warm-up: JIT, module loading
    const allTimes = [];
    const slowTimes = [];
    for (let i = 0; i < runs; i += 1) {
      allTimes.push(await run(all));
      slowTimes.push(await run(slowest));
    }
    const ratio = median(allTimes) / median(slowTimes);
    return [
      {
        figure: `run of ${DELAYS_MS.length} HTTP checks (5–200 ms servers)`,
        value: median(allTimes),
        unit: "ms",
        min: Math.min(...allTimes),
        max: Math.max(...allTimes),
        baseline: { label: "slowest check alone", value: median(slowTimes) },
        ratio,
        target: "≤ 1.2×",
        ok: ratio <= 1.2,
      },
    ];
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
