// Modules loaded by the built CLI (scripts/record-modules.mjs records
// every module it resolves): a run of redis, postgres, websocket and http
// checks must not load any Google Cloud client (@google-cloud/*, google-gax:
// 130–220 ms to import). For contrast, the same count for a run that has a
// Cloud Run check (against a closed port: the client loads, the call fails),
// and for --help.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { once } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, runCli, startBenchStack } from "./lib.js";

export const title = "modules loaded: a run without Google Cloud checks loads no @google-cloud/* or google-gax";

const RECORDER = path.join(ROOT, "scripts/record-modules.mjs");
const GOOGLE = /\/node_modules\/(@google-cloud\/|google-gax\/|@grpc\/|google-auth-library\/)/;

const DATA_PLANE = {
  "cache-1": { kind: "redis", url: "redis://127.0.0.1:${BENCH_REDIS_PORT}/0", password: "${BENCH_REDIS_PASSWORD}" },
  "db-1": { kind: "postgres", url: "postgres://app@127.0.0.1:${BENCH_PG_PORT}/app", password: "${BENCH_PG_PASSWORD}" },
  "chat-1": { kind: "websocket", url: "${BENCH_CHAT_URL}", headers: { Authorization: "Bearer ${BENCH_CHAT_TOKEN}" }, subprotocols: ["agent_chat"] },
  health: { kind: "http", url: "${BENCH_HEALTH_URL}" },
};

async function closedPort() {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

/** Modules the spawned CLI resolved for these arguments: { all, files, google, code }. */
async function modulesFor(args, { env, dir, name }) {
  const file = path.join(dir, `${name}.modules.txt`);
  const result = await runCli(args, { env: { ...env, RECORD_MODULES_FILE: file, METADATA_SERVER_DETECTION: "none" }, nodeArgs: ["--import", RECORDER] });
  const urls = readFileSync(file, "utf8").split("\n").filter(Boolean);
  const files = urls.filter((url) => url.startsWith("file:") && url !== `file://${RECORDER}`);
  return { all: urls, files, google: files.filter((url) => GOOGLE.test(url)), code: result.code, stdout: result.stdout };
}

function summary(stdout) {
  try {
    const report = JSON.parse(stdout);
    return report.checks.map((check) => `${check.name} ${check.status}${check.failure ? ` (${check.failure.class})` : ""}`).join(", ");
  } catch {
    return stdout.slice(0, 300);
  }
}

export default async function ({ log }) {
  const stack = await startBenchStack();
  const dir = mkdtempSync(path.join(tmpdir(), "infra-check-bench-modules-"));
  try {
    const write = (name, config) => {
      const configFile = path.join(dir, `${name}.yaml`);
      writeFileSync(configFile, JSON.stringify({ env: "bench", deadline: "10s", defaults: { timeout: "3s" }, ...config }, null, 2));
      return configFile;
    };
    const run = (name, config) => modulesFor(["run", "--config", write(name, config), "--format", "json", "--quiet"], { env: stack.env, dir, name });

    const dataPlane = await run("data-plane", { checks: DATA_PLANE });
    log(`data-plane run (exit ${dataPlane.code}): ${summary(dataPlane.stdout)}`);
    const port = await closedPort();
    const withGoogle = await run("with-cloud-run", {
      gcp: { project: "bench-project", region: "us-central1", emulatorHost: `127.0.0.1:${port}` },
      checks: { ...DATA_PLANE, backend: { kind: "cloud-run", service: "chat-backend" } },
    });
    log(`run with a cloud-run check (exit ${withGoogle.code}): ${summary(withGoogle.stdout)}`);
    const help = await modulesFor(["--help"], { env: {}, dir, name: "help" });
    const commander = await modulesFor(["run", "--help"], { env: {}, dir, name: "run-help" });

    const count = (result) => `${result.files.length} files, ${result.all.length - result.files.length} built-ins`;
    return [
      {
        figure: `run of redis, postgres, websocket, http checks: modules loaded (${count(dataPlane)})`,
        value: dataPlane.google.length,
        unit: "google modules",
        baseline: { label: "modules loaded", value: dataPlane.files.length, unit: "files" },
        target: "0 @google-cloud/*, google-gax",
        ok: dataPlane.google.length === 0,
      },
      {
        figure: `same run plus a cloud-run check (${count(withGoogle)})`,
        value: withGoogle.google.length,
        unit: "google modules",
        baseline: { label: "modules loaded", value: withGoogle.files.length, unit: "files" },
      },
      { figure: `infra-check --help (${count(help)})`, value: help.files.length, unit: "files" },
      { figure: `infra-check run --help (${count(commander)})`, value: commander.files.length, unit: "files" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stack.stop();
  }
}
