// Start-up: `infra-check --help` against bare `node -e 0` (the price of our
// start-up), with the figures that explain it: the floor (a node script that
// only prints the same text), the commander path every real command takes
// (`run --help`), and what V8's compile cache saves on a real command
// (`validate` of a 9-check config: first run with an empty cache, and the
// cache switched off, against a warm cache).
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
      helpText = JSON.parse(readFileSync(path.join(ROOT, "dist-bundle/help-cache.json"), "utf8")).entries['["--help"]'].stdout;
    } catch {
      log("dist-bundle/help-cache.json missing (built with plain tsc?): --help takes the commander path; run `npm run build`");
    }
    writeFileSync(path.join(dir, "help.txt"), helpText);
    writeFileSync(path.join(dir, "print-help.mjs"), `import { readFileSync } from "node:fs";\nprocess.stdout.write(readFileSync(${JSON.stringify(path.join(dir, "help.txt"))}, "utf8"));\n`);

    // Whether the launcher can answer --help from the build's help cache; others rebuilding dist/ with plain
    // tsc during the benchmark switch it off (or onto the checksum path) for a while.
    const fastPath = async () => Boolean((await import(`../dist-bundle/help-cache.js?${Date.now()}`)).cachedOutput(["--help"], { isTTY: false }));
    const fastBefore = await fastPath();
    const many = Math.max(runs * 6, 30);
    const [bare, help, version, floor, commander] = await timeCommands(
      [`${node} -e 0`, `${node} ${BIN} --help`, `${node} ${BIN} --version`, `${node} ${path.join(dir, "print-help.mjs")}`, `${node} ${BIN} run --help`],
      { runs: many, warmup: 5, perRound: 1 },
    );
    const fastAfter = await fastPath();
    if (!fastBefore || !fastAfter) log(`help cache ${fastBefore ? "" : "stale before"}${!fastBefore && !fastAfter ? " and " : ""}${fastAfter ? "" : "stale after"} the timing (dist/ rebuilt without \`npm run build\`?): --help took the commander path`);
    const baseline = { label: "node -e 0", value: bare.median };
    const rows = [
      ratioRow(`infra-check --help${fastBefore && fastAfter ? "" : " (help cache stale during the run)"}`, help.times, baseline, { max: 1.3 }),
      ratioRow("infra-check --version", version.times, baseline),
      ratioRow("floor: node script printing the help text", floor.times, baseline),
      ratioRow("infra-check run --help (commander path)", commander.times, baseline),
    ];

    // The compile cache on a real command: `validate` of a 9-check config (commander, yaml, zod, four
    // probe modules; nothing is probed). `env` sets the cache dir per command, so all three pay the same exec.
    const env = hasCommand("env") ? "/usr/bin/env" : undefined;
    if (env) {
      const config = path.join(dir, "nine-checks.yaml");
      const redis = (db) => ({ kind: "redis", url: `redis://127.0.0.1:6379/${db}` });
      const postgres = { kind: "postgres", url: "postgres://app@127.0.0.1:5432/app" };
      const websocket = { kind: "websocket", url: "ws://127.0.0.1:8080/ws", subprotocols: ["agent_chat"] };
      const checks = { c1: redis(0), c2: redis(1), c3: redis(2), d1: postgres, d2: postgres, d3: postgres, w1: websocket, w2: websocket, h: { kind: "http", url: "http://127.0.0.1:8080/health" } };
      writeFileSync(config, JSON.stringify({ env: "bench", checks }));
      const validate = `${node} ${BIN} validate --config ${config}`;
      const cold = path.join(dir, "cache-cold");
      const warm = path.join(dir, "cache-warm");
      const [first, warmRun, off] = await timeCommands(
        [
          { command: `${env} NODE_COMPILE_CACHE=${cold} ${validate}`, prepare: `rm -rf ${cold}` },
          { command: `${env} NODE_COMPILE_CACHE=${warm} ${validate}` },
          { command: `${env} NODE_DISABLE_COMPILE_CACHE=1 ${validate}` },
        ],
        { runs: Math.max(runs * 4, 20), warmup: 3, perRound: 1 },
      );
      const warmBaseline = { label: "warm compile cache", value: warmRun.median };
      rows.push(ratioRow("validate, 9 checks: first run (empty compile cache)", first.times, warmBaseline));
      rows.push(ratioRow("validate, 9 checks: compile cache off", off.times, warmBaseline));
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
