// The local stack's own contract: everything it starts is stopped — after a
// normal run, when a piece fails to start halfway, and when the start is
// aborted — and its resolver never lets a `.invalid` name leave the machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { startLocalStack, stackLookup, StackUnavailableError } from "../../src/demo/index.js";

// The stack makes its temp dirs under os.tmpdir(), i.e. $TMPDIR: a private one shows what it leaves behind.
const originalTmp = process.env.TMPDIR;
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), "infra-check-stack-test-"));
  // The PostgreSQL cluster belongs to the unprivileged `postgres` user when we run as root: it must traverse this dir.
  chmodSync(scratch, 0o755);
  process.env.TMPDIR = scratch;
});
afterAll(() => {
  if (originalTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = originalTmp;
  rmSync(scratch, { recursive: true, force: true });
});

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

describe("startLocalStack", () => {
  it("starts every piece on loopback ports and stop() leaves nothing behind", async () => {
    const stack = await startLocalStack();
    const ports = ["DEMO_REDIS_PORT", "DEMO_PG_PORT", "DEMO_CHAT_PORT", "DEMO_HEALTH_PORT"].map((name) => Number(stack.env[name]));
    const [, emulatorPort] = stack.env.DEMO_GCP_EMULATOR_HOST.split(":");
    ports.push(Number(emulatorPort));
    for (const port of ports) expect(await refused(port)).toBe(false);
    expect(Object.keys(stack.startupMs).sort()).toEqual(["chat", "gcp", "health", "postgres", "redis"]);
    const envFile = await stack.writeEnvFile();
    expect(envFile.startsWith(scratch)).toBe(true);
    await stack.stop();
    await stack.stop(); // idempotent
    for (const port of ports) expect(await refused(port)).toBe(true);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it("a piece that fails to start stops the ones that did, and the error says why", async () => {
    const fake = path.join(scratch, "..", `fake-redis-${process.pid}`);
    writeFileSync(fake, "#!/bin/sh\necho 'fatal: this redis-server is broken on purpose' >&2\nexit 1\n", { mode: 0o755 });
    const previous = process.env.REDIS_SERVER;
    process.env.REDIS_SERVER = fake;
    try {
      await expect(startLocalStack()).rejects.toThrow(/redis-server exited before it was ready/);
      expect(readdirSync(scratch)).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.REDIS_SERVER;
      else process.env.REDIS_SERVER = previous;
      rmSync(fake, { force: true });
    }
  });

  it("an aborted start stops what has started and rejects", async () => {
    const controller = new AbortController();
    const starting = startLocalStack({ signal: controller.signal });
    controller.abort(new Error("Ctrl-C"));
    await expect(starting).rejects.toThrow("Ctrl-C");
    expect(readdirSync(scratch)).toEqual([]);
  });

  it("missing binaries are reported before anything starts", async () => {
    const previous = process.env.REDIS_SERVER;
    process.env.REDIS_SERVER = "/nonexistent/redis-server";
    try {
      const error = await startLocalStack().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StackUnavailableError);
      expect((error as Error).message).toMatch(/apt-get install -y redis-server.*scripts\/setup\.sh/);
      expect(readdirSync(scratch)).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.REDIS_SERVER;
      else process.env.REDIS_SERVER = previous;
    }
  });

  it("an unknown break is rejected before anything starts", async () => {
    await expect(startLocalStack({ breaks: ["nope"] })).rejects.toThrow(/unknown break "nope"; breaks: redis-auth/);
    expect(readdirSync(scratch)).toEqual([]);
  });
});

describe("stackLookup", () => {
  const never = () => Promise.reject(new Error("the system resolver must not be asked"));
  const signal = new AbortController().signal;

  it.each([
    ["redis.demo.invalid", "ENOTFOUND"],
    ["anything.else.invalid", "ENOTFOUND"],
    ["INVALID.", "ENOTFOUND"],
    ["redis.resolver-down.invalid", "EAI_AGAIN"],
  ])("%s fails with %s without asking the system resolver", async (name, code) => {
    const lookup = stackLookup(new Map([["redis.resolver-down.invalid", "EAI_AGAIN"]]), never);
    await expect(lookup(name, signal)).rejects.toMatchObject({ code, hostname: name, syscall: "getaddrinfo" });
  });

  it("other names go to the system resolver", async () => {
    const lookup = stackLookup(new Map(), async (hostname) => [{ address: hostname === "localhost" ? "127.0.0.1" : "0.0.0.0", family: 4 }]);
    await expect(lookup("localhost", signal)).resolves.toEqual([{ address: "127.0.0.1", family: 4 }]);
  });
});
