// A full local run — 3 redis + 3 postgres + 2 websocket + 1 http checks against
// the local stack — measured three ways, all in one run:
// 1. the spawned CLI (`infra-check run --config …`, what a deploy job runs)
//    against the same checks as a shell script of the peer CLIs a user would
//    write instead: redis-cli PING, psql SELECT 1, curl, and a `ws` client
//    (bench/support/ws-check.mjs; Debian has no websocat), one after another;
// 2. the whole run (in-process) against its slowest check run alone:
//    concurrency should make nine checks cost about one;
// 3. the redis probe's reported PING p50 while the other eight checks are in
//    flight, against a raw-socket PING p50 to the same server (the floor).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildConfig } from "../dist/config/load.js";
import { runChecks } from "../dist/runner/run-checks.js";
import { buildReport } from "../dist/report/build.js";
import { BIN, ROOT, exec, hasCommand, median, rawRedisPingP50, ratioRow, runCli, startBenchStack, timeCommands } from "./lib.js";

export const title = "full local run (3 redis, 3 postgres, 2 websocket, 1 http) vs peer CLIs, vs its slowest check, PING p50 under load";

const PEERS = ["redis-cli", "psql", "curl"];
const RAW_PING_SAMPLES = 50;

/** The nine checks, as config data (${BENCH_*} from the stack's env). */
function checks() {
  const redis = (db) => ({ kind: "redis", url: `redis://127.0.0.1:\${BENCH_REDIS_PORT}/${db}`, password: "${BENCH_REDIS_PASSWORD}" });
  const postgres = () => ({ kind: "postgres", url: "postgres://app@127.0.0.1:${BENCH_PG_PORT}/app", password: "${BENCH_PG_PASSWORD}" });
  const websocket = () => ({
    kind: "websocket",
    url: "${BENCH_CHAT_URL}",
    headers: { Authorization: "Bearer ${BENCH_CHAT_TOKEN}" },
    subprotocols: ["agent_chat"],
    welcome: { match: { "payload.event": "connection_established" } },
    // The peer script's ws client closes after the welcome; the same work here (the default 250 ms hold watches for a late close).
    hold: false,
  });
  return {
    "cache-1": redis(0),
    "cache-2": redis(1),
    "cache-3": redis(2),
    "db-1": postgres(),
    "db-2": postgres(),
    "db-3": postgres(),
    "chat-1": websocket(),
    "chat-2": websocket(),
    health: { kind: "http", url: "${BENCH_HEALTH_URL}" },
  };
}

/** The same nine checks as the shell script a user would write with the peer CLIs. */
function peerScript({ parallel }) {
  const lines = [
    ...[0, 1, 2].map((db) => `redis-cli -h 127.0.0.1 -p "$BENCH_REDIS_PORT" -n ${db} ping | grep -qx PONG`),
    ...[1, 2, 3].map(() => `psql -X -w -Atq -h 127.0.0.1 -p "$BENCH_PG_PORT" -U app -d app -c 'SELECT 1' | grep -qx 1`),
    ...[1, 2].map(() => `node ${JSON.stringify(path.join(ROOT, "bench/support/ws-check.mjs"))} "$BENCH_CHAT_URL"`),
    `curl -fsS -o /dev/null --max-time 5 "$BENCH_HEALTH_URL"`,
  ];
  const body = parallel
    ? `pids=""\n${lines.map((line) => `( ${line} ) & pids="$pids $!"`).join("\n")}\nfor pid in $pids; do wait "$pid"; done`
    : lines.join("\n");
  return `#!/bin/sh\n# The nine checks of bench/full-run.bench.js with peer CLIs${parallel ? ", all at once" : ""}.\nset -e\nexport REDISCLI_AUTH="$BENCH_REDIS_PASSWORD" PGPASSWORD="$BENCH_PG_PASSWORD"\n${body}\n`;
}

/** The failing checks of a JSON report (or the raw text when it is not one). */
function failures(stdout) {
  try {
    const report = JSON.parse(stdout);
    return JSON.stringify(report.checks.filter((check) => check.status !== "pass").map((check) => ({ name: check.name, status: check.status, failure: check.failure })));
  } catch {
    return stdout.slice(0, 2000);
  }
}

async function runInProcess(stack, selection) {
  const loaded = await buildConfig({ env: "bench", deadline: "20s", defaults: { timeout: "5s" }, checks: selection }, { dir: ROOT, defaultEnv: "bench", env: stack.env });
  const started = performance.now();
  const input = { env: "bench", deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes, strict: false };
  const report = buildReport(input, await runChecks(input));
  const elapsed = performance.now() - started;
  if (!report.ok) throw new Error(`bench run failed: ${JSON.stringify(report.checks.filter((check) => check.status !== "pass").map((check) => ({ name: check.name, failure: check.failure })))}`);
  return { elapsed, report };
}

export default async function ({ runs, log }) {
  const missing = PEERS.filter((name) => !hasCommand(name));
  const stack = await startBenchStack();
  const dir = mkdtempSync(path.join(tmpdir(), "infra-check-bench-full-"));
  try {
    const rows = [];
    const all = checks();

    // 1. Spawned CLI against the peer-CLI script.
    const configFile = path.join(dir, "bench.yaml");
    writeFileSync(configFile, JSON.stringify({ env: "bench", deadline: "20s", defaults: { timeout: "5s" }, checks: all }, null, 2)); // JSON is YAML
    const cliCommand = `${process.execPath} ${BIN} run --config ${configFile} --format json --quiet`;
    const trial = await runCli(["run", "--config", configFile, "--format", "json", "--quiet"], { env: stack.env });
    if (trial.code !== 0) throw new Error(`infra-check run exited ${trial.code}: ${trial.stderr}${failures(trial.stdout)}`);
    // Where the spawned CLI's time goes: start-up and config loading (spawn → the report's
    // startedAt, when the runner began; ms resolution) and the run itself (checks, with the
    // client libraries imported lazily, cold; then the report and exit). The report's own
    // durationMs counts from the process start, since --deadline bounds the whole process.
    const inRun = [];
    const aroundRun = [];
    for (let i = 0; i < runs; i += 1) {
      const spawnedAt = Date.now();
      const result = await runCli(["run", "--config", configFile, "--format", "json", "--quiet"], { env: stack.env });
      const { startedAt } = JSON.parse(result.stdout);
      const startUpMs = Math.max(0, Date.parse(startedAt) - spawnedAt);
      aroundRun.push(startUpMs);
      inRun.push(result.elapsedMs - startUpMs);
    }
    if (missing.length) {
      log(`peer CLIs missing (${missing.join(", ")}): install redis-tools postgresql-client curl (scripts/setup.sh)`);
    } else {
      for (const parallel of [false, true]) {
        const script = path.join(dir, parallel ? "peers-parallel.sh" : "peers.sh");
        writeFileSync(script, peerScript({ parallel }));
        await exec("sh", [script], { env: { ...process.env, ...stack.env }, timeoutMs: 30_000 }); // it works before it is timed
      }
      const [cli, peers, peersParallel] = await timeCommands([cliCommand, `sh ${path.join(dir, "peers.sh")}`, `sh ${path.join(dir, "peers-parallel.sh")}`], { runs: Math.max(runs * 2, 10), env: stack.env });
      rows.push(ratioRow("infra-check run, 9 checks (spawned CLI)", cli.times, { label: "peer CLIs one after another (sh)", value: peers.median }, { max: 0.5 }));
      rows.push(ratioRow("infra-check run, 9 checks (spawned CLI)", cli.times, { label: "peer CLIs all at once (sh &, wait)", value: peersParallel.median }));
    }
    rows.push(ratioRow("  of which the run, report and exit (cold)", inRun, { label: "whole process", value: median(inRun) + median(aroundRun) }));
    rows.push(ratioRow("  of which start-up and config loading", aroundRun, { label: "whole process", value: median(inRun) + median(aroundRun) }));

    // 2. The whole run against its slowest check alone (in-process: no process start).
    await runInProcess(stack, all); // warm-up: module loading, JIT, connection set-up paths
    const whole = [];
    const alone = Object.fromEntries(Object.keys(all).map((name) => [name, []]));
    const reportedPingP50 = [];
    const rawPingP50 = [];
    for (let i = 0; i < runs; i += 1) {
      rawPingP50.push(await rawRedisPingP50(stack.redis.port, stack.env.BENCH_REDIS_PASSWORD, RAW_PING_SAMPLES));
      const { elapsed, report } = await runInProcess(stack, all);
      whole.push(elapsed);
      for (const check of report.checks) if (check.kind === "redis") reportedPingP50.push(check.metrics.pingP50Ms);
      for (const name of Object.keys(all)) alone[name].push((await runInProcess(stack, { [name]: all[name] })).elapsed);
    }
    const aloneMedians = Object.entries(alone).map(([name, times]) => [name, median(times)]);
    const [slowestName, slowestMs] = aloneMedians.reduce((a, b) => (b[1] > a[1] ? b : a));
    log(`checks alone (median ms): ${aloneMedians.map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(", ")}`);
    rows.push(ratioRow("whole run, 9 checks (in-process, warm)", whole, { label: `slowest check alone (${slowestName})`, value: slowestMs }, { max: 1.2 }));
    // On loopback the checks are CPU-bound (SCRAM, TLS-free handshakes, parsing) and share 1 event loop
    // and the machine's cores with the servers: the sum of the checks alone is the other bound.
    rows.push(ratioRow("whole run, 9 checks (in-process, warm)", whole, { label: "sum of the checks alone", value: aloneMedians.reduce((sum, [, ms]) => sum + ms, 0) }));

    // 3. What the redis checks report while the run is in flight, against the floor.
    const floor = median(rawPingP50);
    const row = ratioRow("redis pingP50Ms reported during the full run", reportedPingP50, { label: `raw-socket PING p50 (${RAW_PING_SAMPLES} samples)`, value: floor });
    const within = row.value <= floor * 1.5 || row.value <= floor + 0.1;
    rows.push({ ...row, target: "≤ 1.5× or + 0.1 ms", ok: within });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stack.stop();
  }
}
