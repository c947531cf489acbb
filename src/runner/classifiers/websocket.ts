// Error rules of the ws client. The websocket probe already turns what it can
// observe (refused upgrades with status + body, subprotocol mismatches, close
// codes, handshake timeouts) into ProbeFailures; these rules cover the raw
// errors ws raises on its own: frames that break the protocol, handshake
// headers a proxy mangled, and the same handshake texts when they reach the
// runner some other way (e.g. load mode, or a future caller).
import type { ClassifiedError } from "../../diagnose/vocabulary.js";
import type { ClassifyContext } from "../classify.js";
import { formatMs } from "../../util/duration.js";

type Rule = Omit<ClassifiedError, "phase">;

const FRAME_HINT =
  "The server (or a proxy in between) sent bytes that are not valid WebSocket frames: check for a proxy that rewrites or buffers WebSocket traffic, and the server's WebSocket library version.";

export function classifyWebsocketError(error: unknown, ctx: ClassifyContext): ClassifiedError | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const err = error as Error & { code?: string };
  const message = typeof err.message === "string" ? err.message : "";
  const where = ctx.endpoint ? ` from ${ctx.endpoint}` : "";

  const status = /^Unexpected server response: (\d{3})$/.exec(message);
  if (status) return byStatus(Number(status[1]), ctx);

  if (message === "Server sent no subprotocol") {
    return rule("protocol", "SUBPROTOCOL_MISSING", `the server${where} selected no subprotocol although the check offered some`, "Deploy a server that negotiates the offered subprotocol, or fix subprotocols in the check.");
  }
  if (message === "Server sent an invalid subprotocol") {
    return rule("protocol", "SUBPROTOCOL_MISMATCH", `the server${where} selected a subprotocol the check did not offer`, "Deploy a server that negotiates the offered subprotocol, or fix subprotocols in the check.");
  }
  if (message === "Server sent a subprotocol but none was requested") {
    return rule("protocol", "SUBPROTOCOL_UNREQUESTED", `the server${where} selected a subprotocol but the check offered none`, "Add the server's subprotocol to subprotocols in the check.");
  }
  if (message === "Invalid Upgrade header" || message === "Invalid Sec-WebSocket-Accept header") {
    return rule(
      "protocol",
      "BAD_HANDSHAKE",
      `the 101 answer${where} is not a valid WebSocket handshake (${message})`,
      "Something between the client and the server (a proxy, a CDN) answers the upgrade itself: check that it passes WebSocket through unchanged.",
    );
  }
  if (/Sec-WebSocket-Extensions|extension that was not requested/.test(message)) {
    return rule("protocol", "BAD_EXTENSION", `the server${where} negotiated an extension the client did not ask for (${message})`, FRAME_HINT);
  }
  if (message === "Maximum redirects exceeded") {
    return rule("protocol", "REDIRECT_LOOP", `the upgrade${where} was redirected too many times`, "Use the final URL in the check.");
  }
  if (message === "Opening handshake has timed out") {
    const phase = ctx.phase;
    const budget = formatMs(ctx.budgetMs);
    if (phase === "connect") {
      return rule("unreachable", "CONNECT_TIMEOUT", `no TCP connection to ${ctx.endpoint ?? "the target"} within ${budget}`, "No network path: check firewall rules, VPC connector / egress, and whether this runner is inside the VPC.");
    }
    if (phase === "tls") return rule("tls", "TLS_TIMEOUT", `the TLS handshake with ${ctx.endpoint ?? "the target"} did not finish within ${budget}`, "The port may not speak TLS (use ws://), or a proxy stalls the handshake.");
    return rule(
      "timeout",
      "UPGRADE_TIMEOUT",
      `connected to ${ctx.endpoint ?? "the target"} but waited ${budget} for HTTP 101 Switching Protocols and got no answer`,
      "A proxy / load balancer without WebSocket support, or a stuck server.",
    );
  }
  // Receiver errors: RangeError/Error with code WS_ERR_*, e.g. "Invalid WebSocket frame: invalid UTF-8 sequence".
  if (typeof err.code === "string" && err.code.startsWith("WS_ERR_")) {
    if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
      return rule("protocol", err.code, `the server${where} sent a message larger than the client accepts (${message})`, "A health conversation should not need huge messages: check what the server sends.");
    }
    return rule("protocol", err.code, `the server${where} broke the WebSocket protocol: ${message}`, FRAME_HINT);
  }
  if (/^Invalid WebSocket frame|^Invalid UTF-8/.test(message)) {
    return rule("protocol", "WS_INVALID_FRAME", `the server${where} broke the WebSocket protocol: ${message}`, FRAME_HINT);
  }
  // ws reports a plaintext answer to its ClientHello as a bare EPROTO (no ERR_SSL_* code the generic TLS rules know).
  if (ctx.kind === "websocket" && err.code === "EPROTO" && /wrong version number|packet length too long|http request/i.test(message)) {
    return rule("tls", "ERR_SSL_WRONG_VERSION_NUMBER", `TLS problem with ${ctx.endpoint ?? "the target"}: the server did not answer with TLS (plaintext server on a wss:// URL?)`, "The port speaks plaintext: use ws:// or enable TLS on the server / load balancer.");
  }
  if (err.name === "SyntaxError" && /^Invalid URL|protocol must be one of|fragment identifier|invalid or duplicated subprotocol/.test(message)) {
    return rule("config", "WS_BAD_OPTION", `cannot open the WebSocket: ${message}`, "Fix the check's url / subprotocols.");
  }
  return undefined;
}

function rule(failureClass: ClassifiedError["class"], code: string, message: string, hint: string): Rule {
  return { class: failureClass, code, message, hint };
}

function byStatus(status: number, ctx: ClassifyContext): Rule {
  const what = `the upgrade${ctx.endpoint ? ` to ${ctx.endpoint}` : ""} was answered with HTTP ${status} instead of 101`;
  const code = `HTTP_${status}`;
  if (status === 401 || status === 403) return rule("auth", code, `${what} (credentials missing or rejected)`, "Check the Authorization header / token the check sends.");
  if (status === 404 || status === 410) return rule("not-found", code, `${what}: no WebSocket endpoint at this path`, "Check the path and that the deployed revision serves it.");
  if (status >= 500 || status === 429) return rule("server-error", code, what, "Read the server's (or load balancer's) logs.");
  return rule("protocol", code, `${what}: not a WebSocket endpoint`, "Check the URL and that proxies forward the Upgrade and Connection headers.");
}
