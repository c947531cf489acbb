// Real Redis servers in bad states, for the redis probe's diagnosis table:
// loading a dataset (-LOADING), blocked by a script (-BUSY), refusing writes
// after a failed snapshot (-MISCONF), plus a TCP proxy that adds latency.
// Every state is reached by waiting for the server's own log line, not a sleep.
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { once } from "node:events";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";

/** A side connection for setting a server up (not the client under test). */
export function adminClient(server: RedisServer, options: { password?: string } = {}): Redis {
  const client = new Redis({
    host: server.host,
    port: server.port,
    password: options.password ?? server.password,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    // Its INFO ready check would be refused by a busy or loading server.
    enableReadyCheck: false,
    ...(server.tls ? { tls: { ca: [server.caCert!] as never, servername: "localhost" } } : {}),
  });
  client.on("error", () => undefined);
  return client;
}

/**
 * A server that is still loading its dataset when this returns: it answers
 * -LOADING for as long as `loadingMs` (roughly). Built by saving `keys` keys on
 * a first server and restarting from that RDB with a per-key load delay.
 */
export async function loadingRedis(options: { keys?: number; loadingMs?: number } = {}): Promise<RedisServer> {
  const keys = options.keys ?? 2_000;
  const loadingMs = options.loadingMs ?? 20_000;
  const seed = await startRedisServer({ config: { "enable-debug-command": "local" } });
  const keep = await mkdtemp(path.join(tmpdir(), "infra-check-rdb-"));
  try {
    const admin = adminClient(seed);
    try {
      await admin.connect();
      // Values over loading-process-events-interval-bytes: Redis serves clients (with -LOADING) after every key.
      await admin.call("DEBUG", "POPULATE", String(keys), "key", "2048");
      await admin.call("SAVE");
    } finally {
      admin.disconnect();
    }
    await copyFile(path.join(seed.dir, "dump.rdb"), path.join(keep, "dump.rdb"));
    await seed.stop();
    return await startRedisServer({
      rdbFile: path.join(keep, "dump.rdb"),
      waitFor: "loading",
      config: {
        // microseconds per key: keys × delay = how long the server stays in LOADING
        "key-load-delay": Math.ceil((loadingMs * 1000) / keys),
        "loading-process-events-interval-bytes": 1024,
      },
    });
  } finally {
    await seed.stop();
    await rm(keep, { recursive: true, force: true });
  }
}

/**
 * Block `server` with an endless Lua script until the returned release() runs
 * SCRIPT KILL. Resolves once Redis logs that the script is slow, i.e. once it
 * answers other clients with -BUSY. The server needs a small busy-reply-threshold.
 */
export async function blockWithScript(server: RedisServer): Promise<{ release: () => Promise<void> }> {
  const runner = adminClient(server);
  await runner.connect();
  const slow = server.waitForLog(/Slow script detected/);
  const script = runner.eval("while true do end", 0).catch((error: Error) => error);
  await slow;
  return {
    release: async () => {
      const killer = adminClient(server);
      try {
        await killer.connect();
        await killer.call("SCRIPT", "KILL");
        await script;
      } finally {
        killer.disconnect();
        runner.disconnect();
      }
    },
  };
}

/**
 * Make writes fail with -MISCONF: a save point is configured and a background
 * save fails (its target name is taken by a directory), so Redis stops accepting
 * writes until a save succeeds.
 */
export async function breakSnapshots(server: RedisServer): Promise<void> {
  await mkdir(path.join(server.dir, "dump.rdb"));
  const admin = adminClient(server);
  try {
    await admin.connect();
    await admin.config("SET", "save", "3600 1");
    const failed = server.waitForLog(/Background saving error/);
    await admin.bgsave();
    await failed;
  } finally {
    admin.disconnect();
  }
}

/** A TCP proxy in front of `port` that holds every chunk for `delayMs` in each direction. */
export async function latencyProxy(port: number, delayMs: number): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const relay = (from: net.Socket, to: net.Socket) => {
    from.on("data", (chunk) => {
      // the injected network latency itself, not test synchronisation
      setTimeout(() => to.write(chunk), delayMs);
    });
    from.on("close", () => to.destroy());
    from.on("error", () => to.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    relay(client, upstream);
    relay(upstream, client);
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

/**
 * A TCP proxy in front of `port` that forwards until the client has sent
 * `stallAt` commands matching `pattern` (counted by occurrences of the
 * command name); from then on it swallows everything in both directions:
 * a server that goes silent mid-conversation.
 */
export async function stallingProxy(port: number, pattern: RegExp, stallAt: number): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    let seen = 0;
    let stalled = false;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    client.on("data", (chunk) => {
      seen += chunk.toString("latin1").match(new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g"))?.length ?? 0;
      if (seen >= stallAt) stalled = true;
      if (!stalled) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!stalled) client.write(chunk);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
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
