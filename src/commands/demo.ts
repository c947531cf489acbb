// `infra-check demo`: start the local stack (src/demo/index.ts), run
// config/demo.yaml against it through the same pipeline as `infra-check run`,
// print the report, stop everything — also on Ctrl-C. `--break NAME` injects
// incidents, `--keep` leaves the stack up for the user's own runs.
import path from "node:path";
import { loadConfigFile } from "../config/load.js";
import { EXIT } from "../exit-codes.js";
import { loadReporter } from "../reporters/index.js";
import { EMULATOR_ENV } from "../gcp/resources.js";
import { breaksJson, breaksText, findBreaks } from "../demo/breaks.js";
import { durationFlag, listFlag } from "../util/flags.js";
import { parseOutputFlags } from "./outputs.js";
import { execute, type ExecuteOptions } from "./execute.js";
import type { CommandIO } from "./io.js";
import type { DemoFlags } from "./demo-options.js";
import type { LocalStack } from "../demo/index.js";

/** Signals that end the demo: the stack is stopped first, then the process exits 128 + signal number. */
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type SignalName = keyof typeof SIGNALS;

export interface DemoOptions extends ExecuteOptions {
  /** Tests running in-process leave the process's signal handlers alone… */
  handleSignals?: boolean;
  /** …and end `--keep` (or an unfinished start) with this signal instead. */
  signal?: AbortSignal;
}

export async function demoCommand(flags: DemoFlags, io: CommandIO, options: DemoOptions = {}): Promise<number> {
  if (flags.listBreaks) {
    io.stdout(flags.format === "json" ? breaksJson() : breaksText());
    return EXIT.OK;
  }
  // Everything the user typed is checked before a single server starts.
  const breaks = findBreaks(listFlag(flags.break));
  await loadReporter(flags.format);
  parseOutputFlags(flags.output, io.cwd);
  durationFlag("--wait", flags.wait);

  const { startLocalStack, StackUnavailableError, DEMO_CONFIG } = await import("../demo/index.js");
  const configFile = flags.config ? path.resolve(io.cwd, flags.config) : DEMO_CONFIG;
  const controller = new AbortController();
  let stack: LocalStack | undefined;
  let starting: Promise<LocalStack> | undefined;

  const stopAll = async () => {
    controller.abort(new Error("interrupted"));
    const running = stack ?? (await starting?.catch(() => undefined));
    await running?.stop();
  };
  const removeHandlers = options.handleSignals === false ? () => undefined : onSignals(io, stopAll);
  const onExternalAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onExternalAbort, { once: true });

  try {
    const startedAt = performance.now();
    try {
      starting = startLocalStack({ breaks: breaks.map((entry) => entry.name), signal: controller.signal });
      stack = await starting;
    } catch (error) {
      if (error instanceof StackUnavailableError) {
        io.stderr(`infra-check demo: ${error.message}\n`);
        return EXIT.USAGE;
      }
      throw error;
    }
    if (flags.verbose) {
      const pieces = Object.entries(stack.startupMs).map(([name, ms]) => `${name} ${Math.round(ms)} ms`).join(", ");
      io.stderr(`demo stack up in ${Math.round(performance.now() - startedAt)} ms (${pieces})\n`);
    }
    for (const entry of breaks) io.stderr(`break ${entry.name}: ${entry.description}\n`);
    if (flags.printConfig) {
      const { demoInitConfig } = await import("./demo-init.js");
      const result = await demoInitConfig(stack, io);
      io.stdout(result.text);
      io.stderr(result.table);
      return EXIT.OK;
    }

    // Every Google client of this run talks to the stack's emulator, whatever the
    // shell exports: the demo never reaches a real project (or the metadata server).
    const env = { ...io.env, ...stack.env, [EMULATOR_ENV]: stack.env.DEMO_GCP_EMULATOR_HOST };
    const loaded = await loadConfigFile(configFile, { env, redactor: io.redactor });
    const relative = path.relative(io.cwd, configFile);
    loaded.file = relative.startsWith("..") ? configFile : relative;
    const { exitCode } = await execute(loaded, flags, { ...io, env }, {
      wait: options.wait,
      runOptions: { ...options.runOptions, lookup: stack.lookup },
    });

    if (flags.keep) {
      io.stderr(await keepText(stack, configFile, io));
      if (!controller.signal.aborted) await new Promise<void>((resolve) => controller.signal.addEventListener("abort", () => resolve(), { once: true }));
    }
    return exitCode;
  } finally {
    await stack?.stop();
    options.signal?.removeEventListener("abort", onExternalAbort);
    removeHandlers();
  }
}

/** What `--keep` prints: the endpoints, and how to run checks against them from another shell. */
async function keepText(stack: LocalStack, configFile: string, io: CommandIO): Promise<string> {
  const envFile = await stack.writeEnvFile();
  const width = Math.max(...stack.endpoints.map((endpoint) => endpoint.name.length));
  const quoted = (value: string) => (/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);
  const lines = [
    "",
    "The demo stack keeps running (Ctrl-C stops it and removes its temp dirs):",
    ...stack.endpoints.map((endpoint) => `  ${endpoint.name.padEnd(width)}  ${endpoint.url}`),
    "",
    `Its variables (passwords included, mode 0600) are in ${envFile}:`,
    ...Object.entries(stack.env).map(([name, value]) => `  ${name}=${stack.secretNames.includes(name) ? "(secret: in the env file)" : value}`),
    "",
    "Check it from another shell:",
    `  set -a; . ${quoted(envFile)}; set +a`,
    `  infra-check run --config ${quoted(path.relative(io.cwd, configFile).startsWith("..") ? configFile : path.relative(io.cwd, configFile))}`,
    "",
  ];
  return lines.join("\n") + "\n";
}

/** Install SIGINT/SIGTERM/SIGHUP handlers that stop the stack, then exit 128 + N. Returns the remover. */
function onSignals(io: CommandIO, stopAll: () => Promise<void>): () => void {
  let stopping = false;
  const listeners = (Object.keys(SIGNALS) as SignalName[]).map((signal) => {
    const listener = () => {
      const code = 128 + SIGNALS[signal];
      if (stopping) {
        // A second Ctrl-C: the user does not want to wait for a clean stop.
        process.exit(code);
      }
      stopping = true;
      io.stderr(`\ninfra-check demo: ${signal} — stopping the demo stack…\n`);
      stopAll()
        .catch((error: unknown) => io.stderr(`infra-check demo: could not stop everything cleanly: ${(error as Error).message}\n`))
        .finally(() => process.exit(code));
    };
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}
