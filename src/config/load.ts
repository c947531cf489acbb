// Read a config file, interpolate ${ENV}, validate it against the top-level
// schema and each kind's own schema, and produce CheckSpec[]. Every problem is
// a ConfigError naming the file and the key path; nothing is probed.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import type { ZodType } from "zod";
import { ConfigError, ConfigErrors, configProblems, isConfigError } from "../util/errors.js";
import { BASE_CHECK_KEYS, CHECK_NAME, baseCheckSchema, topLevelSchema, type TopLevelConfig } from "./schema.js";
import { isProbeKind, kindForScheme, loadProbe, PROBE_KINDS } from "../probes/index.js";
import { describeIssues, keysOf, type IssueContext } from "./messages.js";
import { closest, didYouMean } from "../util/did-you-mean.js";
import { parseExpectation } from "../evaluate/expectations.js";
import { parseDurationMs } from "../util/duration.js";
import { collectSecrets, redactUrl, Redactor, SECRET_KEY } from "../redact.js";
import type { Expectation } from "../diagnose/vocabulary.js";
import { isReferenceOnly, readConfigSource } from "./source.js";
import { FileTooLarge, formatBytes, NotUtf8, readBoundedText } from "../util/bounded-read.js";
import { budgetWarnings, type BudgetSource } from "./budgets.js";
import { LOCAL_RUNNER, resolveRunners, shippedSecretProblems, unknownRunner, type RunnerSpec } from "./runners.js";
import { metricInfo, type CheckSpec, type ProbeDefinition, type TlsSpec } from "../probes/api.js";

export const DEFAULT_TIMEOUT_MS = 5_000;
/** A config is read up to this size and refused beyond: loading stays well under a second, memory bounded. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const DEFAULT_DEADLINE_MS = 30_000;

export interface LoadOptions {
  only?: string[];
  skip?: string[];
  /** --timeout: default per-check budget (a check's own `timeout` still wins). */
  timeoutMs?: number;
  /** --deadline: the whole run's budget. */
  deadlineMs?: number;
  /** --concurrency: checks in flight at once (wins over `concurrency:`). */
  concurrency?: number;
  /** --runner local|NAME: where every selected check runs (wins over each check's `runner:`). */
  runner?: string;
  env?: NodeJS.ProcessEnv;
  /** The command's working directory: messages name the file relative to it (default: the process's). */
  cwd?: string;
  /**
   * The invocation's redactor (src/commands/io.ts): every secret found in the
   * config is registered in it before anything is validated, so even a config
   * error never prints one.
   */
  redactor?: Redactor;
}

export interface LoadedConfig {
  file?: string;
  dir: string;
  env: string;
  deadlineMs: number;
  /** `concurrency:` or --concurrency; undefined: the runner sizes it to the open-files limit. */
  concurrency?: number;
  gcp?: TopLevelConfig["gcp"];
  history?: TopLevelConfig["history"];
  regression?: TopLevelConfig["regression"];
  /** `runners:` with their defaults filled in; the checks that use one name it in `runner`. */
  runners: Map<string, RunnerSpec>;
  checks: CheckSpec[];
  probes: Map<string, ProbeDefinition>;
  /** Secret values found in the specs (for redaction). */
  secrets: string[];
  /** Non-fatal notes for stderr (e.g. a dependency dropped by --only). */
  notes: string[];
  /** Budgets that cannot fit (src/config/budgets.ts): printed as warnings, the exit code unchanged. */
  warnings: ConfigError[];
}

/**
 * `staging` → config/staging.yaml (or .yml) under `cwd`. When there is none,
 * the error suggests the closest environment, else the closest of `commands`
 * (`infra-check valdate` is a typo of a command, not a missing environment).
 */
export function resolveEnvConfig(envName: string, cwd = process.cwd(), commands: readonly string[] = []): string {
  const dir = path.join(cwd, "config");
  for (const extension of [".yaml", ".yml"]) {
    const candidate = path.join(dir, envName + extension);
    if (existsSync(candidate)) return candidate;
  }
  let available: string[] = [];
  try {
    available = readdirSync(dir)
      .filter((file) => /\.ya?ml$/.test(file))
      .map((file) => file.replace(/\.ya?ml$/, ""));
  } catch {
    // no config/ folder: the message below says where we looked
  }
  const hint = available.length
    ? `available environments: ${available.join(", ")}`
    : `no config/ folder with .yaml files in ${cwd}; pass --config FILE`;
  const environment = closest(envName, available);
  const command = environment === undefined ? closest(envName, commands) : undefined;
  const guess = environment !== undefined ? `; did you mean ${environment}?` : command !== undefined ? `; did you mean the command ${command}?` : "";
  throw new ConfigError(`no config for environment "${envName}"${guess} (looked for config/${envName}.yaml); ${hint}`);
}

export async function loadConfigFile(path_: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  // Messages name the file as the user would type it: relative to the working directory when inside it.
  const relative = path.relative(options.cwd ?? process.cwd(), path_);
  const file = relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : path_;
  let text: string;
  try {
    text = await readBoundedText(path.resolve(options.cwd ?? process.cwd(), path_), MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof FileTooLarge) throw new ConfigError(`the file is larger than ${formatBytes(MAX_CONFIG_BYTES)}: not a config (a device or a generated file by mistake?) — a config of a thousand checks is under 100 KiB`, { file });
    if (error instanceof NotUtf8) {
      throw new ConfigError(`the file is not UTF-8: invalid byte at offset ${error.byteOffset}; save it as UTF-8 (a Latin-1 é, a stray binary byte?)`, { file, location: { line: error.line, column: error.column } });
    }
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? "file not found" : code === "EISDIR" ? "it is a folder, not a file" : `cannot read file (${code ?? (error as Error).message})`, { file });
  }
  const source = await readConfigSource(text, file);
  const envFromName = path.basename(file).replace(/\.ya?ml$/, "");
  // One redactor for validation and for the code frames: a frame shows the user's own line, which may hold a secret.
  const redactor = options.redactor ?? new Redactor();
  try {
    const loaded = await buildConfig(source.value, { ...options, redactor, file, dir: path.dirname(path.resolve(path_)), defaultEnv: envFromName });
    loaded.warnings = loaded.warnings.map((warning) => warning.at(source.locate(warning, redactor)));
    return loaded;
  } catch (error) {
    if (!isConfigError(error)) throw error;
    const placed = configProblems(error).map((problem) => problem.at(source.locate(problem, redactor)));
    throw placed.length === 1 && !(error instanceof ConfigErrors) ? placed[0] : new ConfigErrors(placed);
  }
}

export interface BuildOptions extends LoadOptions {
  file?: string;
  dir: string;
  defaultEnv: string;
  /** One-off commands: values come from flags the shell already expanded; never expand ${…} in them. */
  noInterpolation?: boolean;
}

/** Validate a parsed config document (from YAML or built by a one-off command). */
export async function buildConfig(raw: unknown, options: BuildOptions): Promise<LoadedConfig> {
  const { file } = options;
  const env = options.env ?? process.env;
  // Secrets are known before anything is validated, so even a config error
  // (which may quote what it found) never prints one.
  const redactor = options.redactor ?? new Redactor();
  for (const secret of collectSecrets(raw)) if (options.noInterpolation || !isReferenceOnly(secret)) redactor.add(secret);
  const expand = (value: unknown, keyPath: string) => {
    if (options.noInterpolation) return value;
    const expanded = interpolate(value, keyPath, env, fail, (secret) => redactor.add(secret));
    for (const secret of collectSecrets(expanded, keyPath.split(".").pop())) redactor.add(secret);
    return expanded;
  };
  const errors: ConfigError[] = [];
  const fail = (keyPath: string | undefined, message: string) => errors.push(new ConfigError(message, { file, keyPath }));

  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError("expected a mapping with a `checks:` key at the top level", { file });
  }
  const top = await parseWith(topLevelSchema, raw, { prefix: "", file, checkKeys: everyCheckKey });
  if (top.errors.length) throw new ConfigErrors(top.errors);
  const config = top.value!;

  const topLevel = expand({ ...config, checks: {} }, "") as TopLevelConfig;

  const allNames = Object.keys(config.checks);
  for (const name of [...(options.only ?? []), ...(options.skip ?? [])]) {
    if (!allNames.includes(name)) fail(undefined, `--only/--skip names unknown check "${name}"${didYouMean(name, allNames)} (checks: ${allNames.join(", ") || "none"})`);
  }
  const selected = allNames.filter(
    (name) => (!options.only?.length || options.only.includes(name)) && !options.skip?.includes(name),
  );
  if (allNames.length === 0) fail("checks", "no checks defined");
  const runners = resolveRunners(topLevel.runners, topLevel.gcp, fail);
  if (options.runner !== undefined && options.runner !== LOCAL_RUNNER && !Object.hasOwn(topLevel.runners ?? {}, options.runner)) {
    fail(undefined, `--runner: ${unknownRunner(options.runner, Object.keys(topLevel.runners ?? {}))}`);
  }

  const defaultTimeoutMs =
    options.timeoutMs ?? (topLevel.defaults?.timeout !== undefined ? parseDurationMs(topLevel.defaults.timeout)! : DEFAULT_TIMEOUT_MS);
  const deadlineMs = options.deadlineMs ?? (topLevel.deadline !== undefined ? parseDurationMs(topLevel.deadline)! : DEFAULT_DEADLINE_MS);
  const deadlineSource: BudgetSource =
    options.deadlineMs !== undefined ? { label: "--deadline" } : topLevel.deadline !== undefined ? { keyPath: "deadline", label: "deadline" } : { label: "the default deadline" };
  const defaultTimeoutSource: BudgetSource | undefined =
    options.timeoutMs !== undefined ? { label: "--timeout" } : topLevel.defaults?.timeout !== undefined ? { keyPath: "defaults.timeout", label: "defaults.timeout" } : undefined;
  const timeoutSources = new Map<string, BudgetSource | undefined>();

  const probes = new Map<string, ProbeDefinition>();
  const checks: CheckSpec[] = [];
  const secrets: string[] = [];
  const notes: string[] = [];

  for (const name of selected) {
    const keyPath = `checks.${name}`;
    if (!CHECK_NAME.test(name)) {
      fail(keyPath, "check names use letters, digits, '-', '_' and '.', starting with a letter or digit");
      continue;
    }
    const rawCheck = expand(config.checks[name], keyPath) as Record<string, unknown>;
    const declared: unknown = rawCheck.kind;
    if (typeof declared !== "string" || !isProbeKind(declared)) {
      fail(`${keyPath}.kind`, kindProblem(declared, rawCheck));
      continue;
    }
    const kind = declared;
    const probe = probes.get(kind) ?? (await loadProbe(kind));
    probes.set(kind, probe);

    const baseRaw: Record<string, unknown> = {};
    const ownRaw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rawCheck)) (BASE_CHECK_KEYS.includes(key) ? baseRaw : ownRaw)[key] = value;
    const moved = moveStructuredExpectations(probe, baseRaw, ownRaw);

    const base = await parseWith(baseCheckSchema, baseRaw, { prefix: keyPath, file, checkKeys: everyCheckKey });
    const own = await parseWith(probe.schema as ZodType<Record<string, unknown>>, ownRaw, { prefix: keyPath, file, kind, siblingKeys: BASE_CHECK_KEYS, checkKeys: everyCheckKey });
    errors.push(...base.errors, ...own.errors.map((error) => relocateMoved(error, keyPath, moved)));
    if (!base.value || !own.value) continue;

    const expect = parseExpectations(base.value.expect, `${keyPath}.expect`, probe, fail, own.value);
    const warn = parseExpectations(base.value.warn, `${keyPath}.warn`, probe, fail, own.value);
    const spec: CheckSpec = {
      ...own.value,
      name,
      kind,
      timeoutMs: base.value.timeout !== undefined ? parseDurationMs(base.value.timeout)! : defaultTimeoutMs,
      dependsOn: base.value.dependsOn ?? [],
      expect,
      warn,
      ...(base.value.regression ? { regression: base.value.regression } : {}),
      ...(base.value.every !== undefined ? { everyMs: parseDurationMs(base.value.every)! } : {}),
    };
    const runner = options.runner ?? base.value.runner;
    if (runner !== undefined && runner !== LOCAL_RUNNER && !Object.hasOwn(topLevel.runners ?? {}, runner)) {
      // An unknown --runner is said once, above.
      if (options.runner === undefined) fail(`${keyPath}.runner`, unknownRunner(runner, Object.keys(topLevel.runners ?? {})));
    } else if (runner !== undefined && runner !== LOCAL_RUNNER) {
      // What the job receives: the check as written, ${VAR}s interpolated — after making sure no secret rides along.
      for (const problem of shippedSecretProblems(config.checks[name] as Record<string, unknown>, keyPath, runner, BASE_CHECK_KEYS)) fail(problem.keyPath, problem.message);
      const { runner: _runner, ...shipped } = rawCheck;
      spec.runner = runner;
      spec.shipped = shipped;
    }
    timeoutSources.set(name, base.value.timeout !== undefined ? { keyPath: `${keyPath}.timeout`, label: "timeout" } : defaultTimeoutSource);
    if ("tls" in spec && spec.tls) spec.tls = resolveTlsFiles(spec.tls as TlsSpec, options.dir, `${keyPath}.tls`, fail);
    checks.push(spec);
    secrets.push(...(probe.secrets?.(spec) ?? []));
  }

  validateDependencies(checks, allNames, selected, fail, notes);
  if (errors.length) throw new ConfigErrors(errors);
  const warnings = budgetWarnings({ file, checks, probes, deadlineMs, deadline: deadlineSource, timeoutSource: (check) => timeoutSources.get(check.name) });

  return {
    file,
    dir: options.dir,
    env: topLevel.env ?? options.defaultEnv,
    deadlineMs,
    ...(options.concurrency ?? topLevel.concurrency ? { concurrency: options.concurrency ?? topLevel.concurrency } : {}),
    gcp: topLevel.gcp,
    history: topLevel.history,
    regression: topLevel.regression,
    runners,
    checks,
    probes,
    secrets: [...secrets.filter((secret) => secret.length > 0), ...redactor.known()],
    notes,
    warnings,
  };
}

/**
 * Some kinds check things that are not metric comparisons — an image glob, a
 * list of env var names, an object (cloud-run). Their schema declares these
 * under `require`; the config may write them under `expect`, next to the
 * metric expectations, and they move to `require` here. Returns the moved keys.
 */
function moveStructuredExpectations(probe: ProbeDefinition, baseRaw: Record<string, unknown>, ownRaw: Record<string, unknown>): string[] {
  const keys = structuredExpectKeys(probe);
  const expect = baseRaw.expect;
  if (!keys.length || expect === null || typeof expect !== "object" || Array.isArray(expect)) return [];
  const moved = Object.keys(expect).filter((key) => keys.includes(key));
  if (!moved.length) return [];
  const entries = Object.entries(expect as Record<string, unknown>);
  baseRaw.expect = Object.fromEntries(entries.filter(([key]) => !moved.includes(key)));
  const existing = ownRaw.require !== null && typeof ownRaw.require === "object" ? (ownRaw.require as Record<string, unknown>) : {};
  ownRaw.require = { ...existing, ...Object.fromEntries(entries.filter(([key]) => moved.includes(key))) };
  return moved;
}

function structuredExpectKeys(probe: ProbeDefinition): string[] {
  let field = (probe.schema as { shape?: Record<string, unknown> }).shape?.require as { unwrap?: () => unknown; shape?: object } | undefined;
  while (field && typeof field.unwrap === "function") field = field.unwrap() as typeof field;
  return field?.shape ? Object.keys(field.shape) : [];
}

/** Errors about a moved key name the key where the user wrote it (`expect.env`, not `require.env`). */
function relocateMoved(error: ConfigError, keyPath: string, moved: string[]): ConfigError {
  const key = moved.find((name) => error.keyPath === `${keyPath}.require.${name}` || error.keyPath?.startsWith(`${keyPath}.require.${name}.`));
  if (!key || !error.keyPath) return error;
  return new ConfigError(error.detail, { file: error.file, key: error.key, keyPath: `${keyPath}.expect.${error.keyPath.slice(`${keyPath}.require.`.length)}` });
}

async function parseWith<T>(schema: ZodType<T>, value: unknown, context: Omit<IssueContext, "schema" | "input">): Promise<{ value?: T; errors: ConfigError[] }> {
  const result = schema.safeParse(value);
  if (result.success) return { value: result.data, errors: [] };
  return { errors: await describeIssues(result.error, { ...context, schema: schema as ZodType, input: value }) };
}

/** Every kind's own keys and the common ones, by kind: loaded only when a message needs to know whose key it is. */
async function everyCheckKey(): Promise<ReadonlyMap<string, readonly string[]>> {
  const probes = await Promise.all(PROBE_KINDS.map(loadProbe));
  return new Map(probes.map((probe) => [probe.kind, [...BASE_CHECK_KEYS, ...keysOf(probe.schema as ZodType)]]));
}

/** What a `kind:` that is not a kind was probably meant to be. */
function kindProblem(declared: unknown, rawCheck: Record<string, unknown>): string {
  const expected = `expected one of ${PROBE_KINDS.join(", ")}`;
  if (declared === undefined) {
    const scheme = typeof rawCheck.url === "string" ? /^([a-z][a-z0-9+.-]*):\/\//i.exec(rawCheck.url)?.[1] : undefined;
    const byUrl = scheme ? kindForScheme(scheme.toLowerCase()) : undefined;
    return `missing required key "kind": ${expected}${byUrl ? `; the url is ${scheme}://…, so probably "${byUrl}"` : ""}`;
  }
  const shown = `${expected}, found ${JSON.stringify(declared)}`;
  if (typeof declared !== "string") return shown;
  const byScheme = kindForScheme(declared.toLowerCase());
  if (byScheme) return `${shown}: ${declared} is a URL scheme, not a kind; did you mean "${byScheme}" (with url: ${declared}://…)?`;
  return shown + didYouMean(declared, PROBE_KINDS);
}

const SECRET_ENV = /PASS|SECRET|TOKEN|KEY|AUTH|CRED|PWD/i;
const PLACEHOLDER = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replace ${VAR} and ${VAR:-default} in every string; `$$` is a literal `$`. */
export function interpolate(
  value: unknown,
  keyPath: string,
  env: NodeJS.ProcessEnv,
  fail: (keyPath: string, message: string) => void,
  onSecret: (value: string) => void = () => undefined,
): unknown {
  if (typeof value === "string") {
    return value.replace(PLACEHOLDER, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === "$$") return "$";
      const found = env[name!];
      // A variable named like a credential is one, wherever it is interpolated (a token command, a URL, a message).
      if (found && SECRET_ENV.test(name!)) onSecret(found);
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      fail(keyPath, `environment variable ${name} is not set (referenced as \${${name}}); export it or write \${${name}:-default}`);
      return "";
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolate(item, `${keyPath}.${index}`, env, fail, onSecret));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, keyPath ? `${keyPath}.${key}` : key, env, fail, onSecret)]),
    );
  }
  return value;
}

function parseExpectations(
  raw: Record<string, unknown> | undefined,
  keyPath: string,
  probe: ProbeDefinition,
  fail: (keyPath: string, message: string) => void,
  own: Record<string, unknown>,
): Record<string, Expectation> {
  const parsed: Record<string, Expectation> = {};
  for (const [metric, value] of Object.entries(raw ?? {})) {
    const info = metricInfo(probe, metric);
    const unmeasurable = info?.requires?.(own as CheckSpec);
    if (unmeasurable) {
      fail(`${keyPath}.${metric}`, unmeasurable);
      continue;
    }
    if (!info) {
      const names = Object.keys(probe.metrics);
      const prefixes = Object.keys(probe.metricPrefixes ?? {}).map((prefix) => `${prefix}<path>`);
      const structured = structuredExpectKeys(probe).filter((key) => !names.includes(key));
      fail(`${keyPath}.${metric}`, `unknown metric "${metric}" for kind ${probe.kind}${didYouMean(metric, [...names, ...structured])}; known: ${[...names, ...prefixes, ...structured].join(", ")}`);
      continue;
    }
    try {
      parsed[metric] = parseExpectation(value);
    } catch (error) {
      fail(`${keyPath}.${metric}`, (error as Error).message);
    }
  }
  return parsed;
}

function resolveTlsFiles(tls: TlsSpec, dir: string, keyPath: string, fail: (keyPath: string, message: string) => void): TlsSpec {
  const resolved: TlsSpec = { ...tls };
  for (const key of ["ca", "cert", "key"] as const) {
    const value = tls[key];
    // A reference ({ memorystoreCa }) is read at run time, not from a file.
    if (!value || typeof value !== "string") continue;
    const absolute = path.resolve(dir, value);
    if (!existsSync(absolute)) fail(`${keyPath}.${key}`, `file not found: ${absolute}`);
    resolved[key] = absolute;
  }
  if ((tls.cert && !tls.key) || (tls.key && !tls.cert)) fail(keyPath, "cert and key go together (mutual TLS needs both)");
  return resolved;
}

function validateDependencies(
  checks: CheckSpec[],
  allNames: string[],
  selected: string[],
  fail: (keyPath: string, message: string) => void,
  notes: string[],
): void {
  for (const check of checks) {
    const kept: string[] = [];
    check.dependsOn.forEach((dependency, index) => {
      if (!allNames.includes(dependency)) {
        fail(`checks.${check.name}.dependsOn.${index}`, `unknown check "${dependency}"${didYouMean(dependency, allNames)} (checks: ${allNames.join(", ")})`);
      } else if (dependency === check.name) {
        fail(`checks.${check.name}.dependsOn.${index}`, "a check cannot depend on itself");
      } else if (!selected.includes(dependency)) {
        notes.push(`${check.name}: dependency "${dependency}" is not selected (--only/--skip); running without it`);
      } else {
        kept.push(dependency);
      }
    });
    check.dependsOn = kept;
  }
  const byName = new Map(checks.map((check) => [check.name, check]));
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      fail(`checks.${name}.dependsOn`, `dependency cycle: ${cycle.join(" → ")}`);
      return;
    }
    state.set(name, "visiting");
    for (const dependency of byName.get(name)?.dependsOn ?? []) visit(dependency, [...trail, name]);
    state.set(name, "done");
  };
  for (const check of checks) visit(check.name, []);
}
