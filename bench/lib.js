// Small shared helpers for benchmarks: medians, whole-process timing.
import { spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function stats(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

export function hasCommand(name) {
  return spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
}

/**
 * Median wall time (ms) of whole commands, with hyperfine when installed
 * (warm-up runs, shell-less), otherwise by spawning them in a loop.
 */
export function timeCommands(commands, { runs = 10, warmup = 3 } = {}) {
  if (hasCommand("hyperfine")) {
    const dir = mkdtempSync(path.join(tmpdir(), "infra-check-bench-"));
    const file = path.join(dir, "hyperfine.json");
    try {
      execFileSync("hyperfine", ["-N", "-w", String(warmup), "-r", String(runs), "--export-json", file, "--style", "none", ...commands], { stdio: "ignore" });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const parsed = JSON.parse(readFileSync(file, "utf8"));
    rmSync(dir, { recursive: true, force: true });
    return parsed.results.map((result) => ({ command: result.command, median: result.median * 1000, min: result.min * 1000, max: result.max * 1000 }));
  }
  return commands.map((command) => {
    const [file, ...args] = command.split(" ");
    for (let i = 0; i < warmup; i += 1) spawnSync(file, args);
    const times = [];
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      spawnSync(file, args);
      times.push(performance.now() - started);
    }
    return { command, ...stats(times) };
  });
}
