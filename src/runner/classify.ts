// The only place that reads error codes. Turns whatever a probe threw into a
// FailureClass + a message that names the layer. Library-specific rules live
// in ./classifiers/<client>.ts and are consulted before the generic Node
// network rules, because they know better (e.g. ioredis hides ECONNREFUSED
// behind "Connection is closed").
import { type ClassifiedError } from "../diagnose/vocabulary.js";
import { ProbeFailure } from "../probes/api.js";
import { BudgetExceeded } from "./deadline.js";
import { formatMs } from "../util/duration.js";
import { classifyRedisError } from "./classifiers/redis.js";
import { classifyPostgresError } from "./classifiers/postgres.js";
import { classifyWebsocketError } from "./classifiers/websocket.js";
import { classifyGrpcError } from "./classifiers/grpc.js";

export interface ClassifyContext {
  kind: string;
  /** Phase in progress when the error happened. */
  phase?: string;
  /** Phases completed before the error. */
  completedPhases: string[];
  /** host or host:port the check targets, for messages. */
  endpoint?: string;
  budgetMs: number;
}

const LIBRARY_RULES = [classifyRedisError, classifyPostgresError, classifyWebsocketError, classifyGrpcError];

/** Phases after which the TCP connection exists: a timeout there is the server's silence, not the network. */
const CONNECTED_AFTER = new Set(["connect", "tls", "upgrade", "auth", "startup"]);

export function classify(error: unknown, ctx: ClassifyContext): ClassifiedError {
  const phase = ctx.phase;
  if (error instanceof ProbeFailure) {
    return { class: error.failureClass, message: error.message, code: error.code, hint: error.hint, phase: error.phase ?? phase };
  }
  if (error instanceof BudgetExceeded || isAbort(error)) return classifyTimeout(ctx, error);
  for (const rule of LIBRARY_RULES) {
    const found = rule(error, ctx);
    if (found) return { phase, ...found };
  }
  const network = classifyNodeError(error, ctx);
  if (network) return { phase, ...network };
  const err = error as Error | undefined;
  return {
    class: "internal",
    message: `unexpected error${phase ? ` during ${phase}` : ""}: ${err?.name ?? typeof error}: ${err?.message ?? String(error)}`,
    phase,
    hint: "infra-check could not classify this error. Re-run with --verbose and report it; meanwhile check the target by hand.",
  };
}

function isAbort(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return name === "AbortError" || name === "TimeoutError";
}

function classifyTimeout(ctx: ClassifyContext, error: unknown): ClassifiedError {
  const budget = formatMs(error instanceof BudgetExceeded ? error.budgetMs : ctx.budgetMs);
  const byRun = error instanceof BudgetExceeded && error.byRunDeadline ? " (cut short by the run deadline)" : "";
  const where = ctx.endpoint ? ` ${ctx.endpoint}` : "";
  const phase = ctx.phase;
  const connected = ctx.completedPhases.some((done) => CONNECTED_AFTER.has(done));
  if (phase === "dns") {
    return {
      class: "dns",
      code: "DNS_TIMEOUT",
      phase,
      message: `DNS lookup${where} did not answer within ${budget}${byRun}`,
      hint: "The resolver is slow or unreachable: check /etc/resolv.conf or the VPC's DNS, not the service.",
    };
  }
  if (!connected && (phase === undefined || phase === "connect")) {
    return {
      class: "unreachable",
      code: "CONNECT_TIMEOUT",
      phase: phase ?? "connect",
      message: `no TCP connection to${where || " the target"} within ${budget}${byRun}: packets are dropped on the way (nothing refused, nothing answered)`,
      hint: "No network path: check firewall rules, the VPC connector / egress settings, and whether this runner is inside the VPC.",
    };
  }
  if (phase === "tls") {
    return {
      class: "tls",
      code: "TLS_TIMEOUT",
      phase,
      message: `TCP connected${where} but the TLS handshake did not finish within ${budget}${byRun}`,
      hint: "The server may not speak TLS on this port (plaintext server?), or a proxy is stalling the handshake.",
    };
  }
  return {
    class: "timeout",
    code: "TIMEOUT",
    phase,
    message: `connected${where} but no answer${phase ? ` during ${phase}` : ""} within ${budget}${byRun}`,
    hint: "The server accepted the connection but did not respond: it may be overloaded, blocked, or not the service you expect on this port.",
  };
}

const TLS_CODES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed and not trusted",
  SELF_SIGNED_CERT_IN_CHAIN: "the certificate chain ends in a self-signed CA that is not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the certificate's issuer is unknown (missing intermediate or CA)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the certificate's issuer is not in the trusted CAs",
  UNABLE_TO_GET_ISSUER_CERT: "the certificate's issuer could not be found",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet (clock skew?)",
  ERR_TLS_CERT_ALTNAME_INVALID: "the certificate does not match the host name",
  CERT_REVOKED: "the server's certificate is revoked",
  ERR_SSL_WRONG_VERSION_NUMBER: "the server did not answer with TLS (plaintext server on a TLS port?)",
  ERR_SSL_PACKET_LENGTH_TOO_LONG: "the server did not answer with TLS (plaintext server on a TLS port?)",
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "the server rejected our client certificate's CA",
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: "TLS handshake failure (no common cipher or protocol version)",
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: "the server requires a client certificate (mutual TLS)",
};

/** The generic Node network rules (DNS, refused, no route, reset, TLS), also what a library rule refines. */
export function classifyNodeError(error: unknown, ctx: ClassifyContext): Omit<ClassifiedError, "phase"> | undefined {
  const err = unwrapAggregate(error) as (NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number; reason?: string }) | undefined;
  if (!err || typeof err !== "object") return undefined;
  const code = err.code;
  const where = ctx.endpoint ?? [err.address, err.port].filter(Boolean).join(":");
  switch (code) {
    case "ENOTFOUND":
      return {
        class: "dns",
        code,
        message: `name "${err.hostname ?? hostFrom(where)}" does not resolve (ENOTFOUND: no such host)`,
        hint: "Check the host name for typos, and that the DNS record / private zone exists for this network.",
      };
    case "EAI_AGAIN":
      return {
        class: "dns",
        code,
        message: `temporary DNS failure resolving "${err.hostname ?? hostFrom(where)}" (EAI_AGAIN, "Try again"): the resolver did not answer — this is not the service being down`,
        hint: "Check the resolver (/etc/resolv.conf, VPC DNS, Cloud DNS private zones) and retry; the service itself was never contacted.",
      };
    case "ECONNREFUSED":
      return {
        class: "refused",
        code,
        message: `connection refused by ${where || "the target"}: the host is up but nothing is listening on that port`,
        hint: "Is the service running and listening on this port and interface? Check the port number and the service's bind address.",
      };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EADDRNOTAVAIL":
    case "ETIMEDOUT":
      return {
        class: "unreachable",
        code,
        message: `no network path to ${where || "the target"} (${code})`,
        hint: "Check routes and firewall rules, the VPC connector / egress settings, and whether this runner is inside the VPC.",
      };
    case "ECONNRESET":
    case "EPIPE":
      return {
        class: "protocol",
        code,
        message: `${where || "the peer"} reset the connection (${code})${ctx.phase ? ` during ${ctx.phase}` : ""}`,
        hint: "The server dropped the connection: protocol mismatch (TLS vs plaintext), a connection limit, or a proxy in between.",
      };
  }
  if (code === "EPROTO" && /wrong version number|packet length too long|http request/i.test(err.message ?? "")) {
    return {
      class: "tls",
      code: "ERR_SSL_WRONG_VERSION_NUMBER",
      message: `TLS problem with ${where || "the target"}: ${TLS_CODES.ERR_SSL_WRONG_VERSION_NUMBER}`,
      hint: tlsHint("ERR_SSL_WRONG_VERSION_NUMBER"),
    };
  }
  const tlsText = code ? TLS_CODES[code] : undefined;
  if (tlsText || (code && /^ERR_SSL_|^ERR_TLS_/.test(code)) || /certificate|SSL routines|TLS/i.test(err.message ?? "")) {
    return {
      class: "tls",
      code,
      message: `TLS problem with ${where || "the target"}: ${tlsText ?? err.reason ?? err.message}`,
      hint: tlsHint(code),
    };
  }
  return undefined;
}

function tlsHint(code: string | undefined): string {
  switch (code) {
    case "CERT_HAS_EXPIRED":
      return "Renew the server certificate.";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return "Connect with the name on the certificate, or set tls.servername to it.";
    case "ERR_SSL_WRONG_VERSION_NUMBER":
    case "ERR_SSL_PACKET_LENGTH_TOO_LONG":
      return "The port speaks plaintext: use the non-TLS scheme (redis://, http://, ws://) or enable TLS on the server.";
    default:
      return "Point tls.ca at the CA that signed the server certificate (tls.insecure: true only for triage).";
  }
}

function unwrapAggregate(error: unknown): unknown {
  // A name resolving to several addresses fails with an AggregateError whose own message is empty.
  if (error instanceof AggregateError && error.errors.length > 0) {
    const first = error.errors[0] as NodeJS.ErrnoException;
    if (!first.code && (error as NodeJS.ErrnoException).code) first.code = (error as NodeJS.ErrnoException).code;
    return first;
  }
  return error;
}

function hostFrom(endpoint: string): string {
  return endpoint.replace(/:\d+$/, "");
}
