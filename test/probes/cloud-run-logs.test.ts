// The pure half of "why a revision failed" (src/probes/cloud-run/logs.ts):
// what is asked of Cloud Logging and how its entries become quoted lines —
// from plain data, in the shapes entries:list returns (REST JSON and the gRPC
// client's Struct objects). The call itself is the reader's, tested with it.
import { describe, expect, it } from "vitest";
import {
  failedRevisionExcerpt,
  failedRevisionLogRequest,
  logEntryText,
  MAX_LOG_LINES,
  redactLogLine,
  revisionLogFilter,
  type LogEntryLike,
} from "../../src/probes/cloud-run/logs.js";

const WHERE = { project: "acme-staging", region: "us-central1", service: "backend", revision: "backend-00042-xyz" };

describe("the entries:list request for a failed revision", () => {
  it("filters on the revision's resource, ERROR and above or stderr, newest first, a few entries", () => {
    const signal = new AbortController().signal;
    const request = failedRevisionLogRequest(WHERE, { deadlineMs: 1_000, signal, settings: {} });
    expect(request).toMatchObject({ ...WHERE, resourceNames: ["projects/acme-staging"], orderBy: "timestamp desc", pageSize: MAX_LOG_LINES, deadlineMs: 1_000, signal });
    expect(MAX_LOG_LINES).toBe(5);
    expect(request.filter).toBe(
      'resource.type="cloud_run_revision" AND resource.labels.service_name="backend" AND resource.labels.revision_name="backend-00042-xyz" ' +
        'AND resource.labels.location="us-central1" AND (severity>=ERROR OR logName:"run.googleapis.com%2Fstderr")',
    );
  });

  it("bounded by the revision's creation time when it is known", () => {
    expect(revisionLogFilter({ ...WHERE, createdAtMs: Date.parse("2026-12-02T18:00:00Z") })).toMatch(/ AND timestamp>="2026-12-02T18:00:00\.000Z"$/);
  });

  it("names are quoted, so a name cannot change the filter", () => {
    expect(revisionLogFilter({ ...WHERE, service: 'x" OR severity>=DEFAULT OR "' })).toContain('resource.labels.service_name="x\\" OR severity>=DEFAULT OR \\""');
  });
});

describe("an entry's text", () => {
  it.each<[string, LogEntryLike, string | undefined]>([
    ["textPayload", { textPayload: "container failed to start: Error: REDIS_PASSWORD is not set" }, "container failed to start: Error: REDIS_PASSWORD is not set"],
    ["jsonPayload.message, REST JSON", { jsonPayload: { message: "listen EADDRINUSE", level: "error" } }, "listen EADDRINUSE"],
    ["jsonPayload.message, a gRPC Struct", { jsonPayload: { fields: { message: { stringValue: "uncaught exception", kind: "stringValue" }, level: { stringValue: "error" } } } }, "uncaught exception"],
    ["a Struct without a message", { jsonPayload: { fields: { level: { stringValue: "error" } } } }, undefined],
    ["a message that is not text", { jsonPayload: { message: { nested: true } } }, undefined],
    ["an empty textPayload falls back to jsonPayload", { textPayload: "  ", jsonPayload: { message: "the real line" } }, "the real line"],
    ["nothing readable (an audit entry)", { severity: "ERROR" }, undefined],
  ])("%s", (_name, entry, text) => {
    expect(logEntryText(entry)).toBe(text);
  });
});

describe("the quoted lines", () => {
  it("oldest first, from newest-first entries; unreadable ones skipped", () => {
    expect(failedRevisionExcerpt([{ textPayload: "third" }, { severity: "ERROR" }, { jsonPayload: { message: "second" } }, { textPayload: "first" }])).toEqual(["first", "second", "third"]);
  });

  it("by timestamp when every entry has one (ISO strings or { seconds, nanos })", () => {
    const entries: LogEntryLike[] = [
      { textPayload: "middle", timestamp: "2026-12-02T18:00:01Z" },
      { textPayload: "newest", timestamp: { seconds: String(Date.parse("2026-12-02T18:00:02Z") / 1000), nanos: 0 } },
      { textPayload: "oldest", timestamp: "2026-12-02T18:00:00Z" },
    ];
    expect(failedRevisionExcerpt(entries)).toEqual(["oldest", "middle", "newest"]);
  });

  it("a line every crashing instance repeats is quoted once; at most MAX_LOG_LINES", () => {
    const crash = { textPayload: "Error: REDIS_PASSWORD is not set" };
    expect(failedRevisionExcerpt([crash, crash, crash, { textPayload: "starting" }])).toEqual(["starting", "Error: REDIS_PASSWORD is not set"]);
    const many = Array.from({ length: 9 }, (_, i) => ({ textPayload: `line ${9 - i}` }));
    expect(failedRevisionExcerpt(many)).toEqual(["line 5", "line 6", "line 7", "line 8", "line 9"]);
  });

  it("redacted and excerpted: credentials, control characters, long lines", () => {
    const [line] = failedRevisionExcerpt([{ textPayload: `FATAL dial postgres://app:s3cret@10.0.0.5/app token=abc.def\n${"x".repeat(400)}` }]);
    expect(line).not.toContain("s3cret");
    expect(line).not.toContain("abc.def");
    expect(line).toContain("postgres://app:***@10.0.0.5/app");
    expect(line).not.toContain("\n");
    expect(line.length).toBeLessThanOrEqual(201);
    expect(line.endsWith("…")).toBe(true);
    expect(redactLogLine("\u001b[31mred\u001b[0m")).toBe("\\x1b[31mred\\x1b[0m");
  });

  it("nothing readable → no lines", () => {
    expect(failedRevisionExcerpt([])).toEqual([]);
    expect(failedRevisionExcerpt([{ severity: "ERROR" }, { textPayload: "" }])).toEqual([]);
  });
});
