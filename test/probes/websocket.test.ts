import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startChatServer, parseChatFault, AGENT_EVENTS, type ChatServer } from "../../src/demo/chat-server.js";
import { makeCerts, type CertSet } from "../../src/demo/certs.js";
import { blackholePort, closedPort, silentServer } from "../helpers/net.js";
import { failingLookup, loopbackLookup, rawUpgradeServer, runWsCheck } from "../helpers/ws-servers.js";
import { websocketRules } from "../../src/probes/websocket/diagnose.js";
import { classify as classifyWith, type ClassifyContext } from "../../src/diagnose/classify.js";

/** The kind's own error rule, and the classifier the runner calls with it. */
const classifyWebsocketError = websocketRules[0];
const classify = (error: unknown, ctx: ClassifyContext) => classifyWith(error, ctx, { rules: websocketRules });
import { buildConfig } from "../../src/config/load.js";
import { loadReporter } from "../../src/reporters/index.js";
import { main } from "../../src/cli.js";
import { captureIO } from "../helpers/main-io.js";

let chat: ChatServer;
let certs: CertSet;
let tlsChat: ChatServer;

const GOLDEN_SCRIPT = [
  { send: { type: "user_message", payload: { content: "health probe" } } },
  ...AGENT_EVENTS.map((event) => ({ expect: { type: event }, within: "2s" })),
];

beforeAll(async () => {
  certs = await makeCerts();
  chat = await startChatServer();
  tlsChat = await startChatServer({ tls: certs.server });
});
afterAll(async () => {
  await chat?.stop();
  await tlsChat?.stop();
  await certs?.cleanup();
});
afterEach(() => {
  chat.setFault(null);
  chat.setMaxConnections(undefined);
});

/** Timers fire late on a loaded 2-core machine: a budget is kept to within this much. */
const LAG_MS = 150;

const auth = () => ({ Authorization: `Bearer ${chat.token}` });
const WELCOME = { match: { "payload.event": "connection_established" }, within: "2s" };

describe("websocket probe: the golden path", () => {
  it("passes with phases, metrics, the negotiated subprotocol, ping, every scripted event and a normal closure", async () => {
    const before = chat.stats().clientCloseCodes.length;
    const { result } = await runWsCheck({
      url: chat.url,
      headers: auth(),
      subprotocols: ["agent_chat"],
      welcome: WELCOME,
      ping: 3,
      script: GOLDEN_SCRIPT,
      expect: { handshakeMs: "< 2s", welcomeMs: "< 2s" },
    });
    expect(result.failure).toBeNull();
    expect(result.status).toBe("pass");
    expect(result.metrics).toMatchObject({ subprotocol: "agent_chat", closeCode: 1000, messagesReceived: 6 });
    for (const metric of ["handshakeMs", "welcomeMs", "pingMs", "pingP95Ms"]) expect(result.metrics[metric]).toBeTypeOf("number");
    expect(result.metrics.stepMs).toHaveLength(6);
    expect(Object.keys(result.phasesMs)).toEqual(
      expect.arrayContaining(["connect", "upgrade", "welcome", "ping", "step 1: send user_message", "step 2: agent_started", "step 6: agent_completed"]),
    );
    expect(result.phasesMs.dns).toBeUndefined();
    expect(result.phasesMs.tls).toBeUndefined();
    // The server saw our normal closure.
    expect(chat.stats().clientCloseCodes.slice(before)).toEqual([1000]);
  });

  it("records a dns phase for a host name and connects to the resolved address", async () => {
    const { result } = await runWsCheck({ url: chat.url.replace("127.0.0.1", "chat.staging.test"), headers: auth(), subprotocols: ["agent_chat"] }, { lookup: loopbackLookup });
    expect(result.status).toBe("pass");
    expect(result.phasesMs.dns).toBeTypeOf("number");
  });

  it("mints an HS256 JWT with jose (claims included) and sends it as a bearer header", async () => {
    // The server puts the token's subject in its welcome: matching it proves the claims arrived signed.
    const { result } = await runWsCheck(
      {
        url: chat.url,
        token: { jwt: { secret: "${JWT_SECRET}", claims: { sub: "infra-check-probe" }, ttl: "1m" } },
        subprotocols: ["agent_chat"],
        welcome: { match: { "payload.user_id": "infra-check-probe", type: "~ ^connection_" }, within: "2s" },
      },
      { env: { JWT_SECRET: chat.jwtSecret } },
    );
    expect(result.failure).toBeNull();
    expect(result.phasesMs.token).toBeTypeOf("number");
  });

  it("sends the token as a query parameter when configured", async () => {
    const { result } = await runWsCheck({ url: chat.url, token: { value: chat.token, as: "query", name: "token" }, subprotocols: ["agent_chat"], welcome: WELCOME });
    expect(result.failure).toBeNull();
    expect(result.target).not.toContain(chat.token);
  });

  it("takes the token from a command's stdout (trimmed)", async () => {
    const { result } = await runWsCheck({ url: chat.url, token: { command: `printf '  %s\\n' ${chat.token}` }, subprotocols: ["agent_chat"], welcome: WELCOME });
    expect(result.failure).toBeNull();
  });

  it("speaks wss:// with the configured CA", async () => {
    const { result } = await runWsCheck({
      url: tlsChat.url.replace("127.0.0.1", "localhost"),
      headers: { Authorization: `Bearer ${tlsChat.token}` },
      subprotocols: ["agent_chat"],
      welcome: WELCOME,
      tls: { ca: certs.caCert },
    }, { lookup: loopbackLookup });
    expect(result.failure).toBeNull();
    expect(Object.keys(result.phasesMs)).toEqual(expect.arrayContaining(["dns", "connect", "tls", "upgrade", "welcome"]));
  });

  it("a welcome slower than welcomeMs allows is a slow check, with the slowest phase named", async () => {
    chat.setFault({ type: "slow-welcome", ms: 150 });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: WELCOME, expect: { welcomeMs: "< 100ms" } });
    expect(result.metrics.welcomeMs as number).toBeGreaterThanOrEqual(140);
    expect(result.failure?.class).toBe("slow");
    expect(result.failure?.message).toMatch(/welcomeMs is .* expected < 100ms.*slowest phase: welcome/);
  });
});

describe("websocket probe: diagnoses", () => {
  it.each([
    [401, "auth"],
    [403, "auth"],
    [500, "server-error"],
    [503, "server-error"],
    [200, "protocol"],
  ])("upgrade answered %i → %s, with the status and a body excerpt", async (status, failureClass) => {
    chat.setFault({ type: "reject-upgrade", status, body: `{"error":"status ${status} from the test server"}` });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"] });
    expect(result.failure?.class).toBe(failureClass);
    expect(result.failure?.message).toContain(`HTTP ${status}`);
    expect(result.failure?.message).toContain(`status ${status} from the test server`);
    expect(result.details?.status).toBe(status);
    expect(result.failure?.code).toBe(`HTTP_${status}`);
  });

  it("a missing token is refused (401 auth) and the body says why", async () => {
    const { result } = await runWsCheck({ url: chat.url, subprotocols: ["agent_chat"] });
    expect(result.failure?.class).toBe("auth");
    expect(result.failure?.message).toMatch(/HTTP 401 Unauthorized.*missing bearer token/);
  });

  it("a JWT signed with the wrong secret is refused (auth)", async () => {
    const { result } = await runWsCheck({ url: chat.url, token: { jwt: { secret: "not-the-server-secret" } }, subprotocols: ["agent_chat"] });
    expect(result.failure?.class).toBe("auth");
    expect(result.failure?.message).toContain("invalid or expired token");
  });

  it("upgrade answered 404 → not-found naming the path", async () => {
    const { result } = await runWsCheck({ url: chat.url.replace("/ws", "/socket"), headers: auth(), subprotocols: ["agent_chat"] });
    expect(result.failure?.class).toBe("not-found");
    expect(result.failure?.message).toContain("path /socket");
    expect(result.failure?.message).toContain("HTTP 404");
  });

  it("server closes with 1011 → server-error with the code and reason", async () => {
    chat.setFault({ type: "close", code: 1011, reason: "agent runtime unavailable" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: WELCOME });
    expect(result.failure?.class).toBe("server-error");
    expect(result.failure?.message).toMatch(/closed the connection with 1011 \(internal server error\), reason "agent runtime unavailable" during welcome/);
    expect(result.metrics.closeCode).toBe(1011);
    expect(result.metrics.handshakeMs).toBeTypeOf("number");
  });

  it("server closes with 1008 → auth: policy violation, usually auth, with the reason", async () => {
    chat.setFault({ type: "close", code: 1008, reason: "token expired" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: WELCOME });
    expect(result.failure?.class).toBe("auth");
    expect(result.failure?.message).toMatch(/1008 \(policy violation \(usually authentication or authorization\)\), reason "token expired"/);
    expect(result.failure?.hint).toMatch(/token/);
  });

  it("abnormal drop (1006) → protocol: dropped without a close frame", async () => {
    chat.setFault({ type: "drop" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: WELCOME });
    expect(result.failure?.class).toBe("protocol");
    expect(result.failure?.message).toMatch(/dropped without a close frame \(1006/);
    expect(result.metrics.closeCode).toBe(1006);
  });

  it("server closes with 1011 in the middle of the script → server-error during that step", async () => {
    chat.setFault({ type: "close", code: 1011, reason: "agent crashed", when: "message" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: WELCOME, script: GOLDEN_SCRIPT });
    expect(result.failure?.class).toBe("server-error");
    expect(result.failure?.message).toContain("during step 2: agent_started");
  });

  it("no subprotocol selected → protocol, offered vs selected", async () => {
    chat.setFault({ type: "no-subprotocol" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"] });
    expect(result.failure?.class).toBe("protocol");
    expect(result.failure?.message).toBe("the server selected no subprotocol; offered: agent_chat (the client requires the server to select one of them)");
    expect(result.metrics.subprotocol).toBeNull();
  });

  it("a different subprotocol selected → protocol, offered vs selected", async () => {
    chat.setFault({ type: "wrong-subprotocol", protocol: "chat_v1" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"] });
    expect(result.failure?.class).toBe("protocol");
    expect(result.failure?.message).toContain('selected subprotocol "chat_v1", which was not offered; offered: agent_chat');
    expect(result.metrics.subprotocol).toBe("chat_v1");
    expect(result.details).toMatchObject({ offeredSubprotocols: ["agent_chat"], selectedSubprotocol: "chat_v1" });
  });

  it("upgrade never answered → timeout: waited for 101", async () => {
    chat.setFault({ type: "never-answer" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], timeout: "400ms" });
    expect(result.failure?.class).toBe("timeout");
    expect(result.failure?.phase).toBe("upgrade");
    expect(result.failure?.message).toMatch(/waited \d+ ms for HTTP 101 Switching Protocols/);
    expect(result.phasesMs.connect).toBeTypeOf("number");
    expect(result.durationMs).toBeLessThan(400 + LAG_MS);
  });

  it("a TCP server that never says a word → the same timeout, reached after connect", async () => {
    const silent = await silentServer();
    try {
      const { result } = await runWsCheck({ url: `ws://127.0.0.1:${silent.port}/ws`, timeout: "300ms" });
      expect(result.failure?.class).toBe("timeout");
      expect(result.failure?.message).toContain("HTTP 101");
    } finally {
      await silent.stop();
    }
  });

  it("welcome never came → timeout: what it waited for, how long, nothing arrived", async () => {
    chat.setFault({ type: "no-welcome" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: { ...WELCOME, within: "300ms" } });
    expect(result.failure?.class).toBe("timeout");
    expect(result.failure?.phase).toBe("welcome");
    expect(result.failure?.message).toBe(
      "no welcome message matching payload.event=connection_established within 300 ms (welcome.within); nothing arrived after the upgrade",
    );
    expect(result.metrics.handshakeMs).toBeTypeOf("number");
  });

  it("says goodbye with a normal closure (1000) even when the check failed", async () => {
    chat.setFault({ type: "no-welcome" });
    const before = chat.stats().clientCloseCodes.length;
    await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: { ...WELCOME, within: "100ms" } });
    await vi.waitFor(() => expect(chat.stats().clientCloseCodes.slice(before)).toEqual([1000]));
  });

  it("a non-matching welcome → protocol: what arrived instead", async () => {
    chat.setFault({ type: "wrong-welcome" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: { ...WELCOME, within: "300ms" } });
    expect(result.failure?.class).toBe("protocol");
    expect(result.failure?.message).toContain('1 message arrived: {"type":"hello","payload":{"event":"hello","version":1}}');
    expect(result.details?.messagesInstead).toEqual(['{"type":"hello","payload":{"event":"hello","version":1}}']);
  });

  it("the check's budget cuts the welcome wait short and says so", async () => {
    chat.setFault({ type: "no-welcome" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: { ...WELCOME, within: "10s" }, timeout: "300ms" });
    expect(result.failure?.class).toBe("timeout");
    expect(result.failure?.message).toMatch(/the check's budget of 300 ms; raise the check's timeout/);
    expect(result.durationMs).toBeLessThan(300 + LAG_MS);
  });

  it("a scripted event missing → timeout naming the first missing event and the events that arrived", async () => {
    chat.setFault({ type: "missing-event", event: "tool_completed" });
    const script = GOLDEN_SCRIPT.map((step) => ("expect" in step ? { ...step, within: "300ms" } : step));
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: WELCOME, script });
    expect(result.failure?.class).toBe("timeout");
    expect(result.failure?.phase).toBe("step 5: tool_completed");
    expect(result.failure?.message).toBe(
      "step 5: tool_completed: no message matching type=tool_completed within 300 ms (script.4.within); events that arrived since the script started: agent_started, agent_thinking, tool_executing, agent_completed",
    );
    expect(result.metrics.stepMs).toHaveLength(4);
  });

  it("scripted events out of order → timeout at the first one that did not come in order", async () => {
    chat.setFault({ type: "out-of-order" });
    const script = GOLDEN_SCRIPT.map((step) => ("expect" in step ? { ...step, within: "300ms" } : step));
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: WELCOME, script });
    expect(result.failure?.class).toBe("timeout");
    expect(result.failure?.message).toMatch(/^step 5: tool_completed: .*arrived since the script started: agent_started, agent_thinking, tool_completed, tool_executing, agent_completed$/);
  });

  it("an invalid frame (bad UTF-8) → protocol via the ws classifier", async () => {
    chat.setFault({ type: "invalid-frame" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: WELCOME, timeout: "2s" });
    expect(result.failure?.class).toBe("protocol");
    expect(result.failure?.message).toMatch(/broke the WebSocket protocol: Invalid WebSocket frame: invalid UTF-8 sequence/);
    expect(result.durationMs).toBeLessThan(1000);
  });

  it.each([
    ["at connect, before the ping", "connect"],
    ["on the user message, mid-script", "message"],
  ] as const)("an invalid frame %s → protocol, not a wait for a pong or event", async (_when, when) => {
    chat.setFault({ type: "invalid-frame", when });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], ping: true, script: GOLDEN_SCRIPT, timeout: "3s" });
    expect(result.failure?.class).toBe("protocol");
    expect(result.failure?.message).toContain("Invalid WebSocket frame");
    expect(result.durationMs).toBeLessThan(1000);
  });

  it.each([
    ["a scripted send", [{ send: { type: "user_message" } }]],
    ["the closing handshake", []],
  ])("a server that closes with 1011 right away is reported with its code, even if it is noticed at %s", async (_where, script) => {
    chat.setFault({ type: "close", code: 1011, reason: "shutting down" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], script, timeout: "3s" });
    expect(result.failure?.class).toBe("server-error");
    expect(result.failure?.message).toContain('1011 (internal server error), reason "shutting down"');
    expect(result.metrics.closeCode).toBe(1011);
  });

  it("a 101 with a wrong Sec-WebSocket-Accept (a confused proxy) → protocol", async () => {
    const raw = await rawUpgradeServer(() => "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n");
    try {
      const { result } = await runWsCheck({ url: raw.url(), timeout: "2s" });
      expect(result.failure?.class).toBe("protocol");
      expect(result.failure?.message).toContain("Invalid Sec-WebSocket-Accept header");
    } finally {
      await raw.stop();
    }
  });

  it.each([
    ["EAI_AGAIN", /temporary DNS failure resolving "chat\.staging\.test"/],
    ["ENOTFOUND", /"chat\.staging\.test" does not resolve/],
  ] as const)("DNS %s → dns", async (code, message) => {
    const { result } = await runWsCheck({ url: "wss://chat.staging.test/ws" }, { lookup: failingLookup(code) });
    expect(result.failure?.class).toBe("dns");
    expect(result.failure?.message).toMatch(message);
  });

  it("refused port → refused", async () => {
    const port = await closedPort();
    const { result } = await runWsCheck({ url: `ws://127.0.0.1:${port}/ws` });
    expect(result.failure?.class).toBe("refused");
    expect(result.failure?.phase).toBe("connect");
  });

  it("SYN never answered → unreachable within the budget", async () => {
    const hole = await blackholePort();
    try {
      const { result } = await runWsCheck({ url: `ws://127.0.0.1:${hole.port}/ws`, timeout: "400ms" });
      expect(result.failure?.class).toBe("unreachable");
      expect(result.failure?.message).toMatch(/no TCP connection to 127\.0\.0\.1:\d+ within \d+ ms/);
      expect(result.durationMs).toBeLessThan(400 + LAG_MS);
    } finally {
      await hole.stop();
    }
  });

  it.each([
    ["an unknown CA", () => ({ url: tlsChat.url.replace("127.0.0.1", "localhost") }), /issuer|self-signed|not trusted/],
    ["the wrong name", () => ({ url: tlsChat.url.replace("127.0.0.1", "localhost"), tls: { ca: certs.caCert, servername: "other.example.com" } }), /does not match the host name/],
  ])("TLS with %s → tls", async (_what, check, message) => {
    const { result } = await runWsCheck({ ...check(), headers: { Authorization: `Bearer ${tlsChat.token}` } }, { lookup: loopbackLookup });
    expect(result.failure?.class).toBe("tls");
    expect(result.failure?.message).toMatch(message);
  });

  it("TLS with an expired certificate → tls", async () => {
    const expired = await startChatServer({ tls: certs.expired });
    try {
      const { result } = await runWsCheck({ url: expired.url, headers: { Authorization: `Bearer ${expired.token}` }, tls: { ca: certs.caCert } });
      expect(result.failure?.class).toBe("tls");
      expect(result.failure?.message).toContain("expired");
    } finally {
      await expired.stop();
    }
  });

  it("wss:// against a plaintext server → tls (not TLS on this port)", async () => {
    const { result } = await runWsCheck({ url: chat.url.replace("ws://", "wss://"), headers: auth() });
    expect(result.failure?.class).toBe("tls");
    expect(result.failure?.message).toMatch(/did not answer with TLS/);
  });
});

describe("websocket probe: tokens", () => {
  it("a failing token command → auth, with its stderr but never its stdout", async () => {
    const { result } = await runWsCheck({ url: chat.url, token: { command: "echo $((6*7))-stdout-token; echo 'ERROR: (gcloud.auth) You do not currently have an active account' >&2; exit 1" } });
    expect(result.failure?.class).toBe("auth");
    expect(result.failure?.message).toMatch(/token command .* failed \(exit 1\): ERROR: \(gcloud\.auth\) You do not currently have an active account/);
    expect(JSON.stringify(result)).not.toContain("42-stdout-token");
    expect(result.phasesMs.connect).toBeUndefined();
  });

  it("a token command that is not installed → config", async () => {
    const { result } = await runWsCheck({ url: chat.url, token: { command: "infra-check-no-such-tool print-token" } });
    expect(result.failure?.class).toBe("config");
    expect(result.failure?.message).toMatch(/was not found \(exit 127\)/);
  });

  it("a token command that hangs is killed at the budget → auth with the wait", async () => {
    const { result } = await runWsCheck({ url: chat.url, token: { command: "sleep 5; echo never-printed" }, timeout: "300ms" });
    expect(result.failure?.class).toBe("auth");
    expect(result.failure?.message).toMatch(/did not finish within \d+ ms/);
    expect(result.durationMs).toBeLessThan(400 + LAG_MS);
  });

  it("a bearer token and a JWT secret never appear in JSON or table output of a failing run", async () => {
    const token = chat.token;
    // The server echoes the credential back in its refusal, as some do.
    chat.setFault({ type: "reject-upgrade", status: 401, body: "rejected credential {authorization} for /ws" });
    const jwtSecret = "staging-signing-secret-do-not-print";
    const { report } = await runWsCheck(
      {
        url: chat.url,
        headers: { Authorization: "Bearer ${CHAT_TOKEN}" },
        subprotocols: ["agent_chat"],
      },
      { env: { CHAT_TOKEN: token } },
    );
    const minted = await runWsCheck({ url: chat.url, token: { jwt: { secret: "${JWT_SECRET}" } }, subprotocols: ["agent_chat"] }, { env: { JWT_SECRET: jwtSecret } });
    for (const run of [report, minted.report]) {
      expect(run.checks[0].failure?.class).toBe("auth");
      for (const format of ["json", "table"] as const) {
        const reporter = await loadReporter(format);
        const text = reporter(run, { color: false, verbose: true });
        expect(text).not.toContain(token);
        expect(text).not.toContain(jwtSecret);
        expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/);
      }
    }
    expect(report.checks[0].failure?.message).toContain("rejected credential *** for /ws");
    expect(minted.report.checks[0].failure?.message).toContain("rejected credential Bearer *** for /ws");
  });
});

describe("websocket probe: load mode", () => {
  it("opens N connections with capped concurrency and reports success rate and percentiles", async () => {
    const before = chat.stats().upgrades;
    const { result } = await runWsCheck({
      url: chat.url,
      headers: auth(),
      subprotocols: ["agent_chat"],
      welcome: WELCOME,
      load: { connections: 30, concurrency: 10, successRate: ">= 95%", handshakeP95Ms: "< 5s" },
    });
    expect(result.failure).toBeNull();
    expect(result.labels).toEqual(["load test"]);
    expect(result.metrics).toMatchObject({ connections: 30, concurrency: 10, succeeded: 30, failed: 0, successRate: 100 });
    for (const metric of ["handshakeP50Ms", "handshakeP95Ms", "welcomeP50Ms", "welcomeP95Ms", "openAllMs"]) expect(result.metrics[metric]).toBeTypeOf("number");
    expect(result.assertions.map((assertion) => [assertion.metric, assertion.ok])).toEqual([
      ["successRate", true],
      ["handshakeP95Ms", true],
    ]);
    expect(chat.stats().upgrades - before).toBe(30);
    expect(chat.stats().open).toBe(0);
  });

  it("a success rate under the bar → unhealthy, failures counted by class", async () => {
    chat.setMaxConnections(8);
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], welcome: WELCOME, load: { connections: 10, concurrency: 4 } });
    expect(result.status).toBe("fail");
    expect(result.failure?.class).toBe("unhealthy");
    expect(result.failure?.message).toBe("successRate is 80, expected >= 95%");
    expect(result.metrics).toMatchObject({ succeeded: 8, failed: 2, failures: { "server-error": 2 } });
    expect(result.metrics.failureSummary).toMatch(/^2 server-error; e\.g\. server-error: .*HTTP 503.*server full/);
    expect(result.labels).toEqual(["load test"]);
  });

  it("slow handshakes over the p95 bound → slow", async () => {
    chat.setFault({ type: "slow-upgrade", ms: 60 });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), subprotocols: ["agent_chat"], load: { connections: 6, concurrency: 3, handshakeP95Ms: "< 50ms" } });
    expect(result.failure?.class).toBe("slow");
    expect(result.failure?.message).toMatch(/^handshakeP95Ms is \d+ ms, expected < 50ms/);
  });

  it("handshakes that are never answered end at the budget as timeouts, with the load data kept", async () => {
    chat.setFault({ type: "never-answer" });
    const { result } = await runWsCheck({ url: chat.url, headers: auth(), load: { connections: 4, concurrency: 2 }, timeout: "300ms" });
    expect(result.failure?.class).toBe("timeout");
    expect(result.failure?.message).toMatch(/^load test: all 4 connections failed \(4 timeout\); first timeout: .*HTTP 101/);
    expect(result.metrics).toMatchObject({ connections: 4, succeeded: 0, failures: { timeout: 4 } });
    expect(result.durationMs).toBeLessThan(300 + LAG_MS);
  });

  it("every connection failing gives that failure's class, not a rate", async () => {
    chat.setFault({ type: "reject-upgrade", status: 401, body: "nope" });
    const { result } = await runWsCheck({ url: chat.url, load: { connections: 5 } });
    expect(result.failure?.class).toBe("auth");
    expect(result.failure?.message).toMatch(/^load test: all 5 connections failed \(5 auth\); first auth: the upgrade was refused with HTTP 401/);
    expect(result.metrics).toMatchObject({ successRate: 0, failures: { auth: 5 } });
  });
});

describe("websocket config", () => {
  const load = (check: Record<string, unknown>) => buildConfig({ checks: { chat: { kind: "websocket", url: "wss://x.example/ws", ...check } } }, { dir: process.cwd(), defaultEnv: "test", env: {} });

  it.each([
    [{ url: "https://x.example/ws" }, "checks.chat.url", /ws:\/\/ or wss:\/\//],
    [{ subprotocols: ["agent chat"] }, "checks.chat.subprotocols.0", /single token/],
    [{ script: [{ send: { type: "x" }, expect: { type: "y" } }] }, "checks.chat.script.0", /either \{ send/],
    [{ script: [{ expect: {} }] }, "checks.chat.script.0.expect", /at least one PATH/],
    [{ welcome: { match: { type: "x" }, within: "soon" } }, "checks.chat.welcome.within", /duration/],
    [{ token: { value: "a", command: "b" } }, "checks.chat.token", /only one of value, command or jwt/],
    [{ token: { value: "a" }, headers: { authorization: "Bearer b" } }, "checks.chat.token", /both headers.Authorization and token/],
    [{ load: { connections: 5 }, script: [{ send: "hi" }] }, "checks.chat.load", /separate check/],
    [{ load: { connections: 5, concurrency: 6 } }, "checks.chat.load.concurrency", /cannot exceed/],
    [{ expect: { welcomeSeconds: "< 1s" } }, "checks.chat.expect.welcomeSeconds", /unknown metric/],
  ])("rejects %j at %s", async (check, keyPath, message) => {
    const error = await load(check).then(
      () => undefined,
      (caught: Error & { errors?: { keyPath?: string; message: string }[]; keyPath?: string }) => caught,
    );
    expect(error).toBeDefined();
    const issues = error!.errors ?? [error!];
    expect(issues.some((issue) => issue.keyPath === keyPath && message.test(issue.message))).toBe(true);
  });
});

describe("ws classifier", () => {
  const ctx = { kind: "websocket", completedPhases: ["connect"], endpoint: "chat.example:443", budgetMs: 2000 };
  it.each([
    ["Unexpected server response: 401", "auth"],
    ["Unexpected server response: 403", "auth"],
    ["Unexpected server response: 404", "not-found"],
    ["Unexpected server response: 502", "server-error"],
    ["Unexpected server response: 200", "protocol"],
    ["Server sent no subprotocol", "protocol"],
    ["Server sent an invalid subprotocol", "protocol"],
    ["Invalid Sec-WebSocket-Accept header", "protocol"],
    ["Invalid WebSocket frame: invalid UTF-8 sequence", "protocol"],
  ])("%s → %s", (message, failureClass) => {
    expect(classifyWebsocketError(new Error(message), ctx)?.class).toBe(failureClass);
  });

  it("ws receiver errors (code WS_ERR_*) → protocol", () => {
    const error = Object.assign(new RangeError("Invalid WebSocket frame: RSV1 must be clear"), { code: "WS_ERR_UNEXPECTED_RSV_1" });
    expect(classify(error, { ...ctx, phase: "welcome" })).toMatchObject({ class: "protocol", code: "WS_ERR_UNEXPECTED_RSV_1", phase: "welcome" });
  });

  it.each([
    ["connect", "unreachable"],
    ["tls", "tls"],
    ["upgrade", "timeout"],
  ])("'Opening handshake has timed out' during %s → %s", (phase, failureClass) => {
    expect(classify(new Error("Opening handshake has timed out"), { ...ctx, phase }).class).toBe(failureClass);
  });

  it("leaves other errors to the generic rules", () => {
    expect(classifyWebsocketError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), ctx)).toBeUndefined();
  });
});

describe("chat server faults by name (infra-check demo --break)", () => {
  it.each([
    ["close-1011", { type: "close", code: 1011, when: "connect" }],
    ["close-1008-on-message", { type: "close", code: 1008, when: "message" }],
    ["close-1006", { type: "drop", when: "connect" }],
    ["reject-503", { type: "reject-upgrade", status: 503 }],
    ["missing-tool_completed", { type: "missing-event", event: "tool_completed" }],
    ["slow-welcome-1500", { type: "slow-welcome", ms: 1500 }],
    ["wrong-subprotocol-chat_v2", { type: "wrong-subprotocol", protocol: "chat_v2" }],
    ["no-welcome", { type: "no-welcome" }],
  ])("%s", (name, fault) => {
    expect(parseChatFault(name)).toMatchObject(fault);
  });

  it("rejects unknown names with the list", () => {
    expect(() => parseChatFault("explode")).toThrow(/unknown chat server fault "explode"; faults: no-welcome/);
  });
});

describe("infra-check ws (one-off)", () => {
  const capture = () => {
    const io = captureIO({ env: { CHAT_TOKEN: chat.token } });
    return { io, out: io.out, err: io.err };
  };

  it("runs the golden path from flags and exits 0", async () => {
    const { io, out } = capture();
    const code = await main(
      [
        "node", "infra-check", "ws", chat.url,
        "-H", "Authorization: Bearer $CHAT_TOKEN",
        "--subprotocol", "agent_chat",
        "--welcome", "payload.event=connection_established", "--within", "2s",
        "--send", '{"type":"user_message","payload":{"content":"hi"}}',
        ...AGENT_EVENTS.flatMap((event) => ["--expect-event", `type=${event}`]),
        "--ping", "--expect", "handshakeMs<2s", "--format", "json",
      ],
      io,
    );
    const report = JSON.parse(out());
    expect(report.checks[0].failure).toBeNull();
    expect(code).toBe(0);
    expect(report.checks[0].metrics.stepMs).toHaveLength(6);
    expect(out()).not.toContain(chat.token);
  });

  it("exits 1 with the diagnosis in the table", async () => {
    chat.setFault({ type: "no-subprotocol" });
    const { io, out } = capture();
    const code = await main(["node", "infra-check", "ws", chat.url, "-H", "Authorization: Bearer $CHAT_TOKEN", "--subprotocol", "agent_chat"], io);
    expect(code).toBe(1);
    expect(out()).toContain("protocol: the server selected no subprotocol; offered: agent_chat");
  });

  it("load mode from --connections", async () => {
    const { io, out } = capture();
    const code = await main(["node", "infra-check", "ws", chat.url, "-H", "Authorization: Bearer $CHAT_TOKEN", "--subprotocol", "agent_chat", "--connections", "5", "--format", "json"], io);
    expect(code).toBe(0);
    expect(JSON.parse(out()).checks[0]).toMatchObject({ labels: ["load test"], metrics: { connections: 5, successRate: 100 } });
  });

  it.each([
    [["--send", "{not json"], /--send: expected a JSON message/],
    [["--expect-event", "agent_started"], /--expect-event: expected PATH=VALUE/],
    [["--within", "2s"], /--within sets the deadline of --welcome and --expect-event/],
    [["--connections", "ten"], /--connections: expected a whole number/],
    [["--connections", "3", "--ping"], /load mode/],
  ])("bad flags %j → exit 2", async (flags, message) => {
    const { io, err } = capture();
    const code = await main(["node", "infra-check", "ws", chat.url, ...flags], io);
    expect(code).toBe(2);
    expect(err()).toMatch(message);
  });
});
