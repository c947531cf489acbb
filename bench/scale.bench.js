// 100 and 1,000 checks in one config (issue 21): mixed kinds (http, tcp,
// redis) against healthy, refused and silent targets, spawned as a user runs
// it. A run deadline of 3 s binds the silent checks (their own timeout is
// 10 s). Figures: wall time against the deadline (goal ≤ deadline + 100 ms),
// peak RSS (goal ≤ 250 MB) and the most file descriptors open at once,
// sampled from /proc every 5 ms, against what `concurrency:` allows — with
// the default (sized to the open-files limit) and under `ulimit -n 1024`.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { once } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import { startRedisServer } from "../dist/demo/redis-server.js";
import { BIN, hasCommand, median } from "./lib.js";

export const title = "100 and 1,000 checks: wall time vs the deadline, peak RSS, descriptors open at once";

const DEADLINE_MS = 3000;

async function listen(server) {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server.address().port;
}

function config(count, ports) {
  const kinds = [
    (i) => `{ kind: http, url: "http://127.0.0.1:${ports.http}/ok/${i}" }`,
    (i) => `{ kind: http, url: "http://127.0.0.1:${ports.refused}/${i}" }`,
    (i) => `{ kind: http, url: "http://127.0.0.1:${ports.silent}/${i}" }`,
    () => `{ kind: tcp, address: "127.0.0.1:${ports.http}" }`,
    () => `{ kind: tcp, address: "127.0.0.1:${ports.refused}" }`,
    () => `{ kind: redis, url: "redis://127.0.0.1:${ports.redis}" }`,
    () => `{ kind: redis, url: "redis://127.0.0.1:${ports.refused}" }`,
    () => `{ kind: redis, url: "redis://127.0.0.1:${ports.silent}" }`,
  ];
  const lines = [`deadline: ${DEADLINE_MS}ms`, "defaults: { timeout: 10s }", "checks:"];
  for (let i = 0; i < count; i += 1) lines.push(`  c${i}: ${kinds[i % kinds.length](i)}`);
  return lines.join("\n") + "\n";
}

/** Spawn the CLI; sample its descriptors and peak RSS from /proc while it runs. */
function runWatched(file, { nofile } = {}) {
  return new Promise((resolve, reject) => {
    const args = [BIN, "run", "-c", file, "--format", "json", "--quiet"];
    const started = performance.now();
    const child = nofile ? spawn("prlimit", [`--nofile=${nofile}:${nofile}`, "--", process.execPath, ...args], { stdio: ["ignore", "pipe", "ignore"] }) : spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    let maxFds = 0;
    let peakRssKiB = 0;
    // prlimit execs node in place: the pid is node's either way.
    const watch = setInterval(() => {
      try {
        maxFds = Math.max(maxFds, readdirSync(`/proc/${child.pid}/fd`).length);
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "latin1"));
        if (hwm) peakRssKiB = Math.max(peakRssKiB, Number(hwm[1]));
      } catch {
        // exited between two looks
      }
    }, 5);
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.on("error", reject);
    child.on("close", () => {
      clearInterval(watch);
      const wallMs = performance.now() - started;
      try {
        const report = JSON.parse(stdout);
        const byStatus = {};
        for (const check of report.checks) byStatus[check.status] = (byStatus[check.status] ?? 0) + 1;
        const noSlot = report.checks.filter((check) => check.failure?.message?.includes("cut short by the run deadline") && !check.phasesMs?.connect).length;
        resolve({ wallMs, maxFds, peakRssMiB: peakRssKiB / 1024, byStatus, noSlot });
      } catch (error) {
        reject(new Error(`no report: ${error}`));
      }
    });
  });
}

export default async function ({ runs, log }) {
  const dir = mkdtempSync(path.join(tmpdir(), "infra-check-scale-"));
  const redis = await startRedisServer();
  const web = http.createServer((_req, res) => res.end("ok"));
  web.maxConnections = 20_000;
  const silentSockets = new Set();
  const silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on("close", () => silentSockets.delete(socket));
    socket.on("error", () => undefined);
  });
  const refusedServer = net.createServer();
  const ports = { http: await listen(web), silent: await listen(silent), refused: await listen(refusedServer), redis: redis.port };
  refusedServer.close();
  const rows = [];
  try {
    const cases = [
      { count: 100, label: "100 checks, default concurrency" },
      { count: 1000, label: "1,000 checks, default concurrency" },
      ...(hasCommand("prlimit") ? [{ count: 1000, label: "1,000 checks, ulimit -n 1024 (default concurrency 240)", nofile: 1024 }] : []),
    ];
    for (const entry of cases) {
      const file = path.join(dir, `scale-${entry.count}.yaml`);
      writeFileSync(file, config(entry.count, ports));
      await runWatched(file, entry); // warm-up (compile cache, page cache)
      const results = [];
      for (let i = 0; i < Math.max(3, Math.min(runs, 5)); i += 1) results.push(await runWatched(file, entry));
      log(`${entry.label}: ${JSON.stringify(results.map((result) => result.byStatus))}, no slot before the deadline: ${results.map((r) => r.noSlot).join(", ")}`);
      const wall = results.map((result) => result.wallMs);
      const rss = results.map((result) => result.peakRssMiB);
      const fds = results.map((result) => result.maxFds);
      rows.push({ figure: `${entry.label}: wall time (spawned CLI, deadline ${DEADLINE_MS / 1000} s)`, value: median(wall), unit: "ms", min: Math.min(...wall), max: Math.max(...wall), baseline: { label: "deadline", value: DEADLINE_MS }, ratio: median(wall) / DEADLINE_MS, target: "≤ deadline + 100 ms", ok: Math.max(...wall) <= DEADLINE_MS + 100 });
      rows.push({ figure: `${entry.label}: peak RSS`, value: median(rss), unit: "MiB", min: Math.min(...rss), max: Math.max(...rss), target: "≤ 250 MB", ok: Math.max(...rss) <= 250 * 1e6 / 2 ** 20 });
      const allowed = entry.nofile ?? Number.POSITIVE_INFINITY;
      rows.push({ figure: `${entry.label}: most descriptors open at once`, value: median(fds), unit: "", min: Math.min(...fds), max: Math.max(...fds), baseline: { label: entry.nofile ? "ulimit -n" : "checks", value: entry.nofile ?? entry.count, unit: "" }, ratio: median(fds) / (entry.nofile ?? entry.count), target: entry.nofile ? "< ulimit -n" : "—", ok: entry.nofile ? Math.max(...fds) < allowed : undefined });
    }
    return rows;
  } finally {
    for (const socket of silentSockets) socket.destroy();
    silent.close();
    web.closeAllConnections();
    web.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
