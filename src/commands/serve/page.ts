// `GET /` of `infra-check serve`: one server-rendered page, no JavaScript (the
// Content-Security-Policy forbids any), readable on a phone: per check its
// status, failure class, diagnosis, hint, since when it has been so, and an
// inline SVG sparkline of its latency over the last hour. It refreshes itself
// with a meta refresh. Every text is HTML-escaped here and the whole page
// passes the invocation's redactor on its way out (src/commands/serve/server.ts).
import type { CheckState, Point } from "./monitor.js";
import { HISTORY_MS } from "./monitor.js";
import { formatMs } from "../../util/duration.js";
import { neutralizeLine } from "../../util/neutralize.js";

export interface PageView {
  env: string;
  nowMs: number;
  healthy: boolean;
  refreshSeconds: number;
  checks: CheckState[];
}

const SPARK_WIDTH = 240;
const SPARK_HEIGHT = 40;
/** Room for a dot at either end of the line. */
const SPARK_PAD = 3;

export function renderStatusPage(view: PageView): string {
  const withResult = view.checks.filter((state) => state.latest);
  const ok = withResult.filter((state) => state.latest!.status === "pass" || state.latest!.status === "warn").length;
  const overall = withResult.length < view.checks.length ? "pending" : view.healthy ? "pass" : "fail";
  const headline = withResult.length === 0 ? "starting: no check has finished yet" : `${ok} of ${view.checks.length} checks healthy`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${view.refreshSeconds}">
<title>${esc(`infra-check ${view.env}: ${headline}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="summary" data-status="${overall}">
<h1><span class="env">${esc(view.env)}</span>: <span class="headline">${esc(headline)}</span></h1>
<p class="meta">updated ${esc(clockTime(view.nowMs))} UTC · refreshes every ${view.refreshSeconds} s · <a href="report.json">report.json</a> · <a href="metrics">metrics</a></p>
</header>
<main>
<ul class="checks">
${view.checks.map((state) => card(state, view.nowMs)).join("\n")}
</ul>
</main>
</body>
</html>
`;
}

function card(state: CheckState, nowMs: number): string {
  const result = state.latest;
  const status = result?.status ?? "pending";
  const failure = result?.failure;
  const lines = [
    `<li class="check" data-check="${esc(state.spec.name)}" data-status="${status}">`,
    `<div class="title"><span class="badge">${esc(status)}</span> <h2>${esc(state.spec.name)}</h2> <span class="kind">${esc(state.spec.kind)}</span></div>`,
  ];
  if (result?.target) lines.push(`<p class="target">${esc(result.target)}</p>`);
  if (failure) {
    lines.push(`<p class="diagnosis"><span class="class">${esc(failure.class)}</span>${failure.code ? ` <code class="code">${esc(failure.code)}</code>` : ""} <span class="message">${esc(failure.message)}</span></p>`);
    if (failure.hint) lines.push(`<p class="hint">${esc(failure.hint)}</p>`);
  } else if (result?.status === "blocked") {
    lines.push(`<p class="diagnosis"><span class="message">blocked by ${esc(result.blockedBy.join(", "))}: it runs once they pass</span></p>`);
  }
  const facts: string[] = [];
  if (state.sinceMs !== undefined) facts.push(`<span class="since">${esc(status)} since <time datetime="${new Date(state.sinceMs).toISOString()}">${esc(clockTime(state.sinceMs))} UTC</time> (${esc(ago(nowMs - state.sinceMs))})</span>`);
  // A blocked check did not run: it has no duration to show.
  if (state.endedAtMs !== undefined && result) facts.push(`<span class="last-run">last run ${esc(clockTime(state.endedAtMs))} UTC${result.status === "blocked" ? "" : `, ${esc(formatMs(result.durationMs))}`}</span>`);
  if (!result) facts.push(`<span class="last-run">first cycle running</span>`);
  lines.push(`<p class="meta">${facts.join(" · ")}</p>`);
  lines.push(sparkline(state.history, nowMs));
  lines.push(`</li>`);
  return lines.join("\n");
}

/** Latency over the last hour: a line of cycle durations, failed cycles as red dots; scaled to the slowest. */
export function sparkline(points: readonly Point[], nowMs: number): string {
  const shown = points.filter((point) => point.atMs >= nowMs - HISTORY_MS);
  if (shown.length === 0) return `<p class="spark-empty">no cycle in the last hour yet</p>`;
  const durations = shown.map((point) => point.durationMs);
  const maxMs = Math.max(...durations, 1);
  const x = (point: Point) => round(SPARK_PAD + ((point.atMs - (nowMs - HISTORY_MS)) / HISTORY_MS) * (SPARK_WIDTH - 2 * SPARK_PAD));
  const y = (point: Point) => round(SPARK_HEIGHT - SPARK_PAD - (point.durationMs / maxMs) * (SPARK_HEIGHT - 2 * SPARK_PAD));
  const coordinates = shown.map((point) => `${x(point)},${y(point)}`).join(" ");
  const failed = shown.filter((point) => point.status === "fail" || point.status === "blocked");
  const label = `latency over the last hour: ${formatMs(Math.min(...durations))} to ${formatMs(Math.max(...durations))}, ${shown.length} cycle${shown.length === 1 ? "" : "s"}${failed.length ? `, ${failed.length} failed` : ""}`;
  return [
    `<svg class="spark" viewBox="0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}" preserveAspectRatio="none" role="img" aria-label="${esc(label)}">`,
    `<title>${esc(label)}</title>`,
    shown.length > 1 ? `<polyline points="${coordinates}" fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke"/>` : "",
    ...(shown.length === 1 ? [`<circle cx="${x(shown[0])}" cy="${y(shown[0])}" r="2" fill="currentColor"/>`] : []),
    ...failed.map((point) => `<circle class="failed" cx="${x(point)}" cy="${y(point)}" r="2.5"/>`),
    `</svg>`,
    `<p class="spark-label">${esc(label)}</p>`,
  ].join("");
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** HH:MM:SS in UTC: a server-rendered page cannot know the reader's zone. */
function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function ago(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min ago`;
  return `${Math.floor(ms / 86_400_000)} d ago`;
}

/** Text and attribute values: the five characters HTML gives a meaning. */
/** HTML-escaped and inert: control and bidi characters a server sent are shown as escapes, not obeyed. */
export function esc(text: string): string {
  return neutralizeLine(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const STYLE = `
:root{color-scheme:light dark;--pass:#1a7f37;--warn:#9a6700;--fail:#cf222e;--blocked:#6e7781;--pending:#6e7781;--line:#d0d7de;--muted:#57606a}
@media (prefers-color-scheme:dark){:root{--pass:#3fb950;--warn:#d29922;--fail:#f85149;--line:#30363d;--muted:#8b949e}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:48rem;padding:1rem;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:1.3rem;margin:0 0 .25rem}
.summary{border-left:.4rem solid var(--pending);padding-left:.75rem;margin-bottom:1rem}
.summary[data-status=pass]{border-color:var(--pass)}.summary[data-status=fail]{border-color:var(--fail)}
.meta{color:var(--muted);font-size:.85rem;margin:.25rem 0}
.checks{list-style:none;margin:0;padding:0}
.check{border:1px solid var(--line);border-left:.4rem solid var(--c,var(--pending));border-radius:.4rem;padding:.6rem .8rem;margin:0 0 .75rem;color:inherit}
.check[data-status=pass]{--c:var(--pass)}.check[data-status=warn]{--c:var(--warn)}.check[data-status=fail]{--c:var(--fail)}.check[data-status=blocked]{--c:var(--blocked)}
.title{display:flex;flex-wrap:wrap;align-items:baseline;gap:.5rem}
h2{font-size:1.1rem;margin:0;overflow-wrap:anywhere}
.badge{background:var(--c,var(--pending));color:#fff;border-radius:1rem;padding:0 .55rem;font-size:.8rem;font-weight:600;text-transform:uppercase}
.kind{color:var(--muted);font-size:.85rem}
.target{font-family:ui-monospace,monospace;font-size:.8rem;color:var(--muted);margin:.2rem 0;overflow-wrap:anywhere}
.diagnosis{margin:.4rem 0;overflow-wrap:anywhere}
.class{font-weight:700;color:var(--c)}
.hint{margin:.3rem 0;padding:.35rem .6rem;border-radius:.3rem;background:color-mix(in srgb,var(--c) 10%,transparent);overflow-wrap:anywhere}
.spark{display:block;width:100%;height:2.5rem;color:var(--c,var(--pending))}
.spark .failed{fill:var(--fail)}
.spark-label,.spark-empty{color:var(--muted);font-size:.75rem;margin:0}
a{color:inherit}
`;
