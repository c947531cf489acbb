// Shared helpers for benchmarks: medians, whole-process timing, the local
// stack a run is measured against, raw-protocol floors.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const BIN = path.join(ROOT, "bin/infra-check.js");

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function stats(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function hasCommand(name) {
  return spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
}

/** A benchmark row comparing `values` (ms) with a baseline value, judged against `max` (a ratio). */
export function ratioRow(figure, values, baseline, { max, unit = "ms", target = max === undefined ? undefined : `≤ ${max}×` } = {}) {
  const { median: value, min, max: worst } = stats(values);
  const ratio = value / baseline.value;
  return { figure, value, unit, min, max: worst, baseline, ratio, target, ok: max === undefined ? undefined : ratio <= max };
}

/** Run a command to completion without blocking this process's event loop (it may be serving the target). */
export function exec(file, args, { env = process.env, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${file} ${args.join(" ")} exited ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

/**
 * Median wall time (ms) of whole commands, with hyperfine when installed
 * (shell-less), otherwise by spawning them. The commands are interleaved in
 * rounds (each round times every command a few times), so a burst of load
 * from other processes on a shared machine hits every command alike instead
 * of one command's whole block. A command is a string (split on spaces: no
 * quoting) or { command, prepare } where `prepare` is a shell command run
 * before each timing run, untimed. `env` is added to every command's
 * environment; `ignoreExitCode` times commands that are meant to fail. Asynchronous, so servers in this process keep answering while
 * their clients are timed.
 */
export async function timeCommands(commands, { runs = 10, warmup = 3, env = {}, perRound = 3, ignoreExitCode = false } = {}) {
  const entries = commands.map((entry) => (typeof entry === "string" ? { command: entry } : entry));
  const environment = { ...process.env, ...env };
  const times = entries.map(() => []);
  const rounds = Math.ceil(runs / perRound);
  if (hasCommand("hyperfine")) {
    const dir = mkdtempSync(path.join(tmpdir(), "infra-check-bench-"));
    const file = path.join(dir, "hyperfine.json");
    const prepare = entries.some((entry) => entry.prepare) ? entries.flatMap((entry) => ["--prepare", entry.prepare ?? "true"]) : [];
    try {
      for (let round = 0; round < rounds; round += 1) {
        const args = ["-N", ...(ignoreExitCode ? ["-i"] : []), "-w", String(round === 0 ? warmup : 0), "-r", String(perRound), ...prepare, "--export-json", file, "--style", "none"];
        await exec("hyperfine", [...args, ...entries.map((entry) => entry.command)], { env: environment });
        JSON.parse(readFileSync(file, "utf8")).results.forEach((result, i) => times[i].push(...result.times.map((s) => s * 1000)));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    const timeOnce = async ({ command, prepare }) => {
      const [file, ...args] = command.split(" ");
      if (prepare) await exec("sh", ["-c", prepare], { env: environment });
      const started = performance.now();
      await exec(file, args, { env: environment }).catch((error) => {
        if (!ignoreExitCode) throw error;
      });
      return performance.now() - started;
    };
    for (const entry of entries) for (let i = 0; i < warmup; i += 1) await timeOnce(entry);
    for (let round = 0; round < rounds; round += 1) {
      for (const [i, entry] of entries.entries()) for (let j = 0; j < perRound; j += 1) times[i].push(await timeOnce(entry));
    }
  }
  return entries.map(({ command }, i) => ({ command, ...stats(times[i]), times: times[i] }));
}

/** Run the built CLI once (as a user would) and capture its output. */
export function runCli(args, { env = {}, cwd = ROOT, nodeArgs = [], timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
}

/**
 * The data plane of the chat product on loopback, from the shared local stack
 * (src/demo/): one redis-server, one PostgreSQL cluster (role `app`, database
 * `app`), the WebSocket chat server (whose /health is the HTTP target).
 * `env` holds the BENCH_* variables the configs interpolate (passwords included).
 */
export async function startBenchStack() {
  const [{ startRedisServer }, { startPostgres }, { startChatServer }] = await Promise.all([
    import("../dist/demo/redis-server.js"),
    import("../dist/demo/postgres.js"),
    import("../dist/demo/chat-server.js"),
  ]);
  const redisPassword = "bench-Redis-pa55";
  const pgPassword = "bench-Pg-pa55";
  const token = "bench-token";
  const started = await Promise.allSettled([
    startRedisServer({ password: redisPassword }),
    startPostgres({ database: "app", roles: [{ name: "app", password: pgPassword }], maxConnections: 40 }),
    startChatServer({ token }),
  ]);
  const stop = () => Promise.allSettled(started.filter((entry) => entry.status === "fulfilled").map((entry) => entry.value.stop()));
  const failed = started.find((entry) => entry.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const [redis, postgres, chat] = started.map((entry) => entry.value);
  return {
    redis,
    postgres,
    chat,
    env: {
      BENCH_REDIS_PORT: String(redis.port),
      BENCH_REDIS_PASSWORD: redisPassword,
      BENCH_PG_PORT: String(postgres.port),
      BENCH_PG_PASSWORD: pgPassword,
      BENCH_CHAT_URL: chat.url,
      BENCH_CHAT_TOKEN: token,
      BENCH_HEALTH_URL: chat.healthUrl,
    },
    stop,
  };
}

/** p50 of `count` PINGs on one raw TCP connection (RESP by hand, after AUTH and a warm-up PING): the floor. */
export async function rawRedisPingP50(port, password, count) {
  const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
  await once(socket, "connect");
  const roundTrip = (command) =>
    new Promise((resolve, reject) => {
      let reply = "";
      const onData = (chunk) => {
        reply += chunk.toString("latin1");
        if (reply.endsWith("\r\n")) {
          socket.off("data", onData);
          if (reply.startsWith("-")) reject(new Error(reply.trim()));
          else resolve(reply);
        }
      };
      socket.on("data", onData);
      socket.write(command);
    });
  try {
    await roundTrip(`*2\r\n$4\r\nAUTH\r\n$${Buffer.byteLength(password)}\r\n${password}\r\n`);
    await roundTrip("*1\r\n$4\r\nPING\r\n");
    const times = [];
    for (let i = 0; i < count; i += 1) {
      const started = performance.now();
      await roundTrip("*1\r\n$4\r\nPING\r\n");
      times.push(performance.now() - started);
    }
    return percentile(times, 50);
  } finally {
    socket.destroy();
  }
}
