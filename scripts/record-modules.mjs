// `node --import ./scripts/record-modules.mjs …`: records every module the
// process resolves (file: URLs of ES modules and CommonJS files alike, and
// node: built-ins) and writes them, one per line, to $RECORD_MODULES_FILE when
// the process exits. Used by bench/modules.bench.js and
// test/gcp/lazy-load.test.ts (no Google module for a run without Google checks).
import module from "node:module";
import { writeFileSync } from "node:fs";

const file = process.env.RECORD_MODULES_FILE;
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
