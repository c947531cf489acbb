#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/. The compile cache makes the
// second and later starts skip V8's parse/compile of our modules.
import module from "node:module";
// Hanging DNS lookups occupy libuv threadpool slots; a bigger pool keeps one
// slow resolver from stalling every other check's lookup.
process.env.UV_THREADPOOL_SIZE ??= "16";
module.enableCompileCache?.();
const { main, installProcessHandlers } = await import("../dist/cli.js");
installProcessHandlers();
process.exitCode = await main(process.argv);
