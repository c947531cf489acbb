// YAML that expands without end (an alias inside its own anchor), or
// exponentially (anchors of anchors: "billion laughs"), or nests deeper than
// any config: `validate` and a run exit 2 naming the file and the key, with
// no stack trace, and quickly.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfigFile } from "../../src/config/load.js";
import { runMain } from "../helpers/main-io.js";

const dir = mkdtempSync(path.join(tmpdir(), "infra-check-yaml-"));
function write(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

const laughs = ["a: &a [x, x, x, x, x, x, x, x, x]", ...["b", "c", "d", "e", "f", "g", "h"].map((name, index) => `${name}: &${name} [${Array(9).fill(`*${"abcdefg"[index]}`).join(", ")}]`)].join("\n");

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

describe("a config that would expand without bound is a config error (exit 2)", () => {
  it.each([
    ["recursive alias in a list", "recursive.yaml", "env: x\nchecks:\n  a: &a [*a]\n", /recursive\.yaml: checks\.a\.0: the alias \*a is inside its own anchor &a/, "recursive.yaml:3:10"],
    ["recursive alias in a mapping", "recursive-map.yaml", "checks:\n  a: &a\n    kind: http\n    self: *a\n", /checks\.a\.self: the alias \*a is inside its own anchor/, "recursive-map.yaml:4:11"],
    ["billion laughs", "laughs.yaml", `${laughs}\nchecks:\n  x: *h\n`, /laughs\.yaml: e\.0: aliases expand to more than 10000 values/, "laughs.yaml:5:8"],
    ["nesting deeper than any config", "deep.yaml", `checks:\n  a: ${"[".repeat(70)}1${"]".repeat(70)}\n`, /deep\.yaml: checks\.a(\.0)+: nested more than 64 levels deep/, "deep.yaml:2:"],
    ["nesting that overflows the parser", "deeper.yaml", `checks:\n  a: ${"[".repeat(5000)}${"]".repeat(5000)}\n`, /deeper\.yaml: line 2, column \d+: invalid YAML: nested too deeply/, "deeper.yaml:2:"],
    ["an alias with no anchor", "no-anchor.yaml", "checks:\n  a: { kind: http, url: *nope }\n", /checks\.a\.url: \*nope is read as a YAML alias \(it starts with \*\), and no anchor of that name comes before it: if it is a value, quote it/, "no-anchor.yaml:2:25"],
  ])("%s", async (_name, file, text, headline, location) => {
    write(file, text);
    for (const command of [["validate", "-c", file], ["run", "-c", file]]) {
      const result = await runMain(command, { cwd: dir });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(headline);
      expect(result.stderr).toContain(`--> ${location}`);
      expect(result.stderr).not.toMatch(/RangeError|internal error|Maximum call stack/);
      expect(result.stderr).not.toMatch(STACK_FRAME);
      expect(result.elapsedMs).toBeLessThan(2000);
    }
  });

  it("an anchor shared by many checks still loads (the bound counts values, not uses)", async () => {
    const first = `  c0: { kind: http, url: "http://127.0.0.1:1/", expect: &expect { status: 200, totalMs: "< 1s" } }`;
    const rest = Array.from({ length: 149 }, (_, index) => `  c${index + 1}: { kind: http, url: "http://127.0.0.1:1/", expect: *expect }`);
    const loaded = await loadConfigFile(path.join(dir, write("shared.yaml", `checks:\n${[first, ...rest].join("\n")}\n`)));
    expect(loaded.checks).toHaveLength(150);
    expect(Object.keys(loaded.checks[149].expect)).toEqual(["status", "totalMs"]);
  });
});
