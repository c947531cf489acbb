// Loopback servers that produce real network faults. Every server listens on
// port 0 (an ephemeral port) on 127.0.0.1 and is closed by the returned stop().
import net from "node:net";
import http from "node:http";
import { once } from "node:events";
import { freePort } from "../../src/demo/free-port.js";

export interface Stoppable {
  port: number;
  url: (path?: string) => string;
  stop: () => Promise<void>;
}

/** A port that was just free: connecting to it gives ECONNREFUSED. */
export function closedPort(): Promise<number> {
  return freePort("127.0.0.1");
}

/** Accepts TCP connections and never writes a byte (a hung server). */
export async function silentServer(): Promise<Stoppable & { connections: () => number }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: (path = "/") => `http://127.0.0.1:${port}${path}`,
    connections: () => count,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

/**
 * A listener whose accept queue is full and never drained: Linux drops further
 * SYNs, so connect() never completes — an unreachable host without root.
 * Node's server always accepts, so the listener is a tiny python3 process that
 * listens with backlog 0 and never calls accept().
 */
export async function blackholePort(): Promise<Stoppable> {
  const { spawn } = await import("node:child_process");
  const child = spawn("python3", ["-c", [
    "import socket, sys, time",
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    "print(s.getsockname()[1], flush=True)",
    "sys.stdin.read()",
  ].join("\n")], { stdio: ["pipe", "pipe", "inherit"] });
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
  const port = Number(chunk.toString().trim());
  // Fill the accept queue (backlog 0 still queues one or two) with connections nobody accepts.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 3; i += 1) {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    fillers.push(socket);
  }
  await Promise.race([Promise.all(fillers.map((socket) => once(socket, "connect").catch(() => undefined))), new Promise((resolve) => setTimeout(resolve, 300))]);
  return {
    port,
    url: (path = "/") => `http://127.0.0.1:${port}${path}`,
    stop: async () => {
      for (const socket of fillers) socket.destroy();
      child.stdin!.end();
      child.kill();
    },
  };
}

/** An in-process HTTP server with a swappable handler. */
export async function httpServer(handler: http.RequestListener): Promise<Stoppable & { server: http.Server; setHandler: (next: http.RequestListener) => void }> {
  let current = handler;
  const server = http.createServer((req, res) => current(req, res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    server,
    url: (path = "/") => `http://127.0.0.1:${port}${path}`,
    setHandler: (next) => {
      current = next;
    },
    stop: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => undefined);
    },
  };
}
