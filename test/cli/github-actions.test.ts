// Zero-config GitHub Actions (src/commands/ci.ts): with GITHUB_ACTIONS=true a
// table run also prints workflow-command annotations after the table and
// appends the Markdown summary to $GITHUB_STEP_SUMMARY — the real CLI, a real
// HTTP server, a temp step-summary file. Annotations are escaped as GitHub
// reads them and redacted like every other output; nothing is written twice
// when the user already asked for it (-f github, -o markdown=$GITHUB_STEP_SUMMARY).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runCli } from "../helpers/cli.js";
import { closedPort, httpServer, type Stoppable } from "../helpers/net.js";

const TOKEN = "s3cr3t-T0ken-xyz";
let dir: string;
let server: Stoppable;
let summary: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "infra-check-gha-"));
  // The failing endpoint echoes the credential it was sent, and a `%` that the annotation must escape.
  server = await httpServer((request, response) => {
    if (request.url === "/boom") {
      response.statusCode = 500;
      response.end(`disk 100% full; ${request.headers.authorization} rejected\nsecond line`);
    } else response.end("ok");
  });
  const refused = await closedPort();
  await writeFile(
    path.join(dir, "ci.yaml"),
    [
      "env: ci",
      "checks:",
      "  api:",
      "    kind: http",
      `    url: ${server.url("/ok")}`,
      "  slowish:",
      "    kind: http",
      `    url: ${server.url("/ok")}`,
      '    warn: { totalMs: "< 0.001ms" }',
      "  boom:",
      "    kind: http",
      `    url: ${server.url("/boom")}`,
      '    headers: { Authorization: "Bearer ${API_TOKEN}" }',
      "  down:",
      "    kind: tcp",
      `    address: 127.0.0.1:${refused}`,
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  summary = path.join(dir, `summary-${Math.random().toString(36).slice(2)}.md`);
  // A step summary that earlier steps wrote to: appended to, never replaced.
  await writeFile(summary, "earlier step\n");
});

const actions = () => ({ GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary, API_TOKEN: TOKEN });
const annotationLines = (stdout: string) => stdout.split("\n").filter((line) => line.startsWith("::"));

describe("GitHub Actions, default table run", () => {
  it("prints an annotation per failing and warning check after the table, escaped and redacted, and appends the summary", async () => {
    const result = await runCli(["./ci.yaml"], { cwd: dir, env: actions() });
    expect(result.code, result.stderr).toBe(1);
    const lines = annotationLines(result.stdout);
    expect(lines.map((line) => line.slice(0, line.indexOf("::", 2) + 2))).toEqual([
      "::warning title=infra-check ci%3A slowish (http) slow::",
      "::error title=infra-check ci%3A boom (http) server-error::",
      "::error title=infra-check ci%3A down (tcp) refused::",
    ]);
    // After the table's verdict: the log reads as before, GitHub collects the annotations.
    expect(result.stdout.indexOf("UNHEALTHY")).toBeLessThan(result.stdout.indexOf("::warning"));
    const boom = lines[1];
    expect(boom).toContain("disk 100%25 full");
    expect(boom).toContain("%0AHint: ");
    expect(boom).not.toMatch(/[\r]/);
    for (const text of [result.stdout, result.stderr, await readFile(summary, "utf8")]) expect(text).not.toContain(TOKEN);
    const written = await readFile(summary, "utf8");
    expect(written.startsWith("earlier step\n### infra-check ci: ❌ UNHEALTHY\n")).toBe(true);
    expect(written.match(/### infra-check/g)).toHaveLength(1);
    expect(written).toContain("| ❌ | down | tcp |");
  });

  it("--no-ci-annotations: no annotations, the step summary untouched", async () => {
    const result = await runCli(["./ci.yaml", "--no-ci-annotations"], { cwd: dir, env: actions() });
    expect(result.code).toBe(1);
    expect(annotationLines(result.stdout)).toEqual([]);
    expect(await readFile(summary, "utf8")).toBe("earlier step\n");
  });

  it("-f github: the annotations are the output, printed once; the summary is appended once", async () => {
    const result = await runCli(["./ci.yaml", "-f", "github"], { cwd: dir, env: actions() });
    expect(result.code).toBe(1);
    expect(annotationLines(result.stdout).filter((line) => line.startsWith("::error"))).toHaveLength(2);
    expect((await readFile(summary, "utf8")).match(/### infra-check/g)).toHaveLength(1);
  });

  it("-o markdown=$GITHUB_STEP_SUMMARY: that output is the summary, not appended a second time", async () => {
    const result = await runCli(["./ci.yaml", "-o", `markdown=${summary}`], { cwd: dir, env: actions() });
    expect(result.code).toBe(1);
    expect(annotationLines(result.stdout)).toHaveLength(3);
    expect((await readFile(summary, "utf8")).match(/### infra-check/g)).toHaveLength(1);
  });

  it("another stdout format stays exactly that format (JSON parses), and adds nothing", async () => {
    const result = await runCli(["./ci.yaml", "-f", "json"], { cwd: dir, env: actions() });
    expect(JSON.parse(result.stdout).summary).toMatchObject({ fail: 2, warn: 1 });
    expect(await readFile(summary, "utf8")).toBe("earlier step\n");
  });
});

it("outside GitHub Actions (no GITHUB_ACTIONS), a table run adds nothing even with GITHUB_STEP_SUMMARY set", async () => {
  const result = await runCli(["./ci.yaml"], { cwd: dir, env: { GITHUB_STEP_SUMMARY: summary, API_TOKEN: TOKEN } });
  expect(result.code).toBe(1);
  expect(annotationLines(result.stdout)).toEqual([]);
  expect(await readFile(summary, "utf8")).toBe("earlier step\n");
});
