// Output that fits the terminal it is printed on (issue 14.11), checked on a
// real terminal emulator (tmux) of a given size, as a person sees it:
// - below 120 columns the table is stacked (status, check, kind and time on
//   one line; the result and hint under it, wrapped with a hanging indent);
//   from 120 columns on it is a table; nothing the CLI prints is wider than
//   the terminal (the terminal never has to wrap a line);
// - the live status line is never wider than the terminal either, so it is
//   erased cleanly: no stale "… running" line is left on the screen;
// - root causes are listed only when something is blocked (they name what
//   they block), so a failure is not printed three times.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { closedPort, httpServer, silentServer } from "../helpers/net.js";
import { runInTerminal, type TerminalRun } from "../helpers/terminal.js";

let app: Awaited<ReturnType<typeof httpServer>>;
let silent: Awaited<ReturnType<typeof silentServer>>;
let root: string;
let refused: number;

beforeAll(async () => {
  [app, silent, refused] = await Promise.all([httpServer((_req, res) => res.end("ok")), silentServer(), closedPort()]);
  root = mkdtempSync(path.join(tmpdir(), "infra-check-terminal-"));
  mkdirSync(path.join(root, "config"));
  // Four slow checks with long names: the status line naming them is far wider than 60 columns.
  const slow = [1, 2, 3, 4].map((n) => `  waiting-for-a-silent-upstream-${n}:\n    kind: http\n    url: http://127.0.0.1:${silent.port}/\n    timeout: 1500ms\n`).join("");
  writeFileSync(
    path.join(root, "config", "mix.yaml"),
    `deadline: 10s\nchecks:\n  api:\n    kind: http\n    url: ${app.url("/health")}\n  proxy:\n    kind: http\n    url: http://127.0.0.1:${refused}/\n${slow}`,
  );
  writeFileSync(
    path.join(root, "config", "blocked.yaml"),
    `deadline: 10s\nchecks:\n  proxy:\n    kind: http\n    url: http://127.0.0.1:${refused}/\n  chat:\n    kind: http\n    url: ${app.url("/")}\n    dependsOn: [proxy]\n`,
  );
}, 30_000);
afterAll(async () => {
  await Promise.all([app?.stop(), silent?.stop()]);
  rmSync(root, { recursive: true, force: true });
});

const tooWide = (run: TerminalRun, columns: number) => run.lines.filter((line) => [...line].length > columns);

describe("a 60-column terminal", () => {
  let run: TerminalRun;
  beforeAll(async () => {
    run = await runInTerminal(["mix"], { columns: 60, cwd: root });
  }, 30_000);

  it("exits 1, and no line was wider than the terminal", () => {
    expect(run.code).toBe(1);
    expect(tooWide(run, 60)).toEqual([]);
  });

  it("leaves no stale status line: the live line fitted and was erased", () => {
    expect(run.rows.filter((row) => row.includes("… running"))).toEqual([]);
  });

  it("stacks each check: status, name, kind, time on one line; the result and hint under it with a hanging indent", () => {
    expect(run.rows.some((row) => row.startsWith("  STATUS"))).toBe(false);
    const at = run.rows.findIndex((row) => /^ {2}✖ FAIL +proxy +http +\d[\d.]* ms$/.test(row));
    expect(at, run.rows.join("\n")).toBeGreaterThan(0);
    expect(run.rows[at + 1]).toMatch(/^ {4}refused: /);
    const hint = run.rows.findIndex((row, index) => index > at && row.startsWith("    → "));
    expect(hint).toBeGreaterThan(at + 1);
    // The hint is longer than a line: its continuation hangs under its text.
    expect(run.rows[hint + 1]).toMatch(/^ {6}\S/);
    expect(run.rows.find((row) => /^ {2}✔ PASS +api /.test(row))).toBeDefined();
  });

  it("a failure is printed twice at most (one progress line, its row), with no root-cause list when nothing is blocked", () => {
    expect(run.rows.some((row) => row.startsWith("Root cause"))).toBe(false);
    expect(run.lines.filter((line) => line.includes("refused: ")).length).toBeLessThanOrEqual(2);
  });
});

describe("a 130-column terminal", () => {
  it("shows the table, still no line wider than the terminal", async () => {
    const run = await runInTerminal(["mix"], { columns: 130, cwd: root });
    expect(run.code).toBe(1);
    expect(run.rows.some((row) => /^ {2}STATUS +CHECK +KIND +TIME +RESULT$/.test(row))).toBe(true);
    expect(run.rows.some((row) => /^ {2}✖ FAIL +proxy +http +\d[\d.]* ms {2}refused: /.test(row))).toBe(true);
    expect(tooWide(run, 130)).toEqual([]);
    expect(run.rows.filter((row) => row.includes("… running"))).toEqual([]);
  }, 30_000);
});

describe("root causes", () => {
  it("are listed when a check is blocked, with what they block", async () => {
    const run = await runInTerminal(["blocked"], { columns: 80, cwd: root });
    expect(run.code).toBe(1);
    const at = run.rows.indexOf("Root cause:");
    expect(at, run.rows.join("\n")).toBeGreaterThan(0);
    expect(run.rows[at + 1]).toMatch(/^ {2}proxy \[refused\] /);
    // Wrapped with a hanging indent: the continuation rows are indented deeper.
    expect(run.rows.slice(at + 2).every((row) => row.startsWith("    "))).toBe(true);
    expect(run.rows.slice(at + 1).join(" ").replace(/\s+/g, " ")).toMatch(/ — blocks chat$/);
    expect(tooWide(run, 80)).toEqual([]);
  }, 30_000);
});

describe("COLUMNS", () => {
  it("sets the width when stdout is not a terminal (a script asks for a width)", async () => {
    const { runCli } = await import("../helpers/cli.js");
    const narrow = await runCli(["mix", "--quiet"], { cwd: root, env: { COLUMNS: "70" } });
    expect(narrow.stdout).not.toContain("STATUS");
    expect(narrow.stdout.split("\n").filter((line) => [...line].length > 70)).toEqual([]);
    const piped = await runCli(["mix", "--quiet"], { cwd: root });
    expect(piped.stdout).toMatch(/^ {2}STATUS +CHECK/m);
  }, 30_000);
});
