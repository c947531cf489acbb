// The only file that loads the Google Cloud client libraries (@google-cloud/*,
// google-gax) — always lazily, so a run without a Google check or secret
// reference never pays their 150–300 ms import and construct cost.
//
// Three ways to reach the APIs, chosen per check from its settings:
// - emulator (gcp.emulatorHost / $INFRA_CHECK_GCP_EMULATOR_HOST): plaintext
//   gRPC, no credentials at all — never the user's ADC, never the metadata server;
// - gcp.apiEndpoint: TLS + Application Default Credentials, to a private endpoint;
// - default: TLS + ADC to *.googleapis.com.
// ADC is checked once per run, before any client exists: without it every
// client call fails *and* the library leaks an unhandled rejection, so a
// missing ADC must become one clear `auth` failure here instead.
import { createRequire } from "node:module";
import { ProbeFailure, type ProbeContext } from "../probes/api.js";
import { raceAbort } from "../runner/deadline.js";
import { formatMs } from "../util/duration.js";
import { GCP_CALL, splitHostPort, type GcpCallInfo, type GcpSettings } from "./resources.js";
import { excerpt } from "../util/excerpt.js";

type GaxModule = typeof import("google-gax");
/** grpc-js as google-gax bundles it: the one copy every client and the emulator must share. */
export type Grpc = GaxModule["grpc"];

export type GcpApi = "services" | "revisions" | "connectors" | "redis" | "secrets";

interface GapicClient {
  /** Creates the gRPC stub (proto loading); otherwise done lazily by the first call. */
  initialize(): Promise<GrpcStub>;
  close(): Promise<void>;
}
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
type ClientConstructor = new (options: Record<string, unknown>) => GapicClient;
type Rpc = (request: object, options: object) => Promise<unknown[]>;

interface ApiSpec {
  /** Human name for messages. */
  label: string;
  /** Default host of the API (for messages; the library knows it too). */
  host: string;
  load(): Promise<ClientConstructor>;
}

const APIS: Record<GcpApi, ApiSpec> = {
  services: {
    label: "Cloud Run",
    host: "run.googleapis.com",
    load: async () => (await import("@google-cloud/run")).v2.ServicesClient as unknown as ClientConstructor,
  },
  revisions: {
    label: "Cloud Run",
    host: "run.googleapis.com",
    load: async () => (await import("@google-cloud/run")).v2.RevisionsClient as unknown as ClientConstructor,
  },
  connectors: {
    label: "Serverless VPC Access",
    host: "vpcaccess.googleapis.com",
    load: async () => (await import("@google-cloud/vpc-access")).VpcAccessServiceClient as unknown as ClientConstructor,
  },
  redis: {
    label: "Memorystore for Redis",
    host: "redis.googleapis.com",
    load: async () => (await import("@google-cloud/redis")).CloudRedisClient as unknown as ClientConstructor,
  },
  secrets: {
    label: "Secret Manager",
    host: "secretmanager.googleapis.com",
    load: async () => (await import("@google-cloud/secret-manager")).SecretManagerServiceClient as unknown as ClientConstructor,
  },
};

/** The IAM permission each RPC we make needs (named in permission failures when the error carries none). */
export const RPC_PERMISSIONS: Record<string, string> = {
  GetService: "run.services.get",
  ListServices: "run.services.list",
  GetRevision: "run.revisions.get",
  ListRevisions: "run.revisions.list",
  GetConnector: "vpcaccess.connectors.get",
  ListConnectors: "vpcaccess.connectors.list",
  GetInstance: "redis.instances.get",
  ListInstances: "redis.instances.list",
  GetInstanceAuthString: "redis.instances.getAuthString",
  AccessSecretVersion: "secretmanager.versions.access",
};

const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/**
 * The call's own deadline ends a little before the check's budget, so the gRPC
 * error (which says what it waited for) wins over the runner's generic abort,
 * even when constructing clients has left the event loop a few dozen ms behind.
 */
function callMarginMs(budgetMs: number): number {
  return Math.min(250, Math.max(50, budgetMs * 0.03));
}
/** Below this much budget a retry cannot succeed; report the first error instead. */
const MIN_RETRY_BUDGET_MS = 250;
const RETRY_DELAY_MS = 100;

/**
 * Import google-gax and the client libraries of `apis` ahead of the checks
 * (ProbeDefinition.prepare): ~280 ms of synchronous module evaluation that
 * would otherwise stall every concurrent check's event loop mid-measurement.
 */
export async function preloadApis(apis: GcpApi[]): Promise<void> {
  const gax = await loadGax();
  await Promise.all(
    apis.map(async (api) => {
      const Client = await APIS[api].load();
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

/**
 * What the emulator (src/demo/gcp-emulator.ts) needs to speak the real APIs:
 * the grpc-js copy the clients use, protobufjs, the proto3-JSON converter and
 * the protos.json shipped inside each client package.
 */
export async function loadProtoRuntime(): Promise<{
  grpc: Grpc;
  protobuf: GaxModule["protobuf"];
  serializer: GaxModule["serializer"];
  protosJson: Record<"run" | "vpcAccess" | "redis" | "secretManager", object>;
}> {
  const gax = await loadGax();
  const require = createRequire(import.meta.url);
  return {
    grpc: gax.grpc,
    protobuf: gax.protobuf,
    serializer: gax.serializer,
    protosJson: {
      run: require("@google-cloud/run/build/protos/protos.json") as object,
      vpcAccess: require("@google-cloud/vpc-access/build/protos/protos.json") as object,
      redis: require("@google-cloud/redis/build/protos/protos.json") as object,
      secretManager: require("@google-cloud/secret-manager/build/protos/protos.json") as object,
    },
  };
}

/** One GoogleAuth per run (keyed by the run's deps object), its ADC checked once; a failure is shared by every check of the run. */
const adcByRun = new WeakMap<object, Promise<InstanceType<GaxModule["GoogleAuth"]>>>();

export const ADC_HINT =
  "Run `gcloud auth application-default login` (workstation), or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file " +
  "(CI); on Cloud Run, GCE or GKE the attached service account is used. To use a local emulator instead, set gcp.emulatorHost or INFRA_CHECK_GCP_EMULATOR_HOST.";

function applicationDefaultCredentials(ctx: ProbeContext): Promise<InstanceType<GaxModule["GoogleAuth"]>> {
  let pending = adcByRun.get(ctx.deps);
  if (!pending) {
    pending = (async () => {
      const { GoogleAuth } = await loadGax();
      const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
      try {
        await auth.getClient();
      } catch (error) {
        throw new ProbeFailure("auth", `no usable Google Application Default Credentials: ${firstSentence((error as Error)?.message ?? String(error))}`, {
          code: "NO_ADC",
          hint: ADC_HINT,
        });
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
 * calls in flight). Every call is bounded by the check's remaining budget and
 * retried at most once, on a transient UNAVAILABLE.
 */
export class GcpSession {
  readonly settings: GcpSettings;
  private readonly ctx: ProbeContext;
  private readonly clients = new Map<GcpApi, Promise<GapicClient>>();
  private readonly stubs = new Map<GcpApi, Promise<GrpcStub>>();
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

  endpointFor(api: GcpApi): string {
    if (this.settings.emulatorHost) return this.settings.emulatorHost;
    if (this.settings.apiEndpoint) {
      const { host, port } = splitHostPort(this.settings.apiEndpoint, "gcp.apiEndpoint");
      return `${host}:${port}`;
    }
    return `${APIS[api].host}:443`;
  }

  /**
   * Check credentials and create the clients up front, as their own phases
   * (`auth`: the ADC check, not in emulator mode; `client`: library import and
   * construction), so the RPC phases that follow time only the RPCs.
   */
  async prepare(...apis: GcpApi[]): Promise<void> {
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
  private async connect(apis: GcpApi[]): Promise<void> {
    this.ctx.phases.start("connect");
    const started = performance.now();
    const deadline = Date.now() + Math.max(1, this.ctx.remainingMs() - callMarginMs(this.ctx.budgetMs));
    const states = await raceAbort(Promise.all(apis.map((api) => this.waitForChannel(api, deadline))), this.ctx.signal);
    if (states.every((state) => state === READY)) this.ctx.phases.record("connect", performance.now() - started);
  }

  private async waitForChannel(api: GcpApi, deadline: number): Promise<number> {
    const stub = await this.stubs.get(api)!;
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
        throw new ProbeFailure(
          "unreachable",
          `${APIS[api].label}: no gRPC connection to ${endpoint} within the check's ${formatMs(this.ctx.budgetMs)} budget (nothing refused, nothing answered: packets dropped, or the endpoint does not speak gRPC/HTTP2)`,
          {
            code: "CONNECT_TIMEOUT",
            hint:
              this.mode === "emulator"
                ? `Is the emulator at ${endpoint} running and speaking plaintext gRPC? A TLS or HTTP/1 server on that port also never completes the handshake.`
                : "Check egress to Google APIs from this runner (firewall, proxy: HTTPS_PROXY, Private Google Access), and gcp.apiEndpoint if set.",
          },
        );
      }
      state = channel.getConnectivityState(false);
    }
    return state;
  }

  /** Call RPC `method` (e.g. "GetService") of `api`; resolves to the response message (plain object). */
  async call<T>(api: GcpApi, method: string, request: { name: string }): Promise<T> {
    const client = await this.client(api);
    const rpc = (client as unknown as Record<string, Rpc>)[method.charAt(0).toLowerCase() + method.slice(1)];
    const info: GcpCallInfo = {
      api: APIS[api].label,
      method,
      resource: request.name,
      endpoint: this.endpointFor(api),
      mode: this.mode,
      permission: RPC_PERMISSIONS[method] ?? "",
    };
    const attempt = async (): Promise<T> => {
      // retry: null turns off the library's own retry policy (GetService alone retries ~13 s on a refused endpoint).
      const timeout = Math.max(1, Math.floor(this.ctx.remainingMs() - callMarginMs(this.ctx.budgetMs)));
      const [response] = await rpc.call(client, request, { timeout, retry: null });
      return response as T;
    };
    try {
      return await attempt();
    } catch (error) {
      if (!isTransient(error) || this.closed || this.ctx.remainingMs() < MIN_RETRY_BUDGET_MS) throw tagged(error, info);
      this.ctx.log(`${info.api} ${method}: ${(error as Error).message}; retrying once`);
      await retryPause(RETRY_DELAY_MS, this.ctx.signal);
      try {
        return await attempt();
      } catch (second) {
        throw tagged(second, info);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ctx.signal.removeEventListener("abort", this.onAbort);
    const pending = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(pending.map(async (client) => (await client).close()));
  }

  private client(api: GcpApi): Promise<GapicClient> {
    if (this.closed) return Promise.reject(new ProbeFailure("timeout", `the check's budget ended before the ${APIS[api].label} client was created`));
    let client = this.clients.get(api);
    if (!client) {
      let stubbed: (stub: GrpcStub) => void = () => undefined;
      const stub = new Promise<GrpcStub>((resolve) => (stubbed = resolve));
      client = this.createClient(api, stubbed);
      client.catch(() => undefined);
      this.clients.set(api, client);
      this.stubs.set(api, stub);
    }
    return raceAbort(client, this.ctx.signal);
  }

  private async createClient(api: GcpApi, stubbed: (stub: GrpcStub) => void): Promise<GapicClient> {
    const options = await this.clientOptions();
    const Client = await APIS[api].load();
    if (this.closed) throw new ProbeFailure("timeout", `the check's budget ended while loading the ${APIS[api].label} client`);
    const client = new Client(options);
    try {
      stubbed(await client.initialize());
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

function tagged(error: unknown, info: GcpCallInfo): unknown {
  if (error !== null && typeof error === "object" && !(error instanceof ProbeFailure)) {
    const err = error as { details?: unknown };
    // google-gax puts the server's text in a string `details`; the runner reads `details` as evidence fields, so it moves here.
    if (typeof err.details === "string") {
      info.details = err.details;
      delete err.details;
    }
    Object.defineProperty(error, GCP_CALL, { value: info, enumerable: false, configurable: true });
  }
  return error;
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
