// Start-up fast path for the outputs that never change between builds:
// `--help`, `-h`, `help`, `--version`, `-V`. Importing commander
// and building the command tree costs ~25 ms on top of node's own ~27 ms
// start, to print the same text every time. `npm run build` has commander
// render those outputs once (scripts/build-help-cache.js writes
// dist/help-cache.json) and records every file that took part in rendering
// them; the launcher prints the stored text only while each of those files is
// unchanged, and otherwise lets commander render it (a plain `tsc` rebuild,
// an edited command, another commander version: the cache is simply not used).
// This module imports only built-ins node has already loaded, so loading it costs next to nothing.
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Help is wrapped at 80 columns, or at the terminal's width when it is narrower. */
export const HELP_WIDTH = 80;

export const HELP_CACHE_URL = new URL("./help-cache.json", import.meta.url);

/**
 * The argument lists answered from the cache (exactly these, nothing else on
 * the line). Only outputs that depend on the code alone: the stamps see every
 * file behind the text, not the environment or the working directory (so not
 * the bare `infra-check`, whose meaning a future default could tie to either).
 */
export const CACHED_ARGS: readonly (readonly string[])[] = [["--help"], ["-h"], ["help"], ["--version"], ["-V"]];

/**
 * A file that took part in rendering the cached text. Size and mtime decide
 * when they match. When only the mtime differs (an unchanged rebuild; npm
 * normalises mtimes in packed tarballs), our own files are compared by a
 * fingerprint of their content (a JS loop: zlib or crypto would cost 3–8 ms
 * to load; storing the bundle's ~130 KB of text instead made every fast
 * start parse it), and a dependency's files by its installed version.
 */
export interface FileStamp {
  /** Path relative to the package root, or (with `pkg`) to that dependency's root. */
  path: string;
  /** A dependency, found where node would find it (its folder differs between a checkout and an install). */
  pkg?: string;
  size: number;
  mtimeMs: number;
  /** Our own files: a fingerprint of the content (fingerprint()). */
  hash?: string;
  /** …or the content itself. */
  text?: string;
}

export interface CachedOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface HelpCache {
  format: 2;
  width: number;
  files: FileStamp[];
  /** Version of each dependency in `files`, from its package.json. */
  packages: Record<string, string>;
  /** Keyed by JSON.stringify(args). */
  entries: Record<string, CachedOutput>;
}

/** Width commander wraps help at; cli.ts configures commander with it, the fast path checks it. */
export function helpWidth(stream: { isTTY?: boolean; columns?: number }): number {
  return stream.isTTY && stream.columns ? Math.min(stream.columns, HELP_WIDTH) : HELP_WIDTH;
}

export const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url));

const packageDirs = new Map<string, string | undefined>();

/**
 * Folder of an installed dependency as node finds it from here: the nearest
 * node_modules/<pkg> walking up from the package root (a checkout has it inside,
 * an npm install usually beside). import.meta.resolve would cost ~1.5 ms.
 */
export function packageDir(pkg: string, from: string = PACKAGE_ROOT): string | undefined {
  const key = `${from}\0${pkg}`;
  if (packageDirs.has(key)) return packageDirs.get(key);
  let found: string | undefined;
  for (let dir = path.resolve(from), parent = path.dirname(dir); ; dir = parent, parent = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", pkg);
    if (statSync(path.join(candidate, "package.json"), { throwIfNoEntry: false })) {
      found = candidate;
      break;
    }
    if (parent === dir) break;
  }
  packageDirs.set(key, found);
  return found;
}

/** Where a recorded file is now, or undefined when its package is not installed. */
export function locate(stamp: Pick<FileStamp, "path" | "pkg">): string | undefined {
  if (!stamp.pkg) return path.join(PACKAGE_ROOT, stamp.path);
  const dir = packageDir(stamp.pkg);
  return dir === undefined ? undefined : path.join(dir, stamp.path);
}

/** The `version` in a dependency's package.json, or undefined. */
export function packageVersion(pkg: string): string | undefined {
  const dir = packageDir(pkg);
  if (dir === undefined) return undefined;
  try {
    return (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export function stampUnchanged(stamp: FileStamp, packages: Record<string, string> = {}): boolean {
  const file = locate(stamp);
  if (!file) return false;
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat || stat.size !== stamp.size) return false;
  if (stat.mtimeMs === stamp.mtimeMs) return true;
  if (stamp.pkg) return packages[stamp.pkg] !== undefined && packageVersion(stamp.pkg) === packages[stamp.pkg];
  if (stamp.hash !== undefined) return fingerprint(readFileSync(file, "utf8")) === stamp.hash;
  return stamp.text !== undefined && readFileSync(file, "utf8") === stamp.text;
}

/** FNV-1a (32 bits) over the UTF-16 code units, with the length: enough to tell an edited build from the same one. */
export function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `${text.length}:${(hash >>> 0).toString(16)}`;
}

/**
 * The stored output for these arguments, when the cache has it and every file
 * that rendered it is unchanged; otherwise undefined (commander renders it).
 */
export function cachedOutput(args: readonly string[], stdout: { isTTY?: boolean; columns?: number } = process.stdout): CachedOutput | undefined {
  if (!CACHED_ARGS.some((cached) => cached.length === args.length && cached.every((arg, i) => arg === args[i]))) return undefined;
  if (helpWidth(stdout) !== HELP_WIDTH) return undefined; // a terminal narrower than the cached rendering
  let cache: HelpCache;
  try {
    cache = JSON.parse(readFileSync(HELP_CACHE_URL, "utf8")) as HelpCache;
  } catch {
    return undefined; // no cache (built with plain tsc) or an unreadable one: commander is the source of truth
  }
  if (cache.format !== 2 || cache.width !== HELP_WIDTH) return undefined;
  const entry = cache.entries[JSON.stringify(args)];
  if (!entry || !cache.files.every((stamp) => stampUnchanged(stamp, cache.packages))) return undefined;
  return entry;
}
