// Spawn the built CLI (bin/infra-check.js → dist/) as a user would.
import { spawn } from "node:child_process";
import path from "node:path";

export const BIN = path.resolve(import.meta.dirname, "../../bin/infra-check.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

export interface RunningCli {
  child: ReturnType<typeof spawn>;
  /** Resolves with the stderr seen so far once it matches `pattern` (from the CLI's own output: no sleeps). */
  stderrMatches(pattern: RegExp): Promise<string>;
  /** Resolves when the process has exited. */
  result: Promise<CliResult>;
}

/** Start the built CLI and keep it running: for tests that act while it runs (send a signal once a check is in a phase). */
export function startCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunningCli {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", METADATA_SERVER_DETECTION: "none", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiting: { pattern: RegExp; resolve: (text: string) => void }[] = [];
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
    for (const wait of waiting.splice(0)) {
      if (wait.pattern.test(stderr)) wait.resolve(stderr);
      else waiting.push(wait);
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
  return {
    child,
    result,
    stderrMatches: (pattern) =>
      pattern.test(stderr)
        ? Promise.resolve(stderr)
        : Promise.race([
            new Promise<string>((resolve) => waiting.push({ pattern, resolve })),
            result.then((ended) => Promise.reject(new Error(`the CLI exited (${ended.code}) before stderr matched ${pattern}:\n${ended.stderr}\n${ended.stdout}`))),
          ]),
  };
}
