// Why a revision failed, in its container's own words: the last few error
// lines a failed revision wrote, read from Cloud Logging within what is left
// of the check's budget — "container failed to start: Error: REDIS_PASSWORD is
// not set" says more than any condition message.
//
// This kind defines what it needs (RevisionLogReader); the Cloud Logging
// reader itself (src/gcp/logging.ts, entries:list with a filter) plugs in
// through `ctx.deps[REVISION_LOGS]`. Without a reader the check reports the
// conditions and the revision's logUri only. Best effort: a failed or slow
// read never changes the verdict, it only leaves the lines out.
import { redactUrl } from "../../redact.js";
import { excerpt } from "../../util/excerpt.js";
import { neutralizeLine } from "../../util/neutralize.js";
import type { GcpSettings } from "../../gcp/resources.js";
import type { ProbeContext } from "../api.js";

/** The deps key under which a RevisionLogReader is handed to the probe. */
export const REVISION_LOGS = "cloudRunRevisionLogs";

/** What to read: the error lines of one revision, newest first, at most `limit`. */
export interface RevisionLogQuery {
  project: string;
  region: string;
  service: string;
  revision: string;
  limit: number;
  /** Cloud Logging filter for exactly that (entries:list `filter`), ordered `timestamp desc`. */
  filter: string;
  /** The read must end by then (epoch ms): the check's own deadline, minus its reporting margin. */
  deadlineMs: number;
  signal: AbortSignal;
  /** Where the check's other Google calls go (emulator, endpoints): the reader opens its session with them (withGcp(ctx, settings, …)). */
  settings: GcpSettings;
}

export interface RevisionLogReader {
  /** Text payloads (or jsonPayload.message) of the matching entries, newest first. */
  read(query: RevisionLogQuery, ctx: ProbeContext): Promise<string[]>;
}

/** How many lines a failure message quotes, and how long each may be. */
export const MAX_LOG_LINES = 3;
const MAX_LINE_CHARS = 240;

/** The Cloud Logging filter of a revision's error output (stderr, severity ERROR and above, and request-less startup lines). */
export function revisionLogFilter(query: Pick<RevisionLogQuery, "project" | "region" | "service" | "revision">): string {
  const quote = (value: string) => JSON.stringify(value);
  return [
    `resource.type="cloud_run_revision"`,
    `resource.labels.service_name=${quote(query.service)}`,
    `resource.labels.revision_name=${quote(query.revision)}`,
    `resource.labels.location=${quote(query.region)}`,
    `(severity>=ERROR OR logName:"run.googleapis.com%2Fstderr")`,
  ].join(" AND ");
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

/** The last error lines of a failed revision, oldest first, redacted — or nothing (no reader, no budget, a failed read). */
export async function failedRevisionLines(
  ctx: ProbeContext,
  where: { project: string; region: string; service: string; revision: string },
  settings: GcpSettings,
): Promise<string[] | undefined> {
  const reader = ctx.deps[REVISION_LOGS] as RevisionLogReader | undefined;
  if (!reader || ctx.deadline.remainingMs() < 100) return undefined;
  try {
    const lines = await ctx.phases.time("getLogs", () =>
      reader.read({ ...where, limit: MAX_LOG_LINES, filter: revisionLogFilter(where), deadlineMs: Date.now() + ctx.deadline.remainingMs(), signal: ctx.signal, settings }, ctx),
    );
    return lines.slice(0, MAX_LOG_LINES).reverse().map(redactLogLine).filter(Boolean);
  } catch (error) {
    ctx.log(`Cloud Logging: the failed revision's lines could not be read (${(error as Error)?.message ?? String(error)}); its logUri is in the report`);
    return undefined;
  }
}
