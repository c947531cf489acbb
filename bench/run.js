#!/usr/bin/env node
// Runs every bench/*.bench.js (or the ones named on the command line), prints
// one table of figures with their ratio and target, and writes
// bench/results.json. Benchmarks measure; they never assert.
//   npm run bench                 all benchmarks
//   npm run bench -- startup http  only those whose file name contains a word
import { readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const runs = Number(process.env.BENCH_RUNS ?? 5);
const files = readdirSync(dir)
  .filter((file) => file.endsWith(".bench.js"))
  .filter((file) => filters.length === 0 || filters.some((word) => file.includes(word)))
  .sort();

const machine = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.type()} ${os.release()} ${os.arch()}`,
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown"}`,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
};
const results = [];
for (const file of files) {
  const module = await import(pathToFileURL(path.join(dir, file)).href);
  process.stderr.write(`bench: ${file} — ${module.title ?? ""}\n`);
  const started = performance.now();
  try {
    const rows = await module.default({ runs, log: (line) => process.stderr.write(`  ${line}\n`) });
    for (const row of rows) results.push({ bench: file.replace(/\.bench\.js$/, ""), ...row });
  } catch (error) {
    results.push({ bench: file.replace(/\.bench\.js$/, ""), figure: "(benchmark failed)", error: String(error?.stack ?? error) });
    process.stderr.write(`  failed: ${error?.stack ?? error}\n`);
  }
  process.stderr.write(`  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}

const fmt = (value, unit) => (value === undefined || value === null ? "—" : `${Number(value).toLocaleString("en-US", { maximumFractionDigits: value < 10 ? 3 : 1 })}${unit ? " " + unit : ""}`);
const table = [["benchmark", "figure", "value", "min–max", "compared with", "ratio", "target", "ok"]];
for (const row of results) {
  table.push([
    row.bench,
    row.figure,
    row.error ? "error" : fmt(row.value, row.unit),
    row.min === undefined || row.max === undefined ? "—" : `${fmt(row.min)}–${fmt(row.max)}`,
    row.baseline ? `${row.baseline.label}: ${fmt(row.baseline.value, row.baseline.unit ?? row.unit)}` : "—",
    row.ratio === undefined || row.ratio === null ? "—" : `${row.ratio.toFixed(2)}×`,
    row.target ?? "—",
    row.ok === undefined ? "—" : row.ok ? "yes" : "NO",
  ]);
}
const widths = table[0].map((_, column) => Math.max(...table.map((line) => String(line[column]).length)));
const lines = table.map((line) => line.map((cell, column) => String(cell).padEnd(widths[column])).join("  ").trimEnd());
lines.splice(1, 0, widths.map((width) => "-".repeat(width)).join("  "));
process.stdout.write(`infra-check benchmarks — ${machine.date} — node ${machine.node}, ${machine.cpus}, ${machine.memoryGiB} GiB, medians of ${runs} runs\n\n${lines.join("\n")}\n`);
if (filters.length === 0) writeFileSync(path.join(dir, "results.json"), JSON.stringify({ machine, runs, results }, null, 2) + "\n");
