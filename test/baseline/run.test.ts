// `infra-check run` with --history / --baseline / config history+regression,
// end to end through main(): a real HTTP server on loopback builds a history,
// then starts delaying its answers (the server's own behaviour: a timer before
// it responds), and the next run must flag the ttfb phase.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runMain, type MainResult } from "../helpers/main-io.js";
import type { RunReport } from "../../src/report/schema.js";
import { httpServer } from "../helpers/net.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/history");
// A regression must be 2× and +100 ms: far above loopback jitter on a busy 2-core machine.
const DELAY_MS = 400;

let server: Awaited<ReturnType<typeof httpServer>>;
let delayMs = 0;
let requests = 0;
let root: string;

beforeAll(async () => {
  server = await httpServer((_req, res) => {
    requests += 1;
    const answer = () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ status: "healthy" }));
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  root = mkdtempSync(path.join(tmpdir(), "infra-check-baseline-run-"));
});
afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

function cli(args: string[], cwd = root): Promise<MainResult> {
  return runMain(args, { cwd });
}

function writeConfig(folder: string, extra: string): string {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, "e2e.yaml");
  writeFileSync(file, `env: e2e\ndeadline: 10s\n${extra}checks:\n  api:\n    kind: http\n    url: ${server.url("/health")}\n    timeout: 5s\n`);
  return file;
}

const files = (folder: string) => (existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith(".json")) : []);
const snapshot = (folder: string) => Object.fromEntries(readdirSync(folder).map((name) => [name, readFileSync(path.join(folder, name), "utf8")]));

describe("config history + regression: build a history, then catch the slow phase", () => {
  const configDir = () => path.join(root, "project", "config");
  const historyDir = () => path.join(configDir(), ".infra-check", "history");
  let config: string;

  beforeAll(() => {
    config = writeConfig(configDir(), "history: { dir: .infra-check/history, keep: 20 }\nregression: { factor: 2, minDelta: 100ms, action: warn, runs: 5 }\n");
  });

  it("first runs: no history yet (a note), then each run is appended; loopback jitter never counts as a regression", async () => {
    delayMs = 0;
    // cwd elsewhere: history.dir is relative to the config file, not to where infra-check runs.
    const first = await cli(["run", "--config", config, "--format", "json"], tmpdir());
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("warning: no history in");
    expect(first.stderr).toContain("this run starts the baseline");
    expect(files(historyDir())).toHaveLength(1);
    for (let run = 2; run <= 5; run += 1) {
      const result = await cli(["run", "--config", config, "--format", "json"]);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe("");
      const report = JSON.parse(result.stdout) as RunReport;
      expect(report.checks[0].status).toBe("pass");
      const block = report.checks[0].baseline as Record<string, { regressed: boolean; runs: number }>;
      expect(block.ttfbMs.runs).toBe(run - 1);
      expect(Object.values(block).filter((entry) => entry.regressed)).toEqual([]);
    }
    expect(files(historyDir())).toHaveLength(5);
  });

  it("the server adds 400 ms before answering: ttfb regresses, the check warns (exit 0), the table shows baseline and ratio", async () => {
    delayMs = DELAY_MS;
    const result = await cli(["run", "--config", config]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/▲ WARN +api/);
    expect(result.stdout).toMatch(/slow: ttfbMs 4\d\d ms vs \d+(\.\d+)? ms baseline, \d+×/);
    expect(result.stdout).toMatch(/↑ ttfbMs 4\d\d ms vs \d+(\.\d+)? ms baseline, \d+×/);
    expect(result.stdout).toMatch(/→ The ttfb phase regressed/);
    expect(result.stdout).toContain("HEALTHY");

    // The saved report carries the verdict and the baseline block.
    const newest = files(historyDir()).sort().at(-1)!;
    const saved = JSON.parse(readFileSync(path.join(historyDir(), newest), "utf8")) as RunReport;
    const block = saved.checks[0].baseline as Record<string, { baseline: number; value: number; ratio: number; regressed: boolean }>;
    expect(saved.checks[0]).toMatchObject({ status: "warn", failure: { class: "slow", phase: "ttfb" } });
    expect(block.ttfbMs).toMatchObject({ regressed: true });
    expect(block.ttfbMs.value).toBeGreaterThanOrEqual(DELAY_MS - 5);
    expect(block.ttfbMs.ratio).toBeGreaterThan(2);
    // Only the phase the server slowed down (and the total that contains it) regressed.
    expect(Object.entries(block).filter(([, entry]) => entry.regressed).map(([metric]) => metric).sort()).toEqual(["ttfbMs", "totalMs"].sort());
    expect(saved.extras?.baseline).toMatchObject({ kind: "history", reports: 5 });
  });

  it("action fail (per-check override): status fail, class slow, exit 1, a hint that names the phase", async () => {
    delayMs = DELAY_MS;
    const strictConfig = writeConfig(path.join(root, "strict"), "regression: { action: warn }\n");
    writeFileSync(strictConfig, readFileSync(strictConfig, "utf8") + "    regression: { action: fail, minDelta: 100ms }\n");
    const result = await cli(["run", "--config", strictConfig, "--baseline", historyDir(), "--format", "json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.checks[0]).toMatchObject({ status: "fail", failure: { class: "slow", phase: "ttfb" } });
    expect(report.checks[0].failure!.message).toMatch(/^ttfbMs 4\d\d ms vs .* baseline, \d+×; totalMs /);
    expect(report.checks[0].failure!.hint).toMatch(/^The ttfb phase regressed \(.*the median of the last 6 working runs in .*history\): the server takes longer to answer/);
    expect(report.rootCauses).toEqual([expect.objectContaining({ check: "api", class: "slow" })]);
    expect(report).toMatchObject({ ok: false, summary: { fail: 1 } });
    // --baseline without --history reads only: nothing was written anywhere.
    expect(readdirSync(path.join(root, "strict"))).toEqual(["e2e.yaml"]);
  });

  it("history.keep prunes old runs as new ones arrive", async () => {
    delayMs = 0;
    const keepConfig = writeConfig(path.join(root, "keep"), "history: { dir: h, keep: 2 }\n");
    for (let run = 0; run < 4; run += 1) expect((await cli(["run", "--config", keepConfig])).code).toBe(0);
    expect(files(path.join(root, "keep", "h"))).toHaveLength(2);
  });
});

describe("bad baselines: exit 2, nothing probed, nothing lost", () => {
  it("--baseline DIR that does not exist", async () => {
    const config = writeConfig(path.join(root, "missing"), "history: { dir: history }\n");
    const before = requests;
    const result = await cli(["run", "--config", config, "--baseline", "no/such/history"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^infra-check: --baseline no\/such\/history: no such folder or file\. Pass a history folder written by --history/);
    expect(requests).toBe(before);
    expect(existsSync(path.join(root, "missing", "history"))).toBe(false);
  });

  it("--baseline FILE that is corrupt: exit 2 naming the file; the file is untouched", async () => {
    const config = writeConfig(path.join(root, "corrupt"), "");
    const saved = path.join(root, "corrupt", "before.json");
    cpSync(path.join(FIXTURES, "corrupt.json"), saved);
    const text = readFileSync(saved, "utf8");
    const before = requests;
    const result = await cli(["run", "--config", config, "--baseline", path.relative(root, saved)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^infra-check: corrupt\/before\.json: not valid JSON \(/);
    expect(requests).toBe(before);
    expect(readFileSync(saved, "utf8")).toBe(text);
  });

  it("a corrupt file inside the history folder: skipped with a warning, kept, the run goes on and is appended", async () => {
    delayMs = 0;
    const history = path.join(root, "mixed-history");
    mkdirSync(history);
    const config = writeConfig(path.join(root, "mixed"), "");
    expect((await cli(["run", "--config", config, "--history", history])).code).toBe(0);
    cpSync(path.join(FIXTURES, "corrupt.json"), path.join(history, "2025-03-14T10-00-00.000Z_e2e_0000000000ff.json"));
    const before = snapshot(history);
    const result = await cli(["run", "--config", config, "--history", history, "--baseline", history, "--format", "json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^warning: skipped .*2025-03-14T10-00-00\.000Z_e2e_0000000000ff\.json \(left in place\): not valid JSON/);
    const report = JSON.parse(result.stdout) as RunReport;
    expect((report.checks[0].baseline as Record<string, { runs: number }>).ttfbMs.runs).toBe(1);
    const after = snapshot(history);
    expect(Object.keys(after)).toHaveLength(3);
    for (const [name, text] of Object.entries(before)) expect(after[name]).toBe(text);
  });

  it("--history pointing at a file: exit 2 before probing", async () => {
    const config = writeConfig(path.join(root, "blocked"), "");
    writeFileSync(path.join(root, "blocked", "not-a-dir"), "x");
    const before = requests;
    const result = await cli(["run", "--config", config, "--history", "blocked/not-a-dir"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("exists but is not a folder");
    expect(requests).toBe(before);
  });

  it("a per-check regression block is validated like the rest of the config", async () => {
    const config = writeConfig(path.join(root, "invalid"), "");
    writeFileSync(config, readFileSync(config, "utf8") + "    regression: { action: explode, factr: 2 }\n");
    const result = await cli(["validate", "--config", config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("checks.api.regression");
    expect(result.stderr).toContain('"factr"');
  });
});
