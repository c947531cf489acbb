// kind: http — status, JSON body, headers, phase timings.
import { z } from "zod";
import { parseExpectation } from "../../evaluate/expectations.js";
import { collectSecrets, headerSecrets, redactUrl, SECRET_HEADER, urlSecrets } from "../../redact.js";
import { parseHeaderFlags } from "../../util/flags.js";
import type { Expectation, MetricValue } from "../../diagnose/vocabulary.js";
import type { Measurement, ProbeDefinition } from "../api.js";
import { headersSchema, tlsSchema } from "../shared/schema.js";
import { CERTIFICATE_METRICS } from "../shared/tls.js";
import { certFigure, figures, msFigure } from "../shared/pass-line.js";
import { BODY_METRIC_CHARS, HTTP, runHttp, type HttpFields } from "./run.js";
import { explanationOf } from "../../diagnose/catalogue.js";

const schema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }).meta({ description: "Endpoint to request" }),
  method: z.enum(["GET", "HEAD", "POST", "PUT", "OPTIONS"]).default("GET").meta({ description: "HTTP method (default GET)" }),
  headers: headersSchema.meta({ description: "Request headers; Authorization/Cookie values are treated as secrets" }),
  body: z.string().optional().meta({ description: "Request body (for POST/PUT)" }),
  tls: tlsSchema.optional(),
}) satisfies z.ZodType<HttpFields>;

/** A status that misses its expectation says which layer answered: credentials, path, or the server itself. */
function statusClass(actual: MetricValue | undefined) {
  if (typeof actual !== "number") return "protocol" as const;
  if (actual === 401 || actual === 403) return "auth" as const;
  if (actual === 404 || actual === 410) return "not-found" as const;
  if (actual >= 500) return "server-error" as const;
  return "protocol" as const;
}

/** Timings, including ones a health body reports about its dependencies (json.db.response_time_ms), are slow; other values unhealthy. */
const bodyValueClass = (_actual: MetricValue | undefined, _spec: unknown, metric: string) => (/(Ms|_ms|_millis)$/.test(metric) ? ("slow" as const) : ("unhealthy" as const));

/** A redirect that missed the expected status says where it goes. */
function explainStatus(actual: MetricValue | undefined, expectation: Expectation, measurement: Measurement) {
  const location = measurement.details?.location;
  if (typeof actual !== "number" || actual < 300 || actual >= 400 || typeof location !== "string") return undefined;
  return explanationOf(HTTP.REDIRECTED, { status: actual, location, expected: expectation.source });
}

const httpProbe: ProbeDefinition<HttpFields> = {
  kind: "http",
  summary: "HTTP(S) health endpoint: status, JSON body, phase timings",
  schema,
  metrics: {
    status: { class: statusClass, description: "HTTP status code (default expectation: 2xx)", explain: explainStatus },
    totalMs: { unit: "ms", class: "slow", phase: "composite", description: "from the first byte of DNS to the end of the body" },
    ttfbMs: { unit: "ms", class: "slow", description: "request written → response headers" },
    connectMs: { unit: "ms", class: "slow", description: "TCP connect" },
    dnsMs: { unit: "ms", class: "slow", description: "name resolution (host names only)" },
    ...CERTIFICATE_METRICS,
    transferMs: { unit: "ms", class: "slow", description: "response headers → end of body" },
    bodyBytes: { unit: "bytes", class: "unhealthy", description: "body size (read up to 256 KiB)" },
    contentType: { class: "protocol", description: "Content-Type of the answer" },
    body: { class: "unhealthy", description: `the first ${BODY_METRIC_CHARS} characters of the body, for plain-text health endpoints: "~ ^ok", "contains ready", or equality` },
  },
  metricPrefixes: {
    "json.": { class: bodyValueClass, description: "a value of the JSON body by dotted path (json.status, json.checks.db)" },
    "header.": { class: "protocol", description: "a response header by name (header.location)" },
  },
  defaultExpect: () => ({ status: parseExpectation("2xx") }),
  diagnosis: {
    service: "the HTTP server",
    speaks: (firstBytes) => firstBytes.startsWith("HTTP/") || "HTTP/".startsWith(firstBytes),
    catalogue: HTTP,
    hints: {
      auth: "The endpoint rejected the request's credentials: check the Authorization header / token the check sends.",
      "not-found": "Nothing is served at this path: check the URL (path, host) and that the deployed version has the route.",
      "server-error": "The service answered with a 5xx: read its logs; if /health lists components, the failing one is in the body.",
      unhealthy: "The service is up but reports itself unhealthy: the body names the failing component.",
      protocol: "Unexpected status: a redirect, a proxy page, or a different service on this URL.",
    },
  },
  passLine: ({ metrics }) =>
    figures(
      typeof metrics.status === "number" && String(metrics.status),
      msFigure("ttfb", metrics.ttfbMs),
      msFigure("total", metrics.totalMs),
      typeof metrics["json.status"] === "string" && `status ${metrics["json.status"]}`,
      typeof metrics.contentType === "string" && metrics.contentType.split(";")[0],
      certFigure(metrics),
    ),
  target: (spec) => `${spec.method === "GET" ? "" : spec.method + " "}${redactUrl(spec.url)}`,
  secrets: (spec) => [
    ...Object.entries(spec.headers)
      .filter(([name]) => SECRET_HEADER.test(name))
      .flatMap(([, value]) => [value, ...headerSecrets(value)]),
    ...urlSecrets(spec.url),
    ...collectSecrets(spec.body, "body"),
  ],
  run: runHttp,

  oneOff: {
    command: "http",
    argument: "<url>",
    forms: ["https://HOST[:PORT]/PATH", "http://HOST[:PORT]/PATH"],
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
