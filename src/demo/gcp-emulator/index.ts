// A local Google Cloud API emulator for the APIs infra-check reads (one
// module per API under apis/: Cloud Run v2, Serverless VPC Access v1,
// Memorystore for Redis v1, Secret Manager v1) — real gRPC services built from
// the protos.json that ship inside the client packages, so the real client
// libraries talk to it unchanged (no official emulator exists for these APIs).
//
// Resources are kept in the APIs' own proto3 JSON form (what `gcloud ...
// --format=json` prints), validated strictly on the way in (a typo in a
// fixture is an error, not a silently healthy default), and can be changed
// while it runs — tests and `infra-check demo --break` flip states that way,
// at once or on the Nth matching call (afterCalls: a rollout that converges).
// Faults reproduce Google's errors: NOT_FOUND, PERMISSION_DENIED with an
// ErrorInfo (grpc-status-details-bin), UNAUTHENTICATED, UNAVAILABLE, or a
// call that is never answered.
//
// Used by the tests, the demo stack and the benchmarks: loopback only.
import { createRequire } from "node:module";
import { loadGax } from "../../gcp/session.js";
import type { EmulatorTools, ErrorInfo, FaultCode, Proto3Json, ResourceCollection, RpcAnswer, RpcError, UnaryHandler } from "./api.js";
import { EMULATED_APIS, type ApiControls, type ApiOptions } from "./apis/index.js";
import { validateProto3Json, type ProtoType } from "./proto-json.js";

export type { FaultCode, Proto3Json } from "./api.js";

/** An injected error (or silence) for a resource name, an RPC name (e.g. "GetService"), or "*". */
export type EmulatorFault = (
  | {
      code: FaultCode;
      message?: string;
      /** ErrorInfo: defaults for PERMISSION_DENIED are IAM_PERMISSION_DENIED / iam.googleapis.com / { permission, resource }. */
      reason?: string;
      domain?: string;
      metadata?: Record<string, string>;
    }
  | { hang: true }
) & {
  /** Only for the next N calls it matches (then it is removed); default: until removed. */
  times?: number;
};

export interface EmulatorCall {
  method: string;
  /** Resource name or parent asked for. */
  name: string;
  /** Whether the call carried an `authorization` header (its value is never kept). */
  authorized: boolean;
}

interface CoreState {
  /** Add or replace a resource of any emulated collection (the collection is read from its `name`). */
  put(resource: Proto3Json): void;
  /** A copy of a stored resource. */
  get<T extends Proto3Json = Proto3Json>(name: string): T | undefined;
  /** Change a stored resource: shallow-merge `fields`, or edit a copy in a function. */
  patch(name: string, change: Record<string, unknown> | ((resource: Proto3Json) => void)): void;
  remove(name: string): void;
  /** Names of stored resources, optionally under a prefix. */
  names(prefix?: string): string[];
  /** Inject a fault for a resource name, an RPC name, or "*"; null removes it. */
  fail(target: string, fault: EmulatorFault | null): void;
  /**
   * Change the world on a request count, never on time: the first `count`
   * calls matching `target` (a resource name, an RPC name, or "*") see the
   * state as it is; `change` runs just before the next matching call is
   * answered (once). E.g. a rollout that converges on the third GetService.
   */
  afterCalls(target: string, count: number, change: () => void): void;
  /** Remove every injected fault and every pending afterCalls change (the APIs' own faults too). */
  clearFaults(): void;
}
/** The emulated world: resources, faults, and each API's own controls (apis/). */
export type GcpEmulatorState = CoreState & ApiControls;

export interface GcpEmulatorOptions extends ApiOptions {
  /** Resources to start with (proto3 JSON). */
  resources?: Proto3Json[];
  /** Serve TLS (PEM strings) instead of plaintext — to test the apiEndpoint + ADC path. */
  tls?: { cert: string; key: string };
  /** Answer UNAUTHENTICATED unless a call carries `authorization: Bearer …` (real APIs do). */
  requireAuth?: boolean;
  /** Loopback address to bind (default 127.0.0.1). */
  host?: string;
}

export interface GcpEmulator {
  host: string;
  port: number;
  /** host:port for gcp.emulatorHost / INFRA_CHECK_GCP_EMULATOR_HOST. */
  emulatorHost: string;
  state: GcpEmulatorState;
  /** Every call received, in order. */
  calls: EmulatorCall[];
  stop(): Promise<void>;
}

const STATUS: Record<FaultCode, number> = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
};

/** google.rpc.Status / ErrorInfo / Any, as in google/rpc/*.proto (field numbers are part of the API). */
const RPC_PROTOS = {
  nested: {
    google: {
      nested: {
        protobuf: { nested: { Any: { fields: { type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } } } } },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: "int32", id: 1 },
                message: { type: "string", id: 2 },
                details: { rule: "repeated", type: "google.protobuf.Any", id: 3 },
              },
            },
            ErrorInfo: {
              fields: {
                reason: { type: "string", id: 1 },
                domain: { type: "string", id: 2 },
                metadata: { keyType: "string", type: "string", id: 3 },
              },
            },
          },
        },
      },
    },
  },
};

/** Start the emulator on an ephemeral loopback port. */
export async function startGcpEmulator(options: GcpEmulatorOptions = {}): Promise<GcpEmulator> {
  // The grpc-js copy the clients use (google-gax's), protobufjs, the proto3-JSON converter.
  const { grpc, protobuf, serializer } = await loadGax();
  const protoLoader = await import("@grpc/proto-loader");
  const loaderOptions = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };
  const require = createRequire(import.meta.url);
  const protosJson: Record<string, object> = Object.assign({}, ...EMULATED_APIS.map((api) => api.protos));
  for (const [key, path] of Object.entries(protosJson)) protosJson[key] = require(path as unknown as string) as object;
  const roots = Object.fromEntries(Object.entries(protosJson).map(([key, json]) => [key, protobuf.Root.fromJSON(json as never)]));
  const rpcRoot = protobuf.Root.fromJSON(RPC_PROTOS);
  const StatusType = rpcRoot.lookupType("google.rpc.Status");
  const ErrorInfoType = rpcRoot.lookupType("google.rpc.ErrorInfo");
  const collections: ResourceCollection[] = EMULATED_APIS.flatMap((api) => api.collections ?? []);
  const permissions: Record<string, string> = Object.assign({}, ...EMULATED_APIS.map((api) => api.permissions));

  // ---------------------------------------------------------------- state
  const resources = new Map<string, { json: Proto3Json; message: Record<string, unknown>; collection: string }>();
  const faults = new Map<string, EmulatorFault>();
  const pendingChanges: { target: string; callsLeft: number; change: () => void }[] = [];
  const calls: EmulatorCall[] = [];

  const convert = (json: Proto3Json) => {
    const entry = collections.find((candidate) => candidate.pattern.test(json.name));
    if (!entry) {
      throw new Error(
        `emulator: "${json.name}" is not the name of a ${collections.map((candidate) => candidate.noun).join(", ").replace(/, ([^,]+)$/, " or $1")} (projects/P/locations/R/COLLECTION/NAME)`,
      );
    }
    const type = roots[entry.proto].lookupType(entry.type) as unknown as ProtoType;
    validateProto3Json(type, json, json.name);
    const message = serializer.fromProto3JSON(type as never, json as never);
    return { collection: entry.collection, message: type.toObject(message, { longs: String, enums: String }) };
  };
  const put = (resource: Proto3Json) => {
    const copy = structuredClone(resource);
    const { collection, message } = convert(copy);
    resources.set(copy.name, { json: copy, message, collection });
  };

  // ---------------------------------------------------------------- errors
  const hung = new Set<() => void>();

  const errorFor = (code: FaultCode, message: string, info?: ErrorInfo): RpcError => {
    const metadata = new grpc.Metadata();
    if (info) {
      const details = [{ type_url: "type.googleapis.com/google.rpc.ErrorInfo", value: ErrorInfoType.encode(ErrorInfoType.create(info)).finish() }];
      const status = StatusType.encode(StatusType.create({ code: STATUS[code], message, details })).finish();
      metadata.set("grpc-status-details-bin", Buffer.from(status));
    }
    return { code: STATUS[code], details: message, metadata };
  };

  const notFound = (method: string, name: string) => {
    const message = EMULATED_APIS.map((api) => api.notFoundMessage?.(method, name)).find((found) => found !== undefined) ?? `Resource '${name}' was not found`;
    return errorFor("NOT_FOUND", message, { reason: "RESOURCE_NOT_FOUND", domain: "googleapis.com", metadata: { resource: name } });
  };

  const injected = (method: string, name: string): RpcError | "hang" | undefined => {
    const key = [name, method, "*"].find((candidate) => faults.has(candidate));
    const fault = key === undefined ? undefined : faults.get(key)!;
    if (!fault) return undefined;
    if (fault.times !== undefined) {
      if (fault.times <= 1) faults.delete(key!);
      else faults.set(key!, { ...fault, times: fault.times - 1 });
    }
    if ("hang" in fault) return "hang";
    const permission = permissions[method] ?? "unknown";
    if (fault.code === "PERMISSION_DENIED") {
      return errorFor(fault.code, fault.message ?? `Permission '${permission}' denied on resource '${name}' (or it may not exist).`, {
        reason: fault.reason ?? "IAM_PERMISSION_DENIED",
        domain: fault.domain ?? "iam.googleapis.com",
        metadata: fault.metadata ?? { permission, resource: name },
      });
    }
    if (fault.code === "NOT_FOUND" && !fault.message) return notFound(method, name);
    const defaults: Record<FaultCode, string> = {
      NOT_FOUND: "",
      PERMISSION_DENIED: "",
      UNAUTHENTICATED:
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
      UNAVAILABLE: "The service is currently unavailable.",
      INVALID_ARGUMENT: `Invalid resource name: ${name}`,
      RESOURCE_EXHAUSTED: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'.",
      INTERNAL: "Internal error encountered.",
      FAILED_PRECONDITION: "Precondition check failed.",
    };
    const info = fault.reason ? { reason: fault.reason, domain: fault.domain ?? "googleapis.com", metadata: fault.metadata ?? {} } : undefined;
    return errorFor(fault.code, fault.message ?? defaults[fault.code], info);
  };

  const applyPendingChanges = (method: string, name: string) => {
    for (const pending of [...pendingChanges]) {
      if (pending.target !== "*" && pending.target !== method && pending.target !== name) continue;
      if (pending.callsLeft > 0) {
        pending.callsLeft -= 1;
        continue;
      }
      pendingChanges.splice(pendingChanges.indexOf(pending), 1);
      pending.change();
    }
  };

  const unauthenticated = () =>
    errorFor(
      "UNAUTHENTICATED",
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
      { reason: "ACCESS_TOKEN_TYPE_UNSUPPORTED", domain: "googleapis.com", metadata: {} },
    );

  const rpc: EmulatorTools["rpc"] = (method, field, answer): UnaryHandler => (call, callback) => {
    const name = typeof field === "function" ? field(call.request) : String(call.request[field] ?? "");
    const authorization = call.metadata.get("authorization")[0];
    calls.push({ method, name, authorized: authorization !== undefined });
    applyPendingChanges(method, name);
    if (options.requireAuth && !/^Bearer \S+/.test(String(authorization ?? ""))) return callback(unauthenticated());
    const fault = injected(method, name);
    if (fault === "hang") {
      // Never answered; released (as CANCELLED on the client) when the emulator stops.
      hung.add(() => callback({ code: 1, details: "emulator stopped" }));
      return;
    }
    if (fault) return callback(fault);
    const respond = (result: RpcAnswer) => ("ok" in result ? callback(null, result.ok) : callback(result));
    let result: RpcAnswer | Promise<RpcAnswer>;
    try {
      result = answer(name, call.request);
    } catch (error) {
      return callback(errorFor("INTERNAL", `emulator: ${(error as Error).message}`));
    }
    if (result instanceof Promise) result.then(respond, (error: Error) => callback(errorFor("INTERNAL", `emulator: ${error.message}`)));
    else respond(result);
  };

  const childrenOf = (collection: string, parent: string) => {
    const prefix = `${parent}/${collection}/`;
    return [...resources.values()]
      .filter((entry) => entry.collection === collection && entry.json.name.startsWith(prefix) && !entry.json.name.slice(prefix.length).includes("/"))
      .map((entry) => entry.message);
  };

  const tools: EmulatorTools = {
    grpc,
    resource: (name, collection) => {
      const found = resources.get(name);
      return found && found.collection === collection ? found.message : undefined;
    },
    children: childrenOf,
    put,
    json: (name) => {
      const found = resources.get(name);
      return found ? structuredClone(found.json) : undefined;
    },
    rpc,
    getter: (method, collection) =>
      rpc(method, "name", (name) => {
        const pattern = collections.find((entry) => entry.collection === collection)!.pattern;
        if (!pattern.test(name)) return errorFor("INVALID_ARGUMENT", `Invalid resource name: '${name}'`);
        const found = resources.get(name);
        return found && found.collection === collection ? { ok: found.message } : notFound(method, name);
      }),
    lister: (method, collection, responseField, extra = {}) =>
      rpc(method, "parent", (parent) => ({ ok: { [responseField]: childrenOf(collection, parent), nextPageToken: "", ...extra } })),
    errorFor,
    notFound,
  };

  // ---------------------------------------------------------------- APIs
  const started = EMULATED_APIS.map((api) => api.start(tools, options as never));
  const core: CoreState = {
    put,
    get<T extends Proto3Json>(name: string) {
      const found = resources.get(name);
      return found ? (structuredClone(found.json) as T) : undefined;
    },
    patch(name, change) {
      const found = resources.get(name);
      if (!found) throw new Error(`emulator: no resource ${name} to patch`);
      const copy = structuredClone(found.json);
      if (typeof change === "function") change(copy);
      else Object.assign(copy, change);
      if (copy.name !== name) throw new Error(`emulator: a patch cannot rename ${name}`);
      put(copy);
    },
    remove(name) {
      resources.delete(name);
    },
    names(prefix = "") {
      return [...resources.keys()].filter((name) => name.startsWith(prefix)).sort();
    },
    fail(target, fault) {
      if (fault) faults.set(target, fault);
      else faults.delete(target);
    },
    afterCalls(target, count, change) {
      if (!Number.isInteger(count) || count < 0) throw new Error(`emulator: afterCalls needs a whole number of calls, got ${count}`);
      pendingChanges.push({ target, callsLeft: count, change });
    },
    clearFaults() {
      faults.clear();
      pendingChanges.length = 0;
      for (const api of started) api.clearFaults?.();
    },
  };
  const state = Object.assign(core, ...started.map((api) => api.controls)) as GcpEmulatorState;
  for (const resource of options.resources ?? []) put(resource);

  const packages = Object.fromEntries(
    Object.entries(protosJson).map(([key, json]) => [key, grpc.loadPackageDefinition(protoLoader.fromJSON(json, loaderOptions))]),
  );
  const server = new grpc.Server();
  for (const { proto, service, handlers } of started.flatMap((api) => api.services)) {
    let node: unknown = packages[proto];
    for (const part of service.split(".")) node = (node as Record<string, unknown>)[part];
    server.addService((node as { service: never }).service, handlers as never);
  }

  const host = options.host ?? "127.0.0.1";
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(options.tls.key), cert_chain: Buffer.from(options.tls.cert) }], false)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(":") ? `[${host}]` : host}:0`, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });

  let stopped: Promise<void> | undefined;
  return {
    host,
    port,
    emulatorHost: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    state,
    calls,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        for (const release of hung) release();
        hung.clear();
        server.tryShutdown(() => resolve());
        // Calls still open after a moment (a client that never reads) must not keep the process alive.
        setTimeout(() => server.forceShutdown(), 200).unref();
      })),
  };
}
