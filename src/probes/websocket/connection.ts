// Opening one WebSocket with phase timings (connect, tls, upgrade) taken from
// the client's own socket events, and turning what the handshake can end in
// into a diagnosis: a refused upgrade (status + body excerpt), a subprotocol
// the server did not negotiate (offered vs selected), an upgrade never
// answered. Shared by the single-connection check and load mode.
import type { ClientRequest, IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type WebSocket from "ws";
import type { ClientOptions } from "ws";
import { ProbeFailure, type TlsSpec } from "../api.js";
import { fixedLookup } from "../../net/resolve.js";
import { tlsOptions } from "../../net/tls.js";
import { formatMs } from "../../util/duration.js";
import { excerpt } from "../../util/excerpt.js";
import { toReceived, type Received } from "./match.js";
import { closeClass, closeHint, closeMeaning } from "./close-codes.js";
import { DEADLINE_EXPIRED, watchAbort } from "./deadline.js";

type WebSocketClass = typeof WebSocket;
const BODY_EXCERPT_BYTES = 2048;
const BODY_EXCERPT_CHARS = 300;
const BODY_READ_LIMIT_MS = 500;
/** Largest message the probe accepts: a health probe has no business receiving more. */
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export interface PhaseSink {
  start(name: string): void;
  record(name: string, ms: number): void;
}

export interface OpenParams {
  url: URL;
  /** Already resolved (the dns phase is the caller's). */
  address: string;
  family: 4 | 6;
  headers: Record<string, string>;
  protocols: string[];
  tls?: TlsSpec;
  /** ms until the deadline (for ws's own handshakeTimeout and the body read). */
  timeoutMs: number;
  /** Said in timeout messages: whose limit ran out ("the check's budget of 5 s"). */
  limitLabel: string;
  /** The probe's deadline: aborting with DEADLINE_EXPIRED is a phase-aware timeout, any other reason is passed on. */
  signal: AbortSignal;
  phases: PhaseSink;
  /** Called with the client as soon as it exists (load mode tracks in-flight sockets). */
  onSocket?: (ws: WebSocket) => void;
  now?: () => number;
}

export interface OpenedSocket {
  ws: WebSocket;
  inbox: Inbox;
  /** TCP connect start → 101 received and validated. */
  handshakeMs: number;
  connectMs?: number;
  tlsMs?: number;
  upgradeMs?: number;
  subprotocol: string;
  /** When the socket opened (now() clock). */
  openedAt: number;
}

/** host:port as the user wrote it (for messages). */
export function endpointOf(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === "wss:" ? 443 : 80)}`;
}

const performanceNow = () => performance.now();

/**
 * ws keeps its options (and so `finishRequest`) for the socket's lifetime. The
 * hook therefore reaches the probe's per-connection state only through a box
 * that is emptied once the handshake settles, instead of holding that whole
 * scope for every open connection (measured: ~2 KB each in load mode).
 */
function finishRequestVia(box: { onSocket?: (socket: Socket) => void }) {
  return (request: ClientRequest) => {
    request.once("socket", (socket: Socket) => box.onSocket?.(socket));
    request.end();
  };
}

export function openSocket(WebSocketCtor: WebSocketClass, params: OpenParams): Promise<OpenedSocket> {
  const now = params.now ?? performanceNow;
  const { url, phases } = params;
  const secure = url.protocol === "wss:";
  const endpoint = endpointOf(url);
  const startedAt = now();
  let phase = "connect";
  let connectedAt: number | undefined;
  let secureAt: number | undefined;
  let upgradedAt: number | undefined;
  let selected: string | undefined;
  let rawSocket: Socket | undefined;
  const mark = (next: string) => {
    phase = next;
    phases.start(next);
  };
  const onConnect = () => {
    connectedAt = now();
    phases.record("connect", connectedAt - startedAt);
    mark(secure ? "tls" : "upgrade");
  };
  const onSecureConnect = () => {
    secureAt = now();
    phases.record("tls", secureAt - (connectedAt ?? startedAt));
    mark("upgrade");
  };
  const socketHook: { onSocket?: (socket: Socket) => void } = {
    onSocket: (socket) => {
      rawSocket = socket;
      socket.once("connect", onConnect);
      if (secure) socket.once("secureConnect", onSecureConnect);
    },
  };
  mark("connect");

  // Typed loosely on purpose: ws passes these through to http(s).request and
  // net/tls.connect (lookup, TLS options), which @types/ws does not model.
  const options = {
    headers: { "User-Agent": "infra-check", ...params.headers },
    handshakeTimeout: Math.max(1, Math.floor(params.timeoutMs)),
    perMessageDeflate: false,
    followRedirects: false,
    maxPayload: MAX_PAYLOAD_BYTES,
    lookup: fixedLookup(params.address, params.family),
    ...(secure ? tlsOptions(params.tls, url.hostname.replace(/^\[|\]$/g, "")) : {}),
    finishRequest: finishRequestVia(socketHook),
  } as ClientOptions;

  return new Promise<OpenedSocket>((resolve, reject) => {
    let settled = false;
    let ws: WebSocket;
    try {
      ws = new WebSocketCtor(url, params.protocols, options);
    } catch (error) {
      reject(new ProbeFailure("config", `cannot open ${url.protocol}//${endpoint}: ${(error as Error).message}`));
      return;
    }
    params.onSocket?.(ws);
    const inbox = new Inbox(ws, now);

    const onUpgrade = (response: IncomingMessage) => {
      upgradedAt = now();
      phases.record("upgrade", upgradedAt - (secureAt ?? connectedAt ?? startedAt));
      const header = response.headers["sec-websocket-protocol"];
      selected = Array.isArray(header) ? header.join(",") : header;
    };
    const onUnexpectedResponse = (_request: ClientRequest, response: IncomingMessage) => {
      void readExcerpt(response, Math.min(BODY_READ_LIMIT_MS, Math.max(1, params.timeoutMs - (now() - startedAt)))).then((body) => {
        if (!settled) fail(refusedUpgrade(url, response, body));
      });
    };
    const onOpen = () => {
      if (settled) return;
      settle();
      const openedAt = now();
      resolve({
        ws,
        inbox,
        handshakeMs: openedAt - startedAt,
        connectMs: connectedAt !== undefined ? connectedAt - startedAt : undefined,
        tlsMs: secureAt !== undefined ? secureAt - (connectedAt ?? startedAt) : undefined,
        upgradeMs: upgradedAt !== undefined ? upgradedAt - (secureAt ?? connectedAt ?? startedAt) : undefined,
        subprotocol: ws.protocol,
        openedAt,
      });
    };
    const onError = (error: Error) => {
      if (settled) return;
      fail(translateHandshakeError(error, { phase, endpoint, offered: params.protocols, selected, waitedMs: now() - startedAt, limitLabel: params.limitLabel }));
    };
    // A close before `open` without an error: the server accepted and hung up at once.
    const onClose = (code: number, reason: Buffer) => {
      if (!settled) fail(closedFailure(code, reason.toString(), phase));
    };
    const onAbort = () => {
      const reason = params.signal.reason;
      fail(reason === DEADLINE_EXPIRED ? handshakeTimeout(phase, endpoint, now() - startedAt, params.limitLabel) : reason);
    };
    const stopWatching = watchAbort(params.signal, onAbort);
    ws.on("upgrade", onUpgrade);
    ws.on("unexpected-response", onUnexpectedResponse);
    ws.once("open", onOpen);
    ws.on("error", onError);
    ws.on("close", onClose);

    // Once settled, nothing here may keep this scope (options, headers, phase sink) alive for the socket's lifetime.
    function settle() {
      settled = true;
      socketHook.onSocket = undefined;
      stopWatching();
      ws.off("upgrade", onUpgrade);
      ws.off("unexpected-response", onUnexpectedResponse);
      ws.off("open", onOpen);
      ws.off("error", onError);
      ws.off("close", onClose);
      rawSocket?.off("connect", onConnect);
      rawSocket?.off("secureConnect", onSecureConnect);
    }
    function fail(error: unknown) {
      if (settled) return;
      settle();
      ws.terminate();
      reject(error);
    }
  });
}

function translateHandshakeError(
  error: Error,
  context: { phase: string; endpoint: string; offered: string[]; selected?: string; waitedMs: number; limitLabel: string },
): unknown {
  const offered = context.offered.length ? context.offered.join(", ") : "none";
  const hint = `Deploy a server version that negotiates ${context.offered.length ? `"${context.offered[0]}"` : "the subprotocol"}, or fix subprotocols in the check to what the server speaks.`;
  switch (error.message) {
    case "Server sent no subprotocol":
      return new ProbeFailure("protocol", `the server selected no subprotocol; offered: ${offered} (the client requires the server to select one of them)`, {
        code: "SUBPROTOCOL_MISSING",
        hint,
        metrics: { subprotocol: null },
        details: { offeredSubprotocols: context.offered, selectedSubprotocol: null },
      });
    case "Server sent an invalid subprotocol":
      return new ProbeFailure("protocol", `the server selected subprotocol "${context.selected}", which was not offered; offered: ${offered}`, {
        code: "SUBPROTOCOL_MISMATCH",
        hint,
        metrics: { subprotocol: context.selected ?? null },
        details: { offeredSubprotocols: context.offered, selectedSubprotocol: context.selected ?? null },
      });
    case "Server sent a subprotocol but none was requested":
      return new ProbeFailure("protocol", `the server selected subprotocol "${context.selected}" but the check offered none`, {
        code: "SUBPROTOCOL_UNREQUESTED",
        hint: `Add subprotocols: [${context.selected}] to the check if that is what the server speaks.`,
        metrics: { subprotocol: context.selected ?? null },
      });
    case "Opening handshake has timed out":
      return handshakeTimeout(context.phase, context.endpoint, context.waitedMs, context.limitLabel);
  }
  return error;
}

function handshakeTimeout(phase: string, endpoint: string, waitedMs: number, limitLabel: string): ProbeFailure {
  const within = `within ${formatMs(waitedMs)} (${limitLabel})`;
  if (phase === "connect") {
    return new ProbeFailure("unreachable", `no TCP connection to ${endpoint} ${within}: packets are dropped on the way (nothing refused, nothing answered)`, {
      code: "CONNECT_TIMEOUT",
      hint: "No network path: check firewall rules, the VPC connector / egress settings, and whether this runner is inside the VPC.",
    });
  }
  if (phase === "tls") {
    return new ProbeFailure("tls", `TCP connected to ${endpoint} but the TLS handshake did not finish ${within}`, {
      code: "TLS_TIMEOUT",
      hint: "The server may not speak TLS on this port (use ws:// for a plaintext server), or a proxy is stalling the handshake.",
    });
  }
  return new ProbeFailure("timeout", `connected to ${endpoint} and sent the upgrade request, but waited ${formatMs(waitedMs)} for HTTP 101 Switching Protocols and got no answer (${limitLabel})`, {
    code: "UPGRADE_TIMEOUT",
    hint: "Something accepts TCP but does not answer WebSocket upgrades: a load balancer / proxy without WebSocket support, or a stuck server. Try the same URL over http(s) to see who answers.",
  });
}

function refusedUpgrade(url: URL, response: IncomingMessage, body: string): ProbeFailure {
  const status = response.statusCode ?? 0;
  const statusText = `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ""}`;
  const bodyPart = body ? `; body: ${body}` : "";
  const details = { status, ...(body ? { bodyExcerpt: body } : {}) };
  const code = `HTTP_${status}`;
  if (status === 401 || status === 403) {
    return new ProbeFailure("auth", `the upgrade was refused with ${statusText}${bodyPart}`, {
      code,
      details,
      hint:
        status === 401
          ? "The server wants credentials: check the Authorization header / token (expired JWT? wrong secret for this environment?)."
          : "The credentials were understood but refused (403): check the token's audience/roles, and Origin restrictions on the server.",
    });
  }
  if (status === 404 || status === 410) {
    return new ProbeFailure("not-found", `no WebSocket endpoint at path ${url.pathname} on ${url.host} (upgrade answered ${statusText})${bodyPart}`, {
      code,
      details,
      hint: "Check the path (/ws vs /websocket, a version prefix) and that the deployed revision has the WebSocket route.",
    });
  }
  if (status >= 500 || status === 429) {
    return new ProbeFailure("server-error", `the upgrade was answered with ${statusText}${bodyPart}`, {
      code,
      details,
      hint:
        status === 429
          ? "The server or a gateway is rate limiting: check quotas and how many clients connect."
          : "The server (or the proxy in front of it) failed: read its logs; 502/503/504 from a load balancer usually mean no healthy backend.",
    });
  }
  if (status >= 300 && status < 400) {
    const location = response.headers.location;
    return new ProbeFailure("protocol", `the upgrade was redirected (${statusText}${location ? ` → ${location}` : ""}); WebSocket clients do not follow redirects`, {
      code,
      details,
      hint: "Use the final URL (scheme, host and path) in the check; ws:// → wss:// redirects mean the endpoint wants TLS.",
    });
  }
  return new ProbeFailure("protocol", `the server answered ${statusText} instead of 101 Switching Protocols: not a WebSocket endpoint${bodyPart}`, {
    code,
    details,
    hint: "Another service (or a plain HTTP route) answers on this URL: check the path, and that proxies forward the Upgrade and Connection headers.",
  });
}

function readExcerpt(response: IncomingMessage, limitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      clearTimeout(timer);
      response.removeAllListeners("data");
      response.destroy();
      resolve(excerpt(Buffer.concat(chunks).subarray(0, BODY_EXCERPT_BYTES).toString("utf8"), BODY_EXCERPT_CHARS));
    };
    const timer = setTimeout(finish, limitMs);
    response.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= BODY_EXCERPT_BYTES) finish();
    });
    response.once("end", finish);
    response.once("error", finish);
  });
}

/** A ProbeFailure for a server-initiated close, in whatever phase it came. */
export function closedFailure(code: number, reason: string, during: string, arrived: string[] = []): ProbeFailure {
  const why = reason ? `, reason "${reason.slice(0, 200)}"` : "";
  const before = arrived.length ? `; messages that arrived first: ${arrived.join(" | ")}` : "";
  const text =
    code === 1006
      ? `the connection dropped without a close frame (1006, abnormal closure) during ${during}${before}`
      : `the server closed the connection with ${code} (${closeMeaning(code)})${why} during ${during}${before}`;
  return new ProbeFailure(closeClass(code), text, { code: `WS_CLOSE_${code}`, hint: closeHint(code), metrics: { closeCode: code }, details: reason ? { closeReason: reason.slice(0, 200) } : undefined });
}

export type InboxEvent =
  | { type: "message"; message: Received }
  | { type: "closed"; code: number; reason: string }
  | { type: "error"; error: Error }
  | { type: "timeout" };

/**
 * Every message in arrival order (listening from before `open`, so a welcome
 * sent with the 101 is not lost), plus the close or error that ended the stream.
 */
export class Inbox {
  private readonly queue: Received[] = [];
  private waiter: ((event: InboxEvent) => void) | undefined;
  private ended: InboxEvent | undefined;

  constructor(ws: WebSocket, now: () => number) {
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const message = toReceived(data, isBinary, now());
      if (this.waiter) this.deliver({ type: "message", message });
      else this.queue.push(message);
    });
    ws.on("close", (code: number, reason: Buffer) => this.end({ type: "closed", code, reason: reason.toString() }));
    ws.on("error", (error: Error) => this.end({ type: "error", error }));
  }

  /** The server's close, once the close event has come. */
  get closed(): { code: number; reason: string } | undefined {
    return this.ended?.type === "closed" ? { code: this.ended.code, reason: this.ended.reason } : undefined;
  }

  /**
   * Why the stream ended, as a failure to throw, for a socket that is no
   * longer open. The close frame may already be in while the `close` event
   * waits for the TCP end: wait for it (at most `timeoutMs`), skipping messages.
   */
  async endFailure(stage: string, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const event = await this.next(deadline - performance.now(), signal);
      if (event.type === "message") continue;
      if (event.type === "error") return event.error;
      if (event.type === "closed") return closedFailure(event.code, event.reason, stage);
      return new ProbeFailure("protocol", `the server started closing the connection during ${stage} and did not finish within ${formatMs(timeoutMs)}`);
    }
  }

  private end(event: InboxEvent): void {
    // The first of error/close wins: an error is more specific than the close that follows it.
    if (this.ended) return;
    this.ended = event;
    if (this.waiter) this.deliver(event);
  }

  private deliver(event: InboxEvent): void {
    const waiter = this.waiter!;
    this.waiter = undefined;
    waiter(event);
  }

  /** The next message, or how the stream ended, or a timeout after `timeoutMs` or when `signal` aborts. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<InboxEvent> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve({ type: "message", message: queued });
    if (this.ended) return Promise.resolve(this.ended);
    if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve({ type: "timeout" });
    return new Promise((resolve) => {
      const giveUp = () => {
        clearTimeout(timer);
        stopWatching();
        this.waiter = undefined;
        resolve({ type: "timeout" });
      };
      const timer = setTimeout(giveUp, timeoutMs);
      const stopWatching = watchAbort(signal, giveUp);
      this.waiter = (event) => {
        clearTimeout(timer);
        stopWatching();
        resolve(event);
      };
    });
  }
}

/**
 * Normal closure (1000), waiting at most `timeoutMs` for the server's close
 * frame; then the socket is destroyed. Returns the server's close code and
 * reason (undefined when it did not answer in time or was already closed).
 */
export function closeNormally(ws: WebSocket, timeoutMs: number, signal?: AbortSignal): Promise<{ code: number; reason: string } | undefined> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve(undefined);
  if (ws.readyState === ws.CONNECTING || timeoutMs <= 0 || signal?.aborted) {
    ws.terminate();
    return Promise.resolve(undefined);
  }
  // CLOSING: the server's close frame is in (or ours is out); only the close event is missing.
  const closing = ws.readyState === ws.CLOSING;
  return new Promise((resolve) => {
    const giveUp = () => {
      clearTimeout(timer);
      stopWatching();
      ws.terminate();
      resolve(undefined);
    };
    const timer = setTimeout(giveUp, timeoutMs);
    const stopWatching = watchAbort(signal, giveUp);
    ws.once("close", (code: number, reason: Buffer) => {
      clearTimeout(timer);
      stopWatching();
      resolve({ code, reason: reason.toString() });
    });
    if (!closing) ws.close(1000, "infra-check done");
  });
}
