// The import direction of src/, as data: each file's layer, and the rule that
// a file imports only from its own layer or below, with no cycle anywhere.
// util/net/redact ← diagnose ← probe API ← evaluate ← gcp ← probes ← config ←
// runner ← report ← reporters ← baseline/demo ← commands ← cli.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Lowest first. The public report schema is vocabulary every stage speaks (types only); its builder is a stage. */
export const LAYERS: { name: string; paths: string[] }[] = [
  { name: "util", paths: ["src/util/", "src/net/", "src/redact.ts", "src/version.ts", "src/package-root.ts", "src/help-cache.ts"] },
  { name: "diagnose", paths: ["src/diagnose/", "src/report/schema.ts"] },
  { name: "probe API", paths: ["src/probes/api.ts"] },
  { name: "evaluate", paths: ["src/evaluate/"] },
  { name: "gcp", paths: ["src/gcp/"] },
  { name: "probes", paths: ["src/probes/"] },
  { name: "config", paths: ["src/config/"] },
  { name: "runner", paths: ["src/runner/"] },
  { name: "report", paths: ["src/report/", "src/exit-codes.ts"] },
  { name: "reporters", paths: ["src/reporters/"] },
  { name: "baseline, demo", paths: ["src/baseline/", "src/demo/"] },
  { name: "commands", paths: ["src/commands/"] },
  { name: "cli", paths: ["src/cli.ts"] },
];

/** The layer of a file: the most specific path that contains it. */
export function layerOf(file: string): number {
  let best = -1;
  let bestLength = -1;
  LAYERS.forEach((layer, index) => {
    for (const prefix of layer.paths) {
      const matches = prefix.endsWith("/") ? file.startsWith(prefix) : file === prefix;
      if (matches && prefix.length > bestLength) {
        best = index;
        bestLength = prefix.length;
      }
    }
  });
  return best;
}

export type ImportGraph = Record<string, string[]>;

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)/g;

/** Every relative import (static, type-only and dynamic) of every file under src/. */
export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith(".ts")) {
        const text = readFileSync(path.join(root, relative), "utf8");
        graph[relative] = [...text.matchAll(IMPORT)].map((match) => path.posix.normalize(path.posix.join(dir, (match[1] ?? match[2]).replace(/\.js$/, ".ts"))));
      }
    }
  };
  walk("src");
  return graph;
}

/** Imports that go up the layers, as "from → to (layer → layer)". */
export function upwardImports(graph: ImportGraph): string[] {
  const found: string[] = [];
  for (const [file, targets] of Object.entries(graph)) {
    const from = layerOf(file);
    for (const target of targets) {
      const to = layerOf(target);
      if (from < 0 || to < 0) found.push(`${file} → ${target} (a file outside every layer)`);
      else if (to > from) found.push(`${file} → ${target} (${LAYERS[from].name} → ${LAYERS[to].name})`);
    }
  }
  return found;
}

/** Each import cycle once, as "a → b → a". */
export function cycles(graph: ImportGraph): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const target of graph[file] ?? []) {
      if (state.get(target) === "open") found.push([...stack.slice(stack.indexOf(target)), target].join(" → "));
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of Object.keys(graph).sort()) if (!state.has(file)) visit(file);
  return found;
}
