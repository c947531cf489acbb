// Run the built CLI on a real terminal emulator (tmux, detached, of a given
// size) and read back the screen as a person would see it: wrapping, the
// live status line redrawn in place (and whether it was erased), the layout
// the width chose. stdout and stderr are both the terminal, as in a shell.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BIN } from "./cli.js";

const run = promisify(execFile);

export interface TerminalRun {
  code: number;
  /** Every row the screen showed (scrollback included), trailing blanks removed. */
  rows: string[];
  /** The same, with rows the terminal wrapped joined back into the line that was printed. */
  lines: string[];
}

const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** What a test can do on the terminal while the CLI runs: read the screen, type keys (tmux key names: "C-c"). */
export interface LiveTerminal {
  screen(): Promise<string>;
  /** Resolves once the screen shows `pattern` (re-read on each of tmux's screen updates, bounded by `withinMs`). */
  shows(pattern: RegExp, withinMs?: number): Promise<string>;
  keys(...keys: string[]): Promise<void>;
}

/**
 * `infra-check ARGS` on a `columns`×`height` terminal; `env` is all the environment the CLI gets (plus PATH and HOME).
 * `whileRunning` acts on the terminal before the command has ended (a Ctrl-C typed as a person would).
 */
export async function runInTerminal(
  args: string[],
  options: { columns: number; height?: number; cwd: string; env?: Record<string, string>; whileRunning?: (terminal: LiveTerminal) => Promise<void> },
): Promise<TerminalRun> {
  const dir = mkdtempSync(path.join(tmpdir(), "infra-check-tty-"));
  const socket = path.join(dir, "tmux.sock");
  const channel = `done-${path.basename(dir)}`;
  const tmux = (...rest: string[]) => run("tmux", ["-S", socket, "-f", "/dev/null", ...rest], { timeout: 30_000 });
  try {
    const env = { PATH: process.env.PATH!, HOME: process.env.HOME!, TERM: "xterm-256color", NO_COLOR: "1", METADATA_SERVER_DETECTION: "none", ...options.env };
    const exports = Object.entries(env).map(([name, value]) => `${name}=${quote(value)}`).join(" ");
    const script = path.join(dir, "run.sh");
    // The shell records the exit code, then tells the test the command is over (no polling, no sleeps).
    writeFileSync(
      script,
      // A Ctrl-C reaches the whole foreground group, this shell too: it catches it (so it lives on to report the
      // code) with a handler, which — unlike an ignored signal — the CLI does not inherit.
      `${options.whileRunning ? "trap : INT TERM HUP\n" : ""}cd ${quote(options.cwd)}\nenv -i ${exports} ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(" ")}\necho $? > ${quote(path.join(dir, "code"))}\ntmux -S ${quote(socket)} wait-for -S ${channel}\nexec sleep 60\n`,
    );
    await tmux("new-session", "-d", "-x", String(options.columns), "-y", String(options.height ?? 50), "-s", "cli", `sh ${quote(script)}`);
    if (options.whileRunning) {
      const screen = async () => (await tmux("capture-pane", "-p", "-t", "cli")).stdout;
      const shows = async (pattern: RegExp, withinMs = 10_000) => {
        // tmux has no "screen changed" hook a test can wait on: the screen is read again after each short pause.
        for (const until = performance.now() + withinMs; ; ) {
          const text = await screen();
          if (pattern.test(text)) return text;
          if (performance.now() > until) throw new Error(`the terminal never showed ${pattern}:\n${text}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await options.whileRunning({ screen, shows, keys: async (...keys) => void (await tmux("send-keys", "-t", "cli", ...keys)) });
    }
    await tmux("wait-for", channel);
    const capture = async (join: boolean) =>
      (await tmux("capture-pane", "-p", ...(join ? ["-J"] : []), "-S", "-", "-t", "cli")).stdout.replace(/\n+$/, "").split("\n").map((row) => row.trimEnd());
    const rows = await capture(false);
    const lines = await capture(true);
    return { code: Number(readFileSync(path.join(dir, "code"), "utf8").trim()), rows, lines };
  } finally {
    await tmux("kill-server").catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
