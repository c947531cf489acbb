// kind: postgres — connect/tls/auth/query phases, query round-trip percentiles.
import type { ProbeDefinition } from "../api.js";
import { p95Requires } from "../../net/round-trips.js";
import { CERTIFICATE_METRICS } from "../shared/tls.js";
import { certFigure, figures, msFigure } from "../shared/pass-line.js";
import { postgresOneOff } from "./cli.js";
import { displayTarget, parseUrl, schema, urlPassword, type PostgresFields } from "./config.js";
import { postgresDiagnosis } from "./diagnose.js";
import { PG_RELATIONS, postgresRelations } from "./relations.js";
import { runPostgres } from "./run.js";

const postgresProbe: ProbeDefinition<PostgresFields> = {
  kind: "postgres",
  summary: "PostgreSQL: connect/auth/query phases, query percentiles",
  schema,
  metrics: {
    connectorSetupMs: { unit: "ms", class: "slow", description: "Cloud SQL connector: connect settings and the ephemeral certificate (cloudSql: only)" },
    cloudSqlIp: { class: "drift", description: "the instance address the connector dialled (cloudSql: only)" },
    ephemeralCertExpiresInMinutes: { class: "tls", description: "minutes the connector's ephemeral client certificate is valid (cloudSql: only)" },
    dnsMs: { unit: "ms", class: "slow", description: "name resolution (host names only)" },
    connectMs: { unit: "ms", class: "slow", description: "TCP connect" },
    sslRequestMs: { unit: "ms", class: "slow", description: "the SSLRequest round trip before the TLS handshake (absent with sslmode disable and on Unix sockets)" },
    ...CERTIFICATE_METRICS,
    authMs: { unit: "ms", class: "slow", description: "startup and authentication until ReadyForQuery" },
    sessionMs: { unit: "ms", class: "slow", phase: "composite", description: "TCP + TLS + authentication: what an application pays for a new connection" },
    queryP50Ms: { unit: "ms", class: "slow", phase: "query", description: "median query round trip, timed at the socket" },
    queryP95Ms: { unit: "ms", class: "slow", phase: "query", requires: p95Requires("query"), description: "95th percentile query round trip (only from 20 samples: with fewer it would be the slowest, queryMaxMs)" },
    queryMaxMs: { unit: "ms", class: "slow", phase: "query", description: "slowest query round trip" },
    queryWarmupMs: { unit: "ms", class: "slow", phase: "query", description: "the session's first statement (pg_is_in_recovery()), discarded from the samples" },
    queryLoopDelayMs: { unit: "ms", class: "slow", description: "worst event-loop delay of the thread that stamped the query samples, while sampling" },
    queryNoisy: { class: "unhealthy", description: "the stamping loop's delay exceeded half the figure (queryP95Ms, else queryMaxMs): the figure may be the runner's as much as the server's" },
    querySamples: { unit: "count", class: "unhealthy", description: "query round trips taken" },
    value: { class: "unhealthy", description: "first column of the first row of the query" },
    rows: { unit: "count", class: "unhealthy", description: "rows the query returned" },
    serverVersion: { class: "drift", description: "server_version reported at startup" },
    inRecovery: { class: "unhealthy", description: "pg_is_in_recovery(): true on a standby" },
    tls: { class: "tls", description: "the session is encrypted" },
  },
  diagnosis: { ...postgresDiagnosis, catalogue: { ...postgresDiagnosis.catalogue, ...PG_RELATIONS } },
  passLine: ({ metrics }) =>
    figures(
      metrics.querySamples !== undefined && `${metrics.querySamples === 1 ? "query" : `${String(metrics.querySamples)} queries`}`,
      msFigure("p50", metrics.queryP50Ms),
      msFigure("p95", metrics.queryP95Ms),
      msFigure("session", metrics.sessionMs),
      // "15.18 (Debian 15.18-0+deb12u1)": the version, not the packager.
      typeof metrics.serverVersion === "string" && `PostgreSQL ${metrics.serverVersion.split(" ")[0]}${metrics.inRecovery === true ? " standby" : metrics.inRecovery === false ? " primary" : ""}`,
      metrics.tls === true && "TLS",
      certFigure(metrics),
    ),
  relations: postgresRelations,
  target: (spec) => displayTarget(spec),
  secrets: (spec) => [
    ...(typeof spec.password === "string" ? [spec.password] : []),
    ...(spec.url ? [urlPassword(parseUrl(spec.url))].filter((value): value is string => Boolean(value)) : []),
  ],
  // The Cloud SQL Admin client, imported before any check's clock starts, only when a check goes through the connector.
  prepare: async (specs) => {
    // The sampling worker starts on its own thread while the checks connect (src/net/sampler.ts).
    void (await import("../../net/sampler.js")).startSampler();
    if (!specs.some((spec) => spec.cloudSql)) return;
    const [{ preloadApis }, { CLOUD_SQL_CONNECT }, { MONITORING }, { connectorKeyPair }] = await Promise.all([
      import("../../gcp/session.js"),
      import("../cloud-sql/api.js"),
      import("../shared/monitoring.js"),
      import("./cloud-sql.js"),
    ]);
    // The process's connector key pair is made on a libuv thread meanwhile, before any check's clock starts (not awaited: a check waits for it if it must).
    void connectorKeyPair();
    await preloadApis([CLOUD_SQL_CONNECT, MONITORING]);
  },
  // Slow or timed out: the Cloud SQL instance's own metrics, when the check reaches one (cloudSql:) or depends on one.
  evidence: async (spec, _measurement, ctx) => {
    const instance = spec.cloudSql?.instance ?? [...ctx.dependencies.values()].find((result) => result.kind === "cloud-sql")?.metrics.instance;
    if (typeof instance === "string") await (await import("../cloud-sql/evidence.js")).cloudSqlEvidence(ctx, instance);
  },
  run: runPostgres,
  oneOff: postgresOneOff,
};

export default postgresProbe;
