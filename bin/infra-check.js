#!/usr/bin/env node
// Thin launcher: the CLI runs from the bundle (dist-bundle/, the one build the
// package ships; rolldown.config.mjs). The compile cache makes the second and
// later starts skip V8's parse/compile of it.
import module from "node:module";
// A static import: the first dynamic import() costs ~4 ms of loader set-up.
import { cachedOutput } from "../dist-bundle/help-cache.js";
// Hanging DNS lookups occupy libuv threadpool slots; a bigger pool keeps one
// slow resolver from stalling every other check's lookup.
process.env.UV_THREADPOOL_SIZE ??= "16";
module.enableCompileCache?.();
// `--help`, `--version` and friends: the text commander rendered at build time,
// while every file behind it is unchanged (src/help-cache.ts); ~25 ms faster.
const cached = cachedOutput(process.argv.slice(2));
if (cached) {
  // `infra-check --help | head` closes our stdout early: the reader's choice, not a crash.
  process.stdout.on("error", (error) => process.exit(error.code === "EPIPE" ? cached.exitCode : 3));
  if (cached.stderr) process.stderr.write(cached.stderr);
  process.stdout.write(cached.stdout);
  process.exitCode = cached.exitCode;
} else {
  const { main, installProcessHandlers, processIO } = await import("../dist-bundle/cli.js");
  const io = processIO();
  installProcessHandlers(io);
  // performance.now() counts from the process start: --deadline bounds the whole process.
  process.exitCode = await main(process.argv, io, { runOptions: { clockStartMs: 0 } });
  // The report and every output are written: what the run left behind — a lookup
  // stuck in the thread pool, a gRPC channel still connecting — must not hold the
  // process past its deadline. Flush the standard streams, then end.
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write("", resolve))));
  exitNow(process.exitCode);
}

/**
 * process.exit() joins libuv's thread pool on the way out, so a getaddrinfo
 * that never returns (a resolver that does not answer) holds the exit for as
 * long as the resolver's own timeouts. Only a new process image skips that:
 * with a lookup still in flight, become `sh -c 'exit N'` (same PID, same exit
 * code; the compile cache is flushed first, as a normal exit would).
 */
function exitNow(code) {
  const stuckLookup = process.getActiveResourcesInfo().some((name) => name === "GetAddrInfoReqWrap" || name === "GetNameInfoReqWrap");
  if (stuckLookup && typeof process.execve === "function") {
    try {
      module.flushCompileCache?.();
      process.execve("/bin/sh", ["sh", "-c", `exit ${Number(code) || 0}`]);
    } catch {
      // no /bin/sh (a distroless image): the ordinary exit below
    }
  }
  process.exit(code);
}
