// Why a revision failed, in its container's own words: the last few error
// lines a failed revision wrote, read from Cloud Logging within what is left
// of the check's budget — "container failed to start: Error: REDIS_PASSWORD is
// not set" says more than any condition message.
//
// This kind owns what to ask and how to read the answer (pure, below): the
// entries:list request for one revision's error output, the text of an entry
// (textPayload, or jsonPayload.message — as plain JSON or as the protobuf
// Struct a gRPC client returns), redaction, de-duplication and excerpts. The
// Cloud Logging call itself is a FailedRevisionLogReader handed to the probe
// through `ctx.deps[REVISION_LOGS]` (the generic list-log-entries wrapper of
// src/gcp/ plugs in there). Without a reader the check reports the conditions
// and the revision's logUri only. Best effort: a failed or slow read never
// changes the verdict, it only leaves the lines out.
import { redactUrl } from "../../redact.js";
import { excerpt } from "../../util/excerpt.js";
import { neutralizeLine } from "../../util/neutralize.js";
import type { GcpSettings } from "../../gcp/resources.js";
import type { ProbeContext } from "../api.js";

/** The deps key under which a FailedRevisionLogReader is handed to the probe. */
export const REVISION_LOGS = "cloudRunRevisionLogs";

/** How many entries are asked for (the newest), and how long a quoted line may be. */
export const MAX_LOG_LINES = 5;
const MAX_LINE_CHARS = 200;

/** Which revision: where it runs and its short names. */
export interface FailedRevision {
  project: string;
  region: string;
  service: string;
  revision: string;
  /** When the revision was created (epoch ms): nothing older can be its output, and a bound keeps the query fast. */
  createdAtMs?: number;
}

/** One entries:list call (https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list), and what it is for. */
export interface FailedRevisionLogRequest extends FailedRevision {
  resourceNames: string[];
  filter: string;
  orderBy: "timestamp desc";
  pageSize: number;
  /** The read must end by then (epoch ms): the check's own deadline. */
  deadlineMs: number;
  signal: AbortSignal;
  /** Where the check's other Google calls go (emulator, endpoints): the reader opens its session with them (withGcp(ctx, settings, …)). */
  settings: GcpSettings;
}

/** A protobuf Struct value as a gRPC client returns it ({ stringValue }, { structValue: { fields } }, …). */
interface StructValue {
  stringValue?: string | null;
  structValue?: { fields?: Record<string, StructValue> | null } | null;
  kind?: string;
}
type Timestamp = string | { seconds?: string | number | null; nanos?: number | null } | null;

/** A log entry as entries:list returns it, as far as this kind reads it (REST JSON or the gRPC client's objects). */
export interface LogEntryLike {
  textPayload?: string | null;
  /** Plain JSON ({ message }) or a protobuf Struct ({ fields: { message: { stringValue } } }). */
  jsonPayload?: Record<string, unknown> | null;
  severity?: string | null;
  timestamp?: Timestamp;
}

export interface FailedRevisionLogReader {
  /** One page of entries for the request, newest first, as the API returns them. */
  listEntries(request: FailedRevisionLogRequest, ctx: ProbeContext): Promise<readonly LogEntryLike[]>;
}

const quote = (value: string) => JSON.stringify(value);

/**
 * The Cloud Logging filter of a revision's error output: entries of severity
 * ERROR and above, and what the container wrote to stderr (an unstructured
 * stderr line carries no severity on Cloud Run — a crash's own words are
 * usually there).
 */
export function revisionLogFilter(where: FailedRevision): string {
  return [
    `resource.type="cloud_run_revision"`,
    `resource.labels.service_name=${quote(where.service)}`,
    `resource.labels.revision_name=${quote(where.revision)}`,
    `resource.labels.location=${quote(where.region)}`,
    `(severity>=ERROR OR logName:"run.googleapis.com%2Fstderr")`,
    ...(where.createdAtMs !== undefined && Number.isFinite(where.createdAtMs) ? [`timestamp>=${quote(new Date(where.createdAtMs).toISOString())}`] : []),
  ].join(" AND ");
}

/** The entries:list request for a failed revision's last error lines (newest first, MAX_LOG_LINES of them). */
export function failedRevisionLogRequest(
  where: FailedRevision,
  bounds: { deadlineMs: number; signal: AbortSignal; settings: GcpSettings },
): FailedRevisionLogRequest {
  return { ...where, resourceNames: [`projects/${where.project}`], filter: revisionLogFilter(where), orderBy: "timestamp desc", pageSize: MAX_LOG_LINES, ...bounds };
}

function structText(value: StructValue | undefined): string | undefined {
  return typeof value?.stringValue === "string" ? value.stringValue : undefined;
}

/** What an entry says: its textPayload, else jsonPayload.message (plain or as a Struct); undefined for anything else. */
export function logEntryText(entry: LogEntryLike): string | undefined {
  if (typeof entry.textPayload === "string" && entry.textPayload.trim()) return entry.textPayload;
  const json = entry.jsonPayload;
  if (!json || typeof json !== "object") return undefined;
  const fields = (json as { fields?: Record<string, StructValue> | null }).fields;
  const message = fields && typeof fields === "object" && !Array.isArray(fields) ? structText(fields.message) : json.message;
  return typeof message === "string" && message.trim() ? message : undefined;
}

const SECRET_ASSIGNMENT = /\b([\w.-]*(?:pass(?:word)?|passwd|secret|token|api[_-]?key|auth(?:orization)?|credential)[\w.-]*)(["']?\s*[:=]\s*)((?:Bearer|Basic)\s+[^\s,;}]+|"[^"]*"|'[^']*'|[^\s,;}]+)/gi;

/**
 * A container's line as a report may quote it: credentials in URLs and
 * `password=…`-style assignments masked (the report's redactor only knows the
 * secrets infra-check itself read), control characters made visible, excerpted.
 */
export function redactLogLine(line: string): string {
  const masked = line
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url))
    .replace(SECRET_ASSIGNMENT, (_match, key: string, separator: string) => `${key}${separator}***`)
    .replace(/\bBearer\s+[\w.~+/-]+=*/g, "Bearer ***");
  return excerpt(neutralizeLine(masked.replace(/\s+/g, " ").trim()), MAX_LINE_CHARS);
}

function timestampMs(timestamp: Timestamp | undefined): number | undefined {
  if (typeof timestamp === "string") {
    const parsed = Date.parse(timestamp);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  if (timestamp && timestamp.seconds !== undefined && timestamp.seconds !== null) return Number(timestamp.seconds) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
  return undefined;
}

/**
 * The lines a failure message quotes, oldest first: the newest entries' texts
 * (by timestamp when every entry has one, else in the API's newest-first
 * order), redacted, a repeated line once (each crashing instance writes the
 * same one), at most MAX_LOG_LINES.
 */
export function failedRevisionExcerpt(entries: readonly LogEntryLike[]): string[] {
  const times = entries.map((entry) => timestampMs(entry.timestamp));
  const order = entries.map((entry, index) => ({ entry, index, at: times[index] }));
  if (times.every((at) => at !== undefined)) order.sort((a, b) => b.at! - a.at! || a.index - b.index);
  const lines: string[] = [];
  for (const { entry } of order) {
    const text = logEntryText(entry);
    const line = text === undefined ? "" : redactLogLine(text);
    if (line && !lines.includes(line)) lines.push(line);
    if (lines.length === MAX_LOG_LINES) break;
  }
  return lines.reverse();
}

/** The last error lines of a failed revision, oldest first, redacted — or nothing (no reader, no budget, a failed read). */
export async function failedRevisionLines(ctx: ProbeContext, where: FailedRevision, settings: GcpSettings): Promise<string[] | undefined> {
  const reader = ctx.deps[REVISION_LOGS] as FailedRevisionLogReader | undefined;
  if (!reader || ctx.deadline.remainingMs() < 100) return undefined;
  try {
    const request = failedRevisionLogRequest(where, { deadlineMs: Date.now() + ctx.deadline.remainingMs(), signal: ctx.signal, settings });
    const entries = await ctx.phases.time("getLogs", () => reader.listEntries(request, ctx));
    return failedRevisionExcerpt(entries);
  } catch (error) {
    ctx.log(`Cloud Logging: the failed revision's lines could not be read (${(error as Error)?.message ?? String(error)}); its logUri is in the report`);
    return undefined;
  }
}
