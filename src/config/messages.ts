// What a validator issue means, in the words of the config file. zod says
// "Invalid input: expected record, received string"; a user needs "`url` is
// indented under `checks`, it belongs to a check". Default validator texts
// are reworded by issue code; a message a schema wrote itself (a custom
// error) is kept. Every message says what was found — scalars only, never
// under a secret-looking key — and, for a misspelt key or value, what was
// probably meant.
import type { ZodError, ZodType } from "zod";
import { ConfigError } from "../util/errors.js";
import { closest, didYouMean } from "../util/did-you-mean.js";
import { redactUrl, SECRET_HEADER, SECRET_KEY } from "../redact.js";

type Issue = ZodError["issues"][number] & Record<string, unknown>;

export interface IssueContext {
  /** What `input` was validated against. */
  schema: ZodType;
  input: unknown;
  /** The key path of `input` in the document ("" for the document itself). */
  prefix: string;
  file?: string;
  /** Keys that are valid beside the schema's own at its top: a check's common keys next to its kind's. */
  siblingKeys?: readonly string[];
  /** The check's kind, when `input` is a check's own keys. */
  kind?: string;
  /** Every kind's keys (loaded only when an unknown key may belong to another kind or to a check). */
  checkKeys: () => Promise<ReadonlyMap<string, readonly string[]>>;
}

export async function describeIssues(error: ZodError, context: IssueContext): Promise<ConfigError[]> {
  const problems: ConfigError[] = [];
  for (const issue of error.issues as Issue[]) problems.push(...(await describeIssue(issue, context)));
  return problems;
}

async function describeIssue(issue: Issue, context: IssueContext): Promise<ConfigError[]> {
  const { file, prefix, input } = context;
  const segments = issue.path.map((segment) => (typeof segment === "number" ? segment : String(segment)));
  const keyPath = [...(prefix ? [prefix] : []), ...segments].join(".") || undefined;
  const here = schemaAt(context.schema, segments);
  const found = readPath(input, segments);
  const last = segments.length ? String(segments[segments.length - 1]) : "";
  const atDocumentTop = prefix === "" && segments.length === 0;
  const problem = (detail: string, key?: string) => new ConfigError(detail, { file, keyPath, key });

  switch (issue.code) {
    case "unrecognized_keys": {
      const known = [...keysOf(here), ...(segments.length === 0 ? (context.siblingKeys ?? []) : [])];
      const results: ConfigError[] = [];
      for (const key of issue.keys as string[]) results.push(problem(await unknownKey(key, known, { ...context, atDocumentTop, atCheckTop: context.kind !== undefined && segments.length === 0 }), key));
      return results;
    }
    case "invalid_type": {
      if (prefix === "" && segments.length === 2 && segments[0] === "checks") return [problem(await notACheck(String(segments[1]), found, context))];
      if (found === undefined) return [problem(`missing required key "${last}": ${isDefault(issue) ? `expected ${typeWords(String(issue.expected), here)}` : issue.message}`)];
      if (!isDefault(issue)) return [problem(withFound(issue.message, found, last))];
      return [problem(withFound(`expected ${typeWords(String(issue.expected), here)}`, found, last) + shapeHint(String(issue.expected), found, last))];
    }
    case "invalid_union": {
      if (!isDefault(issue)) return [problem(withFound(issue.message, found, last))];
      const options = unionOptions(here);
      const expected = options.length ? `expected ${alternatives(options.map(describeOption))}` : "not a value this key accepts";
      if (isMapping(found)) {
        const known = options.flatMap((option) => keysOf(option));
        const stray = Object.keys(found).find((key) => known.length && !known.includes(key));
        if (stray !== undefined) return [problem(`unknown key "${stray}"${didYouMean(stray, known)} (${expected})`, stray)];
      }
      return [problem(withFound(expected, found, last))];
    }
    case "too_small":
    case "too_big": {
      if (!isDefault(issue)) return [problem(withFound(issue.message, found, last))];
      return [problem(withFound(bound(issue), found, last))];
    }
    case "invalid_value": {
      if (!isDefault(issue)) return [problem(withFound(issue.message, found, last))];
      const values = (issue.values as unknown[]).map((value) => (typeof value === "string" ? value : JSON.stringify(value)));
      const hint = typeof found === "string" && !SECRET_KEY.test(last) ? didYouMean(found, values) : "";
      return [problem(withFound(`expected ${values.length === 1 ? values[0] : `one of ${values.join(", ")}`}`, found, last) + hint)];
    }
    case "invalid_format": {
      if (!isDefault(issue)) return [problem(withFound(issue.message, found, last))];
      return [problem(withFound(issue.format === "url" ? "expected a URL" : issue.format === "regex" ? "not in the expected form" : `expected ${String(issue.format)} form`, found, last))];
    }
    default:
      return [problem(withFound(issue.message, found, last))];
  }
}

/** zod's own texts start like these; a schema's custom message does not. */
function isDefault(issue: Issue): boolean {
  return /^(Invalid (input|option|string|key|element|value)|Too (small|big)|Unrecognized key)/.test(issue.message);
}

async function unknownKey(key: string, known: string[], context: IssueContext & { atDocumentTop: boolean; atCheckTop: boolean }): Promise<string> {
  const suggestion = closest(key, known);
  if (suggestion) return `unknown key "${key}"; did you mean "${suggestion}"?`;
  if (context.atDocumentTop || context.atCheckTop) {
    const kinds = await context.checkKeys();
    if (context.atDocumentTop && [...kinds.values()].some((keys) => keys.includes(key))) {
      return `unknown key "${key}": it belongs to a check; indent it under one (checks.NAME.${key})`;
    }
    if (context.atCheckTop) {
      const owners = [...kinds].filter(([kind, keys]) => kind !== context.kind && keys.includes(key)).map(([kind]) => kind);
      if (owners.length) return `unknown key "${key}" for kind ${context.kind}: it is a key of ${alternatives(owners)} checks`;
    }
  }
  // Unknown keys are rejected so a misspelt option cannot silently disable a check: say what is allowed.
  return `unknown key "${key}"; known keys here: ${[...new Set(known)].join(", ")}`;
}

/** A value directly under `checks:` that is not a mapping: usually a check's key that lost its indentation. */
async function notACheck(name: string, found: unknown, context: IssueContext): Promise<string> {
  const kinds = await context.checkKeys();
  if (found === null || found === undefined) return `check "${name}" is empty: give it a kind (one of ${[...kinds.keys()].join(", ")}) and that kind's keys`;
  if (!isMapping(found) && [...kinds.values()].some((keys) => keys.includes(name))) {
    return `\`${name}\` is indented under \`checks\`, it belongs to a check: indent it under the check's name (checks.NAME.${name})`;
  }
  return withFound(`expected a check: a mapping with kind: and that kind's keys`, found, name);
}

function bound(issue: Issue): string {
  const origin = String(issue.origin ?? "");
  const small = issue.code === "too_small";
  const limit = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  if (origin === "string") {
    if (small && limit <= 1) return "must not be empty";
    return `must be ${small ? "at least" : "at most"} ${limit} characters long`;
  }
  if (origin === "array" || origin === "set") return `needs ${small ? "at least" : "at most"} ${limit} ${limit === 1 ? "entry" : "entries"}`;
  if (small) return inclusive ? `must be at least ${limit}` : `must be more than ${limit}`;
  return inclusive ? `must be at most ${limit}` : `must be less than ${limit}`;
}

function typeWords(expected: string, schema: ZodType | undefined): string {
  switch (expected) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "int":
      return "a whole number";
    case "boolean":
      return "true or false";
    case "array":
      return "a list";
    case "record":
      // A mapping whose names the user chooses (checks, headers, expectations), unlike an object's fixed keys.
      return "record (name: value pairs)";
    case "object": {
      const keys = keysOf(schema);
      return keys.length ? `a mapping (${keys.slice(0, 6).join(", ")}${keys.length > 6 ? ", …" : ""})` : "a mapping";
    }
    default:
      return `a ${expected}`;
  }
}

/** How to write what was meant, when the value has the right content in the wrong shape. */
function shapeHint(expected: string, found: unknown, key: string): string {
  if (expected === "array" && (typeof found === "string" || typeof found === "number") && !SECRET_KEY.test(key)) return ` (a list of one is written [${String(found)}])`;
  if ((expected === "record" || expected === "object") && Array.isArray(found)) return " (write NAME: VALUE lines, not - items)";
  return "";
}

function withFound(message: string, found: unknown, key: string): string {
  const shown = showable(found, key);
  return shown === undefined || /\bfound\b/.test(message) ? message : `${message}, found ${shown}`;
}

/**
 * What a config error may quote of the value it rejects: scalars only (an
 * object may hold a password), never under a secret-looking key, URLs without
 * their credentials.
 */
export function showable(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return value === null ? "null" : undefined;
  if (typeof value === "object") return Array.isArray(value) ? "a list" : "a mapping";
  if (SECRET_KEY.test(key) || SECRET_HEADER.test(key)) return `a ${typeof value} (not shown: secret)`;
  if (typeof value === "string" && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return JSON.stringify(redactUrl(value));
  return JSON.stringify(value);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function readPath(value: unknown, keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function alternatives(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

// ---- reading the schema: what a key path accepts, for the words above

interface Def {
  type: string;
  shape?: Record<string, ZodType>;
  innerType?: ZodType;
  in?: ZodType;
  element?: ZodType;
  valueType?: ZodType;
  options?: ZodType[];
  left?: ZodType;
  right?: ZodType;
  getter?: () => ZodType;
  values?: unknown[];
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional", "pipe", "lazy"]);

function defOf(schema: ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schema behind optional/default/pipe (its input side)/lazy wrappers. */
function unwrap(schema: ZodType | undefined): ZodType | undefined {
  let current = schema;
  for (let guard = 0; current && guard < 20; guard += 1) {
    const def = defOf(current);
    if (!WRAPPERS.has(def.type)) return current;
    current = def.type === "pipe" ? def.in : def.type === "lazy" ? def.getter?.() : def.innerType;
  }
  return current;
}

function schemaAt(schema: ZodType | undefined, segments: (string | number)[]): ZodType | undefined {
  let current = schema;
  for (const segment of segments) {
    current = childOf(current, segment);
    if (!current) return undefined;
  }
  return current;
}

function childOf(schema: ZodType | undefined, segment: string | number): ZodType | undefined {
  const inner = unwrap(schema);
  if (!inner) return undefined;
  const def = defOf(inner);
  switch (def.type) {
    case "object":
      return def.shape?.[String(segment)];
    case "record":
      return def.valueType;
    case "array":
      return def.element;
    case "union":
      for (const option of def.options ?? []) {
        const child = childOf(option, segment);
        if (child) return child;
      }
      return undefined;
    case "intersection":
      return childOf(def.left, segment) ?? childOf(def.right, segment);
    default:
      return undefined;
  }
}

/** The keys a mapping schema allows (every option's, for a union). */
export function keysOf(schema: ZodType | undefined): string[] {
  const inner = unwrap(schema);
  if (!inner) return [];
  const def = defOf(inner);
  if (def.type === "object") return Object.keys(def.shape ?? {});
  if (def.type === "union") return [...new Set((def.options ?? []).flatMap((option) => keysOf(option)))];
  if (def.type === "intersection") return [...keysOf(def.left), ...keysOf(def.right)];
  return [];
}

function unionOptions(schema: ZodType | undefined): ZodType[] {
  const inner = unwrap(schema);
  return inner && defOf(inner).type === "union" ? (defOf(inner).options ?? []) : [];
}

/** One alternative of a union as the config writes it: `a string`, `{ secret: … }`. */
function describeOption(option: ZodType): string {
  const inner = unwrap(option);
  if (!inner) return "a value";
  const def = defOf(inner);
  if (def.type === "object") return `{ ${Object.keys(def.shape ?? {}).map((key) => `${key}: …`).join(", ")} }`;
  if (def.type === "literal") return (def.values ?? []).map((value) => JSON.stringify(value)).join(" or ");
  if (def.type === "enum") return `one of ${Object.values((inner as unknown as { enum: Record<string, string> }).enum ?? {}).join(", ")}`;
  return typeWords(def.type, inner);
}
