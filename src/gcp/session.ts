// The only file that loads the Google Cloud client libraries (@google-cloud/*,
// google-gax) — always lazily, so a run without a Google check or secret
// reference never pays their 150–300 ms import and construct cost. It knows
// no API of its own: each Google kind declares the API it calls (src/gcp/api.ts).
//
// Three ways to reach the APIs, chosen per check from its settings:
// - emulator (gcp.emulatorHost / $INFRA_CHECK_GCP_EMULATOR_HOST): plaintext
//   gRPC, no credentials at all — never the user's ADC, never the metadata server;
// - gcp.apiEndpoint: TLS + Application Default Credentials, to a private endpoint;
// - default: TLS + ADC to *.googleapis.com.
// ADC is checked once per run, before any client exists: without it every
// client call fails *and* the library leaks an unhandled rejection, so a
// missing ADC must become one clear `auth` failure here instead.
import { failure } from "../diagnose/catalogue.js";
import { DNS } from "../diagnose/codes.js";
import net from "node:net";
import type { ProbeContext } from "../probes/api.js";
import { raceAbort } from "../util/deadline.js";
import { formatMs } from "../util/duration.js";
import { excerpt } from "../util/excerpt.js";
import type { ClientConstructor, GapicClient, GoogleApi } from "./api.js";
import { GCP, GCP_CALLS, GRPC, type GcpCallInfo } from "./diagnose.js";
import { splitHostPort, type GcpSettings } from "./resources.js";

type GaxModule = typeof import("google-gax");
/** grpc-js as google-gax bundles it: the one copy every client and the emulator must share. */
export type Grpc = GaxModule["grpc"];

/** The grpc-js client under a GAPIC client: its channel tells whether a connection exists. */
interface GrpcStub {
  getChannel(): {
    getConnectivityState(tryToConnect: boolean): number;
    watchConnectivityState(current: number, deadline: number, callback: (error?: Error) => void): void;
  };
}
/** grpc-js connectivityState. */
const IDLE = 0;
const CONNECTING = 1;
const READY = 2;
type Rpc = (request: object, options: object) => Promise<unknown[]>;

const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** Below this much budget a retry cannot succeed; report the first error instead. */
const MIN_RETRY_BUDGET_MS = 250;
const RETRY_DELAY_MS = 100;

/**
 * Import google-gax and the client libraries of `apis` ahead of the checks
 * (ProbeDefinition.prepare): ~280 ms of synchronous module evaluation that
 * would otherwise stall every concurrent check's event loop mid-measurement.
 */
export async function preloadApis(apis: GoogleApi[]): Promise<void> {
  const gax = await loadGax();
  await Promise.all(
    apis.map(async (api) => {
      const Client = await api.load();
      // The first construction of each client class also compiles its protos
      // (~170 ms); a throw-away instance pays that here. It makes no RPC, so its
      // channel (to the discard port on loopback) never connects, and it has no
      // credentials, so it never looks for ADC or the metadata server.
      const warmUp = new Client({
        apiEndpoint: "127.0.0.1",
        port: 9,
        sslCreds: gax.grpc.credentials.createInsecure(),
        authClient: new gax.googleAuthLibrary.PassThroughClient(),
        "grpc.enable_http_proxy": 0,
      });
      try {
        await warmUp.initialize();
      } finally {
        await warmUp.close().catch(() => undefined);
      }
    }),
  );
}

let gaxModule: Promise<GaxModule> | undefined;
/** google-gax, loaded once per process. */
export function loadGax(): Promise<GaxModule> {
  return (gaxModule ??= import("google-gax"));
}

/** One GoogleAuth per run (keyed by the run's deps object), its ADC checked once; a failure is shared by every check of the run. */
const adcByRun = new WeakMap<object, Promise<InstanceType<GaxModule["GoogleAuth"]>>>();

function applicationDefaultCredentials(ctx: ProbeContext): Promise<InstanceType<GaxModule["GoogleAuth"]>> {
  let pending = adcByRun.get(ctx.deps);
  if (!pending) {
    pending = (async () => {
      const { GoogleAuth } = await loadGax();
      const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
      try {
        await auth.getClient();
      } catch (error) {
        throw failure(GCP.NO_ADC, { reason: firstSentence((error as Error)?.message ?? String(error)) });
      }
      return auth;
    })();
    // Checks that share the run wait on the same promise; nobody may leave it unobserved.
    pending.catch(() => undefined);
    adcByRun.set(ctx.deps, pending);
  }
  return pending;
}

function firstSentence(message: string): string {
  return excerpt(message.replace(/\s+/g, " ").replace(/(Browse to|See) https?:\/\/\S+.*$/, ""), 300);
}

/**
 * The Google clients of one check: created on first use, all closed by
 * close() (and at once when the check's budget is spent, which also ends the
 * calls in flight). Every call is bounded by the probe's inner deadline, so
 * the gRPC error (which says what it waited for) wins over the runner's
 * generic abort, and retried at most once, on a transient UNAVAILABLE.
 */
export class GcpSession {
  readonly settings: GcpSettings;
  private readonly ctx: ProbeContext;
  private readonly clients = new Map<string, Promise<GapicClient>>();
  private readonly stubs = new Map<string, Promise<GrpcStub>>();
  private readonly onAbort = () => void this.close();
  private closed = false;

  constructor(ctx: ProbeContext, settings: GcpSettings) {
    this.ctx = ctx;
    this.settings = settings;
    ctx.signal.addEventListener("abort", this.onAbort, { once: true });
  }

  get mode(): GcpCallInfo["mode"] {
    return this.settings.emulatorHost ? "emulator" : this.settings.apiEndpoint ? "endpoint" : "default";
  }

  endpointFor(api: GoogleApi): string {
    if (this.settings.emulatorHost) return this.settings.emulatorHost;
    if (this.settings.apiEndpoint) {
      const { host, port } = splitHostPort(this.settings.apiEndpoint, "gcp.apiEndpoint");
      return `${host}:${port}`;
    }
    return `${api.host}:443`;
  }

  /**
   * Check credentials and create the clients up front, as their own phases
   * (`auth`: the ADC check, not in emulator mode; `client`: library import and
   * construction), so the RPC phases that follow time only the RPCs.
   */
  async prepare(...apis: GoogleApi[]): Promise<void> {
    if (this.mode === "emulator") await raceAbort(this.clientOptions(), this.ctx.signal);
    else await this.ctx.phases.time("auth", () => raceAbort(this.clientOptions(), this.ctx.signal));
    await this.ctx.phases.time("client", () => Promise.all(apis.map((api) => this.client(api))));
    await this.connect(apis);
  }

  /**
   * The `connect` phase: wait until each client's channel is connected (TCP,
   * TLS, HTTP/2), so that "no connection" and "connected, no answer" are told
   * apart whichever deadline fires first. A channel that fails at once
   * (refused, unresolvable) ends the phase unrecorded: the RPC that follows
   * fails immediately with the channel's own reason, which says more.
   */
  private async connect(apis: GoogleApi[]): Promise<void> {
    this.ctx.phases.start("connect");
    const started = performance.now();
    const deadline = Date.now() + Math.max(1, this.ctx.deadline.remainingMs());
    const resolving = this.watchNameResolution(apis);
    const states = await raceAbort(Promise.all(apis.map((api) => this.waitForChannel(api, deadline, resolving))), this.ctx.signal);
    if (states.every((state) => state === READY)) this.ctx.phases.record("connect", performance.now() - started);
  }

  /**
   * The endpoints' names, looked up beside the channels (grpc-js resolves with
   * the same system resolver): a channel that never connects while its name
   * is still unresolved is a DNS failure, not dropped packets.
   */
  private watchNameResolution(apis: GoogleApi[]): Map<string, { settled: boolean }> {
    const watched = new Map<string, { settled: boolean }>();
    for (const api of apis) {
      const endpoint = this.endpointFor(api);
      let host: string;
      try {
        host = splitHostPort(endpoint, "endpoint").host;
      } catch {
        continue; // the channel reports a malformed endpoint itself
      }
      if (watched.has(endpoint) || net.isIP(host)) continue;
      const entry = { settled: false };
      watched.set(endpoint, entry);
      this.ctx.lookup(host, this.ctx.signal).then(
        () => (entry.settled = true),
        () => (entry.settled = true),
      );
    }
    return watched;
  }

  private async waitForChannel(api: GoogleApi, deadline: number, resolving: Map<string, { settled: boolean }>): Promise<number> {
    const stub = await this.stubs.get(api.id)!;
    const channel = stub.getChannel();
    let state = channel.getConnectivityState(true);
    let attempted = false;
    // IDLE before the first attempt: connecting was just requested; IDLE again after CONNECTING: the attempt ended without a connection.
    while (state === CONNECTING || (state === IDLE && !attempted)) {
      attempted ||= state === CONNECTING;
      const current = state;
      const timedOut = await new Promise<boolean>((resolve) => channel.watchConnectivityState(current, deadline, (error) => resolve(Boolean(error))));
      if (timedOut) {
        const endpoint = this.endpointFor(api);
        if (resolving.get(endpoint)?.settled === false) throw failure(DNS.TIMEOUT, { endpoint, budgetMs: this.ctx.budgetMs, service: api.label });
        throw failure(GRPC.CONNECT_TIMEOUT, { what: api.label, endpoint: this.endpointFor(api), budget: formatMs(this.ctx.budgetMs), mode: this.mode, details: "", status: "DEADLINE_EXCEEDED" });
      }
      state = channel.getConnectivityState(false);
    }
    return state;
  }

  /**
   * Call RPC `method` (e.g. "GetService") of `api`; resolves to the response message (plain object).
   * `resource` names what the call is about in failures: the request's `name`, unless the API
   * addresses resources by other fields (Cloud SQL: project + instance).
   */
  async call<T>(api: GoogleApi, method: string, request: { name: string } | Record<string, unknown>, resource = String(request.name ?? "")): Promise<T> {
    const rpcDeclaration = api.rpcs[method];
    if (!rpcDeclaration) throw new Error(`${api.label}: ${method} is not declared in its API (src/gcp/api.ts)`);
    const client = await this.client(api);
    const rpc = (client as unknown as Record<string, Rpc>)[method.charAt(0).toLowerCase() + method.slice(1)];
    const info: GcpCallInfo = { api: api.label, method, resource, endpoint: this.endpointFor(api), mode: this.mode, rpc: rpcDeclaration };
    const attempt = async (): Promise<T> => {
      // retry: null turns off the library's own retry policy (GetService alone retries ~13 s on a refused endpoint).
      const timeout = Math.max(1, Math.floor(this.ctx.deadline.remainingMs()));
      const [response] = await rpc.call(client, request, { timeout, retry: null });
      return response as T;
    };
    try {
      return await attempt();
    } catch (error) {
      if (!isTransient(error) || this.closed || this.ctx.remainingMs() < MIN_RETRY_BUDGET_MS) throw this.recorded(error, info);
      this.ctx.log(`${info.api} ${method}: ${(error as Error).message}; retrying once`);
      await retryPause(RETRY_DELAY_MS, this.ctx.signal);
      try {
        return await attempt();
      } catch (second) {
        throw this.recorded(second, info);
      }
    }
  }

  /**
   * An OAuth2 access token of the identity the clients use (Application Default
   * Credentials), for APIs that take one in the request body (Cloud SQL IAM
   * database login), with `scopes` when the consumer wants narrower ones than
   * the clients'. In emulator mode there are no credentials: a random
   * stand-in, so a token is still sent and still redacted. Registered as a secret either way.
   */
  async accessToken(scopes?: string[]): Promise<string> {
    let token: string | null | undefined;
    if (this.mode === "emulator") {
      const { randomBytes } = await import("node:crypto");
      token = `emulator.${randomBytes(18).toString("base64url")}`;
    } else {
      // The run's ADC check first: without credentials that is the one clear failure.
      let auth = await raceAbort(applicationDefaultCredentials(this.ctx), this.ctx.signal);
      if (scopes) auth = new (await loadGax()).GoogleAuth({ scopes });
      token = await raceAbort(auth.getAccessToken(), this.ctx.signal);
      if (!token) throw failure(GCP.NO_ADC, { reason: "the credentials produced no access token" });
    }
    this.ctx.addSecret(token);
    return token;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ctx.signal.removeEventListener("abort", this.onAbort);
    const pending = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(pending.map(async (client) => (await client).close()));
  }

  /** Which call an error came from, for the classifier (src/gcp/diagnose.ts), kept in the check's facts. */
  private recorded(error: unknown, info: GcpCallInfo): unknown {
    if (error === null || typeof error !== "object") return error;
    const details = (error as { details?: unknown }).details;
    const calls = (this.ctx.facts[GCP_CALLS] ??= new WeakMap<object, GcpCallInfo>()) as WeakMap<object, GcpCallInfo>;
    calls.set(error, typeof details === "string" ? { ...info, details } : info);
    return error;
  }

  private client(api: GoogleApi): Promise<GapicClient> {
    if (this.closed) return Promise.reject(failure(GCP.CLIENT_ABANDONED, { api: api.label, when: "before" }));
    let client = this.clients.get(api.id);
    if (!client) {
      let stubbed: (stub: GrpcStub) => void = () => undefined;
      const stub = new Promise<GrpcStub>((resolve) => (stubbed = resolve));
      client = this.createClient(api, stubbed);
      client.catch(() => undefined);
      this.clients.set(api.id, client);
      this.stubs.set(api.id, stub);
    }
    return raceAbort(client, this.ctx.signal);
  }

  private async createClient(api: GoogleApi, stubbed: (stub: GrpcStub) => void): Promise<GapicClient> {
    const options = await this.clientOptions();
    const Client: ClientConstructor = await api.load();
    if (this.closed) throw failure(GCP.CLIENT_ABANDONED, { api: api.label, when: "while loading" });
    const client = new Client(options);
    try {
      stubbed((await client.initialize()) as GrpcStub);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
    return client;
  }

  private optionsPromise?: Promise<Record<string, unknown>>;
  private clientOptions(): Promise<Record<string, unknown>> {
    return (this.optionsPromise ??= this.buildClientOptions());
  }

  private async buildClientOptions(): Promise<Record<string, unknown>> {
    const gax = await loadGax();
    if (this.settings.emulatorHost) {
      const { host, port } = splitHostPort(this.settings.emulatorHost, "the emulator host");
      return {
        apiEndpoint: host,
        // `apiEndpoint: "host:port"` breaks the library: the port goes separately.
        port,
        sslCreds: gax.grpc.credentials.createInsecure(),
        // No credentials at all: without an authClient, merely constructing a client starts the ADC chain (metadata server probe).
        authClient: new gax.googleAuthLibrary.PassThroughClient(),
        "grpc.enable_http_proxy": 0,
      };
    }
    const auth = await raceAbort(applicationDefaultCredentials(this.ctx), this.ctx.signal);
    if (this.settings.apiEndpoint) {
      const { host, port } = splitHostPort(this.settings.apiEndpoint, "gcp.apiEndpoint");
      return { auth, apiEndpoint: host, port };
    }
    return { auth };
  }
}

/** Run `fn` with a session whose clients are closed afterwards, whatever happens. */
export async function withGcp<T>(ctx: ProbeContext, settings: GcpSettings, fn: (gcp: GcpSession) => Promise<T>): Promise<T> {
  const session = new GcpSession(ctx, settings);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

const UNAVAILABLE = 14;

/** UNAVAILABLE from a server that answered (overloaded, restarting) is worth one retry; a refused or unresolvable endpoint is not. */
function isTransient(error: unknown): boolean {
  const err = error as { code?: unknown; details?: unknown; message?: unknown };
  if (err?.code !== UNAVAILABLE) return false;
  const text = `${err.details ?? ""} ${err.message ?? ""}`;
  return !/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|Name resolution failed|metadata from plugin|Channel closed/i.test(text);
}

function retryPause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms / 2 + Math.random() * ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
