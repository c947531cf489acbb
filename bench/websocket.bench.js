// WebSocket probe costs, measured against raw TCP in the same run:
// - handshake (probe's handshakeMs) vs a raw TCP connect + one echo round trip
//   (the same network work: one connection, one request/response), and vs a
//   bare \`ws\` client doing the same upgrade (the library's own floor, so the
//   probe's overhead is visible separately from the protocol's);
// - message RTT (ping/pong, and a JSON message answered by the server) vs a
//   raw TCP echo round trip on an open connection (and vs bare \`ws\`);
// - load mode: time to open 1k / 10k connections (handshake + welcome each)
//   and resident memory per connection.
// The servers (chat server + TCP echo) run in a child process so the client's
// timings and memory are the client's alone; each load run is a fresh client
// process so its memory figure starts clean.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import WebSocket from "ws";
import { buildConfig } from "../dist/config/load.js";
import { runChecks } from "../dist/runner/run-checks.js";
import { buildReport } from "../dist/report/build.js";
import { median } from "./lib.js";

export const title = "WebSocket handshake and message RTT vs raw TCP; load mode 1k/10k connections";

const dist = (file) => pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", file)).href;
const HANDSHAKES = 60;
const ECHOES = 200;
const LOAD_SIZES = [1_000, 10_000];
const LOAD_CONCURRENCY = 200;
/** File descriptors a 10k run needs per process (sockets + node's own). */
const FDS_NEEDED = 10_500;

const BARE_LOAD_CLIENT_SCRIPT = `
import WebSocket from ${JSON.stringify(import.meta.resolve("ws"))};
const [url, connections, concurrency] = process.argv.slice(1).map((value, index) => (index ? Number(value) : value));
const one = () => new Promise((resolve, reject) => {
  const ws = new WebSocket(url, ["agent_chat"], { headers: { Authorization: "Bearer bench-token" }, perMessageDeflate: false });
  ws.once("error", reject);
  ws.once("message", () => resolve(ws));
});
const run = async (n, c) => {
  const held = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next < n) { next += 1; held.push(await one()); } }));
  const openAllMs = performance.now() - started;
  await Promise.all(held.map((ws) => new Promise((resolve) => { ws.once("close", resolve); ws.close(1000); })));
  return openAllMs;
};
await run(100, 50);
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
const cpuBefore = process.cpuUsage();
const openAllMs = await run(connections, concurrency);
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(JSON.stringify({ metrics: { openAllMs, successRate: 100 }, rssBefore, maxRss: process.resourceUsage().maxRSS * 1024, cpuMs: (cpu.user + cpu.system) / 1000 }) + "\\n");
`;

const SERVER_SCRIPT = `
import net from "node:net";
import { startChatServer } from ${JSON.stringify(dist("demo/chat-server.js"))};
const chat = await startChatServer({ token: "bench-token" });
const echo = net.createServer((socket) => { socket.setNoDelay(true); socket.on("error", () => {}); socket.on("data", (chunk) => socket.write(chunk)); });
echo.listen(0, "127.0.0.1");
await new Promise((resolve) => echo.once("listening", resolve));
process.stdout.write(JSON.stringify({ chatUrl: chat.url, echoPort: echo.address().port }) + "\\n");
process.stdin.on("data", () => { const cpu = process.cpuUsage(); process.stdout.write(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 }) + "\\n"); });
process.stdin.on("end", async () => { await chat.stop(); echo.close(); process.exit(0); });
`;

const LOAD_CLIENT_SCRIPT = `
import { buildConfig } from ${JSON.stringify(dist("config/load.js"))};
import { runChecks } from ${JSON.stringify(dist("runner/run-checks.js"))};
import { buildReport } from ${JSON.stringify(dist("report/build.js"))};
const [url, connections, concurrency] = process.argv.slice(1);
const check = (n, c) => ({
  kind: "websocket", url, headers: { Authorization: "Bearer bench-token" }, subprotocols: ["agent_chat"],
  welcome: { match: { "payload.event": "connection_established" } },
  timeout: "60s", load: { connections: n, concurrency: c },
});
const run = async (n, c) => {
  const loaded = await buildConfig({ deadline: "70s", checks: { load: check(n, c) } }, { dir: process.cwd(), defaultEnv: "bench", env: {} });
  const input = { env: "bench", deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes, strict: false };
  const report = buildReport(input, await runChecks(input));
  return report.checks[0];
};
await run(100, 50); // warm-up: modules, JIT
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
const cpuBefore = process.cpuUsage();
const result = await run(Number(connections), Number(concurrency));
const cpu = process.cpuUsage(cpuBefore);
const maxRss = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ metrics: result.metrics, failure: result.failure, rssBefore, maxRss, cpuMs: (cpu.user + cpu.system) / 1000 }) + "\\n");
`;

function fdLimit() {
  const out = spawnSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).stdout.trim();
  return out === "unlimited" ? Infinity : Number(out);
}

/** Raise the soft (and, as root, hard) fd limit for a child through the shell, if needed. */
function withFdLimit(command, args) {
  if (fdLimit() >= FDS_NEEDED) return [command, args];
  const quoted = [command, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
  return ["sh", ["-c", `ulimit -n ${FDS_NEEDED * 2} 2>/dev/null || ulimit -n ${FDS_NEEDED}; exec ${quoted}`]];
}

function childFdLimit() {
  const [command, args] = withFdLimit("sh", ["-c", "ulimit -n"]);
  const out = spawnSync(command, args, { encoding: "utf8" }).stdout.trim();
  return out === "unlimited" ? Infinity : Number(out);
}

async function startServers() {
  const [command, args] = withFdLimit(process.execPath, ["--input-type=module", "-e", SERVER_SCRIPT]);
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
  const [line] = await once(child.stdout, "data");
  return { child, ...JSON.parse(line.toString()) };
}

/** CPU time (ms) the server process has used so far. */
async function serverCpuMs(servers) {
  servers.child.stdin.write("cpu\n");
  const [line] = await once(servers.child.stdout, "data");
  return JSON.parse(line.toString()).cpuMs;
}

async function stopServers(servers) {
  servers.child.stdin.end();
  await once(servers.child, "exit").catch(() => undefined);
}

async function runCheck(check) {
  const loaded = await buildConfig({ deadline: "20s", checks: { chat: { kind: "websocket", timeout: "10s", ...check } } }, { dir: process.cwd(), defaultEnv: "bench", env: {} });
  const input = { env: "bench", deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes, strict: false };
  const report = buildReport(input, await runChecks(input));
  const result = report.checks[0];
  if (result.status !== "pass") throw new Error(`websocket check failed: ${JSON.stringify(result.failure)}`);
  return result;
}

/** Raw TCP: connect, write one small message, wait for its echo, close. */
function rawConnectAndEcho(port) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
    socket.once("error", reject);
    socket.once("connect", () => socket.write("ping"));
    socket.once("data", () => {
      const elapsed = performance.now() - started;
      socket.destroy();
      resolve(elapsed);
    });
  });
}

/** Raw TCP echo round trips on one open connection. */
async function rawEchoRtts(port, count) {
  const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
  await once(socket, "connect");
  const rtts = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const started = performance.now();
      socket.write('{"type":"echo","payload":"x"}');
      await once(socket, "data");
      rtts.push(performance.now() - started);
    }
  } finally {
    socket.destroy();
  }
  return rtts;
}

const BARE_OPTIONS = { headers: { Authorization: "Bearer bench-token" }, perMessageDeflate: false };

/** A bare ws client's upgrade to the same server, in ms. */
function bareHandshake(url) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const ws = new WebSocket(url, ["agent_chat"], BARE_OPTIONS);
    ws.once("error", reject);
    ws.once("open", () => {
      resolve(performance.now() - started);
      ws.terminate();
    });
  });
}

/** JSON echo round trips with a bare ws client (send, parse the reply, send the next). */
async function bareMessageRtts(url, count) {
  const ws = new WebSocket(url, ["agent_chat"], BARE_OPTIONS);
  // One persistent listener: ws may emit several messages in the same tick
  // (the welcome and an echo), which a re-armed once() would miss.
  let onEcho;
  ws.on("message", (data) => {
    if (JSON.parse(data.toString()).type === "echo") onEcho?.();
  });
  await once(ws, "open");
  const rtts = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const started = performance.now();
      const echoed = new Promise((resolve) => (onEcho = resolve));
      ws.send(JSON.stringify({ type: "echo", payload: "x" }));
      await echoed;
      rtts.push(performance.now() - started);
    }
  } finally {
    ws.terminate();
  }
  return rtts;
}

/** Ping/pong round trips with a bare ws client. */
async function barePingRtts(url, count) {
  const ws = new WebSocket(url, ["agent_chat"], BARE_OPTIONS);
  await once(ws, "open");
  const rtts = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const started = performance.now();
      ws.ping();
      await once(ws, "pong");
      rtts.push(performance.now() - started);
    }
  } finally {
    ws.terminate();
  }
  return rtts;
}

async function loadRun(url, connections, script = LOAD_CLIENT_SCRIPT) {
  const [command, args] = withFdLimit(process.execPath, ["--expose-gc", "--input-type=module", "-e", script, url, String(connections), String(LOAD_CONCURRENCY)]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk) => (out += chunk));
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`load client exited with ${code}`);
  const parsed = JSON.parse(out.trim().split("\n").pop());
  if (parsed.failure) throw new Error(`load run of ${connections} failed: ${JSON.stringify(parsed.failure)}`);
  return parsed;
}

export default async function ({ runs, log }) {
  const servers = await startServers();
  const headers = { Authorization: "Bearer bench-token" };
  try {
    // Warm-up: module loading and JIT on both sides.
    for (let i = 0; i < 5; i += 1) {
      await runCheck({ url: servers.chatUrl, headers, subprotocols: ["agent_chat"], ping: 5 });
      await rawConnectAndEcho(servers.echoPort);
      await bareHandshake(servers.chatUrl);
    }

    // Handshake vs raw connect + one round trip, interleaved so both see the same machine state.
    const handshakes = [];
    const rawConnects = [];
    const bareHandshakes = [];
    for (let i = 0; i < HANDSHAKES; i += 1) {
      rawConnects.push(await rawConnectAndEcho(servers.echoPort));
      bareHandshakes.push(await bareHandshake(servers.chatUrl));
      handshakes.push((await runCheck({ url: servers.chatUrl, headers, subprotocols: ["agent_chat"] })).metrics.handshakeMs);
    }

    // Message RTT: ping/pong and a JSON message the server answers, vs raw echo.
    const rawRtts = [];
    const bareMessages = [];
    const barePings = [];
    const pings = [];
    const messages = [];
    const perRun = Math.ceil(ECHOES / runs);
    const echoScript = Array.from({ length: perRun }, () => [{ send: { type: "echo", payload: "x" } }, { expect: { type: "echo" } }]).flat();
    for (let i = 0; i < runs; i += 1) {
      rawRtts.push(...(await rawEchoRtts(servers.echoPort, perRun)));
      bareMessages.push(...(await bareMessageRtts(servers.chatUrl, perRun)));
      barePings.push(median(await barePingRtts(servers.chatUrl, Math.min(100, perRun))));
      const pinged = await runCheck({ url: servers.chatUrl, headers, subprotocols: ["agent_chat"], ping: Math.min(100, perRun) });
      pings.push(pinged.metrics.pingMs);
      const scripted = await runCheck({ url: servers.chatUrl, headers, subprotocols: ["agent_chat"], script: echoScript });
      const steps = scripted.metrics.stepMs;
      for (let s = 0; s + 1 < steps.length; s += 2) messages.push(steps[s] + steps[s + 1]);
    }

    const handshakeMs = median(handshakes);
    const rawConnectMs = median(rawConnects);
    const rawRttMs = median(rawRtts);
    const pingMs = median(pings);
    const messageMs = median(messages);
    const bareHandshakeMs = median(bareHandshakes);
    const bareMessageMs = median(bareMessages);
    const compare = (figure, value, label, baseline) => ({ figure, value, unit: "ms", baseline: { label, value: baseline }, ratio: value / baseline, target: "≤ 1.5×", ok: value / baseline <= 1.5 });
    const rows = [
      compare("handshake (connect + upgrade), median", handshakeMs, "raw TCP connect + echo", rawConnectMs),
      compare("handshake (connect + upgrade), median", handshakeMs, "bare ws client upgrade", bareHandshakeMs),
      compare("ping/pong RTT, median", pingMs, "raw TCP echo RTT", rawRttMs),
      compare("ping/pong RTT, median", pingMs, "bare ws ping/pong RTT", median(barePings)),
      compare("JSON message RTT (send → matched reply), median", messageMs, "raw TCP echo RTT", rawRttMs),
      compare("JSON message RTT (send → matched reply), median", messageMs, "bare ws JSON echo RTT", bareMessageMs),
    ];

    // Load mode: the probe's load mode vs bare ws clients doing the same (open, wait for the welcome, hold, close).
    const limit = childFdLimit();
    for (const size of LOAD_SIZES) {
      const target10k = size === 10_000;
      if (limit < size + 500) {
        rows.push({ figure: `load: open ${size} connections`, value: null, unit: "ms", target: target10k ? "≤ 3 s" : undefined, ok: false, note: `skipped: ulimit -n is ${limit} and could not be raised` });
        continue;
      }
      const repeats = target10k ? Math.min(runs, 3) : runs;
      const probe = { times: [], kb: [], cpu: [], serverCpu: [], p95: [] };
      const bare = { times: [], kb: [] };
      for (let i = 0; i < repeats; i += 1) {
        const cpuBefore = await serverCpuMs(servers);
        const result = await loadRun(servers.chatUrl, size);
        probe.serverCpu.push((await serverCpuMs(servers)) - cpuBefore);
        probe.times.push(result.metrics.openAllMs);
        probe.p95.push(result.metrics.handshakeP95Ms);
        probe.cpu.push(result.cpuMs);
        probe.kb.push((result.maxRss - result.rssBefore) / size / 1024);
        log(`probe, ${size} connections: open all ${result.metrics.openAllMs.toFixed(0)} ms, success ${result.metrics.successRate} %, handshake p95 ${result.metrics.handshakeP95Ms} ms, RSS +${((result.maxRss - result.rssBefore) / 2 ** 20).toFixed(1)} MiB`);
        const baseline = await loadRun(servers.chatUrl, size, BARE_LOAD_CLIENT_SCRIPT);
        bare.times.push(baseline.metrics.openAllMs);
        bare.kb.push((baseline.maxRss - baseline.rssBefore) / size / 1024);
        log(`bare ws, ${size} connections: open all ${baseline.metrics.openAllMs.toFixed(0)} ms, RSS +${((baseline.maxRss - baseline.rssBefore) / 2 ** 20).toFixed(1)} MiB`);
      }
      const openMs = median(probe.times);
      const kb = median(probe.kb);
      rows.push({
        figure: `load: open ${size} connections + welcome (concurrency ${LOAD_CONCURRENCY}), median`,
        value: openMs,
        unit: "ms",
        min: Math.min(...probe.times),
        max: Math.max(...probe.times),
        baseline: { label: "bare ws clients", value: median(bare.times) },
        ratio: openMs / median(bare.times),
        ...(target10k ? { target: "≤ 3 s", ok: openMs <= 3000 } : {}),
        handshakeP95Ms: median(probe.p95),
      });
      rows.push({
        figure: `load: peak RSS per connection at ${size}`,
        value: kb,
        unit: "KB",
        baseline: { label: "bare ws clients", value: median(bare.kb) },
        ratio: kb / median(bare.kb),
        ...(target10k ? { target: "≤ 20 KB", ok: kb <= 20 } : {}),
      });
      rows.push({ figure: `load: CPU while opening ${size} (client / chat server), median`, value: median(probe.cpu), unit: "ms", baseline: { label: "server", value: median(probe.serverCpu) } });
    }
    return rows;
  } finally {
    await stopServers(servers);
  }
}
