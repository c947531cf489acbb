// Spawns the built bin: `npm test` builds first.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { closedPort, httpServer, silentServer } from "../helpers/net.js";
import { runCli } from "../helpers/cli.js";

let app: Awaited<ReturnType<typeof httpServer>>;
let silent: Awaited<ReturnType<typeof silentServer>>;
let root: string;
let refused: number;

beforeAll(async () => {
  app = await httpServer((req, res) => {
    if (req.url === "/health") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ status: "healthy" }));
    } else {
      res.statusCode = 401;
      res.end("nope");
    }
  });
  silent = await silentServer();
  refused = await closedPort();
  root = mkdtempSync(path.join(tmpdir(), "infra-check-cli-"));
  mkdirSync(path.join(root, "config"));
  const write = (name: string, text: string) => writeFileSync(path.join(root, "config", name), text);
  write("good.yaml", `env: good\ndeadline: 5s\nchecks:\n  api:\n    kind: http\n    url: ${app.url("/health")}\n    expect: { json.status: healthy }\n`);
  write(
    "bad.yaml",
    `checks:\n  api:\n    kind: http\n    url: ${app.url("/private")}\n    headers: { Authorization: "Bearer \${TOKEN}" }\n  db-proxy:\n    kind: http\n    url: http://127.0.0.1:${refused}/\n  chat:\n    kind: http\n    url: ${app.url("/health")}\n    dependsOn: [db-proxy]\n`,
  );
  write("hang.yaml", `deadline: 700ms\nchecks:\n  stuck:\n    kind: http\n    url: ${silent.url()}\n    timeout: 10s\n`);
  write("invalid.yaml", "checks:\n  api:\n    kind: http\n    url: http://x/\n    timeout: soon\n");
});
afterAll(async () => {
  await app.stop();
  await silent.stop();
});

describe("infra-check (spawned)", () => {
  it("--help teaches: commands, examples, exit codes; exit 0", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: infra-check");
    expect(result.stdout).toContain("Exit codes:");
    expect(result.stdout).toMatch(/2 +usage or config error/);
    expect(result.stdout).toContain("validate");
    expect(result.stdout).toContain("Examples:");
  });

  it("a healthy environment exits 0 with a table", async () => {
    const result = await runCli(["good"], { cwd: root });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/✔ PASS +api/);
    expect(result.stdout).toContain("HEALTHY");
  });

  it("`run <env>` is the same as `<env>`", async () => {
    expect((await runCli(["run", "good"], { cwd: root })).code).toBe(0);
  });

  it("a failing environment exits 1; JSON has the documented shape and no secret", async () => {
    const result = await runCli(["run", "--config", "config/bad.yaml", "--format", "json"], { cwd: root, env: { TOKEN: "sk_live_abcdef123456" } });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("sk_live_abcdef123456");
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ schemaVersion: 1, ok: false, env: "bad", summary: { total: 3, pass: 0, fail: 2, blocked: 1 } });
    expect(report.rootCauses.map((cause: { check: string }) => cause.check)).toEqual(["api", "db-proxy"]);
    const [api, db, chat] = report.checks;
    expect(api).toMatchObject({ name: "api", kind: "http", status: "fail", failure: { class: "auth" } });
    expect(db.failure.class).toBe("refused");
    expect(chat).toMatchObject({ status: "blocked", blockedBy: ["db-proxy"], failure: null });
    for (const key of ["name", "kind", "target", "status", "durationMs", "phasesMs", "metrics", "assertions", "failure", "blockedBy"]) expect(api).toHaveProperty(key);
  });

  it("--only and --skip select checks", async () => {
    const result = await runCli(["bad", "--only", "db-proxy", "--format", "json"], { cwd: root, env: { TOKEN: "x" } });
    expect(JSON.parse(result.stdout).checks.map((check: { name: string }) => check.name)).toEqual(["db-proxy"]);
    const skipped = await runCli(["bad", "--skip", "api,db-proxy", "--format", "json"], { cwd: root });
    expect(skipped.code).toBe(0);
  });

  it("never outlives --deadline by more than ~100 ms against a server that never answers", async () => {
    const result = await runCli(["hang", "--format", "json"], { cwd: root });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.durationMs).toBeLessThan(700 + 100);
    expect(report.checks[0].failure.class).toBe("timeout");
    // The deadline counts from the process start: start-up and config loading come out of it too
    // (the whole spawned process, exit included, with room for a loaded machine).
    expect(result.elapsedMs).toBeLessThan(700 + 200);
  });

  it.each([
    ["invalid config → 2, names file and key path, no stack trace", ["invalid"], /config\/invalid\.yaml: checks\.api\.timeout: expected a duration/],
    ["unknown environment → 2 listing the available ones", ["nope"], /no config for environment "nope".*available environments: .*good/],
    ["unset env var → 2 naming it", ["bad"], /environment variable TOKEN is not set/],
    ["unknown flag → 2", ["good", "--frobnicate"], /unknown option '--frobnicate'/],
    ["unknown format → 2", ["good", "--format", "yaml"], /unknown format "yaml"/],
    ["bad --timeout → 2", ["good", "--timeout", "soon"], /--timeout: expected a duration/],
  ])("%s", async (_name, args, stderr) => {
    const result = await runCli(args, { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(stderr);
    expect(result.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
    expect(result.stdout).toBe("");
  });

  it("validate checks a config without probing", async () => {
    const result = await runCli(["validate", "good"], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("valid");
    expect((await runCli(["validate", "invalid"], { cwd: root })).code).toBe(2);
  });

  it("one-off http command: pass → 0, refused → 1 with diagnosis", async () => {
    const pass = await runCli(["http", app.url("/health"), "--expect", "json.status=healthy"]);
    expect(pass.code).toBe(0);
    const fail = await runCli(["http", `http://127.0.0.1:${refused}/`, "--format", "json"]);
    expect(fail.code).toBe(1);
    expect(JSON.parse(fail.stdout).checks[0].failure.class).toBe("refused");
  });

  it("no arguments prints help and exits 2", async () => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    // A usage error: on stderr, so `infra-check > report` never captures help as a report.
    expect(result.stderr).toContain("Usage: infra-check");
    expect(result.stdout).toBe("");
  });
});
