// Outside text is shown, not obeyed: escapes, workflow commands behind a
// newline and bidi overrides become visible escapes; plain text (accents,
// emoji, tabs) is untouched.
import { describe, expect, it } from "vitest";
import { escapeJsonControls, neutralizeDeep, neutralizeLine, neutralizeText } from "../../src/util/neutralize.js";

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

it("escapeJsonControls keeps the data and shows the character", () => {
  const json = JSON.stringify({ name: "a\u202eb" });
  expect(escapeJsonControls(json)).toBe('{"name":"a\\u202eb"}');
  expect(JSON.parse(escapeJsonControls(json)).name).toBe("a\u202eb");
});

// End to end: a server's words and a crafted saved report, through every format.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { runMain } from "../helpers/main-io.js";

const INJECTION = "boom\x1b[2J\x1b[1A\n::error::deploy approved\u202eliaf";

/** Nothing a terminal or a GitHub runner would obey: no ESC, no C1, no bidi control, no workflow command at a line start from the server. */
function expectInert(text: string) {
  expect(text).not.toMatch(/[\x1b\x9b\u202a-\u202e\u2066-\u2069]/);
  expect(text).not.toMatch(/^::error::deploy approved/m);
}

describe("outside text in reports is shown, not obeyed", () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end(INJECTION);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each(["table", "markdown", "github", "junit", "prometheus"])("a server's body in --format %s", async (format) => {
    const out = await runMain(["http", url, "--format", format], { cwd: process.cwd(), env: {} });
    expect(out.code).toBe(1);
    expectInert(out.stdout);
    if (format !== "prometheus") expect(out.stdout).toContain("\\x1b");
  });

  it("--format json keeps the server's exact text, escaped", async () => {
    const out = await runMain(["http", url, "--format", "json"], { cwd: process.cwd(), env: {} });
    expectInert(out.stdout);
    expect(out.stdout).toContain("\\u202e");
    const report = JSON.parse(out.stdout);
    expect(JSON.stringify(report)).toContain("\u202eliaf");
  });

  it("compare of a crafted saved report: table and markdown show escapes, JSON keeps the data", async () => {
    const fixtures = path.resolve(import.meta.dirname, "../fixtures/history");
    const dir = mkdtempSync(path.join(tmpdir(), "infra-check-inject-"));
    const crafted = JSON.parse(readFileSync(path.join(fixtures, "regressed.json"), "utf8"));
    crafted.checks[0].name = `api${INJECTION}`;
    crafted.env = `staging\x1b]0;pwned\x07`;
    writeFileSync(path.join(dir, "old.json"), readFileSync(path.join(fixtures, "runs/2025-03-12T10-00-00.000Z_staging_00000000000c.json")));
    writeFileSync(path.join(dir, "new.json"), JSON.stringify(crafted));
    for (const format of ["table", "markdown"]) {
      const out = await runMain(["compare", "old.json", "new.json", "--format", format], { cwd: dir });
      expect(out.stderr).toBe("");
      expectInert(out.stdout);
      expect(out.stdout).toContain("::error::deploy approved\\u202eliaf");
    }
    const json = await runMain(["compare", "old.json", "new.json", "--format", "json"], { cwd: dir });
    expectInert(json.stdout);
    expect(JSON.parse(json.stdout).checks.map((check: { name: string }) => check.name)).toContain(`api${INJECTION}`);
  });
});

describe("neutralizeText", () => {
  it("keeps line breaks for the reporter, but not one that would start a workflow command", () => {
    expect(neutralizeText("read its logs.\nLook for x")).toBe("read its logs.\nLook for x");
    expect(neutralizeText("timeout\n::error::deploy approved")).toBe("timeout\\n::error::deploy approved");
    expect(neutralizeText("timeout\n  ::warning::x\nok\x1b[2J")).toBe("timeout\\n  ::warning::x\nok\\x1b[2J");
  });
});
