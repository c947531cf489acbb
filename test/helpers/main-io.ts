// Run the CLI in-process (main() with an injected CommandIO) and capture what
// it writes: faster than spawning, and lets a test pretend stderr is a TTY.
import { main } from "../../src/cli.js";
import type { CommandIO } from "../../src/commands/io.js";
import type { ExecuteOptions } from "../../src/commands/execute.js";

export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export interface CaptureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stderrIsTTY?: boolean;
  stdoutIsTTY?: boolean;
}

/** A CommandIO that keeps what is written; `out()` / `err()` read it back. */
export function captureIO(options: CaptureOptions = {}): CommandIO & { out: () => string; err: () => string } {
  let stdout = "";
  let stderr = "";
  return {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    stderrIsTTY: options.stderrIsTTY ?? false,
    env: { NO_COLOR: "1", ...options.env },
    cwd: options.cwd ?? process.cwd(),
    out: () => stdout,
    err: () => stderr,
  };
}

export async function runMain(args: string[], options: CaptureOptions & { cwd: string; execute?: ExecuteOptions }): Promise<MainResult> {
  const io = captureIO(options);
  const started = performance.now();
  const code = await main(["node", "infra-check", ...args], io, options.execute);
  return { code, stdout: io.out(), stderr: io.err(), elapsedMs: performance.now() - started };
}
