// The redis probe against real redis-server processes (password, ACL users,
// TLS, maxclients, loading, busy, failed snapshots), closed/silent/blackholed
// ports and injected DNS failures — through the real runner, so
// classification and evaluation run end to end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blackholePort, closedPort, silentServer } from "../helpers/net.js";
import { runCheck, runConfig } from "../helpers/run.js";
import { adminClient, blockWithScript, breakSnapshots, latencyProxy, loadingRedis, stallingProxy } from "../helpers/redis-faults.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
import { makeCerts, type CertSet } from "../../src/demo/certs.js";
import { loadReporter } from "../../src/reporters/index.js";
import { main } from "../../src/cli.js";
import { captureIO } from "../helpers/main-io.js";
import { redisOneOff } from "../../src/probes/redis/cli.js";
import type { RunReport } from "../../src/report/schema.js";
import type { LookupFn } from "../../src/probes/api.js";
import type { RunOptions } from "../../src/runner/run-checks.js";

const PASSWORD = "s3cr3t-Redis-pa55";
const PROBE_USER = { name: "probe", password: "probe-Pa55word" };
const PING_ONLY_USER = { name: "pinger", password: "pinger-Pa55word", rules: "~* -@all +ping +client" };
const NO_PING_USER = { name: "mute", password: "mute-Pa55word", rules: "~* -@all +info" };

let secured: RedisServer; // requirepass + ACL users
let open: RedisServer; // no password
let secure: RedisServer; // TLS only, with requirepass
let certs: CertSet; // another CA, for "untrusted" cases
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [secured, open, secure, certs] = await Promise.all([
    startRedisServer({ password: PASSWORD, users: [PROBE_USER, PING_ONLY_USER, NO_PING_USER] }),
    startRedisServer(),
    startRedisServer({ tls: true, password: PASSWORD }),
    makeCerts(),
  ]);
});
afterAll(async () => {
  await Promise.all([secured?.stop(), open?.stop(), secure?.stop(), certs?.cleanup(), ...cleanups.map((cleanup) => cleanup())]);
});

const failingLookup = (code: "ENOTFOUND" | "EAI_AGAIN"): LookupFn => async (hostname) => {
  throw Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, hostname, errno: code === "EAI_AGAIN" ? -3001 : -3008, syscall: "getaddrinfo" });
};

/** Open connections the probe left named `infra-check` on the server (should be none). */
async function probeConnections(server: RedisServer): Promise<number> {
  const admin = adminClient(server);
  try {
    await admin.connect();
    // The server learns about a closed socket on its next event-loop turn: ask a few times.
    for (let round = 0; round < 50; round += 1) {
      const list = String(await admin.call("CLIENT", "LIST"));
      const left = list.split("\n").filter((line) => / name=infra-check /.test(line)).length;
      if (left === 0) return 0;
    }
    return String(await admin.call("CLIENT", "LIST")).split("\n").filter((line) => / name=infra-check /.test(line)).length;
  } finally {
    admin.disconnect();
  }
}

describe("redis probe: healthy servers", () => {
  it("passes with a password: phases, PING percentiles, version and role; no dns phase for an IP literal", async () => {
    const result = await runCheck({ kind: "redis", url: secured.url, password: PASSWORD, samples: 20 });
    expect(result.failure).toBeNull();
    expect(result.status).toBe("pass");
    expect(Object.keys(result.phasesMs)).toEqual(expect.arrayContaining(["connect", "auth", "info"]));
    expect(result.phasesMs.dns).toBeUndefined();
    expect(result.phasesMs.tls).toBeUndefined();
    expect(result.metrics).toMatchObject({ pingSamples: 20, pingWarmupMs: expect.any(Number), pingNoisy: expect.any(Boolean), role: "master", serverVersion: expect.stringMatching(/^\d+\.\d+\.\d+/), connectedClients: expect.any(Number) });
    const { pingP50Ms, pingP95Ms, pingMaxMs } = result.metrics as Record<string, number>;
    expect(pingP50Ms).toBeGreaterThan(0);
    expect(pingP50Ms).toBeLessThanOrEqual(pingP95Ms);
    expect(pingP95Ms).toBeLessThanOrEqual(pingMaxMs);
    // Taken by the sampling thread on its own connection, after this session proved PING works.
    expect(result.details?.sampler).toMatch(/^sampling thread, own connection/);
    expect(result.target).toBe(secured.url);
    expect(await probeConnections(secured)).toBe(0);
  });

  it("fewer than 20 samples: no pingP95Ms (it would be the slowest sample), pingMaxMs says so, details say why", async () => {
    const result = await runCheck({ kind: "redis", url: secured.url, password: PASSWORD, samples: 5 });
    expect(result.status).toBe("pass");
    expect(result.metrics).toMatchObject({ pingSamples: 5, pingMaxMs: expect.any(Number), pingP50Ms: expect.any(Number) });
    expect(result.metrics.pingP95Ms).toBeUndefined();
    expect(result.details?.percentiles).toMatch(/pingP95Ms needs at least 20 samples \(5 taken\)/);
  });

  it("records a dns phase for a host name", async () => {
    const result = await runCheck({ kind: "redis", url: `redis://localhost:${open.port}`, samples: 1 });
    expect(result.status).toBe("pass");
    expect(result.phasesMs.dns).toBeTypeOf("number");
    expect(result.metrics.dnsMs).toBe(result.phasesMs.dns);
  });

  it("authenticates an ACL user (username + password)", async () => {
    const result = await runCheck({ kind: "redis", url: secured.url, username: PROBE_USER.name, password: PROBE_USER.password, samples: 2 });
    expect(result.status).toBe("pass");
    expect(result.metrics.role).toBe("master");
  });

  it("accepts credentials in the URL and masks them in the target", async () => {
    const result = await runCheck({ kind: "redis", url: `redis://${PROBE_USER.name}:${PROBE_USER.password}@127.0.0.1:${secured.port}/0`, samples: 1 });
    expect(result.status).toBe("pass");
    expect(result.target).toBe(`redis://${PROBE_USER.name}:***@127.0.0.1:${secured.port}/0`);
  });

  it("an ACL user without +info still passes: INFO is skipped quietly", async () => {
    const result = await runCheck({ kind: "redis", url: secured.url, username: PING_ONLY_USER.name, password: PING_ONLY_USER.password, samples: 2 });
    expect(result.status).toBe("pass");
    expect(result.metrics.pingSamples).toBe(2);
    expect(result.metrics.serverVersion).toBeUndefined();
    expect(result.details?.info).toMatch(/NOPERM/);
  });

  it("write: true SETs, reads back and DELetes one TTL'd canary key", async () => {
    const result = await runCheck({ kind: "redis", url: secured.url, password: PASSWORD, samples: 1, write: true });
    expect(result.status).toBe("pass");
    expect(result.metrics.writeMs).toBeTypeOf("number");
    const admin = adminClient(secured);
    try {
      await admin.connect();
      expect(await admin.keys("infra-check:canary:*")).toEqual([]);
    } finally {
      admin.disconnect();
    }
  });

  it("speaks TLS with the server's CA: tls phase and tlsMs", async () => {
    const result = await runCheck({ kind: "redis", url: `rediss://localhost:${secure.port}`, password: PASSWORD, tls: { ca: secure.caCert }, samples: 2 });
    expect(result.failure).toBeNull();
    expect(result.phasesMs.tls).toBeTypeOf("number");
    expect(result.metrics.tlsMs).toBeTypeOf("number");
  });

  it("a tls: block turns TLS on for redis:// too; servername verifies an IP connection", async () => {
    const result = await runCheck({ kind: "redis", url: `redis://127.0.0.1:${secure.port}`, password: PASSWORD, tls: { ca: secure.caCert, servername: "localhost" }, samples: 1 });
    expect(result.status).toBe("pass");
  });

  it("PING over the expect bound → slow, measured vs bound; over only the warn bound → warn", async () => {
    const proxy = await latencyProxy(open.port, 15);
    try {
      const url = `redis://127.0.0.1:${proxy.port}`;
      const slow = await runCheck({ kind: "redis", url, samples: 20, timeout: "5s", expect: { pingP95Ms: "< 10ms" } });
      expect(slow.status).toBe("fail");
      expect(slow.failure?.class).toBe("slow");
      expect(slow.failure?.message).toMatch(/pingP95Ms is \d+ ms, expected < 10ms/);
      expect(slow.failure?.hint).toMatch(/network path|blocked server/);
      expect(slow.metrics.pingP50Ms as number).toBeGreaterThanOrEqual(30);

      const warned = await runCheck({ kind: "redis", url, samples: 2, timeout: "5s", expect: { pingMaxMs: "< 5s" }, warn: { pingMaxMs: "< 10ms" } });
      expect(warned.status).toBe("warn");
      expect(warned.failure?.class).toBe("slow");
    } finally {
      await proxy.stop();
    }
  });

  it("role expectation: a primary where a replica is expected → drift", async () => {
    const result = await runCheck({ kind: "redis", url: open.url, samples: 1, expect: { role: "replica" } });
    expect(result.failure).toMatchObject({ class: "drift", message: 'role is "master", expected replica' });
  });
});

// ------------------------------------------------------------------ diagnoses

interface Row {
  check: () => Promise<Record<string, unknown>>;
  options?: () => RunOptions;
  class: string;
  message: RegExp;
  hint?: RegExp;
  phase?: string;
}

async function blackholed(): Promise<number> {
  const hole = await blackholePort();
  cleanups.push(hole.stop);
  return hole.port;
}

async function silent(): Promise<number> {
  const server = await silentServer();
  cleanups.push(server.stop);
  return server.port;
}

const DIAGNOSES: [string, Row][] = [
  ["server requires a password, none configured (NOAUTH)", {
    check: async () => ({ url: secured.url }),
    class: "auth",
    message: /requires AUTH and this check sends none \(NOAUTH/,
    hint: /set `password:` \(e\.g\. \$\{REDIS_PASSWORD\} or a Secret Manager reference/,
    phase: "auth",
  }],
  ["wrong password (WRONGPASS)", {
    check: async () => ({ url: secured.url, password: "not-the-password" }),
    class: "auth",
    message: /rejected the credentials of the default user \(WRONGPASS/,
  }],
  ["unknown ACL user (WRONGPASS)", {
    check: async () => ({ url: secured.url, username: "nobody", password: PROBE_USER.password }),
    class: "auth",
    message: /rejected the credentials of user "nobody"/,
  }],
  ["ACL user without +ping (NOPERM)", {
    check: async () => ({ url: secured.url, username: NO_PING_USER.name, password: NO_PING_USER.password }),
    class: "permission",
    message: /user "mute" is authenticated .* but not allowed/,
    hint: /ACL SETUSER/,
    phase: "ping",
  }],
  ["name does not resolve, permanent (ENOTFOUND)", {
    check: async () => ({ url: "redis://redis.internal:6379" }),
    options: () => ({ lookup: failingLookup("ENOTFOUND") }),
    class: "dns",
    message: /"redis\.internal" does not resolve \(ENOTFOUND\)/,
    phase: "dns",
  }],
  ["name does not resolve, temporary (EAI_AGAIN)", {
    check: async () => ({ url: "redis://redis.internal:6379" }),
    options: () => ({ lookup: failingLookup("EAI_AGAIN") }),
    class: "dns",
    message: /temporary DNS failure resolving "redis\.internal" \(EAI_AGAIN/,
    hint: /temporary resolver failure — check the resolver \/ VPC DNS, not Redis/i,
    phase: "dns",
  }],
  ["ECONNREFUSED", {
    check: async () => ({ url: `redis://127.0.0.1:${await closedPort()}` }),
    class: "refused",
    message: /nothing listening at 127\.0\.0\.1:\d+/,
    phase: "connect",
  }],
  ["SYN unanswered (unreachable)", {
    check: async () => ({ url: `redis://127.0.0.1:${await blackholed()}`, timeout: "300ms" }),
    class: "unreachable",
    message: /no TCP connection to 127\.0\.0\.1:\d+ within 300 ms/,
    hint: /VPC connector/,
    phase: "connect",
  }],
  ["connected, no reply within budget (silent server)", {
    check: async () => ({ url: `redis://127.0.0.1:${await silent()}`, timeout: "300ms" }),
    class: "timeout",
    message: /connected 127\.0\.0\.1:\d+ but no answer during auth within 300 ms/,
    phase: "auth",
  }],
  ["TLS expected but the server is plaintext", {
    // Redis reads the ClientHello as an unfinished inline command and waits: only the budget ends it.
    check: async () => ({ url: `rediss://127.0.0.1:${open.port}`, timeout: "300ms" }),
    class: "tls",
    message: /TCP connected 127\.0\.0\.1:\d+ but the TLS handshake did not finish within 300 ms/,
    phase: "tls",
  }],
  ["TLS certificate from an untrusted CA", {
    check: async () => ({ url: `rediss://localhost:${secure.port}`, password: PASSWORD, tls: { ca: certs.caCert } }),
    class: "tls",
    message: /not trusted|issuer|self-signed/,
    phase: "tls",
  }],
  ["TLS certificate for another name", {
    check: async () => ({ url: `rediss://127.0.0.1:${secure.port}`, password: PASSWORD, tls: { ca: secure.caCert, servername: "redis.internal" } }),
    class: "tls",
    message: /does not match the host name/,
    hint: /servername/,
  }],
  ["plaintext client to a TLS-only port", {
    check: async () => ({ url: `redis://127.0.0.1:${secure.port}`, password: PASSWORD }),
    class: "tls",
    message: /speaks TLS, and this check connected in plaintext/,
    hint: /rediss:\/\//,
  }],
  ["database index out of range", {
    check: async () => ({ url: `${open.url}/99` }),
    class: "not-found",
    message: /no such database \(ERR DB index is out of range\)/,
  }],
];

describe("redis probe: the diagnosis table", () => {
  it.each(DIAGNOSES)("%s", async (_name, row) => {
    const check = { kind: "redis", samples: 2, ...(await row.check()) };
    const result = await runCheck(check, row.options?.() ?? {});
    expect(result.status).toBe("fail");
    expect(result.failure?.class).toBe(row.class);
    expect(result.failure?.message).toMatch(row.message);
    if (row.hint) expect(result.failure?.hint).toMatch(row.hint);
    if (row.phase) expect(result.failure?.phase).toBe(row.phase);
    expect(result.failure?.hint.length).toBeGreaterThan(20);
  });
});

describe("redis probe: servers in a bad state", () => {
  it("LOADING (restarting with a dataset to load) → server-error", async () => {
    const loading = await loadingRedis();
    try {
      const result = await runCheck({ kind: "redis", url: loading.url, samples: 2 });
      expect(result.failure).toMatchObject({ class: "server-error", code: "LOADING" });
      expect(result.failure?.message).toMatch(/loading its dataset into memory/);
      expect(result.failure?.hint).toMatch(/wait/i);
    } finally {
      await loading.stop();
    }
  });

  it("BUSY (blocked by a Lua script) → server-error", async () => {
    const busy = await startRedisServer({ config: { "busy-reply-threshold": 50 } });
    try {
      const block = await blockWithScript(busy);
      try {
        const result = await runCheck({ kind: "redis", url: busy.url, samples: 2 });
        expect(result.failure).toMatchObject({ class: "server-error", code: "BUSY" });
        expect(result.failure?.message).toMatch(/blocked running a script/);
        expect(result.failure?.hint).toMatch(/SCRIPT KILL/);
      } finally {
        await block.release();
      }
    } finally {
      await busy.stop();
    }
  });

  it("MISCONF (last snapshot failed: Redis refuses writes and PING) → server-error", async () => {
    const broken = await startRedisServer();
    try {
      await breakSnapshots(broken);
      const result = await runCheck({ kind: "redis", url: broken.url, samples: 1 });
      expect(result.failure).toMatchObject({ class: "server-error", code: "MISCONF", phase: "ping" });
      expect(result.failure?.message).toMatch(/refuses writes \(and PING\) because its last RDB snapshot failed/);
      expect(result.failure?.hint).toMatch(/disk space/);
    } finally {
      await broken.stop();
    }
  });

  it("a replica: role replica; the canary write is refused (READONLY) → server-error", async () => {
    const replica = await startRedisServer({ config: { replicaof: [open.host, open.port] } });
    try {
      const readOnly = await runCheck({ kind: "redis", url: replica.url, samples: 1, expect: { role: "replica" } });
      expect(readOnly.status).toBe("pass");
      expect(readOnly.metrics.masterLinkStatus).toMatch(/^(up|down)$/);
      const result = await runCheck({ kind: "redis", url: replica.url, samples: 1, write: true });
      expect(result.failure).toMatchObject({ class: "server-error", code: "READONLY", phase: "write" });
      expect(result.failure?.hint).toMatch(/primary endpoint/);
    } finally {
      await replica.stop();
    }
  });

  it("max number of clients reached → server-error, with the server's reason recovered", async () => {
    const full = await startRedisServer({ maxclients: 1 });
    const holder = adminClient(full);
    try {
      await holder.connect();
      const result = await runCheck({ kind: "redis", url: full.url, samples: 1 });
      expect(result.failure).toMatchObject({ class: "server-error", code: "MAXCLIENTS" });
      expect(result.failure?.message).toMatch(/max number of clients reached/);
      expect(result.failure?.hint).toMatch(/CLIENT LIST|maxclients/);
    } finally {
      holder.disconnect();
      await full.stop();
    }
  });
});

describe("redis probe: deadlines", () => {
  it("a silent server ends the check within its budget (+100 ms), the client closed", async () => {
    const server = await silentServer();
    try {
      const started = performance.now();
      const result = await runCheck({ kind: "redis", url: `redis://127.0.0.1:${server.port}`, timeout: "400ms" });
      const elapsedMs = performance.now() - started;
      expect(result.failure?.class).toBe("timeout");
      expect(result.durationMs).toBeLessThan(400 + 100);
      expect(elapsedMs).toBeLessThan(400 + 250); // includes config loading and reporting
    } finally {
      await server.stop();
    }
  });

  it("Redis going silent mid-sampling: timeout in the ping phase, within budget, the samples so far kept", async () => {
    // PING #1 warms the connection up, #2 and #3 are samples; #4 is never answered.
    const proxy = await stallingProxy(open.port, /\bping\b/i, 4);
    try {
      const result = await runCheck({ kind: "redis", url: `redis://127.0.0.1:${proxy.port}`, samples: 10, timeout: "400ms" });
      expect(result.failure).toMatchObject({ class: "timeout", phase: "ping" });
      expect(result.failure?.message).toMatch(/connected 127\.0\.0\.1:\d+ but no answer during ping within 400 ms/);
      expect(result.metrics.pingSamples).toBe(2);
      expect(result.metrics.pingP50Ms).toBeTypeOf("number");
      expect(result.durationMs).toBeLessThan(400 + 100);
    } finally {
      await proxy.stop();
    }
  });

  it("the run deadline cuts a check short and says so", async () => {
    const server = await silentServer();
    try {
      const report = await runConfig({ deadline: "300ms", checks: { cache: { kind: "redis", url: `redis://127.0.0.1:${server.port}`, timeout: "5s" } } });
      expect(report.checks[0].failure?.class).toBe("timeout");
      expect(report.checks[0].failure?.message).toMatch(/cut short by the run deadline/);
      expect(report.durationMs).toBeLessThan(300 + 100);
    } finally {
      await server.stop();
    }
  });
});

// ------------------------------------------------------------------ secrets


async function rendered(report: RunReport): Promise<string> {
  const json = (await loadReporter("json"))(report, { color: false, verbose: true });
  const table = (await loadReporter("table"))(report, { color: false, verbose: true });
  return json + table;
}

describe("redis probe: secrets never leave the process", () => {
  const WRONG = "Wr0ng-but-still-secret-password";

  it.each([
    ["password: field", () => ({ url: secured.url, password: WRONG })],
    ["password in the URL", () => ({ url: `redis://:${WRONG}@127.0.0.1:${secured.port}` })],
    ["user and password in the URL", () => ({ url: `redis://probe:${WRONG}@127.0.0.1:${secured.port}` })],
  ])("a failing run with the %s: not in JSON, table or log lines", async (_name, check) => {
    const lines: string[] = [];
    const report = await runConfig({ checks: { cache: { kind: "redis", samples: 1, ...check() } } }, { log: (line) => lines.push(line) });
    expect(report.checks[0].failure?.class).toBe("auth");
    const output = (await rendered(report)) + lines.join("\n");
    expect(output).toContain("WRONGPASS");
    expect(output).not.toContain(WRONG);
    expect(output).not.toContain(encodeURIComponent(WRONG));
  });

  it("the one-off command reads --password-env, and prints neither the value (json, table, verbose)", async () => {
    for (const format of ["json", "table"]) {
      const io = captureIO({ env: { MY_REDIS_PW: WRONG } });
      const code = await main(["node", "infra-check", "redis", secured.url, "--password-env", "MY_REDIS_PW", "--samples", "1", "--format", format, "--verbose"], io);
      expect(code).toBe(1);
      expect(io.out()).toMatch(/WRONGPASS/);
      expect(io.out() + io.err()).not.toContain(WRONG);
    }
  });
});

// ------------------------------------------------------------------ one-off command

describe("infra-check redis URL", () => {
  it("passes with --password-env and --user, exit 0", async () => {
    const io = captureIO({ env: { PROBE_PW: PROBE_USER.password } });
    const code = await main(["node", "infra-check", "redis", secured.url, "--user", "probe", "--password-env", "PROBE_PW", "--samples", "3", "--format", "json"], io);
    expect(code).toBe(0);
    const report = JSON.parse(io.out()) as RunReport;
    expect(report.checks[0]).toMatchObject({ kind: "redis", status: "pass", metrics: { pingSamples: 3 } });
  });

  it("honours REDISCLI_AUTH like redis-cli", async () => {
    const io = captureIO({ env: { REDISCLI_AUTH: PASSWORD } });
    expect(await main(["node", "infra-check", "redis", secured.url, "--samples", "1"], io)).toBe(0);
    expect(io.out()).not.toContain(PASSWORD);
  });

  it("HOST:PORT as redis-cli takes it (-h HOST -p PORT) → the redis:// URL; exit 0", async () => {
    const io = captureIO({ env: { REDISCLI_AUTH: PASSWORD } });
    expect(await main(["node", "infra-check", "redis", `127.0.0.1:${secured.port}`, "--samples", "1", "--format", "json"], io), io.err()).toBe(0);
    expect((JSON.parse(io.out()) as RunReport).checks[0]).toMatchObject({ kind: "redis", status: "pass", target: `redis://127.0.0.1:${secured.port}` });
  });

  it("HOST alone, a bare IPv6 address and [IPv6]:PORT become redis:// URLs; a URL is kept as given", () => {
    const url = (argument: string) => redisOneOff.toRawCheck(argument, {}, {}).url;
    expect(url("cache.internal")).toBe("redis://cache.internal");
    expect(url("::1")).toBe("redis://[::1]");
    expect(url("[::1]:6380")).toBe("redis://[::1]:6380");
    expect(url("rediss://10.0.0.3:6378")).toBe("rediss://10.0.0.3:6378");
  });

  it("a URL of another scheme is still the kind's usage error (exit 2), not a redis://http://… URL", async () => {
    const io = captureIO();
    expect(await main(["node", "infra-check", "redis", "http://127.0.0.1:6379"], io)).toBe(2);
    expect(io.err()).toMatch(/expected a redis:\/\/ or rediss:\/\/ URL/);
  });

  it("without a password: exit 1 and the NOAUTH diagnosis", async () => {
    const io = captureIO();
    expect(await main(["node", "infra-check", "redis", secured.url, "--samples", "1"], io)).toBe(1);
    expect(io.out()).toMatch(/requires AUTH and this check sends none/);
  });

  it("TLS flags: --tls-ca, --servername", async () => {
    const io = captureIO({ env: { REDISCLI_AUTH: PASSWORD } });
    const code = await main(["node", "infra-check", "redis", `rediss://127.0.0.1:${secure.port}`, "--tls-ca", secure.caCert!, "--servername", "localhost", "--samples", "1"], io);
    expect(code).toBe(0);
  });

  it("--write runs the canary", async () => {
    const io = captureIO();
    expect(await main(["node", "infra-check", "redis", open.url, "--write", "--samples", "1", "--format", "json"], io)).toBe(0);
    expect((JSON.parse(io.out()) as RunReport).checks[0].metrics.writeMs).toBeTypeOf("number");
  });

  it.each([
    [["--password-env", "NOT_SET_ANYWHERE"], /--password-env NOT_SET_ANYWHERE: environment variable NOT_SET_ANYWHERE is not set/],
    [["--samples", "zero"], /--samples: expected a whole number/],
    [["--samples", "0"], /--samples: expected a whole number/],
  ])("bad flags %j → exit 2 with what is expected", async (flags, message) => {
    const io = captureIO();
    expect(await main(["node", "infra-check", "redis", open.url, ...flags], io)).toBe(2);
    expect(io.err()).toMatch(message);
  });

  it("--help teaches the flags and shows examples", async () => {
    const io = captureIO();
    await main(["node", "infra-check", "redis", "--help"], io);
    const help = io.out() + io.err();
    for (const flag of ["--password-env", "--user", "--samples", "--tls-ca", "--servername", "--insecure", "--write", "REDISCLI_AUTH"]) expect(help).toContain(flag);
    expect(help).toContain("infra-check redis redis://");
  });
});

// ------------------------------------------------------------------ config validation

describe("redis check config", () => {
  it.each([
    [{ url: "http://127.0.0.1:6379" }, /checks\.probe\.url: expected a redis:\/\/ or rediss:\/\/ URL/],
    [{ url: "redis://127.0.0.1:6379/cache" }, /checks\.probe\.url: the path selects a database and must be a number/],
    [{ url: "redis://127.0.0.1:6379?password=x" }, /checks\.probe\.url: query parameters are not supported/],
    [{ url: "redis://:a@127.0.0.1:6379", password: "b" }, /checks\.probe\.password: the password is set twice/],
    [{ url: "redis://127.0.0.1:6379", username: "probe" }, /checks\.probe\.username: an ACL user needs a password/],
    [{ url: "redis://127.0.0.1:6379", samples: 0 }, /checks\.probe\.samples/],
    [{ url: "redis://127.0.0.1:6379", write: "yes" }, /checks\.probe\.write/],
    [{ url: "redis://127.0.0.1:6379", passwd: "x" }, /unknown key "passwd"/],
    [{ url: "redis://127.0.0.1:6379", expect: { pingP99Ms: "< 1ms" } }, /unknown metric "pingP99Ms" for kind redis/],
    [{ url: "redis://127.0.0.1:6379", samples: 10, warn: { pingP95Ms: "< 20ms" } }, /checks\.probe\.warn\.pingP95Ms: pingP95Ms is a 95th percentile, reported from at least 20 samples; samples is 10/],
  ])("%j is rejected with the key path", async (check, message) => {
    await expect(runCheck({ kind: "redis", ...check })).rejects.toThrow(message);
  });

  it("accepts a Secret Manager reference as the password (resolved at run time)", async () => {
    const { buildConfig } = await import("../../src/config/load.js");
    const loaded = await buildConfig({ checks: { cache: { kind: "redis", url: "redis://10.0.0.3:6379", password: { secret: "projects/p/secrets/redis" } } } }, { dir: process.cwd(), defaultEnv: "test", env: {} });
    expect(loaded.checks[0].password).toEqual({ secret: "projects/p/secrets/redis" });
  });
});
