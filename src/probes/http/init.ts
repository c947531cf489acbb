// What the http kind contributes to `infra-check init`: the service's URL
// becomes a health check. Without --health-path, init asks /health then
// /healthz and keeps the first that answers 2xx; a JSON body with a
// string `status` becomes an expectation on it (the app's own verdict).
import type { KindInit } from "../init-api.js";

const DEFAULT_PATHS = ["/health", "/healthz"];

function joinUrl(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/$/, "")}/${path.replace(/^\//, "")}`;
  return url.toString();
}

const init: KindInit = {
  // Last in the file: the checks of what the service reaches come first.
  after: ["cloud-run", "redis", "postgres"],
  starter: {
    name: "health",
    yaml: `    # The backend's health endpoint: status 2xx by default, phase timings;
    # json.<path> asserts on the body.
    url: https://api.example.com/health
    expect:
      json.status: healthy
`,
  },
  options: [{ flags: "--health-path <path>", description: "the service's health path (default: the first of /health, /healthz that answers 2xx)" }],
  async map(facts, ctx) {
    if (!facts.url) return { checks: [], rows: [{ from: "service URL", note: "the service reports no URL" }] };
    const given = ctx.options.healthPath as string | undefined;
    const paths = given ? [given] : DEFAULT_PATHS;
    let chosen: { path: string; status?: number; json?: string } | undefined;
    const tried: string[] = [];
    for (const path of paths) {
      const answer = await ctx.fetch(joinUrl(facts.url, path));
      if ("error" in answer) {
        tried.push(`${path}: ${answer.error}`);
        continue;
      }
      tried.push(`${path}: ${answer.status}${answer.status === 401 || answer.status === 403 ? " (the service requires authentication: add headers: { Authorization: \"Bearer ${ID_TOKEN}\" })" : ""}`);
      if (answer.status >= 200 && answer.status < 300) {
        let json: string | undefined;
        try {
          const body = JSON.parse(answer.body) as { status?: unknown };
          if (typeof body?.status === "string" && body.status.length <= 40) json = body.status;
        } catch {
          // not JSON: the status code alone is the verdict
        }
        chosen = { path, status: answer.status, ...(json ? { json } : {}) };
        break;
      }
    }
    const path = chosen?.path ?? paths[0];
    const name = ctx.uniqueName("health");
    return {
      checks: [
        {
          name,
          kind: "http",
          comment: chosen ? `The service's health endpoint (answered ${chosen.status} when init asked).` : `The service's health endpoint — nothing answered when init asked (${tried.join("; ")}): check the path (--health-path).`,
          fields: { url: joinUrl(facts.url, path), ...(chosen?.json ? { expect: { "json.status": chosen.json } } : {}) },
          ...(chosen?.json ? { keyComments: { expect: "What the app itself said about its health when init asked." } } : {}),
        },
      ],
      rows: [{ from: `service URL ${new URL(facts.url).host}`, to: name, note: chosen ? `${path} answered ${chosen.status}` : `no answer (${tried.join("; ")})` }],
    };
  },
};

export default init;
