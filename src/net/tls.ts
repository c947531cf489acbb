// The shared `tls:` block → Node TLS options. Certificate files are read here
// (paths were resolved and checked when the config was loaded).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import type { ConnectionOptions, TLSSocket } from "node:tls";

/** TLS options shared by every kind (`tls:` block). Paths are already resolved against the config file. */
export interface TlsSpec {
  /** A PEM file path, PEM text (a `{ memorystoreCa }` reference once resolved), or the unresolved reference. */
  ca?: string | { memorystoreCa: string };
  cert?: string;
  key?: string;
  servername?: string;
  /** Opt-in: accept any certificate. */
  insecure?: boolean;
}

// Loading tls costs ~15 ms of start-up: only when a certificate is checked.
const require = createRequire(import.meta.url);

/**
 * `hostname` is the name the user asked for; probes connect to the resolved
 * address, so the certificate is verified against `servername ?? hostname`.
 */
/** The CA as a run sees it: a path or PEM text (a `{ memorystoreCa }` reference is resolved before the check's run). */
export function resolvedCa(ca: TlsSpec["ca"]): string | undefined {
  if (ca !== undefined && typeof ca !== "string") throw new Error("tls.ca: a { memorystoreCa } reference reached the TLS options unresolved");
  return ca;
}

export function tlsOptions(spec: TlsSpec | undefined, hostname: string): ConnectionOptions {
  const options: ConnectionOptions = {};
  const name = spec?.servername ?? hostname;
  // SNI must not be an IP address (RFC 6066): send it only for names.
  if (name && !net.isIP(name)) options.servername = name;
  options.checkServerIdentity = (_host, cert) => (require("node:tls") as typeof import("node:tls")).checkServerIdentity(name, cert);
  if (typeof spec?.ca === "string") options.ca = spec.ca.startsWith("-----BEGIN") ? spec.ca : readFileSync(spec.ca);
  else if (spec?.ca) throw new Error("tls.ca: a { memorystoreCa } reference reached the TLS options unresolved");
  if (spec?.cert) options.cert = readFileSync(spec.cert);
  if (spec?.key) options.key = readFileSync(spec.key);
  if (spec?.insecure) options.rejectUnauthorized = false;
  return options;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * What the server's certificate says about itself: days until it expires
 * (`certExpiresInDays`, negative once expired), when, to whom it was issued
 * (subject CN and subject-alternative names) and by whom.
 */
export function certificateMetrics(socket: TLSSocket, now = Date.now()): Record<string, string | number | string[] | null> {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return {};
  const notAfter = Date.parse(cert.valid_to);
  const names = (cert.subjectaltname ?? "")
    .split(/,\s*/)
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ""))
    .filter(Boolean);
  return {
    certExpiresInDays: Number.isFinite(notAfter) ? Math.round(((notAfter - now) / DAY_MS) * 100) / 100 : null,
    certNotAfter: Number.isFinite(notAfter) ? new Date(notAfter).toISOString() : null,
    certSubject: firstOf(cert.subject?.CN) ?? null,
    certNames: names,
    certIssuer: firstOf(cert.issuer?.CN) ?? firstOf(cert.issuer?.O) ?? null,
  };
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
