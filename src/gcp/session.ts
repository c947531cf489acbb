// The only file that loads the Google Cloud client libraries (@google-cloud/*,
// google-gax) — always lazily, so a run without a Google check or secret
// reference never pays their 150–300 ms import and construct cost. It knows
// no API of its own: each Google kind declares the API it calls (src/gcp/api.ts).
//
// Three ways to reach the APIs, chosen per check and API from its settings:
// - emulator (gcp.emulatorHost / $INFRA_CHECK_GCP_EMULATOR_HOST): plaintext
//   gRPC (and plain HTTP for REST reads), no credentials at all — never the
//   user's ADC, never the metadata server;
// - gcp.apiEndpoints.<service> / gcp.apiEndpoint: TLS + Application Default
//   Credentials, to a private endpoint (Private Service Connect: one per service);
// - default: TLS + ADC to the API's own host (*.googleapis.com, regional ones included).
// ADC is checked once per run, before any client exists: without it every
// client call fails *and* the library leaks an unhandled rejection, so a
// missing ADC must become one clear `auth` failure here instead. The first
// access token is fetched then too (with Workload Identity Federation that is
// the STS exchange, often the slowest step of the run), so its cost and its
// failures land in the `auth` phase rather than in the first RPC.
import { failure } from "../diagnose/catalogue.js";
import { DNS } from "../diagnose/codes.js";
import net from "node:net";
import type { ProbeContext } from "../probes/api.js";
import { raceAbort } from "../util/deadline.js";
import { formatMs } from "../util/duration.js";
import { excerpt } from "../util/excerpt.js";
import { STATUS_NAMES_BY_CODE, type ClientConstructor, type GapicClient, type GoogleApi } from "./api.js";
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
      if (!api.load) return;
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
      // The project is given, not looked up: without it, federated credentials (external_account)
      // ask Cloud Resource Manager for the audience's project — another API, another permission.
      const project = (ctx.deps.gcp as { project?: string } | undefined)?.project;
      const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE], ...(project ? { projectId: project } : {}) });
      let client: Awaited<ReturnType<typeof auth.getClient>>;
      try {
        client = await auth.getClient();
      } catch (error) {
        throw failure(GCP.NO_ADC, { reason: firstSentence((error as Error)?.message ?? String(error)) });
      }
      // A service-account key signs its own JWTs (what the clients send: no exchange, no network),
      // and REST reads do the same; every other credential (user login, metadata server, Workload
      // Identity Federation's STS exchange) needs a token from the network: fetched here, in `auth`.
      const selfSigned = client.constructor?.name === "JWT" && "useJWTAccessWithScope" in client;
      try {
        if (selfSigned) (client as { useJWTAccessWithScope?: boolean }).useJWTAccessWithScope = true;
        else await client.getAccessToken();
      } catch (error) {
        throw failure(GCP.NO_TOKEN, { reason: firstSentence((error as Error)?.message ?? String(error)) });
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

  /** The private endpoint configured for `api` (gcp.apiEndpoints by default host, then by service name; then gcp.apiEndpoint). */
  private configuredEndpoint(api: GoogleApi): { value: string; key: string } | undefined {
    if (this.settings.emulatorHost) return undefined;
    const endpoints = this.settings.apiEndpoints ?? {};
    const service = api.host.split(".")[0];
    if (endpoints[api.host]) return { value: endpoints[api.host], key: `gcp.apiEndpoints.${api.host}` };
    if (endpoints[service]) return { value: endpoints[service], key: `gcp.apiEndpoints.${service}` };
    if (this.settings.apiEndpoint) return { value: this.settings.apiEndpoint, key: "gcp.apiEndpoint" };
    return undefined;
  }

  modeFor(api: GoogleApi): GcpCallInfo["mode"] {
    return this.settings.emulatorHost ? "emulator" : this.configuredEndpoint(api) ? "endpoint" : "default";
  }

  get mode(): GcpCallInfo["mode"] {
    return this.settings.emulatorHost ? "emulator" : this.settings.apiEndpoint || Object.keys(this.settings.apiEndpoints ?? {}).length ? "endpoint" : "default";
  }

  endpointFor(api: GoogleApi): string {
    if (this.settings.emulatorHost) return this.settings.emulatorHost;
    const configured = this.configuredEndpoint(api);
    if (configured) {
      const { host, port } = splitHostPort(configured.value, configured.key);
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
    if (this.mode === "emulator") await raceAbort(this.baseOptions(), this.ctx.signal);
    else await this.ctx.phases.time("auth", () => raceAbort(this.baseOptions(), this.ctx.signal));
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
        throw failure(GRPC.CONNECT_TIMEOUT, { what: api.label, endpoint: this.endpointFor(api), budget: formatMs(this.ctx.budgetMs), mode: this.modeFor(api), details: "", status: "DEADLINE_EXCEEDED" });
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
  async call<T>(api: GoogleApi, method: string, request: { name: string } | Record<string, unknown>, resource = String(request.name ?? ""), callOptions: { autoPaginate?: false } = {}): Promise<T> {
    const rpcDeclaration = api.rpcs[method];
    if (!rpcDeclaration) throw new Error(`${api.label}: ${method} is not declared in its API (src/gcp/api.ts)`);
    const client = await this.client(api);
    const rpc = (client as unknown as Record<string, Rpc>)[method.charAt(0).toLowerCase() + method.slice(1)];
    const info: GcpCallInfo = { api: api.label, method, resource, endpoint: this.endpointFor(api), mode: this.modeFor(api), rpc: rpcDeclaration, ...(this.quotaProject ? { quotaProject: this.quotaProject } : {}) };
    const attempt = async (): Promise<T> => {
      // retry: null turns off the library's own retry policy (GetService alone retries ~13 s on a refused endpoint).
      const timeout = Math.max(1, Math.floor(this.ctx.deadline.remainingMs()));
      const [response] = await rpc.call(client, request, { timeout, retry: null, ...callOptions });
      return response as T;
    };
    try {
      return await attempt();
    } catch (error) {
      if (isMaybeMissing(error) && rpcDeclaration.list && !this.closed) {
        const listed = await this.listedIn(client, rpcDeclaration.list, resource);
        if (listed) info.listed = listed;
      }
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

  /**
   * One page of the parent's List (best effort, within the budget): is `name` there? Undefined when
   * the List is denied too, fails, or a page does not settle it.
   */
  private async listedIn(client: GapicClient, list: { method: string; responseField?: string }, name: string): Promise<GcpCallInfo["listed"] | undefined> {
    const parent = name.split("/").slice(0, -2).join("/");
    const id = name.split("/").pop();
    const rpc = (client as unknown as Record<string, Rpc>)[list.method.charAt(0).toLowerCase() + list.method.slice(1)];
    if (!rpc || !parent || this.ctx.deadline.remainingMs() < MIN_RETRY_BUDGET_MS) return undefined;
    try {
      const timeout = Math.max(1, Math.floor(this.ctx.deadline.remainingMs() / 2));
      const [items, next] = (await rpc.call(client, { parent, pageSize: 1000 }, { timeout, retry: null, autoPaginate: false })) as [{ name?: string }[], unknown];
      const exists = items.some((item) => item.name?.split("/").pop() === id);
      if (!exists && next) return undefined;
      return { exists, parent, method: list.method };
    } catch {
      return undefined;
    }
  }

  /**
   * GET a REST resource of `api` (for the API versions that have no gRPC
   * surface: Cloud Run Admin API v1), bounded like an RPC, with the same
   * credentials (and quota project header); its errors are Google's JSON error
   * envelope turned into the status, reason and metadata an RPC error carries,
   * so they are classified alike. `host` overrides the API's default host (a
   * regional endpoint); configured endpoints and the emulator win over it.
   */
  async getJson<T>(api: GoogleApi, method: string, request: { name: string; path: string; host?: string }): Promise<T> {
    const rpcDeclaration = api.rpcs[method];
    if (!rpcDeclaration) throw new Error(`${api.label}: ${method} is not declared in its API (src/gcp/api.ts)`);
    if (this.closed) throw failure(GCP.CLIENT_ABANDONED, { api: api.label, when: "before" });
    // Credentials first: the call's record names the quota project they bill.
    if (this.modeFor(api) !== "emulator") await raceAbort(this.baseOptions(), this.ctx.signal);
    const target = request.host && this.modeFor(api) === "default" ? { ...api, host: request.host } : api;
    const endpoint = this.endpointFor(target);
    const url = `${this.modeFor(api) === "emulator" ? "http" : "https"}://${endpoint.replace(/:443$/, "")}${request.path}`;
    const info: GcpCallInfo = { api: api.label, method, resource: request.name, endpoint, mode: this.modeFor(api), rpc: rpcDeclaration, ...(this.quotaProject ? { quotaProject: this.quotaProject } : {}) };
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.modeFor(api) !== "emulator") {
      const options = await this.baseOptions();
      const auth = options.auth as InstanceType<GaxModule["GoogleAuth"]>;
      const client = await auth.getClient();
      // The access token, and x-goog-user-project when the credentials name a quota project.
      (await client.getRequestHeaders(url)).forEach((value: string, key: string) => void (headers[key] = value));
    }
    const timeoutMs = Math.max(1, Math.floor(this.ctx.deadline.remainingMs()));
    const signal = AbortSignal.any([this.ctx.signal, AbortSignal.timeout(timeoutMs)]);
    let response: Response;
    try {
      response = await fetch(url, { headers, signal, redirect: "error" });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const timedOut = (error as Error).name === "TimeoutError" || (error as Error).name === "AbortError";
      throw this.recorded(new RestCallError(timedOut ? 4 : 14, timedOut ? "Deadline exceeded (no answer)" : `${cause?.code ?? ""} ${cause?.message ?? (error as Error).message}`.trim()), info);
    }
    const text = await boundedText(response, MAX_REST_BODY_BYTES);
    if (response.ok) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw this.recorded(new RestCallError(13, `the answer is not JSON: ${excerpt(text, 200)}`), info);
      }
    }
    throw this.recorded(RestCallError.from(response.status, text), info);
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
    if (!api.load) throw new Error(`${api.label} (${api.id}) is read over REST only: use getJson`);
    const options = await this.clientOptions(api);
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
  /** What every client of the session shares: insecure channel credentials (emulator) or the run's GoogleAuth. */
  private baseOptions(): Promise<Record<string, unknown>> {
    return (this.optionsPromise ??= this.buildBaseOptions());
  }

  private async clientOptions(api: GoogleApi): Promise<Record<string, unknown>> {
    const base = await this.baseOptions();
    if (this.settings.emulatorHost) return base;
    // `apiEndpoint: "host:port"` breaks the library: the port goes separately.
    const { host, port } = splitHostPort(this.endpointFor(api), "endpoint");
    return { ...base, apiEndpoint: host, port };
  }

  private async buildBaseOptions(): Promise<Record<string, unknown>> {
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
    const client = await auth.getClient();
    const env = (this.ctx.deps.env ?? process.env) as NodeJS.ProcessEnv;
    // The project the calls are billed to (x-goog-user-project); a denial about it needs another fix than one about the resource.
    this.quotaProject = (client as { quotaProjectId?: string }).quotaProjectId || env.GOOGLE_CLOUD_QUOTA_PROJECT || undefined;
    this.ctx.log(`Google credentials: ${client.constructor?.name ?? "ADC"}; quota project ${this.quotaProject ?? "none (user credentials bill gcloud's shared project; service accounts, their own)"}`);
    return { auth };
  }

  /** The credentials' quota project, once the base options are built (not in emulator mode). */
  private quotaProject?: string;
}

/** REST answers are small resources; a larger body is cut off rather than read without bound. */
const MAX_REST_BODY_BYTES = 1 << 20;

async function boundedText(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, maxBytes);
}

/** A REST failure in the shape of a gRPC one (code, details, ErrorInfo reason/domain/metadata), for the one classifier. */
export class RestCallError extends Error {
  readonly code: number;
  readonly details: string;
  reason?: string;
  domain?: string;
  errorInfoMetadata?: Record<string, string>;

  constructor(code: number, details: string) {
    super(`${code} ${STATUS_NAMES_BY_CODE[code] ?? "UNKNOWN"}: ${details}`);
    this.name = "RestCallError";
    this.code = code;
    this.details = details;
  }

  static from(httpStatus: number, body: string): RestCallError {
    let envelope: { error?: { message?: string; status?: string; details?: { "@type"?: string; reason?: string; domain?: string; metadata?: Record<string, string> }[] } } = {};
    try {
      envelope = JSON.parse(body);
    } catch {
      // not Google's envelope: the HTTP status alone says what happened
    }
    const status = envelope.error?.status;
    const byName = status ? STATUS_NAMES_BY_CODE.indexOf(status as never) : -1;
    const code = byName > 0 ? byName : (HTTP_TO_GRPC[httpStatus] ?? 2);
    const error = new RestCallError(code, envelope.error?.message ?? `HTTP ${httpStatus}: ${excerpt(body.replace(/\s+/g, " "), 200)}`);
    const info = envelope.error?.details?.find((detail) => detail["@type"]?.endsWith("google.rpc.ErrorInfo"));
    if (info) {
      error.reason = info.reason;
      error.domain = info.domain;
      error.errorInfoMetadata = info.metadata ?? {};
    }
    return error;
  }
}

const HTTP_TO_GRPC: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 499: 1, 500: 13, 501: 12, 503: 14, 504: 4 };

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
const PERMISSION_DENIED = 7;

/** IAM's answer for both "no role" and "no such resource" (the API cannot say which to an identity that may not see it). */
function isMaybeMissing(error: unknown): boolean {
  const err = error as { code?: unknown; details?: unknown; reason?: unknown };
  return err?.code === PERMISSION_DENIED && err.reason !== "SERVICE_DISABLED" && /may not exist|does not exist or you/i.test(String(err.details ?? ""));
}

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
