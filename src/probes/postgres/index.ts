// kind: postgres — connect/tls/auth/query phases, query round-trip percentiles.
import type { ProbeDefinition } from "../api.js";
import { CERTIFICATE_METRICS } from "../shared/tls.js";
import { certFigure, figures, msFigure } from "../shared/pass-line.js";
import { postgresOneOff } from "./cli.js";
import { displayTarget, parseUrl, schema, urlPassword, type PostgresFields } from "./config.js";
import { postgresDiagnosis } from "./diagnose.js";
import { runPostgres } from "./run.js";

const postgresProbe: ProbeDefinition<PostgresFields> = {
  kind: "postgres",
  summary: "PostgreSQL: connect/auth/query phases, query percentiles",
  schema,
  metrics: {
    dnsMs: { unit: "ms", class: "slow", description: "name resolution (host names only)" },
    connectMs: { unit: "ms", class: "slow", description: "TCP connect" },
    ...CERTIFICATE_METRICS,
    authMs: { unit: "ms", class: "slow", description: "startup and authentication until ReadyForQuery" },
    sessionMs: { unit: "ms", class: "slow", phase: "composite", description: "TCP + TLS + authentication: what an application pays for a new connection" },
    queryP50Ms: { unit: "ms", class: "slow", phase: "query", description: "median query round trip, timed at the socket" },
    queryP95Ms: { unit: "ms", class: "slow", phase: "query", description: "95th percentile query round trip" },
    queryMaxMs: { unit: "ms", class: "slow", phase: "query", description: "slowest query round trip" },
    querySamples: { unit: "count", class: "unhealthy", description: "query round trips taken" },
    value: { class: "unhealthy", description: "first column of the first row of the query" },
    rows: { unit: "count", class: "unhealthy", description: "rows the query returned" },
    serverVersion: { class: "drift", description: "server_version reported at startup" },
    inRecovery: { class: "unhealthy", description: "pg_is_in_recovery(): true on a standby" },
    tls: { class: "tls", description: "the session is encrypted" },
  },
  diagnosis: postgresDiagnosis,
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
  target: (spec) => displayTarget(spec),
  secrets: (spec) => [
    ...(typeof spec.password === "string" ? [spec.password] : []),
    ...(spec.url ? [urlPassword(parseUrl(spec.url))].filter((value): value is string => Boolean(value)) : []),
  ],
  run: runPostgres,
  oneOff: postgresOneOff,
};

export default postgresProbe;
