// `infra-check serve` over time and under scrapes, in-process:
// - memory and handles after 10,000 short cycles against 100 (a bounded loop
//   of real cycles — runner, probe, judge, metrics — of an http and a tcp
//   check against loopback servers; GC forced before each reading). Goal: no
//   growth, i.e. ratio ≈ 1. Live heap and handles are the leak signal; RSS
//   also holds what V8 reserves for its young generation (a loop with no
//   idle time grows it to its 128 MiB maximum; a schedule of a cycle per
//   check every few seconds never needs it) and what the allocator keeps
//   after 20,000 connections opened and closed per check: RSS is compared
//   with 100 cycles, and its plateau measured from 10,000 to 20,000.
// - `/metrics` latency with 50 scrapes in flight at once, against the same
//   50 scrapes of a bare node http server answering a static body of the
//   same size (the floor: the HTTP round trip itself), and one scrape alone.
import http from "node:http";
import net from "node:net";
import v8 from "node:v8";
import vm from "node:vm";
import { once } from "node:events";
import { buildConfig } from "../dist/config/load.js";
import { egress } from "../dist/commands/io.js";
import { startServe } from "../dist/commands/serve.js";
import { median, percentile } from "./lib.js";

export const title = "serve: memory and handles after 10,000 cycles vs 100; /metrics under 50 concurrent scrapes";

const SHORT = 100;
const MIDDLE = 1_000;
const LONG = 10_000;
const CONCURRENT = 50;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc");

function reading() {
  for (let i = 0; i < 3; i += 1) gc();
  const newSpace = v8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0;
  return { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, newSpace, handles: process.getActiveResourcesInfo().length };
}

async function startServed(checks) {
  const io = egress({ stdout: () => undefined, stderr: () => undefined, stdoutIsTTY: false, stderrIsTTY: false, env: {}, cwd: process.cwd() });
  const loaded = await buildConfig({ deadline: "5s", checks }, { dir: process.cwd(), defaultEnv: "bench", env: {}, redactor: io.redactor });
  const handle = await startServe(loaded, { host: "127.0.0.1", port: 0, everyMs: 3_600_000, strict: false }, io, async () => loaded);
  await handle.ready;
  return handle;
}

/** `count` requests at once; each one's latency in ms. */
async function concurrently(url, count) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const started = performance.now();
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
      return performance.now() - started;
    }),
  );
}

export default async function ({ runs, log }) {
  const target = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}'));
  target.listen(0, "127.0.0.1");
  const port = net.createServer((socket) => socket.resume().on("error", () => undefined));
  port.listen(0, "127.0.0.1");
  await Promise.all([once(target, "listening"), once(port, "listening")]);
  const rows = [];
  try {
    // ------------------------------------------------------------ memory
    const served = await startServed({
      api: { kind: "http", url: `http://127.0.0.1:${target.address().port}/health` },
      port: { kind: "tcp", address: `127.0.0.1:${port.address().port}` },
    });
    const { monitor } = served;
    const cycles = async (count) => {
      for (let i = 0; i < count; i += 1) await Promise.all([monitor.cycle("api"), monitor.cycle("port")]);
    };
    await cycles(SHORT);
    const after100 = reading();
    const started = performance.now();
    await cycles(MIDDLE - SHORT);
    const after1k = reading();
    await cycles(LONG - MIDDLE);
    const cycleMs = (performance.now() - started) / (LONG - SHORT);
    const after10k = reading();
    await cycles(LONG);
    const after20k = reading();
    const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
    log(`${LONG} cycles: ${cycleMs.toFixed(2)} ms per pair of cycles; rss ${mib(after100.rss)} → ${mib(after1k.rss)} → ${mib(after10k.rss)} MiB, heap used ${mib(after100.heap)} → ${mib(after1k.heap)} → ${mib(after10k.heap)} MiB, V8 new space ${mib(after100.newSpace)} → ${mib(after1k.newSpace)} → ${mib(after10k.newSpace)} MiB, handles ${after100.handles} → ${after10k.handles}`);
    log(`${2 * LONG} cycles: rss ${mib(after20k.rss)} MiB, heap used ${mib(after20k.heap)} MiB, handles ${after20k.handles}`);
    const memoryRow = (figure, key, unit, scale, max, base = after100, label = `after ${SHORT} cycles`) => {
      const value = after10k[key] / scale;
      const baseline = base[key] / scale;
      const ratio = value / baseline;
      return { figure, value, unit, baseline: { label, value: baseline, unit }, ratio, target: max === undefined ? undefined : `≤ ${max}×`, ok: max === undefined ? undefined : ratio <= max };
    };
    const long = LONG.toLocaleString("en-US");
    rows.push(memoryRow(`heap used (live objects) after ${long} cycles per check (http + tcp)`, "heap", "MiB", 2 ** 20, 1.1));
    rows.push(memoryRow(`open handles after ${long} cycles per check`, "handles", "", 1, 1));
    rows.push(memoryRow(`RSS after ${long} cycles per check`, "rss", "MiB", 2 ** 20, undefined));
    rows.push(memoryRow(`RSS after ${long} cycles per check`, "rss", "MiB", 2 ** 20, undefined, after1k, `after ${MIDDLE.toLocaleString("en-US")} cycles`));
    rows.push(memoryRow(`  of which V8's young generation (reserved, not live)`, "newSpace", "MiB", 2 ** 20, undefined, after1k, `after ${MIDDLE.toLocaleString("en-US")} cycles`));
    for (const point of [after100, after1k, after10k]) point.rssLessNew = point.rss - point.newSpace;
    for (const point of [after20k]) point.rssLessNew = point.rss - point.newSpace;
    rows.push(memoryRow(`RSS less the young generation after ${long} cycles`, "rssLessNew", "MiB", 2 ** 20, undefined, after1k, `after ${MIDDLE.toLocaleString("en-US")} cycles`));
    // The plateau: the allocator and V8 have reached their working size; a leak would keep growing.
    const plateau = (key, label) => ({
      figure: `${label} after ${(2 * LONG).toLocaleString("en-US")} cycles per check`,
      value: after20k[key] / 2 ** 20,
      unit: "MiB",
      baseline: { label: `after ${long} cycles`, value: after10k[key] / 2 ** 20, unit: "MiB" },
      ratio: after20k[key] / after10k[key],
      target: "≤ 1.05×",
      ok: after20k[key] / after10k[key] <= 1.05,
    });
    rows.push(plateau("rss", "RSS"));
    rows.push(plateau("heap", "heap used"));
    rows.push({ figure: "one cycle of each check (http + tcp, concurrently), mean", value: cycleMs, unit: "ms" });
    await served.stop();

    // ------------------------------------------------------------ /metrics under load
    const checks = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`api-${i}`, { kind: "http", url: `http://127.0.0.1:${target.address().port}/health?i=${i}` }]));
    const scraped = await startServed(checks);
    for (let i = 0; i < 3; i += 1) for (const name of Object.keys(checks)) await scraped.monitor.cycle(name);
    const metricsUrl = new URL("/metrics", scraped.url).toString();
    const body = await (await fetch(metricsUrl)).text();
    const floor = http.createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(body));
    floor.listen(0, "127.0.0.1");
    await once(floor, "listening");
    const floorUrl = `http://127.0.0.1:${floor.address().port}/metrics`;
    const single = [];
    const ours = [];
    const bare = [];
    await concurrently(metricsUrl, CONCURRENT); // warm-up
    await concurrently(floorUrl, CONCURRENT);
    for (let i = 0; i < runs; i += 1) {
      for (let j = 0; j < 5; j += 1) single.push(...(await concurrently(metricsUrl, 1)));
      ours.push(percentile(await concurrently(metricsUrl, CONCURRENT), 95));
      bare.push(percentile(await concurrently(floorUrl, CONCURRENT), 95));
    }
    floor.close();
    await scraped.stop();
    const kib = (Buffer.byteLength(body) / 1024).toFixed(1);
    rows.push({ figure: `/metrics, one scrape alone (8 checks, ${kib} KiB), median`, value: median(single), unit: "ms", min: Math.min(...single), max: Math.max(...single) });
    const p95 = median(ours);
    const floorP95 = median(bare);
    rows.push({
      figure: `/metrics p95 with ${CONCURRENT} concurrent scrapes`,
      value: p95,
      unit: "ms",
      min: Math.min(...ours),
      max: Math.max(...ours),
      baseline: { label: `bare http server, same body, ${CONCURRENT} concurrent`, value: floorP95 },
      ratio: p95 / floorP95,
      target: "≤ 3×",
      ok: p95 / floorP95 <= 3,
    });
  } finally {
    target.close();
    port.close();
  }
  return rows;
}
