#!/usr/bin/env node
// Part of `npm run build` (after tsc and the bundle): has commander render the outputs the
// launcher may answer without loading it (`--help`, `--version`, … see
// CACHED_ARGS in src/help-cache.ts) and writes them, with a stamp of every
// file that took part in rendering them, to dist-bundle/help-cache.json. The launcher
// uses the text only while every stamp still matches, so commander stays the
// one source of truth: a stale cache is never shown, only ignored.
import module from "node:module";
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// The shipped build: the launcher runs dist-bundle/, so that is what rendered the text and what is stamped.
const dist = path.join(root, "dist-bundle");

if (typeof module.registerHooks !== "function") {
  // Without resolve hooks (node < 22.15) the files behind the text cannot be listed: ship no cache.
  process.stderr.write("build-help-cache: this node has no module.registerHooks; no help cache (start-up takes the commander path)\n");
  process.exit(0);
}
const loaded = new Set();
module.registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    if (result.url.startsWith("file:")) loaded.add(result.url);
    return result;
  },
});

const { main } = await import(pathToFileURL(path.join(dist, "cli.js")).href);
const { CACHED_ARGS, HELP_CACHE_URL, HELP_WIDTH, fingerprint, helpWidth, packageVersion } = await import(pathToFileURL(path.join(dist, "help-cache.js")).href);

// Render as a pipe would see it (80 columns), whatever terminal runs the build.
if (helpWidth(process.stdout) !== HELP_WIDTH) process.stdout.columns = HELP_WIDTH;

const entries = {};
for (const args of CACHED_ARGS) {
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: {},
    cwd: root,
  };
  const exitCode = await main([process.execPath, path.join(root, "bin/infra-check.js"), ...args], io);
  entries[JSON.stringify(args)] = { stdout, stderr, exitCode };
}

const packages = {};
function stamp(file) {
  const stat = statSync(file);
  const at = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (at === -1) return { path: path.relative(root, file).split(path.sep).join("/"), size: stat.size, mtimeMs: stat.mtimeMs, hash: fingerprint(readFileSync(file, "utf8")) };
  const [first, second, ...rest] = file.slice(at + "/node_modules/".length).split(path.sep);
  const pkg = first.startsWith("@") ? `${first}/${second}` : first;
  const inside = first.startsWith("@") ? rest : [second, ...rest];
  packages[pkg] ??= packageVersion(pkg);
  return { pkg, path: inside.join("/"), size: stat.size, mtimeMs: stat.mtimeMs };
}
// version.js reads package.json with fs, which no resolve hook sees.
const files = [...[...loaded].map((url) => fileURLToPath(url)), path.join(root, "package.json")].sort().map(stamp);

const target = fileURLToPath(HELP_CACHE_URL);
writeFileSync(`${target}.${process.pid}.tmp`, JSON.stringify({ format: 2, width: HELP_WIDTH, files, packages, entries }) + "\n");
renameSync(`${target}.${process.pid}.tmp`, target);
