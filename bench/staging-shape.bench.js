// A staging-shaped run (issue 21): the demo stack (src/demo: redis-server,
// PostgreSQL, the chat and health servers, the Google API emulator) behind a
// latency-injecting TCP proxy (bench/support/latency-proxy.mjs, its own
// process): 1 ms round trips to Redis and PostgreSQL (same zone), 20 ms to the
// WebSocket and HTTP endpoints (cross-region), 80 ms to the Google APIs. A
// 12-check config shaped like config/staging.yaml (no dependsOn, so the run
// can cost one check). Figures, all from this run:
//   time to verdict ÷ the slowest check alone (goal ≤ 1.1×), in-process and spawned;
//   each sampled check's reported p50 while all twelve run ÷ the same p50 measured
//   by a raw client through the same proxy (goal within 5 %), and ÷ the injected RTT;
//   a sequential run (one check after another, what the seeds' scripts did) and a
//   shell script of the peer CLIs (redis-cli, psql, curl, a ws client; no Google
//   checks: gcloud is not installed), against the same verdict.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildConfig } from "../dist/config/load.js";
import { runChecks } from "../dist/runner/run-checks.js";
import { startLocalStack } from "../dist/demo/index.js";
import { BIN, ROOT, exec, hasCommand, median, percentile, runCli } from "./lib.js";

export const title = "staging-shaped run behind injected latency (1 / 20 / 80 ms): time to verdict vs the slowest check, reported p50 vs the path";

const RTT = { zone: 1, region: 20, google: 80 };

async function startProxy(routes) {
  const child = spawn(process.execPath, [path.join(ROOT, "bench/support/latency-proxy.mjs"), ...routes.map(([rtt, port]) => `${rtt}:${port}`)], { stdio: ["pipe", "pipe", "inherit"] });
  const [line] = await once(child.stdout, "data");
  const ports = JSON.parse(String(line));
  return { ports, stop: () => child.stdin.end() };
}

function config() {
  const redis = { kind: "redis", url: "redis://127.0.0.1:${P_REDIS}/0", password: { secret: "projects/demo-project/secrets/redis-password" }, samples: 20 };
  const postgres = { kind: "postgres", url: "postgres://app@127.0.0.1:${P_PG}/app", password: "${DEMO_PG_PASSWORD}" };
  return {
    env: "staging-shape",
    deadline: "20s",
    defaults: { timeout: "10s" },
    gcp: { project: "demo-project", region: "us-central1", emulatorHost: "127.0.0.1:${P_GCP}" },
    checks: {
      backend: { kind: "cloud-run", service: "chat-backend", expect: { image: "*:${DEMO_GIT_SHA}", vpcConnector: "demo-connector", vpcEgress: "PRIVATE_RANGES_ONLY" } },
      connector: { kind: "vpc-connector", name: "demo-connector" },
      "cache-instance": { kind: "memorystore", instance: "demo-redis", expect: { tier: "BASIC", authEnabled: true } },
      cache: { ...redis, expect: { pingP95Ms: "< 100ms" } },
      "cache-write": { ...redis, samples: 1, write: true },
      db: { ...postgres, query: "SELECT 1", samples: 20, expect: { queryP95Ms: "< 500ms" } },
      "db-connections": { ...postgres, query: "SELECT count(*) FROM pg_stat_activity", samples: 1, expect: { value: "< 18" } },
      "cache-tcp": { kind: "tcp", address: "127.0.0.1:${P_REDIS}" },
      "db-tcp": { kind: "tcp", address: "127.0.0.1:${P_PG}" },
      chat: {
        kind: "websocket",
        url: "ws://127.0.0.1:${P_CHAT}/ws",
        subprotocols: ["agent_chat"],
        token: { jwt: { secret: "${DEMO_CHAT_JWT_SECRET}", claims: { sub: "infra-check-bench" } } },
        welcome: { match: { "payload.event": "connection_established" }, within: "2s" },
        ping: 20,
        hold: false,
      },
      health: { kind: "http", url: "http://127.0.0.1:${P_HEALTH}/health", expect: { "json.status": "healthy" } },
      "health-version": { kind: "http", url: "http://127.0.0.1:${P_HEALTH}/health" },
    },
  };
}

async function runInProcess(env, only) {
  const raw = config();
  if (only) raw.checks = Object.fromEntries(Object.entries(raw.checks).filter(([name]) => only.includes(name)));
  const loaded = await buildConfig(raw, { dir: ROOT, defaultEnv: "bench", env });
  const input = { env: "bench", deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes, gcp: loaded.gcp };
  const started = performance.now();
  const outcome = await runChecks(input, { deps: { gcp: loaded.gcp, env } });
  const ms = performance.now() - started;
  const bad = outcome.checks.filter((check) => check.status === "fail" || check.status === "blocked");
  if (bad.length) throw new Error(`staging-shape run failed: ${JSON.stringify(bad.map((check) => ({ name: check.name, failure: check.failure })))}`);
  return { ms, checks: Object.fromEntries(outcome.checks.map((check) => [check.name, check])) };
}

/** p50 of `count` round trips of `request` on one raw socket through the proxy (the path's floor, same run). */
async function rawRoundTrips(port, setup, request, isAnswer, count = 20) {
  const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
  await once(socket, "connect");
  const roundTrip = (bytes) =>
    new Promise((resolve) => {
      let reply = "";
      const onData = (chunk) => {
        reply += chunk.toString("latin1");
        if (isAnswer(reply)) {
          socket.off("data", onData);
          resolve(reply);
        }
      };
      socket.on("data", onData);
      socket.write(bytes);
    });
  try {
    for (const bytes of setup) await roundTrip(bytes);
    const times = [];
    for (let i = 0; i < count + 1; i += 1) {
      const started = performance.now();
      await roundTrip(request);
      if (i > 0) times.push(performance.now() - started);
    }
    return percentile(times, 50);
  } finally {
    socket.destroy();
  }
}

export default async function ({ runs, log }) {
  const stack = await startLocalStack();
  const dir = mkdtempSync(path.join(tmpdir(), "infra-check-staging-shape-"));
  const gcpPort = Number(stack.env.DEMO_GCP_EMULATOR_HOST.split(":").pop());
  const proxy = await startProxy([
    [RTT.zone, stack.env.DEMO_REDIS_PORT],
    [RTT.zone, stack.env.DEMO_PG_PORT],
    [RTT.region, stack.env.DEMO_CHAT_PORT],
    [RTT.region, stack.env.DEMO_HEALTH_PORT],
    [RTT.google, gcpPort],
  ]);
  const env = {
    ...stack.env,
    P_REDIS: String(proxy.ports[stack.env.DEMO_REDIS_PORT]),
    P_PG: String(proxy.ports[stack.env.DEMO_PG_PORT]),
    P_CHAT: String(proxy.ports[stack.env.DEMO_CHAT_PORT]),
    P_HEALTH: String(proxy.ports[stack.env.DEMO_HEALTH_PORT]),
    P_GCP: String(proxy.ports[gcpPort]),
    METADATA_SERVER_DETECTION: "none",
  };
  try {
    const names = Object.keys(config().checks);
    await runInProcess(env); // warm-up: module loading, JIT, the Google clients' first channel
    const whole = [];
    const alone = Object.fromEntries(names.map((name) => [name, []]));
    const sequential = [];
    for (let i = 0; i < runs; i += 1) {
      whole.push(await runInProcess(env));
      let sum = 0;
      for (const name of names) {
        const single = await runInProcess(env, [name]);
        alone[name].push(single.ms);
        sum += single.ms;
      }
      sequential.push(sum);
    }
    const aloneMedian = Object.fromEntries(names.map((name) => [name, median(alone[name])]));
    const slowest = names.reduce((a, b) => (aloneMedian[a] >= aloneMedian[b] ? a : b));
    const wholeMs = whole.map((run) => run.ms);
    const rows = [];
    const ratio = (figure, values, label, baseline, target, limit, unit = "ms") => {
      const value = median(values);
      rows.push({ figure, value, unit, min: Math.min(...values), max: Math.max(...values), baseline: { label, value: baseline }, ratio: value / baseline, target, ok: limit === undefined ? undefined : value / baseline <= limit });
    };
    ratio("time to verdict, 12 checks (in-process)", wholeMs, `slowest check alone (${slowest})`, aloneMedian[slowest], "≤ 1.1×", 1.1);
    ratio("sequential run: the 12 checks one after another (in-process)", sequential, "time to verdict, all at once", median(wholeMs), "—");

    // Reported p50 while all twelve run, against the same path measured raw (the proxy's own timer precision included) and the nominal RTT.
    const redisFloor = await rawRoundTrips(Number(env.P_REDIS), [], "*1\r\n$4\r\nPING\r\n", (reply) => reply.endsWith("\r\n"));
    const httpFloor = await rawRoundTrips(Number(env.P_HEALTH), [], `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, (reply) => /\r\n\r\n[\s\S]*\}/.test(reply));
    const reported = (name, metric) => whole.map((run) => run.checks[name].metrics[metric]).filter((value) => typeof value === "number");
    ratio("cache pingP50Ms while all run", reported("cache", "pingP50Ms"), "raw PING through the same proxy", redisFloor, "within 5 %", 1.05);
    ratio("cache pingP50Ms while all run", reported("cache", "pingP50Ms"), "injected RTT", RTT.zone, "—");
    ratio("db queryP50Ms while all run", reported("db", "queryP50Ms"), "raw PING through the 1 ms proxy (same path shape)", redisFloor, "within 5 %", 1.05);
    ratio("db queryP50Ms while all run", reported("db", "queryP50Ms"), "injected RTT", RTT.zone, "—");
    ratio("chat pingMs (ws ping/pong, median of 20) while all run", reported("chat", "pingMs"), "injected RTT", RTT.region, "within 5 %", 1.05);
    ratio("health totalMs while all run", reported("health", "totalMs"), "raw GET through the same proxy", httpFloor, "—");
    const noisy = whole.filter((run) => run.checks.cache.metrics.pingNoisy || run.checks.db.metrics.queryNoisy).length;
    log(`noisy sample sets (cache or db) in ${noisy} of ${whole.length} runs; slowest alone: ${JSON.stringify(aloneMedian)}`);

    // Spawned: the CLI as a deploy job runs it, and the peer CLIs' shell script (data plane only).
    const file = path.join(dir, "staging-shape.json");
    writeFileSync(file, JSON.stringify(config()));
    const cliEnv = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value)]));
    const spawned = [];
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      const result = await runCli(["run", "-c", file, "--format", "json", "--quiet"], { env: cliEnv });
      spawned.push(performance.now() - started);
      if (result.code !== 0) log(`spawned run exited ${result.code}: ${result.stdout.slice(0, 400)}`);
    }
    ratio("time to verdict, 12 checks (spawned CLI)", spawned, `slowest check alone (${slowest}, in-process)`, aloneMedian[slowest], "—");
    if (["redis-cli", "psql", "curl"].every(hasCommand)) {
      const { SignJWT } = await import("jose");
      const token = await new SignJWT({ sub: "peer-script" }).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("10m").sign(new TextEncoder().encode(env.DEMO_CHAT_JWT_SECRET));
      const script = path.join(dir, "peers.sh");
      writeFileSync(
        script,
        [
          "#!/bin/sh",
          "set -e",
          `export PGPASSWORD="$DEMO_PG_PASSWORD"`,
          // The Redis password is in the emulator's Secret Manager: the peer script's PING gets NOAUTH — the same round trips.
          ...[1, 2, 3].map(() => `redis-cli -h 127.0.0.1 -p "$P_REDIS" ping > /dev/null`),
          ...[1, 2, 3].map(() => `psql -X -w -Atq -h 127.0.0.1 -p "$P_PG" -U app -d app -c 'SELECT 1' | grep -qx 1`),
          `BENCH_CHAT_TOKEN=${token} node ${JSON.stringify(path.join(ROOT, "bench/support/ws-check.mjs"))} "ws://127.0.0.1:$P_CHAT/ws"`,
          ...[1, 2].map(() => `curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$P_HEALTH/health"`),
        ].join("\n") + "\n",
      );
      const peers = [];
      for (let i = 0; i < runs; i += 1) {
        const started = performance.now();
        await exec("sh", [script], { env: { ...process.env, ...cliEnv } });
        peers.push(performance.now() - started);
      }
      ratio("peer CLIs one after another (9 data-plane checks, no Google: no gcloud)", peers, "infra-check spawned, 12 checks", median(spawned), "—");
    }
    return rows;
  } finally {
    proxy.stop();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
