// --output FORMAT=FILE: flag parsing, several files from one run, folders
// created, atomic writes (no temp files left), mistakes caught before probing
// (exit 2, the server never asked), and the GitHub step summary.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseOutputFlags, stepSummaryFile } from "../../src/commands/outputs.js";
import { githubZeroConfig } from "../../src/commands/ci.js";
import { FORMATS } from "../../src/reporters/index.js";
import { httpServer } from "../helpers/net.js";
import { runMain } from "../helpers/main-io.js";

describe("parseOutputFlags", () => {
  it.each([
    ["junit=reports/infra.xml", { format: "junit", file: "/ci/reports/infra.xml" }],
    ["json=/abs/report.json", { format: "json", file: "/abs/report.json" }],
    ["markdown=summary=final.md", { format: "markdown", file: "/ci/summary=final.md" }],
    [" prometheus = metrics.prom ", { format: "prometheus", file: "/ci/metrics.prom" }],
  ])("%j → %j", (flag, expected) => {
    expect(parseOutputFlags([flag], "/ci")).toEqual([{ ...expected, spec: flag }]);
  });

  it.each([
    ["no = sign", ["junit"], /--output: expected FORMAT=FILE .*found "junit"; formats: table, json, junit/],
    ["empty file", ["junit="], /--output: expected FORMAT=FILE/],
    ["empty format", ["=out.xml"], /--output: expected FORMAT=FILE/],
    ["unknown format", ["xml=out.xml"], /--output xml=out.xml: unknown format "xml"; formats: table, json, junit, markdown, github, prometheus/],
    ["two formats into one file", ["json=out", "junit=./out"], /--output junit=\.\/out: .*already the target of --output json=out/],
  ])("%s → ConfigError naming the flag", (_name, flags, message) => {
    expect(() => parseOutputFlags(flags, "/ci")).toThrow(message);
    try {
      parseOutputFlags(flags, "/ci");
    } catch (error) {
      expect((error as Error).name).toBe("ConfigError");
    }
  });

  it("knows every registered format", () => {
    for (const format of FORMATS) expect(parseOutputFlags([`${format}=x`], "/")[0].format).toBe(format);
  });
});

describe("stepSummaryFile", () => {
  const env = { GITHUB_STEP_SUMMARY: "/gh/summary.md" };
  it.each([
    ["github on stdout", env, "github", [], "/gh/summary.md"],
    ["github as an --output", env, "table", ["github=annotations.txt"], "/gh/summary.md"],
    ["no github format", env, "table", ["junit=x.xml"], undefined],
    ["GITHUB_STEP_SUMMARY unset", {}, "github", [], undefined],
    ["markdown already written there by --output", env, "github", ["markdown=/gh/summary.md"], undefined],
    ["a table run on GitHub Actions (zero-config)", env, "table", [], "/gh/summary.md", true],
    ["… with markdown already written there", env, "table", ["markdown=/gh/summary.md"], undefined, true],
  ])("%s", (_name, envVars, stdoutFormat, flags, expected, githubZeroConfig = false) => {
    expect(stepSummaryFile(parseOutputFlags(flags as string[], "/ci"), { env: envVars, cwd: "/ci", stdoutFormat: stdoutFormat as string, githubZeroConfig })).toBe(expected);
  });
});

describe("writing files (in-process runs against a local server)", () => {
  let app: Awaited<ReturnType<typeof httpServer>>;
  let requests = 0;
  let root: string;
  beforeAll(async () => {
    app = await httpServer((req, res) => {
      requests += 1;
      if (req.url === "/health") return void res.end("ok");
      res.statusCode = 500;
      res.end("boom");
    });
    root = mkdtempSync(path.join(tmpdir(), "infra-check-outputs-"));
    mkdirSync(path.join(root, "config"));
    writeFileSync(
      path.join(root, "config", "ci.yaml"),
      `deadline: 5s\nchecks:\n  api:\n    kind: http\n    url: ${app.url("/health")}\n    headers: { Authorization: "Bearer \${API_TOKEN}" }\n  jobs:\n    kind: http\n    url: ${app.url("/jobs")}\n`,
    );
  });
  afterAll(async () => {
    await app.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("writes every format at once, creating folders, while stdout keeps its own format; no temp files, no secret", async () => {
    const outputs = FORMATS.map((format) => `${format}=out/nested/${format}.report`);
    const result = await runMain(["ci", "--format", "json", ...outputs.flatMap((output) => ["--output", output])], { cwd: root, env: { API_TOKEN: "tok_supersecret_123" } });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).summary).toMatchObject({ pass: 1, fail: 1 });
    const dir = path.join(root, "out", "nested");
    expect(readdirSync(dir).sort()).toEqual(FORMATS.map((format) => `${format}.report`).sort());
    const read = (format: string) => readFileSync(path.join(dir, `${format}.report`), "utf8");
    expect(JSON.parse(read("json")).checks.map((check: { name: string }) => check.name)).toEqual(["api", "jobs"]);
    expect(read("junit")).toMatch(/<failure type="server-error"/);
    expect(read("markdown")).toMatch(/^### infra-check ci: ❌ UNHEALTHY/);
    expect(read("github")).toMatch(/^::error title=infra-check ci%3A jobs \(http\) server-error::/m);
    expect(read("prometheus")).toContain('infra_check_up{env="ci",check="api",kind="http"} 1');
    expect(read("table")).not.toMatch(/\u001b\[/);
    for (const format of FORMATS) expect(read(format)).not.toContain("tok_supersecret_123");
  });

  it("replaces an existing file whole", async () => {
    const file = path.join(root, "replace.json");
    writeFileSync(file, "x".repeat(100_000));
    const result = await runMain(["ci", "--only", "api", "--output", "json=replace.json"], { cwd: root, env: { API_TOKEN: "t" } });
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8")).ok).toBe(true);
    expect(readdirSync(root).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it.each([
    ["unknown format", ["--output", "xml=r.xml"], /--output xml=r\.xml: unknown format "xml"; formats: table, json, junit, markdown, github, prometheus/],
    ["missing FILE", ["--output", "junit"], /--output: expected FORMAT=FILE/],
    ["a file where a folder must be", ["--output", "junit=blocker/r.xml"], /--output junit=blocker\/r\.xml: cannot write .*blocker\/r\.xml \(a part of the path is a file, not a folder/],
    ["a folder where the file must be", ["--output", "junit=somedir"], /--output junit=somedir: cannot write .*somedir \(it is a folder/],
    ["bad --wait", ["--wait", "soon"], /--wait: expected a duration like 500ms, 2s or 1m, found "soon"/],
  ])("%s → exit 2 before anything is probed", async (_name, args, message) => {
    writeFileSync(path.join(root, "blocker"), "a file");
    mkdirSync(path.join(root, "somedir"), { recursive: true });
    const before = requests;
    const result = await runMain(["ci", ...args], { cwd: root, env: { API_TOKEN: "t" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
    expect(requests).toBe(before);
  });

  it("with the github format and GITHUB_STEP_SUMMARY set, appends the Markdown summary (keeping what earlier steps wrote)", async () => {
    const summary = path.join(root, "step-summary.md");
    writeFileSync(summary, "## Deploy\n\ndeployed rev 42\n\n");
    const result = await runMain(["ci", "--format", "github"], { cwd: root, env: { API_TOKEN: "t", GITHUB_STEP_SUMMARY: summary } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^::error title=infra-check ci%3A jobs/m);
    const text = readFileSync(summary, "utf8");
    expect(text.startsWith("## Deploy\n\ndeployed rev 42\n\n### infra-check ci: ❌ UNHEALTHY\n")).toBe(true);
    expect(text).toMatch(/\| ❌ \| jobs \| http \|/);
  });

  it("without the github format, GITHUB_STEP_SUMMARY is left alone", async () => {
    const summary = path.join(root, "untouched.md");
    const result = await runMain(["ci", "--format", "json", "--output", "junit=r.xml"], { cwd: root, env: { API_TOKEN: "t", GITHUB_STEP_SUMMARY: summary } });
    expect(result.code).toBe(1);
    expect(existsSync(summary)).toBe(false);
  });
});

describe("githubZeroConfig", () => {
  it.each([
    ["GitHub Actions, table", { format: "table" }, { GITHUB_ACTIONS: "true" }, true],
    ["--no-ci-annotations", { format: "table", ciAnnotations: false }, { GITHUB_ACTIONS: "true" }, false],
    ["-f github (annotations are the output already)", { format: "github" }, { GITHUB_ACTIONS: "true" }, false],
    ["-f json", { format: "json" }, { GITHUB_ACTIONS: "true" }, false],
    ["not on GitHub Actions", { format: "table" }, {}, false],
    ["GITHUB_ACTIONS not exactly true", { format: "table" }, { GITHUB_ACTIONS: "1" }, false],
  ])("%s", (_name, flags, env, expected) => {
    expect(githubZeroConfig(flags, env)).toBe(expected);
  });
});
