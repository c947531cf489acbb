// docs/ci.md is exercised, not just read: its GitHub Actions and GitLab YAML
// blocks are parsed with the `yaml` package, and every infra-check command
// line in them (and in its shell blocks) is run with the built CLI against a
// local environment. The files the commands name must be written and valid,
// the CI report wiring must point at them, and the exit-code table must match
// the code.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { httpServer } from "../helpers/net.js";
import { runCli } from "../helpers/cli.js";
import { EXIT, signalExitCode } from "../../src/exit-codes.js";

const DOC = readFileSync(path.resolve(import.meta.dirname, "../../docs/ci.md"), "utf8");
const XSD = path.resolve(import.meta.dirname, "../fixtures/junit.xsd");

interface Block {
  lang: string;
  text: string;
}
const blocks: Block[] = [...DOC.matchAll(/^```(\w+)\n([^]*?)^```$/gm)].map((match) => ({ lang: match[1], text: match[2] }));
const yamlDocs = blocks.filter((block) => block.lang === "yaml").map((block) => parse(block.text) as Record<string, any>);
const githubWorkflow = yamlDocs.find((doc) => doc.jobs && doc.on)!;
const gitlabPipeline = yamlDocs.find((doc) => Array.isArray(doc.stages))!;

/** Shell lines of a `run:` / `script:` value (continuations joined). */
function shellLines(script: string): string[] {
  return script
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

function githubRuns(workflow: Record<string, any>): string[] {
  return Object.values<any>(workflow.jobs).flatMap((job) => (job.steps ?? []).map((step: { run?: string }) => step.run).filter(Boolean));
}

function gitlabScripts(pipeline: Record<string, any>): string[] {
  return Object.values<any>(pipeline)
    .filter((job) => job && typeof job === "object" && !Array.isArray(job))
    .flatMap((job) => [...(job.before_script ?? []), ...(job.script ?? [])]);
}

/**
 * Split a POSIX shell command line into words (quotes, backslashes, $VAR and
 * ${VAR} from `env`). Anything fancier (pipes, redirections) is refused, so
 * the docs keep to command lines a reader can paste.
 */
function shellWords(line: string, env: Record<string, string>): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  const expand = (at: number): number => {
    const match = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(line.slice(at));
    if (!match) throw new Error(`unsupported $ expression in: ${line}`);
    const name = match[1] ?? match[2];
    if (env[name] === undefined) throw new Error(`docs use $${name}, which the test does not provide`);
    word += env[name];
    return at + match[0].length;
  };
  for (let i = 0; i < line.length; ) {
    const char = line[i];
    if (char === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      word += line.slice(i + 1, end);
      i = end + 1;
      inWord = true;
    } else if (char === '"') {
      i += 1;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\" && /["\\$`]/.test(line[i + 1] ?? "")) {
          word += line[i + 1];
          i += 2;
        } else if (line[i] === "$") i = expand(i);
        else word += line[i++];
      }
      if (line[i] !== '"') throw new Error(`unterminated " in: ${line}`);
      i += 1;
      inWord = true;
    } else if (char === "\\") {
      word += line[i + 1] ?? "";
      i += 2;
      inWord = true;
    } else if (char === "$") {
      i = expand(i);
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i += 1;
    } else if (char === "#" && !inWord) {
      break;
    } else if (/[|&;<>()`]/.test(char)) {
      throw new Error(`unsupported shell syntax "${char}" in: ${line}`);
    } else {
      word += char;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The infra-check command lines among shell lines (`infra-check …` or `npx infra-check …`). */
function infraCheckLines(scripts: string[]): string[] {
  return scripts.flatMap(shellLines).filter((line) => /^(npx\s+)?infra-check\s/.test(line));
}

function outputsOf(args: string[]): { format: string; file: string }[] {
  const outputs: { format: string; file: string }[] = [];
  args.forEach((arg, index) => {
    const value = arg === "--output" || arg === "-o" ? args[index + 1] : arg.startsWith("--output=") ? arg.slice(9) : undefined;
    if (value) outputs.push({ format: value.slice(0, value.indexOf("=")), file: value.slice(value.indexOf("=") + 1) });
  });
  return outputs;
}

const ghCommands = infraCheckLines(githubRuns(githubWorkflow ?? { jobs: {} }));
const glCommands = infraCheckLines(gitlabScripts(gitlabPipeline ?? {}));
const shCommands = infraCheckLines(blocks.filter((block) => block.lang === "sh").map((block) => block.text));

describe("docs/ci.md structure", () => {
  it("has a GitHub Actions workflow and a GitLab pipeline, each running infra-check after the deploy", () => {
    expect(githubWorkflow).toBeDefined();
    expect(gitlabPipeline).toBeDefined();
    expect(ghCommands.length).toBeGreaterThan(0);
    expect(glCommands.length).toBeGreaterThan(0);
    const verify = Object.values<any>(githubWorkflow.jobs).find((job) => (job.steps ?? []).some((step: { run?: string }) => /infra-check staging/.test(step.run ?? "")));
    expect(verify.needs).toBe("deploy");
    const glVerify = Object.values<any>(gitlabPipeline).find((job) => (job?.script ?? []).some((line: string) => /infra-check staging/.test(line)));
    expect(glVerify.needs).toEqual(["deploy-staging"]);
    expect(gitlabPipeline.stages.indexOf(glVerify.stage)).toBeGreaterThan(gitlabPipeline.stages.indexOf("deploy"));
  });

  it("both jobs use --wait and publish the JUnit file their command writes", () => {
    for (const line of [...ghCommands, ...glCommands]) expect(line).toMatch(/--wait \S+/);
    const ghJunit = outputsOf(shellWords(ghCommands[0], {})).find((output) => output.format === "junit")!.file;
    const junitStep = Object.values<any>(githubWorkflow.jobs).flatMap((job) => job.steps ?? []).find((step: any) => step.with?.report_paths);
    expect(junitStep.with.report_paths).toBe(ghJunit);
    expect(junitStep.if).toMatch(/cancelled\(\)/);
    const glVerify = Object.values<any>(gitlabPipeline).find((job) => job?.artifacts?.reports?.junit);
    const glJunit = outputsOf(shellWords(infraCheckLines(glVerify.script)[0], {})).find((output) => output.format === "junit")!.file;
    expect(glVerify.artifacts.reports.junit).toBe(glJunit);
    expect(glVerify.artifacts.when).toBe("always");
  });

  it("the exit-code table matches the code", () => {
    const rows = [...DOC.matchAll(/^\| (\d) \| ([^|]+)\|/gm)].map((match) => [Number(match[1]), match[2].trim()] as const);
    expect(rows.map(([code]) => code)).toEqual([EXIT.OK, EXIT.FAILED, EXIT.USAGE, EXIT.INTERNAL]);
    expect(rows[1][1]).toMatch(/failed or was blocked/);
    expect(rows[2][1]).toMatch(/nothing was probed/);
    // The interrupted row names the codes the code gives (128 + SIGINT, SIGTERM, SIGHUP).
    const interrupted = /^\| (\d+), (\d+), (\d+) \| interrupted by SIGINT, SIGTERM[^|]*SIGHUP/m.exec(DOC);
    expect(interrupted?.slice(1).map(Number)).toEqual([signalExitCode("SIGINT"), signalExitCode("SIGTERM"), signalExitCode("SIGHUP")]);
  });

  it("the GitHub job relies on zero-config annotations and step summary (no --format github needed)", () => {
    for (const line of ghCommands) expect(line).not.toMatch(/(--format|-f) github/);
  });
});

describe("docs/ci.md commands run against a local environment (built CLI)", () => {
  let app: Awaited<ReturnType<typeof httpServer>>;
  let root: string;
  beforeAll(async () => {
    const build = spawnSync(process.execPath, [path.resolve(import.meta.dirname, "../../node_modules/typescript/bin/tsc"), "-p", "."], {
      cwd: path.resolve(import.meta.dirname, "../.."),
      encoding: "utf8",
    });
    // Other contributors' in-progress files may not typecheck; the emit still happens. Only a missing build is fatal.
    expect(existsSync(path.resolve(import.meta.dirname, "../../dist/cli.js")), build.stdout).toBe(true);
    app = await httpServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end('{"status":"healthy"}');
    });
    root = mkdtempSync(path.join(tmpdir(), "infra-check-docs-"));
    mkdirSync(path.join(root, "config"));
    for (const env of ["staging", "production"]) {
      writeFileSync(path.join(root, "config", `${env}.yaml`), `deadline: 5s\nchecks:\n  api:\n    kind: http\n    url: ${app.url("/health")}\n    expect: { json.status: healthy }\n`);
    }
  });
  afterAll(async () => {
    await app.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const all = [...ghCommands.map((line) => ["GitHub Actions", line]), ...glCommands.map((line) => ["GitLab", line]), ...shCommands.map((line) => ["shell", line])];
  it.each(all)("%s: %s", async (where, line) => {
    const cwd = mkdtempSync(path.join(root, "job-"));
    mkdirSync(path.join(cwd, "config"));
    for (const env of ["staging", "production"]) writeFileSync(path.join(cwd, "config", `${env}.yaml`), readFileSync(path.join(root, "config", `${env}.yaml`)));
    const summary = path.join(cwd, "step-summary.md");
    const env: Record<string, string> = where === "GitHub Actions" ? { GITHUB_STEP_SUMMARY: summary, GITHUB_ACTIONS: "true" } : {};
    const words = shellWords(line, env);
    const args = words.slice(words[0] === "npx" ? 2 : 1);
    // Absolute report paths (a collector's folder) are re-rooted in the job's temp folder: tests write nowhere else.
    const rooted = args.map((arg) => arg.replace(/^(\w+)=\//, (_m, format: string) => `${format}=${cwd}/`));
    const result = await runCli(rooted, { cwd, env });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(EXIT.OK);
    for (const output of outputsOf(rooted)) {
      const file = path.resolve(cwd, output.file);
      expect(existsSync(file), `${output.format} report ${output.file}`).toBe(true);
      const text = readFileSync(file, "utf8");
      if (output.format === "junit") {
        const check = spawnSync("xmllint", ["--noout", "--schema", XSD, file], { encoding: "utf8" });
        expect(check.status, check.stderr).toBe(0);
      }
      if (output.format === "json") expect(JSON.parse(text)).toMatchObject({ ok: true, summary: { pass: 1 } });
      if (output.format === "markdown") expect(text).toMatch(/^### infra-check \w+: ✅ healthy/);
      if (output.format === "prometheus") expect(text).toMatch(/^infra_check_run_ok\{env="\w+"\} 1$/m);
    }
    // On GitHub Actions (GITHUB_ACTIONS=true) the summary is appended whatever the format; a healthy run has nothing to annotate.
    if (where === "GitHub Actions") {
      expect(readFileSync(summary, "utf8")).toMatch(/^### infra-check staging: ✅ healthy/);
      expect(result.stdout).not.toMatch(/^::(error|warning)/m);
    }
  });
});
