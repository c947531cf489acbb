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
import { DEADLINE_EXPIRED, watchAbort } from "../../util/deadline.js";
import { formatMs } from "../../util/duration.js";
import type { CheckSpec, ProbeContext, TlsSpec } from "../api.js";

// require(), not an ES import: importing node:http builds its ES module facade,
// which reads every export, lazy getters included, and so loads undici (~14 ms
// of every run). node:https, and with it tls (~15 ms), only for https URLs.
const require = createRequire(import.meta.url);

/** Enough for any health document; a larger body is not read further (and says so). */
const MAX_BODY_BYTES = 256 * 1024;
/** The `body` metric (matched by `expect: { body: … }`): the first characters of the body. */
export const BODY_METRIC_CHARS = 4096;
export const EXCERPT_CHARS = 300;

export interface HttpFields {
  url: string;
  method: "GET" | "HEAD" | "POST" | "PUT" | "OPTIONS";
  headers: Record<string, string>;
  body?: string;
  tls?: TlsSpec;
}

export const HTTP = defineCatalogue("http", {
  BODY_STALLED: {
    class: "timeout",
    code: "BODY_STALLED",
    message: (f: { status: number; headersMs: string; bytes: number; expected?: number; waited: string }) =>
      `status ${f.status} after ${f.headersMs}, then the body stalled after ${f.bytes} bytes${f.expected !== undefined ? ` of ${f.expected}` : ""} (waited ${f.waited})`,
    hint: "The server sent its headers but not the body: a handler that blocks after writing the status, a proxy buffering the response, or a huge body.",
  },
  REDIRECTED: {
    class: "protocol",
    code: "REDIRECT",
    message: (f: { status: number; location: string; expected: string }) => `status is ${f.status}, expected ${f.expected}: redirected to ${f.location}`,
    hint: "The URL redirects (infra-check does not follow redirects): check the final URL instead — http → https, a trailing slash, a login page.",
  },
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
        const location = res.headers.location;
        if (location) ctx.details.location = location;
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (outcome: { status: number; headers: http.IncomingHttpHeaders; body: Buffer; truncated: boolean }) => {
          stopWatching();
          resolve(outcome);
        };
        // Bounded: past the limit the body is not read further (an endless body is not "no answer").
        res.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= MAX_BODY_BYTES) {
            res.destroy();
            done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES), truncated: true });
          }
        });
        res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated: false }));
        res.on("error", reject);
        // The headers came, the body did not finish: say what did arrive, before the runner's generic timeout.
        const onDeadline = () => {
          if (ctx.deadline.signal.reason !== DEADLINE_EXPIRED) return;
          const length = Number(res.headers["content-length"]);
          reject(
            failure(HTTP.BODY_STALLED, {
              status: res.statusCode ?? 0,
              headersMs: formatMs((headersAt ?? started) - started),
              bytes: size,
              ...(Number.isFinite(length) ? { expected: length } : {}),
              waited: formatMs(performance.now() - (headersAt ?? started)),
            }),
          );
          res.destroy();
        };
        const stopWatching = watchAbort(ctx.deadline.signal, onDeadline);
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
  if (wanted.includes("body")) metrics.body = text.slice(0, BODY_METRIC_CHARS);
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
