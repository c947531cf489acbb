// `infra-check serve` in-process: a config object → the real monitor, runner
// and HTTP server on an ephemeral loopback port; the JSON log captured.
import { buildConfig, type LoadedConfig } from "../../src/config/load.js";
import { egress } from "../../src/commands/io.js";
import { startServe, type ServeHandle, type ServeSettings } from "../../src/commands/serve.js";
import { captureIO } from "../helpers/main-io.js";

export interface Served {
  handle: ServeHandle;
  url: (path?: string) => string;
  /** The JSON lines logged so far. */
  logs: () => Record<string, unknown>[];
  transitions: (check?: string) => Record<string, unknown>[];
  stop: () => Promise<void>;
}

export function loadConfig(raw: Record<string, unknown>, redactor?: ReturnType<typeof egress>["redactor"]): Promise<LoadedConfig> {
  return buildConfig(raw, { dir: process.cwd(), defaultEnv: "test", env: {}, ...(redactor ? { redactor } : {}) });
}

/**
 * Serve `raw` with a schedule of an hour, so cycles happen when a test asks
 * for them (/probe) and not when time passes. `next` is what a reload loads.
 */
export async function serve(raw: Record<string, unknown>, options: Partial<ServeSettings> & { next?: () => Record<string, unknown>; waitReady?: boolean } = {}): Promise<Served> {
  const captured = captureIO();
  const io = egress(captured);
  const loaded = await loadConfig(raw, io.redactor);
  const { next, waitReady = true, ...given } = options;
  const settings: ServeSettings = { host: "127.0.0.1", port: 0, everyMs: 3_600_000, strict: false, ...given };
  const handle = await startServe(loaded, settings, io, () => loadConfig(next?.() ?? raw, io.redactor));
  if (waitReady) await handle.ready;
  const logs = () =>
    captured
      .out()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    handle,
    url: (path = "/") => new URL(path, handle.url).toString(),
    logs,
    transitions: (check) => logs().filter((line) => line.event === "transition" && (check === undefined || line.check === check)),
    stop: () => handle.stop(),
  };
}

/** GET with an optional bearer token; the body as text. */
export async function get(url: string, init: { token?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers } });
  return { status: response.status, body: await response.text(), headers: response.headers };
}
