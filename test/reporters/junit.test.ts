// JUnit XML: structure read back with a real XML parser (xmllint --xpath), and
// every variant validated against the vendored schema (test/fixtures/junit.xsd)
// with xmllint --schema — the fixture reports, --strict, --verbose, hostile
// text, and the output of a real run against in-process HTTP servers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import junit from "../../src/reporters/junit.js";
import type { RunReport } from "../../src/report/schema.js";
import { closedPort, httpServer } from "../helpers/net.js";
import { runMain } from "../helpers/main-io.js";
import { FIXTURES, loadFixture } from "./fixtures.js";

const XSD = path.join(FIXTURES, "junit.xsd");
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "infra-check-junit-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function save(xml: string): string {
  const file = path.join(dir, `report-${(counter += 1)}.xml`);
  writeFileSync(file, xml);
  return file;
}

function validate(xml: string): { ok: boolean; output: string } {
  const result = spawnSync("xmllint", ["--noout", "--schema", XSD, save(xml)], { encoding: "utf8" });
  return { ok: result.status === 0, output: result.stderr };
}

function xpath(xml: string, expression: string): string {
  return execFileSync("xmllint", ["--xpath", expression, save(xml)], { encoding: "utf8" }).replace(/\n$/, "");
}

const render = (report: RunReport, verbose = false) => junit(report, { color: false, verbose });

describe("structure", () => {
  const xml = render(loadFixture("mixed"));

  it.each([
    ["one testsuite named after the env", "string(/testsuites/testsuite/@name)", "staging"],
    ["one testcase per check", "count(//testcase)", "6"],
    ["tests / failures / errors / skipped counts", "concat(//testsuite/@tests,'/',//testsuite/@failures,'/',//testsuite/@errors,'/',//testsuite/@skipped)", "6/2/0/1"],
    ["classname is the kind", "string(//testcase[@name='cache']/@classname)", "redis"],
    ["time is in seconds", "string(//testcase[@name='agent-events']/@time)", "2.401"],
    ["failure type is the failure class", "string(//testcase[@name='cache']/failure/@type)", "auth"],
    ["failure message is the diagnosis", "string(//testcase[@name='cache']/failure/@message)", "server requires a password (NOAUTH); none configured — tried redis://:hunter2-Secret-9@10.166.204.83:6379"],
    ["blocked → skipped naming the blocker", "string(//testcase[@name='chat']/skipped/@message)", "blocked by cache"],
    ["warn → passing testcase (no failure)", "count(//testcase[@name='db']/failure)", "0"],
    ["pass → no children", "count(//testcase[@name='api']/*)", "0"],
    ["env and config file as properties", "string(//property[@name='configFile']/@value)", "config/staging.yaml"],
  ])("%s", (_name, expression, expected) => {
    expect(xpath(xml, expression)).toBe(expected);
  });

  it("an interrupted run: interrupted checks are <error type=\"interrupted\"> naming the phase, counted in errors", () => {
    const interrupted = render(loadFixture("interrupted"));
    expect(xpath(interrupted, "concat(//testsuite/@tests,'/',//testsuite/@failures,'/',//testsuite/@errors,'/',//testsuite/@skipped)")).toBe("3/0/2/0");
    expect(xpath(interrupted, "string(//testcase[@name='db']/error/@message)")).toBe("interrupted by SIGTERM during query");
    expect(xpath(interrupted, "string(//testcase[@name='chat']/error/@message)")).toBe("interrupted by SIGTERM before it started");
    expect(xpath(interrupted, "string(//property[@name='interrupted']/@value)")).toBe("SIGTERM");
  });

  it("the failure body carries the hint, the phase, the code and the phase timings", () => {
    const body = xpath(xml, "string(//testcase[@name='cache']/failure)");
    expect(body).toContain("hint: Set the Redis password");
    expect(body).toContain("failed in phase: auth");
    expect(body).toContain("code: NOAUTH");
    expect(body).toContain("phases: dns 0.25 ms · connect 1.8 ms");
    expect(body).toContain("attempts: 4 (never passed within --wait; this is the last failure)");
  });

  it("the blocked body names the root cause", () => {
    expect(xpath(xml, "string(//testcase[@name='chat']/skipped)")).toContain("root cause: cache failed (auth)");
  });

  it("a warning is a note in system-out; a pass after retries says so", () => {
    expect(xpath(xml, "string(//testcase[@name='db']/system-out)")).toMatch(/^warning: slow: p95Ms is 612 ms, expected < 500ms[^]*\nhint: The database answers/);
    expect(xpath(xml, "string(//testcase[@name='worker']/system-out)")).toBe("passed after 3 attempts");
  });

  it("with --strict a warning is a failure (it fails the run too)", () => {
    const strict = render({ ...loadFixture("mixed"), strict: true });
    expect(xpath(strict, "string(//testcase[@name='db']/failure/@type)")).toBe("slow");
    expect(xpath(strict, "string(//testsuite/@failures)")).toBe("3");
  });

  it("--verbose adds target and phases to passing testcases", () => {
    const verbose = render(loadFixture("mixed"), true);
    expect(xpath(verbose, "string(//testcase[@name='api']/system-out)")).toBe(
      "target: https://api.staging.example.com/health\nphases: dns 1.5 ms · connect 2.3 ms · tls 12 ms · ttfb 25 ms · transfer 0.75 ms",
    );
  });
});

describe("valid against the JUnit schema (xmllint --schema)", () => {
  const hostile = (): RunReport => {
    const report = loadFixture("mixed");
    report.env = 'stag"ing <&> \u0001';
    report.checks[3].failure!.message = "NUL\u0000 ESC\u001b[1m VT\u000b lone\udc00 ]]> --> <!-- <![CDATA[ x ]]> &#0;";
    report.checks[3].failure!.hint = "multi\nline\r\nhint\twith tab";
    report.checks[4].blockedBy = ["cache", 'we"ird'];
    return report;
  };
  it.each([
    ["mixed fixture", () => render(loadFixture("mixed"))],
    ["healthy fixture", () => render(loadFixture("healthy"))],
    ["interrupted fixture (<error> testcases)", () => render(loadFixture("interrupted"))],
    ["--strict", () => render({ ...loadFixture("mixed"), strict: true })],
    ["--verbose", () => render(loadFixture("mixed"), true)],
    ["hostile text (control characters, lone surrogates, markup, CDATA terminators)", () => render(hostile())],
  ])("%s", (_name, make) => {
    const result = validate(make());
    expect(result.output).toContain("validates");
    expect(result.ok).toBe(true);
  });

  it.each([
    ["a negative count", (xml: string) => xml.replace('failures="2"', 'failures="-2"')],
    ["a testcase without a name", (xml: string) => xml.replace('<testcase name="api"', "<testcase")],
    ["two results in one testcase", (xml: string) => xml.replace('<failure type="auth"', '<skipped/><failure type="auth"')],
    ["a time that is not a number", (xml: string) => xml.replace('time="0.042"', 'time="42ms"')],
  ])("the schema rejects %s (so the validation can fail)", (_name, breakIt) => {
    const broken = breakIt(render(loadFixture("mixed")));
    expect(broken).not.toBe(render(loadFixture("mixed")));
    expect(validate(broken).ok).toBe(false);
  });

  describe("a real run against in-process servers", () => {
    let app: Awaited<ReturnType<typeof httpServer>>;
    let root: string;
    beforeAll(async () => {
      app = await httpServer((req, res) => {
        if (req.url === "/health") return void res.end("ok");
        res.statusCode = 503;
        res.end('{"status":"degraded","db":"<timeout> & \\"more\\""}');
      });
      const refused = await closedPort();
      root = path.join(dir, "run");
      mkdirSync(path.join(root, "config"), { recursive: true });
      writeFileSync(
        path.join(root, "config", "ci.yaml"),
        [
          "deadline: 5s",
          "checks:",
          "  api:",
          "    kind: http",
          `    url: ${app.url("/health")}`,
          "  degraded:",
          "    kind: http",
          `    url: ${app.url("/deep")}`,
          "  proxy:",
          "    kind: http",
          `    url: http://127.0.0.1:${refused}/`,
          "  chat:",
          "    kind: http",
          `    url: ${app.url("/health")}`,
          "    dependsOn: [proxy]",
          "",
        ].join("\n"),
      );
    });
    afterAll(() => app.stop());

    it("--format junit validates and reports pass, fail (server-error, refused) and skipped", async () => {
      const result = await runMain(["ci", "--format", "junit"], { cwd: root });
      expect(result.code).toBe(1);
      expect(validate(result.stdout).ok).toBe(true);
      expect(xpath(result.stdout, "string(//testcase[@name='degraded']/failure/@type)")).toBe("server-error");
      expect(xpath(result.stdout, "string(//testcase[@name='proxy']/failure/@type)")).toBe("refused");
      expect(xpath(result.stdout, "string(//testcase[@name='chat']/skipped/@message)")).toBe("blocked by proxy");
      expect(xpath(result.stdout, "count(//testcase[@name='api']/*)")).toBe("0");
    });
  });
});

describe("a config error still writes the JUnit files (exit 2, nothing probed)", () => {
  let root: string;
  beforeAll(() => {
    root = path.join(dir, "config-error");
    mkdirSync(path.join(root, "config"), { recursive: true });
    writeFileSync(
      path.join(root, "config", "broken.yaml"),
      'checks:\n  cache:\n    kind: redis\n    url: "redis://:hunter2-Secret-9@10.0.0.3:6379"\n    sampels: 20\n  api: { kind: http, url: "http://127.0.0.1:1/", timeout: soon }\n',
    );
  });

  it.each([
    ["-o", ["broken", "-o", "junit=reports/infra.xml", "--output", "json=reports/infra.json"]],
    ["--output, with run --config", ["run", "--config", "config/broken.yaml", "--output", "junit=reports/infra.xml"]],
  ])("%s: one failed testcase named after the config, the problems as its failure text", async (_name, args) => {
    rmSync(path.join(root, "reports"), { recursive: true, force: true });
    const result = await runMain(args, { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown key "sampels"; did you mean "samples"?');
    const xml = readFileSync(path.join(root, "reports/infra.xml"), "utf8");
    expect(validate(xml)).toMatchObject({ ok: true });
    expect(xpath(xml, "count(//testcase)")).toBe("1");
    expect(xpath(xml, "string(//testcase/@name)")).toBe("config/broken.yaml");
    expect(xpath(xml, "string(//testcase/@line)")).toBe("5");
    expect(xpath(xml, "string(//testcase/failure/@type)")).toBe("config");
    expect(xpath(xml, "string(//testcase/failure/@message)")).toBe("invalid config (2 problems): nothing was probed");
    const body = xpath(xml, "string(//testcase/failure)");
    expect(body).toContain('config/broken.yaml: checks.cache: unknown key "sampels"; did you mean "samples"?');
    expect(body).toContain("--> config/broken.yaml:6:");
    expect(body).toContain('checks.api.timeout: expected a duration like 250ms, 2s or 1m, found "soon"');
    expect(xml).not.toContain("hunter2-Secret-9");
    // Other formats describe a run; none happened.
    expect(existsSync(path.join(root, "reports/infra.json"))).toBe(false);
  });

  it("without a junit target nothing is written", async () => {
    rmSync(path.join(root, "reports"), { recursive: true, force: true });
    const result = await runMain(["broken", "-o", "json=reports/infra.json"], { cwd: root });
    expect(result.code).toBe(2);
    expect(existsSync(path.join(root, "reports"))).toBe(false);
  });
});
