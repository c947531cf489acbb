import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildConfig, loadConfigFile, resolveEnvConfig } from "../../src/config/load.js";

const dir = mkdtempSync(path.join(tmpdir(), "infra-check-config-"));
function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const http = (extra: Record<string, unknown> = {}) => ({ kind: "http", url: "http://127.0.0.1:1/health", ...extra });

async function errorOf(raw: unknown, options: Record<string, unknown> = {}): Promise<string> {
  try {
    await buildConfig(raw, { dir, defaultEnv: "test", file: "config/test.yaml", env: {}, ...options });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a config error");
}

describe("config validation (one row per rule)", () => {
  it.each([
    ["unknown top-level key", { checks: { a: http() }, deadlin: "2s" }, ['config/test.yaml', 'unknown key "deadlin"']],
    ["unknown check key (typo)", { checks: { a: http({ expct: { status: 200 } }) } }, ["checks.a", 'unknown key "expct"']],
    ["missing kind", { checks: { a: { url: "http://x" } } }, ["checks.a.kind", "expected one of http, redis"]],
    ["unknown kind", { checks: { a: { kind: "mysql" } } }, ["checks.a.kind", 'found "mysql"']],
    ["bad check timeout", { checks: { a: http({ timeout: "fast" }) } }, ["checks.a.timeout", "expected a duration like 250ms"]],
    ["bad run deadline", { deadline: "soon", checks: { a: http() } }, ["deadline", "expected a duration"]],
    ["bad default timeout", { defaults: { timeout: "1d" }, checks: { a: http() } }, ["defaults.timeout", "expected a duration"]],
    ["bad expectation operand", { checks: { a: http({ expect: { totalMs: "< fast" } }) } }, ["checks.a.expect.totalMs", "compares numbers or durations"]],
    ["bad regex", { checks: { a: http({ expect: { status: "~ (" } }) } }, ["checks.a.expect.status", "not a valid regular expression"]],
    ["unknown metric", { checks: { a: http({ expect: { totlMs: "< 1s" } }) } }, ["checks.a.expect.totlMs", 'unknown metric "totlMs"', "known: status, totalMs"]],
    ["unknown metric in warn", { checks: { a: http({ warn: { foo: 1 } }) } }, ["checks.a.warn.foo", "unknown metric"]],
    ["dependsOn unknown check", { checks: { a: http({ dependsOn: ["nope"] }) } }, ["checks.a.dependsOn.0", 'unknown check "nope"']],
    ["dependsOn itself", { checks: { a: http({ dependsOn: ["a"] }) } }, ["checks.a.dependsOn.0", "cannot depend on itself"]],
    ["dependsOn cycle", { checks: { a: http({ dependsOn: ["b"] }), b: http({ dependsOn: ["c"] }), c: http({ dependsOn: ["a"] }) } }, ["dependency cycle: a → b → c → a"]],
    ["unset environment variable", { checks: { a: http({ headers: { Authorization: "Bearer ${HEALTH_TOKEN}" } }) } }, ["checks.a.headers.Authorization", "HEALTH_TOKEN is not set"]],
    ["invalid URL", { checks: { a: http({ url: "not a url" }) } }, ["checks.a.url", "expected an http:// or https:// URL"]],
    ["wrong scheme", { checks: { a: http({ url: "ftp://x/" }) } }, ["checks.a.url", "http://"]],
    ["headers not a map", { checks: { a: http({ headers: ["x"] }) } }, ["checks.a.headers", "expected record"]],
    ["no checks", { checks: {} }, ["checks", "no checks defined"]],
    ["checks missing", { deadline: "1s" }, ["checks", "expected record"]],
    ["bad check name", { checks: { "bad name!": http() } }, ["checks.bad name!", "check names use letters"]],
    ["tls ca file missing", { checks: { a: http({ url: "https://x/", tls: { ca: "./nope.pem" } }) } }, ["checks.a.tls.ca", "file not found"]],
    ["tls unknown key", { checks: { a: http({ tls: { verify: false } }) } }, ["checks.a.tls", 'unknown key "verify"']],
    ["method not allowed", { checks: { a: http({ method: "DELETE" }) } }, ["checks.a.method"]],
    ["document not a mapping", ["a"], ["expected a mapping with a `checks:` key"]],
  ])("%s", async (_rule, raw, fragments) => {
    const message = await errorOf(raw);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it("reports several problems at once", async () => {
    const message = await errorOf({ checks: { a: http({ timeout: "x" }), b: http({ expect: { nope: 1 } }) } });
    expect(message).toContain("checks.a.timeout");
    expect(message).toContain("checks.b.expect.nope");
  });

  it("--only / --skip naming an unknown check is an error", async () => {
    expect(await errorOf({ checks: { a: http() } }, { only: ["b"] })).toContain('--only/--skip names unknown check "b"');
  });
});

describe("config loading", () => {
  it("interpolates ${VAR} and ${VAR:-default}, $$ is a literal $", async () => {
    const loaded = await buildConfig(
      { checks: { a: http({ url: "http://${HOST}:${PORT:-8080}/x", headers: { "X-Price": "$$5", Authorization: "Bearer ${TOKEN}" } }) } },
      { dir, defaultEnv: "test", env: { HOST: "127.0.0.1", TOKEN: "s3cr3t-token" } },
    );
    expect(loaded.checks[0].url).toBe("http://127.0.0.1:8080/x");
    expect((loaded.checks[0].headers as Record<string, string>)["X-Price"]).toBe("$5");
    expect(loaded.secrets).toContain("s3cr3t-token");
  });

  it("applies defaults, --timeout and --deadline", async () => {
    const raw = { deadline: "20s", defaults: { timeout: "3s" }, checks: { a: http(), b: http({ timeout: "1s" }) } };
    const fromFile = await buildConfig(raw, { dir, defaultEnv: "test", env: {} });
    expect(fromFile.deadlineMs).toBe(20000);
    expect(fromFile.checks.map((check) => check.timeoutMs)).toEqual([3000, 1000]);
    const fromFlags = await buildConfig(raw, { dir, defaultEnv: "test", env: {}, timeoutMs: 500, deadlineMs: 4000 });
    expect(fromFlags.deadlineMs).toBe(4000);
    expect(fromFlags.checks.map((check) => check.timeoutMs)).toEqual([500, 1000]);
  });

  it("--only keeps a check whose dependency is not selected, with a note", async () => {
    const loaded = await buildConfig(
      { checks: { a: http(), b: http({ dependsOn: ["a"] }) } },
      { dir, defaultEnv: "test", env: {}, only: ["b"] },
    );
    expect(loaded.checks.map((check) => check.name)).toEqual(["b"]);
    expect(loaded.checks[0].dependsOn).toEqual([]);
    expect(loaded.notes[0]).toContain('dependency "a" is not selected');
  });

  it("skipped checks do not need their environment variables", async () => {
    const loaded = await buildConfig(
      { checks: { a: http(), b: http({ headers: { Authorization: "${MISSING}" } }) } },
      { dir, defaultEnv: "test", env: {}, skip: ["b"] },
    );
    expect(loaded.checks).toHaveLength(1);
  });

  it("names the file, line and column of a YAML syntax error", async () => {
    const file = write("broken.yaml", "checks:\n  a:\n    kind: http\n   url: [\n");
    await expect(loadConfigFile(file)).rejects.toThrow(/broken\.yaml: line \d+, column \d+: invalid YAML/);
  });

  it("rejects duplicate keys", async () => {
    const file = write("dup.yaml", "checks:\n  a:\n    kind: http\n    kind: http\n");
    await expect(loadConfigFile(file)).rejects.toThrow(/dup\.yaml.*invalid YAML/);
  });

  it("takes env from the file name unless set", async () => {
    const file = write("staging.yaml", "checks:\n  a:\n    kind: http\n    url: http://127.0.0.1:1/\n");
    expect((await loadConfigFile(file)).env).toBe("staging");
  });

  it("a missing file is a config error naming it", async () => {
    await expect(loadConfigFile(path.join(dir, "nope.yaml"))).rejects.toThrow(/nope\.yaml: file not found/);
  });

  it("resolves config/<env>.yaml and lists the environments when missing", () => {
    const root = mkdtempSync(path.join(tmpdir(), "infra-check-root-"));
    const configDir = path.join(root, "config");
    mkdirSync(configDir);
    writeFileSync(path.join(configDir, "staging.yaml"), "checks: {}\n");
    writeFileSync(path.join(configDir, "local.yml"), "checks: {}\n");
    expect(resolveEnvConfig("staging", root)).toBe(path.join(configDir, "staging.yaml"));
    expect(resolveEnvConfig("local", root)).toBe(path.join(configDir, "local.yml"));
    expect(() => resolveEnvConfig("prod", root)).toThrow(/no config for environment "prod".*available environments: (local, staging|staging, local)/);
  });
});
