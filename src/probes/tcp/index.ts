// kind: tcp — can this runner open a connection to host:port (and complete
// TLS on it), and does what answers look like the expected service? The
// banner (the first line a server sends: SSH, SMTP, Redis's -ERR, …) is read
// only when an expectation names it, and `send:` can say something first.
// With TLS, the server certificate's metrics (certExpiresInDays, names,
// issuer) come from the shared dial, as for every kind that speaks TLS.
import { z } from "zod";
import { defineCatalogue, failure } from "../../diagnose/catalogue.js";
import { dial, type DialedSocket } from "../../net/dial.js";
import { bareHost } from "../../net/resolve.js";
import { formatMs, parseDurationMs } from "../../util/duration.js";
import { ConfigError } from "../../util/errors.js";
import { roundMs } from "../../util/stats.js";
import type { ProbeContext, ProbeDefinition } from "../api.js";
import { durationSchema, tlsSchema } from "../shared/schema.js";
import { CERTIFICATE_METRICS } from "../shared/tls.js";
import { certFigure, figures, msFigure } from "../shared/pass-line.js";

/** A banner is one line; more is not a banner. */
const MAX_BANNER_BYTES = 512;

const schema = z
  .strictObject({
    address: z
      .string()
      .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/, "expected host:port, e.g. 10.0.0.3:22 or [::1]:443")
      .meta({ description: "host:port to connect to ([::1]:443 for IPv6)" }),
    tls: tlsSchema.optional().meta({ description: "TLS options; a tls: block (even {}) turns TLS on after the TCP connection" }),
    send: z.string().min(1).optional().meta({ description: "Bytes to send once connected (\\r\\n as written), before the banner is read" }),
    bannerWithin: durationSchema.optional().meta({ description: "How long to wait for the banner (default: the rest of the check's budget)" }),
  })
  .superRefine((spec, ctx) => {
    const port = Number(/:(\d+)$/.exec(spec.address)?.[1]);
    if (!(port >= 1 && port <= 65535)) ctx.addIssue({ code: "custom", path: ["address"], message: `port ${port} is not between 1 and 65535` });
  });
type TcpFields = z.infer<typeof schema>;

export const TCP_BANNER = defineCatalogue("banner", {
  SILENT: {
    class: "timeout",
    code: "NO_BANNER",
    message: (f: { where: string; waited: string }) => `connected to ${f.where}, but it sent nothing within ${f.waited}: no banner to match`,
    hint: "The service speaks only when spoken to (HTTP, PostgreSQL): drop the banner expectation, or set `send:` to what it expects first.",
  },
  CLOSED: {
    class: "protocol",
    code: "CLOSED_BEFORE_BANNER",
    message: (f: { where: string }) => `${f.where} accepted the connection and closed it without sending anything`,
    hint: "Something accepts and drops connections here (a proxy without a backend, a server at its connection limit, a TLS port receiving plaintext): check the service's log.",
  },
});

function split(address: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(address)!;
  return { host: bareHost(match[1]), port: Number(match[2]) };
}

const wantsBanner = (spec: { expect: object; warn: object }) => "banner" in spec.expect || "banner" in spec.warn || "bannerMs" in spec.expect || "bannerMs" in spec.warn;

const tcpProbe: ProbeDefinition<TcpFields> = {
  kind: "tcp",
  summary: "TCP (and TLS) reachability, banner, certificate expiry",
  schema,
  metrics: {
    dnsMs: { unit: "ms", class: "slow", description: "name resolution (host names only)" },
    connectMs: { unit: "ms", class: "slow", description: "TCP connect" },
    ...CERTIFICATE_METRICS,
    banner: { class: "protocol", description: "the first line the server sent (read only when an expectation names it)" },
    bannerMs: { unit: "ms", class: "slow", description: "connected → the banner's first bytes" },
  },
  diagnosis: {
    service: "the service",
    catalogue: TCP_BANNER,
    hints: {
      protocol: "Something else answers on this port: compare the banner with the service you expect (and its version).",
      tls: "The server certificate does not meet the expectation: renew it before it expires, or fix its names and issuer.",
    },
  },
  passLine: ({ metrics }) =>
    figures(msFigure("connected in", metrics.connectMs), msFigure("TLS", metrics.tlsMs), typeof metrics.banner === "string" && `banner "${metrics.banner.slice(0, 40)}"`, certFigure(metrics)),
  target: (spec) => `tcp://${spec.address}${spec.tls ? " (TLS)" : ""}`,
  secrets: () => [],

  async run(spec, ctx) {
    const { host, port } = split(spec.address);
    let socket: DialedSocket | undefined;
    try {
      socket = await dial(ctx, { host, port, ...(spec.tls ? { tls: { spec: spec.tls, hostname: host } } : {}) });
      if (spec.send !== undefined) socket.write(spec.send.replace(/\\r/g, "\r").replace(/\\n/g, "\n"));
      if (wantsBanner(spec)) await readBanner(socket, spec, ctx);
    } finally {
      socket?.destroy();
    }
  },

  oneOff: {
    command: "tcp",
    argument: "<host:port>",
    forms: ["HOST:PORT", "[IPV6]:PORT"],
    description: "Open a TCP (and optionally TLS) connection once: reachability, banner, certificate expiry",
    options: [
      { flags: "--tls", description: "complete a TLS handshake after connecting (certificate metrics: certExpiresInDays, certNames, certIssuer)" },
      { flags: "--tls-ca <file>", description: "CA bundle (PEM) to trust; turns TLS on" },
      { flags: "--servername <name>", description: "TLS name to verify the certificate against (when connecting by IP)" },
      { flags: "-k, --insecure", description: "accept any TLS certificate (triage only); the certificate's metrics are still reported" },
      { flags: "--banner <regex>", description: "expect the first line the server sends to match, e.g. '^SSH-2\\.0'" },
      { flags: "--send <text>", description: "send this once connected (\\r\\n as written), e.g. 'PING\\r\\n'" },
    ],
    examples: [
      "infra-check tcp 10.0.0.3:22 --banner '^SSH-2\\.0'",
      "infra-check tcp api.example.com:443 --tls --expect 'certExpiresInDays>14'",
      "infra-check tcp 10.166.204.83:6378 --tls-ca ./memorystore-ca.pem --servername redis.internal",
    ],
    toRawCheck(argument, options) {
      const tls: Record<string, unknown> = {};
      if (options.tlsCa) tls.ca = options.tlsCa;
      if (options.servername) tls.servername = options.servername;
      if (options.insecure) tls.insecure = true;
      const useTls = Boolean(options.tls) || Object.keys(tls).length > 0;
      if (options.banner !== undefined) {
        try {
          new RegExp(String(options.banner));
        } catch (error) {
          throw new ConfigError(`--banner: not a regular expression (${(error as Error).message})`);
        }
      }
      return {
        kind: "tcp",
        address: argument,
        ...(useTls ? { tls } : {}),
        ...(options.send !== undefined ? { send: String(options.send) } : {}),
        ...(options.banner !== undefined ? { expect: { banner: `~ ${String(options.banner)}` } } : {}),
      };
    },
  },
};

/** The first line (or the first bytes, up to MAX_BANNER_BYTES) the server sends. */
async function readBanner(socket: DialedSocket, spec: TcpFields, ctx: ProbeContext): Promise<void> {
  ctx.phases.start("banner");
  const started = performance.now();
  const withinMs = spec.bannerWithin !== undefined ? Math.min(parseDurationMs(spec.bannerWithin)!, ctx.deadline.remainingMs()) : ctx.deadline.remainingMs();
  const where = spec.address;
  const text = await new Promise<string>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const done = (error?: unknown) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      stopWatching();
      if (error) reject(error);
      else resolve(received.toString("latin1"));
    };
    const onData = (chunk: Buffer) => {
      if (received.length === 0) ctx.metrics.bannerMs = roundMs(performance.now() - started);
      received = Buffer.concat([received, chunk]).subarray(0, MAX_BANNER_BYTES);
      if (received.includes(0x0a) || received.length >= MAX_BANNER_BYTES) done();
    };
    const onEnd = () => (received.length ? done() : done(failure(TCP_BANNER.CLOSED, { where })));
    const timer = setTimeout(() => (received.length ? done() : done(failure(TCP_BANNER.SILENT, { where, waited: formatMs(performance.now() - started) }))), withinMs);
    const onAbort = () => done(ctx.deadline.signal.reason);
    ctx.deadline.signal.addEventListener("abort", onAbort, { once: true });
    const stopWatching = () => ctx.deadline.signal.removeEventListener("abort", onAbort);
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
  });
  ctx.phases.record("banner", performance.now() - started);
  // One line, printable: a banner is evidence for humans, never a terminal escape.
  ctx.metrics.banner = text.split(/\r?\n/)[0].replace(/[^\x20-\x7e]/g, ".");
}

export default tcpProbe;
