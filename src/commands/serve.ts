// `infra-check serve ENV`: the config's checks as a long-running exporter.
// Flags → a loaded config → the monitor (src/commands/serve/monitor.ts: the
// schedule, one cycle at a time per check) → the HTTP server
// (src/commands/serve/server.ts) → until SIGTERM/SIGINT; SIGHUP reloads the
// config, keeping the old one when the new one is invalid. The log is JSON
// lines on stdout (transitions, reloads, start and stop), through the
// invocation's egress redactor like every other output.
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { loadConfigFile, type LoadedConfig } from "../config/load.js";
import { configProblems, ConfigError, isConfigError, renderProblems } from "../util/errors.js";
import { durationFlag } from "../util/flags.js";
import { formatMs } from "../util/duration.js";
import { MIN_EVERY_MS } from "../config/schema.js";
import type { Redactor } from "../redact.js";
import { EXIT } from "../exit-codes.js";
import type { Egress } from "./io.js";
import type { ExecuteOptions } from "./execute.js";
import { publicNames } from "./execute.js";
import { configPathFor, isConfigPath, loadOptionsFrom } from "./run.js";
import { Monitor, type LogEvent } from "./serve/monitor.js";
import { createServeMetrics } from "./serve/metrics.js";
import { startServer, type RunningServer } from "./serve/server.js";
import { escapeJsonControls } from "../util/neutralize.js";

export const DEFAULT_LISTEN = "127.0.0.1:9464";
/** A guessable token guards nothing. */
const MIN_TOKEN_LENGTH = 16;

export interface ServeFlags {
  config?: string;
  listen?: string;
  every?: string;
  only?: string[];
  skip?: string[];
  timeout?: string;
  deadline?: string;
  strict?: boolean;
  verbose?: boolean;
  allowRemote?: boolean;
  tokenFile?: string;
  tokenEnv?: string;
}

export interface ServeSettings {
  host: string;
  port: number;
  everyMs?: number;
  token?: string;
  strict: boolean;
}

/** A running `serve`: what tests and the command hold on to. */
export interface ServeHandle {
  url: string;
  monitor: Monitor;
  /** Resolves when every check has finished its first cycle. */
  ready: Promise<void>;
  /** Load the config again: the new one if it is valid, else the old one kept and the reason logged. */
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

/** Every flag checked before anything listens or probes: a mistake exits 2 and says what is expected. */
export function parseServeFlags(flags: ServeFlags, env: NodeJS.ProcessEnv, cwd: string): ServeSettings {
  const { host, port } = parseListen(flags.listen ?? DEFAULT_LISTEN);
  if (!isLoopback(host) && !flags.allowRemote) {
    throw new ConfigError(
      `--listen ${flags.listen}: ${host === "0.0.0.0" || host === "::" ? "every interface" : host} is reachable from other machines, and the status page shows every check's target and diagnosis; pass --allow-remote to mean it (with --token-file FILE or --token-env VAR to require a bearer token), or listen on 127.0.0.1`,
    );
  }
  const everyMs = durationFlag("--every", flags.every);
  if (everyMs !== undefined && everyMs < MIN_EVERY_MS) throw new ConfigError(`--every ${flags.every}: at least 1s (a check runs at most once a second; found ${formatMs(everyMs)})`);
  return { host, port, ...(everyMs !== undefined ? { everyMs } : {}), ...tokenOf(flags, env, cwd), strict: Boolean(flags.strict) };
}

/** `HOST:PORT`, `[IPv6]:PORT`, `:PORT` (every interface) or `PORT` (loopback). */
export function parseListen(value: string): { host: string; port: number } {
  const expected = `--listen: expected HOST:PORT such as 127.0.0.1:9464, [::1]:9464 or 0.0.0.0:8080 (with --allow-remote), found "${value}"`;
  const text = value.trim();
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text);
  const plain = /^([^:[\]\s]*):(\d{1,5})$/.exec(text);
  const bare = /^(\d{1,5})$/.exec(text);
  const host = bracketed ? bracketed[1] : plain ? plain[1] || "0.0.0.0" : bare ? "127.0.0.1" : undefined;
  const portText = (bracketed ?? plain ?? bare)?.[bracketed || plain ? 2 : 1];
  if (host === undefined || portText === undefined) throw new ConfigError(expected);
  if (bracketed && !net.isIPv6(host)) throw new ConfigError(expected);
  if (!net.isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)) throw new ConfigError(expected);
  const port = Number(portText);
  if (port > 65535) throw new ConfigError(`--listen ${value}: port ${port} is out of range (0–65535; 0 picks a free one)`);
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  if (net.isIPv4(host)) return host.startsWith("127.");
  return /^::ffff:127\./i.test(host);
}

/** The token comes from a file or a variable, never from a flag value: `ps` shows flags to every user of the machine. */
function tokenOf(flags: ServeFlags, env: NodeJS.ProcessEnv, cwd: string): { token?: string } {
  if (flags.tokenFile && flags.tokenEnv) throw new ConfigError("--token-file and --token-env: give one of them");
  let token: string | undefined;
  if (flags.tokenFile) {
    try {
      token = readFileSync(path.resolve(cwd, flags.tokenFile), "utf8").trim();
    } catch (error) {
      throw new ConfigError(`--token-file ${flags.tokenFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (!token) throw new ConfigError(`--token-file ${flags.tokenFile}: the file is empty; write the token in it (e.g. openssl rand -hex 32 > ${flags.tokenFile})`);
  } else if (flags.tokenEnv) {
    token = env[flags.tokenEnv]?.trim();
    if (!token) throw new ConfigError(`--token-env ${flags.tokenEnv}: environment variable ${flags.tokenEnv} is not set (export it first; the token itself never goes on the command line)`);
  }
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(`${flags.tokenFile ? "--token-file" : "--token-env"}: the token has ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} random ones (openssl rand -hex 32)`);
  }
  return token === undefined ? {} : { token };
}

async function loadFor(envName: string | undefined, flags: ServeFlags, io: Egress, commands: readonly string[]): Promise<LoadedConfig> {
  const file = await configPathFor(envName, flags, io, commands);
  const loaded = await loadConfigFile(file, loadOptionsFrom(flags, io));
  const relative = path.relative(io.cwd, file);
  loaded.file = relative.startsWith("..") ? file : relative;
  if (envName && !flags.config && !isConfigPath(envName)) loaded.env = loaded.env || envName;
  return loaded;
}

/** As a one-shot run does: the config's secrets are masked, the names the user chose never are. */
function registerNames(loaded: LoadedConfig, redactor: Redactor): void {
  for (const secret of loaded.secrets) redactor.add(secret);
  for (const spec of loaded.checks) for (const name of publicNames(spec.name, spec.kind, loaded.probes.get(spec.kind)?.target(spec))) redactor.addPublic(name);
}

/** One JSON line per event, on stdout (through the egress redactor). */
function jsonLog(io: Egress): (event: LogEvent) => void {
  return (event) => io.stdout(escapeJsonControls(JSON.stringify({ time: new Date().toISOString(), ...event })) + "\n");
}

/** Start serving a loaded config; `reloadConfig` loads it again (SIGHUP). */
export async function startServe(loaded: LoadedConfig, settings: ServeSettings, io: Egress, reloadConfig: () => Promise<LoadedConfig>, options: ExecuteOptions & { verbose?: boolean } = {}): Promise<ServeHandle> {
  const log = jsonLog(io);
  if (settings.token) io.redactor.add(settings.token);
  registerNames(loaded, io.redactor);
  for (const note of loaded.notes) io.stderr(`note: ${note}\n`);
  if (loaded.warnings.length) io.stderr(io.redactor.text(renderProblems(loaded.warnings, "warning: ")));
  // Each cycle's deadline counts from the cycle's start, never from the process start.
  const { clockStartMs: _processStart, ...runOptions } = options.runOptions ?? {};
  const monitor = new Monitor(loaded, {
    ...(settings.everyMs !== undefined ? { everyMs: settings.everyMs } : {}),
    redactor: io.redactor,
    env: io.env,
    strict: settings.strict,
    runOptions,
    log,
    ...(options.verbose ? { verbose: (line: string) => io.stderr(line + "\n") } : {}),
  });
  const metrics = createServeMetrics(monitor);
  let server: RunningServer;
  try {
    server = await startServer(monitor, metrics, { host: settings.host, port: settings.port, ...(settings.token ? { token: settings.token } : {}), ...(settings.everyMs ? { everyMs: settings.everyMs } : {}) }, io.redactor, log);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `--listen ${settings.host.includes(":") ? `[${settings.host}]` : settings.host}:${settings.port}`;
    if (code === "EADDRINUSE") throw new ConfigError(`${where}: the address is already in use (another exporter or a second serve?); choose another port`);
    if (code === "EACCES") throw new ConfigError(`${where}: permission denied (ports below 1024 need privileges); choose a port above 1024`);
    if (code === "EADDRNOTAVAIL") throw new ConfigError(`${where}: no interface of this machine has that address`);
    throw error;
  }
  log({
    event: "listening",
    severity: "INFO",
    url: server.url,
    env: monitor.env,
    checks: monitor.checks().length,
    auth: settings.token ? "bearer token" : "none",
    message: `infra-check serve: ${monitor.checks().length} checks of ${monitor.env} at ${server.url} (status page /, /metrics, /probe?check=NAME, /report.json, /healthz)`,
  });
  const ready = monitor.start();
  let reloading = Promise.resolve(true);
  const reload = async (): Promise<boolean> => {
    try {
      const next = await reloadConfig();
      registerNames(next, io.redactor);
      for (const note of next.notes) io.stderr(`note: ${note}\n`);
      const changes = await monitor.reload(next);
      metrics.reloaded(true);
      log({ event: "reloaded", severity: "INFO", file: next.file, ...changes, message: `config reloaded: ${changes.kept.length} kept, ${changes.added.length} added, ${changes.removed.length} removed` });
      return true;
    } catch (error) {
      metrics.reloaded(false);
      const reason = isConfigError(error) ? renderProblems(configProblems(error), "").trimEnd() : String((error as Error)?.message ?? error);
      log({ event: "reload-rejected", severity: "ERROR", file: monitor.file, reason: io.redactor.text(reason), message: `config reload rejected, the running config is kept: ${io.redactor.text(reason.split("\n")[0])}` });
      return false;
    }
  };
  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    monitor,
    ready,
    // One reload at a time: a second SIGHUP waits for the first.
    reload: () => (reloading = reloading.then(reload, reload)),
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all([monitor.stop(), server.close()]);
        log({ event: "stopped", severity: "INFO", message: "infra-check serve stopped" });
      })()),
  };
}

export async function serveCommand(envName: string | undefined, flags: ServeFlags, io: Egress, options: ExecuteOptions = {}, commands: readonly string[] = []): Promise<number> {
  const settings = parseServeFlags(flags, io.env, io.cwd);
  const loaded = await loadFor(envName, flags, io, commands);
  const handle = await startServe(loaded, settings, io, () => loadFor(envName, flags, io, commands), { ...options, verbose: Boolean(flags.verbose) });
  await new Promise<void>((resolve) => {
    const onHup = () => void handle.reload();
    const onStop = () => {
      process.off("SIGHUP", onHup);
      process.off("SIGTERM", onStop);
      process.off("SIGINT", onStop);
      void handle.stop().then(resolve);
    };
    process.on("SIGHUP", onHup);
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
  });
  return EXIT.OK;
}
