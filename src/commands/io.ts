// Where commands write. Injected so tests can capture output without
// spawning. The egress of a command: whatever is written through it passes
// the invocation's one redactor (every secret from the config, the flags
// and the run registers there), so no output path can skip redaction.
import { Redactor } from "../redact.js";
import { ConfigError } from "../util/errors.js";

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** The terminal's width in columns now (it may change while a run is in flight), when the stream is one. */
  columns?: (stream: "stdout" | "stderr") => number | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The invocation's redactor; egress() adds one when a caller gave none. */
  redactor?: Redactor;
}

/** A CommandIO whose stdout and stderr are redacted. */
export type Egress = CommandIO & { redactor: Redactor };

export function processIO(): Egress {
  return egress({
    stdout: (text) => writeStandard(process.stdout, "stdout", text),
    stderr: (text) => writeStandard(process.stderr, "stderr", text),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    columns: (stream) => (process[stream].isTTY && process[stream].columns > 0 ? process[stream].columns : undefined),
    env: process.env,
    cwd: process.cwd(),
  });
}

/** Wrap `io` so every write is redacted by one redactor (the same object when it already is an egress). */
export function egress(io: CommandIO): Egress {
  if (io.redactor && (io as { [EGRESS]?: true })[EGRESS]) return io as Egress;
  const redactor = io.redactor ?? new Redactor();
  return {
    ...io,
    redactor,
    stdout: (text) => io.stdout(redactor.values(text)),
    stderr: (text) => io.stderr(redactor.values(text)),
    [EGRESS]: true,
  } as Egress;
}

const EGRESS = Symbol("egress");

/**
 * A file on stdout is written synchronously, so a full disk throws right here:
 * that is the machine's state, said as such (exit 2), not a bug in infra-check.
 */
function writeStandard(stream: NodeJS.WriteStream, name: string, text: string): void {
  try {
    stream.write(text);
  } catch (error) {
    throw outputError(name, error as NodeJS.ErrnoException);
  }
}

/** "could not write the report to stdout: no space left on device (ENOSPC)" as a usage-class error. */
export function outputError(name: string, error: NodeJS.ErrnoException): ConfigError {
  const reasons: Record<string, string> = { ENOSPC: "no space left on device", EDQUOT: "disk quota exceeded", EIO: "input/output error", EFBIG: "the file is too large", EBADF: "it is closed" };
  const reason = (error.code && reasons[error.code]) ?? error.message;
  return new ConfigError(`could not write the report to ${name}: ${reason}${error.code ? ` (${error.code})` : ""}`);
}

/**
 * How wide the output may be: COLUMNS when set (as ls and friends honour it:
 * a script or a test can ask for a width), else the terminal's width, else
 * undefined — a file or a pipe, where nothing is wrapped.
 */
export function terminalWidth(io: CommandIO, stream: "stdout" | "stderr"): number | undefined {
  const fromEnv = Number(io.env.COLUMNS);
  if (io.env.COLUMNS && Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return io.columns?.(stream);
}

/** Colour only on a TTY unless FORCE_COLOR; NO_COLOR and --no-color always win. */
export function useColor(flag: boolean | undefined, io: CommandIO, isTTY = io.stdoutIsTTY): boolean {
  if (flag === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== "") return false;
  if (io.env.FORCE_COLOR !== undefined) return io.env.FORCE_COLOR !== "0" && io.env.FORCE_COLOR !== "false";
  return isTTY;
}
