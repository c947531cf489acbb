// `infra-check init`: a first config from what a deployment already declares
// (`--from-<source> NAME`: a kind's init hook reads it, e.g. a Cloud Run
// service and its serving revision), or a commented starter for the kinds a
// user names (`--kinds redis,postgres,http`). Every kind's mapper (its
// folder's init.ts, through the registry) turns the facts into its checks;
// this file only orders them, renders the file, validates it with the real
// loader, and writes it — never over an existing file without --force (a
// diff is shown instead). Secrets are never written: each mapper writes the
// app's own secret reference or `${VAR}`; a last guard refuses to write a
// file that contains a literal credential value from the facts.
import { readFile } from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import { buildConfig } from "../config/load.js";
import { readConfigSource } from "../config/source.js";
import { EXIT } from "../exit-codes.js";
import { PROJECT_VARIABLES, REGION_VARIABLES, type GcpConfig, EMULATOR_ENV } from "../gcp/resources.js";
import { PACKAGE_ROOT } from "../package-root.js";
import { isProbeKind, loadInitHooks, type ProbeKind } from "../probes/index.js";
import { envRole, type InitMapContext, type KindInit, type MappingRow, type ProposedCheck, type ServiceFacts } from "../probes/init-api.js";
import { durationFlag, listFlag } from "../util/flags.js";
import { ConfigError, configProblems, isConfigError, renderProblems } from "../util/errors.js";
import { describeFsError, ensureFolder, writeOutputFile } from "../util/output-file.js";
import type { LookupFn } from "../net/resolve.js";
import { initSession } from "./init/context.js";
import { unifiedDiff } from "./init/diff.js";
import { mapRunner } from "./init/runners.js";
import { mappingTable, renderFile } from "./init/render.js";
import type { CommandIO } from "./io.js";

export interface InitFlags {
  kinds?: string;
  project?: string;
  region?: string;
  env?: string;
  output?: string;
  force?: boolean;
  timeout?: string;
  /** The runner private targets run on (default vpc; local: here). */
  runner?: string;
  [option: string]: unknown;
}

export interface InitOptions {
  /** Tests and the demo: resolve names like the demo stack does. */
  lookup?: LookupFn;
  /** The command line as shown in the file's header (default: reconstructed from the flags). */
  commandLine?: string;
}

export interface InitResult {
  text: string;
  rows: MappingRow[];
  envVars: string[];
  facts?: ServiceFacts;
  /** What to do about the reads that failed (each once). */
  hints?: string[];
}

const DEFAULT_TIMEOUT_MS = 30_000;
const SCHEMA_FILE = path.join(PACKAGE_ROOT, "schema", "infra-check.schema.json");
/** The team's per-environment budgets (INCIDENTS.md #11); cloud checks set 5 s themselves. */
const TIMEOUT_BY_ENV: Record<string, string> = { local: "1s", demo: "2s", staging: "3s", production: "5s", prod: "5s" };

/** `--from-cloud-run` → `fromCloudRun` (commander's key for the flag). */
export function sourceKey(from: string): string {
  return `from-${from}`.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** Mappers in registry order, each after the kinds it reads (KindInit.after). */
function ordered(hooks: { kind: ProbeKind; hook: KindInit }[]): { kind: ProbeKind; hook: KindInit }[] {
  const pending = hooks.filter((entry) => entry.hook.map);
  const present = new Set(pending.map((entry) => entry.kind as string));
  const done = new Set<string>();
  const order: typeof pending = [];
  while (pending.length) {
    const index = pending.findIndex((entry) => (entry.hook.after ?? []).every((kind) => done.has(kind) || !present.has(kind)));
    // A cycle in `after` is a bug of the hooks; take them in registry order rather than loop.
    const [next] = pending.splice(index >= 0 ? index : 0, 1);
    order.push(next);
    done.add(next.kind);
  }
  return order;
}

/** Literal values of credential-like variables (passwords, tokens, URL passwords): they must never reach the file. */
function literalCredentials(facts: ServiceFacts): string[] {
  const values: string[] = [];
  for (const fact of facts.env) {
    if (fact.source.kind !== "literal" || !fact.source.value) continue;
    const value = fact.source.value;
    if (envRole(fact.name).role === "password" && value.length >= 4) values.push(value);
    try {
      const url = new URL(value);
      if (url.password) values.push(url.password, decodeURIComponent(url.password));
      for (const key of ["password", "token", "key"]) if (url.searchParams.get(key)) values.push(url.searchParams.get(key)!);
    } catch {
      // not a URL
    }
  }
  return [...new Set(values)].filter((value) => value.length >= 4);
}

/** Every string value of a parsed document (kind names aside: they are vocabulary, not data). */
function valuesOf(node: unknown, key?: string): string[] {
  if (typeof node === "string") return key === "kind" ? [] : [node];
  if (Array.isArray(node)) return node.flatMap((item) => valuesOf(item));
  if (node && typeof node === "object") return Object.entries(node).flatMap(([inner, value]) => valuesOf(value, inner));
  return [];
}

/** What the service declares in the open (names, image, non-credential values with their URL passwords removed). */
function publicText(facts: ServiceFacts): string {
  const literals = facts.env.flatMap((fact) => (fact.source.kind === "literal" && envRole(fact.name).role !== "password" ? [fact.source.value] : []));
  // A URL's password is removed where it is (the same word elsewhere — user, scheme, host — stays open).
  const stripped = literals.map((value) => {
    try {
      const url = new URL(value);
      if (!url.password && ![...url.searchParams.keys()].some((key) => ["password", "token", "key"].includes(key))) return value;
      url.password = "";
      for (const key of ["password", "token", "key"]) url.searchParams.delete(key);
      return url.toString();
    } catch {
      return value;
    }
  });
  const secretNames = facts.env.flatMap((fact) => (fact.source.kind === "secret" ? [fact.source.secret] : []));
  return [facts.name, facts.project, facts.region, facts.url ?? "", facts.image ?? "", ...Object.values(facts.labels), ...facts.env.map((fact) => fact.name), ...secretNames, ...stripped].join("\n");
}

function schemaPathFor(outputFile: string | undefined, cwd: string): string {
  const from = outputFile ? path.dirname(outputFile) : path.join(cwd, "config");
  const relative = path.relative(from, SCHEMA_FILE).split(path.sep).join("/");
  return relative.startsWith(".") ? relative : `./${relative}`;
}

/** Build the file's text (and the mapping) without writing anything: the command, the demo and the tests share it. */
export async function buildInit(flags: InitFlags, io: CommandIO, options: InitOptions = {}): Promise<InitResult> {
  const hooks = await loadInitHooks();
  const sources = hooks.filter((entry) => entry.hook.source);
  const chosen = sources.filter((entry) => typeof flags[sourceKey(entry.hook.source!.from)] === "string");
  const kinds = flags.kinds !== undefined ? listFlag(flags.kinds) : undefined;
  const sourceFlags = sources.map((entry) => `--from-${entry.hook.source!.from} ${entry.hook.source!.argument}`).join(" or ");
  if (chosen.length > 1) throw new ConfigError(`give one source: ${chosen.map((entry) => `--from-${entry.hook.source!.from}`).join(" and ")} exclude each other`);
  if (chosen.length && kinds) throw new ConfigError(`--kinds writes a starter config; ${sourceFlags} writes one from a deployment: give one of them`);
  if (!chosen.length && !kinds) throw new ConfigError(`nothing to start from: give ${sourceFlags} (with --project and --region), or --kinds KIND,… for a commented starter (run infra-check init --help)`);
  const envName = flags.env ?? "staging";
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(envName)) throw new ConfigError(`--env ${JSON.stringify(envName)}: expected a name like staging (letters, digits, . _ -)`);
  const outputFile = flags.output === "-" ? undefined : path.resolve(io.cwd, flags.output ?? path.join("config", `${envName}.yaml`));
  const schemaPath = schemaPathFor(outputFile, io.cwd);
  const timeout = TIMEOUT_BY_ENV[envName] ?? "3s";

  if (kinds) {
    const unknown = kinds.filter((kind) => !isProbeKind(kind));
    const withStarter = hooks.filter((entry) => entry.hook.starter);
    if (unknown.length || !kinds.length) {
      throw new ConfigError(`--kinds ${kinds.join(",") || '""'}: ${unknown.length ? `unknown kind${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; ` : ""}expected some of ${withStarter.map((entry) => entry.kind).join(", ")}`);
    }
    const starters = kinds.map((kind) => {
      const hook = withStarter.find((entry) => entry.kind === kind)?.hook;
      if (!hook) throw new ConfigError(`--kinds ${kind}: this kind has no starter yet; expected some of ${withStarter.map((entry) => entry.kind).join(", ")}`);
      return { kind, starter: hook.starter! };
    });
    const usesGcp = starters.some((entry) => entry.starter.usesGcp);
    const text = renderFile({
      schemaPath,
      header: [
        `A starter config for ${kinds.join(", ")} (infra-check init --kinds ${kinds.join(",")}).`,
        "Replace the example values with yours; every key is documented in docs/ and",
        "completed by editors through the $schema line above. Then:",
        `  infra-check validate ${outputFile ? path.relative(io.cwd, outputFile) : envName}`,
        `  infra-check ${envName}`,
        "Secrets: ${ENV_VAR} or { secret: projects/P/secrets/S }, never a literal.",
      ],
      env: envName,
      deadline: "20s",
      timeout,
      ...(usesGcp ? { gcp: { project: flags.project ?? "PROJECT", region: flags.region ?? "REGION" } } : {}),
      checks: [],
      starters: starters.map((entry) => ({ name: entry.starter.name, kind: entry.kind, yaml: entry.starter.yaml })),
    });
    return { text, rows: [], envVars: referencedVariables(text) };
  }

  const source = chosen[0].hook.source!;
  const argument = flags[sourceKey(source.from)] as string;
  const project = flags.project ?? PROJECT_VARIABLES.map((name) => io.env[name]).find(Boolean);
  const region = flags.region ?? REGION_VARIABLES.map((name) => io.env[name]).find(Boolean);
  if (!argument.startsWith("projects/") && (!project || !region)) {
    throw new ConfigError(`--from-${source.from} ${argument}: give --project and --region (or $${PROJECT_VARIABLES[0]} / $${REGION_VARIABLES[0]}), or the full resource name`);
  }
  const budgetMs = durationFlag("--timeout", flags.timeout) ?? DEFAULT_TIMEOUT_MS;
  const gcp: GcpConfig = { ...(project ? { project } : {}), ...(region ? { region } : {}), ...(io.env[EMULATOR_ENV] ? { emulatorHost: io.env[EMULATOR_ENV] } : {}) };
  const session = initSession({ budgetMs, gcp, env: io.env, redactor: io.redactor!, ...(options.lookup ? { lookup: options.lookup } : {}) });
  try {
    let facts: ServiceFacts;
    try {
      facts = await source.discover(argument, { ...flags, project, region }, session.ctx, await session.gcp());
    } catch (error) {
      if (isConfigError(error)) throw error;
      throw new DiscoveryError(`could not read ${argument} (--from-${source.from}): ${session.describe(error)}`);
    }
    const secrets = literalCredentials(facts);
    for (const secret of secrets) io.redactor?.add(secret);

    const checks: ProposedCheck[] = [];
    const rows: MappingRow[] = [];
    const claimed = new Set<string>();
    const taken = new Set<string>();
    const mapContext: InitMapContext = {
      checks,
      options: { ...flags, project, region },
      gcp: () => session.gcp(),
      describe: (error) => session.brief(error),
      fetch: (url) => session.fetch(url),
      uniqueName(wanted) {
        let name = wanted;
        for (let n = 2; taken.has(name) || checks.some((check) => check.name === name); n += 1) name = `${wanted}-${n}`;
        taken.add(name);
        return name;
      },
    };
    for (const { kind, hook } of ordered(hooks)) {
      try {
        const result = await hook.map!(facts, mapContext);
        checks.push(...result.checks);
        rows.push(...result.rows);
        for (const name of result.claimed ?? []) claimed.add(name);
      } catch (error) {
        rows.push({ from: `${kind} mapping`, note: `failed: ${session.brief(error)}` });
      }
    }
    const runner = mapRunner(checks, facts, typeof flags.runner === "string" ? flags.runner : undefined);
    rows.push(...runner.rows);
    const unclaimed = facts.env.map((fact) => fact.name).filter((name) => !claimed.has(name));
    if (unclaimed.length) rows.push({ from: `env ${unclaimed.join(", ")}`, note: "no kind maps these names (required by the service check only; values not read)" });
    const envVars = [...new Set(checks.flatMap((check) => check.envVars ?? []))];
    const commandLine = options.commandLine ?? `infra-check init --from-${source.from} ${argument}${project ? ` --project ${project}` : ""}${region ? ` --region ${region}` : ""}${flags.env ? ` --env ${flags.env}` : ""}`;
    const text = renderFile({
      schemaPath,
      header: [
        `Generated by \`${commandLine}\``,
        `from ${facts.label}. Review it: each value is what the service declares now.`,
        "Secrets are the app's own Secret Manager references or ${VAR}s to export —",
        "never values. Re-running init shows a diff and changes nothing without --force.",
        ...(envVars.length ? ["", `Export before running: ${envVars.join(", ")}.`] : []),
      ],
      env: envName,
      deadline: "20s",
      timeout,
      gcp: { project: facts.project, region: facts.region },
      ...(runner.block ? { runners: runner.block } : {}),
      checks,
    });
    // The last guard: whatever a mapper did, no literal credential of the service reaches the file.
    // (A value the service also declares in the open — a password equal to the user name — is no secret to keep.)
    const open = publicText(facts);
    const leaked = secrets.filter((secret) => !open.includes(secret)).filter((secret) => valuesOf(YAML.parse(text)).some((value) => value.includes(secret)) || (secret.length >= 12 && text.includes(secret)));
    if (leaked.length) throw new Error("init: a literal credential from the service's env reached the generated file (a bug in a kind's init mapper); nothing was written");
    // `--expect-commit '${GIT_SHA}'` and the like: every variable the file reads is to export.
    return { text, rows, envVars: [...new Set([...envVars, ...referencedVariables(text)])], facts, hints: [...session.hints] };
  } finally {
    await session.close();
  }
}

/** `${VAR}`s the file reads outside comments: they must be exported before it validates. */
function referencedVariables(text: string): string[] {
  const code = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n");
  return [...new Set([...code.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1]))];
}

/** The source could not be read (not found, denied, unreachable): exit 1, nothing written. */
export class DiscoveryError extends Error {}

/** The generated text must load with the real loader (placeholders for the ${VAR}s it asks to export). */
async function selfValidate(text: string, envVars: string[], io: CommandIO): Promise<void> {
  const env = { ...io.env, ...Object.fromEntries(envVars.filter((name) => !io.env[name]).map((name) => [name, "placeholder"])) };
  const source = await readConfigSource(text, "generated");
  await buildConfig(source.value, { env, file: "generated", dir: io.cwd, defaultEnv: "generated" });
}

export async function initCommand(flags: InitFlags, io: CommandIO, options: InitOptions = {}): Promise<number> {
  let result: InitResult;
  try {
    result = await buildInit(flags, io, options);
  } catch (error) {
    if (error instanceof DiscoveryError) {
      io.stderr(`infra-check init: ${error.message}\nNothing was written.\n`);
      return EXIT.FAILED;
    }
    throw error;
  }
  try {
    await selfValidate(result.text, result.envVars, io);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    io.stderr(renderProblems(configProblems(error), "infra-check init: the generated config does not validate (a bug in infra-check; please report it): "));
    return EXIT.INTERNAL;
  }
  const table = result.rows.length ? mappingTable(result.rows, result.hints) : "";
  if (flags.output === "-") {
    io.stdout(result.text);
    if (table) io.stderr(table);
    return EXIT.OK;
  }
  const file = path.resolve(io.cwd, flags.output ?? path.join("config", `${flags.env ?? "staging"}.yaml`));
  const shown = path.relative(io.cwd, file) || file;
  let existing: string | undefined;
  try {
    existing = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new ConfigError(`--output: cannot read ${shown} (${describeFsError(error)})`);
  }
  if (existing !== undefined && existing === result.text) {
    io.stderr(`${shown} is already what init would write: unchanged.\n`);
    return EXIT.OK;
  }
  if (existing !== undefined && !flags.force) {
    io.stdout(unifiedDiff(existing, result.text, { before: `${shown} (now)`, after: `${shown} (init)` }));
    io.stderr(`\n${shown} exists and differs from what init would write (the diff above): nothing changed. Re-run with --force to overwrite it, or -o another file.\n`);
    return EXIT.FAILED;
  }
  try {
    await ensureFolder(path.dirname(file));
    await writeOutputFile(file, result.text, { descriptors: { 1: io.stdout, 2: io.stderr } });
  } catch (error) {
    throw new ConfigError(`--output: cannot write ${shown} (${describeFsError(error)})`);
  }
  const envName = flags.env ?? "staging";
  const next = [
    `wrote ${shown}${existing !== undefined ? " (overwritten: --force)" : ""}`,
    ...(table ? ["", table.trimEnd()] : []),
    "",
    ...(result.envVars.length ? [`Export ${result.envVars.join(", ")}, then:`] : ["Next:"]),
    `  infra-check validate ${shown}`,
    `  infra-check ${path.relative(path.join(io.cwd, "config"), file) === `${envName}.yaml` ? envName : shown}`,
    "",
  ];
  io.stderr(next.join("\n"));
  return EXIT.OK;
}
