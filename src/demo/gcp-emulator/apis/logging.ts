// Cloud Logging v2 (LoggingServiceV2): ListLogEntries over the entries other
// emulated APIs write (a Cloud Run Job execution's stdout, apis/run-jobs.ts)
// and tests append. As the real service does, an entry becomes visible only
// after its ingestion delay (set per entry by the writer), and filters use
// the Logging query language — here the subset infra-check sends: terms
// joined by AND, each `path="value"`, `path=value`, `path:*` (present),
// `path:"text"` (has), `severity>=LEVEL`, `timestamp>="RFC 3339"`, or a
// parenthesised `(… OR …)` group of them. Anything else is INVALID_ARGUMENT, so a filter
// the emulator cannot read fails loudly instead of matching everything.
import { defineEmulatedApi, type RpcAnswer, type StartedApi } from "../api.js";

/** A log entry in proto3 JSON form (jsonPayload a plain object, timestamps RFC 3339). */
export interface LogEntryJson {
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  timestamp: string;
  insertId?: string;
  severity?: string;
  labels?: Record<string, string>;
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
}

interface Stored {
  entry: LogEntryJson;
  /** Date.now() from which a List returns it (ingestion delay). */
  visibleAt: number;
}

/** The emulator's one log store, shared with the APIs that write logs. */
export class LogStore {
  private readonly entries: Stored[] = [];
  private sequence = 0;

  append(entry: LogEntryJson, ingestionDelayMs = 0): void {
    this.sequence += 1;
    this.entries.push({ entry: { insertId: `emu${String(this.sequence).padStart(8, "0")}`, ...entry }, visibleAt: Date.now() + ingestionDelayMs });
  }

  /** Every entry of `project`, visible or not (for tests). */
  all(project: string): LogEntryJson[] {
    return this.entries.filter((stored) => stored.entry.logName.startsWith(`projects/${project}/logs/`)).map((stored) => structuredClone(stored.entry));
  }

  visible(project: string): LogEntryJson[] {
    const now = Date.now();
    return this.entries.filter((stored) => stored.visibleAt <= now && stored.entry.logName.startsWith(`projects/${project}/logs/`)).map((stored) => stored.entry);
  }

  clear(): void {
    this.entries.length = 0;
  }
}

export const LOG_STORE = "logging.entries";

export interface LoggingControls {
  /** Append a log entry (visible after `ingestionDelayMs`). */
  appendLogEntry(entry: LogEntryJson, ingestionDelayMs?: number): void;
  /** Every entry written for `project`, visible or not yet. */
  logEntries(project: string): LogEntryJson[];
}

type Term = (entry: LogEntryJson) => boolean;

function valueAt(entry: unknown, path: string): unknown {
  // labels."run.googleapis.com/execution_name": quoted segments keep their dots.
  const segments = [...path.matchAll(/"([^"]*)"|([^.]+)/g)].map((match) => match[1] ?? match[2]);
  let current: unknown = entry;
  for (const segment of segments) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

const SEVERITIES = ["DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"];
const PATH = String.raw`[A-Za-z_][\w.]*(?:\."[^"]*")*`;

/** `a AND b AND (c OR d)` → its top-level parts split on `word` (outside quotes and parentheses). */
function splitTopLevel(text: string, word: "AND" | "OR"): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let from = 0;
  const separator = ` ${word} `;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "\\" && quoted) i++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && char === "(") depth++;
    else if (!quoted && char === ")") depth--;
    else if (!quoted && depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(from, i));
      from = i + separator.length;
      i = from - 1;
    }
  }
  parts.push(text.slice(from));
  return parts.map((part) => part.trim());
}

function parseTerm(raw: string): Term | string {
  const term = raw.trim();
  const group = /^\((.*)\)$/s.exec(term);
  if (group) {
    const alternatives = splitTopLevel(group[1], "OR").map(parseTerm);
    const unreadable = alternatives.find((alternative) => typeof alternative === "string");
    if (unreadable !== undefined) return unreadable;
    return (entry) => (alternatives as Term[]).some((alternative) => alternative(entry));
  }
  const present = new RegExp(`^(${PATH}):\\*$`).exec(term);
  if (present) return (entry) => valueAt(entry, present[1]) !== undefined;
  // `path:"text"`: the Logging language's "has" — a substring of the field's text, case-insensitive.
  const has = new RegExp(`^(${PATH}):"((?:[^"\\\\]|\\\\.)*)"$`).exec(term);
  if (has) {
    const wanted = has[2].replace(/\\(.)/g, "$1").toLowerCase();
    return (entry) => {
      const value = valueAt(entry, has[1]);
      return value !== undefined && value !== null && String(value).toLowerCase().includes(wanted);
    };
  }
  const severity = /^severity\s*>=\s*"?([A-Z]+)"?$/.exec(term);
  if (severity && SEVERITIES.includes(severity[1])) {
    const floor = SEVERITIES.indexOf(severity[1]);
    return (entry) => SEVERITIES.indexOf(entry.severity ?? "DEFAULT") >= floor;
  }
  const equals = new RegExp(`^(${PATH})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|(\\S+))$`).exec(term);
  if (equals) {
    const expected = equals[2] !== undefined ? equals[2].replace(/\\(.)/g, "$1") : equals[3];
    return (entry) => {
      const value = valueAt(entry, equals[1]);
      return value !== undefined && value !== null && String(value) === expected;
    };
  }
  const since = /^timestamp\s*>=\s*"([^"]+)"$/.exec(term);
  if (since && !Number.isNaN(Date.parse(since[1]))) {
    const from = Date.parse(since[1]);
    return (entry) => Date.parse(entry.timestamp) >= from;
  }
  return `the emulator cannot read the filter term ${JSON.stringify(term)} (it reads path="value", path:*, path:"text", severity>=LEVEL and timestamp>="…", joined by AND, and (… OR …) groups of them)`;
}

/** The filter as predicates, or the reason it cannot be read. */
export function parseFilter(filter: string): Term[] | string {
  const text = filter.trim();
  if (!text) return [];
  const terms: Term[] = [];
  for (const raw of splitTopLevel(text, "AND")) {
    const term = parseTerm(raw);
    if (typeof term === "string") return term;
    terms.push(term);
  }
  return terms;
}

/** google.protobuf.Value from plain JSON (what grpc-js serialises for a Struct field). */
function protoValue(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return { nullValue: "NULL_VALUE" };
  if (typeof value === "number") return { numberValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "string") return { stringValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(protoValue) } };
  return { structValue: protoStruct(value as Record<string, unknown>) };
}
export function protoStruct(object: Record<string, unknown>): { fields: Record<string, unknown> } {
  return { fields: Object.fromEntries(Object.entries(object).map(([key, value]) => [key, protoValue(value)])) };
}

function timestampMessage(rfc3339: string): { seconds: string; nanos: number } {
  const ms = Date.parse(rfc3339);
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

function message(entry: LogEntryJson): Record<string, unknown> {
  return {
    logName: entry.logName,
    resource: entry.resource,
    timestamp: timestampMessage(entry.timestamp),
    receiveTimestamp: timestampMessage(entry.timestamp),
    insertId: entry.insertId ?? "",
    severity: entry.severity ?? "DEFAULT",
    labels: entry.labels ?? {},
    ...(entry.jsonPayload ? { jsonPayload: protoStruct(entry.jsonPayload) } : { textPayload: entry.textPayload ?? "" }),
  };
}

export const LOGGING = defineEmulatedApi<LoggingControls>({
  protos: { logging: "@google-cloud/logging-api/build/protos/protos.json" },
  domain: "logging.googleapis.com",
  permissions: { ListLogEntries: "logging.logEntries.list" },
  start: (tools): StartedApi<LoggingControls> => {
    const store = tools.shared(LOG_STORE, () => new LogStore());
    const list = (name: string, request: Record<string, unknown>): RpcAnswer => {
      const project = /^projects\/([^/]+)$/.exec(name)?.[1];
      if (!project) return tools.errorFor("INVALID_ARGUMENT", `resource_names: expected projects/PROJECT, got "${name}"`);
      const terms = parseFilter(String(request.filter ?? ""));
      if (typeof terms === "string") return tools.errorFor("INVALID_ARGUMENT", terms);
      const descending = /\bdesc\b/i.test(String(request.orderBy ?? ""));
      const matching = store.visible(project).filter((entry) => terms.every((term) => term(entry)));
      matching.sort((a, b) => (Date.parse(a.timestamp) - Date.parse(b.timestamp)) * (descending ? -1 : 1));
      const offset = request.pageToken ? Number(Buffer.from(String(request.pageToken), "base64url").toString("utf8")) : 0;
      if (!Number.isInteger(offset) || offset < 0) return tools.errorFor("INVALID_ARGUMENT", `Invalid page token: ${String(request.pageToken)}`);
      const size = Math.min(Number(request.pageSize) > 0 ? Number(request.pageSize) : 50, 1000);
      const page = matching.slice(offset, offset + size);
      const next = offset + size < matching.length ? Buffer.from(String(offset + size), "utf8").toString("base64url") : "";
      return { ok: { entries: page.map(message), nextPageToken: next } };
    };
    return {
      controls: {
        appendLogEntry: (entry, ingestionDelayMs) => store.append(entry, ingestionDelayMs),
        logEntries: (project) => store.all(project),
      },
      clearFaults: () => store.clear(),
      services: [
        {
          proto: "logging",
          service: "google.logging.v2.LoggingServiceV2",
          handlers: {
            listLogEntries: tools.rpc("ListLogEntries", (request) => String((request.resourceNames as string[] | undefined)?.[0] ?? ""), list),
          },
        },
      ],
    };
  },
});
