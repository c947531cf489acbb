// Harness pieces for the websocket probe's tests: run one check through the
// real config loader + runner, DNS lookups that fail the way resolvers do,
// and a raw TCP server that answers an upgrade with whatever bytes a test wants.
import net from "node:net";
import { once } from "node:events";
import { buildConfig } from "../../src/config/load.js";
import type { RunOptions } from "../../src/runner/run-checks.js";
import { runToReport } from "./run.js";
import { Redactor } from "../../src/redact.js";
import type { CheckResult, RunReport } from "../../src/report/schema.js";
import type { LookupFn } from "../../src/probes/api.js";

export interface WsRun {
  result: CheckResult;
  report: RunReport;
  secrets: string[];
}

/** Load `{ checks: { chat: check } }` as a config would be, and run it. */
export async function runWsCheck(check: Record<string, unknown>, options: RunOptions & { env?: NodeJS.ProcessEnv; deadline?: string } = {}): Promise<WsRun> {
  const loaded = await buildConfig(
    { deadline: options.deadline ?? "20s", checks: { chat: { kind: "websocket", ...check } } },
    { dir: process.cwd(), defaultEnv: "test", env: options.env ?? {} },
  );
  const report = await runToReport(
    { env: loaded.env, deadlineMs: loaded.deadlineMs, checks: loaded.checks, probes: loaded.probes },
    { redactor: new Redactor(loaded.secrets), ...options },
  );
  return { result: report.checks[0], report, secrets: loaded.secrets };
}

/** A resolver that fails with `code` (EAI_AGAIN: "Try again"; ENOTFOUND: no such host) for every name. */
export function failingLookup(code: "EAI_AGAIN" | "ENOTFOUND"): LookupFn {
  return async (hostname) => {
    throw Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, errno: code === "EAI_AGAIN" ? -3001 : -3008, syscall: "getaddrinfo", hostname });
  };
}

/** A resolver that maps every name to 127.0.0.1 (a test's stand-in for a real DNS record). */
export const loopbackLookup: LookupFn = async () => [{ address: "127.0.0.1", family: 4 }];

/**
 * A TCP server that reads an HTTP upgrade request and answers with `respond(request)` as raw bytes,
 * for handshakes no real server would send (bad Sec-WebSocket-Accept, a 101 from a confused proxy).
 */
export async function rawUpgradeServer(respond: (request: string) => string | Buffer): Promise<{ port: number; url: (path?: string) => string; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    let request = "";
    socket.on("data", (chunk) => {
      request += chunk.toString("latin1");
      if (request.includes("\r\n\r\n")) socket.write(respond(request));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: (path = "/ws") => `ws://127.0.0.1:${port}${path}`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close").catch(() => undefined);
    },
  };
}
