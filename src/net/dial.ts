// The one way a probe opens a connection: resolve (the `dns` phase, skipped
// for IP literals), connect (`connect`), and optionally TLS (`tls`, also
// available later on an open socket for protocols that negotiate it first,
// as PostgreSQL does). Each phase is recorded only when it completed; a
// phase that never happened is absent. Every wait ends with the signal, and
// a socket that fails or is aborted is destroyed before the error goes on —
// with Node's own error code, which the classifier reads.
import { once } from "node:events";
import net from "node:net";
import type tls from "node:tls";
import { createRequire } from "node:module";
import { bareHost, type LookupFn } from "./resolve.js";
import { certificateMetrics, tlsOptions, type TlsSpec } from "./tls.js";
import { roundMs } from "../util/stats.js";

// Loading tls costs ~15 ms of start-up: only when a connection uses it.
const require = createRequire(import.meta.url);

/** Where a dial reports: a phase sink, and where the phase timings also land as metrics (`connectMs`, …). */
export interface DialContext {
  signal: AbortSignal;
  lookup?: LookupFn;
  phases: { start(name: string): void; record(name: string, ms: number): void };
  metrics?: Record<string, unknown>;
  /** Where the first bytes the peer sends are kept (`peerSaid`), for "this is not Redis: it sent …". */
  facts?: Record<string, unknown>;
}

/** How much of what the peer sent first is kept as evidence. */
const FIRST_BYTES = 256;

/**
 * Keep the first bytes the peer sends, as they are handed to whoever reads
 * the socket. It observes `emit` rather than listening for `data`: a listener
 * would switch the socket to flowing before its reader is attached, and the
 * reader would miss what came first.
 */
export function recordFirstBytes(socket: net.Socket, facts: Record<string, unknown> | undefined): void {
  if (!facts) return;
  let kept = Buffer.alloc(0);
  const emit = socket.emit;
  socket.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]) {
    if (event === "data" && kept.length < FIRST_BYTES) {
      const chunk = args[0];
      kept = Buffer.concat([kept, Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))]).subarray(0, FIRST_BYTES);
      facts.peerSaid = kept.toString("latin1");
      if (kept.length >= FIRST_BYTES) socket.emit = emit;
    }
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
  } as typeof socket.emit;
}

export interface TlsUpgrade {
  /** The shared `tls:` block. */
  spec?: TlsSpec;
  /** The name the user asked for: SNI and the certificate check use it (or spec.servername). */
  hostname: string;
  /** Override the verification: "ca" checks the chain only (libpq's verify-ca), "none" encrypts without verifying. */
  verify?: "full" | "ca" | "none";
  /** Node options over the spec's: key material already in memory, an identity check of the protocol's own (the Cloud SQL connector's). */
  extra?: tls.ConnectionOptions;
}

export interface DialTarget {
  /** As configured: a name or an IP literal (brackets stripped). */
  host: string;
  port: number;
  /** Already resolved (WebSocket load mode resolves once for all its connections). */
  address?: { address: string; family: 4 | 6 };
  /** TLS right after the TCP connection. */
  tls?: TlsUpgrade;
  /** A Unix socket instead of host:port (PostgreSQL's socket directory). */
  socketPath?: string;
}

export type DialedSocket = net.Socket | tls.TLSSocket;

/** dns → connect → (tls). */
export async function dial(ctx: DialContext, target: DialTarget): Promise<DialedSocket> {
  const address = target.socketPath ? undefined : (target.address ?? (await resolveAddress(ctx, target.host)));
  const socket = await connect(ctx, target, address);
  if (!target.tls) {
    recordFirstBytes(socket, ctx.facts);
    return socket;
  }
  return startTls(ctx, socket, target.tls);
}

/** The `dns` phase alone (skipped for IP literals), for a caller that dials the same host more than once. */
export async function resolveAddress(ctx: DialContext, host: string): Promise<{ address: string; family: 4 | 6 }> {
  const literal = net.isIP(bareHost(host));
  if (literal) return { address: bareHost(host), family: literal as 4 | 6 };
  if (!ctx.lookup) throw new Error("dial: a host name needs ctx.lookup");
  ctx.phases.start("dns");
  const started = performance.now();
  const addresses = await ctx.lookup(host, ctx.signal);
  if (addresses.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND", hostname: host });
  const ms = performance.now() - started;
  ctx.phases.record("dns", ms);
  if (ctx.metrics) ctx.metrics.dnsMs = roundMs(ms);
  // Prefer IPv4 like most server configs expect; fall back to the first answer.
  return addresses.find((entry) => entry.family === 4) ?? addresses[0];
}

async function connect(ctx: DialContext, target: DialTarget, address: { address: string; family: 4 | 6 } | undefined): Promise<net.Socket> {
  ctx.phases.start("connect");
  const started = performance.now();
  const socket = target.socketPath
    ? net.connect({ path: target.socketPath })
    : net.connect({ host: address!.address, port: target.port, family: address!.family, noDelay: true });
  // Errors surface through the awaited event below (and later through whoever reads the socket).
  socket.on("error", () => undefined);
  try {
    await once(socket, "connect", { signal: ctx.signal });
  } catch (error) {
    socket.destroy();
    throw error;
  }
  const ms = performance.now() - started;
  ctx.phases.record("connect", ms);
  if (ctx.metrics) ctx.metrics.connectMs = roundMs(ms);
  return socket;
}

/** The TLS handshake on an open socket; records the `tls` phase and the server certificate's metrics. */
export async function startTls(ctx: DialContext, socket: net.Socket, upgrade: TlsUpgrade): Promise<tls.TLSSocket> {
  const { connect: tlsConnect } = require("node:tls") as typeof import("node:tls");
  ctx.phases.start("tls");
  const started = performance.now();
  const options = { ...tlsOptions(upgrade.spec, upgrade.hostname), ...upgrade.extra };
  if (upgrade.verify === "none") options.rejectUnauthorized = false;
  if (upgrade.verify === "ca") {
    options.rejectUnauthorized = true;
    options.checkServerIdentity = () => undefined;
  }
  if (upgrade.verify === "full") options.rejectUnauthorized = true;
  // Verified by hand after the handshake (what rejectUnauthorized would do), so a certificate that
  // fails verification can still be described: its names, issuer and expiry are the evidence.
  const verify = options.rejectUnauthorized !== false;
  const secure = tlsConnect({ socket, ...options, rejectUnauthorized: false });
  secure.on("error", () => undefined);
  try {
    await once(secure, "secureConnect", { signal: ctx.signal });
  } catch (error) {
    secure.destroy();
    socket.destroy();
    throw error;
  }
  const certificate = certificateMetrics(secure);
  if (ctx.facts) ctx.facts.peerCertificate = { ...certificate, askedFor: upgrade.spec?.servername ?? upgrade.hostname };
  if (verify && !secure.authorized) {
    secure.destroy();
    socket.destroy();
    const reason = String(secure.authorizationError ?? "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    throw Object.assign(new Error(`certificate verification failed: ${reason}`), { code: reason });
  }
  recordFirstBytes(secure, ctx.facts);
  const ms = performance.now() - started;
  ctx.phases.record("tls", ms);
  if (ctx.metrics) {
    ctx.metrics.tlsMs = roundMs(ms);
    Object.assign(ctx.metrics, certificate);
  }
  return secure;
}
