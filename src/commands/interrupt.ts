// Ctrl-C, SIGTERM (a CI job's timeout, `docker stop`, Kubernetes) and SIGHUP
// (the terminal closed) during a run. The first signal aborts the run's
// AbortSignal: each running check's clients close, a running PostgreSQL query
// is cancelled on the server, a token command's process group is killed — and
// the run still ends the normal way: the partial report (running checks are
// `interrupted`, with the phase they were in), the --output files, exit 128 + N.
// A second signal exits at once. `serve` and `demo` handle signals their own way.
import { INTERRUPT_SIGNALS, Interrupted, type InterruptSignal } from "../util/deadline.js";
import { signalExitCode } from "../exit-codes.js";
import type { CommandIO } from "./io.js";

export interface RunInterrupt {
  /** Aborts (reason: Interrupted) on the first signal. */
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: InterruptSignal | undefined;
  /** Give the signals back to Node's defaults. */
  dispose(): void;
}

/** `beforeNotice`: erase what the terminal shows in place (the live progress line) before the notice is written. */
export function watchInterrupts(io: Pick<CommandIO, "stderr">, beforeNotice: () => void = () => undefined): RunInterrupt {
  const controller = new AbortController();
  let received: InterruptSignal | undefined;
  const listeners = (Object.keys(INTERRUPT_SIGNALS) as InterruptSignal[]).map((name) => {
    const listener = () => {
      // A second signal: the user does not want to wait for the clean end.
      if (received) return exitAtOnce(signalExitCode(name));
      received = name;
      const again = name === "SIGINT" ? "Ctrl-C" : name;
      beforeNotice();
      // Short enough for an 80-column terminal.
      io.stderr(`\ninfra-check: ${name}: stopping the running checks (${again} again: quit now)\n`);
      controller.abort(new Interrupted(name));
    };
    process.on(name, listener);
    return [name, listener] as const;
  });
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose() {
      for (const [name, listener] of listeners) process.off(name, listener);
    },
  };
}

/**
 * process.exit() joins libuv's thread pool on the way out: a getaddrinfo that
 * never returns would hold "at once" for as long as the resolver's timeouts.
 * As the launcher does (bin/infra-check.js), become `sh -c 'exit N'` then.
 */
function exitAtOnce(code: number): never {
  const stuckLookup = process.getActiveResourcesInfo().some((name) => name === "GetAddrInfoReqWrap" || name === "GetNameInfoReqWrap");
  const execve = (process as { execve?: (file: string, args: string[]) => never }).execve;
  if (stuckLookup && typeof execve === "function") {
    try {
      execve.call(process, "/bin/sh", ["sh", "-c", `exit ${code}`]);
    } catch {
      // no /bin/sh: the ordinary exit below
    }
  }
  process.exit(code);
}
