// Habits people bring from redis-cli, psql and git: `-h HOST`, a config file
// where an environment goes, typos, `help CMD`, a bare `infra-check`. Each is
// either understood or a usage error (exit 2) that says what to type instead —
// never help text with exit 0 that a script reads as "healthy".
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer } from "../helpers/net.js";
import { runMain } from "../helpers/main-io.js";
import { runCli } from "../helpers/cli.js";
import { PROBES, PROBE_KINDS } from "../../src/probes/index.js";
import { closest, editDistance } from "../../src/util/did-you-mean.js";

let app: Awaited<ReturnType<typeof httpServer>>;
let root: string;

beforeAll(async () => {
  app = await httpServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ status: "healthy" }));
  });
  root = mkdtempSync(path.join(tmpdir(), "infra-check-usage-"));
  mkdirSync(path.join(root, "config"));
  mkdirSync(path.join(root, "elsewhere"));
  const healthy = (env: string) => `env: ${env}\ndeadline: 5s\nchecks:\n  api:\n    kind: http\n    url: ${app.url("/health")}\n    expect: { json.status: healthy }\n`;
  writeFileSync(path.join(root, "config", "staging.yaml"), healthy("staging"));
  writeFileSync(path.join(root, "config", "production.yaml"), healthy("production"));
  writeFileSync(path.join(root, "config", "extra.yml"), healthy("extra"));
  writeFileSync(path.join(root, "prod.yaml"), healthy("prod-file"));
  writeFileSync(path.join(root, "elsewhere", "checks"), healthy("no-extension"));
});
afterAll(async () => {
  await app?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runMain(args, { cwd: root, env });
const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe("-h followed by a value (redis-cli's -h HOST) is a usage error, for every one-off", () => {
  it("`redis -h HOST -p PORT` → exit 2 showing the URL form; nothing printed on stdout", async () => {
    const result = await run(["redis", "-h", "10.0.0.3", "-p", "6379"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("infra-check redis redis://HOST:PORT");
    expect(result.stderr).toMatch(/-h is --help/);
    noStackTrace(result.stderr);
  });

  it.each(PROBE_KINDS.map((kind) => [PROBES[kind].command]))("`%s --help VALUE` → exit 2 naming the command's argument form", async (command) => {
    const result = await run([command, "--help", "somewhere"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`infra-check ${command} `);
    expect(result.stderr).toContain(`(infra-check ${command} --help lists its flags)`);
  });

  it("the form comes from the kind: postgres shows psql's host:port too, cloud-run its --project/--region", async () => {
    expect((await run(["postgres", "-h", "db.internal"])).stderr).toMatch(/infra-check postgres postgres:\/\/USER@HOST:PORT\/DATABASE[\s\S]*infra-check postgres HOST:PORT/);
    expect((await run(["cloud-run", "-h", "backend"])).stderr).toContain("infra-check cloud-run SERVICE --project PROJECT --region REGION");
  });

  it.each([
    [["redis", "-h"]],
    [["redis", "--help"]],
    [["redis", "redis://10.0.0.3:6379", "-h"]],
    [["redis", "-h", "--samples", "3"]],
    // the value belongs to --user (-h is that flag's value), so it is no help flag at all, and --help is alone
    [["redis", "--user", "-h", "--help"]],
  ])("%j (help alone) still prints help, exit 0", async (args) => {
    const result = await run(args);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: infra-check redis");
  });

  it("spawned: the exit code a script sees is 2", async () => {
    const result = await runCli(["redis", "-h", "127.0.0.1", "-p", "6379"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
  });
});

describe("a config file where an environment goes means --config", () => {
  it("`infra-check ./prod.yaml` runs that file", async () => {
    const result = await run(["./prod.yaml", "--format", "json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ env: "prod-file", ok: true });
  });

  it("`infra-check run config/extra.yml` and `validate elsewhere/checks` (a path without extension)", async () => {
    const ran = await run(["run", "config/extra.yml", "--format", "json"]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout).env).toBe("extra");
    const validated = await run(["validate", "elsewhere/checks"]);
    expect(validated.code, validated.stderr).toBe(0);
    expect(validated.stdout).toContain("valid");
  });

  it("prod.yaml (no slash) is a file in the working directory, not config/prod.yaml.yaml", async () => {
    const result = await run(["validate", "prod.yaml"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("prod.yaml: valid");
  });

  it("a missing file says so (exit 2), and a file plus --config is one too many", async () => {
    const missing = await run(["./nope.yaml"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.yaml: file not found");
    const both = await run(["./prod.yaml", "--config", "config/staging.yaml"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/\.\/prod\.yaml is a config file and --config names another \(config\/staging\.yaml\)/);
  });
});

describe("did you mean …?", () => {
  it("a misspelt environment → exit 2 suggesting the closest one", async () => {
    const result = await run(["stagign"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no config for environment "stagign"; did you mean staging\?/);
    noStackTrace(result.stderr);
  });

  it("the beginning of an environment's name → that environment", async () => {
    expect((await run(["prod"])).stderr).toMatch(/did you mean production\?/);
  });

  it("a misspelt command with its argument → unknown command, exit 2", async () => {
    const result = await run(["reds", "redis://10.0.0.3:6379"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/unknown command "reds"; did you mean redis\?/);
    const validate = await run(["valdate", "staging"]);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toMatch(/unknown command "valdate"; did you mean validate\?/);
  });

  it("a misspelt command alone (no such environment) → suggests the command", async () => {
    const result = await run(["valdate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no config for environment "valdate".*did you mean the command validate\?/);
  });

  it("nothing close: the commands are listed, exit 2", async () => {
    const result = await run(["zzzzzz", "qqq"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/too many arguments: "zzzzzz" is not a command.*commands: run, validate, /);
  });

  it("an environment with a stray argument is not called an unknown command", async () => {
    const result = await run(["staging", "extra"]);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain("unknown command");
    expect(result.stderr).toMatch(/too many arguments/);
  });

  it("editDistance counts a swap of neighbours as one edit; closest needs a close or a unique prefix match", () => {
    expect(editDistance("stagign", "staging")).toBe(1);
    expect(editDistance("reds", "redis")).toBe(1);
    expect(closest("tpc", ["http", "tcp"])).toBe("tcp");
    expect(closest("ws", ["run", "demo"])).toBeUndefined();
    expect(closest("pro", ["production", "postgres"])).toBe("production");
    expect(closest("p", ["production", "postgres"])).toBeUndefined();
  });
});

describe("infra-check help [command]", () => {
  it("`help` prints what --help prints", async () => {
    const [help, flag] = await Promise.all([run(["help"]), run(["--help"])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: infra-check");
    expect(help.stdout).toBe(flag.stdout);
  });

  it.each([["redis"], ["validate"], ["cloud-run"], ["compare"]])("`help %s` prints what the command's --help prints", async (command) => {
    const [help, flag] = await Promise.all([run(["help", command]), run([command, "--help"])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`Usage: infra-check ${command}`);
    expect(help.stdout).toBe(flag.stdout);
  });

  it("`help reds` → unknown command, did you mean redis, exit 2", async () => {
    const result = await run(["help", "reds"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command "reds"; did you mean redis\?/);
  });
});

describe("infra-check with no arguments", () => {
  it("a short usage on stderr, exit 2: the main forms and where to start (demo, --help)", async () => {
    const result = await run([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(10);
    expect(lines.every((line) => line.length <= 80)).toBe(true);
    expect(result.stderr).toMatch(/^Usage: infra-check <env>/);
    expect(result.stderr).toContain("infra-check demo");
    expect(result.stderr).toContain("infra-check --help");
    for (const kind of PROBE_KINDS) expect(result.stderr).toContain(PROBES[kind].command);
  });
});
