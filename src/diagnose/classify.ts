// Turns whatever a probe threw into a diagnosis from the catalogue: a
// failure the probe already understood (Diagnosed), the end of the budget
// (which phase was reached decides the layer), the kind's own error rules
// (they know their client: ioredis hides ECONNREFUSED behind "Connection is
// closed"), then Node's network and TLS errors. The runner is its one caller
// for a check (WebSocket load mode classifies each of its connections with it).
import { Diagnosed, diagnosisOf, type Facts } from "./catalogue.js";
import { CHECK, DNS, isPrivateAddressHint, PEER, TCP, TIMEOUT, TLS, TLS_BY_NODE_CODE } from "./codes.js";
import { endpointHost } from "../util/url.js";
import type { ClassifiedError } from "./vocabulary.js";
import { BudgetExceeded } from "../util/deadline.js";

export interface ClassifyContext {
  kind: string;
  /** Phase in progress when the error happened. */
  phase?: string;
  /** Phases completed before the error. */
  completedPhases: string[];
  /** host or host:port the check targets, for messages. */
  endpoint?: string;
  budgetMs: number;
  /** The check's own timeout (its budget is smaller when the run deadline cut it). */
  timeoutMs?: number;
  /** How long the phase in progress had run when the budget ended. */
  phaseElapsedMs?: number;
  /** When the check started, counted from the start of the run's clock (start-up and earlier checks). */
  startedAfterMs?: number;
  /** What the probe told the classifier through ProbeContext.facts (the service's name, the user, …). */
  facts?: Facts;
}

/** A kind's (or a client library's) own reading of an error; undefined when it is not theirs. */
export type ErrorRule = (error: unknown, ctx: ClassifyContext) => ClassifiedError | undefined;

/** A kind's better hint for a generic entry, by entry id (`tcp.REFUSED` → "Memorystore listens on 6379 …"). */
export type Refinements = Readonly<Record<string, string | ((facts: Facts) => string)>>;

export interface ClassifyOptions {
  rules?: readonly ErrorRule[];
  refine?: Refinements;
  /** Whether what a peer sent first is the kind's protocol; when it is not, a stall or an unreadable answer is the wrong service. */
  speaks?: (firstBytes: string) => boolean;
}

/** Phases after which the TCP connection exists: a timeout there is the server's silence, not the network. */
const CONNECTED_AFTER = new Set(["connect", "tls", "upgrade", "auth", "startup"]);

export function classify(error: unknown, ctx: ClassifyContext, options: ClassifyOptions = {}): ClassifiedError {
  const found = diagnose(error, ctx, options);
  const refinement = found.diagnosis ? options.refine?.[found.diagnosis] : undefined;
  // An unreachable private address says where to run the check from, whatever the kind's own hint would say.
  if (!refinement || isPrivateAddressHint(found.hint ?? "")) return found;
  return { ...found, hint: typeof refinement === "function" ? refinement({ ...ctx.facts, ...found }) : refinement };
}

function diagnose(error: unknown, ctx: ClassifyContext, options: ClassifyOptions): ClassifiedError {
  const phase = ctx.phase;
  if (error instanceof Diagnosed) return { ...error.diagnosis, phase: error.diagnosis.phase ?? phase };
  // What answered is not the kind's protocol: a stall or a parse error after it is the wrong service, not a timeout or a bug.
  const said = ctx.facts?.peerSaid;
  const wrongService = typeof said === "string" && said.length > 0 && options.speaks !== undefined && !options.speaks(said);
  const asWrongService = () => diagnosisOf(PEER.NOT_THE_SERVICE, { ...ctx.facts, endpoint: ctx.endpoint, said: said as string }, { phase });
  if (error instanceof BudgetExceeded || isAbort(error)) return wrongService ? asWrongService() : classifyTimeout(ctx, error);
  // Before any kind's rule: out of file descriptors is infra-check's own limit, whatever the client made of it.
  const fdLimit = fileDescriptorLimit(error, ctx);
  if (fdLimit) return fdLimit;
  for (const rule of options.rules ?? []) {
    const found = rule(error, ctx);
    if (found) return { ...(phase ? { phase } : {}), ...found };
  }
  const network = classifyNodeError(error, ctx);
  if (network) return { ...(phase ? { phase } : {}), ...network };
  if (wrongService) return asWrongService();
  const err = error as Error | undefined;
  return diagnosisOf(CHECK.INTERNAL, { phase, name: err?.name ?? typeof error, text: err?.message ?? String(error) }, { phase });
}

/** EMFILE / ENFILE anywhere in the error (its cause, an AggregateError's first error): this process's or the system's open-file limit. */
function fileDescriptorLimit(error: unknown, ctx: ClassifyContext): ClassifiedError | undefined {
  let current = unwrapAggregate(error) as (NodeJS.ErrnoException & { cause?: unknown }) | undefined;
  for (let depth = 0; current && typeof current === "object" && depth < 4; depth += 1) {
    const code = current.code ?? (/\b(EMFILE|ENFILE)\b/.exec(current.message ?? "")?.[1] as string | undefined);
    if (code === "EMFILE" || code === "ENFILE") {
      return diagnosisOf(CHECK.FD_LIMIT, { ...ctx.facts, endpoint: ctx.endpoint, phase: ctx.phase, errno: code }, ctx.phase ? { phase: ctx.phase } : {});
    }
    current = unwrapAggregate(current.cause) as typeof current;
  }
  return undefined;
}

function isAbort(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return name === "AbortError" || name === "TimeoutError";
}

function budgetFacts(ctx: ClassifyContext, error: unknown) {
  const byRunDeadline = error instanceof BudgetExceeded ? error.byRunDeadline : ctx.timeoutMs !== undefined && ctx.budgetMs < ctx.timeoutMs;
  return {
    ...ctx.facts,
    endpoint: ctx.endpoint,
    phase: ctx.phase,
    budgetMs: error instanceof BudgetExceeded ? error.budgetMs : ctx.budgetMs,
    byRunDeadline,
    // A one-off says which flag set the budget (facts.budgetNote); a run says when its deadline cut it.
    budgetNote: (ctx.facts?.budgetNote as string | undefined) ?? (byRunDeadline ? " (cut short by the run deadline)" : ""),
  };
}

/** Below this share of the budget, a connect that did not finish says nothing about the network. */
const FAIR_CONNECT_SHARE = 0.5;

function classifyTimeout(ctx: ClassifyContext, error: unknown): ClassifiedError {
  const facts = budgetFacts(ctx, error);
  const phase = ctx.phase;
  const connected = ctx.completedPhases.some((done) => CONNECTED_AFTER.has(done));
  if (phase === "dns") return diagnosisOf(DNS.TIMEOUT, facts, { phase });
  if (!connected && (phase === undefined || phase === "connect")) {
    // Never blame the network for a budget infra-check spent itself: only a connect that had
    // a fair share of the check's time is evidence of packets dropped on the way.
    const connectMs = phase === "connect" ? (ctx.phaseElapsedMs ?? facts.budgetMs) : 0;
    const before = ctx.completedPhases.filter((name) => name !== "connect");
    const runFacts = { ...facts, timeoutMs: ctx.timeoutMs ?? facts.budgetMs, startedAfterMs: ctx.startedAfterMs ?? 0 };
    if (connectMs < facts.budgetMs * FAIR_CONNECT_SHARE) {
      if (facts.byRunDeadline) return diagnosisOf(TIMEOUT.RUN_DEADLINE, runFacts, { phase: phase ?? "connect" });
      return diagnosisOf(TIMEOUT.BUDGET_SPENT, { ...facts, connectMs, before }, { phase: phase ?? "connect" });
    }
    // A run deadline that left a sliver of the check's own timeout: too short to tell a slow path from none.
    if (facts.byRunDeadline && facts.budgetMs < runFacts.timeoutMs * FAIR_CONNECT_SHARE) return diagnosisOf(TIMEOUT.RUN_DEADLINE, runFacts, { phase: "connect" });
    return diagnosisOf(TCP.CONNECT_TIMEOUT, facts);
  }
  if (phase === "tls") return diagnosisOf(TLS.TIMEOUT, facts);
  return diagnosisOf(TIMEOUT.NO_ANSWER, facts, { phase });
}

type NodeError = NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number; reason?: string };

/** The generic Node network rules (DNS, refused, no route, reset, TLS), also what a kind's rule may build on. */
export function classifyNodeError(error: unknown, ctx: ClassifyContext): ClassifiedError | undefined {
  const err = unwrapAggregate(error) as NodeError | undefined;
  if (!err || typeof err !== "object") return undefined;
  const code = err.code;
  const endpoint = ctx.endpoint ?? ([err.address, err.port].filter(Boolean).join(":") || undefined);
  const facts = { ...ctx.facts, endpoint, phase: ctx.phase, host: err.hostname ?? (ctx.facts?.host as string | undefined) ?? endpointHost(endpoint ?? "") };
  switch (code) {
    case "ENOTFOUND":
      return diagnosisOf(DNS.NOT_FOUND, facts);
    case "EAI_AGAIN":
      return diagnosisOf(DNS.TEMPORARY, facts);
    case "ECONNREFUSED":
      return diagnosisOf(TCP.REFUSED, facts);
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EADDRNOTAVAIL":
    case "ETIMEDOUT":
      return diagnosisOf(TCP.NO_ROUTE, { ...facts, errno: code, ...(err.address ? { address: err.address } : {}) });
    case "ECONNRESET":
    case "EPIPE":
      return diagnosisOf(TCP.RESET, { ...facts, errno: code });
  }
  // A TLS client talking to a plaintext server often reports a bare EPROTO with the OpenSSL text.
  if (code === "EPROTO" && /wrong version number|packet length too long|http request/i.test(err.message ?? "")) {
    return diagnosisOf(TLS.NOT_TLS, facts);
  }
  // Node's HTTP parser (http, ws upgrades): the answer is not HTTP at all.
  if (code && /^HPE_/.test(code)) {
    const said = ctx.facts?.peerSaid as string | undefined;
    // It began as HTTP and broke later: the server speaks HTTP, badly — not another service on the port.
    if (said?.startsWith("HTTP/")) {
      if (code === "HPE_HEADER_OVERFLOW") return diagnosisOf(PEER.HEADERS_TOO_LARGE, facts);
      return diagnosisOf(PEER.BROKEN_HTTP, { ...facts, nodeCode: code, reason: err.reason ?? err.message });
    }
    return diagnosisOf(PEER.NOT_HTTP, { ...facts, said, reason: err.reason ?? err.message });
  }
  const known = code ? TLS_BY_NODE_CODE[code] : undefined;
  if (known) return diagnosisOf(known, { ...facts, nodeCode: code });
  if ((code && /^ERR_SSL_|^ERR_TLS_/.test(code)) || /certificate|SSL routines|TLS/i.test(err.message ?? "")) {
    return diagnosisOf(TLS.OTHER, { ...facts, nodeCode: code, reason: err.reason ?? err.message });
  }
  return undefined;
}

function unwrapAggregate(error: unknown): unknown {
  // A name resolving to several addresses fails with an AggregateError whose own message is empty.
  if (error instanceof AggregateError && error.errors.length > 0) {
    const first = error.errors[0] as NodeJS.ErrnoException;
    return first.code || !(error as NodeJS.ErrnoException).code ? first : Object.assign(Object.create(first), { code: (error as NodeJS.ErrnoException).code });
  }
  return error;
}
