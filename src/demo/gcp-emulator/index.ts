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
import { createHash } from "node:crypto";
import http from "node:http";
import { createRequire } from "node:module";
import net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";
import { loadGax } from "../../gcp/session.js";
import type { EmulatorTools, ErrorInfo, FaultCode, Proto3Json, ResourceCollection, RestRoute, RpcAnswer, RpcError, UnaryHandler } from "./api.js";
import { EMULATED_APIS, type ApiControls, type ApiOptions } from "./apis/index.js";
import { validateProto3Json, type ProtoType } from "./proto-json.js";

export type { FaultCode, Proto3Json } from "./api.js";

/** An injected error (or silence) for a resource name, an RPC name (e.g. "GetService"), or "*". */
export type EmulatorFault = (
  | {
      code: FaultCode;
      message?: string;
      /** ErrorInfo: defaults for PERMISSION_DENIED are IAM_PERMISSION_DENIED / the API's service name / { permission, resource }. */
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
  /** Project id → project number (default: a stable 12-digit number per id), used where real responses and messages name the number. */
  projectNumbers?: Record<string, string>;
  /** Page size of List RPCs when the request sets none (real APIs use their own default; small here so paging is exercised). */
  defaultPageSize?: number;
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
  const domains: Record<string, string> = Object.assign({}, ...EMULATED_APIS.map((api) => Object.fromEntries(Object.keys(api.permissions).map((method) => [method, api.domain]))));

  // ---------------------------------------------------------------- state
  const resources = new Map<string, { json: Proto3Json; message: Record<string, unknown>; collection: string }>();
  const faults = new Map<string, EmulatorFault>();
  const pendingChanges: { target: string; callsLeft: number; change: () => void }[] = [];
  const calls: EmulatorCall[] = [];
  const putListeners: ((resource: Proto3Json, previous: Proto3Json | undefined) => void)[] = [];
  const sharedState = new Map<string, unknown>();
  let listening: { host: string; port: number } | undefined;

  // Real APIs accept a project's number wherever its id goes, and answer some fields with the number.
  const numbers = new Map<string, string>(Object.entries(options.projectNumbers ?? {}));
  const projectNumber = (project: string) => {
    if (/^\d+$/.test(project)) return project;
    let number = numbers.get(project);
    if (!number) {
      number = String(100_000_000_000 + (createHash("sha256").update(project).digest().readUInt32BE(0) % 900_000_000_000));
      numbers.set(project, number);
    }
    return number;
  };
  const canonical = (name: string) =>
    name.replace(/^projects\/(\d+)(?=\/|$)/, (whole, number: string) => {
      for (const [id, known] of numbers) if (known === number) return `projects/${id}`;
      return whole;
    });
  const numbered = (name: string) => name.replace(/^projects\/([^/]+)(?=\/|$)/, (_whole, project: string) => `projects/${projectNumber(project)}`);

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
    projectNumber(/^projects\/([^/]+)/.exec(copy.name)?.[1] ?? "");
    const previous = resources.get(copy.name)?.json;
    resources.set(copy.name, { json: copy, message, collection });
    for (const listener of putListeners) listener(copy, previous);
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
        // Real APIs put their own service name in the denial's ErrorInfo.
        domain: fault.domain ?? domains[method] ?? "iam.googleapis.com",
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
    const asked = typeof field === "function" ? field(call.request) : String(call.request[field] ?? "");
    const name = canonical(asked);
    const authorization = call.metadata.get("authorization")[0];
    calls.push({ method, name: asked, authorized: authorization !== undefined });
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
      rpc(method, "parent", (parent, request) => {
        const all = childrenOf(collection, parent);
        // Opaque to clients, as Google's are: here the offset of the next item, bound to the parent it pages.
        const token = String(request.pageToken ?? "");
        let offset = 0;
        if (token) {
          const decoded = /^([^|]*)\|(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
          if (!decoded || decoded[1] !== parent) return errorFor("INVALID_ARGUMENT", `Invalid page token: ${token}`);
          offset = Number(decoded[2]);
        }
        const size = Math.min(Number(request.pageSize) > 0 ? Number(request.pageSize) : (options.defaultPageSize ?? 50), 1000);
        const page = all.slice(offset, offset + size);
        const next = offset + size < all.length ? Buffer.from(`${parent}|${offset + size}`, "utf8").toString("base64url") : "";
        return { ok: { [responseField]: page, nextPageToken: next, ...extra } };
      }),
    errorFor,
    notFound,
    projectNumber,
    canonical,
    numbered,
    onPut: (listener) => void putListeners.push(listener),
    encode: (proto, type, message) => {
      const found = roots[proto].lookupType(type);
      return found.encode(found.fromObject(message)).finish();
    },
    toJson: (proto, type, message) => serializer.toProto3JSON(roots[proto].lookupType(type).fromObject(message) as never) as Record<string, unknown>,
    endpoint: () => {
      if (!listening) throw new Error("emulator: not listening yet");
      return listening;
    },
    shared: <T,>(key: string, create: () => T): T => {
      if (!sharedState.has(key)) sharedState.set(key, create());
      return sharedState.get(key) as T;
    },
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
  const grpcServer = new grpc.Server();
  for (const { proto, service, handlers } of started.flatMap((api) => api.services)) {
    let node: unknown = packages[proto];
    for (const part of service.split(".")) node = (node as Record<string, unknown>)[part];
    grpcServer.addService((node as { service: never }).service, handlers as never);
  }
  const routes = started.flatMap((api) => api.rest ?? []);
  const restServer = http.createServer((request, response) => serveRest(request, response));

  // One port for both surfaces, as one emulatorHost names them: gRPC (HTTP/2, whose connection
  // preface starts "PRI * HTTP/2.0") goes to the gRPC server, anything else to the REST routes.
  // With TLS the choice is ALPN's (grpc-js offers h2).
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<net.Socket>();
  const route = (socket: net.Socket, isGrpc: boolean) => (isGrpc ? injector.injectConnection(socket) : restServer.emit("connection", socket));
  // HTTP/2 reads a socket's native handle, past anything put back into its JS buffer: the sniffed
  // bytes are replayed through a stream of its own instead.
  const replaying = (socket: net.Socket, first: Buffer): Duplex => {
    const duplex = new Duplex({
      read: () => void socket.resume(),
      write: (chunk, encoding, callback) => void socket.write(chunk, encoding, callback),
      final: (callback) => {
        socket.end();
        callback();
      },
      destroy: (error, callback) => {
        socket.destroy();
        callback(error);
      },
    });
    duplex.push(first);
    socket.on("data", (chunk: Buffer) => {
      if (!duplex.push(chunk)) socket.pause();
    });
    socket.once("end", () => duplex.push(null));
    socket.once("close", () => duplex.destroy());
    return duplex;
  };
  const sniff = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("error", () => socket.destroy());
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      if (chunk.subarray(0, 3).toString("latin1") === "PRI") return void injector.injectConnection(replaying(socket, chunk));
      // The HTTP/1 parser also reads what was put back into the socket's buffer.
      socket.unshift(chunk);
      restServer.emit("connection", socket);
      socket.resume();
    });
  };
  const listener = options.tls
    ? tls.createServer({ key: options.tls.key, cert: options.tls.cert, ALPNProtocols: ["h2", "http/1.1"] }, (socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        socket.once("error", () => socket.destroy());
        route(socket, socket.alpnProtocol === "h2");
      })
    : net.createServer(sniff);

  const host = options.host ?? "127.0.0.1";
  const port = await new Promise<number>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(0, host, () => resolve((listener.address() as net.AddressInfo).port));
  });
  listening = { host, port };

  function serveRest(request: http.IncomingMessage, response: http.ServerResponse) {
    const url = new URL(request.url ?? "/", "http://emulator");
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
      response.end(JSON.stringify(body));
    };
    const sendError = (error: RpcError) => send(HTTP_STATUS[error.code] ?? 500, restErrorBody(error));
    for (const candidate of routes) {
      const match = request.method === "GET" ? candidate.path.exec(url.pathname) : null;
      if (!match) continue;
      const name = canonical(candidate.resource(match));
      const authorization = request.headers.authorization;
      calls.push({ method: candidate.method, name: candidate.resource(match), authorized: authorization !== undefined });
      applyPendingChanges(candidate.method, name);
      if (options.requireAuth && !/^Bearer \S+/.test(String(authorization ?? ""))) return sendError(unauthenticated());
      const fault = injected(candidate.method, name);
      if (fault === "hang") {
        hung.add(() => response.destroy());
        return;
      }
      if (fault) return sendError(fault);
      let result: RpcAnswer;
      try {
        result = candidate.answer(match);
      } catch (error) {
        return sendError(errorFor("INTERNAL", `emulator: ${(error as Error).message}`));
      }
      return "ok" in result ? send(200, result.ok) : sendError(result);
    }
    send(404, { error: { code: 404, message: `The requested URL ${url.pathname} was not found on this server.`, status: "NOT_FOUND" } });
  }

  /** Google's JSON error envelope, carrying the same google.rpc.Status details as gRPC's trailer. */
  function restErrorBody(error: RpcError): unknown {
    const bin = error.metadata.get("grpc-status-details-bin")[0];
    const details: unknown[] = [];
    if (bin) {
      const status = StatusType.toObject(StatusType.decode(bin as Buffer), { defaults: true }) as { details?: { type_url: string; value: Uint8Array }[] };
      for (const detail of status.details ?? []) {
        if (detail.type_url.endsWith("google.rpc.ErrorInfo")) details.push({ "@type": detail.type_url, ...ErrorInfoType.toObject(ErrorInfoType.decode(detail.value), { defaults: true }) });
      }
    }
    const statusName = Object.entries(STATUS).find(([, code]) => code === error.code)?.[0] ?? "UNKNOWN";
    return { error: { code: HTTP_STATUS[error.code] ?? 500, message: error.details, status: statusName, ...(details.length ? { details } : {}) } };
  }

  let stopped: Promise<void> | undefined;
  return {
    host,
    port,
    emulatorHost: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    state,
    calls,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        for (const api of started) api.stop?.();
        for (const release of hung) release();
        hung.clear();
        listener.close(() => resolve());
        // gRPC sessions end gracefully (GOAWAY, streams in flight answered) within 200 ms, then are destroyed.
        injector.drain(200);
        restServer.closeAllConnections();
        // Connections still open after a moment (a client that never reads) must not keep the process alive.
        setTimeout(() => {
          injector.destroy();
          for (const socket of sockets) socket.destroy();
        }, 250).unref();
      })),
  };
}

/** gRPC status → the HTTP status Google's REST surface answers with. */
const HTTP_STATUS: Record<number, number> = { 1: 499, 3: 400, 5: 404, 7: 403, 8: 429, 9: 400, 13: 500, 14: 503, 16: 401 };
