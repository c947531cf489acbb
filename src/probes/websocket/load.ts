// Load mode (a release bar such as "10 concurrent users, 95 % success, connect < 5 s"):
// N connections, each doing the handshake and waiting for the welcome, with
// at most `concurrency` handshakes in flight so the tool does not measure its
// own queueing. Established connections stay open until every one has been
// tried (N users at once), then all are closed normally.
import type WebSocket from "ws";
import { Diagnosed, failure } from "../../diagnose/catalogue.js";
import { classify } from "../../diagnose/classify.js";
import type { ClassifiedError, MetricValue } from "../../diagnose/vocabulary.js";
import type { CheckSpec, InnerDeadline, ProbeContext } from "../api.js";
import { parseDurationMs } from "../../util/duration.js";
import { percentile, roundMs } from "../../util/stats.js";
import { cut } from "../../util/excerpt.js";
import type { TlsSpec } from "../api.js";
import { closeNormally, endpointOf, openSocket, type PhaseSink } from "./connection.js";
import { compileMatch } from "./match.js";
import { Waiter } from "./waiter.js";
import { websocketDiagnosis, WS } from "./diagnose.js";

export const DEFAULT_CONCURRENCY_CAP = 100;
export const DEFAULT_SUCCESS_RATE = ">= 95%";
const CLOSE_WAIT_MS = 1000;
const SUMMARY_CHARS = 300;

export interface LoadSpec {
  connections: number;
  concurrency?: number;
}

export interface LoadInput {
  spec: CheckSpec<{ subprotocols: string[]; tls?: TlsSpec; welcome?: { match: Record<string, unknown>; within?: string | number } }>;
  load: LoadSpec;
  url: URL;
  address: string;
  family: 4 | 6;
  headers: Record<string, string>;
  ctx: ProbeContext;
  deadline: InnerDeadline;
}

type Outcome = { ok: true; handshakeMs: number; welcomeMs?: number } | { ok: false; handshakeMs?: number; failure: ClassifiedError };

export async function runLoad(WebSocketCtor: typeof WebSocket, input: LoadInput): Promise<void> {
  const { spec, load, ctx, deadline } = input;
  const total = load.connections;
  const concurrency = Math.min(total, load.concurrency ?? DEFAULT_CONCURRENCY_CAP);
  const endpoint = endpointOf(input.url);
  const welcomeMatch = spec.welcome ? compileMatch(spec.welcome.match) : undefined;
  const welcomeWithinMs = spec.welcome?.within !== undefined ? parseDurationMs(spec.welcome.within) : undefined;
  // Every client from the moment it exists (in-flight handshakes end at the
  // deadline themselves; established ones are terminated here if the check is aborted).
  const sockets = new Set<WebSocket>();
  const terminateAll = () => {
    for (const ws of sockets) ws.terminate();
  };
  ctx.signal.addEventListener("abort", terminateAll, { once: true });
  // Each connection listens on a signal of its own, fanned out from one listener on the deadline:
  // thousands of listeners on one AbortSignal make every removal a walk of the list (quadratic at the deadline).
  const connectionControllers = new Set<AbortController>();
  const abortConnections = () => {
    for (const controller of connectionControllers) controller.abort(deadline.signal.reason);
  };
  deadline.signal.addEventListener("abort", abortConnections, { once: true });
  const connectionDeadline = (controller: AbortController): InnerDeadline => ({
    signal: controller.signal,
    label: deadline.label,
    remainingMs: () => deadline.remainingMs(),
    get expired() {
      return deadline.expired;
    },
    clientTimeoutMs: () => deadline.clientTimeoutMs(),
    dispose: () => connectionControllers.delete(controller),
  });

  const one = async (): Promise<Outcome> => {
    let current: string | undefined;
    const completed: string[] = [];
    const phases: PhaseSink = {
      start: (name) => (current = name),
      record: (name) => completed.push(name),
    };
    let handshakeMs: number | undefined;
    const controller = new AbortController();
    connectionControllers.add(controller);
    const connection = connectionDeadline(controller);
    try {
      if (deadline.signal.aborted) {
        throw failure(WS.NOT_ATTEMPTED, { limit: deadline.label });
      }
      const opened = await openSocket(WebSocketCtor, {
        url: input.url,
        address: input.address,
        family: input.family,
        headers: input.headers,
        protocols: spec.subprotocols,
        tls: spec.tls,
        timeoutMs: deadline.remainingMs(),
        limitLabel: deadline.label,
        signal: connection.signal,
        phases,
        onSocket: (ws) => sockets.add(ws),
      });
      handshakeMs = opened.handshakeMs;
      if (!welcomeMatch) return { ok: true, handshakeMs };
      current = "welcome";
      const welcome = await new Waiter(opened.inbox, connection).waitFor(welcomeMatch, welcomeWithinMs, { stage: "welcome", withinKey: "welcome.within" });
      return { ok: true, handshakeMs, welcomeMs: Math.max(0, welcome.at - opened.openedAt) };
    } catch (error) {
      const diagnosis = classify(
        error,
        { kind: "websocket", phase: current, completedPhases: completed, endpoint, budgetMs: ctx.budgetMs, facts: { service: websocketDiagnosis.service } },
        { rules: websocketDiagnosis.rules, refine: websocketDiagnosis.refine },
      );
      return { ok: false, handshakeMs, failure: diagnosis };
    } finally {
      connection.dispose();
    }
  };

  ctx.phases.start("load");
  const startedAt = performance.now();
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    // Once the budget is spent no turn is taken: the rest are counted below in one step, not classified one by one (20k of them cost ~0.4 s).
    while (next < total && !deadline.signal.aborted) {
      next += 1;
      outcomes.push(await one());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const unattempted = total - outcomes.length;
  if (unattempted > 0) {
    const notAttempted: Outcome = { ok: false, failure: classify(failure(WS.NOT_ATTEMPTED, { limit: deadline.label }), { kind: "websocket", completedPhases: [], endpoint, budgetMs: ctx.budgetMs }) };
    for (let index = 0; index < unattempted; index += 1) outcomes.push(notAttempted);
  }
  const openAllMs = performance.now() - startedAt;
  ctx.phases.record("load", openAllMs);

  ctx.phases.start("close");
  const closeStartedAt = performance.now();
  await Promise.all([...sockets].map((ws) => closeNormally(ws, Math.min(CLOSE_WAIT_MS, deadline.remainingMs()), deadline.signal)));
  ctx.phases.record("close", performance.now() - closeStartedAt);
  ctx.signal.removeEventListener("abort", terminateAll);
  deadline.signal.removeEventListener("abort", abortConnections);

  const succeeded = outcomes.filter((outcome) => outcome.ok);
  const handshakes = outcomes.flatMap((outcome) => (outcome.handshakeMs !== undefined ? [outcome.handshakeMs] : []));
  const welcomes = succeeded.flatMap((outcome) => (outcome.ok && outcome.welcomeMs !== undefined ? [outcome.welcomeMs] : []));
  const failures: Record<string, number> = {};
  const firstMessage = new Map<string, string>();
  for (const outcome of outcomes) {
    if (outcome.ok) continue;
    failures[outcome.failure.class] = (failures[outcome.failure.class] ?? 0) + 1;
    if (!firstMessage.has(outcome.failure.class)) firstMessage.set(outcome.failure.class, outcome.failure.message);
  }

  const metrics: Record<string, MetricValue> = ctx.metrics;
  Object.assign(metrics, {
    connections: total,
    concurrency,
    succeeded: succeeded.length,
    failed: total - succeeded.length,
    successRate: Math.round((succeeded.length / total) * 1000) / 10,
    openAllMs: roundMs(openAllMs),
  } satisfies Record<string, MetricValue>);
  if (handshakes.length) {
    metrics.handshakeP50Ms = roundMs(percentile(handshakes, 50));
    metrics.handshakeP95Ms = roundMs(percentile(handshakes, 95));
    metrics.handshakeMaxMs = roundMs(Math.max(...handshakes));
  }
  if (welcomes.length) {
    metrics.welcomeP50Ms = roundMs(percentile(welcomes, 50));
    metrics.welcomeP95Ms = roundMs(percentile(welcomes, 95));
  }
  if (Object.keys(failures).length) {
    metrics.failures = failures;
    metrics.failureSummary = summarize(failures, firstMessage);
  }

  if (succeeded.length === 0) {
    // Nothing worked: the class of the commonest failure (refused, auth …) is the diagnosis, not "unhealthy".
    const [topClass] = Object.entries(failures).sort((a, b) => b[1] - a[1])[0];
    const example = outcomes.find((outcome) => !outcome.ok && outcome.failure.class === topClass) as Extract<Outcome, { ok: false }>;
    // The example's own diagnosis, said of the whole load test.
    throw new Diagnosed({ ...example.failure, message: `load test: all ${total} connections failed (${describeCounts(failures)}); first ${topClass}: ${example.failure.message}` });
  }
  ctx.labels.push("load test");
  if (firstMessage.size) ctx.details.failureExamples = Object.fromEntries(firstMessage);
}

function describeCounts(failures: Record<string, number>): string {
  return Object.entries(failures)
    .sort((a, b) => b[1] - a[1])
    .map(([failureClass, count]) => `${count} ${failureClass}`)
    .join(", ");
}

function summarize(failures: Record<string, number>, firstMessage: Map<string, string>): string {
  const [topClass] = Object.entries(failures).sort((a, b) => b[1] - a[1])[0];
  const text = `${describeCounts(failures)}; e.g. ${topClass}: ${firstMessage.get(topClass)}`;
  return cut(text, SUMMARY_CHARS);
}
