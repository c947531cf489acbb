// The installed package's root folder (where package.json, config/ and
// schema/ live), found from this module's own location. Walking up instead
// of a fixed "../" keeps it right from dist/ (tsc output, one file per
// module) and from the start-up bundle (dist-bundle/, chunks at one level).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start, "..");
  }
}

export const PACKAGE_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));
