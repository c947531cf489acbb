// The backend's HTTP `/health` endpoint, as the chat product serves it: an
// overall status and one entry per dependency with its last response time.
// The demo stack sets its state; `health-degraded` reproduces what the team
// saw when Redis rejected the app ("health JSON said redis: failed") and when
// a 5,083 ms Postgres round trip was reported only by /health (docs/demo.md, rows 1 and 3).
import http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

export type ComponentStatus = "ok" | "degraded" | "failed";

export interface ComponentHealth {
  status: ComponentStatus;
  response_time_ms?: number;
  error?: string;
}

export interface HealthState {
  /** Overall status: `healthy` (200), `degraded` (200, body says so), `unhealthy` (503). */
  status: "healthy" | "degraded" | "unhealthy";
  components: Record<string, ComponentHealth>;
}

export interface HealthServerOptions {
  host?: "127.0.0.1" | "::1";
  /** Reported as `version` (e.g. the revision the demo's Cloud Run service serves). */
  version?: string;
  state?: HealthState;
}

export interface HealthServer {
  host: string;
  port: number;
  /** http://host:port/health */
  url: string;
  setState(state: HealthState): void;
  readonly state: HealthState;
  /** Requests served, for tests. */
  requests(): number;
  stop(): Promise<void>;
}

export const HEALTHY: HealthState = {
  status: "healthy",
  components: {
    redis: { status: "ok", response_time_ms: 1 },
    postgres: { status: "ok", response_time_ms: 2 },
    websocket: { status: "ok" },
  },
};

export async function startHealthServer(options: HealthServerOptions = {}): Promise<HealthServer> {
  const host = options.host ?? "127.0.0.1";
  let state = structuredClone(options.state ?? HEALTHY);
  let served = 0;
  const server = http.createServer((req, res) => {
    served += 1;
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== "/health") {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end(`no route for ${url.pathname}; try /health\n`);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      res.end("use GET\n");
      return;
    }
    const body = JSON.stringify({ status: state.status, version: options.version ?? "local", ...state.components });
    res.writeHead(state.status === "unhealthy" ? 503 : 200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  server.listen(0, host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    host,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/health`,
    setState(next) {
      state = structuredClone(next);
    },
    get state() {
      return structuredClone(state);
    },
    requests: () => served,
    stop: () =>
      (stopped ??= (async () => {
        server.closeAllConnections();
        server.close();
        await once(server, "close").catch(() => undefined);
      })()),
  };
}
