// How WebSocket failures read: refused upgrades (status and body excerpt),
// subprotocol mismatches, close codes (RFC 6455 §7.4 and the IANA
// registry), waits that ran out (and what arrived instead), the token the
// check obtains, and the raw errors ws raises on its own (frames that break
// the protocol, handshake headers a proxy mangled).
import { defineCatalogue, diagnosisOf } from "../../diagnose/catalogue.js";
import type { ClassifyContext, ErrorRule } from "../../diagnose/classify.js";
import type { ClassifiedError, FailureClass } from "../../diagnose/vocabulary.js";
import { TCP, TLS } from "../../diagnose/codes.js";
import { formatMs } from "../../util/duration.js";
import type { KindDiagnosis } from "../api.js";

interface Upgrade {
  statusText: string;
  status: number;
  body: string;
}
interface Closed {
  code: number;
  text: string;
}
interface Wait {
  stage: string;
  wanted: string;
  waited: string;
  limit: string;
}
interface Token {
  shown: string;
  lastLine?: string;
}

const bodyPart = (f: Upgrade) => (f.body ? `; body: ${f.body}` : "");
const stderr = (f: Token) => (f.lastLine ? `: ${f.lastLine}` : "");
const SUBPROTOCOL_HINT = (f: { first?: string }) =>
  `Deploy a server version that negotiates ${f.first ? `"${f.first}"` : "the subprotocol"}, or fix subprotocols in the check to what the server speaks.`;
const FRAME_HINT =
  "The server (or a proxy in between) sent bytes that are not valid WebSocket frames: check for a proxy that rewrites or buffers WebSocket traffic, and the server's WebSocket library version.";

export const WS = defineCatalogue("ws", {
  // ---------------------------------------------------------------- the upgrade
  UNAUTHORIZED: {
    class: "auth",
    code: (f: Upgrade) => `HTTP_${f.status}`,
    message: (f: Upgrade) => `the upgrade was refused with ${f.statusText}${bodyPart(f)}`,
    hint: "The server wants credentials: check the Authorization header / token (expired JWT? wrong secret for this environment?).",
  },
  FORBIDDEN: {
    class: "auth",
    code: (f: Upgrade) => `HTTP_${f.status}`,
    message: (f: Upgrade) => `the upgrade was refused with ${f.statusText}${bodyPart(f)}`,
    hint: "The credentials were understood but refused (403): check the token's audience/roles, and Origin restrictions on the server.",
  },
  NO_ROUTE: {
    class: "not-found",
    code: (f: Upgrade) => `HTTP_${f.status}`,
    message: (f: Upgrade & { path: string; host: string }) => `no WebSocket endpoint at path ${f.path} on ${f.host} (upgrade answered ${f.statusText})${bodyPart(f)}`,
    hint: "Check the path (/ws vs /websocket, a version prefix) and that the deployed revision has the WebSocket route.",
  },
  RATE_LIMITED: {
    class: "server-error",
    code: (f: Upgrade) => `HTTP_${f.status}`,
    message: (f: Upgrade) => `the upgrade was answered with ${f.statusText}${bodyPart(f)}`,
    hint: "The server or a gateway is rate limiting: check quotas and how many clients connect.",
  },
  UPGRADE_FAILED: {
    class: "server-error",
    code: (f: Upgrade) => `HTTP_${f.status}`,
    message: (f: Upgrade) => `the upgrade was answered with ${f.statusText}${bodyPart(f)}`,
    hint: "The server (or the proxy in front of it) failed: read its logs; 502/503/504 from a load balancer usually mean no healthy backend.",
  },
  REDIRECTED: {
    class: "protocol",
    code: (f: Upgrade) => `HTTP_${f.status}`,
    message: (f: Upgrade & { location?: string }) => `the upgrade was redirected (${f.statusText}${f.location ? ` → ${f.location}` : ""}); WebSocket clients do not follow redirects`,
    hint: "Use the final URL (scheme, host and path) in the check; ws:// → wss:// redirects mean the endpoint wants TLS.",
  },
  NOT_WEBSOCKET: {
    class: "protocol",
    code: (f: Upgrade) => `HTTP_${f.status}`,
    message: (f: Upgrade) => `the server answered ${f.statusText} instead of 101 Switching Protocols: not a WebSocket endpoint${bodyPart(f)}`,
    hint: "Another service (or a plain HTTP route) answers on this URL: check the path, and that proxies forward the Upgrade and Connection headers.",
  },
  UPGRADE_TIMEOUT: {
    class: "timeout",
    code: "UPGRADE_TIMEOUT",
    message: (f: { endpoint: string; waited: string; limit: string }) =>
      `connected to ${f.endpoint} and sent the upgrade request, but waited ${f.waited} for HTTP 101 Switching Protocols and got no answer (${f.limit})`,
    hint: "Something accepts TCP but does not answer WebSocket upgrades: a load balancer / proxy without WebSocket support, or a stuck server. Try the same URL over http(s) to see who answers.",
  },
  BAD_HANDSHAKE: {
    class: "protocol",
    code: "BAD_HANDSHAKE",
    message: (f: { where: string; reason: string }) => `the 101 answer${f.where} is not a valid WebSocket handshake (${f.reason})`,
    hint: "Something between the client and the server (a proxy, a CDN) answers the upgrade itself: check that it passes WebSocket through unchanged.",
  },
  BAD_EXTENSION: {
    class: "protocol",
    code: "BAD_EXTENSION",
    message: (f: { where: string; reason: string }) => `the server${f.where} negotiated an extension the client did not ask for (${f.reason})`,
    hint: "A proxy or the server enables an extension (permessage-deflate) this client did not offer: check the server's and proxies' WebSocket settings.",
  },
  REDIRECT_LOOP: {
    class: "protocol",
    code: "REDIRECT_LOOP",
    message: (f: { where: string }) => `the upgrade${f.where} was redirected too many times`,
    hint: "Use the final URL in the check.",
  },
  BAD_OPTION: {
    class: "config",
    code: "WS_BAD_OPTION",
    message: (f: { reason: string }) => `cannot open the WebSocket: ${f.reason}`,
    hint: "Fix the check's url / subprotocols.",
  },
  // ---------------------------------------------------------------- subprotocols
  SUBPROTOCOL_MISSING: {
    class: "protocol",
    code: "SUBPROTOCOL_MISSING",
    message: (f: { offered: string }) => `the server selected no subprotocol; offered: ${f.offered} (the client requires the server to select one of them)`,
    hint: SUBPROTOCOL_HINT,
  },
  SUBPROTOCOL_MISMATCH: {
    class: "protocol",
    code: "SUBPROTOCOL_MISMATCH",
    message: (f: { selected?: string; offered: string }) => `the server selected subprotocol "${f.selected}", which was not offered; offered: ${f.offered}`,
    hint: (f: { first?: string; selected?: string }) => `${SUBPROTOCOL_HINT(f)} (it speaks "${f.selected}")`,
  },
  SUBPROTOCOL_UNREQUESTED: {
    class: "protocol",
    code: "SUBPROTOCOL_UNREQUESTED",
    message: (f: { selected?: string }) => `the server selected subprotocol "${f.selected}" but the check offered none`,
    hint: (f: { selected?: string }) => `Add subprotocols: [${f.selected}] to the check if that is what the server speaks.`,
  },
  // ---------------------------------------------------------------- frames
  MESSAGE_TOO_BIG: {
    class: "protocol",
    code: (f: { errno: string }) => f.errno,
    message: (f: { where: string; reason: string }) => `the server${f.where} sent a message larger than the client accepts (${f.reason})`,
    hint: "A health conversation should not need huge messages: check what the server sends.",
  },
  INVALID_FRAME: {
    class: "protocol",
    code: (f: { errno: string }) => f.errno,
    message: (f: { where: string; reason: string }) => `the server${f.where} broke the WebSocket protocol: ${f.reason}`,
    hint: FRAME_HINT,
  },
  // ---------------------------------------------------------------- closes
  CLOSED_POLICY: {
    class: "auth",
    code: (f: Closed) => `WS_CLOSE_${f.code}`,
    message: (f: Closed) => f.text,
    hint: "The server closed with a policy violation, which chat servers use for a missing, expired or rejected token: check the token (headers / token:) and the reason text.",
  },
  CLOSED_INTERNAL_ERROR: {
    class: "server-error",
    code: (f: Closed) => `WS_CLOSE_${f.code}`,
    message: (f: Closed) => f.text,
    hint: "The server hit an internal error after accepting the connection: read its logs around this time (agent runtime, Redis/Postgres it depends on).",
  },
  CLOSED_RESTARTING: {
    class: "server-error",
    code: (f: Closed) => `WS_CLOSE_${f.code}`,
    message: (f: Closed) => f.text,
    hint: "The server is restarting or overloaded: check its deployment (Cloud Run revisions, instance limits) and retry.",
  },
  CLOSED_ABNORMALLY: {
    class: "protocol",
    code: (f: Closed) => `WS_CLOSE_${f.code}`,
    message: (f: Closed) => f.text,
    hint: "The TCP connection died without a WebSocket close frame: the server crashed or a proxy/load balancer cut the connection (idle timeout, no WebSocket support).",
  },
  CLOSED: {
    class: "protocol",
    code: (f: Closed) => `WS_CLOSE_${f.code}`,
    message: (f: Closed) => f.text,
    hint: "The server ended the conversation in a way the check does not expect: compare the client and server protocol versions.",
  },
  CLOSE_UNFINISHED: {
    class: "protocol",
    code: "CLOSE_UNFINISHED",
    message: (f: { stage: string; waited: string }) => `the server started closing the connection during ${f.stage} and did not finish within ${f.waited}`,
    hint: "The server sent its close frame but never ended the TCP connection: a proxy holding the connection open, or a stuck server.",
  },
  // ---------------------------------------------------------------- waits
  PONG_TIMEOUT: {
    class: "timeout",
    code: "PONG_TIMEOUT",
    message: (f: { waited: string; limit: string }) => `no pong within ${f.waited} (${f.limit}) after a ping: the server (or a proxy) does not answer WebSocket pings`,
    hint: "Pings are answered by the WebSocket library itself: a proxy that does not forward control frames, or a server event loop blocked for that long.",
  },
  EVENT_MISSING: {
    class: "timeout",
    code: "EVENT_MISSING",
    message: (f: Wait & { arrived: string[] }) =>
      `${f.stage}: no message matching ${f.wanted} within ${f.waited} (${f.limit}); ${f.arrived.length ? `events that arrived since the script started: ${f.arrived.join(", ")}` : "no message arrived since the script started"}`,
    hint: "The server accepted the connection but did not send what the check waited for: read the server logs for this connection; check the agent pipeline if events are missing.",
  },
  WELCOME_TIMEOUT: {
    class: "timeout",
    code: "WELCOME_TIMEOUT",
    message: (f: Wait) => `no ${f.stage} message matching ${f.wanted} within ${f.waited} (${f.limit}); nothing arrived after the upgrade`,
    hint: "The server accepted the WebSocket but never greeted it: check the server's on-connect handler (auth lookup, Redis/DB calls it makes before sending the welcome) and its logs.",
  },
  WELCOME_MISMATCH: {
    class: "protocol",
    code: "WELCOME_MISMATCH",
    message: (f: Wait & { instead: string }) => `waited ${f.waited} (${f.limit}) for a ${f.stage} message matching ${f.wanted}, but ${f.instead} — none matched`,
    hint: "The server greets with a different message: an older/newer server version, or the match in the check is wrong (compare the paths with what arrived).",
  },
  NOT_ATTEMPTED: {
    class: "timeout",
    code: "NOT_ATTEMPTED",
    message: (f: { limit: string }) => `not attempted: ${f.limit} ran out before this connection's turn`,
    hint: "Load mode ran out of budget before opening every connection: raise the check's timeout or lower connections / raise concurrency.",
  },
  // ---------------------------------------------------------------- the token
  TOKEN_EMPTY: {
    class: "config",
    message: "token.value is empty (is the environment variable set to an empty string?)",
    hint: "Set the variable the token comes from, or remove the token block.",
  },
  JWT_SECRET_EMPTY: {
    class: "config",
    message: "token.jwt.secret is empty: the JWT cannot be signed",
    hint: "Set the variable (e.g. JWT_SECRET) the secret comes from.",
  },
  JWT_NOT_MINTED: {
    class: "config",
    message: (f: { alg: string; reason: string }) => `could not mint the JWT (${f.alg}): ${f.reason}`,
    hint: "Check token.jwt: claims must be JSON values; registered claims (exp, nbf, iat) must be numbers.",
  },
  TOKEN_COMMAND_TOO_LOUD: {
    class: "config",
    code: "TOKEN_COMMAND_TOO_LOUD",
    message: (f: Token & { limitKb: number }) => `the token command "${f.shown}" printed more than ${f.limitKb} KB: that is not a token`,
    hint: "token.command must print the token alone on stdout (e.g. gcloud auth print-identity-token).",
  },
  TOKEN_COMMAND_SPAWN: {
    class: "config",
    code: "TOKEN_COMMAND_SPAWN",
    message: (f: Token & { reason: string }) => `cannot run the token command "${f.shown}": ${f.reason}`,
    hint: "The shell could not start: check token.command and that /bin/sh exists on this runner.",
  },
  TOKEN_COMMAND_NOT_FOUND: {
    class: "config",
    code: "TOKEN_COMMAND_NOT_FOUND",
    message: (f: Token) => `the token command "${f.shown}" was not found (exit 127)${stderr(f)}`,
    hint: "Install the tool or fix token.command (is it on PATH for this runner?).",
  },
  TOKEN_COMMAND_FAILED: {
    class: "auth",
    code: "TOKEN_COMMAND_FAILED",
    message: (f: Token & { how: string }) => `the token command "${f.shown}" failed (${f.how})${stderr(f)}`,
    hint: "Run the command by hand: the identity it uses may be logged out, expired, or lack permission to mint tokens.",
  },
  TOKEN_COMMAND_EMPTY: {
    class: "auth",
    code: "TOKEN_COMMAND_EMPTY",
    message: (f: Token) => `the token command "${f.shown}" succeeded but printed no token on stdout${f.lastLine ? ` (stderr: ${f.lastLine})` : ""}`,
    hint: "The command ran but printed nothing: run it by hand; some tools print to stderr when not logged in.",
  },
  TOKEN_COMMAND_NOISY: {
    class: "config",
    code: "TOKEN_COMMAND_NOISY",
    message: (f: Token) => `the token command "${f.shown}" printed several words or lines; expected the token alone`,
    hint: "Make token.command print only the token (e.g. pipe through `tail -n1`, or use the tool's quiet flag).",
  },
  TOKEN_COMMAND_TIMEOUT: {
    class: "auth",
    code: "TOKEN_COMMAND_TIMEOUT",
    message: (f: Token & { waited: string; limit: string }) => `the token command "${f.shown}" did not finish within ${f.waited} (${f.limit}; killed)`,
    hint: "The command may be waiting for interactive login or a slow metadata server: run it by hand, or give the check a longer timeout.",
  },
});

// ---------------------------------------------------------------- close codes

const MEANINGS: Record<number, string> = {
  1000: "normal closure",
  1001: "going away (server shutting down or the page navigating away)",
  1002: "protocol error",
  1003: "unsupported data",
  1005: "no status code in the close frame",
  1006: "abnormal closure: the connection dropped without a close frame",
  1007: "invalid frame payload data (e.g. text that is not UTF-8)",
  1008: "policy violation (usually authentication or authorization)",
  1009: "message too big",
  1010: "mandatory extension missing",
  1011: "internal server error",
  1012: "service restart",
  1013: "try again later (server overloaded)",
  1014: "bad gateway",
  1015: "TLS handshake failure",
};

export function closeMeaning(code: number): string {
  if (MEANINGS[code]) return MEANINGS[code];
  if (code === 4401) return "application code 4401 (conventionally: unauthorized)";
  if (code === 4403) return "application code 4403 (conventionally: forbidden)";
  if (code >= 4000 && code <= 4999) return `application-defined code ${code}`;
  if (code >= 3000 && code <= 3999) return `registered library/framework code ${code}`;
  return `code ${code}`;
}

/**
 * 1008 (and the common 4401/4403) → auth; the server reporting its own trouble
 * (1011 internal error, 1012 restart, 1013 try again later, 1014 bad gateway) →
 * server-error; 1006 and everything else → protocol.
 */
export function closeClass(code: number): FailureClass {
  return closeEntry(code).class;
}

function closeEntry(code: number) {
  if (code === 1008 || code === 4401 || code === 4403) return WS.CLOSED_POLICY;
  if (code === 1011) return WS.CLOSED_INTERNAL_ERROR;
  if (code === 1012 || code === 1013 || code === 1014) return WS.CLOSED_RESTARTING;
  if (code === 1006) return WS.CLOSED_ABNORMALLY;
  return WS.CLOSED;
}

/** The diagnosis of a server-initiated close, in whatever phase it came. */
export function closeDiagnosis(code: number, reason: string, during: string, arrived: string[] = []): ClassifiedError {
  const why = reason ? `, reason "${reason.slice(0, 200)}"` : "";
  const before = arrived.length ? `; messages that arrived first: ${arrived.join(" | ")}` : "";
  const text =
    code === 1006
      ? `the connection dropped without a close frame (1006, abnormal closure) during ${during}${before}`
      : `the server closed the connection with ${code} (${closeMeaning(code)})${why} during ${during}${before}`;
  return diagnosisOf(closeEntry(code), { code, text });
}

/** A refused upgrade, by status. */
export function upgradeDiagnosis(status: number, facts: Upgrade & { path: string; host: string; location?: string }): ClassifiedError {
  if (status === 401) return diagnosisOf(WS.UNAUTHORIZED, facts);
  if (status === 403) return diagnosisOf(WS.FORBIDDEN, facts);
  if (status === 404 || status === 410) return diagnosisOf(WS.NO_ROUTE, facts);
  if (status === 429) return diagnosisOf(WS.RATE_LIMITED, facts);
  if (status >= 500) return diagnosisOf(WS.UPGRADE_FAILED, facts);
  if (status >= 300 && status < 400) return diagnosisOf(WS.REDIRECTED, facts);
  return diagnosisOf(WS.NOT_WEBSOCKET, facts);
}

// ---------------------------------------------------------------- ws's own errors

const websocketRule: ErrorRule = (error: unknown, ctx: ClassifyContext) => {
  if (error === null || typeof error !== "object") return undefined;
  const err = error as Error & { code?: string };
  const message = typeof err.message === "string" ? err.message : "";
  const where = ctx.endpoint ? ` from ${ctx.endpoint}` : "";

  const status = /^Unexpected server response: (\d{3})$/.exec(message);
  if (status) {
    const code = Number(status[1]);
    return upgradeDiagnosis(code, { status: code, statusText: `HTTP ${code}`, body: "", path: "this path", host: ctx.endpoint ?? "the server" });
  }
  const offered = (ctx.facts?.offered as string[] | undefined) ?? [];
  const subprotocols = { offered: offered.length ? offered.join(", ") : "none", first: offered[0], selected: ctx.facts?.selected as string | undefined };
  if (message === "Server sent no subprotocol") return diagnosisOf(WS.SUBPROTOCOL_MISSING, subprotocols);
  if (message === "Server sent an invalid subprotocol") return diagnosisOf(WS.SUBPROTOCOL_MISMATCH, subprotocols);
  if (message === "Server sent a subprotocol but none was requested") return diagnosisOf(WS.SUBPROTOCOL_UNREQUESTED, subprotocols);
  if (message === "Invalid Upgrade header" || message === "Invalid Sec-WebSocket-Accept header") return diagnosisOf(WS.BAD_HANDSHAKE, { where, reason: message });
  if (/Sec-WebSocket-Extensions|extension that was not requested/.test(message)) return diagnosisOf(WS.BAD_EXTENSION, { where, reason: message });
  if (message === "Maximum redirects exceeded") return diagnosisOf(WS.REDIRECT_LOOP, { where });
  if (message === "Opening handshake has timed out") {
    // ws's own handshake timer (the probe dials itself, so this is the upgrade unless ws dialled).
    const facts = { endpoint: ctx.endpoint, budgetMs: ctx.budgetMs, phase: ctx.phase };
    if (ctx.phase === "connect") return diagnosisOf(TCP.CONNECT_TIMEOUT, facts);
    if (ctx.phase === "tls") return diagnosisOf(TLS.TIMEOUT, facts);
    return diagnosisOf(WS.UPGRADE_TIMEOUT, { endpoint: ctx.endpoint ?? "the target", waited: formatMs(ctx.budgetMs), limit: "the check's budget" });
  }
  // Receiver errors: RangeError/Error with code WS_ERR_*, e.g. "Invalid WebSocket frame: invalid UTF-8 sequence".
  if (typeof err.code === "string" && err.code.startsWith("WS_ERR_")) {
    return diagnosisOf(err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" ? WS.MESSAGE_TOO_BIG : WS.INVALID_FRAME, { where, reason: message, errno: err.code });
  }
  if (/^Invalid WebSocket frame|^Invalid UTF-8/.test(message)) return diagnosisOf(WS.INVALID_FRAME, { where, reason: message, errno: "WS_INVALID_FRAME" });
  if (err.name === "SyntaxError" && /^Invalid URL|protocol must be one of|fragment identifier|invalid or duplicated subprotocol/.test(message)) return diagnosisOf(WS.BAD_OPTION, { reason: message });
  return undefined;
};

export const websocketRules: readonly ErrorRule[] = [websocketRule];

export const websocketDiagnosis: KindDiagnosis = {
  service: "the WebSocket server",
  speaks: (firstBytes) => firstBytes.startsWith("HTTP/") || "HTTP/".startsWith(firstBytes),
  catalogue: WS,
  rules: websocketRules,
  refine: {
    "tls.NOT_TLS": "The port speaks plaintext: use ws:// or enable TLS on the server / load balancer.",
  },
  hints: {
    auth: "The server refused the credentials: check the Authorization header or token block (expired JWT, wrong secret for this environment, identity token audience).",
    "not-found": "No WebSocket route at this URL: check the path and that the deployed revision serves it.",
    "server-error": "The server failed on its side: read its logs around this time.",
    protocol: "The server answered, but not the way the chat protocol expects: check the deployed server version, the subprotocol and the proxy in front of it.",
    unhealthy: (spec) =>
      (spec as { load?: unknown }).load
        ? "Some connections failed under load: see the failures metric by class; check instance limits (max instances, concurrency) and connection limits on the server and proxies."
        : "The endpoint reports a bad state: see the metrics.",
    slow: (spec) =>
      (spec as { load?: unknown }).load
        ? "Handshakes are slow under load: check server CPU, Cloud Run concurrency/instances and cold starts."
        : "The exchange works but too slowly: look at the slowest phase (upgrade = server accept, welcome/steps = application).",
  },
};
