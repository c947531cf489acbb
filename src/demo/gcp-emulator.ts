// A local Google Cloud API emulator for the APIs infra-check reads: Cloud Run
// v2 (Services, Revisions), Serverless VPC Access v1, Memorystore for Redis v1
// and Secret Manager v1 — real gRPC services built from the protos.json that
// ship inside the client packages, so the real client libraries talk to it
// unchanged (no official emulator exists for these APIs).
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
import { loadGax, type Grpc } from "../gcp/session.js";

/**
 * The IAM permission each emulated RPC needs, as Google documents it — the
 * emulator's own table (not the product's), so a wrong permission name in a
 * kind's API declaration fails the tests instead of agreeing with itself.
 */
const EMULATED_PERMISSIONS: Record<string, string> = {
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

/**
 * What the emulator needs to speak the real APIs: the grpc-js copy the clients
 * use (google-gax's), protobufjs, the proto3-JSON converter and the
 * protos.json shipped inside each client package.
 */
async function loadProtoRuntime() {
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

export type FaultCode =
  | "NOT_FOUND"
  | "PERMISSION_DENIED"
  | "UNAUTHENTICATED"
  | "UNAVAILABLE"
  | "INVALID_ARGUMENT"
  | "RESOURCE_EXHAUSTED"
  | "INTERNAL"
  | "FAILED_PRECONDITION";

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

/** A resource in proto3 JSON form (camelCase fields, enums and int64 as strings, timestamps as RFC 3339). */
export type Proto3Json = { name: string } & Record<string, unknown>;

export interface GcpEmulatorState {
  /** Add or replace a service, revision, connector or instance (the collection is read from its `name`). */
  put(resource: Proto3Json): void;
  /** A copy of a stored resource. */
  get<T extends Proto3Json = Proto3Json>(name: string): T | undefined;
  /** Change a stored resource: shallow-merge `fields`, or edit a copy in a function. */
  patch(name: string, change: Record<string, unknown> | ((resource: Proto3Json) => void)): void;
  remove(name: string): void;
  /** Names of stored resources, optionally under a prefix. */
  names(prefix?: string): string[];
  /** The AUTH string GetInstanceAuthString returns for an instance ("" = AUTH disabled). */
  setAuthString(instance: string, authString: string): void;
  /** Add a version to a secret (`projects/P/secrets/S`); returns the version's name. `latest` is the highest enabled version. */
  addSecretVersion(secret: string, value: string | Buffer): string;
  /** Disable (or re-enable) one secret version. */
  setSecretVersionEnabled(version: string, enabled: boolean): void;
  /** Inject a fault for a resource name, an RPC name, or "*"; null removes it. */
  fail(target: string, fault: EmulatorFault | null): void;
  /**
   * Change the world on a request count, never on time: the first `count`
   * calls matching `target` (a resource name, an RPC name, or "*") see the
   * state as it is; `change` runs just before the next matching call is
   * answered (once). E.g. a rollout that converges on the third GetService.
   */
  afterCalls(target: string, count: number, change: () => void): void;
  /** Remove every injected fault and every pending afterCalls change. */
  clearFaults(): void;
}

export interface GcpEmulatorOptions {
  /** Resources to start with (proto3 JSON). */
  resources?: Proto3Json[];
  secrets?: Record<string, string>;
  authStrings?: Record<string, string>;
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

type Collection = "services" | "revisions" | "connectors" | "instances";

const COLLECTIONS: { collection: Collection; pattern: RegExp; type: string; proto: "run" | "vpcAccess" | "redis" }[] = [
  { collection: "revisions", pattern: /^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+\/revisions\/[^/]+$/, type: "google.cloud.run.v2.Revision", proto: "run" },
  { collection: "services", pattern: /^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/, type: "google.cloud.run.v2.Service", proto: "run" },
  { collection: "connectors", pattern: /^projects\/[^/]+\/locations\/[^/]+\/connectors\/[^/]+$/, type: "google.cloud.vpcaccess.v1.Connector", proto: "vpcAccess" },
  { collection: "instances", pattern: /^projects\/[^/]+\/locations\/[^/]+\/instances\/[^/]+$/, type: "google.cloud.redis.v1.Instance", proto: "redis" },
];
const SECRET_VERSION = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/]+)$/;
const SECRET = /^projects\/[^/]+\/secrets\/[^/]+$/;

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

interface ProtoType {
  fields: Record<string, ProtoField>;
  fullName: string;
  toObject(message: unknown, options: object): Record<string, unknown>;
}
interface ProtoField {
  name: string;
  type: string;
  repeated: boolean;
  map: boolean;
  resolvedType: (ProtoType & { values?: undefined }) | { values: Record<string, number>; fullName: string } | null;
  resolve(): unknown;
}

/** Start the emulator on an ephemeral loopback port. */
export async function startGcpEmulator(options: GcpEmulatorOptions = {}): Promise<GcpEmulator> {
  const runtime = await loadProtoRuntime();
  const { grpc, protobuf, serializer } = runtime;
  const protoLoader = await import("@grpc/proto-loader");
  const loaderOptions = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

  const roots = Object.fromEntries(
    Object.entries(runtime.protosJson).map(([key, json]) => [key, protobuf.Root.fromJSON(json as protobuf.INamespace)]),
  ) as Record<keyof typeof runtime.protosJson, InstanceType<typeof protobuf.Root>>;
  const typeOf = (proto: keyof typeof roots, name: string) => roots[proto].lookupType(name) as unknown as ProtoType;
  const rpcRoot = protobuf.Root.fromJSON(RPC_PROTOS);
  const StatusType = rpcRoot.lookupType("google.rpc.Status");
  const ErrorInfoType = rpcRoot.lookupType("google.rpc.ErrorInfo");

  // ---------------------------------------------------------------- state
  const resources = new Map<string, { json: Proto3Json; message: Record<string, unknown>; collection: Collection }>();
  const authStrings = new Map<string, string>();
  const secretVersions = new Map<string, { version: number; data: Buffer; enabled: boolean }[]>();
  const faults = new Map<string, EmulatorFault>();
  const pendingChanges: { target: string; callsLeft: number; change: () => void }[] = [];
  const calls: EmulatorCall[] = [];

  const convert = (json: Proto3Json) => {
    const kind = COLLECTIONS.find((entry) => entry.pattern.test(json.name));
    if (!kind) {
      throw new Error(
        `emulator: "${json.name}" is not the name of a Cloud Run service or revision, VPC connector or Memorystore instance (projects/P/locations/R/{services,connectors,instances}/NAME)`,
      );
    }
    const type = typeOf(kind.proto, kind.type);
    validateProto3Json(type, json, json.name);
    const message = serializer.fromProto3JSON(type as never, json as never);
    return { collection: kind.collection, message: type.toObject(message, { longs: String, enums: String }) };
  };

  const state: GcpEmulatorState = {
    put(resource) {
      const copy = structuredClone(resource);
      const { collection, message } = convert(copy);
      resources.set(copy.name, { json: copy, message, collection });
    },
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
      state.put(copy);
    },
    remove(name) {
      resources.delete(name);
    },
    names(prefix = "") {
      return [...resources.keys()].filter((name) => name.startsWith(prefix)).sort();
    },
    setAuthString(instance, authString) {
      authStrings.set(instance, authString);
    },
    addSecretVersion(secret, value) {
      if (!SECRET.test(secret)) throw new Error(`emulator: "${secret}" is not projects/P/secrets/S`);
      const versions = secretVersions.get(secret) ?? [];
      const version = versions.length + 1;
      versions.push({ version, data: Buffer.isBuffer(value) ? value : Buffer.from(value, "utf8"), enabled: true });
      secretVersions.set(secret, versions);
      return `${secret}/versions/${version}`;
    },
    setSecretVersionEnabled(version, enabled) {
      const match = SECRET_VERSION.exec(version);
      const found = match && secretVersions.get(match[1])?.find((entry) => String(entry.version) === match[2]);
      if (!found) throw new Error(`emulator: no secret version ${version}`);
      found.enabled = enabled;
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
    },
  };
  for (const resource of options.resources ?? []) state.put(resource);
  for (const [secret, value] of Object.entries(options.secrets ?? {})) state.addSecretVersion(secret, value);
  for (const [instance, value] of Object.entries(options.authStrings ?? {})) state.setAuthString(instance, value);

  // ---------------------------------------------------------------- errors
  const hung = new Set<() => void>();
  type Callback = (error: object | null, response?: unknown) => void;

  const errorFor = (code: FaultCode, message: string, info?: { reason: string; domain: string; metadata: Record<string, string> }) => {
    const metadata = new grpc.Metadata();
    if (info) {
      const details = [{ type_url: "type.googleapis.com/google.rpc.ErrorInfo", value: ErrorInfoType.encode(ErrorInfoType.create(info)).finish() }];
      const status = StatusType.encode(StatusType.create({ code: STATUS[code], message, details })).finish();
      metadata.set("grpc-status-details-bin", Buffer.from(status));
    }
    return { code: STATUS[code], details: message, metadata };
  };

  const notFound = (method: string, name: string) => {
    const message =
      method === "AccessSecretVersion"
        ? `Secret [${name.replace(/\/versions\/[^/]+$/, "")}] not found or has no versions.`
        : `Resource '${name}' was not found`;
    return errorFor("NOT_FOUND", message, { reason: "RESOURCE_NOT_FOUND", domain: "googleapis.com", metadata: { resource: name } });
  };

  const injected = (method: string, name: string): ReturnType<typeof errorFor> | "hang" | undefined => {
    const key = [name, method, "*"].find((candidate) => faults.has(candidate));
    const fault = key === undefined ? undefined : faults.get(key)!;
    if (!fault) return undefined;
    if (fault.times !== undefined) {
      if (fault.times <= 1) faults.delete(key!);
      else faults.set(key!, { ...fault, times: fault.times - 1 });
    }
    if ("hang" in fault) return "hang";
    const permission = EMULATED_PERMISSIONS[method] ?? "unknown";
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

  /** Wrap an RPC: log it, apply changes due on this call, check credentials and faults, then answer. */
  const rpc =
    (method: string, field: "name" | "parent", answer: (name: string) => ReturnType<typeof errorFor> | { ok: unknown }) =>
    (call: { request: Record<string, string>; metadata: InstanceType<Grpc["Metadata"]> }, callback: Callback) => {
      const name = String(call.request[field] ?? "");
      const authorization = call.metadata.get("authorization")[0];
      calls.push({ method, name, authorized: authorization !== undefined });
      applyPendingChanges(method, name);
      if (options.requireAuth && !/^Bearer \S+/.test(String(authorization ?? ""))) {
        return callback(injectedAuthError());
      }
      const fault = injected(method, name);
      if (fault === "hang") {
        // Never answered; released (as CANCELLED on the client) when the emulator stops.
        hung.add(() => callback({ code: 1, details: "emulator stopped" }));
        return;
      }
      if (fault) return callback(fault);
      const result = answer(name);
      if ("ok" in result) callback(null, result.ok);
      else callback(result);
    };
  const injectedAuthError = () =>
    errorFor(
      "UNAUTHENTICATED",
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
      { reason: "ACCESS_TOKEN_TYPE_UNSUPPORTED", domain: "googleapis.com", metadata: {} },
    );

  const getter = (method: string, collection: Collection) =>
    rpc(method, "name", (name) => {
      const pattern = COLLECTIONS.find((entry) => entry.collection === collection)!.pattern;
      if (!pattern.test(name)) return errorFor("INVALID_ARGUMENT", `Invalid resource name: '${name}'`);
      const found = resources.get(name);
      return found && found.collection === collection ? { ok: found.message } : notFound(method, name);
    });

  const lister = (method: string, collection: Collection, responseField: string, extra: Record<string, unknown> = {}) =>
    rpc(method, "parent", (parent) => {
      const items = [...resources.values()]
        .filter((entry) => entry.collection === collection && entry.json.name.startsWith(`${parent}/${collection}/`))
        .map((entry) => entry.message);
      return { ok: { [responseField]: items, nextPageToken: "", ...extra } };
    });

  // ---------------------------------------------------------------- services
  const packages = Object.fromEntries(
    Object.entries(runtime.protosJson).map(([key, json]) => [key, grpc.loadPackageDefinition(protoLoader.fromJSON(json, loaderOptions))]),
  );
  const serviceDefinition = (proto: string, path: string) => {
    let node: unknown = packages[proto];
    for (const part of path.split(".")) node = (node as Record<string, unknown>)[part];
    return (node as { service: never }).service;
  };

  const server = new grpc.Server();
  server.addService(serviceDefinition("run", "google.cloud.run.v2.Services"), {
    getService: getter("GetService", "services"),
    listServices: lister("ListServices", "services", "services"),
  });
  server.addService(serviceDefinition("run", "google.cloud.run.v2.Revisions"), {
    getRevision: getter("GetRevision", "revisions"),
    listRevisions: rpc("ListRevisions", "parent", (parent) => ({
      ok: {
        revisions: [...resources.values()].filter((entry) => entry.collection === "revisions" && entry.json.name.startsWith(`${parent}/revisions/`)).map((entry) => entry.message),
        nextPageToken: "",
      },
    })),
  });
  server.addService(serviceDefinition("vpcAccess", "google.cloud.vpcaccess.v1.VpcAccessService"), {
    getConnector: getter("GetConnector", "connectors"),
    listConnectors: lister("ListConnectors", "connectors", "connectors"),
  });
  server.addService(serviceDefinition("redis", "google.cloud.redis.v1.CloudRedis"), {
    getInstance: getter("GetInstance", "instances"),
    listInstances: lister("ListInstances", "instances", "instances", { unreachable: [] }),
    getInstanceAuthString: rpc("GetInstanceAuthString", "name", (name) => {
      const found = resources.get(name);
      if (!found || found.collection !== "instances") return notFound("GetInstanceAuthString", name);
      return { ok: { authString: found.message.authEnabled ? (authStrings.get(name) ?? "") : "" } };
    }),
  });
  server.addService(serviceDefinition("secretManager", "google.cloud.secretmanager.v1.SecretManagerService"), {
    accessSecretVersion: rpc("AccessSecretVersion", "name", (name) => {
      const match = SECRET_VERSION.exec(name);
      if (!match) return errorFor("INVALID_ARGUMENT", `Invalid resource field value in the request: '${name}' is not a secret version name`);
      const versions = secretVersions.get(match[1]) ?? [];
      const wanted =
        match[2] === "latest"
          ? versions.filter((entry) => entry.enabled).at(-1)
          : versions.find((entry) => String(entry.version) === match[2]);
      if (!wanted) return notFound("AccessSecretVersion", name);
      if (!wanted.enabled) return errorFor("FAILED_PRECONDITION", `Secret Version [${name}] is in DISABLED state.`);
      return { ok: { name: `${match[1]}/versions/${wanted.version}`, payload: { data: wanted.data } } };
    }),
  });

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

const NUMERIC = /^-?\d+$/;
const INTEGER_TYPES = new Set(["int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"]);

/**
 * proto3-json-serializer drops unknown fields and turns bad values into
 * defaults without a word; a fixture typo must fail loudly instead.
 */
function validateProto3Json(type: ProtoType, json: unknown, path: string): void {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new Error(`emulator fixture ${path}: expected an object`);
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key];
    if (!field) throw new Error(`emulator fixture ${path}: unknown field "${key}" for ${type.fullName.replace(/^\./, "")} (fields: ${Object.keys(type.fields).join(", ")})`);
    if (value === null) continue;
    field.resolve();
    const at = `${path}.${key}`;
    if (field.map) {
      if (typeof value !== "object" || Array.isArray(value)) throw new Error(`emulator fixture ${at}: expected a map`);
      for (const [entryKey, entry] of Object.entries(value)) validateValue(field, entry, `${at}.${entryKey}`);
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new Error(`emulator fixture ${at}: expected a list`);
      value.forEach((entry, index) => validateValue(field, entry, `${at}.${index}`));
    } else {
      validateValue(field, value, at);
    }
  }
}

function validateValue(field: ProtoField, value: unknown, path: string): void {
  const resolved = field.resolvedType;
  if (resolved && "values" in resolved && resolved.values) {
    if (typeof value !== "string" || !(value in resolved.values)) {
      throw new Error(`emulator fixture ${path}: ${JSON.stringify(value)} is not one of ${Object.keys(resolved.values).join(", ")}`);
    }
    return;
  }
  if (resolved) {
    const name = (resolved as ProtoType).fullName.replace(/^\./, "");
    if (name === "google.protobuf.Timestamp") {
      if (typeof value !== "string" || Number.isNaN(Date.parse(value))) throw new Error(`emulator fixture ${path}: expected an RFC 3339 timestamp`);
      return;
    }
    if (name === "google.protobuf.Duration") {
      if (typeof value !== "string" || !/^-?\d+(\.\d+)?s$/.test(value)) throw new Error(`emulator fixture ${path}: expected a duration like "300s"`);
      return;
    }
    validateProto3Json(resolved as ProtoType, value, path);
    return;
  }
  const ok =
    field.type === "string" ? typeof value === "string"
    : field.type === "bool" ? typeof value === "boolean"
    : INTEGER_TYPES.has(field.type) ? (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && NUMERIC.test(value))
    : field.type === "double" || field.type === "float" ? typeof value === "number"
    : field.type === "bytes" ? typeof value === "string"
    : true;
  if (!ok) throw new Error(`emulator fixture ${path}: ${JSON.stringify(value)} is not a valid ${field.type}`);
}
