// Opening one WebSocket: dial() does dns/connect/tls on the shared path, ws
// speaks the upgrade on that socket (its `createConnection` option), and what
// the handshake can end in becomes a diagnosis: a refused upgrade (status +
// body excerpt), a subprotocol the server did not negotiate (offered vs
// selected), an upgrade never answered. Shared by the single-connection
// check and load mode.
import type { ClientRequest, IncomingMessage } from "node:http";
import type WebSocket from "ws";
import type { ClientOptions } from "ws";
import { Diagnosed, diagnosisOf } from "../../diagnose/catalogue.js";
import type { MetricValue } from "../../diagnose/vocabulary.js";
import { dial } from "../../net/dial.js";
import { DEADLINE_EXPIRED, watchAbort } from "../../util/deadline.js";
import { formatMs } from "../../util/duration.js";
import { excerpt } from "../../util/excerpt.js";
import type { TlsSpec } from "../api.js";
import { closeDiagnosis, upgradeDiagnosis, WS } from "./diagnose.js";
import { toReceived, type Received } from "./match.js";

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

/** Where a connection's observations go (the check's context; load mode keeps per-connection ones to itself). */
export interface Observations {
  metrics: Record<string, MetricValue>;
  details: Record<string, MetricValue>;
  facts?: Record<string, unknown>;
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
  observe?: Observations;
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

export async function openSocket(WebSocketCtor: WebSocketClass, params: OpenParams): Promise<OpenedSocket> {
  const now = params.now ?? performanceNow;
  const { url, phases } = params;
  const secure = url.protocol === "wss:";
  const endpoint = endpointOf(url);
  const startedAt = now();
  const timings: { connectMs?: number; tlsMs?: number } = {};
  const sink: PhaseSink = {
    start: (name) => phases.start(name),
    record: (name, ms) => {
      phases.record(name, ms);
      if (name === "connect") timings.connectMs = ms;
      if (name === "tls") timings.tlsMs = ms;
    },
  };
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (secure ? 443 : 80));
  const socket = await dial(
    { signal: params.signal, phases: sink, ...(params.observe ? { metrics: params.observe.metrics, facts: params.observe.facts } : {}) },
    { host: hostname, port, address: { address: params.address, family: params.family }, ...(secure ? { tls: { spec: params.tls, hostname } } : {}) },
  );
  const dialedAt = now();
  phases.start("upgrade");
  if (params.observe?.facts) params.observe.facts.offered = params.protocols;

  // Typed loosely on purpose: ws passes these through to http(s).request, which @types/ws does not model.
  const options = {
    headers: { "User-Agent": "infra-check", ...params.headers },
    handshakeTimeout: Math.max(1, Math.floor(params.timeoutMs - (dialedAt - startedAt))),
    perMessageDeflate: false,
    followRedirects: false,
    maxPayload: MAX_PAYLOAD_BYTES,
    // The connection dial() opened (and secured): the upgrade request goes out on it.
    createConnection: () => socket,
  } as ClientOptions;

  return new Promise<OpenedSocket>((resolve, reject) => {
    let settled = false;
    let ws: WebSocket;
    let selected: string | undefined;
    try {
      ws = new WebSocketCtor(url, params.protocols, options);
    } catch (error) {
      socket.destroy();
      reject(new Diagnosed(diagnosisOf(WS.BAD_OPTION, { reason: `${url.protocol}//${endpoint}: ${(error as Error).message}` })));
      return;
    }
    params.onSocket?.(ws);
    const inbox = new Inbox(ws, now, params.observe);
    let upgradedAt: number | undefined;

    const onUpgrade = (response: IncomingMessage) => {
      upgradedAt = now();
      phases.record("upgrade", upgradedAt - dialedAt);
      const header = response.headers["sec-websocket-protocol"];
      selected = Array.isArray(header) ? header.join(",") : header;
      if (params.observe?.facts) params.observe.facts.selected = selected;
    };
    const onUnexpectedResponse = (_request: ClientRequest, response: IncomingMessage) => {
      void readExcerpt(response, Math.min(BODY_READ_LIMIT_MS, Math.max(1, params.timeoutMs - (now() - startedAt)))).then((body) => {
        if (!settled) fail(refusedUpgrade(url, response, body, params.observe));
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
        ...timings,
        upgradeMs: upgradedAt !== undefined ? upgradedAt - dialedAt : undefined,
        subprotocol: ws.protocol,
        openedAt,
      });
    };
    const onError = (error: Error) => {
      if (settled) return;
      fail(translateHandshakeError(error, { endpoint, offered: params.protocols, selected, waitedMs: now() - dialedAt, limitLabel: params.limitLabel, observe: params.observe }));
    };
    // A close before `open` without an error: the server accepted and hung up at once.
    const onClose = (code: number, reason: Buffer) => {
      if (!settled) fail(closedFailure(code, reason.toString(), "upgrade", [], params.observe));
    };
    const onAbort = () => {
      const reason = params.signal.reason;
      fail(reason === DEADLINE_EXPIRED ? upgradeTimeout(endpoint, now() - dialedAt, params.limitLabel) : reason);
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
      stopWatching();
      ws.off("upgrade", onUpgrade);
      ws.off("unexpected-response", onUnexpectedResponse);
      ws.off("open", onOpen);
      ws.off("error", onError);
      ws.off("close", onClose);
    }
    function fail(error: unknown) {
      if (settled) return;
      settle();
      ws.terminate();
      socket.destroy();
      reject(error);
    }
  });
}

function translateHandshakeError(
  error: Error,
  context: { endpoint: string; offered: string[]; selected?: string; waitedMs: number; limitLabel: string; observe?: Observations },
): unknown {
  const facts = { offered: context.offered.length ? context.offered.join(", ") : "none", first: context.offered[0], selected: context.selected };
  const record = (selected: string | null) => {
    if (!context.observe) return;
    context.observe.metrics.subprotocol = selected;
    if (context.offered.length) Object.assign(context.observe.details, { offeredSubprotocols: context.offered, selectedSubprotocol: selected });
  };
  switch (error.message) {
    case "Server sent no subprotocol":
      record(null);
      return new Diagnosed(diagnosisOf(WS.SUBPROTOCOL_MISSING, facts));
    case "Server sent an invalid subprotocol":
      record(context.selected ?? null);
      return new Diagnosed(diagnosisOf(WS.SUBPROTOCOL_MISMATCH, facts));
    case "Server sent a subprotocol but none was requested":
      if (context.observe) context.observe.metrics.subprotocol = context.selected ?? null;
      return new Diagnosed(diagnosisOf(WS.SUBPROTOCOL_UNREQUESTED, facts));
    case "Opening handshake has timed out":
      return upgradeTimeout(context.endpoint, context.waitedMs, context.limitLabel);
  }
  return error;
}

function upgradeTimeout(endpoint: string, waitedMs: number, limitLabel: string): Diagnosed {
  return new Diagnosed(diagnosisOf(WS.UPGRADE_TIMEOUT, { endpoint, waited: formatMs(waitedMs), limit: limitLabel }));
}

function refusedUpgrade(url: URL, response: IncomingMessage, body: string, observe: Observations | undefined): Diagnosed {
  const status = response.statusCode ?? 0;
  const statusText = `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ""}`;
  if (observe) Object.assign(observe.details, { status, ...(body ? { bodyExcerpt: body } : {}) });
  const location = response.headers.location;
  return new Diagnosed(upgradeDiagnosis(status, { status, statusText, body, path: url.pathname, host: url.host, ...(location ? { location } : {}) }));
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

/** A server-initiated close, in whatever phase it came, recorded where observations go. */
export function closedFailure(code: number, reason: string, during: string, arrived: string[] = [], observe?: Observations): Diagnosed {
  if (observe) {
    observe.metrics.closeCode = code;
    if (reason) observe.details.closeReason = reason.slice(0, 200);
  }
  return new Diagnosed(closeDiagnosis(code, reason, during, arrived));
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

  constructor(
    ws: WebSocket,
    now: () => number,
    private readonly observe?: Observations,
  ) {
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
      if (event.type === "closed") return closedFailure(event.code, event.reason, stage, [], this.observe);
      return new Diagnosed(diagnosisOf(WS.CLOSE_UNFINISHED, { stage, waited: formatMs(timeoutMs) }));
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
