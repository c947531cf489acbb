// HTTP(S) health endpoint probe. Phase timings come from socket events:
// dns (our own bounded lookup), connect, tls, ttfb (request → response
// headers), transfer (headers → end of body), total.
import { createRequire } from "node:module";
import type http from "node:http";
import type { Socket } from "node:net";
import { z } from "zod";
import { tlsSchema } from "../config/schema.js";
import { type MetricValue } from "../diagnose/vocabulary.js";
import { ProbeFailure, type CheckSpec, type ProbeDefinition } from "./api.js";
import { fixedLookup, resolveHost } from "../net/resolve.js";
import { tlsOptions } from "../net/tls.js";
import { parseExpectation } from "../evaluate/expectations.js";
import { collectSecrets, headerSecrets, redactUrl, SECRET_HEADER, urlSecrets } from "../redact.js";
import { getPath } from "../util/json-path.js";
import { excerpt } from "../util/excerpt.js";
import { roundMs } from "../util/stats.js";
import { parseHeaderFlags } from "../util/flags.js";

// require(), not an ES import: importing node:http builds its ES module facade,
// which reads every export, lazy getters included, and so loads undici (~14 ms
// of every run). node:https, and with it tls (~15 ms), only for https URLs.
const require = createRequire(import.meta.url);

/** Enough for any health document; larger bodies are cut (and say so). */
const MAX_BODY_BYTES = 256 * 1024;
const EXCERPT_CHARS = 300;

const schema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }).meta({ description: "Endpoint to request" }),
  method: z.enum(["GET", "HEAD", "POST", "PUT", "OPTIONS"]).default("GET").meta({ description: "HTTP method (default GET)" }),
  headers: z.record(z.string(), z.string()).default({}).meta({ description: "Request headers; Authorization/Cookie values are treated as secrets" }),
  body: z.string().optional().meta({ description: "Request body (for POST/PUT)" }),
  tls: tlsSchema.optional(),
});
type HttpFields = z.infer<typeof schema>;
type HttpSpec = CheckSpec<HttpFields>;

const httpProbe: ProbeDefinition<HttpFields> = {
  kind: "http",
  summary: "HTTP(S) health endpoint: status, JSON body, phase timings",
  schema,
  metrics: { names: ["status", "totalMs", "ttfbMs", "connectMs", "dnsMs", "tlsMs", "transferMs", "bodyBytes", "contentType"], prefixes: ["json.", "header."] },

  target: (spec) => `${spec.method === "GET" ? "" : spec.method + " "}${redactUrl(spec.url)}`,
  secrets: (spec) => [
    ...Object.entries(spec.headers)
      .filter(([name]) => SECRET_HEADER.test(name))
      .flatMap(([, value]) => [value, ...headerSecrets(value)]),
    ...urlSecrets(spec.url),
    ...collectSecrets(spec.body, "body"),
  ],
  defaultExpect: () => ({ status: { ...parseExpectation("~ ^2\\d\\d$"), source: "2xx" } }),

  assertionClass(metric, actual) {
    if (metric === "status" && typeof actual === "number") {
      if (actual === 401 || actual === 403) return "auth";
      if (actual === 404 || actual === 410) return "not-found";
      if (actual >= 500) return "server-error";
      return "protocol";
    }
    // Timings, including ones a health body reports about its dependencies (json.db.response_time_ms).
    if (/(Ms|_ms|_millis)$/.test(metric)) return "slow";
    return "unhealthy";
  },

  hints: {
    auth: "The endpoint rejected the request's credentials: check the Authorization header / token the check sends.",
    "not-found": "Nothing is served at this path: check the URL (path, host) and that the deployed version has the route.",
    "server-error": "The service answered with a 5xx: read its logs; if /health lists components, the failing one is in the body.",
    unhealthy: "The service is up but reports itself unhealthy: the body names the failing component.",
    protocol: "Unexpected status: a redirect, a proxy page, or a different service on this URL.",
  },

  async run(spec, ctx) {
    const url = new URL(spec.url);
    const isHttps = url.protocol === "https:";
    const { address, family } = await resolveHost(url.hostname, ctx);
    const transport: typeof http = isHttps ? require("node:https") : require("node:http");
    const started = performance.now();
    let connectedAt: number | undefined;
    let secureAt: number | undefined;
    let headersAt: number | undefined;
    ctx.phases.start("connect");

    const response = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; truncated: boolean }>(
      (resolve, reject) => {
        const request = transport.request(
          url,
          {
            method: spec.method,
            headers: { "user-agent": "infra-check", ...spec.headers },
            lookup: fixedLookup(address, family) as never,
            signal: ctx.signal,
            agent: false,
            ...(isHttps ? tlsOptions(spec.tls, url.hostname) : {}),
          },
          (res) => {
            headersAt = performance.now();
            ctx.phases.record("ttfb", headersAt - (secureAt ?? connectedAt ?? started));
            ctx.phases.start("transfer");
            ctx.metrics.status = res.statusCode ?? 0;
            const chunks: Buffer[] = [];
            let size = 0;
            let truncated = false;
            res.on("data", (chunk: Buffer) => {
              if (size < MAX_BODY_BYTES) chunks.push(chunk);
              else truncated = true;
              size += chunk.length;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated }));
            res.on("error", reject);
          },
        );
        request.on("socket", (socket: Socket) => {
          socket.once("connect", () => {
            connectedAt = performance.now();
            ctx.phases.record("connect", connectedAt - started);
            ctx.phases.start(isHttps ? "tls" : "ttfb");
          });
          socket.once("secureConnect", () => {
            secureAt = performance.now();
            ctx.phases.record("tls", secureAt - (connectedAt ?? started));
            ctx.phases.start("ttfb");
          });
        });
        request.on("error", reject);
        request.end(spec.body);
      },
    );
    const endedAt = performance.now();
    ctx.phases.record("transfer", endedAt - (headersAt ?? endedAt));
    ctx.phases.record("total", endedAt - started);

    const metrics: Record<string, MetricValue> = {
      status: response.status,
      totalMs: roundMs(endedAt - started),
      ttfbMs: ctx.phases.phasesMs.ttfb,
      bodyBytes: response.body.length,
    };
    if (ctx.phases.phasesMs.connect !== undefined) metrics.connectMs = ctx.phases.phasesMs.connect;
    if (ctx.phases.phasesMs.tls !== undefined) metrics.tlsMs = ctx.phases.phasesMs.tls;
    if (ctx.phases.phasesMs.dns !== undefined) metrics.dnsMs = ctx.phases.phasesMs.dns;
    const contentType = response.headers["content-type"];
    if (contentType) metrics.contentType = contentType;

    const text = response.body.toString("utf8");
    const wanted = [...Object.keys(spec.expect), ...Object.keys(spec.warn)];
    for (const metric of wanted.filter((name) => name.startsWith("header."))) {
      const name = metric.slice("header.".length).toLowerCase();
      const value = response.headers[name];
      if (value === undefined) continue;
      const text = Array.isArray(value) ? value.join(", ") : value;
      // A credential the server hands back (Set-Cookie, X-Auth-Token) is masked like ours.
      if (SECRET_HEADER.test(name)) for (const secret of [text, ...headerSecrets(text)]) ctx.addSecret(secret);
      metrics[metric] = text;
    }
    const jsonPaths = wanted.filter((name) => name.startsWith("json."));
    if (jsonPaths.length) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ProbeFailure(
          "protocol",
          `expected a JSON body (for ${jsonPaths.join(", ")}) but got ${response.truncated ? "a truncated" : "a non-JSON"} body (status ${response.status}, ${contentType ?? "no content-type"}): ${excerpt(text, EXCERPT_CHARS)}`,
          { metrics, details: { bodyExcerpt: excerpt(text, EXCERPT_CHARS) } },
        );
      }
      for (const path of jsonPaths) {
        const value = getPath(parsed, path.slice("json.".length));
        if (value !== undefined) metrics[path] = value;
      }
    }
    return {
      phasesMs: {},
      metrics,
      details: text ? { bodyExcerpt: excerpt(text, EXCERPT_CHARS) } : undefined,
    };
  },

  oneOff: {
    command: "http",
    argument: "<url>",
    description: "Request an HTTP(S) endpoint once and diagnose the answer",
    options: [
      { flags: "-X, --method <method>", description: "HTTP method", defaultValue: "GET" },
      { flags: "-H, --header <header>", description: 'request header "Name: value" (repeatable); use $VAR in the value to read a token from the environment', repeatable: true },
      { flags: "--expect-status <code>", description: "expected status (default: any 2xx)" },
      { flags: "--tls-ca <file>", description: "CA bundle (PEM) to trust" },
      { flags: "--servername <name>", description: "TLS name to verify the certificate against" },
      { flags: "-k, --insecure", description: "accept any TLS certificate (triage only)" },
    ],
    examples: [
      "infra-check http https://api.staging.example.com/health --expect 'json.status=healthy'",
      "infra-check http https://api.example.com/health -H 'Authorization: Bearer $HEALTH_TOKEN' --format json",
    ],
    toRawCheck(url, options, env) {
      const tls: Record<string, unknown> = {};
      if (options.tlsCa) tls.ca = options.tlsCa;
      if (options.servername) tls.servername = options.servername;
      if (options.insecure) tls.insecure = true;
      return {
        kind: "http",
        url,
        method: String(options.method ?? "GET").toUpperCase(),
        headers: parseHeaderFlags((options.header as string[] | undefined) ?? [], env),
        ...(Object.keys(tls).length ? { tls } : {}),
        ...(options.expectStatus ? { expect: { status: Number(options.expectStatus) } } : {}),
      };
    },
  },
};


export default httpProbe;
