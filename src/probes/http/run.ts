// HTTP(S) health endpoint probe. dns, connect and tls come from dial();
// ttfb (request → response headers), transfer (headers → end of body) and
// total from the response's events.
import { createRequire } from "node:module";
import type http from "node:http";
import { defineCatalogue, failure } from "../../diagnose/catalogue.js";
import type { MetricValue } from "../../diagnose/vocabulary.js";
import { dial } from "../../net/dial.js";
import { bareHost } from "../../net/resolve.js";
import { headerSecrets, SECRET_HEADER } from "../../redact.js";
import { excerpt } from "../../util/excerpt.js";
import { getPath } from "../../util/json-path.js";
import { roundMs } from "../../util/stats.js";
import type { CheckSpec, ProbeContext, TlsSpec } from "../api.js";

// require(), not an ES import: importing node:http builds its ES module facade,
// which reads every export, lazy getters included, and so loads undici (~14 ms
// of every run). node:https, and with it tls (~15 ms), only for https URLs.
const require = createRequire(import.meta.url);

/** Enough for any health document; larger bodies are cut (and say so). */
const MAX_BODY_BYTES = 256 * 1024;
export const EXCERPT_CHARS = 300;

export interface HttpFields {
  url: string;
  method: "GET" | "HEAD" | "POST" | "PUT" | "OPTIONS";
  headers: Record<string, string>;
  body?: string;
  tls?: TlsSpec;
}

export const HTTP = defineCatalogue("http", {
  NOT_JSON: {
    class: "protocol",
    code: "NOT_JSON",
    message: (f: { paths: string; truncated: boolean; status: number; contentType: string; body: string }) =>
      `expected a JSON body (for ${f.paths}) but got ${f.truncated ? "a truncated" : "a non-JSON"} body (status ${f.status}, ${f.contentType}): ${f.body}`,
    hint: "The endpoint does not answer JSON here: check the URL (a proxy or login page answering instead?) and the Accept header the service expects.",
  },
});

export async function runHttp(spec: CheckSpec<HttpFields>, ctx: ProbeContext): Promise<void> {
  const url = new URL(spec.url);
  const isHttps = url.protocol === "https:";
  const hostname = bareHost(url.hostname);
  const port = url.port ? Number(url.port) : isHttps ? 443 : 80;
  const transport: typeof http = isHttps ? require("node:https") : require("node:http");
  const started = performance.now();
  const socket = await dial(ctx, { host: hostname, port, ...(isHttps ? { tls: { spec: spec.tls, hostname } } : {}) });
  const requestedAt = performance.now();
  let headersAt: number | undefined;
  ctx.phases.start("ttfb");

  const response = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; truncated: boolean }>((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: spec.method,
        headers: { "user-agent": "infra-check", ...spec.headers },
        signal: ctx.signal,
        // The connection dial() opened (and secured): the request goes out on it as is. No agent:
        // with `agent: false` Node would make a fresh Agent, which dials its own socket.
        createConnection: () => socket,
      },
      (res) => {
        headersAt = performance.now();
        ctx.phases.record("ttfb", headersAt - requestedAt);
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
    request.on("error", reject);
    request.end(spec.body);
  }).finally(() => socket.destroy());
  const endedAt = performance.now();
  ctx.phases.record("transfer", endedAt - (headersAt ?? endedAt));
  ctx.phases.record("total", endedAt - started);

  const metrics = ctx.metrics;
  metrics.status = response.status;
  metrics.totalMs = roundMs(endedAt - started);
  metrics.ttfbMs = ctx.phases.phasesMs.ttfb;
  metrics.transferMs = ctx.phases.phasesMs.transfer;
  metrics.bodyBytes = response.body.length;
  const contentType = response.headers["content-type"];
  if (contentType) metrics.contentType = contentType;

  const text = response.body.toString("utf8");
  if (text) ctx.details.bodyExcerpt = excerpt(text, EXCERPT_CHARS);
  const wanted = [...Object.keys(spec.expect), ...Object.keys(spec.warn)];
  for (const metric of wanted.filter((name) => name.startsWith("header."))) {
    const name = metric.slice("header.".length).toLowerCase();
    const value = response.headers[name];
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(", ") : value;
    // A credential the server hands back (Set-Cookie, X-Auth-Token) is masked like ours.
    if (SECRET_HEADER.test(name)) for (const secret of [joined, ...headerSecrets(joined)]) ctx.addSecret(secret);
    metrics[metric] = joined;
  }
  const jsonPaths = wanted.filter((name) => name.startsWith("json."));
  if (jsonPaths.length) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw failure(HTTP.NOT_JSON, { paths: jsonPaths.join(", "), truncated: response.truncated, status: response.status, contentType: contentType ?? "no content-type", body: excerpt(text, EXCERPT_CHARS) });
    }
    for (const path of jsonPaths) {
      const value = getPath(parsed, path.slice("json.".length)) as MetricValue | undefined;
      if (value !== undefined) metrics[path] = value;
    }
  }
}
