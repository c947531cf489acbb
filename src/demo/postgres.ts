// A real PostgreSQL cluster for the tests, the `demo` stack and the
// benchmarks: `initdb` in a temp dir with SCRAM password auth, one `postgres`
// process on a loopback port, its Unix socket in the same dir. PostgreSQL
// refuses to run as root, so as root the cluster belongs to an unprivileged OS
// user (default `postgres`). Readiness is the server's own "ready to accept
// connections" log line — no polling, no sleeps. stop() removes everything.
//
// Throw-away by design: fsync and full-page writes are off, nothing survives stop().
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { accessSync, constants, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { makeCerts, type CertSet } from "./certs.js";
import { freePort } from "./free-port.js";
import { killOnExit, startServerProcess, type ServerProcess } from "./server-process.js";

const run = promisify(execFile);

export interface PostgresTlsFiles {
  cert: string;
  key: string;
  /** CA that signed `cert`: what clients must trust (copied for reference, not for client-cert auth). */
  ca?: string;
}

export interface PostgresRole {
  name: string;
  /** Omit for a role without a password (SCRAM then always fails for it). */
  password?: string;
  /** Default true. */
  login?: boolean;
  superuser?: boolean;
}

export interface PostgresOptions {
  /** Superuser created by initdb (default "infra_check"). */
  user?: string;
  /** Its password (default: random). */
  password?: string;
  /** Database `url`/`database` point at: created unless it is "postgres" (the default). */
  database?: string;
  /** More databases to create, owned by the superuser. */
  databases?: string[];
  /** Login roles to create (non-superusers unless asked); they may connect to every database. */
  roles?: PostgresRole[];
  /** max_connections (default 20). superuser_reserved_connections stays 3 unless `settings` says otherwise. */
  maxConnections?: number;
  /** Serve TLS: `true` makes throw-away certificates (removed on stop), or pass your own files. */
  ssl?: boolean | PostgresTlsFiles;
  /**
   * pg_hba.conf lines for TCP clients, first match wins. Default: every user and
   * database from 127.0.0.1 and ::1 with scram-sha-256 (`host`, so with or without TLS).
   * The superuser always keeps a `host` line of its own so stop() and sql() work.
   */
  hba?: string[];
  /** More server settings (`-c name=value`), e.g. { superuser_reserved_connections: 0 }. */
  settings?: Record<string, string | number | boolean>;
  /** Directory of initdb/postgres (default: $INFRA_CHECK_PG_BINDIR, the newest /usr/lib/postgresql/N/bin, then PATH). */
  binDir?: string;
  /** OS user that owns and runs the cluster when running as root (default "postgres"). */
  osUser?: string;
  /** Give up starting after this long (default 30 s). */
  startTimeoutMs?: number;
}

export interface PostgresServer {
  host: "127.0.0.1";
  port: number;
  /** The superuser. */
  user: string;
  password: string;
  /** The database `url` points at. */
  database: string;
  /** postgres://user:password@127.0.0.1:port/database — carries the password: never print it. */
  url: string;
  /** Directory of the server's Unix socket (also a valid `host` for libpq and infra-check). */
  socketDir: string;
  dataDir: string;
  /** Directory of the PostgreSQL binaries used (pgbench, psql, pg_ctl live there too). */
  binDir: string;
  /** Server version, e.g. "15.8". */
  version: string;
  /** Whether the server offers TLS. */
  ssl: boolean;
  /** CA certificate (PEM path) that signed the server certificate, for TLS servers started with one. */
  caCert?: string;
  /** Certificates made for `ssl: true` (CA, wrong-name, expired, self-signed …), removed on stop. */
  certs?: CertSet;
  pid: number;
  /** PG* variables for libpq tools (psql, pgbench) as the superuser; includes PGPASSWORD. */
  env(): Record<string, string>;
  /** Run SQL as the superuser on a fresh connection (to `database` unless given). Returns the rows. */
  sql<Row = Record<string, unknown>>(text: string, options?: { database?: string; values?: unknown[] }): Promise<Row[]>;
  /** The last lines the server logged. */
  logs(): string;
  /** Resolve with the next log line matching `pattern` (logged from now on); rejects if the server exits first or after `timeoutMs` (default 10 s). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /**
   * Stop the server and remove its directory. `fast` (default) ends sessions at
   * once; `smart` waits for open sessions to end and meanwhile refuses new ones
   * with 57P03 "the database system is shutting down". Idempotent.
   */
  stop(options?: { mode?: "fast" | "smart" }): Promise<void>;
}

export class PostgresServerError extends Error {
  constructor(message: string, readonly logTail = "") {
    super(logTail ? `${message}\n--- postgres log (last lines) ---\n${logTail}` : message);
    this.name = "PostgresServerError";
  }
}

const DEFAULT_USER = "infra_check";
const DEFAULT_MAX_CONNECTIONS = 20;
const DEFAULT_START_TIMEOUT_MS = 30_000;
const FAST_STOP_GRACE_MS = 10_000;
const PORT_ATTEMPTS = 5;
const LOG_LINES_KEPT = 300;
const READY_LINE = /database system is ready to accept connections/;
const PORT_TAKEN = /could not bind IPv4 address.*Address already in use|could not create any TCP\/IP sockets|lock file .* already exists/i;
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/** Sent to a cluster (or initdb) still running when this process exits: immediate shutdown, the postmaster takes its backends down with it. */
const EXIT_SIGNAL = "SIGQUIT";

/** The directory holding initdb and postgres; throws a PostgresServerError that says how to install them. */
export function findPostgresBinDir(explicit?: string): string {
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  if (process.env.INFRA_CHECK_PG_BINDIR) candidates.push(process.env.INFRA_CHECK_PG_BINDIR);
  for (const root of ["/usr/lib/postgresql", "/usr/local/lib/postgresql"]) {
    const versions = readdirSafe(root)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => path.join(root, version, "bin")));
  }
  candidates.push("/usr/local/pgsql/bin", ...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean));
  for (const dir of candidates) {
    if (isExecutable(path.join(dir, "initdb")) && isExecutable(path.join(dir, "postgres"))) return dir;
  }
  throw new PostgresServerError(
    "PostgreSQL server binaries (initdb, postgres) not found: install them (Debian/Ubuntu: apt-get install -y postgresql) " +
      "or set INFRA_CHECK_PG_BINDIR to the directory that holds them",
  );
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const binDir = findPostgresBinDir(options.binDir);
  const user = options.user ?? DEFAULT_USER;
  const password = options.password ?? randomBytes(18).toString("base64url");
  const database = options.database ?? "postgres";
  for (const name of [user, ...(options.databases ?? []), ...(options.roles ?? []).map((role) => role.name), ...(database === "postgres" ? [] : [database])]) {
    // Names go into SQL and pg_hba.conf unquoted: keep them plain.
    if (!IDENTIFIER.test(name)) throw new PostgresServerError(`name ${JSON.stringify(name)}: use lowercase letters, digits and '_'`);
  }
  const owner = await osOwner(options.osUser ?? "postgres");
  const root = await mkdtemp(path.join(tmpdir(), "infra-check-pg-"));
  let generatedCerts: CertSet | undefined;
  try {
    await chmod(root, 0o700);
    const dataDir = path.join(root, "data");
    const pwFile = path.join(root, "pwfile");
    await writeFile(pwFile, password + "\n", { mode: 0o600 });
    // initdb writes the superuser's SCRAM verifier and reads the password from a file, never argv.
    await giveTo(owner, root, pwFile);
    let tlsFiles: PostgresTlsFiles | undefined;
    const initdb = runAs(owner, path.join(binDir, "initdb"), [
      "-D", dataDir, "-U", user, "--auth=scram-sha-256", `--pwfile=${pwFile}`, "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
    ], root);
    if (options.ssl === true) {
      const [certs] = await Promise.all([makeCerts(), initdb]);
      generatedCerts = certs;
      tlsFiles = { cert: certs.server.cert, key: certs.server.key, ca: certs.caCert };
    } else {
      await initdb;
      if (options.ssl) tlsFiles = options.ssl;
    }
    await rm(pwFile, { force: true });
    // The server reads its key as its own user and insists on 0600: copy both into its dir.
    if (tlsFiles) {
      await copyFile(tlsFiles.cert, path.join(root, "server.crt"));
      await copyFile(tlsFiles.key, path.join(root, "server.key"));
      await chmod(path.join(root, "server.key"), 0o600);
      await giveTo(owner, path.join(root, "server.crt"), path.join(root, "server.key"));
    }
    await writeFile(path.join(dataDir, "pg_hba.conf"), hbaText(user, options.hba));

    let lastError: PostgresServerError | undefined;
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt += 1) {
      // The OS hands out a free port; another process may take it before postgres binds it,
      // in which case postgres says so and we try the next one.
      const port = await freePort();
      const args = [
        "-D", dataDir, "-p", String(port), "-k", root,
        ...settingArgs({
          listen_addresses: "127.0.0.1",
          max_connections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
          fsync: "off",
          full_page_writes: "off",
          synchronous_commit: "off",
          shared_buffers: "16MB",
          log_line_prefix: "%m [%p] ",
          ...(tlsFiles ? { ssl: "on", ssl_cert_file: path.join(root, "server.crt"), ssl_key_file: path.join(root, "server.key") } : {}),
          ...options.settings,
        }),
      ];
      let server: ServerProcess;
      try {
        server = await launch(owner, path.join(binDir, "postgres"), args, root, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
      } catch (error) {
        if (error instanceof PostgresServerError && PORT_TAKEN.test(error.logTail)) {
          lastError = error;
          continue;
        }
        throw error;
      }
      const { child, logs, waitForLog } = server;
      const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
      // Until `database` exists, setup statements run in "postgres".
      let created = database === "postgres";
      const sql = async <Row>(text: string, sqlOptions: { database?: string; values?: unknown[] } = {}): Promise<Row[]> => {
        const { default: pg } = await import("pg");
        const client = new pg.Client({
          host: root,
          port,
          user,
          password,
          database: sqlOptions.database ?? (created ? database : "postgres"),
          ssl: false,
          connectionTimeoutMillis: 10_000,
        });
        await client.connect();
        try {
          return (await client.query(text, sqlOptions.values)).rows as Row[];
        } finally {
          await client.end();
        }
      };
      let stopped: Promise<void> | undefined;
      const certs = generatedCerts;
      const stop = (stopOptions: { mode?: "fast" | "smart" } = {}) =>
        (stopped ??= stopServer(server, stopOptions.mode ?? "fast").finally(() => cleanup(root, certs)));
      try {
        for (const name of [...(database === "postgres" ? [] : [database]), ...(options.databases ?? [])]) {
          await sql(`CREATE DATABASE ${name}`, { database: "postgres" });
        }
        created = true;
        for (const role of options.roles ?? []) {
          const attributes = [role.login === false ? "NOLOGIN" : "LOGIN", role.superuser ? "SUPERUSER" : "NOSUPERUSER"];
          const passwordClause = role.password !== undefined ? ` PASSWORD ${quoteLiteral(role.password)}` : "";
          await sql(`CREATE ROLE ${role.name} ${attributes.join(" ")}${passwordClause}`);
        }
        const [{ server_version: version }] = await sql<{ server_version: string }>("SHOW server_version", { database: "postgres" });
        return {
          host: "127.0.0.1",
          port,
          user,
          password,
          database,
          url,
          socketDir: root,
          dataDir,
          binDir,
          version,
          ssl: Boolean(tlsFiles),
          ...(tlsFiles?.ca ? { caCert: tlsFiles.ca } : {}),
          ...(certs ? { certs } : {}),
          pid: child.pid!,
          env: () => ({ PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: user, PGPASSWORD: password, PGDATABASE: database }),
          sql,
          logs,
          waitForLog,
          stop,
        };
      } catch (error) {
        await stop().catch(() => undefined);
        throw error;
      }
    }
    throw lastError ?? new PostgresServerError("could not find a free port for postgres");
  } catch (error) {
    await cleanup(root, generatedCerts);
    throw error;
  }
}

/** pg_hba.conf: local socket and the superuser's own line first, then the caller's lines (or the open default). */
function hbaText(superuser: string, lines: string[] | undefined): string {
  return [
    "# written by infra-check's PostgreSQL stack (src/demo/postgres.ts)",
    "local all all scram-sha-256",
    `host all ${superuser} 127.0.0.1/32 scram-sha-256`,
    ...(lines ?? ["host all all 127.0.0.1/32 scram-sha-256", "host all all ::1/128 scram-sha-256"]),
  ].join("\n") + "\n";
}

function settingArgs(settings: Record<string, string | number | boolean>): string[] {
  return Object.entries(settings).flatMap(([name, value]) => {
    if (!/^[a-z_][a-z0-9_.]*$/.test(name)) throw new PostgresServerError(`server setting ${JSON.stringify(name)}: expected a PostgreSQL parameter name`);
    return ["-c", `${name}=${value === true ? "on" : value === false ? "off" : value}`];
  });
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

interface OsOwner {
  uid: number;
  gid: number;
  name: string;
}

/** As root the cluster must belong to an unprivileged user; otherwise it runs as ourselves. */
async function osOwner(name: string): Promise<OsOwner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile("/etc/passwd", "utf8");
  const entry = passwd.split("\n").map((line) => line.split(":")).find((fields) => fields[0] === name);
  if (!entry) {
    throw new PostgresServerError(
      `running as root, and PostgreSQL refuses to run as root; the OS user "${name}" that should own the cluster does not exist ` +
        `(create it with \`useradd --system ${name}\`, or pass osUser)`,
    );
  }
  return { name, uid: Number(entry[2]), gid: Number(entry[3]) };
}

async function giveTo(owner: OsOwner | undefined, ...paths: string[]): Promise<void> {
  if (!owner) return;
  for (const file of paths) await chown(file, owner.uid, owner.gid);
}

function spawnOptions(owner: OsOwner | undefined) {
  // HOME and the locale must not point at root's: postgres would try to read them.
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C", ...(owner ? { HOME: "/tmp" } : { HOME: process.env.HOME ?? "/tmp" }) };
  return owner ? { uid: owner.uid, gid: owner.gid, env } : { env };
}

/** Run a tool (initdb) to completion; if this process exits meanwhile, the tool is killed and `root` removed. */
async function runAs(owner: OsOwner | undefined, bin: string, args: string[], root: string): Promise<void> {
  const pending = run(bin, args, { ...spawnOptions(owner), cwd: "/" });
  const release = killOnExit(pending.child, EXIT_SIGNAL, root);
  try {
    await pending;
  } catch (error) {
    const failed = error as Error & { stderr?: string };
    throw new PostgresServerError(`${path.basename(bin)} failed: ${failed.message.split("\n")[0]}`, failed.stderr?.trim() ?? "");
  } finally {
    release();
  }
}

function launch(owner: OsOwner | undefined, bin: string, args: string[], root: string, startTimeoutMs: number): Promise<ServerProcess> {
  return startServerProcess({
    name: "postgres",
    bin,
    args,
    spawnOptions: { ...spawnOptions(owner), cwd: "/" },
    readyLine: READY_LINE,
    notReady: "was not ready",
    startTimeoutMs,
    logLinesKept: LOG_LINES_KEPT,
    error: (message, logTail) => new PostgresServerError(message, logTail),
    exitSignal: EXIT_SIGNAL,
    removeOnExit: root,
  });
}

function stopServer(server: ServerProcess, mode: "fast" | "smart"): Promise<void> {
  // SIGTERM = smart shutdown (waits for sessions), SIGINT = fast (ends them).
  // A smart shutdown waits for its sessions as long as they last; a fast one that lingers is killed.
  return server.stop(mode === "smart" ? "SIGTERM" : "SIGINT", mode === "fast" ? FAST_STOP_GRACE_MS : undefined);
}

async function cleanup(root: string, certs: CertSet | undefined): Promise<void> {
  await rm(root, { recursive: true, force: true });
  await certs?.cleanup();
}

function readdirSafe(dir: string): string[] {
  // Only used while looking for binaries; a missing dir is just "not here".
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
