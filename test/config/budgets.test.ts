// Budgets that cannot fit are warned about before anything runs (stderr
// `warning: …`, the exit code unchanged): a wait longer than its check's
// timeout, a check timeout longer than the run's deadline, a dependsOn chain
// whose timeouts add up to more than the deadline.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildConfig, loadConfigFile } from "../../src/config/load.js";
import { httpServer } from "../helpers/net.js";
import { runMain } from "../helpers/main-io.js";

const dir = mkdtempSync(path.join(tmpdir(), "infra-check-budgets-"));
function write(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

const http = (extra: Record<string, unknown> = {}) => ({ kind: "http", url: "http://127.0.0.1:1/health", ...extra });
const ws = (extra: Record<string, unknown> = {}) => ({ kind: "websocket", url: "ws://127.0.0.1:1/ws", ...extra });

async function warningsOf(raw: Record<string, unknown>, options: Record<string, unknown> = {}): Promise<{ keyPath?: string; detail: string }[]> {
  const loaded = await buildConfig(raw, { dir, defaultEnv: "test", file: "config/test.yaml", env: {}, ...options });
  return loaded.warnings.map(({ keyPath, detail }) => ({ keyPath, detail }));
}

describe("budget warnings", () => {
  it("a websocket within: longer than the check's timeout", async () => {
    expect(await warningsOf({ checks: { chat: ws({ timeout: "2s", welcome: { match: { type: "hello" }, within: "5s" } }) } })).toEqual([
      { keyPath: "checks.chat.welcome.within", detail: "5s is longer than the check's timeout (2s, timeout): the budget ends first, so this wait never runs its course; raise the timeout or shorten the wait" },
    ]);
    const [step] = await warningsOf({ defaults: { timeout: "1s" }, checks: { chat: ws({ script: [{ send: "hi" }, { expect: { type: "reply" }, within: "1500ms" }] }) } });
    expect(step).toEqual({ keyPath: "checks.chat.script.1.within", detail: expect.stringMatching(/^1\.5s is longer than the check's timeout \(1s, defaults\.timeout\)/) });
  });

  it("waits that fit, and a kind without waits, give no warning", async () => {
    expect(await warningsOf({ checks: { chat: ws({ timeout: "5s", welcome: { match: { type: "hello" }, within: "5s" } }), api: http({ timeout: "2s" }) } })).toEqual([]);
  });

  it("a check timeout longer than the deadline: at the key that set it, once for a shared default", async () => {
    expect(await warningsOf({ deadline: "10s", checks: { slow: http({ timeout: "30s" }), fast: http({ timeout: "1s" }) } })).toEqual([
      { keyPath: "checks.slow.timeout", detail: "timeout 30s is longer than the run's deadline (10s, deadline): the check is cut short at the deadline; lower the timeout or raise the deadline" },
    ]);
    const shared = await warningsOf({ deadline: "2s", defaults: { timeout: "3s" }, checks: { a: http(), b: http() } });
    expect(shared).toEqual([{ keyPath: "defaults.timeout", detail: expect.stringContaining("defaults.timeout 3s is longer than the run's deadline (2s, deadline)") }]);
    const flags = await warningsOf({ checks: { a: http(), b: http() } }, { timeoutMs: 8000, deadlineMs: 4000 });
    expect(flags).toEqual([{ keyPath: undefined, detail: expect.stringContaining("--timeout 8s is longer than the run's deadline (4s, --deadline)") }]);
  });

  it("a dependsOn chain whose timeouts add up to more than the deadline: once, where it first outgrows it", async () => {
    const chain = { deadline: "8s", defaults: { timeout: "3s" }, checks: { a: http(), b: http({ dependsOn: ["a"] }), c: http({ dependsOn: ["b"] }), d: http({ dependsOn: ["c"] }), side: http({ dependsOn: ["a"] }) } };
    expect(await warningsOf(chain)).toEqual([
      {
        keyPath: "checks.c.dependsOn",
        detail: "the dependsOn chain a → b → c can take 9s (3s + 3s + 3s), longer than the run's deadline (8s, deadline): c starts when the checks before it end, and may be cut short or never run",
      },
    ]);
    // The longest way to a check counts, not the first one listed.
    const diamond = await warningsOf({ deadline: "5s", checks: { quick: http({ timeout: "1s" }), long: http({ timeout: "4s" }), last: http({ timeout: "2s", dependsOn: ["quick", "long"] }) } });
    expect(diamond).toEqual([{ keyPath: "checks.last.dependsOn", detail: expect.stringContaining("long → last can take 6s (4s + 2s)") }]);
    expect(await warningsOf({ deadline: "10s", defaults: { timeout: "3s" }, checks: { a: http(), b: http({ dependsOn: ["a"] }), c: http({ dependsOn: ["b"] }) } })).toEqual([]);
    // Built-in timeouts everywhere: the deadline is the only budget the config gives, and it caps every check.
    expect(await warningsOf({ deadline: "5s", checks: { a: http(), b: http({ dependsOn: ["a"] }) } })).toEqual([]);
  });
});

describe("what the user sees", () => {
  let app: Awaited<ReturnType<typeof httpServer>>;
  beforeAll(async () => {
    app = await httpServer((_req, res) => res.end("ok"));
  });
  afterAll(() => app.stop());

  it("validate and a run print `warning:` with the position on stderr, and exit as they would without it", async () => {
    write(
      "tight.yaml",
      ["deadline: 2s", "checks:", "  api:", "    kind: http", `    url: ${app.url("/health")}`, "    timeout: 1500ms", "  later:", "    kind: http", `    url: ${app.url("/health")}`, "    timeout: 1500ms", "    dependsOn: [api]", ""].join("\n"),
    );
    const validate = await runMain(["validate", "-c", "tight.yaml"], { cwd: dir });
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain("valid");
    expect(validate.stderr).toContain("warning: tight.yaml: checks.later.dependsOn: the dependsOn chain api → later can take 3s (1.5s + 1.5s), longer than the run's deadline (2s, deadline)");
    expect(validate.stderr).toContain("  --> tight.yaml:11:16");
    const json = await runMain(["validate", "-c", "tight.yaml", "-f", "json"], { cwd: dir });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, errors: [] });
    expect(json.stderr).toContain("warning: tight.yaml: checks.later.dependsOn");
    const run = await runMain(["run", "-c", "tight.yaml", "-q"], { cwd: dir });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toContain("warning: tight.yaml: checks.later.dependsOn");
  });

  it("a config without such budgets prints no warning", async () => {
    write("roomy.yaml", `deadline: 10s\nchecks:\n  api: { kind: http, url: "${app.url("/health")}", timeout: 2s }\n`);
    const loaded = await loadConfigFile("roomy.yaml", { cwd: dir });
    expect(loaded.warnings).toEqual([]);
    expect((await runMain(["validate", "-c", "roomy.yaml"], { cwd: dir })).stderr).toBe("");
  });
});
