// The postgres probe against real PostgreSQL clusters (initdb'ed by the
// stack: SCRAM passwords, TLS with good and expired certificates, a
// hostssl-only role, a role pg_hba.conf does not cover, few connection slots,
// a smart shutdown), closed/silent/blackholed ports and injected DNS
// failures — through the real runner, so classification and evaluation run
// end to end. Every row of issue 4's diagnosis table is a case here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blackholePort, closedPort, silentServer } from "../helpers/net.js";
import { runCheck } from "../helpers/run.js";
import { runMain } from "../helpers/main-io.js";
import { holdSessions, pgCheck, ROLES } from "../helpers/postgres-fixtures.js";
import { startPostgres, type PostgresServer } from "../../src/demo/postgres.js";
import { makeCerts, type CertSet } from "../../src/demo/certs.js";
import { buildConfig } from "../../src/config/load.js";
import { postgresDiagnosis } from "../../src/probes/postgres/diagnose.js";
import { redisDiagnosis } from "../../src/probes/redis/diagnose.js";
import { classify, type ClassifyContext } from "../../src/diagnose/classify.js";
import { metricValue } from "../../src/probes/postgres/run.js";

/** The classifier the runner calls for a postgres check: the kind's rules, then the generic ones. */
const classifyPostgresError = (error: unknown, ctx: ClassifyContext) => classify(error, ctx, { rules: postgresDiagnosis.rules });
import type { LookupFn } from "../../src/probes/api.js";

let certs: CertSet;
/** TLS with a certificate for localhost/127.0.0.1 signed by certs' CA; a hostssl-only role; a role no line covers. */
let main: PostgresServer;
/** TLS with an expired certificate; 4 connection slots, none reserved. */
let expired: PostgresServer;
/** No TLS at all; shut down (smart) by its last test. */
let plain: PostgresServer;

const appRoles = [ROLES.app, ROLES.tlsOnly, ROLES.noHba].map((role) => ({ ...role }));

beforeAll(async () => {
  certs = await makeCerts();
  [main, expired, plain] = await Promise.all([
    startPostgres({
      ssl: { cert: certs.server.cert, key: certs.server.key, ca: certs.caCert },
      databases: ["app"],
      roles: appRoles,
      hba: [
        `hostssl all ${ROLES.tlsOnly.name} 127.0.0.1/32 scram-sha-256`,
        `host all ${ROLES.app.name} 127.0.0.1/32 scram-sha-256`,
        `host all ${ROLES.app.name} ::1/128 scram-sha-256`,
      ],
    }),
    startPostgres({
      ssl: { cert: certs.expired.cert, key: certs.expired.key },
      databases: ["app"],
      roles: [{ ...ROLES.app }],
      maxConnections: 4,
      settings: { superuser_reserved_connections: 0 },
    }),
    startPostgres({ databases: ["app"], roles: [{ ...ROLES.app }] }),
  ]);
  // A table the app role may write to: only the read-only session stops the probe from doing so.
  await main.sql("CREATE TABLE probe_canary (id int); GRANT ALL ON probe_canary TO app", { database: "app" });
});
afterAll(async () => {
  await Promise.all([main?.stop(), expired?.stop(), plain?.stop(), certs?.cleanup()]);
});

const lookupTo = (address: string): LookupFn => async () => [{ address, family: 4 }];
const failingLookup = (code: "ENOTFOUND" | "EAI_AGAIN"): LookupFn => async (hostname) => {
  throw Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, hostname, errno: code === "EAI_AGAIN" ? -3001 : -3008, syscall: "getaddrinfo" });
};

describe("a healthy server", () => {
  it("passes over TLS (sslmode prefer, the default) with every phase and metric", async () => {
    const result = await runCheck(pgCheck(main));
    expect(result.failure).toBeNull();
    expect(result.status).toBe("pass");
    expect(Object.keys(result.phasesMs)).toEqual(["connect", "sslRequest", "tls", "auth", "query"]);
    expect(result.target).toBe(`postgres://app@127.0.0.1:${main.port}/app`);
    const metrics = result.metrics;
    expect(metrics).toMatchObject({ tls: true, inRecovery: false, querySamples: 20, rows: 1, value: 1, serverVersion: main.version });
    for (const name of ["sessionMs", "connectMs", "sslRequestMs", "tlsMs", "authMs", "queryWarmupMs", "queryP50Ms", "queryP95Ms", "queryMaxMs"]) {
      expect(metrics[name], name).toBeGreaterThan(0);
    }
    expect(metrics.queryP50Ms as number).toBeLessThanOrEqual(metrics.queryP95Ms as number);
    expect(metrics.queryP95Ms as number).toBeLessThanOrEqual(metrics.queryMaxMs as number);
    // connectMs is the TCP connect, as in every kind; sessionMs = TCP + SSLRequest + TLS + startup until
    // ReadyForQuery: the phases add up (each rounded to the µs), nothing unattributed.
    const phases = (metrics.connectMs as number) + (metrics.sslRequestMs as number) + (metrics.tlsMs as number) + (metrics.authMs as number);
    expect(metrics.sessionMs as number).toBeGreaterThanOrEqual(phases - 0.005);
    expect(metrics.sessionMs as number, JSON.stringify(metrics)).toBeLessThan(phases * 1.25 + 1);
    expect(result.details?.tls).toMatch(/^TLSv1\.[23] /);
    // The samples are the sampling thread's, on its own connection over TLS as this session negotiated it.
    expect(result.details?.sampler).toMatch(/^sampling thread, own connection/);
    expect(metrics.queryNoisy).toBeTypeOf("boolean");
  });

  it("sslmode disable: plaintext, no tls phase", async () => {
    const result = await runCheck(pgCheck(main, { ssl: "disable" }));
    expect(result.status).toBe("pass");
    expect(result.phasesMs.tls).toBeUndefined();
    expect(result.metrics.tls).toBe(false);
  });

  it("verify-full by host name: a dns phase, and the certificate checked against the name", async () => {
    const result = await runCheck(pgCheck(main, { url: `postgres://app@localhost:${main.port}/app`, ssl: { mode: "verify-full", ca: certs.caCert } }));
    expect(result.failure).toBeNull();
    expect(Object.keys(result.phasesMs)).toEqual(["dns", "connect", "sslRequest", "tls", "auth", "query"]);
    expect(result.metrics.dnsMs).toBeGreaterThanOrEqual(0);
  });

  it("verify-ca checks the chain but not the name (libpq's meaning)", async () => {
    const result = await runCheck(pgCheck(main, { url: `postgres://app@db.example.test:${main.port}/app`, ssl: { mode: "verify-ca", ca: certs.caCert } }), { lookup: lookupTo("127.0.0.1") });
    expect(result.failure).toBeNull();
    expect(result.status).toBe("pass");
  });

  it("host/port/user/database keys instead of a URL, over the Unix socket", async () => {
    const result = await runCheck({ kind: "postgres", host: main.socketDir, port: main.port, user: "app", database: "app", password: ROLES.app.password, ssl: "require" });
    expect(result.failure).toBeNull();
    // libpq never uses TLS on a Unix socket, whatever the mode.
    expect(Object.keys(result.phasesMs)).toEqual(["connect", "auth", "query"]);
  });

  it("the query's first value is the `value` metric (int8 count as a number) and `expect` judges it", async () => {
    const result = await runCheck(pgCheck(main, { query: "SELECT count(*) FROM pg_stat_activity", samples: 1, expect: { value: "< 80" } }));
    expect(result.status).toBe("pass");
    expect(typeof result.metrics.value).toBe("number");
    expect(result.assertions).toMatchObject([{ metric: "value", ok: true }]);
  });

  it("takes fewer samples rather than overrun the budget", async () => {
    const result = await runCheck(pgCheck(main, { query: "SELECT pg_sleep(0.2)", samples: 50, timeout: "1s" }));
    expect(result.status).toBe("pass");
    expect(result.metrics.querySamples as number).toBeLessThan(50);
    expect(result.metrics.querySamples as number).toBeGreaterThanOrEqual(2);
    expect(result.details?.samples).toMatch(/took \d+ of 50 samples/);
    expect(result.durationMs).toBeLessThan(1000);
  });
});

describe("diagnoses against a real server (issue 4's table)", () => {
  it("wrong password (28P01) → auth, and the password is never shown", async () => {
    const wrong = "definitely-Wrong-pa55";
    const result = await runCheck(pgCheck(main, { password: wrong }));
    expect(result.failure).toMatchObject({ class: "auth", code: "28P01", phase: "auth" });
    expect(result.failure!.message).toMatch(/password authentication failed for user "app"/);
    expect(JSON.stringify(result)).not.toContain(wrong);
  });

  it("no pg_hba.conf entry for the role (28000) → auth, also after prefer's retry without TLS", async () => {
    const result = await runCheck(pgCheck(main, {}, ROLES.noHba));
    expect(result.failure).toMatchObject({ class: "auth", code: "28000" });
    expect(result.failure!.message).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "no_hba", database "app", no encryption/);
    expect(result.details?.tls).toMatch(/retried without TLS/);
    expect(result.phasesMs.tls).toBeUndefined();
  });

  it("no password configured for a SCRAM role → auth, said before anything else", async () => {
    const { password: _none, ...check } = pgCheck(main);
    const result = await runCheck(check);
    expect(result.failure).toMatchObject({ class: "auth", code: "NO_PASSWORD" });
    expect(result.failure!.message).toMatch(/asks for a password \(SCRAM-SHA-256\) for user "app", and the check has none configured/);
  });

  it("database does not exist (3D000) → not-found, naming it", async () => {
    const result = await runCheck(pgCheck(main, { url: `postgres://app@127.0.0.1:${main.port}/billing` }));
    expect(result.failure).toMatchObject({ class: "not-found", code: "3D000" });
    expect(result.failure!.message).toMatch(/^database "billing" does not exist on 127\.0\.0\.1:\d+/);
  });

  it("server requires TLS (hostssl only) and the check does not offer it → tls", async () => {
    const result = await runCheck(pgCheck(main, { ssl: "disable" }, ROLES.tlsOnly));
    expect(result.failure).toMatchObject({ class: "tls", code: "28000" });
    expect(result.failure!.message).toMatch(/accepts user "tls_only" on database "app" only over TLS/);
    expect(result.failure!.hint).toMatch(/ssl\.mode: require/);
    // …and with TLS the same role gets in.
    expect((await runCheck(pgCheck(main, { ssl: "require" }, ROLES.tlsOnly))).status).toBe("pass");
  });

  it("verify-full without the CA → tls (untrusted certificate)", async () => {
    const result = await runCheck(pgCheck(main, { ssl: "verify-full" }));
    expect(result.failure).toMatchObject({ class: "tls", phase: "tls", code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
  });

  it("verify-full against a self-signed certificate as the only trust → tls", async () => {
    const result = await runCheck(pgCheck(main, { ssl: { mode: "verify-full", ca: certs.selfSigned.cert } }));
    expect(result.failure).toMatchObject({ class: "tls", phase: "tls" });
  });

  it("verify-full with a name the certificate is not for → tls (hostname mismatch)", async () => {
    const result = await runCheck(pgCheck(main, { url: `postgres://app@db.example.test:${main.port}/app`, ssl: { mode: "verify-full", ca: certs.caCert } }), { lookup: lookupTo("127.0.0.1") });
    expect(result.failure).toMatchObject({ class: "tls", code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });

  it("expired server certificate with verify-full → tls; require does not verify, like libpq", async () => {
    const verified = await runCheck(pgCheck(expired, { ssl: { mode: "verify-full", ca: certs.caCert } }));
    expect(verified.failure).toMatchObject({ class: "tls", code: "CERT_HAS_EXPIRED" });
    expect((await runCheck(pgCheck(expired, { ssl: "require" }))).status).toBe("pass");
    // require with a CA verifies the chain (libpq: sslrootcert turns require into verify-ca).
    expect((await runCheck(pgCheck(expired, { ssl: { mode: "require", ca: certs.caCert } }))).failure).toMatchObject({ class: "tls", code: "CERT_HAS_EXPIRED" });
  });

  it("too many connections (53300) → server-error", async () => {
    const held = await holdSessions(expired, 4);
    try {
      const result = await runCheck(pgCheck(expired, { ssl: "disable" }));
      expect(result.failure).toMatchObject({ class: "server-error", code: "53300", phase: "auth" });
      expect(result.failure!.message).toMatch(/no free connection slot: sorry, too many clients already/);
      expect(result.failure!.hint).toMatch(/max_connections/);
    } finally {
      await held.release();
    }
  });

  it("query over its budget (57014) → timeout naming the query phase, cancelled on the server, within the budget", async () => {
    const result = await runCheck(pgCheck(main, { query: "SELECT pg_sleep(30)", timeout: "1500ms" }));
    expect(result.failure).toMatchObject({ class: "timeout", code: "57014", phase: "query" });
    expect(result.failure!.message).toMatch(/the query phase did not finish within the check's budget \(1\.50 s\)/);
    expect(result.durationMs).toBeLessThan(1500);
    // Nothing of ours keeps running on the server.
    const left = await main.sql("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'infra-check' AND query LIKE '%pg_sleep(30)%' AND state = 'active'");
    expect(left).toEqual([{ n: 0 }]);
  });

  it("a query that tries to write (25006) → config, and nothing is written", async () => {
    const result = await runCheck(pgCheck(main, { query: "INSERT INTO probe_canary VALUES (1)" }));
    expect(result.failure).toMatchObject({ class: "config", code: "25006" });
    expect(result.failure!.message).toMatch(/^the query tries to write; the probe runs read-only/);
    const smuggled = await runCheck(pgCheck(main, { query: "SET default_transaction_read_only = off; INSERT INTO probe_canary VALUES (2)" }));
    expect(smuggled.failure).toMatchObject({ class: "config", code: "42601" });
    expect(await main.sql("SELECT count(*)::int AS n FROM probe_canary", { database: "app" })).toEqual([{ n: 0 }]);
  });

  it("a query on a table that does not exist (42P01) → not-found", async () => {
    const result = await runCheck(pgCheck(main, { query: "SELECT count(*) FROM chat_messages" }));
    expect(result.failure).toMatchObject({ class: "not-found", code: "42P01" });
  });

  it("slow queries over the bound → slow, naming the query phase (incident 3)", async () => {
    const result = await runCheck(pgCheck(main, { query: "SELECT pg_sleep(0.3)", samples: 2, expect: { queryMaxMs: "< 100ms" } }));
    expect(result.status).toBe("fail");
    expect(result.failure!.class).toBe("slow");
    expect(result.failure!.message).toMatch(/^queryMaxMs is \d{3} ms, expected < 100ms — slowest phase: query \d{3} ms$/);
    expect(result.metrics.queryMaxMs as number).toBeGreaterThanOrEqual(300);
  });

  it("warn bounds only warn", async () => {
    const result = await runCheck(pgCheck(main, { query: "SELECT pg_sleep(0.05)", samples: 1, warn: { queryMaxMs: "< 10ms" } }));
    expect(result.status).toBe("warn");
    expect(result.failure!.class).toBe("slow");
  });

  it("the query's value fails its expectation → unhealthy, actual vs expected", async () => {
    const result = await runCheck(pgCheck(main, { query: "SELECT 42", expect: { value: "< 10" } }));
    expect(result.failure).toMatchObject({ class: "unhealthy" });
    expect(result.failure!.message).toBe("value is 42, expected < 10");
  });

  it("connection refused → refused", async () => {
    const port = await closedPort();
    const result = await runCheck(pgCheck({ port }));
    expect(result.failure).toMatchObject({ class: "refused", code: "ECONNREFUSED", phase: "connect" });
  });

  it.each(["EAI_AGAIN", "ENOTFOUND"] as const)("DNS failure %s → dns, naming the host", async (code) => {
    const result = await runCheck(pgCheck(main, { url: `postgres://app@db.internal.example:${main.port}/app` }), { lookup: failingLookup(code) });
    expect(result.failure).toMatchObject({ class: "dns", code, phase: "dns" });
    expect(result.failure!.message).toContain('"db.internal.example"');
  });

  it("no network path (SYN dropped) → unreachable within the budget", async () => {
    const blackhole = await blackholePort();
    try {
      const result = await runCheck(pgCheck(blackhole, { timeout: "500ms" }));
      expect(result.failure).toMatchObject({ class: "unreachable", phase: "connect" });
      expect(result.durationMs).toBeLessThan(700);
    } finally {
      await blackhole.stop();
    }
  });

  it.each([
    ["prefer", "sslRequest", "NO_SSL_ANSWER"],
    ["disable", "auth", "TIMEOUT"],
  ] as const)("a server that accepts and never answers (sslmode %s) → timeout in %s, within the budget", async (mode, phase, code) => {
    const silent = await silentServer();
    try {
      const result = await runCheck(pgCheck(silent, { timeout: "500ms", ssl: mode }));
      expect(result.failure).toMatchObject({ class: "timeout", phase, code });
      expect(result.durationMs).toBeLessThan(600);
    } finally {
      await silent.stop();
    }
  });
});

describe("a server without TLS, then shutting down", () => {
  it("sslmode require → tls (the server does not support SSL)", async () => {
    const result = await runCheck(pgCheck(plain, { ssl: "require" }));
    expect(result.failure).toMatchObject({ class: "tls", code: "SSL_NOT_SUPPORTED", phase: "tls" });
    expect(result.failure!.message).toMatch(/sslmode is require, but 127\.0\.0\.1:\d+ does not support SSL connections/);
  });

  it("sslmode prefer falls back to plaintext on the same connection", async () => {
    const result = await runCheck(pgCheck(plain));
    expect(result.status).toBe("pass");
    expect(result.metrics.tls).toBe(false);
    expect(result.phasesMs.tls).toBeUndefined();
    // The SSLRequest round trip happened (answered N): its own phase, so the phases still add up.
    expect(result.phasesMs.sslRequest).toBeTypeOf("number");
    expect(result.details?.tls).toMatch(/does not offer TLS/);
  });

  it("a smart shutdown in progress (57P03) → server-error", async () => {
    const held = await holdSessions(plain, 1);
    const requested = plain.waitForLog(/received smart shutdown request/);
    const stopped = plain.stop({ mode: "smart" });
    try {
      await requested;
      const result = await runCheck(pgCheck(plain));
      expect(result.failure).toMatchObject({ class: "server-error", code: "57P03", phase: "auth" });
      expect(result.failure!.message).toMatch(/not accepting connections right now: the database system is shutting down \(57P03\)/);
    } finally {
      await held.release();
      await stopped;
    }
  });
});

describe("the one-off command", () => {
  it("runs with --password-env and prints JSON; exit 0", async () => {
    const out = await runMain(["postgres", `postgres://app@127.0.0.1:${main.port}/app`, "--password-env", "APP_DB_PASSWORD", "--samples", "3", "--format", "json"], {
      cwd: process.cwd(),
      env: { APP_DB_PASSWORD: ROLES.app.password },
    });
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout);
    expect(report.checks[0]).toMatchObject({ kind: "postgres", status: "pass", metrics: { querySamples: 3, value: 1 } });
  });

  it("honours PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD and PGSSLMODE like psql", async () => {
    const out = await runMain(["postgres", "--format", "json"], {
      cwd: process.cwd(),
      env: { PGHOST: "127.0.0.1", PGPORT: String(main.port), PGUSER: "app", PGDATABASE: "app", PGPASSWORD: ROLES.app.password, PGSSLMODE: "disable" },
    });
    expect(out.code).toBe(0);
    const check = JSON.parse(out.stdout).checks[0];
    expect(check.target).toBe(`postgres://app@127.0.0.1:${main.port}/app`);
    expect(check.metrics.tls).toBe(false);
  });

  it("HOST:PORT as psql takes it (-h HOST -p PORT), user and database from PG*; exit 0", async () => {
    const out = await runMain(["postgres", `127.0.0.1:${main.port}`, "--format", "json"], {
      cwd: process.cwd(),
      env: { PGUSER: "app", PGDATABASE: "app", PGPASSWORD: ROLES.app.password, PGSSLMODE: "disable" },
    });
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).checks[0].target).toBe(`postgres://app@127.0.0.1:${main.port}/app`);
  });

  it("a bare IPv6 address is a host (psql -h ::1), not a broken URL: probed, not a usage error", async () => {
    const out = await runMain(["postgres", "::1", "--format", "json"], {
      cwd: process.cwd(),
      env: { PGPORT: String(main.port), PGUSER: "app", PGDATABASE: "app", PGSSLMODE: "disable" },
    });
    // The cluster listens on 127.0.0.1 only: nothing answers on ::1, which is the point (it was dialled).
    expect(out.code, out.stderr).toBe(1);
    const check = JSON.parse(out.stdout).checks[0];
    expect(check.target).toBe(`postgres://app@[::1]:${main.port}/app`);
    expect(check.failure.class).not.toBe("config");
  });

  it("URL parts win over PG* variables; --sslmode and --tls-ca verify the server", async () => {
    const out = await runMain(["postgres", `postgres://app@localhost:${main.port}/app`, "--sslmode", "verify-full", "--tls-ca", certs.caCert, "--format", "json"], {
      cwd: process.cwd(),
      env: { PGHOST: "192.0.2.1", PGPORT: "1", PGUSER: "nobody", PGPASSWORD: ROLES.app.password },
    });
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).checks[0].metrics.tls).toBe(true);
  });

  it("a failing check exits 1 with the diagnosis, and the password appears in no output", async () => {
    const wrong = "not-The-pa55word";
    for (const format of ["table", "json"]) {
      const out = await runMain(["postgres", `postgres://app:${encodeURIComponent(wrong)}@127.0.0.1:${main.port}/app`, "--format", format, "--verbose"], { cwd: process.cwd() });
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(/auth/);
      expect(out.stdout).toMatch(/28P01/);
      expect(out.stdout + out.stderr).not.toContain(wrong);
      expect(out.stdout + out.stderr).not.toContain(encodeURIComponent(wrong));
    }
  });

  it("--password-env naming an unset variable is a usage error (exit 2)", async () => {
    const out = await runMain(["postgres", `postgres://app@127.0.0.1:${main.port}/app`, "--password-env", "NOT_SET_ANYWHERE"], { cwd: process.cwd(), env: {} });
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--password-env NOT_SET_ANYWHERE: environment variable NOT_SET_ANYWHERE is not set/);
  });

  it("rejects a bad --sslmode and --samples before probing (exit 2)", async () => {
    const mode = await runMain(["postgres", `postgres://app@127.0.0.1:${main.port}/app`, "--sslmode", "allow-all"], { cwd: process.cwd(), env: {} });
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(/--sslmode: expected one of disable, prefer, require, verify-ca, verify-full, found "allow-all"/);
    const samples = await runMain(["postgres", `postgres://app@127.0.0.1:${main.port}/app`, "--samples", "0"], { cwd: process.cwd(), env: {} });
    expect(samples.code).toBe(2);
    expect(samples.stderr).toMatch(/--samples: expected a whole number/);
  });

  it("--help teaches the flags and shows examples", async () => {
    const out = await runMain(["postgres", "--help"], { cwd: process.cwd() });
    expect(out.code).toBe(0);
    for (const flag of ["--password-env", "--query", "--samples", "--sslmode", "--tls-ca", "--timeout", "--expect"]) expect(out.stdout).toContain(flag);
    expect(out.stdout).toMatch(/Examples:[\s\S]*infra-check postgres postgres:\/\//);
  });
});

describe("config validation (exit 2, nothing probed)", () => {
  const load = (check: Record<string, unknown>) => buildConfig({ checks: { db: check } }, { dir: "/etc/infra-check", defaultEnv: "test", env: {} });

  it.each([
    [{ kind: "postgres", url: "postgres://app@h/db", ssl: "allow" }, /checks\.db\.ssl/],
    [{ kind: "postgres", user: "app" }, /no host/],
    [{ kind: "postgres", url: "postgres://h/db" }, /checks\.db\.url: no user/],
    [{ kind: "postgres", url: "postgres://app:pw@h/db", password: "pw" }, /checks\.db\.password: the password is set twice/],
    [{ kind: "postgres", url: "postgres://app@h/db?connect_timeout=3" }, /URL parameter "connect_timeout" is not supported/],
    [{ kind: "postgres", url: "mysql://app@h/db" }, /expected a postgres:\/\/ or postgresql:\/\/ URL/],
    [{ kind: "postgres", url: "postgres://app@h/db?sslmode=sometimes" }, /sslmode=sometimes: expected one of/],
    [{ kind: "postgres", url: "postgres://app@h/db", samples: 0 }, /checks\.db\.samples/],
    [{ kind: "postgres", url: "postgres://app@h/db", ssl: { mode: "verify-full" }, tls: { insecure: true } }, /tls\.insecure contradicts ssl mode verify-full/],
    [{ kind: "postgres", url: "postgres://app@h/db", expect: { queryP99Ms: "< 1s" } }, /unknown metric "queryP99Ms"/],
    [{ kind: "postgres", url: "postgres://app@h/db", samples: 5, expect: { queryP95Ms: "< 1s" } }, /checks\.db\.expect\.queryP95Ms: queryP95Ms is a 95th percentile, reported from at least 20 samples; samples is 5/],
  ])("%j → %s", async (check, message) => {
    await expect(load(check)).rejects.toThrow(message);
  });

  it("merges URL and keys (keys win) and resolves ssl.ca against the config file", async () => {
    const config = await buildConfig(
      { checks: { db: { kind: "postgres", url: "postgresql://app:p%40ss@db.internal:6543/app?sslmode=verify-full", database: "reports", ssl: { ca: certs.caCert } } } },
      { dir: "/", defaultEnv: "test", env: {} },
    );
    expect(config.checks[0]).toMatchObject({ host: "db.internal", port: 6543, user: "app", database: "reports", password: "p@ss", sslMode: "verify-full", tls: { ca: certs.caCert }, query: "SELECT 1", samples: 20 });
    expect(config.secrets).toContain("p@ss");
    const relative = load({ kind: "postgres", url: "postgres://app@h/db", ssl: { mode: "verify-ca", ca: "./missing-ca.pem" } });
    await expect(relative).rejects.toThrow(/\/etc\/infra-check\/missing-ca\.pem/);
  });
});

describe("classifier rules without a server", () => {
  const ctx = { kind: "postgres", completedPhases: [], budgetMs: 1000, endpoint: "db:5432" };
  const serverError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: "FATAL" });

  it.each([
    [serverError("57P01", "terminating connection due to administrator command"), "server-error"],
    [serverError("42501", "permission denied for table secrets"), "permission"],
    [serverError("08P01", "unsupported startup parameter: options"), "config"],
    [serverError("XX000", "could not read block"), "server-error"],
    [new Error("SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string"), "auth"],
    [new Error("The server does not support SSL connections"), "tls"],
    [new Error("Connection terminated unexpectedly"), "protocol"],
  ])("%s → %s", (error, failureClass) => {
    expect(classifyPostgresError(error, ctx)?.class).toBe(failureClass);
  });

  it("leaves other kinds' errors alone: only a postgres check reads SQLSTATEs", () => {
    const asRedis = classify(serverError("28P01", "password authentication failed"), { ...ctx, kind: "redis" }, { rules: redisDiagnosis.rules });
    expect(asRedis.diagnosis).not.toMatch(/^pg\./);
  });
});

describe("metricValue", () => {
  it.each([
    ["42", 20, 42],
    ["9007199254740993", 20, "9007199254740993"],
    ["3.25", 1700, 3.25],
    ["42", 25, "42"],
    [new Date("2026-01-02T03:04:05Z"), 1184, "2026-01-02T03:04:05.000Z"],
    [Buffer.from([1, 255]), 17, "\\x01ff"],
    [{ ok: true, n: [1, null] }, 3802, { ok: true, n: [1, null] }],
    [null, 23, null],
  ] as const)("%j (type %i) → %j", (input, typeId, expected) => {
    expect(metricValue(input, typeId)).toEqual(expected);
  });
});
