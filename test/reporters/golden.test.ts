// Golden files: every format rendered from the same fixture reports, through
// the same redacting render path the CLI uses. File names carry the exit code
// the report implies (mixed.exit1.junit.xml). Regenerate after an intended
// change with: UPDATE_GOLDEN=1 npx vitest run test/reporters/golden.test.ts
// and review the diff.
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { FIXTURES, SECRET, loadFixture } from "./fixtures.js";
import path from "node:path";
import { FORMATS } from "../../src/reporters/index.js";
import { renderReport } from "../../src/commands/outputs.js";
import { buildReport } from "../../src/report/build.js";
import { exitCodeFor } from "../../src/exit-codes.js";
import { Redactor } from "../../src/redact.js";

const EXTENSION: Record<string, string> = {
  table: "table.txt",
  json: "json",
  junit: "junit.xml",
  markdown: "md",
  github: "github.txt",
  prometheus: "prom",
};

describe.each(["mixed", "healthy", "interrupted"] as const)("fixture %s", (fixture) => {
  const report = loadFixture(fixture);

  it("is a consistent report (summary, ok and root causes as the runner would compute them)", () => {
    const rebuilt = buildReport({ ...report, ...(report.interrupted ? { interruptedBy: report.interrupted.signal } : {}) }, { checks: report.checks, startedAt: report.startedAt, durationMs: report.durationMs, extras: report.extras });
    expect(rebuilt.summary).toEqual(report.summary);
    expect(rebuilt.ok).toBe(report.ok);
    expect(rebuilt.rootCauses).toEqual(report.rootCauses);
  });

  it.each(FORMATS)("%s matches its golden file and shows no secret", async (format) => {
    const text = await renderReport(format, report, { color: false, verbose: false }, new Redactor([SECRET]));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("hunter2");
    const file = path.join(FIXTURES, "golden", `${fixture}.exit${exitCodeFor(report)}.${EXTENSION[format] ?? `${format}.txt`}`);
    if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
    expect(existsSync(file), `${path.relative(process.cwd(), file)} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
    expect(text).toBe(readFileSync(file, "utf8"));
  });
});

it("the fixtures cover pass, warn, fail and blocked rows, a retried pass and a secret", () => {
  const mixed = loadFixture("mixed");
  expect(new Set(mixed.checks.map((check) => check.status))).toEqual(new Set(["pass", "warn", "fail", "blocked"]));
  expect(mixed.checks.some((check) => check.status === "pass" && (check.attempts ?? 1) > 1)).toBe(true);
  expect(JSON.stringify(mixed)).toContain(SECRET);
  expect(exitCodeFor(mixed)).toBe(1);
  expect(exitCodeFor(loadFixture("healthy"))).toBe(0);
});

it("the interrupted fixture has a check stopped in a phase and one that never started, and exits 128 + SIGTERM", () => {
  const report = loadFixture("interrupted");
  expect(report.checks.map((check) => check.interrupted)).toEqual([undefined, { phase: "query", signal: "SIGTERM" }, { signal: "SIGTERM" }]);
  expect(exitCodeFor(report)).toBe(143);
});
