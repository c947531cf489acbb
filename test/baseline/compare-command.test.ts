// `infra-check compare OLD.json NEW.json` on fixture reports: the run before
// the deploy (last fixture run) and the one after (regressed.json).
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runMain, type MainResult } from "../helpers/main-io.js";
import { runCli } from "../helpers/cli.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/history");
const OLD = "runs/2025-03-12T10-00-00.000Z_staging_00000000000c.json";
const NEW = "regressed.json";

function cli(args: string[]): Promise<MainResult> {
  return runMain(["compare", ...args], { cwd: FIXTURES });
}

describe("infra-check compare", () => {
  it("table: per check, per phase old → new, delta, ratio; regressions marked; summary", async () => {
    const { code, stdout, stderr } = await cli([OLD, NEW]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(`old: ${OLD} (staging, 2025-03-12T10:00:00.000Z, healthy)`);
    expect(stdout).toContain("new: regressed.json (staging, 2025-03-13T10:00:00.000Z, healthy)");
    expect(stdout).toMatch(/chat \(websocket\) +pass\n/);
    expect(stdout).toMatch(/ welcomeMs +440 ms → +1\.31 s +\+870 ms +3\.0× +↑ regressed\n/);
    expect(stdout).toMatch(/ upgradeMs +13 ms → +13 ms +\+0\.00 ms +1\.0×\n/);
    // 0.1 → 0.3 ms is 3× but under the 50 ms floor: listed, not marked.
    expect(stdout).toMatch(/ queryMs +0\.10 ms → +0\.30 ms +\+0\.20 ms +3\.0×\n/);
    expect(stdout).toContain("3 checks compared: 0 status changes, 1 regressed metric (≥ 2× and ≥ +50 ms)");
  });

  it("--factor / --min-delta change what counts", async () => {
    const { stdout } = await cli([OLD, NEW, "--factor", "1.5", "--min-delta", "0.1ms"]);
    expect(stdout).toMatch(/ queryMs .* ↑ regressed\n/);
    expect(stdout).toContain("2 regressed metrics (≥ 1.5× and ≥ +0.10 ms)");
  });

  it("json: machine-readable diff", async () => {
    const { code, stdout } = await cli([OLD, NEW, "--format", "json"]);
    expect(code).toBe(0);
    const diff = JSON.parse(stdout);
    expect(diff.files).toEqual({ old: OLD, new: NEW });
    expect(diff.settings).toEqual({ factor: 2, minDeltaMs: 50 });
    expect(diff.regressions).toBe(1);
    const chat = diff.checks.find((check: { name: string }) => check.name === "chat");
    expect(chat).toMatchObject({ kind: "websocket", oldStatus: "pass", newStatus: "pass", statusChanged: false });
    expect(chat.metrics).toContainEqual({ metric: "welcomeMs", old: 440, new: 1310, deltaMs: 870, ratio: 2.98, regressed: true });
  });

  it("markdown: one table for a PR comment or step summary", async () => {
    const { code, stdout } = await cli([OLD, NEW, "--format", "markdown"]);
    expect(code).toBe(0);
    expect(stdout).toContain("### infra-check compare: staging");
    expect(stdout).toContain("| Check | Status | Metric | Old | New | Δ | Ratio |");
    expect(stdout).toContain("| chat (websocket) | pass | dnsMs | 1.1 ms | 1.1 ms | +0.00 ms | 1.0× |");
    expect(stdout).toContain("|  |  | welcomeMs | 440 ms | 1.31 s | +870 ms | **3.0×** ⚠️ |");
  });

  it("status changes are shown (a failed run against a good one)", async () => {
    const failed = "runs/2025-03-08T10-00-00.000Z_staging_000000000008.json";
    const { stdout } = await cli([OLD, failed]);
    expect(stdout).toMatch(/chat \(websocket\) +pass → fail\n/);
    expect(stdout).toMatch(/ welcomeMs +440 ms → +— +\n/);
    expect(stdout).toContain("1 status change");
  });

  it.each([
    { args: ["missing.json", NEW], message: "infra-check: missing.json: file not found\n" },
    { args: [OLD, "corrupt.json"], message: /^infra-check: corrupt\.json: not valid JSON \(/ },
    { args: [OLD, "runs"], message: "infra-check: runs: is a folder, expected a JSON report file\n" },
    { args: [OLD, NEW, "--format", "xml"], message: 'infra-check: --format: expected one of table, json, markdown, found "xml"\n' },
    { args: [OLD, NEW, "--factor", "0"], message: 'infra-check: --factor: expected a positive number like 2 or 1.5, found "0"\n' },
    { args: [OLD, NEW, "--min-delta", "soon"], message: 'infra-check: --min-delta: expected a duration like 50ms or 1s, found "soon"\n' },
  ])("bad input $args → exit 2, a clear message, no output", async ({ args, message }) => {
    const corrupt = path.join(FIXTURES, "corrupt.json");
    const before = readFileSync(corrupt, "utf8");
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    if (typeof message === "string") expect(stderr).toBe(message);
    else expect(stderr).toMatch(message);
    expect(readFileSync(corrupt, "utf8")).toBe(before);
  });

  it("spawned: exit 0 with output, exit 2 for a report that is not one", async () => {
    const ok = await runCli(["compare", OLD, NEW], { cwd: FIXTURES });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("↑ regressed");
    const dir = mkdtempSync(path.join(tmpdir(), "infra-check-compare-"));
    writeFileSync(path.join(dir, "other.json"), JSON.stringify({ hello: "world" }));
    const bad = await runCli(["compare", path.join(FIXTURES, OLD), "other.json"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/^infra-check: other\.json: not an infra-check JSON report \(schemaVersion 1, as written by --format json or --history\): schemaVersion: /);
  });
});
