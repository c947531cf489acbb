// A run without a Google check or secret reference must not load any Google
// module (@google-cloud/*, google-gax, grpc-js, google-auth-library: 150–300 ms
// to import and construct). The built CLI runs in a child process with a
// resolve hook that records every module it loads; a run with a cloud-run
// check is the positive control (so the recorder provably sees them).
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../helpers/cli.js";
import { httpServer } from "../helpers/net.js";
import { startGcpWorld, PROJECT, REGION, type GcpWorld } from "./harness.js";

const GOOGLE = /\/node_modules\/(@google-cloud\/|google-gax\/|@grpc\/|google-auth-library\/|gcp-metadata\/)|\/dist\/gcp\/(session|secrets)\.js|\/dist-bundle\/(session|secrets)-[\w-]+\.js/;

const RECORDER = path.resolve(import.meta.dirname, "../../scripts/record-modules.mjs");

let dir: string;
let health: Awaited<ReturnType<typeof httpServer>>;
let world: GcpWorld;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "infra-check-lazy-"));
  health = await httpServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end('{"status":"healthy"}');
  });
  world = await startGcpWorld();
});
afterAll(async () => {
  await Promise.all([health?.stop(), world?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function modulesLoadedBy(name: string, config: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; modules: string[] }> {
  const configFile = path.join(dir, `${name}.yaml`);
  const record = path.join(dir, `${name}.modules`);
  await writeFile(configFile, config);
  const child = spawn(process.execPath, ["--import", RECORDER, BIN, "run", "--config", configFile, "--verbose"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", METADATA_SERVER_DETECTION: "none", RECORD_MODULES_FILE: record, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  return { code, stdout, stderr, modules: (await readFile(record, "utf8")).split("\n").filter(Boolean) };
}

describe("Google modules load only when a Google check or secret reference runs", () => {
  it("an http-only run (with a gcp: block and the emulator variable set) loads none of them", async () => {
    const result = await modulesLoadedBy(
      "http-only",
      `gcp: { project: ${PROJECT}, region: ${REGION} }\nchecks:\n  health:\n    kind: http\n    url: ${health.url("/health")}\n    expect: { json.status: healthy }\n`,
      { INFRA_CHECK_GCP_EMULATOR_HOST: world.gcp.emulatorHost },
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // The http probe did load (dist/probes/http.js, or its chunk in the start-up bundle): the recorder works.
    expect(result.modules.some((url) => /\/dist\/probes\/http\.js$|\/dist-bundle\/http-[\w-]+\.js$/.test(url))).toBe(true);
    expect(result.modules.filter((url) => GOOGLE.test(url))).toEqual([]);
  });

  it("positive control: a run with a cloud-run check loads the Google client, gax and grpc-js", async () => {
    const result = await modulesLoadedBy(
      "cloud-run",
      `gcp: { project: ${PROJECT}, region: ${REGION}, emulatorHost: "${world.gcp.emulatorHost}" }\nchecks:\n  backend: { kind: cloud-run, service: backend-staging }\n`,
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const google = result.modules.filter((url) => GOOGLE.test(url));
    // Our Google module: dist/gcp/session.js, or its chunk in the start-up bundle the launcher runs.
    expect(google.some((url) => /\/dist\/gcp\/session\.js|\/dist-bundle\/session-[\w-]+\.js/.test(url)), "our gcp clients module").toBe(true);
    for (const expected of ["/node_modules/@google-cloud/run/", "/node_modules/google-gax/", "/node_modules/@grpc/grpc-js/"]) {
      expect(google.some((url) => url.includes(expected)), expected).toBe(true);
    }
    // The other APIs' clients stay unloaded.
    expect(google.some((url) => url.includes("/@google-cloud/redis/"))).toBe(false);
  });
});
