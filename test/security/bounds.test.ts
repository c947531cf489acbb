// Bounded input: what a peer or a file sends is believed only up to a size,
// and what cannot be data is a usage error or a protocol failure — never
// `internal`, never memory without end. Redis replies that are huge or nested
// thousands deep; configs that are endless (a zero device), too large, not
// UTF-8, with duplicate or reserved keys, or 40k keys (once a minute of
// quadratic key checks); header values Node would refuse only when sending.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import net from "node:net";
import { once } from "node:events";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BIN, runCli } from "../helpers/cli.js";

const isRoot = process.getuid?.() === 0;

/** A TCP server that answers the first bytes it gets with `reply` (a function may stream more). */
async function replyServer(reply: (socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    socket.once("data", () => reply(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

describe("Redis replies", () => {
  it("a reply nested 200,000 arrays deep is a protocol failure, not an internal error", async () => {
    const server = await replyServer((socket) => socket.write("*1\r\n".repeat(200_000) + ":1\r\n"));
    try {
      const result = await runCli(["redis", `127.0.0.1:${server.port}`, "-f", "json"]);
      const check = JSON.parse(result.stdout).checks[0];
      expect(check.failure.class).toBe("protocol");
      expect(check.failure.diagnosis).toBe("redis.REPLY_TOO_DEEP");
    } finally {
      await server.stop();
    }
  });

  it("a reply that never ends is cut at 1 MiB (the parser would buffer all of it)", async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const server = await replyServer((socket) => {
      socket.write("$600000000\r\n");
      const pump = () => {
        while (!socket.destroyed && socket.write(chunk));
      };
      socket.on("drain", pump);
      pump();
    });
    try {
      const result = await runCli(["redis", `127.0.0.1:${server.port}`, "-f", "json"]);
      const check = JSON.parse(result.stdout).checks[0];
      expect(check.failure.class).toBe("protocol");
      expect(check.failure.diagnosis).toBe("redis.REPLY_TOO_LARGE");
      expect(check.failure.message).toContain("sent more than 1 MiB");
    } finally {
      await server.stop();
    }
  });
});

describe("config files", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "infra-check-bounds-"));
    mkdirSync(path.join(root, "config"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (name: string, content: string | Buffer) => writeFileSync(path.join(root, "config", `${name}.yaml`), content);

  it.runIf(isRoot)("an endless file (a zero device) is refused after 1 MiB", async () => {
    const device = path.join(root, "zero");
    execFileSync("mknod", [device, "c", "1", "5"]);
    const result = await runCli(["validate", "-c", device], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("the file is larger than 1 MiB");
  });

  it("a file over 1 MiB is refused with the limit", async () => {
    write("huge", "checks: {}\n# " + "x".repeat(1024 * 1024) + "\n");
    const result = await runCli(["validate", "huge"], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/config\/huge\.yaml: the file is larger than 1 MiB/);
  });

  it("a byte that is not UTF-8 is named with its offset, line and column", async () => {
    write("latin1", Buffer.concat([Buffer.from('checks:\n  a: { kind: tcp, target: "caf'), Buffer.from([0xe9]), Buffer.from(':1" }\n')]));
    const result = await runCli(["validate", "latin1"], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("config/latin1.yaml: line 2, column 31: the file is not UTF-8: invalid byte at offset 38");
  });

  it("a duplicate key, and __proto__ as a check name, are errors at their line", async () => {
    write("dup", "checks:\n  a: { kind: tcp, target: 127.0.0.1:1 }\n  a: { kind: tcp, target: 127.0.0.1:2 }\n");
    const duplicate = await runCli(["validate", "dup"], { cwd: root });
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toContain('checks.a: invalid YAML: "a" appears twice in this mapping');
    expect(duplicate.stderr).toContain("--> config/dup.yaml:3:3");

    write("proto", "checks:\n  __proto__: { kind: tcp, target: 127.0.0.1:1 }\n");
    const proto = await runCli(["validate", "proto"], { cwd: root });
    expect(proto.code).toBe(2);
    expect(proto.stderr).toContain('"__proto__" cannot be a key');
  });

  it("40,000 keys load in linear time (the problem is reported, the process does not spin for a minute)", async () => {
    const keys = Array.from({ length: 40_000 }, (_, index) => `  k${index}: v${index}`).join("\n");
    write("keys", `checks:\n  a: { kind: tcp, target: 127.0.0.1:1 }\nnotes:\n${keys}\n`);
    const result = await runCli(["validate", "keys"], { cwd: root, timeoutMs: 30_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown key "notes"');
  });

  it.each([
    ["a line break", '"a\\r\\nInjected: 1"', "has a line break"],
    ["a character outside Latin-1", '"ok ✓"', "has characters outside Latin-1"],
  ])("a header value with %s is refused by validate, naming the header", async (_name, value, message) => {
    write("header", `checks:\n  api:\n    kind: http\n    url: http://127.0.0.1:1/\n    headers: { X-Note: ${value} }\n`);
    const result = await runCli(["validate", "header"], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`checks.api.headers.X-Note: the header value ${message}`);
  });

  it.runIf(isRoot)("compare reads a saved report only up to its limit", async () => {
    const device = path.join(root, "zero-report");
    execFileSync("mknod", [device, "c", "1", "5"]);
    const result = await runCli(["compare", device, device], { cwd: root, timeoutMs: 30_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("not a report written by infra-check: larger than 32 MiB");
  });
});

describe("HTTP that breaks after it began as HTTP", () => {
  it.each([["http"], ["ws"]])("%s: response headers over 16 KiB are said to be that, not 'not an HTTP server'", async (command) => {
    const server = await replyServer((socket) => socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\nok`));
    try {
      const result = await runCli([command, `${command}://127.0.0.1:${server.port}/`, "-f", "json"]);
      const check = JSON.parse(result.stdout).checks[0];
      expect(check.failure.diagnosis).toBe("peer.HEADERS_TOO_LARGE");
      expect(check.failure.message).toContain("answered HTTP, but its response headers are larger than 16 KiB");
    } finally {
      await server.stop();
    }
  });
});

describe.runIf(isRoot)("a full disk on stdout", () => {
  it("is exit 2 with what happened, not an internal error with a stack trace", () => {
    const root = mkdtempSync(path.join(tmpdir(), "infra-check-full-"));
    const device = path.join(root, "full");
    execFileSync("mknod", [device, "c", "1", "7"]);
    const fd = openSync(device, "w");
    try {
      const result = spawnSync(process.execPath, [BIN, "http", "http://127.0.0.1:1/"], { stdio: ["ignore", fd, "pipe"], encoding: "utf8", env: { PATH: process.env.PATH, NO_COLOR: "1" } });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain("could not write the report to stdout: no space left on device (ENOSPC)");
      expect(result.stderr).not.toContain("internal error");
    } finally {
      closeSync(fd);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
