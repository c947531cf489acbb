// WebSocket check: handshake phases (dns, connect, tls, upgrade), the
// negotiated subprotocol, a welcome message matched by JSON paths, an optional
// ping RTT and a scripted exchange (send, then expect events in order, each
// within a deadline), closed with a normal closure. With `load:` it opens N
// connections instead and reports success rate and handshake percentiles.
//
// Every wait runs on the probe's inner deadline (ProbeContext.deadline), so a
// failure says which wait it was and what arrived instead of the runner's
// generic "no answer within the budget".
import { z } from "zod";
import { failure } from "../../diagnose/catalogue.js";
import { parseExpectation } from "../../evaluate/expectations.js";
import { resolveAddress } from "../../net/dial.js";
import { headerSecrets, redactUrl, SECRET_HEADER, urlSecrets } from "../../redact.js";
import { watchAbort } from "../../util/deadline.js";
import { formatMs, parseDurationMs } from "../../util/duration.js";
import { ConfigError } from "../../util/errors.js";
import { cut } from "../../util/excerpt.js";
import { durationFlag, parseHeaderFlags } from "../../util/flags.js";
import { median, percentile, roundMs } from "../../util/stats.js";
import type { CheckSpec, InnerDeadline, ProbeContext, ProbeDefinition } from "../api.js";
import { durationSchema, expectationSchema, headersSchema, tlsSchema } from "../shared/schema.js";
import { CERTIFICATE_METRICS } from "../shared/tls.js";
import { certFigure, figures, msFigure } from "../shared/pass-line.js";
import { closedFailure, closeNormally, openSocket, type Observations, type OpenedSocket } from "./connection.js";
import { websocketDiagnosis, WS } from "./diagnose.js";
import { DEFAULT_CONCURRENCY_CAP, DEFAULT_SUCCESS_RATE, runLoad } from "./load.js";
import { compileMatch, shortMatch } from "./match.js";
import { applyToken, obtainToken, tokenHeaderName, tokenSchema, tokenSecrets } from "./token.js";
import { Waiter } from "./waiter.js";
import { decodeUrlPart } from "../../util/url.js";

/** A server that greets and then dies (a dependency it needs is down) is caught in this window after the last step. */
const DEFAULT_HOLD = "250ms";

/** How long the closing handshake may take before the socket is destroyed. */
const CLOSE_WAIT_MS = 1000;

const SUBPROTOCOL_TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;

const matchSchema = z
  .record(z.string().min(1), expectationSchema)
  .refine((match) => Object.keys(match).length > 0, { message: "match needs at least one PATH: VALUE pair, e.g. { type: agent_started }" })
  .meta({ description: 'Dotted JSON paths → expected values, with the operators of expect ("~ ^agent_", "> 0"); a non-JSON message never matches' });

const welcomeSchema = z.strictObject({
  match: matchSchema,
  within: durationSchema.optional().meta({ description: "How long to wait after the upgrade (default: the rest of the check's budget)" }),
});

const stepSchema = z
  .strictObject({
    send: z.json().optional().meta({ description: "Message to send: a mapping/list is sent as JSON text, a string as is" }),
    expect: matchSchema.optional().meta({ description: "Wait for the next message matching these paths (others are skipped and recorded)" }),
    within: durationSchema.optional().meta({ description: "Deadline of an expect step, from the end of the previous step (default: the rest of the budget)" }),
  })
  .superRefine((step, ctx) => {
    const hasSend = step.send !== undefined;
    const hasExpect = step.expect !== undefined;
    if (hasSend === hasExpect) ctx.addIssue({ code: "custom", message: "each script step is either { send: MESSAGE } or { expect: { PATH: VALUE }, within?: DURATION }" });
    if (hasSend && step.within !== undefined) ctx.addIssue({ code: "custom", path: ["within"], message: "within belongs to expect steps (sending does not wait)" });
  });

const loadSchema = z.strictObject({
  connections: z.number().int().min(1).max(100_000).meta({ description: "How many connections to open (each: handshake + welcome), held open until all are done" }),
  concurrency: z.number().int().min(1).max(10_000).optional().meta({ description: `Handshakes in flight at once (default: connections, at most ${DEFAULT_CONCURRENCY_CAP})` }),
  successRate: expectationSchema.optional().meta({ description: `Required share of successful connections (default "${DEFAULT_SUCCESS_RATE}")` }),
  handshakeP95Ms: expectationSchema.optional().meta({ description: 'Bound on the 95th percentile handshake time, e.g. "< 5s"' }),
  welcomeP95Ms: expectationSchema.optional().meta({ description: "Bound on the 95th percentile time from upgrade to welcome" }),
});

const schema = z
  .strictObject({
    url: z.url({ protocol: /^wss?$/, error: "expected a ws:// or wss:// URL" }).meta({ description: "WebSocket endpoint" }),
    headers: headersSchema.meta({ description: "Upgrade request headers (${VAR} is interpolated); Authorization/Cookie values are secrets" }),
    subprotocols: z
      .array(z.string().regex(SUBPROTOCOL_TOKEN, "a subprotocol is a single token (letters, digits, !#$%&'*+-.^_`|~): no spaces or commas"))
      .default([])
      .meta({ description: "Subprotocols offered; the check fails unless the server selects one of them" }),
    token: tokenSchema.optional(),
    welcome: welcomeSchema.optional().meta({ description: "The first server message to wait for after the upgrade" }),
    script: z.array(stepSchema).default([]).meta({ description: "Conversation after the welcome: send and expect steps, in order" }),
    ping: z
      .union([z.boolean(), z.number().int().min(1).max(100)])
      .default(false)
      .meta({ description: "Measure ping/pong RTT (true = one sample, N = median of N samples)" }),
    tls: tlsSchema.optional(),
    load: loadSchema.optional().meta({ description: "Load mode: N connections instead of one conversation" }),
    hold: z
      .union([z.literal(false), durationSchema])
      .optional()
      .meta({ description: `Keep the connection open this long after the last step and fail on any close other than 1000 in it (default ${DEFAULT_HOLD}; false: close at once)` }),
  })
  .superRefine((spec, ctx) => {
    if (new Set(spec.subprotocols).size !== spec.subprotocols.length) ctx.addIssue({ code: "custom", path: ["subprotocols"], message: "each subprotocol may be offered once" });
    if (spec.token && spec.token.as === "header") {
      const name = tokenHeaderName(spec.token).toLowerCase();
      if (Object.keys(spec.headers).some((header) => header.toLowerCase() === name)) {
        ctx.addIssue({ code: "custom", path: ["token"], message: `both headers.${tokenHeaderName(spec.token)} and token are set: keep one` });
      }
    }
    if (spec.load && spec.script.length) ctx.addIssue({ code: "custom", path: ["load"], message: "load mode opens connections and waits for the welcome only: put the script in a separate check" });
    if (spec.load && spec.ping) ctx.addIssue({ code: "custom", path: ["load"], message: "load mode does not ping: put ping in a separate check" });
    if (spec.load?.concurrency !== undefined && spec.load.concurrency > spec.load.connections) {
      ctx.addIssue({ code: "custom", path: ["load", "concurrency"], message: `concurrency (${spec.load.concurrency}) cannot exceed connections (${spec.load.connections})` });
    }
  });

export type WebsocketFields = z.infer<typeof schema>;
export type WebsocketSpec = CheckSpec<WebsocketFields>;

const slow = { unit: "ms", class: "slow" } as const;

const websocketProbe: ProbeDefinition<WebsocketFields> = {
  kind: "websocket",
  summary: "WebSocket: handshake phases, subprotocol, welcome, scripted events, load",
  schema,
  metrics: {
    handshakeMs: { ...slow, phase: "composite", description: "TCP connect start → 101 received and validated" },
    welcomeMs: { ...slow, description: "upgrade → the welcome message" },
    pingMs: { ...slow, phase: "ping", description: "ping/pong round trip (median with ping: N)" },
    pingP95Ms: { ...slow, phase: "ping", description: "95th percentile ping/pong round trip (ping: N)" },
    subprotocol: { class: "protocol", description: "the subprotocol the server selected" },
    closeCode: { class: "protocol", description: "the close code the conversation ended with" },
    stepMs: { ...slow, phase: "composite", description: "each script step's time, in order" },
    messagesReceived: { unit: "count", class: "unhealthy", description: "messages received" },
    dnsMs: { ...slow, description: "name resolution (host names only)" },
    connectMs: { ...slow, description: "TCP connect" },
    ...CERTIFICATE_METRICS,
    upgradeMs: { ...slow, description: "upgrade request → 101" },
    tokenMs: { ...slow, description: "obtaining the token (command or JWT)" },
    successRate: { unit: "percent", class: "unhealthy", description: "load mode: share of connections that succeeded" },
    connections: { unit: "count", class: "unhealthy", description: "load mode: connections tried" },
    succeeded: { unit: "count", class: "unhealthy", description: "load mode: connections that succeeded" },
    failed: { unit: "count", class: "unhealthy", description: "load mode: connections that failed" },
    handshakeP50Ms: { ...slow, description: "load mode: median handshake" },
    handshakeP95Ms: { ...slow, description: "load mode: 95th percentile handshake" },
    handshakeMaxMs: { ...slow, description: "load mode: slowest handshake" },
    welcomeP50Ms: { ...slow, description: "load mode: median upgrade → welcome" },
    welcomeP95Ms: { ...slow, description: "load mode: 95th percentile upgrade → welcome" },
    openAllMs: { ...slow, description: "load mode: time to try every connection" },
    failures: { class: "unhealthy", description: "load mode: failed connections by class" },
    failureSummary: { class: "unhealthy", description: "load mode: the failures in one line" },
  },
  diagnosis: websocketDiagnosis,
  passLine: ({ metrics }) =>
    typeof metrics.connections === "number"
      ? figures(`${String(metrics.succeeded)}/${metrics.connections} ok`, msFigure("handshake p95", metrics.handshakeP95Ms), msFigure("welcome p95", metrics.welcomeP95Ms))
      : figures(
          msFigure("handshake", metrics.handshakeMs),
          typeof metrics.subprotocol === "string" && metrics.subprotocol,
          msFigure("welcome", metrics.welcomeMs),
          msFigure("ping", metrics.pingMs),
          Array.isArray(metrics.stepMs) && metrics.stepMs.length > 0 && `${metrics.stepMs.length} script step${metrics.stepMs.length === 1 ? "" : "s"}`,
          typeof metrics.closeCode === "number" && `closed ${metrics.closeCode}`,
          certFigure(metrics),
        ),

  target: (spec) => redactUrl(spec.url),
  secrets: (spec) => [
    ...Object.entries(spec.headers)
      .filter(([name]) => SECRET_HEADER.test(name))
      .flatMap(([, value]) => [value, ...headerSecrets(value)]),
    ...tokenSecrets(spec.token),
    ...urlCredentials(spec.url),
    ...urlSecrets(spec.url),
  ],

  defaultExpect(spec) {
    if (!spec.load) return {};
    const expectations: Record<string, ReturnType<typeof parseExpectation>> = {
      successRate: parseExpectation(spec.load.successRate ?? DEFAULT_SUCCESS_RATE),
    };
    if (spec.load.handshakeP95Ms !== undefined) expectations.handshakeP95Ms = parseExpectation(spec.load.handshakeP95Ms);
    if (spec.load.welcomeP95Ms !== undefined) expectations.welcomeP95Ms = parseExpectation(spec.load.welcomeP95Ms);
    return expectations;
  },

  waits: (spec) => [
    ...(spec.welcome?.within !== undefined ? [{ key: "welcome.within", ms: parseDurationMs(spec.welcome.within)! }] : []),
    ...spec.script.flatMap((step, index) => (step.within !== undefined ? [{ key: `script.${index}.within`, ms: parseDurationMs(step.within)! }] : [])),
  ],

  run: (spec, ctx) => converse(spec, ctx),

  oneOff: {
    command: "ws",
    argument: "<url>",
    forms: ["wss://HOST[:PORT]/PATH", "ws://HOST[:PORT]/PATH"],
    description: "Open a WebSocket once (or N times with --connections) and diagnose the handshake, welcome and events",
    options: [
      { flags: "-H, --header <header>", description: 'upgrade request header "Name: value" (repeatable); $VAR in the value reads the environment, e.g. -H \'Authorization: Bearer $STAGING_JWT\'', repeatable: true },
      { flags: "--subprotocol <name>", description: "offer this subprotocol (repeatable); fails unless the server selects one", repeatable: true },
      { flags: "--welcome <match>", description: "wait for a first message matching PATH=VALUE, e.g. 'payload.event=connection_established'" },
      { flags: "--within <duration>", description: "deadline of --welcome and of each --expect-event (default: the rest of --timeout)" },
      { flags: "--send <json>", description: "after the welcome, send this JSON message (repeatable; all are sent before the first --expect-event)", repeatable: true },
      { flags: "--expect-event <match>", description: "then wait for a message matching PATH=VALUE, e.g. 'type=agent_started' (repeatable, in order; --expect is for metrics)", repeatable: true },
      { flags: "--ping", description: "measure ping/pong round-trip time (pingMs)" },
      { flags: "--token-command <command>", description: "run this command and send its output as 'Authorization: Bearer …', e.g. 'gcloud auth print-identity-token'" },
      { flags: "--jwt-secret-env <var>", description: "mint an HS256 JWT signed with the secret in this environment variable" },
      { flags: "--jwt-claims <json>", description: 'claims of the minted JWT, e.g. \'{"sub":"infra-check"}\'' },
      { flags: "--token-query <name>", description: "send the token (--token-command / --jwt-secret-env) as this query parameter instead of a header" },
      { flags: "--tls-ca <file>", description: "CA bundle (PEM) to trust" },
      { flags: "--servername <name>", description: "TLS name to verify the certificate against" },
      { flags: "-k, --insecure", description: "accept any TLS certificate (triage only)" },
      { flags: "--hold <duration>", description: `keep the connection open this long after the last step and fail on a server close other than 1000 (default ${DEFAULT_HOLD}; 0 to close at once)` },
      { flags: "--connections <n>", description: "load mode: open N connections (handshake + welcome each) and report success rate and percentiles" },
      { flags: "--concurrency <n>", description: `load mode: handshakes in flight at once (default: N, at most ${DEFAULT_CONCURRENCY_CAP})` },
    ],
    examples: [
      "infra-check ws wss://api.staging.example.com/ws -H 'Authorization: Bearer $STAGING_JWT' --subprotocol agent_chat --welcome 'payload.event=connection_established' --within 2s",
      `infra-check ws wss://api.staging.example.com/ws --jwt-secret-env JWT_SECRET --subprotocol agent_chat --welcome 'type=connection_established' --send '{"type":"user_message","payload":{"content":"health probe"}}' --expect-event type=agent_started --expect-event type=agent_completed -t 30s`,
      "infra-check ws wss://api.staging.example.com/ws --token-command 'gcloud auth print-identity-token' --ping --expect 'handshakeMs<1s'",
      "infra-check ws wss://api.staging.example.com/ws -H 'Authorization: Bearer $STAGING_JWT' --connections 10 --expect 'successRate>=95%' --expect 'handshakeP95Ms<5s'",
    ],
    flagsFor: [
      [/\bwelcome\.within\b/g, "--within"],
      [/\bscript\.\d+\.within\b/g, "--within"],
      [/the Authorization header or token block/g, "-H 'Authorization: …', --token-command or --jwt-secret-env"],
    ],
    toRawCheck(url, options, env) {
      const strings = (value: unknown) => (Array.isArray(value) ? (value as string[]) : value === undefined ? [] : [String(value)]);
      const within = options.within as string | undefined;
      if (within !== undefined) durationFlag("--within", within);
      if (within !== undefined && !options.welcome && strings(options.expectEvent).length === 0) {
        throw new ConfigError("--within sets the deadline of --welcome and --expect-event: give one of them");
      }
      const raw: Record<string, unknown> = {
        kind: "websocket",
        url,
        headers: parseHeaderFlags(strings(options.header), env),
        subprotocols: strings(options.subprotocol),
      };
      if (options.welcome) raw.welcome = { match: parseMatchFlag("--welcome", String(options.welcome)), ...(within ? { within } : {}) };
      const script: Record<string, unknown>[] = [
        ...strings(options.send).map((text) => ({ send: parseJsonFlag("--send", text) })),
        ...strings(options.expectEvent).map((text) => ({ expect: parseMatchFlag("--expect-event", text), ...(within ? { within } : {}) })),
      ];
      if (script.length) raw.script = script;
      if (options.ping) raw.ping = true;
      if (options.hold !== undefined) raw.hold = String(options.hold).trim() === "0" ? false : durationFlag("--hold", String(options.hold)) && String(options.hold);

      const token = tokenFromFlags(options, env);
      if (token) raw.token = token;

      const tls: Record<string, unknown> = {};
      if (options.tlsCa) tls.ca = options.tlsCa;
      if (options.servername) tls.servername = options.servername;
      if (options.insecure) tls.insecure = true;
      if (Object.keys(tls).length) raw.tls = tls;

      if (options.connections !== undefined) {
        const connections = positiveInt("--connections", options.connections);
        const load: Record<string, unknown> = { connections };
        if (options.concurrency !== undefined) load.concurrency = positiveInt("--concurrency", options.concurrency);
        if (script.length || options.ping) throw new ConfigError("--connections (load mode) waits for the welcome only: drop --send/--expect-event/--ping");
        raw.load = load;
      } else if (options.concurrency !== undefined) {
        throw new ConfigError("--concurrency needs --connections");
      }
      return raw;
    },
  },
};

async function converse(spec: WebsocketSpec, ctx: ProbeContext): Promise<void> {
  const { deadline } = ctx;
  const { default: WebSocket } = await import("ws");
  const url = new URL(spec.url);
  const headers = { ...spec.headers };
  if (spec.token) applyToken(spec.token, await obtainToken(spec.token, ctx, deadline), url, headers);
  const { address, family } = await resolveAddress(ctx, url.hostname.replace(/^\[|\]$/g, ""));

  if (spec.load) return runLoad(WebSocket, { spec, load: spec.load, url, address, family, headers, ctx, deadline });

  const opened = await openSocket(WebSocket, {
    url,
    address,
    family,
    headers,
    protocols: spec.subprotocols,
    tls: spec.tls,
    timeoutMs: deadline.remainingMs(),
    limitLabel: deadline.label,
    signal: deadline.signal,
    phases: ctx.phases,
    observe: ctx,
  });
  const { ws, inbox } = opened;
  const terminate = () => ws.terminate();
  ctx.signal.addEventListener("abort", terminate, { once: true });
  let closedCleanly = false;
  try {
    ctx.metrics.handshakeMs = roundMs(opened.handshakeMs);
    ctx.metrics.subprotocol = opened.subprotocol || null;
    const waiter = new Waiter(inbox, deadline, ctx);

    if (spec.welcome) {
      const match = compileMatch(spec.welcome.match);
      ctx.phases.start("welcome");
      const withinMs = spec.welcome.within !== undefined ? parseDurationMs(spec.welcome.within) : undefined;
      const welcome = await waiter.waitFor(match, withinMs, { stage: "welcome", withinKey: "welcome.within" });
      const welcomeMs = Math.max(0, welcome.at - opened.openedAt);
      ctx.phases.record("welcome", welcomeMs);
      ctx.metrics.welcomeMs = roundMs(welcomeMs);
    }

    if (spec.ping) {
      const samples: number[] = [];
      const count = spec.ping === true ? 1 : spec.ping;
      ctx.phases.start("ping");
      for (let i = 0; i < count; i += 1) samples.push(await ctx.sample(() => pingOnce(opened, deadline, ctx)));
      ctx.phases.record("ping", samples.reduce((sum, ms) => sum + ms, 0));
      ctx.metrics.pingMs = roundMs(median(samples));
      if (count > 1) ctx.metrics.pingP95Ms = roundMs(percentile(samples, 95));
    }

    if (spec.script.length) {
      const stepMs: number[] = [];
      ctx.metrics.stepMs = stepMs;
      waiter.startScript();
      let stepStartedAt = performance.now();
      for (const [index, step] of spec.script.entries()) {
        const name = stepName(index, step);
        ctx.phases.start(name);
        let endedAt: number;
        if (step.expect !== undefined) {
          const withinMs = step.within !== undefined ? parseDurationMs(step.within) : undefined;
          const message = await waiter.waitFor(compileMatch(step.expect), withinMs, { stage: name, withinKey: `script.${index}.within`, step: true });
          endedAt = message.at;
        } else {
          await sendMessage(opened, step.send, name, deadline);
          endedAt = performance.now();
        }
        ctx.phases.record(name, endedAt - stepStartedAt);
        stepMs.push(roundMs(endedAt - stepStartedAt));
        stepStartedAt = endedAt;
      }
    }

    ctx.metrics.messagesReceived = waiter.received;
    await hold(opened, spec, ctx);
    const closed = (await closeNormally(ws, Math.min(CLOSE_WAIT_MS, deadline.remainingMs()), deadline.signal)) ?? inbox.closed;
    closedCleanly = true;
    if (closed) {
      ctx.metrics.closeCode = closed.code;
      // The answer to our 1000 is 1000 (or no code); anything else is the server closing with its own reason first.
      if (closed.code !== 1000 && closed.code !== 1005) throw closedFailure(closed.code, closed.reason, "the closing handshake", [], ctx);
    }
  } finally {
    ctx.signal.removeEventListener("abort", terminate);
    if (!closedCleanly) leaveQuickly(ws);
  }
}

/**
 * The observation window after the last step: the socket stays open, messages
 * are let through, and a close the server starts in it fails the check unless
 * it is a normal closure (1000).
 */
async function hold(opened: OpenedSocket, spec: WebsocketSpec, ctx: ProbeContext): Promise<void> {
  const holdMs = spec.hold === false ? 0 : Math.min(parseDurationMs(spec.hold ?? DEFAULT_HOLD)!, ctx.deadline.remainingMs());
  if (holdMs <= 0) return;
  ctx.phases.start("hold");
  const started = performance.now();
  for (;;) {
    const event = await opened.inbox.next(holdMs - (performance.now() - started), ctx.deadline.signal);
    if (event.type === "message") continue;
    if (event.type === "error") throw event.error;
    if (event.type === "closed") {
      ctx.metrics.closeCode = event.code;
      if (event.code !== 1000) throw closedFailure(event.code, event.reason, `the ${formatMs(holdMs)} hold after the last step (${formatMs(performance.now() - started)} into it)`, [], ctx);
    }
    break;
  }
  // Not a phase of the exchange (nothing is asked or answered in it): it is not recorded, so it is never "the slowest phase".
}

/** Step names as phases: "step 1: send user_message", "step 2: agent_started". */
function stepName(index: number, step: WebsocketFields["script"][number]): string {
  if (step.expect !== undefined) return `step ${index + 1}: ${shortMatch(compileMatch(step.expect))}`;
  const send = step.send;
  const type = send !== null && typeof send === "object" && !Array.isArray(send) && typeof (send as Record<string, unknown>).type === "string" ? (send as Record<string, string>).type : undefined;
  return `step ${index + 1}: send${type ? ` ${type}` : ""}`;
}

/** How long to wait for the close event of a socket the server is already closing, to report its code. */
const CLOSING_WAIT_MS = 500;

/** The reason a socket that is no longer open went away (its close code or error), for a step that needed it open. */
async function notOpenFailure(opened: OpenedSocket, stage: string, deadline: InnerDeadline): Promise<never> {
  throw await opened.inbox.endFailure(stage, Math.min(CLOSING_WAIT_MS, deadline.remainingMs()), deadline.signal);
}

async function sendMessage(opened: OpenedSocket, message: unknown, stage: string, deadline: InnerDeadline): Promise<void> {
  const { ws } = opened;
  if (ws.readyState !== ws.OPEN) await notOpenFailure(opened, stage, deadline);
  const text = typeof message === "string" ? message : JSON.stringify(message);
  return new Promise((resolve, reject) => {
    ws.send(text, (error) => (error ? reject(error) : resolve()));
  });
}

/** One ping/pong round trip, in ms. */
async function pingOnce(opened: OpenedSocket, deadline: InnerDeadline, observe: Observations): Promise<number> {
  const { ws } = opened;
  if (ws.readyState !== ws.OPEN) await notOpenFailure(opened, "ping", deadline);
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const done = () => {
      stopWatching();
      ws.off("pong", onPong);
      ws.off("close", onClose);
      ws.off("error", onError);
    };
    const onPong = () => {
      done();
      resolve(performance.now() - startedAt);
    };
    const onClose = (code: number, reason: Buffer) => {
      done();
      reject(closedFailure(code, reason.toString(), "ping", [], observe));
    };
    // A broken frame while waiting (the client then waits for a close that may never come): fail now, the classifier names it.
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onDeadline = () => {
      done();
      if (!deadline.expired) return reject(deadline.signal.reason);
      reject(failure(WS.PONG_TIMEOUT, { waited: formatMs(performance.now() - startedAt), limit: deadline.label }));
    };
    const stopWatching = watchAbort(deadline.signal, onDeadline);
    ws.on("pong", onPong);
    ws.once("close", onClose);
    ws.once("error", onError);
    ws.ping();
  });
}

/**
 * On a failure path: say goodbye (1000) if the socket is still open, but do
 * not wait for the answer, so the diagnosis is not held up; destroy it shortly.
 */
function leaveQuickly(ws: OpenedSocket["ws"]): void {
  if (ws.readyState === ws.OPEN) {
    const timer = setTimeout(() => ws.terminate(), 250);
    timer.unref();
    ws.once("close", () => clearTimeout(timer));
    ws.close(1000, "infra-check done");
  } else {
    // Closing after a protocol error or a server close: without terminate() ws waits 30 s for the TCP end.
    ws.terminate();
  }
}

function parseMatchFlag(flag: string, text: string): Record<string, string> {
  const match = /^\s*([A-Za-z0-9_$][A-Za-z0-9_.$-]*)\s*(==|!=|<=|>=|=|<|>|~)\s*(.*)$/s.exec(text);
  if (!match) throw new ConfigError(`${flag}: expected PATH=VALUE (e.g. 'type=agent_started', 'payload.event=connection_established'), found "${text}"`);
  const [, path, op, operand] = match;
  if (operand.trim() === "") throw new ConfigError(`${flag}: "${path}${op}" needs a value after the operator`);
  return { [path]: op === "=" || op === "==" ? operand.trim() : `${op} ${operand.trim()}` };
}

function parseJsonFlag(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // Where it breaks, never the text itself: a message to send often carries a token or a password.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    const where = position !== undefined ? `it stops being JSON at character ${Number(position) + 1} of ${text.length}` : "it is not JSON (it ends too early or is empty)";
    throw new ConfigError(`${flag}: expected a JSON message, e.g. '{"type":"user_message","payload":{"content":"hi"}}' (plain text: '"hello"'); ${where} (the value is not shown: it may hold a credential)`);
  }
}

function positiveInt(flag: string, value: unknown): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new ConfigError(`${flag}: expected a whole number ≥ 1, found "${String(value)}"`);
  return number;
}

function tokenFromFlags(options: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  const placement = options.tokenQuery ? { as: "query", name: String(options.tokenQuery) } : {};
  if (options.tokenCommand && options.jwtSecretEnv) throw new ConfigError("--token-command and --jwt-secret-env are alternatives: give one");
  if (options.tokenCommand) return { command: String(options.tokenCommand), ...placement };
  if (options.jwtSecretEnv) {
    const variable = String(options.jwtSecretEnv);
    const secret = env[variable];
    if (!secret) throw new ConfigError(`--jwt-secret-env: environment variable ${variable} is not set`);
    let claims: unknown = {};
    if (options.jwtClaims !== undefined) {
      claims = parseJsonFlag("--jwt-claims", String(options.jwtClaims));
      if (claims === null || typeof claims !== "object" || Array.isArray(claims)) throw new ConfigError('--jwt-claims: expected a JSON object, e.g. \'{"sub":"infra-check"}\'');
    }
    return { jwt: { secret, claims }, ...placement };
  }
  if (options.jwtClaims !== undefined) throw new ConfigError("--jwt-claims needs --jwt-secret-env");
  if (options.tokenQuery) throw new ConfigError("--token-query needs --token-command or --jwt-secret-env");
  return undefined;
}

function urlCredentials(raw: string): string[] {
  try {
    const url = new URL(raw);
    const found = [decodeUrlPart(url.password)];
    for (const [key, value] of url.searchParams) if (/pass|token|secret|key|auth|sig|jwt/i.test(key)) found.push(value);
    return found.filter(Boolean);
  } catch {
    return [];
  }
}

export default websocketProbe;
