// Commander wiring only. Command modules are imported lazily so `--help`
// stays close to bare `node` start-up time.
import { Command, CommanderError } from "commander";
import { PROBES, PROBE_KINDS, kindForCommand, loadProbe } from "./probes/index.js";
import { addRunOptions, type RunFlags } from "./commands/run-options.js";
import { addDemoOptions, type DemoFlags } from "./commands/demo-options.js";
import { addServeOptions } from "./commands/serve-options.js";
import type { ServeFlags } from "./commands/serve.js";
import { egress, outputError, processIO, type CommandIO, type Egress } from "./commands/io.js";
import { EXIT } from "./exit-codes.js";
import { configProblems, isConfigError, renderProblems } from "./util/errors.js";
import { HELP_WIDTH, helpWidth } from "./help-cache.js";
import { closest } from "./util/did-you-mean.js";
import type { ExecuteOptions } from "./commands/execute.js";

const EXIT_CODES_HELP = `
Exit codes:
  0  every check passed (warnings allowed, unless --strict)
  1  at least one check failed or was blocked
  2  usage or config error — nothing was probed
  3  internal error (a bug in infra-check: please report it)
  130, 143, 129  interrupted by SIGINT (Ctrl-C), SIGTERM or SIGHUP: the partial
     report (running checks "interrupted", with their phase) and the --output
     files are written first; a second signal exits at once`;

const MAIN_HELP = `
Examples:
  $ infra-check demo                         a local stack, checked end to end
  $ infra-check init --from-cloud-run backend --project P --region R
                                             a first config from a deployed service
  $ infra-check staging                      run config/staging.yaml
  $ infra-check staging --only cache,db -v   two checks, with phase timings
  $ infra-check ./prod.yaml --format json > report.json   any file (= --config)
  $ infra-check validate production          check a config without probing
  $ infra-check serve staging                 the same checks as an exporter
  $ infra-check runner deploy vpc staging     a Cloud Run Job for runner: vpc checks
  $ infra-check http https://api.example.com/health --expect 'json.status=healthy'
  $ infra-check redis redis://10.0.0.3:6379 --password-env REDIS_PASSWORD

Every failing check names the layer that broke (dns, refused, unreachable,
tls, auth, permission, not-found, protocol, server-error, timeout, slow,
unhealthy, drift, config) and what to do next. Checks run concurrently, each
under its own budget, and the whole run under --deadline.
${EXIT_CODES_HELP}

Environment:
  NO_COLOR / FORCE_COLOR   disable / force colours
  GITHUB_ACTIONS=true      a table run also prints ::error/::warning annotations
                           and appends the Markdown summary to
                           $GITHUB_STEP_SUMMARY (--no-ci-annotations: neither)
  INFRA_CHECK_GCP_EMULATOR_HOST=host:port   talk to a local Google Cloud API emulator`;

const RUNNER_HELP = `
A runner is a vantage point inside the network your checks target: a Cloud
Run Job on the same VPC connector (or Direct VPC network) as the service.
Declare it under runners: and put runner: NAME on the private checks; a run
sends them in one execution and merges the results into the one report.

  runners:
    vpc:
      cloudRunJob:
        job: infra-check-probe
        image: us-docker.pkg.dev/P/tools/infra-check:0.2.0
        vpcConnector: staging-connector
  checks:
    cache:
      kind: redis
      url: redis://10.166.204.83:6379
      password: { secret: projects/P/secrets/redis }
      runner: vpc

Secrets never travel to the job: write { secret: … } / { memorystoreAuth: … }
references (resolved inside, by the job's service account), not \${VAR}s.
See docs/runners.md for setup, IAM, the image and cold-start budgets.`;

export async function main(argv: string[], given: CommandIO = processIO(), options: ExecuteOptions = {}): Promise<number> {
  // Every write of this invocation passes one redactor (the config's and the run's secrets register there).
  const io = egress(given);
  let exitCode: number = EXIT.OK;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const program = new Command("infra-check")
    .description("Is this environment healthy, and if not, which layer is broken and what do I do?")
    .version((await import("./version.js")).VERSION, "-V, --version")
    .argument("[env]", "environment: runs config/<env>.yaml (a path or a .yaml/.yml name is a config file, like --config)")
    .showHelpAfterError("(run infra-check --help for usage)")
    .enablePositionalOptions()
    // `infra-check help [command]`, as git and npm take it; commander adds it only to programs without an action.
    .helpCommand("help [command]", "print the help of infra-check or of a command (as --help does)")
    .exitOverride()
    // Help wraps at 80 columns at most (readable on wide terminals; the same text the start-up fast path prints).
    // Usage errors quote the argv they reject (`--password=…`): they go through the egress redactor too.
    .configureOutput({ writeOut: io.stdout, writeErr: (text) => io.stderr(io.redactor.text(text)), getOutHelpWidth: () => helpWidth(process.stdout), getErrHelpWidth: () => helpWidth(process.stderr) })
    .addHelpText("after", MAIN_HELP);
  const commandNames = () => program.commands.flatMap((command) => [command.name(), ...command.aliases()]);
  addRunOptions(program).action(async (env: string | undefined, flags: RunFlags, command: Command) => {
    // More than one operand: the first was meant as a command (`infra-check reds URL`), an environment takes none.
    if (command.args.length > 1) {
      io.stderr(io.redactor.text(unknownCommand(command.args[0], commandNames())));
      setExit(EXIT.USAGE);
      return;
    }
    if (!env && !flags.config) {
      io.stderr(shortUsage());
      setExit(EXIT.USAGE);
      return;
    }
    const { runCommand } = await import("./commands/run.js");
    setExit(await runCommand(env, flags, io, options, commandNames()));
  });

  addRunOptions(
    program
      .command("run")
      .argument("[env]", "environment: runs config/<env>.yaml (a path or a .yaml/.yml name is a config file, like --config)")
      .description("run the checks of an environment (same as `infra-check <env>`)")
      .addHelpText("after", EXIT_CODES_HELP),
  ).action(async (env: string | undefined, flags: RunFlags) => {
    const { runCommand } = await import("./commands/run.js");
    setExit(await runCommand(env, flags, io, options));
  });

  program
    .command("validate")
    .argument("[env]", "environment: validates config/<env>.yaml (or a config file: ./prod.yaml)")
    .option("-c, --config <file>", "validate this file instead")
    .option("-f, --format <format>", "table | json", "table")
    .description("validate a config (schema, durations, dependsOn, env vars) without probing anything")
    .action(async (env: string | undefined, flags: { config?: string; format?: string }) => {
      const { validateCommand } = await import("./commands/validate.js");
      setExit(await validateCommand(env, flags, io));
    });

  program
    .command("compare")
    .argument("<old>", "earlier JSON report (--format json output or a --history file)")
    .argument("<new>", "later JSON report")
    .option("-f, --format <format>", "table | json | markdown", "table")
    .option("--factor <n>", "mark a metric as regressed at this many times the old value (default 2)")
    .option("--min-delta <duration>", "… and at least this much slower (default 50ms)")
    .option("--no-color", "no ANSI colours")
    .description("per-check, per-phase timing differences between two saved reports (triage, PR comments)")
    .addHelpText(
      "after",
      `
A metric regresses (↑) when it is at least --factor times the old value AND at
least --min-delta slower: the rule --baseline uses. Exit 0, or 2 for a missing
or unreadable report.

Examples:
  $ infra-check staging --format json > after.json
  $ infra-check compare before.json after.json
  $ infra-check compare before.json after.json --format markdown >> "$GITHUB_STEP_SUMMARY"`,
    )
    .action(async (oldFile: string, newFile: string, flags: { format?: string; factor?: string; minDelta?: string; color?: boolean }) => {
      const { compareCommand } = await import("./commands/compare.js");
      setExit(await compareCommand(oldFile, newFile, flags, io));
    });

  addDemoOptions(
    program.command("demo").description("start a local stack (Redis, PostgreSQL, WebSocket chat, /health, Google Cloud emulator) and check it end to end; --break injects incidents"),
  ).action(async (flags: DemoFlags) => {
    const { demoCommand } = await import("./commands/demo.js");
    // The demo's deadline is the run's: its stack's start-up (initdb…) is not part of it.
    setExit(await demoCommand(flags, io, { ...options, runOptions: { ...options.runOptions, clockStartMs: undefined } }));
  });

  addServeOptions(
    program
      .command("serve")
      .argument("[env]", "environment: serves config/<env>.yaml (or a config file: ./prod.yaml)")
      .description("run the checks continuously: Prometheus /metrics, /probe, /healthz, /report.json and a status page"),
  ).action(async (env: string | undefined, flags: ServeFlags) => {
    if (!env && !flags.config) {
      io.stderr("infra-check serve: name an environment (infra-check serve staging) or pass --config FILE\n(run infra-check serve --help for usage)\n");
      setExit(EXIT.USAGE);
      return;
    }
    const { serveCommand } = await import("./commands/serve.js");
    setExit(await serveCommand(env, flags, io, options, commandNames()));
  });

  const runner = program
    .command("runner")
    .description("the Cloud Run Job runner: run private checks inside the VPC (runner: NAME); deploy and inspect its job")
    .addHelpText("after", RUNNER_HELP);
  for (const [verb, description, teach] of [
    [
      "deploy",
      "create or update the runner's Cloud Run job from runners.NAME.cloudRunJob (idempotent, labelled managed-by: infra-check)",
      `
It reads runners.NAME from the config (config/<env>.yaml or --config) and
creates the job, or updates it when its image, network, service account or
timeout differ; a job not labelled managed-by: infra-check is never changed.
--print shows the equivalent gcloud commands and the IAM bindings instead:
run.jobs.runWithOverrides (roles/run.developer) and logging.logEntries.list
for whoever runs infra-check; secretmanager.versions.access on each secret
the runner's checks reference (and roles/cloudsql.client when they use the
Cloud SQL connector) for the job's service account.

Examples:
  $ infra-check runner deploy vpc staging --print   the gcloud commands
  $ infra-check runner deploy vpc staging           create or update the job
  $ infra-check runner status vpc staging           the job, last executions`,
    ],
    [
      "status",
      "show the runner's job: image, network, identity and its last executions",
      `
Examples:
  $ infra-check runner status vpc staging
  $ infra-check runner status vpc --config config/staging.yaml`,
    ],
  ] as const) {
    const command = runner
      .command(verb)
      .argument("<name>", "the runner, as declared under runners:")
      .argument("[env]", "environment: reads config/<env>.yaml (or pass --config FILE)")
      .option("-c, --config <file>", "read this config file instead of config/<env>.yaml");
    if (verb === "deploy") command.option("--print", "print the gcloud commands and IAM bindings instead of calling the API");
    command
      .description(description)
      .addHelpText("after", teach)
      .action(async (name: string, env: string | undefined, flags: { config?: string; print?: boolean }) => {
        const module = await import("./commands/runner.js");
        setExit(await (verb === "deploy" ? module.runnerDeployCommand : module.runnerStatusCommand)(name, env, flags, io));
      });
  }
  runner
    .command("exec")
    .description("what the runner's job runs: the checks the lead ships in $INFRA_CHECK_RUNNER_PAYLOAD; one result line on stdout (not for humans)")
    .action(async () => {
      const { runnerExecCommand } = await import("./commands/runner.js");
      setExit(await runnerExecCommand(io, options));
    });

  program
    .command("schema")
    .option("-o, --output <file>", "write it to FILE (atomically) instead of stdout")
    .description("print the config file's JSON Schema (for editors), generated from the validator's own schemas")
    .addHelpText("after", "\nReference it from a config so editors complete and check keys:\n  # yaml-language-server: $schema=../schema/infra-check.schema.json")
    .action(async (flags: { output?: string }) => {
      const { schemaCommand } = await import("./commands/schema.js");
      setExit(await schemaCommand(flags, io));
    });

  // `init`: declared in full (its kinds' flags loaded from their init hooks) only when it is the command.
  const initInvoked = (asksHelpFor(argv) ?? argv[2]) === "init";
  if (initInvoked) {
    const { addInitOptions, INIT_SUMMARY } = await import("./commands/init-options.js");
    (await addInitOptions(program.command("init").description(INIT_SUMMARY))).action(async (flags: Record<string, unknown>) => {
      const { initCommand } = await import("./commands/init.js");
      // The file's header names the command that made it (init's flags carry no secrets).
      // Not how or where it was written (--force, -o, --timeout): a re-run with other ones makes the same file.
      const shown = argv.slice(2).filter((arg, index, all) => !/^(--force|-o|--output|--timeout)(=.*)?$/.test(arg) && !/^(-o|--output|--timeout)$/.test(all[index - 1] ?? ""));
      const quoted = shown.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`));
      setExit(await initCommand(flags, io, { commandLine: `infra-check ${quoted.join(" ")}` }));
    });
  } else {
    program.command("init").description(INIT_LISTED).allowUnknownOption();
  }

  // One-off probe commands: the invoked one (or the one `help` asks about) is
  // declared in full, its module loaded for its flags; the others only by
  // name, for the command list.
  const asksHelp = argv[2] === "help";
  const invoked = kindForCommand((asksHelp ? argv[3] : argv[2]) ?? "");
  let misusedHelp: string | undefined;
  for (const kind of PROBE_KINDS) {
    const entry = PROBES[kind];
    if (invoked === kind) {
      const probe = await loadProbe(kind);
      if (probe.oneOff) {
        const { defineOneOff, helpGivenAValue, helpValueMessage } = await import("./commands/oneoff.js");
        const command = defineOneOff(program, probe, io, setExit, options);
        const misuse = asksHelp ? undefined : helpGivenAValue(command, argv.slice(3));
        if (misuse) misusedHelp = helpValueMessage(probe.oneOff, misuse);
        continue;
      }
    }
    const listed = program.command(entry.command).argument("<target>").description(`one-off: ${entry.summary}`).allowUnknownOption();
    if (kind !== entry.command) listed.alias(kind);
  }
  if (misusedHelp) {
    io.stderr(io.redactor.text(misusedHelp));
    return EXIT.USAGE;
  }
  // `help reds`: commander would print the whole help as an error; name the command meant instead.
  if (asksHelp && argv[3] !== undefined && !argv[3].startsWith("-") && ![...commandNames(), "help"].includes(argv[3])) {
    io.stderr(io.redactor.text(unknownCommand(argv[3], commandNames())));
    return EXIT.USAGE;
  }

  // Only the default command takes the extra operands, to name the command they were meant for;
  // subcommands copied the setting when they were declared, so they still reject them.
  program.allowExcessArguments();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    return handleError(error, io);
  }
  return exitCode;
}

/** How `init` is listed when another command runs (the same words as its own summary, src/commands/init-options.ts). */
const INIT_LISTED = "write a first config: from a deployed service (--from-cloud-run SERVICE) or a commented starter (--kinds redis,postgres,http)";

/** `infra-check help CMD …` → CMD. */
function asksHelpFor(argv: string[]): string | undefined {
  return argv[2] === "help" ? argv[3] : undefined;
}

/** Where a newcomer starts; a new starting point (a command that writes a config) is one more line. */
const START_HERE: readonly (readonly [string, string])[] = [
  ["infra-check demo", "a local stack, checked end to end"],
  ["infra-check init --from-cloud-run SVC", "a first config from a deployed service"],
  ["infra-check --help", "every command, flag and exit code"],
];

/**
 * A bare `infra-check`: nothing to run, so a usage error (stderr, exit 2)
 * that fits on a screen — the main forms and where to start, not the whole
 * --help. The one-off commands come from the registry.
 */
function shortUsage(): string {
  const column = 40;
  const row = (left: string, right: string) => `${left.padEnd(column - 1)} ${right}`;
  const commands = PROBE_KINDS.map((kind) => PROBES[kind].command);
  const kinds: string[] = [];
  let line = "check one target:";
  for (const [i, command] of commands.entries()) {
    const word = `${command}${i < commands.length - 1 ? "," : ""}`;
    if (column + line.length + 1 + word.length > HELP_WIDTH) {
      kinds.push(line);
      line = word;
    } else line += ` ${word}`;
  }
  kinds.push(line);
  return [
    row("Usage: infra-check <env> [flags]", "run config/<env>.yaml (or a file)"),
    row("       infra-check validate <env>", "check a config without probing"),
    row("       infra-check <command> TARGET", kinds[0]),
    ...kinds.slice(1).map((rest) => row("", rest)),
    "Start here:",
    ...START_HERE.map(([command, what]) => row(`  ${command}`, what)),
    "",
  ].join("\n");
}

/** A first operand that is no command: the closest command, else the list. */
function unknownCommand(word: string, commands: readonly string[]): string {
  const guess = closest(word, commands);
  if (guess !== undefined) return `infra-check: unknown command "${word}"; did you mean ${guess}?\n(run infra-check --help for usage)\n`;
  return `infra-check: too many arguments: "${word}" is not a command, and an environment takes no more arguments (infra-check <env> [flags]); commands: ${commands.join(", ")}\n`;
}

function handleError(error: unknown, io: Egress): number {
  if (error instanceof CommanderError) {
    // Help and version displays end through exitOverride too.
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) return EXIT.OK;
    return EXIT.USAGE;
  }
  const { redactor } = io;
  if (isConfigError(error)) {
    io.stderr(redactor.text(renderProblems(configProblems(error), "infra-check: ")));
    return EXIT.USAGE;
  }
  io.stderr(`infra-check: internal error: ${redactor.text(String((error as Error)?.stack ?? error))}\nThis is a bug in infra-check; please report it.\n`);
  return EXIT.INTERNAL;
}

/**
 * A client library that leaks a rejection or throws from an event handler must
 * not end the process with a stack trace and an exit code we did not choose.
 * Installed by the bin launcher only (tests import main() without it), with
 * the same egress the command writes through, so they redact what it would.
 */
export function installProcessHandlers(io: Egress): void {
  // `infra-check … | head` closes our stdout early: that is the reader's choice, not a crash.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      // A pipe or terminal that fails later (asynchronously): the same words as a synchronous failure, exit 2.
      const name = stream === process.stdout ? "stdout" : "stderr";
      if (stream !== process.stderr) process.stderr.write(`infra-check: ${outputError(name, error).message}\n`);
      process.exit(EXIT.USAGE);
    });
  }
  process.on("unhandledRejection", (reason) => {
    if (process.env.INFRA_CHECK_DEBUG) process.stderr.write(`infra-check: (ignored) unhandled rejection: ${io.redactor.text(String((reason as Error)?.message ?? reason))}\n`);
  });
  process.on("uncaughtException", (error) => {
    process.stderr.write(`infra-check: internal error: ${io.redactor.text(String(error?.stack ?? error))}\nThis is a bug in infra-check; please report it.\n`);
    process.exit(EXIT.INTERNAL);
  });
}

export { processIO };
