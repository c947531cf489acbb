// Outside text is shown, not obeyed: escapes, workflow commands behind a
// newline and bidi overrides become visible escapes; plain text (accents,
// emoji, tabs) is untouched.
import { describe, expect, it } from "vitest";
import { escapeBidiInJson, neutralizeDeep, neutralizeLine } from "../../src/util/neutralize.js";

describe("neutralizeLine", () => {
  it.each([
    ["an ANSI colour", "ok\x1b[31mRED\x1b[0m", "ok\\x1b[31mRED\\x1b[0m"],
    ["an erase-line", "\x1b[2K\rfake PASS", "\\x1b[2K\\rfake PASS"],
    ["an OSC title", "\x1b]0;pwned\x07x", "\\x1b]0;pwned\\x07x"],
    ["a GitHub command behind a newline", "timeout\n::error::deploy approved", "timeout\\n::error::deploy approved"],
    ["a bidi override", "cache \u202eliaf\u202c ok", "cache \\u202eliaf\\u202c ok"],
    ["an isolate", "a\u2067b\u2069", "a\\u2067b\\u2069"],
    ["a C1 CSI", "x\u009b31my", "x\\x9b31my"],
    ["DEL and NUL", "a\x7fb\x00c", "a\\x7fb\\x00c"],
  ])("%s", (_name, input, expected) => {
    expect(neutralizeLine(input)).toBe(expected);
  });

  it("leaves ordinary text alone", () => {
    for (const text of ["café ✓ 🚀", "tab\there", "WRONGPASS invalid username-password pair", "p95 3.1× slower"]) expect(neutralizeLine(text)).toBe(text);
  });
});

it("neutralizeDeep copies a report with every string (keys too) neutralized", () => {
  const report = { checks: [{ name: "db\u202e", failure: { message: "x\x1b[2J" }, metrics: { "a\nb": 1 } }] };
  const copy = neutralizeDeep(report);
  expect(copy).toEqual({ checks: [{ name: "db\\u202e", failure: { message: "x\\x1b[2J" }, metrics: { "a\\nb": 1 } }] });
  expect(report.checks[0].name).toBe("db\u202e");
});

it("escapeBidiInJson keeps the data and shows the character", () => {
  const json = JSON.stringify({ name: "a\u202eb" });
  expect(escapeBidiInJson(json)).toBe('{"name":"a\\u202eb"}');
  expect(JSON.parse(escapeBidiInJson(json)).name).toBe("a\u202eb");
});
