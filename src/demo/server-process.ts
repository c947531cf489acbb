// A server binary of the local stack (redis-server, postgres) run as a child
// process: its stdout and stderr are read line by line, the last lines kept for
// error messages, and start is settled by the server's own "ready" log line —
// no polling, no sleeps. A server still running when this process exits is
// killed rather than left behind.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";

/** How long waitForLog() waits by default. */
const DEFAULT_LOG_WAIT_MS = 10_000;

export interface ServerProcessOptions {
  /** How messages name the server, e.g. "postgres" or "redis-server". */
  name: string;
  bin: string;
  args: string[];
  /** uid, gid, env, cwd … of the child; its stdout and stderr are always piped. */
  spawnOptions?: Omit<SpawnOptions, "stdio">;
  /** The log line that means the server is up: start resolves on the first one. */
  readyLine: RegExp;
  /** What the server failed to do when `startTimeoutMs` passes: "<name> <notReady> within N ms". */
  notReady: string;
  startTimeoutMs: number;
  /** How many of the last log lines logs() and the errors show. */
  logLinesKept: number;
  /** Message for a `bin` that does not exist (default: "could not start <bin>: <the spawn error>"). */
  notFoundMessage?: string;
  /** Makes every error, given its message and the log tail: the server's own error class. */
  error: (message: string, logTail: string) => Error;
  /** Sent to the server if this process exits while it runs (default SIGKILL). */
  exitSignal?: NodeJS.Signals;
  /** Removed, too, if this process exits before stop(). */
  removeOnExit?: string;
}

export interface ServerProcess {
  child: ChildProcess;
  /** The last lines the server logged. */
  logs(): string;
  /** Resolve with the next log line matching `pattern` (logged from now on); rejects if the server exits first or after `timeoutMs` (default 10 s). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Send `signal`, and SIGKILL after `killAfterMs` unless it exited (no SIGKILL when omitted). Resolves once it exited. */
  stop(signal: NodeJS.Signals, killAfterMs?: number): Promise<void>;
}

interface LogWaiter {
  pattern: RegExp;
  resolve: (line: string) => void;
  reject: (error: Error) => void;
}

/** Spawn the server and resolve once it logs `readyLine`; rejects (and kills it) if it exits, fails to spawn or is not ready in time. */
export function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const { name, bin, error: makeError } = options;
  const lines: string[] = [];
  const logs = () => lines.join("\n");
  const waiters = new Set<LogWaiter>();
  let exitReason: string | undefined;
  const waitForLog = (pattern: RegExp, timeoutMs = DEFAULT_LOG_WAIT_MS) =>
    new Promise<string>((resolve, reject) => {
      if (exitReason) return reject(makeError(`${name} already exited (${exitReason})`, logs()));
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(makeError(`${name} logged nothing matching ${pattern} within ${timeoutMs} ms`, logs()));
      }, timeoutMs);
      const waiter: LogWaiter = {
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      waiters.add(waiter);
    });
  return new Promise((resolve, reject) => {
    const child = spawn(bin, options.args, { ...options.spawnOptions, stdio: ["ignore", "pipe", "pipe"] });
    let settled = false;
    let partial = "";
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        child.kill("SIGKILL");
        reject(error);
      } else {
        const release = killOnExit(child, options.exitSignal ?? "SIGKILL", options.removeOnExit);
        resolve({ child, logs, waitForLog, stop: (signal, killAfterMs) => stopChild(child, signal, killAfterMs).finally(release) });
      }
    };
    const onData = (chunk: Buffer) => {
      partial += chunk.toString("utf8");
      const complete = partial.split("\n");
      partial = complete.pop() ?? "";
      for (const line of complete) {
        lines.push(line);
        if (lines.length > options.logLinesKept) lines.shift();
        if (options.readyLine.test(line)) finish();
        for (const waiter of waiters) {
          if (waiter.pattern.test(line)) {
            waiters.delete(waiter);
            waiter.resolve(line);
          }
        }
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("error", (error: NodeJS.ErrnoException) => {
      const message = error.code === "ENOENT" && options.notFoundMessage ? options.notFoundMessage : `could not start ${bin}: ${error.message}`;
      finish(makeError(message, logs()));
    });
    child.on("exit", (code, signal) => {
      if (partial) lines.push(partial);
      exitReason = signal ?? `exit code ${code}`;
      for (const waiter of waiters) waiter.reject(makeError(`${name} exited (${exitReason})`, logs()));
      waiters.clear();
      finish(makeError(`${name} exited before it was ready (${exitReason})`, logs()));
    });
    const timer = setTimeout(() => finish(makeError(`${name} ${options.notReady} within ${options.startTimeoutMs} ms`, logs())), options.startTimeoutMs);
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, killAfterMs: number | undefined): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  const killTimer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  try {
    await exited;
  } finally {
    clearTimeout(killTimer);
  }
}

/** Children to kill (and dirs to remove) if this process exits while they run. */
const guarded = new Map<ChildProcess, { signal: NodeJS.Signals; dir?: string }>();
let exitHookInstalled = false;

/**
 * Kill `child` with `signal` and remove `dir` if this process exits before the
 * returned release is called. Killing a child that already exited does nothing.
 */
export function killOnExit(child: ChildProcess, signal: NodeJS.Signals, dir?: string): () => void {
  guarded.set(child, { signal, dir });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const [running, guard] of guarded) {
        running.kill(guard.signal);
        if (guard.dir) rmSync(guard.dir, { recursive: true, force: true });
      }
    });
  }
  return () => {
    guarded.delete(child);
  };
}
