// The history folder on a real file system: atomic appends, pruning, readers
// that skip (and never delete) corrupt files, concurrent writers — in one
// process and from separate processes running the built module.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  appendToHistory,
  ensureHistoryDir,
  historyFileName,
  loadBaseline,
  parseReport,
  pruneHistory,
  readHistory,
  readReportFile,
} from "../../src/baseline/history.js";
import type { RunReport } from "../../src/report/schema.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/history");
const DIST_HISTORY = path.resolve(import.meta.dirname, "../../dist/baseline/history.js");
const NAME = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z_[A-Za-z0-9.-]+_[0-9a-f]{12}\.json$/;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "infra-check-history-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sample(env = "staging", startedAt = new Date().toISOString()): RunReport {
  const report = JSON.parse(readFileSync(path.join(FIXTURES, "regressed.json"), "utf8")) as RunReport;
  return { ...report, env, startedAt };
}
const at = (index: number) => new Date(Date.UTC(2025, 3, 1, 10, 0, index)).toISOString();
const jsonFiles = (folder = dir) => readdirSync(folder).filter((name) => name.endsWith(".json")).sort();
const snapshot = (folder: string) => Object.fromEntries(readdirSync(folder).map((name) => [name, readFileSync(path.join(folder, name), "utf8")]));

describe("appendToHistory", () => {
  it("writes one complete report per run under a time_env_random name, and no temp file", async () => {
    const report = sample("staging", "2025-04-01T10:00:00.000Z");
    const { file, pruned } = await appendToHistory(path.join(dir, "nested", "history"), report);
    expect(path.basename(file)).toMatch(/^2025-04-01T10-00-00\.000Z_staging_[0-9a-f]{12}\.json$/);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(report);
    expect(readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
    expect(pruned).toEqual([]);
  });

  it("names are file-system safe for any env name", () => {
    expect(historyFileName({ env: "eu/west prod:1", startedAt: "2025-04-01T10:00:00.000Z" }, "0123456789ab")).toBe(
      "2025-04-01T10-00-00.000Z_eu-west-prod-1_0123456789ab.json",
    );
  });

  it("keep: prunes the oldest runs of the same env only; other envs' and foreign files stay", async () => {
    writeFileSync(path.join(dir, "my-notes.json"), "{}");
    await appendToHistory(dir, sample("production", at(0)), { keep: 1 });
    for (let index = 1; index <= 7; index += 1) await appendToHistory(dir, sample("staging", at(index)), { keep: 5 });
    const names = jsonFiles();
    expect(names.filter((name) => name.includes("_staging_")).map((name) => name.slice(0, 24))).toEqual(
      [3, 4, 5, 6, 7].map((index) => at(index).replace(/:/g, "-")),
    );
    expect(names.filter((name) => name.includes("_production_"))).toHaveLength(1);
    expect(names).toContain("my-notes.json");
  });

  it("a concurrent pruner that already removed a file is not an error", async () => {
    for (let index = 0; index < 6; index += 1) await appendToHistory(dir, sample("staging", at(index)), { keep: 100 });
    const results = await Promise.all([pruneHistory(dir, "staging", 2), pruneHistory(dir, "staging", 2), pruneHistory(dir, "staging", 2)]);
    expect(results.flat().sort()).toEqual(
      [0, 1, 2, 3].map((index) => expect.stringContaining(at(index).replace(/:/g, "-"))),
    );
    expect(jsonFiles()).toHaveLength(2);
  });

  it("20 concurrent appends (Promise.all) with pruning: every file is valid JSON and exactly the newest `keep` remain", async () => {
    const reports = Array.from({ length: 20 }, (_, index) => sample("staging", at(index)));
    await Promise.all(reports.map((report) => appendToHistory(dir, report, { keep: 10 })));
    const names = jsonFiles();
    expect(names).toHaveLength(10);
    expect(names.map((name) => name.slice(0, 24))).toEqual(reports.slice(10).map((report) => report.startedAt.replace(/:/g, "-")));
    for (const name of names) expect(parseReport(readFileSync(path.join(dir, name), "utf8"), name).checks).toHaveLength(3);
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("20 writer processes at once (the built module, as CI jobs would run it): 20 valid reports", async () => {
    expect(existsSync(DIST_HISTORY), "dist/ is missing: build first (npx tsc -p .)").toBe(true);
    const script = [
      `const { appendToHistory } = await import(${JSON.stringify(pathToFileURL(DIST_HISTORY).href)});`,
      `const report = JSON.parse(process.argv[1]);`,
      `await appendToHistory(process.argv[2], report, { keep: 100 });`,
    ].join("\n");
    const children = Array.from({ length: 20 }, (_, index) => {
      // Same startedAt for all: the random suffix alone keeps the names apart.
      const child = spawn(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(sample("staging", at(0))), dir], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr!.on("data", (chunk) => (stderr += chunk));
      return once(child, "close").then(([code]) => ({ index, code, stderr }));
    });
    const results = await Promise.all(children);
    expect(results.filter((result) => result.code !== 0)).toEqual([]);
    const names = jsonFiles();
    expect(names).toHaveLength(20);
    for (const name of names) {
      expect(name).toMatch(NAME);
      expect(parseReport(readFileSync(path.join(dir, name), "utf8"), name).env).toBe("staging");
    }
    expect(readdirSync(dir)).toHaveLength(20);
  });
});

describe("reading", () => {
  it("reads an interrupted run's report (status interrupted) like any other", () => {
    const text = readFileSync(path.resolve(import.meta.dirname, "../fixtures/reports/interrupted.json"), "utf8");
    const report = parseReport(text, "interrupted.json");
    expect(report.checks.map((check) => check.status)).toEqual(["pass", "interrupted", "interrupted"]);
  });

  it("skips corrupt and foreign files with a reason, reads the rest, deletes nothing", async () => {
    cpSync(path.join(FIXTURES, "runs"), dir, { recursive: true });
    cpSync(path.join(FIXTURES, "corrupt.json"), path.join(dir, "2025-03-14T10-00-00.000Z_staging_0000000000ff.json"));
    writeFileSync(path.join(dir, "empty.json"), "");
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "not-a-report" }));
    writeFileSync(path.join(dir, ".2025-03-15T10-00-00.000Z_staging_0000000000fe.json.123.tmp"), '{"half": ');
    writeFileSync(path.join(dir, "README.txt"), "history of staging runs");
    const before = snapshot(dir);

    const read = await readHistory(dir);
    expect(read.reports).toHaveLength(14);
    expect(read.skipped.map(({ file, reason }) => [path.basename(file), reason])).toEqual([
      ["2025-03-14T10-00-00.000Z_staging_0000000000ff.json", expect.stringMatching(/^not valid JSON \(.+\)$/)],
      ["empty.json", "empty file, expected an infra-check JSON report"],
      ["package.json", expect.stringMatching(/^not an infra-check JSON report .*schemaVersion/)],
    ]);
    expect(snapshot(dir)).toEqual(before);
  });

  it.each([
    { name: "truncated JSON", text: readFileSync(path.join(FIXTURES, "corrupt.json"), "utf8"), message: /saved\.json: not valid JSON \(/ },
    { name: "empty file", text: "  \n", message: /saved\.json: empty file, expected an infra-check JSON report/ },
    { name: "JSON that is not a report", text: '{"schemaVersion": 2, "checks": []}', message: /saved\.json: not an infra-check JSON report \(schemaVersion 1.*\): schemaVersion: / },
    { name: "a check without phases", text: JSON.stringify({ ...sample(), checks: [{ name: "a", kind: "http", status: "pass", metrics: {} }] }), message: /checks\.0\.phasesMs: / },
  ])("readReportFile: $name → ConfigError naming the file", async ({ text, message }) => {
    const file = path.join(dir, "saved.json");
    writeFileSync(file, text);
    const error = await readReportFile(file, "saved.json").catch((caught: Error) => caught);
    expect(error).toMatchObject({ name: "ConfigError", message: expect.stringMatching(message) });
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("readReportFile: missing file and folder", async () => {
    await expect(readReportFile(path.join(dir, "nope.json"), "nope.json")).rejects.toMatchObject({ name: "ConfigError", message: "nope.json: file not found" });
    await expect(readReportFile(dir, "history")).rejects.toMatchObject({ message: "history: is a folder, expected a JSON report file" });
  });
});

describe("loadBaseline", () => {
  it("explicit --baseline that does not exist → ConfigError that says how to start a history", async () => {
    const error = await loadBaseline(path.join(dir, "missing"), { shown: "missing", env: "staging", explicit: true }).catch((caught: Error) => caught);
    expect(error).toMatchObject({ name: "ConfigError" });
    expect((error as Error).message).toMatch(/^--baseline missing: no such folder or file\. .*--history.*mkdir -p/);
  });

  it("implicit baseline (config regression + history) on a first run: no baseline, a note", async () => {
    const loaded = await loadBaseline(path.join(dir, "missing"), { shown: "missing", env: "staging", explicit: false });
    expect(loaded.source.reports).toEqual([]);
    expect(loaded.warnings).toEqual(["no history in missing yet: nothing to compare with; this run starts the baseline"]);
  });

  it("a folder: every readable report, warnings for skipped files and for an env with no runs yet", async () => {
    cpSync(path.join(FIXTURES, "runs"), dir, { recursive: true });
    writeFileSync(path.join(dir, "broken.json"), "{");
    const loaded = await loadBaseline(dir, { shown: "hist", env: "dev", explicit: true });
    expect(loaded.source).toMatchObject({ kind: "history", source: "hist" });
    expect(loaded.source.reports).toHaveLength(14);
    expect(loaded.warnings).toEqual([
      expect.stringMatching(/^skipped .*broken\.json \(left in place\): not valid JSON/),
      'no runs of env "dev" in hist yet: nothing to compare with; this run starts the baseline',
    ]);
    expect(existsSync(path.join(dir, "broken.json"))).toBe(true);
  });

  it("a single report: corrupt → ConfigError; another env → a warning", async () => {
    await expect(loadBaseline(path.join(FIXTURES, "corrupt.json"), { shown: "corrupt.json", env: "staging", explicit: true })).rejects.toMatchObject({
      name: "ConfigError",
      message: expect.stringMatching(/^corrupt\.json: not valid JSON/),
    });
    const loaded = await loadBaseline(path.join(FIXTURES, "regressed.json"), { shown: "regressed.json", env: "production", explicit: true });
    expect(loaded.source).toMatchObject({ kind: "report", source: "regressed.json" });
    expect(loaded.warnings).toEqual(['the baseline report regressed.json is from env "staging", this run is env "production"']);
  });
});

describe("ensureHistoryDir", () => {
  it("creates missing folders; a file in the way is a ConfigError", async () => {
    await ensureHistoryDir(path.join(dir, "a", "b"), "--history");
    expect(existsSync(path.join(dir, "a", "b"))).toBe(true);
    writeFileSync(path.join(dir, "file"), "x");
    await expect(ensureHistoryDir(path.join(dir, "file"), "--history")).rejects.toMatchObject({
      name: "ConfigError",
      message: `--history ${path.join(dir, "file")} exists but is not a folder; it must be a folder this user can write to`,
    });
  });
});
