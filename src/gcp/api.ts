// How a Google kind declares the API it calls: the client class (loaded
// lazily), and for each RPC the IAM permission it needs, the predefined role
// that grants it, and what a NOT_FOUND means there. src/gcp/session.ts calls
// RPCs through these declarations; src/gcp/diagnose.ts words failures from
// them; docs list them (test/docs/google-cloud.test.ts). Generic code here
// never names a Google API of its own: each kind's folder declares its own.
export interface GapicClient {
  /** Creates the gRPC stub (proto loading); otherwise done lazily by the first call. */
  initialize(): Promise<unknown>;
  close(): Promise<void>;
}
export type ClientConstructor = new (options: Record<string, unknown>) => GapicClient;

/** A resource name's parts, for hints: projects/P/locations/R/<collection>/NAME. */
export interface ResourceParts {
  resource: string;
  project: string;
  region: string;
  name: string;
}

export interface RpcDeclaration {
  /** The IAM permission the call needs (named in permission failures when the error carries none). */
  permission: string;
  /** The predefined role to grant for it (what an operator types in `gcloud … add-iam-policy-binding`). */
  role: string;
  /** What to do when the resource is not found (the command that lists what exists). */
  notFound?: (parts: ResourceParts) => string;
  /** A permission hint more specific than "grant ROLE on the project" (a role on the resource itself, a custom role). */
  permissionHint?: (parts: ResourceParts) => string;
  /**
   * The List RPC over the same collection (e.g. ListServices for GetService): when a Get is denied
   * "… (or it may not exist)", one page of it — if the identity may list — tells a wrong name from a
   * missing role. Its permission is usually in the same viewer role.
   */
  list?: { method: string; responseField?: string };
  /** What FAILED_PRECONDITION means for this RPC (a disabled secret version, an instance being created), when the generic hint says too little. */
  failedPrecondition?: (parts: ResourceParts) => string;
}

export interface GoogleApi {
  /** Unique key of the client (e.g. "run.services"). */
  id: string;
  /** Human name for messages ("Cloud Run"). */
  label: string;
  /** Default host (for messages; the library knows it too). */
  host: string;
  /** The GAPIC client class; absent for an API read over REST only (GcpSession.getJson). */
  load?(): Promise<ClientConstructor>;
  rpcs: Readonly<Record<string, RpcDeclaration>>;
}

export function defineGoogleApi<const T extends GoogleApi>(api: T): T {
  return api;
}

/** `projects/p/locations/r/services/s` → its parts (placeholders for what is missing). */
export function resourceParts(resource: string): ResourceParts {
  return {
    resource,
    project: /^projects\/([^/]+)/.exec(resource)?.[1] ?? "PROJECT",
    region: /\/locations\/([^/]+)/.exec(resource)?.[1] ?? "REGION",
    name: resource.split("/").pop() ?? resource,
  };
}

/** gRPC status names by code (google.rpc.Code). */
export const STATUS_NAMES_BY_CODE = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;
