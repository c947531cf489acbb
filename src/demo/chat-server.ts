// A WebSocket chat server that speaks the protocol of the chat product
// (the incident table of docs/demo.md, rows 4–7): bearer-token / JWT auth on the upgrade, the
// `agent_chat` subprotocol, a `connection_established` welcome, and the agent
// event stream for each user_message. Used by the websocket probe's tests, by
// `infra-check demo` and by the benchmarks, so every failure mode the probe
// diagnoses can be switched on at run time (`setFault`).
import http from "node:http";
import https from "node:https";
import { once } from "node:events";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";

export const CHAT_SUBPROTOCOL = "agent_chat";
/** The golden path of one user message, in order. */
export const AGENT_EVENTS = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"] as const;
export type AgentEvent = (typeof AGENT_EVENTS)[number];

/** What can go wrong, each matching a diagnosis of the websocket probe. */
export type ChatFault =
  /** Upgrade answered with this status and body instead of 101 ("{authorization}" in the body echoes the presented header, as careless servers do). */
  | { type: "reject-upgrade"; status: number; body?: string }
  /** Upgrade request read and never answered (a proxy that does not pass upgrades). */
  | { type: "never-answer" }
  /** 101 without a Sec-WebSocket-Protocol header although the client offered some. */
  | { type: "no-subprotocol" }
  /** 101 selecting a subprotocol the client did not offer. */
  | { type: "wrong-subprotocol"; protocol?: string }
  /** Connected, but the welcome is never sent. */
  | { type: "no-welcome" }
  /** A welcome of another shape (an older server version). */
  | { type: "wrong-welcome" }
  /** The welcome only after this many ms. */
  | { type: "slow-welcome"; ms: number }
  /** Each upgrade answered only after this many ms. */
  | { type: "slow-upgrade"; ms: number }
  /** Close with a code (1011 internal error, 1008 policy violation …) right after the upgrade, on the first user message, or `afterMs` after the welcome. */
  | { type: "close"; code: number; reason?: string; when?: "connect" | "message" | "after-welcome"; afterMs?: number }
  /** Destroy the TCP socket without a close frame (the client sees 1006). */
  | { type: "drop"; when?: "connect" | "message" }
  /** Leave one agent event out of the stream. */
  | { type: "missing-event"; event: AgentEvent }
  /** Send the agent events in a shuffled (swapped) order. */
  | { type: "out-of-order" }
  /** Send a frame that is not valid WebSocket (a text frame with invalid UTF-8). */
  | { type: "invalid-frame"; when?: "connect" | "message" };

export type ChatFaultName = ChatFault["type"];

export interface ChatServerOptions {
  host?: string;
  /** 0 (default) = an ephemeral port. */
  port?: number;
  /** Path of the WebSocket endpoint (default /ws); other paths answer 404. */
  path?: string;
  /** Accept `Authorization: Bearer <token>` (or `?token=`) with this static token. Default: a random one. */
  token?: string;
  /** Also accept HS256 JWTs signed with this secret. Default: a random one. */
  jwtSecret?: string;
  /** false = no auth at all (the demo's "open" mode). Default true. */
  requireAuth?: boolean;
  /** Serve wss:// with this certificate (PEM file paths). */
  tls?: { cert: string; key: string };
  /** Delay between agent events in ms (default 0: all in one go). */
  eventDelayMs?: number;
  /** Capacity: upgrades beyond this many open connections are answered 503 (default: unlimited). */
  maxConnections?: number;
  fault?: ChatFault | null;
}

export interface ChatServer {
  port: number;
  host: string;
  /** ws(s)://host:port/ws */
  url: string;
  /** http(s)://host:port/health */
  healthUrl: string;
  token: string;
  jwtSecret: string;
  /** Mint an HS256 JWT the server accepts (for tests and the demo). */
  mintJwt(claims?: Record<string, unknown>, ttlSeconds?: number): Promise<string>;
  setFault(fault: ChatFault | null): void;
  readonly fault: ChatFault | null;
  /** Change the capacity at run time (undefined = unlimited). */
  setMaxConnections(limit: number | undefined): void;
  /** Counters for tests: upgrades seen, sockets open now, close codes the server received from clients. */
  stats(): { upgrades: number; open: number; clientCloseCodes: number[] };
  stop(): Promise<void>;
}

const STATUS_TEXT = (status: number) => http.STATUS_CODES[status] ?? "Unknown";

/** When a connection-level fault strikes (undefined for faults that are not about the connection). */
function whenOf(fault: ChatFault): "connect" | "message" | "after-welcome" | undefined {
  if (fault.type === "close" || fault.type === "drop" || fault.type === "invalid-frame") return fault.when ?? "connect";
  return undefined;
}

export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  const { WebSocketServer: Server } = await import("ws");
  const host = options.host ?? "127.0.0.1";
  const endpointPath = options.path ?? "/ws";
  const token = options.token ?? randomBytes(18).toString("base64url");
  const jwtSecret = options.jwtSecret ?? randomBytes(24).toString("base64url");
  const requireAuth = options.requireAuth ?? true;
  const secretKey = new TextEncoder().encode(jwtSecret);
  const eventDelayMs = options.eventDelayMs ?? 0;
  let fault: ChatFault | null = options.fault ?? null;
  let maxConnections = options.maxConnections;
  let pendingUpgrades = 0;
  let upgrades = 0;
  const clientCloseCodes: number[] = [];
  const heldSockets = new Set<Duplex>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const wss: WebSocketServer = new Server({
    noServer: true,
    clientTracking: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => {
      if (fault?.type === "no-subprotocol") return false;
      if (fault?.type === "wrong-subprotocol") return fault.protocol ?? "chat_v1";
      return offered.has(CHAT_SUBPROTOCOL) ? CHAT_SUBPROTOCOL : false;
    },
  });

  const requestHandler: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/health") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "healthy", websocket: { connections: wss.clients.size } }));
      return;
    }
    if (url.pathname === endpointPath) {
      res.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" });
      res.end("this endpoint speaks WebSocket: send an Upgrade request\n");
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end(`no route for ${url.pathname}\n`);
  };
  const server: http.Server = options.tls
    ? https.createServer({ cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) }, requestHandler)
    : http.createServer(requestHandler);

  const refuse = (socket: Duplex, status: number, body: string) => {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT(status)}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };

  /** The subject of a valid credential, or undefined. */
  const authenticate = async (req: http.IncomingMessage): Promise<string | undefined> => {
    const header = req.headers.authorization;
    const fromHeader = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const presented = fromHeader ?? new URL(req.url ?? "/", "http://x").searchParams.get("token") ?? undefined;
    if (!presented) return undefined;
    if (presented === token) return "static-token";
    try {
      const { jwtVerify } = await import("jose");
      const { payload } = await jwtVerify(presented, secretKey, { algorithms: ["HS256", "HS384", "HS512"] });
      return typeof payload.sub === "string" ? payload.sub : "jwt";
    } catch {
      return undefined;
    }
  };

  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrades += 1;
    socket.on("error", () => undefined);
    const active = fault;
    if (active?.type === "never-answer") {
      heldSockets.add(socket);
      socket.on("close", () => heldSockets.delete(socket));
      return;
    }
    if (active?.type === "reject-upgrade") {
      refuse(socket, active.status, (active.body ?? `${STATUS_TEXT(active.status)}\n`).replaceAll("{authorization}", req.headers.authorization ?? ""));
      return;
    }
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== endpointPath) {
      refuse(socket, 404, `no WebSocket endpoint at ${url.pathname}\n`);
      return;
    }
    // Upgrades still authenticating count too, or concurrent ones would all slip under the limit.
    if (maxConnections !== undefined && wss.clients.size + pendingUpgrades >= maxConnections) {
      refuse(socket, 503, JSON.stringify({ error: "unavailable", detail: `server full (${maxConnections} connections)` }));
      return;
    }
    pendingUpgrades += 1;
    const proceed = async () => {
      try {
        const user = requireAuth ? await authenticate(req) : "anonymous";
        if (socket.destroyed) return;
        if (!user) {
          const why = req.headers.authorization || url.searchParams.has("token") ? "invalid or expired token" : "missing bearer token";
          refuse(socket, 401, JSON.stringify({ error: "unauthorized", detail: why }));
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, user));
      } finally {
        pendingUpgrades -= 1;
      }
    };
    if (active?.type === "slow-upgrade") later(active.ms, () => void proceed());
    else void proceed();
  });

  const send = (ws: WebSocket, message: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };

  const misbehave = (ws: WebSocket, active: ChatFault): boolean => {
    const raw = (ws as unknown as { _socket: Socket })._socket;
    if (active.type === "close") {
      try {
        ws.close(active.code, active.reason ?? "");
      } catch {
        // A code that may not go on the wire (1005, 1006 …): the nearest real thing is a drop.
        raw.destroy();
      }
      return true;
    }
    if (active.type === "drop") {
      raw.destroy();
      return true;
    }
    if (active.type === "invalid-frame") {
      // FIN + text opcode, 2-byte payload that is not UTF-8.
      raw.write(Buffer.from([0x81, 0x02, 0xc3, 0x28]));
      return true;
    }
    return false;
  };

  const onConnection = (ws: WebSocket, user: string) => {
    const connectionId = randomUUID();
    ws.on("error", () => undefined);
    ws.on("close", (code) => {
      // 1005 = the client closed without a code; anything else is what it asked for.
      clientCloseCodes.push(code);
    });
    const active = fault;
    if (active && whenOf(active) === "connect" && misbehave(ws, active)) return;

    const welcome =
      active?.type === "wrong-welcome"
        ? { type: "hello", payload: { event: "hello", version: 1 } }
        : {
            type: "connection_established",
            payload: { event: "connection_established", connection_id: connectionId, user_id: user, server_time: new Date().toISOString() },
          };
    if (active?.type === "slow-welcome") later(active.ms, () => send(ws, welcome));
    else if (active?.type !== "no-welcome") send(ws, welcome);
    // A server that greets, then dies a moment later (a dependency it needs is down).
    if (active && whenOf(active) === "after-welcome") later(active.type === "close" ? (active.afterMs ?? 20) : 20, () => misbehave(ws, active));

    ws.on("message", (data, isBinary) => {
      let message: { type?: unknown; payload?: unknown } | undefined;
      try {
        message = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        message = undefined;
      }
      if (!message || typeof message !== "object") {
        send(ws, { type: "error", payload: { message: "expected a JSON message with a type" } });
        return;
      }
      if (message.type === "ping") {
        send(ws, { type: "pong", payload: message.payload ?? null });
        return;
      }
      if (message.type === "echo") {
        send(ws, { type: "echo", payload: message.payload ?? null });
        return;
      }
      if (message.type !== "user_message") {
        send(ws, { type: "error", payload: { message: `unknown message type ${JSON.stringify(message.type)}` } });
        return;
      }
      const current = fault;
      if (current && whenOf(current) === "message" && misbehave(ws, current)) return;
      const runId = randomUUID();
      let events: string[] = [...AGENT_EVENTS];
      if (current?.type === "missing-event") events = events.filter((event) => event !== current.event);
      if (current?.type === "out-of-order") events = ["agent_started", "agent_thinking", "tool_completed", "tool_executing", "agent_completed"];
      const content = (message.payload as { content?: unknown } | undefined)?.content;
      const emit = (index: number) => {
        if (index >= events.length) return;
        const type = events[index];
        send(ws, { type, payload: { event: type, run_id: runId, ...(type === "agent_completed" ? { reply: `received: ${String(content ?? "")}` } : {}) } });
        if (eventDelayMs > 0) later(eventDelayMs, () => emit(index + 1));
        else emit(index + 1);
      };
      emit(0);
    });
  };

  server.listen(options.port ?? 0, host);
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  const scheme = options.tls ? "wss" : "ws";

  return {
    port,
    host,
    url: `${scheme}://${hostInUrl}:${port}${endpointPath}`,
    healthUrl: `${options.tls ? "https" : "http"}://${hostInUrl}:${port}/health`,
    token,
    jwtSecret,
    async mintJwt(claims = {}, ttlSeconds = 300) {
      const { SignJWT } = await import("jose");
      return new SignJWT({ ...claims })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(typeof claims.sub === "string" ? claims.sub : "demo-user")
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(secretKey);
    },
    setFault(next) {
      fault = next;
    },
    get fault() {
      return fault;
    },
    setMaxConnections(limit) {
      maxConnections = limit;
    },
    stats: () => ({ upgrades, open: wss.clients.size, clientCloseCodes: [...clientCloseCodes] }),
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const client of wss.clients) client.terminate();
      for (const socket of heldSockets) socket.destroy();
      wss.close();
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => undefined);
    },
  };
}

/**
 * `--break` names of `infra-check demo` → faults: no-welcome, wrong-welcome,
 * no-subprotocol, wrong-subprotocol, close-1011, close-1008, drop (1006),
 * reject-401 (any status), never-answer, missing-tool_completed, out-of-order,
 * slow-welcome-3000, slow-upgrade-3000, invalid-frame.
 */
export function parseChatFault(name: string): ChatFault {
  const text = name.trim();
  let match: RegExpExecArray | null;
  if ((match = /^close-(\d{4})(-on-message|-after-welcome)?$/.exec(text)) && match[1] !== "1006") {
    const when = match[2] === "-on-message" ? "message" : match[2] === "-after-welcome" ? "after-welcome" : "connect";
    return { type: "close", code: Number(match[1]), reason: CLOSE_REASONS[Number(match[1])] ?? "closed by the demo server", when };
  }
  // 1006 is never sent on the wire: it is what a client reports when the socket dies without a close frame.
  if ((match = /^(?:drop|drop-1006|close-1006)(-on-message)?$/.exec(text))) return { type: "drop", when: match[1] ? "message" : "connect" };
  if ((match = /^reject-(\d{3})$/.exec(text))) {
    const status = Number(match[1]);
    return { type: "reject-upgrade", status, body: REJECT_BODIES[status] ?? `${STATUS_TEXT(status)}\n` };
  }
  if ((match = /^missing-(\w+)$/.exec(text)) && (AGENT_EVENTS as readonly string[]).includes(match[1])) {
    return { type: "missing-event", event: match[1] as AgentEvent };
  }
  if ((match = /^slow-(welcome|upgrade)-(\d+)$/.exec(text))) return { type: `slow-${match[1] as "welcome" | "upgrade"}`, ms: Number(match[2]) };
  if ((match = /^wrong-subprotocol(?:-(.+))?$/.exec(text))) return { type: "wrong-subprotocol", protocol: match[1] };
  if ((match = /^invalid-frame(-on-message)?$/.exec(text))) return { type: "invalid-frame", when: match[1] ? "message" : "connect" };
  if (text === "no-welcome" || text === "wrong-welcome" || text === "no-subprotocol" || text === "never-answer" || text === "out-of-order") {
    return { type: text };
  }
  throw new Error(
    `unknown chat server fault "${name}"; faults: no-welcome, wrong-welcome, slow-welcome-MS, no-subprotocol, wrong-subprotocol[-NAME], ` +
      `close-CODE[-on-message|-after-welcome] (close-1011, close-1008), drop[-on-message], reject-STATUS (reject-401, reject-503), never-answer, slow-upgrade-MS, ` +
      `missing-EVENT (missing-tool_completed), out-of-order, invalid-frame[-on-message]`,
  );
}

const CLOSE_REASONS: Record<number, string> = {
  1008: "authentication failed: token rejected by policy",
  1011: "internal error: agent runtime unavailable",
  1013: "try again later: server overloaded",
};

const REJECT_BODIES: Record<number, string> = {
  401: '{"error":"unauthorized","detail":"missing bearer token"}',
  403: '{"error":"forbidden","detail":"origin not allowed"}',
  404: "no WebSocket endpoint at this path\n",
  500: '{"error":"internal","detail":"database connection pool exhausted"}',
  502: "<html><body><h1>502 Bad Gateway</h1></body></html>",
  503: '{"error":"unavailable","detail":"service is starting"}',
};
