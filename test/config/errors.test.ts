// Config errors as a user reads them: where (file, key path, line and
// column, the line with a caret), what is wrong in plain words, and what was
// probably meant — and never a secret, not even in the quoted line.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfigFile } from "../../src/config/load.js";
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
    ["a missing key points at its check", "checks:\n  api:\n    kind: redis\n", "checks.api.url", { line: 2, column: 3 }, "  api:", "^^^"],
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
