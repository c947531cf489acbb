// Markdown summary: escaping table, and the rendered table's shape checked the
// way a GFM renderer splits rows (on unescaped pipes).
import { describe, expect, it } from "vitest";
import markdown, { escapeCell, escapeMarkdown } from "../../src/reporters/markdown.js";
import { loadFixture } from "./fixtures.js";

describe("escaping", () => {
  it.each([
    ["plain text", "plain text"],
    ["a | b", "a \\| b"],
    ["back\\slash", "back\\\\slash"],
    ["<script>x</script>", "\\<script\\>x\\</script\\>"],
    ["*bold* _em_ `code` ~strike~", "\\*bold\\* \\_em\\_ \\`code\\` \\~strike\\~"],
    ["[link](http://x) ![img](y)", "\\[link\\](http://x) \\!\\[img\\](y)"],
    ["&amp; #heading", "\\&amp; \\#heading"],
    ["ESC \u001b[31m", "ESC \\u001b\\[31m"],
  ])("escapeMarkdown(%j) = %j", (input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });

  it.each([
    ["two\nlines", "two<br>lines"],
    ["crlf\r\nlines", "crlf<br>lines"],
    ["pipe | and\nnewline", "pipe \\| and<br>newline"],
  ])("escapeCell(%j) = %j", (input, expected) => {
    expect(escapeCell(input)).toBe(expected);
  });
});

/** Split a GFM table row on unescaped pipes, as GitHub does. */
function cells(row: string): string[] {
  return row.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim());
}

describe("summary table", () => {
  const text = markdown(loadFixture("mixed"), { color: false, verbose: false });
  const rows = text.split("\n").filter((line) => line.startsWith("|"));

  it("has a header, a delimiter and one row per check, each with exactly 7 cells", () => {
    expect(rows).toHaveLength(2 + 6);
    for (const row of rows) expect(cells(row)).toHaveLength(7);
  });

  it.each([
    ["api", ["✅", "api", "http", "42 ms", "", "200 · ttfb 31 ms · total 42 ms · status healthy · application/json — https://api.staging.example.com/health", ""]],
    ["db", ["⚠️", "db", "postgres", "640 ms", "`slow`"]],
    ["cache", ["❌", "cache", "redis", "8.5 ms", "`auth`"]],
    ["chat", ["⛔", "chat", "websocket", "—", "", "blocked by cache (in all 4 attempts)", ""]],
  ])("row %s: status emoji, check, kind, time, class", (name, expected) => {
    const row = rows.find((line) => cells(line)[1] === name)!;
    expect(cells(row).slice(0, expected.length)).toEqual(expected);
  });

  it("a multi-line hint stays in its row; a passed-after-retries check is labelled", () => {
    const events = cells(rows.find((line) => cells(line)[1] === "agent-events")!);
    expect(events[6]).toBe('The server failed while handling the session: read its logs around this time.<br>Look for "agent\\_started", then the stack trace.');
    expect(events[5]).toContain("\\| \\<stack\\> \\& \"quotes\" (last of 4 attempts)");
    expect(cells(rows.find((line) => cells(line)[1] === "worker")!)[5]).toMatch(/^\\\[passed after 3 attempts\\\]/);
  });

  it("starts with the verdict and counts, ends with the root causes", () => {
    expect(text.split("\n")[0]).toBe("### infra-check staging: ❌ UNHEALTHY");
    expect(text).toContain("6 checks: 2 passed, 1 warned, 2 failed, 1 blocked in 3.12 s (deadline 20.0 s)");
    expect(text).toMatch(/\*\*Root causes:\*\*\n- cache \(`auth`\): .* — blocks chat\n- agent-events/);
  });

  it("a healthy run says so and lists no root causes", () => {
    const healthy = markdown(loadFixture("healthy"), { color: false, verbose: false });
    expect(healthy.split("\n")[0]).toBe("### infra-check production: ✅ healthy");
    expect(healthy).not.toContain("Root cause");
  });

  it("--verbose adds the phase timings under the result", () => {
    const verbose = markdown(loadFixture("mixed"), { color: false, verbose: true });
    expect(verbose).toContain("https://api.staging.example.com/health<br>phases: dns 1.5 ms · connect 2.3 ms · tls 12 ms · ttfb 25 ms · transfer 0.75 ms");
  });
});

describe("evidence of a slow check", () => {
  it("goes under the hint, in the table and in markdown; a passing check shows none", async () => {
    const report = loadFixture("mixed");
    const slow = report.checks.find((check) => check.failure?.class === "slow")!;
    slow.details = { ...slow.details, evidence: "Cloud SQL CPU 97 % over the last 10 min (max 99 %) — Cloud Monitoring metrics lag by up to ~3 minutes" };
    const passing = report.checks.find((check) => check.status === "pass")!;
    passing.details = { ...passing.details, evidence: "never shown" };
    const { default: table } = await import("../../src/reporters/table.js");
    const text = table(report, { color: false, verbose: false });
    const lines = text.split("\n");
    const hintRow = lines.findIndex((line) => line.includes(`→ ${slow.failure!.hint}`));
    expect(lines[hintRow + 1].trim()).toBe("◦ Cloud SQL CPU 97 % over the last 10 min (max 99 %) — Cloud Monitoring metrics lag by up to ~3 minutes");
    expect(text).not.toContain("never shown");
    const md = markdown(report, { color: false, verbose: false });
    expect(md).toContain("<br>◦ Cloud SQL CPU 97 % over the last 10 min (max 99 %) — Cloud Monitoring metrics lag by up to \\~3 minutes");
    expect(md).not.toContain("never shown");
  });
});
