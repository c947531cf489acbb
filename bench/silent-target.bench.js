// The worst network case for a checker: a target that accepts the connection
// and never answers (a hung server, a proxy that swallows the request). With a
// check timeout T, the spawned CLI must be done — start-up, the check, the
// report — within T + 100 ms, for every kind of check, and for all of them at
// once. Every client here would wait forever by default (pg, ioredis, ws,
// http.get; fetch 300 s): the deadline is all ours.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { once } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import { median, runCli } from "./lib.js";

export const title = "accept-and-never-answer target, check timeout T: spawned CLI wall time vs T";

const TIMEOUT_MS = 1000;
const MARGIN_MS = 100;

export default async function ({ runs, log }) {
  // Accepts, reads, never writes; sockets are destroyed at the end.
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  const dir = mkdtempSync(path.join(tmpdir(), "infra-check-bench-silent-"));
  const CHECKS = {
    http: { kind: "http", url: `http://127.0.0.1:${port}/health` },
    redis: { kind: "redis", url: `redis://127.0.0.1:${port}/0`, password: "bench-pa55" },
    postgres: { kind: "postgres", url: `postgres://app@127.0.0.1:${port}/app`, password: "bench-pa55" },
    websocket: { kind: "websocket", url: `ws://127.0.0.1:${port}/ws` },
  };
  const cases = [...Object.entries(CHECKS).map(([name, check]) => [name, { [name]: check }]), ["all four at once", CHECKS]];
  try {
    const rows = [];
    // Two ways to bound a run by T: the check's own timeout (the process then
    // also pays its start-up, ~150 ms, before the check's clock starts), and a
    // run deadline of T, which counts from the process start (the launcher
    // passes it), so start-up comes out of the same budget.
    const variants = [
      ["check timeout T", { deadline: "10s" }],
      ["run deadline T", { deadline: `${TIMEOUT_MS}ms` }],
    ];
    for (const [name, checks] of cases) {
      for (const [variant, top] of variants) {
        const configFile = path.join(dir, `${name.replace(/\W+/g, "-")}-${variant.replace(/\W+/g, "-")}.yaml`);
        writeFileSync(configFile, JSON.stringify({ env: "bench", ...top, defaults: { timeout: `${TIMEOUT_MS}ms` }, checks }, null, 2));
        const args = ["run", "--config", configFile, "--format", "json", "--quiet"];
        const first = await runCli(args); // warm-up, and proof that each check ends as a timeout
        const classes = JSON.parse(first.stdout).checks.map((check) => check.failure?.class ?? check.status);
        log(`${name}, ${variant}: exit ${first.code}, ${classes.join(", ")}`);
        if (first.code !== 1 || classes.some((failureClass) => failureClass !== "timeout")) throw new Error(`${name}: expected exit 1 and class timeout, got exit ${first.code}: ${first.stdout.slice(0, 500)} ${first.stderr}`);
        const times = [];
        for (let i = 0; i < runs; i += 1) times.push((await runCli(args)).elapsedMs);
        const value = median(times);
        rows.push({
          figure: `${name}, ${variant}: wall time (spawned CLI)`,
          value,
          unit: "ms",
          min: Math.min(...times),
          max: Math.max(...times),
          baseline: { label: "T", value: TIMEOUT_MS },
          ratio: value / TIMEOUT_MS,
          target: `≤ T + ${MARGIN_MS} ms`,
          ok: value <= TIMEOUT_MS + MARGIN_MS,
        });
      }
    }
    // The triage form: a one-off command's --timeout bounds the whole command.
    const oneOffTimes = [];
    for (let i = 0; i < runs + 1; i += 1) oneOffTimes.push((await runCli(["http", `http://127.0.0.1:${port}/health`, "--timeout", `${TIMEOUT_MS}ms`, "--format", "json"])).elapsedMs);
    const oneOff = median(oneOffTimes.slice(1));
    rows.push({ figure: "one-off `infra-check http URL --timeout T`: wall time", value: oneOff, unit: "ms", min: Math.min(...oneOffTimes.slice(1)), max: Math.max(...oneOffTimes.slice(1)), baseline: { label: "T", value: TIMEOUT_MS }, ratio: oneOff / TIMEOUT_MS, target: `≤ T + ${MARGIN_MS} ms`, ok: oneOff <= TIMEOUT_MS + MARGIN_MS });
    return rows;
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
