// The postgres probe against pgbench (libpq, C) on the same server in the same
// run: the probe's SELECT 1 p50 vs pgbench's average latency with one client,
// and the probe's connect phase (TCP + startup + SCRAM until ReadyForQuery)
// vs pgbench -C's average connection time. Both sides use sslmode prefer
// against a server without TLS, the same role, password and database.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildConfig } from "../dist/config/load.js";
import { runChecks } from "../dist/runner/run-checks.js";
import { buildReport } from "../dist/report/build.js";
import { startPostgres } from "../dist/demo/postgres.js";
import { median } from "./lib.js";

export const title = "postgres probe SELECT 1 p50 and connect time vs pgbench (same server, same run)";

const SAMPLES = 200;
const PGBENCH_TRANSACTIONS = 2000;
const CONNECT_RUNS = 30;
const ROLE = { name: "app", password: "bench-Postgres-pa55" };
const run = promisify(execFile);

async function probe(server, samples) {
  const check = { kind: "postgres", url: `postgres://${ROLE.name}@127.0.0.1:${server.port}/app`, password: ROLE.password, samples };
  const loaded = await buildConfig({ deadline: "30s", checks: { db: { ...check, timeout: "20s" } } }, { dir: process.cwd(), defaultEnv: "bench", env: {} });
  const input = { env: "bench", deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes, strict: false };
  const report = buildReport(input, await runChecks(input));
  const result = report.checks[0];
  if (result.status !== "pass") throw new Error(`bench check failed: ${JSON.stringify(result.failure)}`);
  return result.metrics;
}

/** pgbench's own figure (ms) from its report, e.g. "latency average = 0.052 ms". */
async function pgbench(server, script, args, label) {
  const env = { PATH: process.env.PATH, PGHOST: "127.0.0.1", PGPORT: String(server.port), PGUSER: ROLE.name, PGPASSWORD: ROLE.password, PGDATABASE: "app", PGSSLMODE: "prefer" };
  const { stdout } = await run(path.join(server.binDir, "pgbench"), ["-n", "-c", "1", "-f", script, ...args], { env });
  const match = new RegExp(`${label} = ([0-9.]+) ms`).exec(stdout);
  if (!match) throw new Error(`pgbench printed no "${label}":\n${stdout}`);
  return Number(match[1]);
}

export default async function ({ runs }) {
  const server = await startPostgres({ databases: ["app"], roles: [ROLE] });
  const dir = await mkdtemp(path.join(tmpdir(), "infra-check-bench-pg-"));
  const script = path.join(dir, "select1.sql");
  await writeFile(script, "SELECT 1;\n");
  try {
    // Warm-up: module loading and JIT on our side, caches on the server's.
    await probe(server, SAMPLES);
    await pgbench(server, script, ["-t", "200"], "latency average");

    const probeP50 = [];
    const pgbenchLatency = [];
    const pgbenchExtended = [];
    const probeConnect = [];
    const pgbenchConnect = [];
    for (let i = 0; i < runs; i += 1) {
      probeP50.push((await probe(server, SAMPLES)).queryP50Ms);
      pgbenchLatency.push(await pgbench(server, script, ["-t", String(PGBENCH_TRANSACTIONS)], "latency average"));
      pgbenchExtended.push(await pgbench(server, script, ["-M", "extended", "-t", String(PGBENCH_TRANSACTIONS)], "latency average"));
      const connects = [];
      for (let j = 0; j < CONNECT_RUNS; j += 1) connects.push((await probe(server, 1)).connectMs);
      probeConnect.push(median(connects));
      pgbenchConnect.push(await pgbench(server, script, ["-C", "-t", String(CONNECT_RUNS * 4)], "average connection time"));
    }
    const row = (figure, values, baseline, max) => {
      const value = median(values);
      const ratio = value / baseline.value;
      return { figure, value, unit: "ms", min: Math.min(...values), max: Math.max(...values), baseline, ratio, target: `≤ ${max}×`, ok: ratio <= max };
    };
    return [
      row(`probe queryP50Ms, SELECT 1 (${SAMPLES} samples, extended protocol)`, probeP50, { label: "pgbench -c 1 latency average", value: median(pgbenchLatency) }, 2),
      row(`probe queryP50Ms, SELECT 1 (${SAMPLES} samples, extended protocol)`, probeP50, { label: "pgbench -c 1 -M extended latency average", value: median(pgbenchExtended) }, 2),
      row(`probe connectMs (TCP + SSLRequest + SCRAM startup), median of ${CONNECT_RUNS}`, probeConnect, { label: "pgbench -C average connection time", value: median(pgbenchConnect) }, 2),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
    await server.stop();
  }
}
