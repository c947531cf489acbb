// The HTTP side of `infra-check serve`: /healthz, /metrics, /probe,
// /report.json and the status page. Every response body passes the
// invocation's redactor (the egress of a command, as src/commands/io.ts is
// for stdout): the report's fields were redacted one by one by the runner,
// and the rendered text is scrubbed once more on its way out. A bearer token,
// when set, guards every endpoint but /healthz.
import http from "node:http";
import { once } from "node:events";
import { createHash, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Redactor } from "../../redact.js";
import { endpointOf } from "../../runner/run-checks.js";
import { didYouMean } from "../../util/did-you-mean.js";
import type { CheckResult } from "../../report/schema.js";
import type { Monitor } from "./monitor.js";
import type { ServeMetrics } from "./metrics.js";
import { renderStatusPage } from "./page.js";
import { DEFAULT_EVERY_MS } from "./monitor.js";
import { escapeJsonControls } from "../../util/neutralize.js";
import { endpointHost } from "../../util/url.js";

export interface ServerSettings {
  host: string;
  port: number;
  /** Required on every endpoint but /healthz (Authorization: Bearer TOKEN, or Basic with TOKEN as the password). */
  token?: string;
  everyMs?: number;
}

export interface RunningServer {
  url: string;
  address: AddressInfo;
  close(): Promise<void>;
}

/** How long a graceful stop lets requests in progress finish before their connections are cut. */
const CLOSE_GRACE_MS = 400;

const COMMON_HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};
/** The page has no script at all: the browser is told to run none. */
const PAGE_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
};

export async function startServer(monitor: Monitor, metrics: ServeMetrics, settings: ServerSettings, redactor: Redactor, log: (event: Record<string, unknown> & { event: string }) => void): Promise<RunningServer> {
  const expected = settings.token === undefined ? undefined : digest(settings.token);

  const send = (req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string | string[]> = {}, scrub: "values" | "rendered" = "values") => {
    const bytes = Buffer.from(scrub === "rendered" ? redactor.rendered(body) : redactor.values(body), "utf8");
    res.writeHead(status, { ...COMMON_HEADERS, "Content-Type": type, "Content-Length": String(bytes.length), ...headers });
    res.end(req.method === "HEAD" ? undefined : bytes);
  };
  const text = (req: http.IncomingMessage, res: http.ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}) =>
    send(req, res, status, "text/plain; charset=utf-8", body.endsWith("\n") ? body : body + "\n", headers);

  const authorized = (req: http.IncomingMessage): boolean => {
    if (!expected) return true;
    const header = req.headers.authorization ?? "";
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    const basic = /^Basic\s+(\S+)\s*$/i.exec(header)?.[1];
    // A browser has no way to send a bearer token: Basic with the token as the password opens the page.
    const given = bearer ?? (basic ? Buffer.from(basic, "base64").toString("utf8").replace(/^[^:]*:/, "") : undefined);
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };

  const probe = async (req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams) => {
    const chosen = probeChecks(monitor, query);
    if ("error" in chosen) return text(req, res, chosen.status, chosen.error);
    const started = performance.now();
    const results: CheckResult[] = await Promise.all(
      chosen.names.map((name) => {
        const cycle = monitor.cycle(name);
        metrics.probeRequested(monitor.check(name)!.spec, cycle.joined === true);
        return cycle;
      }),
    );
    send(req, res, 200, metrics.contentType, await metrics.probe(results, performance.now() - started));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://infra-check.invalid");
    if (req.method !== "GET" && req.method !== "HEAD") return text(req, res, 405, `${req.method} is not served here: every endpoint is GET`, { Allow: "GET, HEAD" });
    if (url.pathname === "/healthz") {
      const healthy = monitor.healthy();
      const failing = monitor.latest().filter((result) => result.status === "fail" || result.status === "blocked").length;
      const pending = monitor.checks().filter((state) => !state.latest).length;
      // Unauthenticated: it says how many, never which checks or why (that is behind the token).
      const body = healthy ? "ok" : pending ? `starting: ${pending} of ${monitor.checks().length} checks have not finished their first cycle` : `unhealthy: ${failing} of ${monitor.checks().length} checks failing`;
      return text(req, res, healthy ? 200 : 503, body);
    }
    if (!authorized(req)) {
      return text(req, res, 401, "a bearer token is required: send Authorization: Bearer TOKEN (a browser: any user name, the token as the password)", {
        "WWW-Authenticate": ['Bearer realm="infra-check"', 'Basic realm="infra-check", charset="UTF-8"'],
      });
    }
    switch (url.pathname) {
      case "/metrics":
        return send(req, res, 200, metrics.contentType, await metrics.metrics());
      case "/probe":
        return probe(req, res, url.searchParams);
      case "/report.json":
        if (monitor.latest().length === 0) return text(req, res, 503, "no check has finished its first cycle yet");
        return send(req, res, 200, "application/json; charset=utf-8", escapeJsonControls(JSON.stringify(redactor.deep(monitor.report()), null, 2)) + "\n", {}, "rendered");
      case "/":
        return send(
          req,
          res,
          200,
          "text/html; charset=utf-8",
          renderStatusPage({ env: monitor.env, nowMs: Date.now(), healthy: monitor.healthy(), refreshSeconds: refreshSeconds(monitor, settings.everyMs), checks: monitor.checks() }),
          PAGE_HEADERS,
          "rendered",
        );
      default:
        return text(req, res, 404, `not found: ${url.pathname}; endpoints: / (status page), /metrics, /probe?check=NAME, /report.json, /healthz`);
    }
  };

  const server = http.createServer({ requestTimeout: 60_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log({ event: "http-error", severity: "ERROR", path: (req.url ?? "").split("?")[0], message: redactor.text(String((error as Error)?.message ?? error)) });
      if (!res.headersSent) text(req, res, 500, "internal error (logged)");
      else res.destroy();
    });
  });
  server.listen(settings.port, settings.host);
  await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error))]);
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    address,
    close: async () => {
      const closed = once(server, "close");
      server.close();
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
    },
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * Which checks a /probe runs: `check=NAME` (repeatable), or `kind=K&target=T`
 * — the multi-target pattern, restricted to what the config checks: T must be
 * the target (as shown), host:port or host of a check of kind K. Never an
 * arbitrary target: this endpoint must not become a way to make requests.
 */
export function probeChecks(monitor: Monitor, query: URLSearchParams): { names: string[] } | { status: number; error: string } {
  const names = query.getAll("check");
  const kind = query.get("kind");
  const target = query.get("target");
  const all = monitor.checks();
  if (names.length) {
    const unknown = names.filter((name) => !monitor.check(name));
    if (unknown.length) {
      const known = all.map((state) => state.spec.name);
      return { status: 404, error: `unknown check "${unknown[0]}"${didYouMean(unknown[0], known)}; checks: ${known.join(", ")}` };
    }
    return { names: [...new Set(names)] };
  }
  if (kind && target) {
    const ofKind = all.filter((state) => state.spec.kind === kind);
    if (ofKind.length === 0) return { status: 404, error: `no check of kind "${kind}" in the config; kinds: ${[...new Set(all.map((state) => state.spec.kind))].join(", ")}` };
    const matching = ofKind.filter((state) => targetsOf(monitor.targetOf(state.spec)).includes(target));
    if (matching.length === 0) {
      return { status: 404, error: `target "${target}" is not in the config's allow-list for kind ${kind}: /probe only runs the config's own checks (${ofKind.map((state) => state.spec.name).join(", ")}); add a check for it, or use ?check=NAME` };
    }
    return { names: matching.map((state) => state.spec.name) };
  }
  return { status: 400, error: "expected ?check=NAME (repeatable) or ?kind=KIND&target=TARGET (a target of one of the config's checks)" };
}

/** The names a check's target answers to: as shown in reports, host:port, host. */
function targetsOf(shown: string): string[] {
  if (!shown) return [];
  const endpoint = endpointOf(shown);
  const host = endpoint ? endpointHost(endpoint) : undefined;
  return [shown, shown.replace(/\/$/, ""), ...(endpoint ? [endpoint] : []), ...(host ? [host] : [])];
}

/** The page refreshes as often as the most frequent check runs, between 5 s and 60 s. */
function refreshSeconds(monitor: Monitor, everyMs = DEFAULT_EVERY_MS): number {
  const fastest = Math.min(...monitor.checks().map((state) => state.spec.everyMs ?? everyMs));
  return Math.round(Math.min(60, Math.max(5, fastest / 1000)));
}
