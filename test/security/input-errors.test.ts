// Bad input is a usage error that names the key or flag and never quotes the
// secret it was written with: a stray % in a URL's password (exit 2, not a
// stack trace, not "Redis answered with an error"), a typo'd URL that still
// carries a password, a numeric Authorization header, a malformed --send or
// --jwt-claims, a token command written as VAR=secret tool.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli } from "../helpers/cli.js";

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "infra-check-input-"));
  mkdirSync(path.join(root, "config"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function config(name: string, text: string): string {
  writeFileSync(path.join(root, "config", `${name}.yaml`), text);
  return name;
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+\(.*:\d+:\d+\)$/m);

describe("a malformed %-escape in a URL", () => {
  it.each([
    ["postgres", "postgres://app:pa%ZZss@127.0.0.1:1/app"],
    ["redis", "redis://:pa%ZZss@127.0.0.1:1/0"],
  ])("%s in a config: exit 2 naming the key, the password not shown", async (kind, url) => {
    const env = config(`escape-${kind}`, `checks:\n  target: { kind: ${kind}, url: "${url}" }\n`);
    for (const command of [["validate", env], [env]]) {
      const result = await runCli(command, { cwd: root });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("checks.target.url: the URL's password has a malformed %-escape");
      expect(result.stderr + result.stdout).not.toContain("ZZss");
      noStackTrace(result.stderr);
    }
  });

  it.each([
    ["postgres", "postgres://app:pa%ZZss@127.0.0.1:1/app"],
    ["redis", "redis://:pa%ZZss@127.0.0.1:1/0"],
  ])("the %s one-off: exit 2 before anything is contacted", async (command, url) => {
    const result = await runCli([command, url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("malformed %-escape");
    expect(result.stderr + result.stdout).not.toContain("ZZss");
    expect(result.stdout).not.toContain("answered with an error");
    noStackTrace(result.stderr);
  });
});

describe("secrets in config and usage errors", () => {
  it("a URL typo that keeps its password (redis:/:pw@host) is reported with the password masked, in the message and the code frame", async () => {
    const env = config("typo", 'checks:\n  cache: { kind: redis, url: "redis:/:hunter2secret@127.0.0.1:6379" }\n');
    const result = await runCli(["validate", env], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("checks.cache.url");
    expect(result.stderr).toContain("redis:/:***@127.0.0.1:6379");
    expect(result.stderr).not.toContain("hunter2secret");
  });

  it("a numeric Authorization header value is not quoted", async () => {
    const env = config("numeric-auth", "checks:\n  api:\n    kind: http\n    url: http://127.0.0.1:1/\n    headers: { Authorization: 987654321987 }\n");
    const result = await runCli(["validate", env], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("checks.api.headers.Authorization: expected a string, found a number (not shown: secret)");
    expect(result.stderr).not.toContain("987654321987");
  });

  it.each([
    ["--send", '{"type":"auth","password": "abcsecret123"'],
    ["--send", '{"type":"auth","token": "abcsecret123", "x": }'],
    ["--jwt-claims", '{"sub":"abcsecret123",}'],
  ])("a malformed %s says where the JSON breaks, not what it says", async (flag, value) => {
    const args = ["ws", "ws://127.0.0.1:1/", flag, value, ...(flag === "--jwt-claims" ? ["--jwt-secret-env", "JWT_SECRET"] : [])];
    const result = await runCli(args, { env: { JWT_SECRET: "x".repeat(32) } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`${flag}: expected a JSON .*(stops being JSON at character \\d+ of \\d+|not JSON)`));
    expect(result.stderr).not.toContain("abcsecret123");
  });

  it("a token command written as VAR=secret tool names the tool, never the assignment", async () => {
    const env = config(
      "token-env",
      'checks:\n  ws:\n    kind: websocket\n    url: ws://127.0.0.1:1/\n    token: { command: "API_KEY=sup3rsecretvalue infra-check-no-such-tool" }\n',
    );
    const result = await runCli([env], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('the token command "infra-check-no-such-tool" was not found');
    expect(result.stdout + result.stderr).not.toContain("sup3rsecretvalue");
  });
});

it("the kind's own name is its one-off command too (infra-check websocket = ws)", async () => {
  const result = await runCli(["websocket", "--help"]);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^Usage: infra-check ws\|websocket /);
});
