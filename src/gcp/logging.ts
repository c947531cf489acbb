// Reading Cloud Logging: one generic query (ListLogEntries) for every feature
// that needs a resource's own log lines — a Cloud Run Job execution's result
// line (src/runner/cloud-run-job/), a failed revision's last lines. It is
// bounded like every Google call (the caller's inner deadline, its signal)
// and loads the GAPIC client (@google-cloud/logging-api) only when called.
import type { ProbeContext } from "../probes/api.js";
import { defineGoogleApi } from "./api.js";
import { gcpSettings } from "./resources.js";
import { withGcp, type GcpSession } from "./session.js";

export const LOGGING_API = defineGoogleApi({
  id: "logging",
  label: "Cloud Logging",
  host: "logging.googleapis.com",
  load: async () => (await import("@google-cloud/logging-api")).LoggingServiceV2Client as never,
  rpcs: {
    ListLogEntries: {
      permission: "logging.logEntries.list",
      role: "roles/logging.viewer",
      notFound: ({ project }) => `No such project or log view: check gcp.project (${project}).`,
    },
  },
});

/** A log entry as plain data: timestamps in RFC 3339, jsonPayload as plain JSON. */
export interface LogEntry {
  logName: string;
  timestamp?: string;
  insertId?: string;
  severity?: string;
  labels: Record<string, string>;
  resource?: { type: string; labels: Record<string, string> };
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
}

export interface LogQuery {
  project: string;
  /** The Logging query language: `resource.type="cloud_run_job" AND labels."k"="v"`. */
  filter: string;
  /** "timestamp asc" (default) or "timestamp desc". */
  orderBy?: string;
  /** Entries wanted at most (one page); default 50. */
  pageSize?: number;
}

/**
 * One page of entries matching `query`, within the caller's deadline. Pass
 * `session` to share the caller's clients; without it a session of its own is
 * opened and closed here (settings from the run's `gcp:` block).
 */
export async function listLogEntries(query: LogQuery, ctx: ProbeContext, session?: GcpSession): Promise<LogEntry[]> {
  const ask = async (gcp: GcpSession) => {
    const request = { resourceNames: [`projects/${query.project}`], filter: query.filter, orderBy: query.orderBy ?? "timestamp asc", pageSize: query.pageSize ?? 50 };
    const entries = await gcp.call<RawEntry[]>(LOGGING_API, "ListLogEntries", request, `projects/${query.project}`, { autoPaginate: false });
    return (entries ?? []).map(plainEntry);
  };
  return session ? ask(session) : withGcp(ctx, gcpSettings({ project: query.project }, ctx.deps), ask);
}

interface RawEntry {
  logName?: string;
  timestamp?: { seconds?: string | number | { toString(): string }; nanos?: number } | null;
  insertId?: string;
  severity?: string | number;
  labels?: Record<string, string>;
  resource?: { type?: string; labels?: Record<string, string> } | null;
  textPayload?: string;
  jsonPayload?: RawStruct | null;
  payload?: string;
}
interface RawStruct {
  fields?: Record<string, RawValue>;
}
interface RawValue {
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: RawStruct;
  listValue?: { values?: RawValue[] };
  kind?: string;
}

function plainEntry(raw: RawEntry): LogEntry {
  const seconds = raw.timestamp?.seconds;
  const timestamp = seconds !== undefined && seconds !== null ? new Date(Number(String(seconds)) * 1000 + Math.floor((raw.timestamp?.nanos ?? 0) / 1e6)).toISOString() : undefined;
  const hasJson = raw.jsonPayload && (raw.payload === undefined || raw.payload === "jsonPayload");
  return {
    logName: raw.logName ?? "",
    ...(timestamp ? { timestamp } : {}),
    ...(raw.insertId ? { insertId: raw.insertId } : {}),
    ...(raw.severity !== undefined ? { severity: String(raw.severity) } : {}),
    labels: raw.labels ?? {},
    ...(raw.resource ? { resource: { type: raw.resource.type ?? "", labels: raw.resource.labels ?? {} } } : {}),
    ...(hasJson ? { jsonPayload: plainStruct(raw.jsonPayload!) } : raw.textPayload !== undefined ? { textPayload: raw.textPayload } : {}),
  };
}

/** google.protobuf.Struct (as the client decodes it) → plain JSON. */
export function plainStruct(struct: RawStruct): Record<string, unknown> {
  return Object.fromEntries(Object.entries(struct.fields ?? {}).map(([key, value]) => [key, plainValue(value)]));
}

function plainValue(value: RawValue): unknown {
  const kind = value.kind ?? Object.keys(value).find((key) => key.endsWith("Value") && (value as Record<string, unknown>)[key] !== undefined && (value as Record<string, unknown>)[key] !== null);
  switch (kind) {
    case "numberValue":
      return value.numberValue;
    case "stringValue":
      return value.stringValue;
    case "boolValue":
      return value.boolValue;
    case "structValue":
      return plainStruct(value.structValue ?? {});
    case "listValue":
      return (value.listValue?.values ?? []).map(plainValue);
    default:
      return null;
  }
}
