// The catalogue's generic layers: name resolution, the TCP connection, TLS,
// waiting for an answer, and infra-check itself. Every kind that dials
// shares these; a kind may refine a hint with what it knows about its own
// service (src/probes/<kind>/diagnose.ts, `refine`), never copy the entry.
import { defineCatalogue } from "./catalogue.js";
import { formatMs } from "../util/duration.js";
import { isPrivateAddress } from "../net/private-range.js";

/** Facts every generic entry may read. `service` names what was being reached ("Redis", "the service"). */
export interface EndpointFacts {
  /** host:port as configured, or what Node reported. */
  endpoint?: string;
  host?: string;
  service?: string;
  phase?: string;
  [key: string]: unknown;
}

export interface BudgetFacts extends EndpointFacts {
  budgetMs: number;
  /** Why the budget was what it was: " (cut short by the run deadline)", " (--timeout)", or "". */
  budgetNote?: string;
}

const service = (facts: EndpointFacts) => facts.service ?? "the service";
const where = (facts: EndpointFacts) => (facts.endpoint ? ` ${facts.endpoint}` : "");
const target = (facts: EndpointFacts) => facts.endpoint ?? "the target";
/**
 * A private address that cannot be reached from here: the runner is outside
 * its network (a laptop, a CI runner), not the service broken — the one hint
 * that says so, for every kind that dials (the address decides, not the kind).
 */
const privateHint = (f: EndpointFacts & { address?: string; vantage?: string }) => {
  const address = [f.address, f.host].find((candidate) => isPrivateAddress(candidate));
  if (!address) return undefined;
  // Measured on a runner (docs/runners.md): the runner itself is outside the network — its job's egress, not the check, needs fixing.
  if (f.vantage) {
    return `${address} is a private address and runner ${f.vantage} is not in its network: check runners.${f.vantage}.cloudRunJob (vpcConnector or directVpc, and vpcEgress: the job must egress into the VPC), then \`infra-check runner deploy ${f.vantage}\`.`;
  }
  return `${address} is a private address and this runner is not in its network: run this check with \`runner: vpc\` (see docs/runners.md) or from inside the VPC.`;
};
/** Whether a hint is the private-address one: a kind's refinement of the entry must not hide it (src/diagnose/classify.ts). */
export const isPrivateAddressHint = (hint: string) => / is a private address and (this runner|runner \S+) is not in its network: /.test(hint);
const budget = (facts: BudgetFacts) => `${formatMs(facts.budgetMs)}${facts.budgetNote ?? ""}`;

export const DNS = defineCatalogue("dns", {
  NOT_FOUND: {
    class: "dns",
    code: "ENOTFOUND",
    message: (f: EndpointFacts) => `name "${f.host}" does not resolve (ENOTFOUND): no such host`,
    hint: "Check the host name for typos, and that the DNS record (or private zone) exists for the network this runner is in.",
  },
  TEMPORARY: {
    class: "dns",
    code: "EAI_AGAIN",
    message: (f: EndpointFacts) =>
      `temporary DNS failure resolving "${f.host}" (EAI_AGAIN, "Try again"): the resolver did not answer — ${service(f)} was never contacted, so this is not ${f.service ?? "the service"} being down`,
    hint: (f: EndpointFacts) =>
      `Check the resolver this runner uses (/etc/resolv.conf, the VPC's DNS, Cloud DNS private zones) and retry — not ${service(f)}, which was never contacted; or connect by IP address.`,
  },
  TIMEOUT: {
    class: "dns",
    code: "DNS_TIMEOUT",
    message: (f: BudgetFacts) => `DNS lookup${where(f)} did not answer within ${budget(f)}`,
    hint: "The resolver is slow or unreachable: check /etc/resolv.conf or the VPC's DNS, not the service.",
  },
});

export const TCP = defineCatalogue("tcp", {
  REFUSED: {
    class: "refused",
    code: "ECONNREFUSED",
    message: (f: EndpointFacts) => `nothing listening at ${target(f)}: connection refused by ${target(f)} (the host is up, but nothing is listening on that port)`,
    hint: "Is the service running and listening on this port and interface? Check the port number and the service's bind address.",
  },
  CONNECT_TIMEOUT: {
    class: "unreachable",
    code: "CONNECT_TIMEOUT",
    phase: "connect",
    message: (f: BudgetFacts) => `no TCP connection to${where(f) || " the target"} within ${budget(f)}: packets are dropped on the way (nothing refused, nothing answered)`,
    hint: (f: BudgetFacts) => privateHint(f) ?? "No network path: check firewall rules, the VPC connector / egress settings, and whether this runner is inside the VPC.",
  },
  NO_ROUTE: {
    class: "unreachable",
    code: (f: EndpointFacts & { errno: string }) => f.errno,
    message: (f: EndpointFacts & { errno: string }) => `no network path to ${target(f)} (${f.errno})`,
    hint: (f: EndpointFacts) => privateHint(f) ?? "Check routes and firewall rules, the VPC connector / egress settings, and whether this runner is inside the VPC.",
  },
  RESET: {
    class: "protocol",
    code: (f: EndpointFacts & { errno: string }) => f.errno,
    message: (f: EndpointFacts & { errno: string }) => `${f.endpoint ?? "the peer"} reset the connection (${f.errno})${f.phase ? ` during ${f.phase}` : ""}`,
    hint: "The server dropped the connection: protocol mismatch (TLS vs plaintext), a connection limit, or a proxy in between.",
  },
});

interface PeerCertificate {
  certSubject?: string | null;
  certNames?: string[];
  certIssuer?: string | null;
  certNotAfter?: string | null;
  /** The name the check verified against (servername, else the host). */
  askedFor?: string;
}
type TlsFacts = EndpointFacts & { nodeCode?: string; reason?: string; peerCertificate?: PeerCertificate };

/** What the server's certificate says, when the handshake got that far: the evidence for every certificate problem. */
function certificateText(f: TlsFacts): string {
  const cert = f.peerCertificate;
  if (!cert) return "";
  const names = cert.certNames?.length ? cert.certNames.join(", ") : (cert.certSubject ?? "no name");
  const parts = [`the certificate is for ${names}`, cert.certIssuer ? `issued by "${cert.certIssuer}"` : undefined, cert.certNotAfter ? `valid until ${cert.certNotAfter}` : undefined];
  return ` (${parts.filter(Boolean).join(", ")}; the check asked for ${cert.askedFor ?? "?"})`;
}

const tlsEntry = (what: string, hint: string) => ({
  class: "tls" as const,
  code: (f: TlsFacts) => f.nodeCode,
  message: (f: TlsFacts) => `TLS problem with ${target(f)}: ${what}${certificateText(f)}`,
  hint,
});

export const TLS = defineCatalogue("tls", {
  SELF_SIGNED: tlsEntry("the server's certificate is self-signed and not trusted", "Point tls.ca at the CA that signed the server certificate (tls.insecure: true only for triage)."),
  UNTRUSTED_ROOT: tlsEntry("the certificate chain ends in a self-signed CA that is not trusted", "Point tls.ca at that CA (the server's chain ends in it), or fix the server's chain."),
  UNKNOWN_ISSUER: tlsEntry("the certificate's issuer is unknown (missing intermediate or CA)", "The server must send its intermediate certificates, or tls.ca must hold the issuing CA."),
  EXPIRED: tlsEntry("the server's certificate has expired", "Renew the server certificate."),
  NOT_YET_VALID: tlsEntry("the server's certificate is not valid yet (clock skew?)", "Check the clocks of the server and of this runner, or the certificate's start date."),
  NAME_MISMATCH: tlsEntry("the certificate does not match the host name", "Connect with the name on the certificate, or set tls.servername to it."),
  REVOKED: tlsEntry("the server's certificate is revoked", "Replace the revoked certificate on the server."),
  NOT_TLS: {
    class: "tls",
    code: "ERR_SSL_WRONG_VERSION_NUMBER",
    message: (f: TlsFacts) => `TLS problem with ${target(f)}: the server did not answer with TLS (plaintext server on a TLS port?)`,
    hint: "The port speaks plaintext: use the non-TLS scheme (redis://, http://, ws://) or enable TLS on the server.",
  },
  CLIENT_CA_REJECTED: tlsEntry("the server rejected our client certificate's CA", "Use a client certificate (tls.cert, tls.key) signed by a CA the server trusts."),
  HANDSHAKE_FAILURE: tlsEntry("TLS handshake failure (no common cipher or protocol version)", "The server and this client share no TLS version or cipher: check the server's TLS settings (minimum version, ciphers)."),
  CLIENT_CERT_REQUIRED: tlsEntry("the server requires a client certificate (mutual TLS)", "Give the check a client certificate: tls.cert and tls.key."),
  OTHER: {
    class: "tls",
    code: (f: TlsFacts) => f.nodeCode,
    message: (f: TlsFacts) => `TLS problem with ${target(f)}: ${f.reason}${certificateText(f)}`,
    hint: "Fix the TLS setup: trusted CA (tls.ca), certificate validity and name (tls.servername), or the scheme.",
  },
  TIMEOUT: {
    class: "tls",
    code: "TLS_TIMEOUT",
    phase: "tls",
    message: (f: BudgetFacts) => `TCP connected${where(f)} but the TLS handshake did not finish within ${budget(f)}`,
    hint: "The server may not speak TLS on this port (plaintext server?), or a proxy is stalling the handshake.",
  },
});

/** What a peer sent, as evidence: printable, one line, short. */
export function shownBytes(text: string, chars = 60): string {
  const line = text.replace(/\r?\n[\s\S]*$/, "").replace(/[^\x20-\x7e]/g, ".");
  return line.length > chars ? `${line.slice(0, chars)}…` : line;
}

export const PEER = defineCatalogue("peer", {
  NOT_THE_SERVICE: {
    class: "protocol",
    code: "WRONG_SERVICE",
    message: (f: EndpointFacts & { said: string }) => `${f.endpoint ?? "the target"} is not ${f.service ?? "the expected service"}: it sent "${shownBytes(f.said)}"`,
    hint: (f: EndpointFacts) => `Another service answers on this port (the text above says which): check the host and port of the check, and what ${f.service ?? "the service"} really listens on.`,
  },
  NOT_HTTP: {
    class: "protocol",
    code: "NOT_HTTP",
    message: (f: EndpointFacts & { said?: string; reason: string }) =>
      `${f.endpoint ?? "the target"} is not an HTTP server: ${f.said ? `it sent "${shownBytes(f.said)}"` : `its answer does not parse as HTTP (${f.reason})`}`,
    hint: "Another service listens on this port (SSH, Redis, a TLS port receiving plaintext?): check the URL's host, port and scheme.",
  },
  HEADERS_TOO_LARGE: {
    class: "protocol",
    code: "HPE_HEADER_OVERFLOW",
    message: (f: EndpointFacts) => `${f.endpoint ?? "the target"} answered HTTP, but its response headers are larger than 16 KiB (Node's limit, as most proxies have): no client will read this response`,
    hint: "The server (or a proxy in front of it) sends oversized headers — a runaway Set-Cookie, a header echoing the request: look at the raw response with curl -sv and at what adds headers on the way.",
  },
  BROKEN_HTTP: {
    class: "protocol",
    code: (f: { nodeCode?: string }) => f.nodeCode ?? "BAD_HTTP",
    message: (f: EndpointFacts & { reason: string; nodeCode?: string }) => `${f.endpoint ?? "the target"} answered HTTP that does not parse (${f.nodeCode ? `${f.nodeCode}: ` : ""}${f.reason})`,
    hint: "The server speaks HTTP but breaks it (an invalid header, a bad Content-Length or chunk): look at the raw response with curl -sv, and at any proxy in between.",
  },
});

export const TIMEOUT = defineCatalogue("timeout", {
  BUDGET_SPENT: {
    class: "timeout",
    code: "BUDGET_SPENT",
    message: (f: BudgetFacts & { connectMs: number; before: string[] }) =>
      `the check's budget (${budget(f)}) ran out before the TCP connection${f.endpoint ? ` to ${f.endpoint}` : ""} could complete: connecting had only ${formatMs(f.connectMs)} of it` +
      (f.before.length ? ` (${f.before.join(", ")} took the rest)` : "") +
      " — nothing says the network dropped anything",
    hint: (f: BudgetFacts) => `Raise the check's timeout${f.budgetNote?.includes("--timeout") ? " (--timeout)" : ""}: its budget went to work before the connection, not to the network.`,
  },
  RUN_DEADLINE: {
    class: "timeout",
    code: "RUN_DEADLINE",
    message: (f: BudgetFacts & { timeoutMs: number; startedAfterMs: number }) =>
      `the run's deadline left this check ${formatMs(f.budgetMs)} of its ${formatMs(f.timeoutMs)} timeout (it started ${formatMs(f.startedAfterMs)} into the run: start-up, config and the checks before it), not enough to connect${f.endpoint ? ` to ${f.endpoint}` : ""}`,
    hint: "Raise the run's deadline (--deadline, or `deadline:` in the config) or shorten what runs before this check (its dependsOn chain).",
  },
  NO_ANSWER: {
    class: "timeout",
    code: "TIMEOUT",
    message: (f: BudgetFacts) => `connected${where(f)} but no answer${f.phase ? ` during ${f.phase}` : ""} within ${budget(f)}`,
    hint: "The server accepted the connection but did not respond: it may be overloaded, blocked, or not the service you expect on this port.",
  },
});

export const CHECK = defineCatalogue("check", {
  INTERNAL: {
    class: "internal",
    message: (f: { phase?: string; name: string; text: string }) => `unexpected error${f.phase ? ` during ${f.phase}` : ""}: ${f.name}: ${f.text}`,
    hint: "infra-check could not classify this error. Re-run with --verbose and report it; meanwhile check the target by hand.",
  },
  FD_LIMIT: {
    class: "config",
    code: (f: { errno: string }) => f.errno,
    message: (f: EndpointFacts & { errno: string; limit?: number; concurrency?: number }) =>
      `infra-check ran out of file descriptors (${f.errno}${f.errno === "ENFILE" ? ": the system's open-file table is full" : ""})${f.phase ? ` during ${f.phase}` : ""}: this is infra-check's own limit${f.limit ? ` (open files ${f.limit}` : ""}${f.limit && f.concurrency ? `, ${f.concurrency} checks in flight at most)` : f.limit ? ")" : ""}, not the network — ${target(f)} was not reached or judged`,
    hint: "Lower `concurrency:` at the top of the config (or --concurrency) — by default it is sized to the open-files limit — or raise that limit for the runner (ulimit -n, LimitNOFILE= in a systemd unit, the container's nofile ulimit).",
  },
  UNRESOLVED_SECRET: {
    class: "internal",
    message: "a secret reference was not resolved before the probe ran",
    hint: "This is a bug in infra-check's secret resolution: report it with the check's config (secrets redacted).",
  },
});

/** Node's TLS error codes → the entry that explains them. */
export const TLS_BY_NODE_CODE: Record<string, (typeof TLS)[keyof typeof TLS]> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: TLS.SELF_SIGNED,
  SELF_SIGNED_CERT_IN_CHAIN: TLS.UNTRUSTED_ROOT,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: TLS.UNKNOWN_ISSUER,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: TLS.UNKNOWN_ISSUER,
  UNABLE_TO_GET_ISSUER_CERT: TLS.UNKNOWN_ISSUER,
  CERT_HAS_EXPIRED: TLS.EXPIRED,
  CERT_NOT_YET_VALID: TLS.NOT_YET_VALID,
  ERR_TLS_CERT_ALTNAME_INVALID: TLS.NAME_MISMATCH,
  CERT_REVOKED: TLS.REVOKED,
  ERR_SSL_WRONG_VERSION_NUMBER: TLS.NOT_TLS,
  ERR_SSL_PACKET_LENGTH_TOO_LONG: TLS.NOT_TLS,
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: TLS.CLIENT_CA_REJECTED,
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: TLS.HANDSHAKE_FAILURE,
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: TLS.CLIENT_CERT_REQUIRED,
};

export const GENERIC_CATALOGUES = [DNS, TCP, TLS, PEER, TIMEOUT, CHECK];
