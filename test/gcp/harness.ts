// A Google Cloud emulator seeded with the chat product's cloud side, and a
// way to run checks against it through the real runner (config validation,
// classification, evaluation end to end) with the real client libraries.
import { startGcpEmulator, type GcpEmulator } from "../../src/demo/gcp-emulator/index.js";
import { seedCloudStack, type CloudStackControls, type CloudStackOptions } from "../../src/demo/gcp-fixtures.js";
import { runConfig } from "../helpers/run.js";
import type { CheckResult, RunReport } from "../../src/report/schema.js";
import type { RunOptions } from "../../src/runner/run-checks.js";

export const PROJECT = "acme-staging";
export const REGION = "us-central1";
export const SHA = "3f9c2ab";
export const IMAGE = `us-docker.pkg.dev/${PROJECT}/app/backend:${SHA}`;
export const OLD_IMAGE = `us-docker.pkg.dev/${PROJECT}/app/backend:1d2e3f4`;
export const AUTH_STRING = "7b6c1f4e-2d4a-4c8e-9f0a-5e3d2c1b0a99";

export interface GcpWorld {
  emulator: GcpEmulator;
  stack: CloudStackControls;
  gcp: { project: string; region: string; emulatorHost: string };
  /** Run checks (YAML-shaped objects) against the emulator. */
  run(checks: Record<string, Record<string, unknown>>, options?: RunOptions & { deadline?: string }): Promise<RunReport>;
  /** Run one check and return its result. */
  check(check: Record<string, unknown>, options?: RunOptions & { deadline?: string }): Promise<CheckResult>;
  /** Put the world back to the seeded, healthy state. */
  reset(): void;
  stop(): Promise<void>;
}

export function stackOptions(overrides: Partial<CloudStackOptions> = {}): CloudStackOptions {
  return {
    project: PROJECT,
    region: REGION,
    service: "backend-staging",
    image: IMAGE,
    previousImage: OLD_IMAGE,
    connector: "staging-connector",
    network: "staging-vpc",
    env: {
      REDIS_PASSWORD: { secret: `projects/${PROJECT}/secrets/redis-password-staging` },
      DATABASE_URL: "postgres://app@10.20.0.5:5432/app",
      EMPTY_ONE: "",
    },
    labels: { "commit-sha": SHA },
    instance: "staging-redis-f1adc35c",
    redis: { host: "10.166.204.83", port: 6379, authString: AUTH_STRING },
    secrets: { "redis-password-staging": "s3cr3t-from-secret-manager" },
    ...overrides,
  };
}

export async function startGcpWorld(overrides: Partial<CloudStackOptions> = {}): Promise<GcpWorld> {
  const emulator = await startGcpEmulator();
  const options = stackOptions(overrides);
  let stack = seedCloudStack(emulator.state, options);
  const gcp = { project: PROJECT, region: REGION, emulatorHost: emulator.emulatorHost };
  const run: GcpWorld["run"] = (checks, runOptions = {}) =>
    runConfig({ deadline: runOptions.deadline ?? "10s", checks }, { ...runOptions, deps: { gcp, env: {}, ...runOptions.deps } });
  return {
    emulator,
    get stack() {
      return stack;
    },
    gcp,
    run,
    check: async (check, runOptions) => (await run({ probe: check }, runOptions)).checks[0],
    reset() {
      for (const name of emulator.state.names()) emulator.state.remove(name);
      emulator.state.clearFaults();
      emulator.state.clearSecrets();
      stack = seedCloudStack(emulator.state, options);
    },
    stop: () => emulator.stop(),
  };
}
