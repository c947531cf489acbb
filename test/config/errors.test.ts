// Config errors as a user reads them: where (file, key path, line and
// column, the line with a caret), what is wrong in plain words, and what was
// probably meant — and never a secret, not even in the quoted line.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildConfig, loadConfigFile } from "../../src/config/load.js";
import { ConfigError, configProblems, isConfigError } from "../../src/util/errors.js";
import { runMain } from "../helpers/main-io.js";

const dir = mkdtempSync(path.join(tmpdir(), "infra-check-errors-"));
function write(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

async function problemsOf(name: string, text: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigError[]> {
  write(name, text);
  try {
    await loadConfigFile(name, { cwd: dir, env });
  } catch (error) {
    if (isConfigError(error)) return configProblems(error);
    throw error;
  }
  throw new Error("expected a config error");
}

describe("line, column and a code frame", () => {
  it("a wrong value: the headline, then --> file:line:column and the line with a caret under the value", async () => {
    write("frame.yaml", "env: x\nchecks:\n  api:\n    kind: http\n    url: http://127.0.0.1:1/\n    timeout: soon\n");
    const result = await runMain(["validate", "-c", "frame.yaml"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      [
        'infra-check: frame.yaml: checks.api.timeout: expected a duration like 250ms, 2s or 1m, found "soon"',
        "  --> frame.yaml:6:14",
        "  |",
        "6 |     timeout: soon",
        "  |              ^^^^",
        "",
      ].join("\n"),
    );
  });

  it.each([
    ["an unknown key points at the key", "checks:\n  api:\n    kind: http\n    url: http://127.0.0.1:1/\n    expct: { status: 200 }\n", "checks.api", { line: 5, column: 5 }, "    expct: { status: 200 }", "^^^^^"],
    ["a missing key points at its check", "checks:\n  api:\n    kind: redis\n", "checks.api.url", { line: 2, column: 3 }, "  api:", "^^^"],
    ["an unknown top-level key", "deadlin: 2s\nchecks:\n  a: { kind: http, url: http://127.0.0.1:1/ }\n", undefined, { line: 1, column: 1 }, "deadlin: 2s", "^^^^^^^"],
    ["a dependsOn entry", "checks:\n  a: { kind: http, url: http://127.0.0.1:1/, dependsOn: [nope] }\n", "checks.a.dependsOn.0", { line: 2, column: 58 }, undefined, "^^^^"],
    ["a key inside a flow mapping", "checks:\n  a: { kind: http, url: http://127.0.0.1:1/, timeout: 2q }\n", "checks.a.timeout", { line: 2, column: 55 }, undefined, "^^"],
  ])("%s", async (_name, text, keyPath, position, line, caret) => {
    const [problem] = await problemsOf("where.yaml", text);
    expect(problem.keyPath).toBe(keyPath);
    expect(problem.location).toMatchObject(position);
    const [, source, marker] = problem.location!.frame!;
    if (line) expect(source).toBe(`${position.line} | ${line}`);
    // The caret sits under the column the location names.
    expect(marker.indexOf("^") - marker.indexOf("|") - 2).toBe(position.column - 1);
    expect(marker.trim().replace(/^\|\s*/, "")).toBe(caret);
  });

  it("the quoted line never shows a secret: values of secret keys are masked and the caret still points at the value", async () => {
    const [problem] = await problemsOf(
      "secret-line.yaml",
      'checks:\n  cache: { kind: redis, url: "redis://10.0.0.3:6379", password: "hunter2-Secret-9", timeout: soon }\n',
    );
    const frame = problem.location!.frame!.join("\n");
    expect(frame).not.toContain("hunter2-Secret-9");
    expect(frame).toContain('password: ***, timeout: soon');
    const [, source, marker] = problem.location!.frame!;
    expect(source.slice(marker.indexOf("^"), marker.lastIndexOf("^") + 1)).toBe("soon");
  });

  it("an error on the secret itself underlines its mask", async () => {
    const [problem] = await problemsOf("secret-value.yaml", "checks:\n  cache: { kind: redis, url: 'redis://10.0.0.3:6379', password: 987654321 }\n");
    expect(problem.keyPath).toBe("checks.cache.password");
    const [, source, marker] = problem.location!.frame!;
    expect(source).not.toContain("987654321");
    expect(source.slice(marker.indexOf("^"), marker.lastIndexOf("^") + 1)).toBe("***");
  });

  it("a header credential on the quoted line is masked too, and a reference to a variable is shown as written", async () => {
    const [problem] = await problemsOf(
      "header-line.yaml",
      'checks:\n  api: { kind: http, url: "http://127.0.0.1:1/", headers: { X-Api-Key: k-1234567890, Authorization: "Bearer ${TOKEN}" }, timeout: nope }\n',
      { TOKEN: "t-abcdefgh" },
    );
    const frame = problem.location!.frame!.join("\n");
    expect(frame).not.toContain("k-1234567890");
    expect(frame).toContain('Authorization: "Bearer ${TOKEN}"');
  });

  it("a long line is cut to a window around the caret", async () => {
    const filler = Array.from({ length: 30 }, (_, index) => `h${index}: v${index}`).join(", ");
    const [problem] = await problemsOf("long.yaml", `checks:\n  a: { kind: http, url: "http://127.0.0.1:1/", headers: { ${filler} }, timeout: later }\n`);
    const [, source, marker] = problem.location!.frame!;
    expect(source.length).toBeLessThan(120);
    expect(source).toMatch(/^\d+ \| …/);
    expect(source.slice(marker.indexOf("^"), marker.lastIndexOf("^") + 1)).toBe("later");
  });
});

const http = (extra: Record<string, unknown> = {}) => ({ kind: "http", url: "http://127.0.0.1:1/health", ...extra });
const redis = (extra: Record<string, unknown> = {}) => ({ kind: "redis", url: "redis://10.0.0.3:6379", ...extra });

async function messageOf(raw: unknown): Promise<string> {
  try {
    await buildConfig(raw, { dir, defaultEnv: "test", file: "config/test.yaml", env: {} });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a config error");
}

/** Validator (zod) wording that must not reach a user. */
const RAW_VALIDATOR_TEXT = /Invalid input|Invalid option|received (string|number|array|object|undefined|null|boolean)|Too (small|big)|expected (number|string|array|object) to/;

describe("did you mean …?", () => {
  it.each([
    ["a key in another spelling", { checks: { b: http(), a: http({ depends_on: ["b"] }) } }, 'checks.a: unknown key "depends_on"; did you mean "dependsOn"?'],
    ["a misspelt key", { checks: { a: redis({ sampels: 20 }) } }, 'unknown key "sampels"; did you mean "samples"?'],
    ["a misspelt top-level key", { checks: { a: http() }, deadlin: "2s" }, 'unknown key "deadlin"; did you mean "deadline"?'],
    ["a misspelt kind", { checks: { db: { kind: "postgress", url: "postgres://app@h/db" } } }, 'found "postgress"; did you mean "postgres"?'],
    ["a URL scheme as the kind", { checks: { db: { kind: "postgresql", url: "postgresql://app@h/db" } } }, 'postgresql is a URL scheme, not a kind; did you mean "postgres"'],
    ["rediss is a scheme, not a kind", { checks: { cache: { kind: "rediss", url: "rediss://h:6380" } } }, 'rediss is a URL scheme, not a kind; did you mean "redis" (with url: rediss://…)?'],
    ["a missing kind, guessed from the URL", { checks: { cache: { url: "redis://h:6379" } } }, 'missing required key "kind": expected one of http, redis'],
    ["a dependsOn naming a check with a typo", { checks: { cache: redis(), api: http({ dependsOn: ["cahce"] }) } }, 'checks.api.dependsOn.0: unknown check "cahce"; did you mean "cache"?'],
    ["a misspelt metric", { checks: { a: http({ expect: { totlMs: "< 1s" } }) } }, 'unknown metric "totlMs" for kind http; did you mean "totalMs"?'],
    ["a key of another kind", { checks: { cache: redis({ subprotocols: ["chat"] }) } }, 'unknown key "subprotocols" for kind redis: it is a key of websocket checks'],
    ["a misspelt key of a secret reference", { checks: { cache: redis({ password: { secrt: "projects/p/secrets/s" } }) } }, 'unknown key "secrt"; did you mean "secret"?'],
  ])("%s", async (_name, raw, fragment) => {
    const message = await messageOf(raw);
    expect(message).toContain(fragment);
    expect(message).not.toMatch(RAW_VALIDATOR_TEXT);
  });

  it("a missing kind is guessed from the URL's scheme", async () => {
    expect(await messageOf({ checks: { cache: { url: "rediss://h:6380" } } })).toContain('the url is rediss://…, so probably "redis"');
  });

  it("an unknown key with nothing close lists the keys that are allowed there", async () => {
    expect(await messageOf({ checks: { a: http({ tls: { verify: false } }) } })).toContain('checks.a.tls: unknown key "verify"; known keys here: ca, cert, key, servername, insecure');
  });

  it("a name that is not close to any known one gets no guess", async () => {
    expect(await messageOf({ checks: { a: { kind: "mysql" } } })).not.toContain("did you mean");
    expect(await messageOf({ checks: { a: http({ dependsOn: ["database"] }), b: http() } })).not.toContain("did you mean");
  });
});

describe("plain English instead of validator text", () => {
  it.each([
    ["a check's key indented under checks", { env: "x", checks: { api: http(), url: "http://127.0.0.1:1/" } }, "checks.url: `url` is indented under `checks`, it belongs to a check"],
    ["a check's key at the top level", { kind: "http", checks: { a: http() } }, 'unknown key "kind": it belongs to a check; indent it under one (checks.NAME.kind)'],
    ["an empty check", { checks: { a: null } }, 'checks.a: check "a" is empty: give it a kind (one of http, redis'],
    ["checks written as a list", { checks: [http()] }, "checks: expected record (name: value pairs), found a list (write NAME: VALUE lines, not - items)"],
    ["a number as text", { checks: { a: redis({ samples: "ten" }) } }, 'checks.a.samples: expected a number, found "ten"'],
    ["a number out of range", { checks: { a: redis({ samples: 0 }) } }, "checks.a.samples: must be at least 1, found 0"],
    ["a duration of the wrong type", { checks: { a: http({ timeout: true }) } }, "checks.a.timeout: expected a duration like 250ms, 2s or 1m, found true"],
    ["a list of one written as a scalar", { checks: { b: http(), a: http({ dependsOn: "b" }) } }, 'checks.a.dependsOn: expected a list, found "b" (a list of one is written [b])'],
    ["a mapping written as a string", { checks: { a: http({ tls: "yes" }) } }, 'checks.a.tls: expected a mapping (ca, cert, key, servername, insecure), found "yes"'],
    ["an expectation that is a mapping", { checks: { a: http({ expect: { status: { eq: 200 } } }) } }, 'checks.a.expect.status: expected a value (status: 200) or an operator and a value ("< 200ms", "~ ^ok"), found a mapping'],
    ["a value not in the list", { checks: { a: http({ method: "DELET" }) } }, 'checks.a.method: expected one of GET, HEAD, POST, PUT, OPTIONS, found "DELET"'],
    ["a missing key of a block", { gcp: { project: "p" }, checks: { a: http() } }, 'gcp.region: missing required key "region": expected a string'],
    ["a secret of the wrong type (not quoted)", { checks: { a: redis({ password: 12345678 }) } }, "checks.a.password: expected a string, { secret: … } or { memorystoreAuth: … }, found a number (not shown: secret)"],
    ["a secret given as a list", { checks: { a: redis({ password: ["hunter2-x"] }) } }, "checks.a.password: expected a string, { secret: … } or { memorystoreAuth: … }, found a list"],
  ])("%s", async (_name, raw, fragment) => {
    const message = await messageOf(raw);
    expect(message).toContain(fragment);
    expect(message).not.toMatch(RAW_VALIDATOR_TEXT);
    expect(message).not.toMatch(/12345678|hunter2-x/);
  });
});

describe("an unset ${VAR} is named, never masked", () => {
  it.each([
    ["a password", "password: ${REDIS_PASSWORD}", "checks.cache.password", "REDIS_PASSWORD"],
    ["the password inside a URL", "url: redis://:${REDIS_PASSWORD}@10.0.0.3:6379", "checks.cache.url", "REDIS_PASSWORD"],
    ["a bearer header", 'headers: { Authorization: "Bearer ${HEALTH_TOKEN}" }', "checks.cache.headers.Authorization", "HEALTH_TOKEN"],
  ])("%s", async (_name, line, keyPath, variable) => {
    const check = line.startsWith("url:") ? `    kind: redis\n    ${line}\n` : line.startsWith("headers") ? `    kind: http\n    url: http://127.0.0.1:1/\n    ${line}\n` : `    kind: redis\n    url: redis://10.0.0.3:6379\n    ${line}\n`;
    write("unset.yaml", `checks:\n  cache:\n${check}`);
    const result = await runMain(["validate", "-c", "unset.yaml"], { cwd: dir, env: { OTHER_TOKEN: "unrelated-secret-value" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${keyPath}: environment variable ${variable} is not set (referenced as \${${variable}})`);
    expect(result.stderr).not.toContain("referenced as ***");
    // The frame quotes the line as written: the reference is not a secret.
    expect(result.stderr).toContain(`\${${variable}}`);
  });
});

describe("validate -f json", () => {
  it("a broken config: ok false and every problem with file, path, line, column and message; exit 2", async () => {
    write("broken-json.yaml", "checks:\n  api:\n    kind: http\n    url: http://127.0.0.1:1/\n    timeout: soon\n    depends_on: [db]\n");
    const result = await runMain(["validate", "-c", "broken-json.yaml", "-f", "json"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      errors: [
        { file: "broken-json.yaml", path: "checks.api.timeout", line: 5, column: 14, message: 'expected a duration like 250ms, 2s or 1m, found "soon"' },
        { file: "broken-json.yaml", path: "checks.api.depends_on", line: 6, column: 5, message: 'unknown key "depends_on"; did you mean "dependsOn"?' },
      ],
    });
  });

  it("a YAML syntax error and a missing file are problems too (no path, line when known)", async () => {
    write("syntax.yaml", "checks:\n  a: [\n");
    const syntax = JSON.parse((await runMain(["validate", "-c", "syntax.yaml", "-f", "json"], { cwd: dir })).stdout);
    expect(syntax.ok).toBe(false);
    expect(syntax.errors[0]).toMatchObject({ file: "syntax.yaml", path: null, line: expect.any(Number), column: expect.any(Number), message: expect.stringContaining("invalid YAML") });
    const missing = await runMain(["validate", "-c", "nope.yaml", "-f", "json"], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual({ ok: false, errors: [{ file: "nope.yaml", path: null, line: null, column: null, message: "file not found" }] });
  });

  it("a secret is never in the JSON either", async () => {
    write("secret-json.yaml", 'checks:\n  cache: { kind: redis, url: "redis://:hunter2-Secret-9@10.0.0.3:6379", samples: "many" }\n');
    const result = await runMain(["validate", "-c", "secret-json.yaml", "-f", "json"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).not.toContain("hunter2-Secret-9");
  });

  it("a valid config: the same shape as before, with an empty errors list", async () => {
    write("fine.yaml", "env: fine\ndeadline: 5s\nchecks:\n  api: { kind: http, url: http://127.0.0.1:1/, timeout: 2s }\n");
    const result = await runMain(["validate", "-c", "fine.yaml", "-f", "json"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ ok: true, file: "fine.yaml", env: "fine", deadlineMs: 5000, checks: [{ name: "api", kind: "http", timeoutMs: 2000, dependsOn: [] }], errors: [] });
  });
});
