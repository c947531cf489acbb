// Google Cloud clients: what loading them costs (why they are imported only
// when a Google check or secret reference runs), and a cloud-run check against
// the local emulator. Each figure is measured in a fresh Node process (module
// caches cold), against the emulator served by this process.
//   - import google-gax / @google-cloud/run, construct + initialize a
//     ServicesClient, first GetService (channel connect) — against a warm
//     GetService round trip on the same client (the steady-state floor);
//   - `infra-check run` with one cloud-run check — against the same run with
//     one http check (the run without any Google module).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { once } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import { BIN, ROOT, median, ratioRow } from "./lib.js";

export const title = "Google Cloud: client import/construct cost, cloud-run check vs an http-only run (emulator)";

const PROBE_SCRIPT = `
const t0 = performance.now();
const gax = await import("google-gax");
const t1 = performance.now();
const { v2 } = await import("@google-cloud/run");
const t2 = performance.now();
const client = new v2.ServicesClient({ apiEndpoint: "127.0.0.1", port: Number(process.env.PORT), sslCreds: gax.grpc.credentials.createInsecure(), authClient: new gax.googleAuthLibrary.PassThroughClient(), "grpc.enable_http_proxy": 0 });
await client.initialize();
const t3 = performance.now();
const name = process.env.SERVICE;
await client.getService({ name }, { timeout: 5000, retry: null });
const t4 = performance.now();
const warm = [];
for (let i = 0; i < 20; i++) { const s = performance.now(); await client.getService({ name }, { timeout: 5000, retry: null }); warm.push(performance.now() - s); }
await client.close();
warm.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ gax: t1 - t0, run: t2 - t1, construct: t3 - t2, first: t4 - t3, warm: warm[warm.length >> 1] }));
`;

function node(args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, METADATA_SERVER_DETECTION: "none", NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

export default async function ({ runs, log }) {
  const { startGcpEmulator } = await import("../dist/demo/gcp-emulator/index.js");
  const { seedCloudStack } = await import("../dist/demo/gcp-fixtures.js");
  const emulator = await startGcpEmulator();
  const health = http.createServer((_req, res) => res.end('{"status":"healthy"}'));
  health.listen(0, "127.0.0.1");
  await once(health, "listening");
  const dir = mkdtempSync(path.join(tmpdir(), "infra-check-bench-gcp-"));
  try {
    const stack = seedCloudStack(emulator.state, {
      project: "bench-project",
      region: "us-central1",
      service: "chat-backend",
      image: "us-docker.pkg.dev/bench-project/app/backend:3f9c2ab",
      previousImage: "us-docker.pkg.dev/bench-project/app/backend:1d2e3f4",
      connector: "bench-connector",
      instance: "bench-redis",
      redis: { host: "127.0.0.1", port: 6379 },
    });
    // `node -e` from the package root: the modules resolve exactly as the CLI's own imports do.
    const samples = [];
    const count = Math.max(runs, 5);
    for (let i = 0; i < count; i += 1) {
      const result = await node(["--input-type=module", "-e", PROBE_SCRIPT], { PORT: String(emulator.port), SERVICE: stack.names.service });
      if (result.code !== 0) throw new Error(`client probe failed: ${result.stderr}`);
      samples.push(JSON.parse(result.stdout));
    }
    const pick = (key) => samples.map((sample) => sample[key]);
    const warm = { label: "warm GetService round trip", value: median(pick("warm")) };
    log(`medians over ${count} fresh processes: gax ${median(pick("gax")).toFixed(0)} ms, @google-cloud/run ${median(pick("run")).toFixed(0)} ms, construct+initialize ${median(pick("construct")).toFixed(0)} ms, first call ${median(pick("first")).toFixed(1)} ms, warm call ${warm.value.toFixed(2)} ms`);

    const write = (name, checks) => {
      const file = path.join(dir, `${name}.yaml`);
      writeFileSync(file, JSON.stringify({ env: "bench", gcp: { project: "bench-project", region: "us-central1", emulatorHost: emulator.emulatorHost }, checks }));
      return file;
    };
    const cloudRun = write("cloud-run", { backend: { kind: "cloud-run", service: "chat-backend" } });
    const httpOnly = write("http", { health: { kind: "http", url: `http://127.0.0.1:${health.address().port}/` } });
    const timeRun = async (file) => {
      const times = [];
      for (let i = 0; i < count; i += 1) {
        const result = await node([BIN, "run", "--config", file, "--format", "json", "--quiet"], {});
        if (result.code !== 0) throw new Error(`run failed (${result.code}): ${result.stdout}${result.stderr}`);
        times.push(result.ms);
      }
      return times;
    };
    const httpTimes = await timeRun(httpOnly);
    const cloudTimes = await timeRun(cloudRun);
    const httpRun = { label: "infra-check run, one http check", value: median(httpTimes) };
    return [
      ratioRow("import google-gax (fresh process)", pick("gax"), warm),
      ratioRow("import @google-cloud/run (after gax)", pick("run"), warm),
      ratioRow("construct + initialize a ServicesClient", pick("construct"), warm),
      ratioRow("first GetService (channel connect + call)", pick("first"), warm),
      ratioRow("infra-check run, one cloud-run check vs the emulator", cloudTimes, httpRun),
    ];
  } finally {
    health.close();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
