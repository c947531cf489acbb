// kind: redis — auth, TLS, PING latency percentiles, role.
import { redactUrl } from "../../redact.js";
import type { ProbeDefinition } from "../api.js";
import { p95Requires } from "../../net/round-trips.js";
import { CERTIFICATE_METRICS } from "../shared/tls.js";
import { certFigure, figures, msFigure } from "../shared/pass-line.js";
import { redisOneOff } from "./cli.js";
import { schema, urlPassword, type RedisFields } from "./config.js";
import { REDIS, redisDiagnosis } from "./diagnose.js";
import { REDIS_RELATIONS, redisRelations } from "./relations.js";
import { runRedis } from "./run.js";

const redisProbe: ProbeDefinition<RedisFields> = {
  kind: "redis",
  summary: "Redis: auth, TLS, PING latency percentiles, role",
  schema,
  metrics: {
    pingP50Ms: { unit: "ms", class: "slow", phase: "ping", description: "median PING round trip, timed at the socket" },
    pingP95Ms: { unit: "ms", class: "slow", phase: "ping", requires: p95Requires("ping"), description: "95th percentile PING round trip (only from 20 samples: with fewer it would be the slowest, pingMaxMs)" },
    pingMaxMs: { unit: "ms", class: "slow", phase: "ping", description: "slowest PING round trip" },
    pingWarmupMs: { unit: "ms", class: "slow", phase: "ping", description: "the first PING of the connection, discarded from the samples (one-time client costs)" },
    pingLoopDelayMs: { unit: "ms", class: "slow", description: "worst event-loop delay of the thread that stamped the PING samples, while sampling" },
    pingNoisy: { class: "unhealthy", description: "the stamping loop's delay exceeded half the figure (pingP95Ms, else pingMaxMs): the figure may be the runner's as much as the server's" },
    pingSamples: { unit: "count", class: "unhealthy", description: "PINGs taken" },
    dnsMs: { unit: "ms", class: "slow", description: "name resolution (host names only)" },
    connectMs: { unit: "ms", class: "slow", description: "TCP connect" },
    authMs: { unit: "ms", class: "slow", description: "HELLO / AUTH / SELECT until ready" },
    writeMs: { unit: "ms", class: "slow", description: "canary SET/GET/DEL (write: true)" },
    ...CERTIFICATE_METRICS,
    serverVersion: { class: "drift", description: "redis_version from INFO server" },
    role: { class: "drift", description: "master or replica (INFO replication)" },
    masterLinkStatus: { class: "unhealthy", description: "a replica's link to its primary: up or down" },
    connectedClients: { unit: "count", class: "unhealthy", description: "connected_clients from INFO clients" },
  },
  relations: redisRelations,
  diagnosis: { ...redisDiagnosis, catalogue: { ...REDIS, ...REDIS_RELATIONS } },
  passLine: ({ metrics }) =>
    figures(
      metrics.pingSamples !== undefined && "PONG",
      msFigure("p50", metrics.pingP50Ms),
      msFigure("p95", metrics.pingP95Ms),
      typeof metrics.serverVersion === "string" && `redis ${metrics.serverVersion}${typeof metrics.role === "string" ? ` ${metrics.role}` : ""}`,
      typeof metrics.masterLinkStatus === "string" && `link ${metrics.masterLinkStatus}`,
      msFigure("write", metrics.writeMs),
      certFigure(metrics),
    ),
  target: (spec) => redactUrl(spec.url),
  secrets: (spec) => [...(typeof spec.password === "string" ? [spec.password] : []), ...urlPassword(spec.url)],
  // The sampling worker starts on its own thread while the checks connect (src/net/sampler.ts).
  // The sampling worker starts on its own thread while the checks connect (src/net/sampler.ts).
  prepare: async () => {
    void (await import("../../net/sampler.js")).startSampler();
  },
  // Slow or timed out: the Memorystore instance's own metrics, when the check depends on a memorystore check.
  evidence: async (_spec, _measurement, ctx) => {
    const instance = [...ctx.dependencies.values()].find((result) => result.kind === "memorystore")?.metrics.instance;
    if (typeof instance === "string") await (await import("../memorystore/evidence.js")).memorystoreEvidence(ctx, instance);
  },
  run: runRedis,
  oneOff: redisOneOff,
};

export default redisProbe;
