// Live progress: on a TTY stderr each check is shown as it finishes (with a
// redrawn status line naming what still runs); nothing on stderr when stderr
// is not a terminal or with --quiet; stdout carries only the report.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { closedPort, httpServer } from "../helpers/net.js";
import { captureIO, runMain } from "../helpers/main-io.js";
import { createProgress } from "../../src/commands/progress.js";
import { Redactor } from "../../src/redact.js";
import type { CheckResult } from "../../src/report/schema.js";

const CLEAR = "\r\x1b[2K";
let app: Awaited<ReturnType<typeof httpServer>>;
let root: string;
let served = 0;
beforeAll(async () => {
  app = await httpServer((req, res) => {
    served += 1;
    if (req.url === "/flaky" && served <= 1) {
      res.statusCode = 503;
      return void res.end("warming up");
    }
    res.end("ok");
  });
  const refused = await closedPort();
  root = mkdtempSync(path.join(tmpdir(), "infra-check-progress-"));
  mkdirSync(path.join(root, "config"));
  writeFileSync(
    path.join(root, "config", "mix.yaml"),
    `deadline: 5s\nchecks:\n  api:\n    kind: http\n    url: ${app.url("/")}\n  proxy:\n    kind: http\n    url: http://127.0.0.1:${refused}/\n  chat:\n    kind: http\n    url: ${app.url("/")}\n    dependsOn: [proxy]\n`,
  );
  writeFileSync(path.join(root, "config", "flaky.yaml"), `checks:\n  web:\n    kind: http\n    url: ${app.url("/flaky")}\n`);
});
afterAll(async () => {
  await app.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("on a terminal", () => {
  it("shows each finished check with its outcome, erases the status line at the end, keeps stdout clean", async () => {
    const result = await runMain(["mix", "--format", "json"], { cwd: root, stderrIsTTY: true });
    expect(result.code).toBe(1);
    expect(() => JSON.parse(result.stdout)).not.toThrow();
    expect(result.stdout).not.toContain("\x1b");
    const lines = result.stderr.split("\n");
    const finished = (name: string) => lines.map((line) => line.split(CLEAR).at(-1)!).find((line) => line.split(" ")[1] === name);
    expect(finished("api")).toMatch(/^✔ api http \d/);
    expect(finished("proxy")).toMatch(/^✖ proxy http .* refused: /);
    expect(finished("chat")).toBe("⊘ chat http blocked by proxy");
    expect(result.stderr).toMatch(/… running [a-z, ]+ \(\d finished\)/);
    // No status line is left behind: stderr ends with a finished line or the erase of the status line.
    expect(result.stderr.endsWith("\n") || result.stderr.endsWith(CLEAR)).toBe(true);
    expect(result.stderr.split("\n").at(-1)!.replaceAll(CLEAR, "")).toBe("");
  });

  it("announces --wait retries", async () => {
    served = 0;
    const result = await runMain(["flaky", "--wait", "10s", "--format", "json"], { cwd: root, stderrIsTTY: true, execute: { wait: { backoffMs: () => 10 } } });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/↻ attempt 2 in 10 ms: web\n/);
    expect(result.stderr).toMatch(/✖ web http .*server-error/);
    expect(result.stderr).toMatch(/✔ web http/);
  });
});

describe("nothing on stderr", () => {
  it.each([
    ["when stderr is not a terminal", [], false],
    ["with --quiet on a terminal", ["--quiet"], true],
    ["with -q on a terminal", ["-q"], true],
  ])("%s", async (_name, flags, stderrIsTTY) => {
    const result = await runMain(["mix", ...flags], { cwd: root, stderrIsTTY });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("UNHEALTHY");
  });
});

it("scrubs secrets and control characters from what it shows", () => {
  const io = captureIO({ stderrIsTTY: true, cwd: "/" });
  const progress = createProgress(io, {}, new Redactor(["s3cr3t-value"]));
  const result: CheckResult = {
    name: "db",
    kind: "postgres",
    target: "postgres://db",
    status: "fail",
    durationMs: 5,
    budgetMs: 100,
    phasesMs: {},
    metrics: {},
    assertions: [],
    failure: { class: "auth", message: "password s3cr3t-value rejected\n\u001b[2Jcleared", hint: "h" },
    blockedBy: [],
  };
  progress.onEvent({ type: "start", name: "db", kind: "postgres", budgetMs: 100 });
  progress.onEvent({ type: "end", result });
  progress.finish();
  expect(io.err()).not.toContain("s3cr3t-value");
  expect(io.err()).toContain("✖ db postgres 5.0 ms auth: password *** rejected \\x1b[2Jcleared\n");
});
