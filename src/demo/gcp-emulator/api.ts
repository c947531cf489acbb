// What one emulated Google API contributes to the emulator: the protos.json
// its client package ships, the resource collections `state.put` accepts, the
// IAM permission of each RPC (the emulator's own table, not the product's),
// its gRPC handlers and any state of its own (secret versions, AUTH strings…)
// exposed to tests as controls. The core (index.ts) owns what every API
// shares: storage, faults, call log, credentials, NOT_FOUND wording.
import type { Grpc } from "../../gcp/session.js";

/** A resource in proto3 JSON form (camelCase fields, enums and int64 as strings, timestamps as RFC 3339). */
export type Proto3Json = { name: string } & Record<string, unknown>;

export type FaultCode =
  | "NOT_FOUND"
  | "PERMISSION_DENIED"
  | "UNAUTHENTICATED"
  | "UNAVAILABLE"
  | "INVALID_ARGUMENT"
  | "RESOURCE_EXHAUSTED"
  | "INTERNAL"
  | "FAILED_PRECONDITION";

export interface ErrorInfo {
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

/** A gRPC error as grpc-js servers return it (status, message, and google.rpc.Status details). */
export interface RpcError {
  code: number;
  details: string;
  metadata: InstanceType<Grpc["Metadata"]>;
}
export type RpcAnswer = RpcError | { ok: unknown };

export interface UnaryCall {
  request: Record<string, unknown>;
  metadata: InstanceType<Grpc["Metadata"]>;
}
export type UnaryHandler = (call: UnaryCall, callback: (error: object | null, response?: unknown) => void) => void;

export interface ResourceCollection {
  collection: string;
  /** The full resource name pattern (projects/P/locations/R/<collection>/NAME). */
  pattern: RegExp;
  /** Fully qualified proto message type. */
  type: string;
  /** Key of the API's protos (EmulatedApi.protos). */
  proto: string;
  /** What one is called in messages ("Cloud Run service"). */
  noun: string;
}

/** What the core lends an API to build its handlers. */
export interface EmulatorTools {
  grpc: Grpc;
  /** A stored resource in message form (what a Get returns), when it exists in that collection. */
  resource(name: string, collection: string): Record<string, unknown> | undefined;
  /** Stored resources of a collection directly under `parent`, in the order they were first stored (creation order, as List RPCs return them). */
  children(collection: string, parent: string): Record<string, unknown>[];
  /** Store (or replace) a resource, as `state.put` does — for RPCs that create or change resources. */
  put(resource: Proto3Json): void;
  /** Proto3 JSON of a stored resource. */
  json(name: string): Proto3Json | undefined;
  /**
   * Wrap an answer into a gRPC handler: the call is logged, changes due on it
   * applied, credentials and injected faults checked, then `answer` runs
   * (it may be async). `field` is the request field that names the resource,
   * or a function of the request for APIs that name it by several fields
   * (Cloud SQL: project + instance).
   */
  rpc(method: string, field: string | ((request: Record<string, unknown>) => string), answer: (name: string, request: Record<string, unknown>) => RpcAnswer | Promise<RpcAnswer>): UnaryHandler;
  /** Get: INVALID_ARGUMENT for a malformed name, NOT_FOUND for a missing one. */
  getter(method: string, collection: string): UnaryHandler;
  /** List: the resources of the collection under `parent` in creation order, paged (pageSize, pageToken, nextPageToken) as the real APIs page. */
  lister(method: string, collection: string, responseField: string, extra?: Record<string, unknown>): UnaryHandler;
  errorFor(code: FaultCode, message: string, info?: ErrorInfo): RpcError;
  /** NOT_FOUND in the wording of the API that owns the method. */
  notFound(method: string, name: string): RpcError;
  /** The project number of a project id (the emulator's own, stable per id; `options.projectNumbers` wins). */
  projectNumber(project: string): string;
  /** A name with its project number (projects/123…/…) turned into the project id form the store keys by. */
  canonical(name: string): string;
  /** A name in the project-number form, as some fields of real responses carry it. */
  numbered(name: string): string;
  /**
   * One object per emulator shared by the APIs that need the same state (a
   * job's execution writes the log entries Logging serves): created by the
   * first caller of `key`, the same object for every later one.
   */
  shared<T>(key: string, create: () => T): T;
  /** Where the emulator listens (known once it started): for APIs that hand its address on (a job's network bridge). */
  endpoint(): { host: string; port: number };
  /** A message (request/response object form) encoded as `type` of the API's protos: an Any's value. */
  encode(proto: string, type: string, message: Record<string, unknown>): Uint8Array;
  /** A message (as a request carries it) in proto3 JSON form: what `put` stores. */
  toJson(proto: string, type: string, message: Record<string, unknown>): Record<string, unknown>;
  /** Called on every `put` (fixtures, patches, creating RPCs) with the resource and whether it replaced one. */
  onPut(listener: (resource: Proto3Json, previous: Proto3Json | undefined) => void): void;
}

/** A REST (HTTP/1.1 JSON) route, for the APIs or API versions that have no gRPC surface (Cloud Run Admin API v1). */
export interface RestRoute {
  /** The RPC name in the call log, fault targets and permission table ("v1.GetRevision"). */
  method: string;
  /** Matched against the request path (without the query). */
  path: RegExp;
  /** The resource name the route asks for, from the path's match (for the log, faults and IAM messages). */
  resource(match: RegExpExecArray): string;
  /** The JSON body of a 200 answer, or an RpcError (sent as Google's JSON error envelope). */
  answer(match: RegExpExecArray): { ok: unknown } | RpcError;
}

export interface ServiceHandlers {
  /** Key of the API's protos the service is defined in. */
  proto: string;
  /** Fully qualified service name (google.cloud.run.v2.Services). */
  service: string;
  /** Handlers by lower-camel method name (getService). */
  handlers: Record<string, UnaryHandler>;
}

export interface StartedApi<Controls extends object> {
  services: ServiceHandlers[];
  /** REST routes served on the same port (the core tells HTTP/1.1 from gRPC's HTTP/2 by the first bytes). */
  rest?: RestRoute[];
  /** Methods merged into the emulator's `state` for tests and the demo. */
  controls: Controls;
  /** Part of `state.clearFaults()`: drop the API's own injected faults. */
  clearFaults?(): void;
  /** When the emulator stops: end what the API started (processes of emulated job executions). */
  stop?(): void;
}

export interface EmulatedApi<Controls extends object = object, Options extends object = object> {
  /** Key → module path of a protos.json inside a client package. */
  protos: Record<string, string>;
  collections?: ResourceCollection[];
  /** IAM permission each RPC needs, as Google documents it (the emulator's own table, not the product's). */
  permissions: Record<string, string>;
  /** The service's name (run.googleapis.com): the ErrorInfo domain of its IAM denials and the service of SERVICE_DISABLED. */
  domain: string;
  /** The API's own NOT_FOUND message for a method, when it words it differently from "Resource 'X' was not found". */
  notFoundMessage?(method: string, name: string): string | undefined;
  start(tools: EmulatorTools, options: Options): StartedApi<Controls>;
}

export function defineEmulatedApi<Controls extends object, Options extends object = object>(
  api: EmulatedApi<Controls, Options>,
): EmulatedApi<Controls, Options> {
  return api;
}
