// GitHub workflow commands: escaping as @actions/core does it, one annotation
// per line, the level per status.
import { describe, expect, it } from "vitest";
import github, { escapeData, escapeProperty } from "../../src/reporters/github.js";
import { loadFixture } from "./fixtures.js";

describe("escaping", () => {
  it.each([
    ["plain", "plain"],
    ["100%", "100%25"],
    ["%0A literal", "%250A literal"],
    ["a\nb", "a%0Ab"],
    ["a\r\nb", "a%0D%0Ab"],
    ["k: v, w", "k: v, w"],
    ["ESC \u001b[31m", "ESC \\u001b[31m"],
  ])("escapeData(%j) = %j", (input, expected) => {
    expect(escapeData(input)).toBe(expected);
  });

  it.each([
    ["title", "title"],
    ["a: b", "a%3A b"],
    ["x, y", "x%2C y"],
    ["50%: a,\nb", "50%25%3A a%2C%0Ab"],
  ])("escapeProperty(%j) = %j", (input, expected) => {
    expect(escapeProperty(input)).toBe(expected);
  });
});

describe("annotations", () => {
  const lines = github(loadFixture("mixed"), { color: false, verbose: false }).trimEnd().split("\n");
  const line = (name: string) => lines.find((candidate) => candidate.includes(`%3A ${name} (`));

  it("one line per annotation: every line but the last is a workflow command", () => {
    expect(lines.slice(0, -1).every((candidate) => /^::(error|warning|notice) title=[^:]*::/.test(candidate))).toBe(true);
    expect(lines.at(-1)).toBe("infra-check staging: UNHEALTHY — 6 checks: 2 passed, 1 warned, 2 failed, 1 blocked in 3.12 s");
  });

  it.each([
    ["cache", "error", "auth"],
    ["agent-events", "error", "server-error"],
    ["db", "warning", "slow"],
    ["chat", "notice", "blocked"],
    ["worker", "notice", "passed after 3 attempts"],
  ])("%s → ::%s titled with %s", (name, level, suffix) => {
    expect(line(name)).toMatch(new RegExp(`^::${level} title=infra-check staging%3A ${name} \\(\\w+\\) ${suffix}::`));
  });

  it("a passing check without retries has no annotation", () => {
    expect(line("api")).toBeUndefined();
  });

  it("the message carries the diagnosis and the hint, escaped onto one line", () => {
    expect(line("cache")).toContain("::server requires a password (NOAUTH); none configured");
    expect(line("cache")).toContain("%0AHint: Set the Redis password");
    expect(line("cache")).toContain("100%25 from Secret Manager");
    expect(line("cache")).toContain("%0ALast of 4 attempts.");
  });

  it("with --strict a warning is an error", () => {
    const strict = github({ ...loadFixture("mixed"), strict: true }, { color: false, verbose: false });
    expect(strict).toMatch(/^::error title=infra-check staging%3A db \(postgres\) slow::/m);
  });
});
