// The start-up fast path (src/help-cache.ts): the launcher may print --help and
// --version without loading commander, so it must print exactly what commander
// prints, and never a stale text.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CACHED_ARGS, HELP_WIDTH, helpWidth, packageDir, packageVersion, stampUnchanged, type FileStamp } from "../../src/help-cache.js";
import { runCli } from "../helpers/cli.js";
import { runMain } from "../helpers/main-io.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
let dir: string;

beforeAll(() => {
  // What `npm run build` does after tsc and the bundle (the spawned bin runs dist-bundle/).
  execFileSync(process.execPath, [path.join(ROOT, "scripts/build-help-cache.js")], { stdio: "pipe" });
  dir = mkdtempSync(path.join(tmpdir(), "infra-check-help-cache-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("help cache", () => {
  it("the build renders every cached argument list, with the files behind it", () => {
    const cache = JSON.parse(readFileSync(path.join(ROOT, "dist-bundle/help-cache.json"), "utf8"));
    expect(cache.width).toBe(HELP_WIDTH);
    expect(Object.keys(cache.entries).sort()).toEqual(CACHED_ARGS.map((args) => JSON.stringify(args)).sort());
    const files = cache.files.map((stamp: FileStamp) => (stamp.pkg ? `${stamp.pkg}:${stamp.path}` : stamp.path));
    // The shipped bundle rendered it (commander is inlined there, so its stamp is the bundle's).
    expect(files).toEqual(expect.arrayContaining(["dist-bundle/cli.js", "package.json"]));
  });

  it.each(CACHED_ARGS.map((args) => [args.join(" "), args] as const))("`infra-check %s` (spawned, fast path) prints what commander prints", async (_name, args) => {
    const built = (await import(path.join(ROOT, "dist-bundle/help-cache.js"))) as typeof import("../../src/help-cache.js");
    expect(built.cachedOutput(args, { isTTY: false })).toBeDefined(); // the spawned launcher takes the fast path
    const fast = await runCli([...args]);
    const commander = await runMain([...args], { cwd: ROOT });
    expect(fast.stdout).toBe(commander.stdout);
    expect(fast.stderr).toBe(commander.stderr);
    expect(fast.code).toBe(commander.code);
  });

  it.each([
    ["a pipe or file", { isTTY: false }, 80],
    ["a wide terminal", { isTTY: true, columns: 200 }, 80],
    ["an 80-column terminal", { isTTY: true, columns: 80 }, 80],
    ["a narrow terminal", { isTTY: true, columns: 60 }, 60],
  ])("help width on %s", (_name, stream, width) => {
    expect(helpWidth(stream)).toBe(width);
  });

  it("our files: a stamp matches only the same bytes (mtime alone does not decide)", () => {
    const file = path.join(dir, "module.js");
    writeFileSync(file, "export const a = 1;\n");
    const stat = statSync(file);
    // Paths are relative to the package root (this one climbs out of it to the temp dir).
    const stamp: FileStamp = { path: path.relative(ROOT, file), size: stat.size, mtimeMs: stat.mtimeMs, text: readFileSync(file, "utf8") };
    expect(stampUnchanged(stamp)).toBe(true);
    utimesSync(file, new Date(1e12), new Date(1e12)); // as npm pack or a rebuild leaves it: same bytes, another mtime
    expect(stampUnchanged(stamp)).toBe(true);
    writeFileSync(file, "export const a = 2;\n"); // same size, other bytes
    expect(stampUnchanged(stamp)).toBe(false);
    writeFileSync(file, "export const a = 10;\n");
    expect(stampUnchanged({ ...stamp, mtimeMs: statSync(file).mtimeMs })).toBe(false); // other size
    rmSync(file);
    expect(stampUnchanged(stamp)).toBe(false);
  });

  it("dependencies: size and mtime, or size and the installed version", () => {
    const file = path.join(ROOT, "node_modules/commander/lib/help.js");
    const stat = statSync(file);
    const version = packageVersion("commander");
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const stamp: FileStamp = { pkg: "commander", path: "lib/help.js", size: stat.size, mtimeMs: stat.mtimeMs };
    expect(stampUnchanged(stamp, {})).toBe(true);
    const moved = { ...stamp, mtimeMs: stat.mtimeMs - 1000 };
    expect(stampUnchanged(moved, { commander: version! })).toBe(true);
    expect(stampUnchanged(moved, { commander: "0.0.1" })).toBe(false);
    expect(stampUnchanged({ ...stamp, size: stat.size + 1 }, { commander: version! })).toBe(false);
  });

  it("finds dependencies the way node does: nearest node_modules walking up", () => {
    expect(packageDir("commander")).toBe(path.join(ROOT, "node_modules", "commander"));
    expect(packageDir("commander", path.join(ROOT, "dist", "commands"))).toBe(path.join(ROOT, "node_modules", "commander"));
    expect(packageDir("no-such-package-infra-check")).toBeUndefined();
  });
});
