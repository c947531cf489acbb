// Start-up: `infra-check --help` against bare `node -e 0` (the price of our
// start-up), with the figures that explain it: the floor (a node script that
// only prints the same text), the commander path every real command takes
// (`run --help`), and what V8's compile cache saves on that path (first run
// with an empty cache, and the cache switched off, against a warm cache).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BIN, ROOT, hasCommand, ratioRow, timeCommands } from "./lib.js";

export const title = "start-up: infra-check --help vs node -e 0; the commander path; compile cache";

export default async function ({ runs, log }) {
  const node = process.execPath;
  const dir = mkdtempSync(path.join(tmpdir(), "infra-check-bench-startup-"));
  try {
    // The floor for printing help: node starting an ES module that writes the same text.
    let helpText = "";
    try {
      helpText = JSON.parse(readFileSync(path.join(ROOT, "dist/help-cache.json"), "utf8")).entries['["--help"]'].stdout;
    } catch {
      log("dist/help-cache.json missing (built with plain tsc?): --help takes the commander path; run `npm run build`");
    }
    writeFileSync(path.join(dir, "help.txt"), helpText);
    writeFileSync(path.join(dir, "print-help.mjs"), `import { readFileSync } from "node:fs";\nprocess.stdout.write(readFileSync(${JSON.stringify(path.join(dir, "help.txt"))}, "utf8"));\n`);

    const many = Math.max(runs * 6, 30);
    const [bare, help, version, floor, commander] = await timeCommands(
      [`${node} -e 0`, `${node} ${BIN} --help`, `${node} ${BIN} --version`, `${node} ${path.join(dir, "print-help.mjs")}`, `${node} ${BIN} run --help`],
      { runs: many, warmup: 5 },
    );
    const baseline = { label: "node -e 0", value: bare.median };
    const rows = [
      ratioRow("infra-check --help", help.times, baseline, { max: 1.3 }),
      ratioRow("infra-check --version", version.times, baseline),
      ratioRow("floor: node script printing the help text", floor.times, baseline),
      ratioRow("infra-check run --help (commander path)", commander.times, baseline),
    ];

    // The compile cache on the commander path. `env` sets the cache dir per command, so all three pay the same exec.
    const env = hasCommand("env") ? "/usr/bin/env" : undefined;
    if (env) {
      const cold = path.join(dir, "cache-cold");
      const warm = path.join(dir, "cache-warm");
      const [first, warmRun, off] = await timeCommands(
        [
          { command: `${env} NODE_COMPILE_CACHE=${cold} ${node} ${BIN} run --help`, prepare: `rm -rf ${cold}` },
          { command: `${env} NODE_COMPILE_CACHE=${warm} ${node} ${BIN} run --help` },
          { command: `${env} NODE_DISABLE_COMPILE_CACHE=1 ${node} ${BIN} run --help` },
        ],
        { runs: Math.max(runs * 4, 20), warmup: 3 },
      );
      const warmBaseline = { label: "warm compile cache", value: warmRun.median };
      rows.push(ratioRow("run --help, first run (empty compile cache)", first.times, warmBaseline));
      rows.push(ratioRow("run --help, compile cache off", off.times, warmBaseline));
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
