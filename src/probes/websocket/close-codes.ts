// Close codes (RFC 6455 §7.4 and the IANA registry) explained, and the
// failure class each one gives when the server closes before the check is done.
import type { FailureClass } from "../../diagnose/vocabulary.js";

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
  if (code === 1008 || code === 4401 || code === 4403) return "auth";
  if (code === 1011 || code === 1012 || code === 1013 || code === 1014) return "server-error";
  return "protocol";
}

export function closeHint(code: number): string {
  switch (closeClass(code)) {
    case "auth":
      return "The server closed with a policy violation, which chat servers use for a missing, expired or rejected token: check the token (headers / token:) and the reason text.";
    case "server-error":
      return code === 1011
        ? "The server hit an internal error after accepting the connection: read its logs around this time (agent runtime, Redis/Postgres it depends on)."
        : "The server is restarting or overloaded: check its deployment (Cloud Run revisions, instance limits) and retry.";
    default:
      if (code === 1006) {
        return "The TCP connection died without a WebSocket close frame: the server crashed or a proxy/load balancer cut the connection (idle timeout, no WebSocket support).";
      }
      return "The server ended the conversation in a way the check does not expect: compare the client and server protocol versions.";
  }
}
