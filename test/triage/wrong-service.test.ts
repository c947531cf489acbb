// The wrong service on a port is said to be the wrong service — with what it
// sent — never "a bug in infra-check": an SSH server, an HTTP server or a
// Redis where Redis, PostgreSQL or a WebSocket endpoint was expected.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { once } from "node:events";
import net from "node:net";
import { runCheck } from "../helpers/run.js";
import { httpServer } from "../helpers/net.js";

const servers: net.Server[] = [];
async function speaker(greeting: string, options: { waitForData?: boolean } = {}): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on("error", () => undefined);
    if (options.waitForData) socket.once("data", () => socket.end(greeting));
    else socket.write(greeting);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}
let web: Awaited<ReturnType<typeof httpServer>>;
beforeAll(async () => {
  web = await httpServer((_req, res) => res.end("<html>hello</html>"));
});
afterAll(async () => {
  for (const server of servers) server.close();
  await web.stop();
});

const SSH = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";

describe("a port that answers with another protocol", () => {
  it.each([
    ["redis check, SSH server", async () => ({ kind: "redis", url: `redis://127.0.0.1:${await speaker(SSH)}` }), /127\.0\.0\.1:\d+ is not Redis: it sent "SSH-2\.0-OpenSSH_9\.2p1/],
    ["redis check, HTTP server", async () => ({ kind: "redis", url: `redis://127.0.0.1:${web.port}` }), /is not Redis: it sent "HTTP\/1\.1 400/],
    ["postgres check, SSH server", async () => ({ kind: "postgres", url: `postgres://app@127.0.0.1:${await speaker(SSH)}/app`, ssl: "disable" }), /is not PostgreSQL: it sent "SSH-2\.0-OpenSSH/],
    ["postgres check (TLS first), SSH server", async () => ({ kind: "postgres", url: `postgres://app@127.0.0.1:${await speaker(SSH)}/app` }), /is not PostgreSQL: it sent "SSH-2\.0-OpenSSH/],
    ["websocket check, SSH server", async () => ({ kind: "websocket", url: `ws://127.0.0.1:${await speaker(SSH)}/ws` }), /is not an HTTP server: it sent "SSH-2\.0-OpenSSH/],
    ["http check, SSH server", async () => ({ kind: "http", url: `http://127.0.0.1:${await speaker(SSH)}/` }), /is not an HTTP server: it sent "SSH-2\.0-OpenSSH/],
    ["http check, Redis-like reply", async () => ({ kind: "http", url: `http://127.0.0.1:${await speaker("-ERR unknown command 'GET'\r\n", { waitForData: true })}/` }), /is not an HTTP server: it sent "-ERR unknown command/],
  ] as const)("%s → protocol, naming what answered", async (_name, check, message) => {
    const result = await runCheck({ ...(await check()), timeout: "2s" });
    expect(result.failure?.class, result.failure?.message).toBe("protocol");
    expect(result.failure?.message).toMatch(message);
  });
});
