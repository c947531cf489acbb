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

export async function runMain(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; stderrIsTTY?: boolean; stdoutIsTTY?: boolean; execute?: ExecuteOptions },
): Promise<MainResult> {
  let stdout = "";
  let stderr = "";
  const io: CommandIO = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    stderrIsTTY: options.stderrIsTTY ?? false,
    env: { NO_COLOR: "1", ...options.env },
    cwd: options.cwd,
  };
  const started = performance.now();
  const code = await main(["node", "infra-check", ...args], io, options.execute);
  return { code, stdout, stderr, elapsedMs: performance.now() - started };
}
