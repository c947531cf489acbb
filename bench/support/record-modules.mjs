// `node --import ./bench/support/record-modules.mjs …`: records every module
// the process resolves (file: URLs of ES modules and CommonJS files alike, and
// node: built-ins) and writes them, one per line, to $BENCH_MODULES_FILE when
// the process exits. Used by bench/modules.bench.js.
import module from "node:module";
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_MODULES_FILE;
const seen = new Set();
module.registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    seen.add(result.url);
    return result;
  },
});
process.on("exit", () => {
  if (file) writeFileSync(file, [...seen].join("\n") + "\n");
});
