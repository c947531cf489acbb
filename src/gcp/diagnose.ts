// How Google Cloud API failures read. An error is theirs when it carries a
// numeric gRPC status and the session recorded the call it came from
// (ProbeContext.facts.gcpCalls): the API, RPC, resource and endpoint of the
// call, and the RPC's declaration (permission, role, what NOT_FOUND means),
// so messages name what was asked of whom, and hints name the role to grant
// or the command to run.
import { defineCatalogue, diagnosisOf } from "../diagnose/catalogue.js";
import { DNS } from "../diagnose/codes.js";
import type { ClassifyContext, ErrorRule } from "../diagnose/classify.js";
import type { ClassifiedError } from "../diagnose/vocabulary.js";
import { formatMs } from "../util/duration.js";
import { resourceParts, STATUS_NAMES_BY_CODE, type RpcDeclaration } from "./api.js";

/** What the session records about a call whose error reaches the classifier. */
export interface GcpCallInfo {
  /** "Cloud Run", "Secret Manager", … */
  api: string;
  /** RPC name, e.g. GetService. */
  method: string;
  /** The resource asked for. */
  resource: string;
  /** host:port the client talked to. */
  endpoint: string;
  /** emulator (plaintext, no credentials), endpoint (gcp.apiEndpoint), default (googleapis.com). */
  mode: "emulator" | "endpoint" | "default";
  rpc: RpcDeclaration;
  /** The server's error text (gRPC status details). */
  details?: string;
  /** The quota (billing) project the credentials send (x-goog-user-project), when they name one. */
  quotaProject?: string;
  /** After an "(or it may not exist)" denial: whether a List of the parent showed the resource (undefined: could not tell). */
  listed?: { exists: boolean; parent: string; method: string };
}

/** The facts key under which a session keeps the call of each failed RPC. */
export const GCP_CALLS = "gcpCalls";

export function callOf(error: unknown, facts: Record<string, unknown> | undefined): GcpCallInfo | undefined {
  const calls = facts?.[GCP_CALLS];
  return calls instanceof WeakMap && error !== null && typeof error === "object" ? (calls.get(error) as GcpCallInfo | undefined) : undefined;
}

interface CallFacts {
  /** "Cloud Run GetService projects/p/locations/r/services/s" */
  what: string;
  endpoint: string;
  details: string;
  status: string;
  mode: GcpCallInfo["mode"] | undefined;
  call?: GcpCallInfo;
  budget?: string;
  meta?: Record<string, string>;
  reason?: string;
  permission?: string;
  errno?: string;
  /** The call reached a peer (grpc-js names it: remote_addr=…). */
  connected?: boolean;
  /** The API's denial says the resource may not exist ("… (or it may not exist)"): IAM answers so for both. */
  mayNotExist?: boolean;
}

const emulatorOr = (f: { mode?: string }, emulator: string, real: string) => (f.mode === "emulator" ? emulator : real);
const orStatus = (f: CallFacts) => f.details || f.status;

export const GRPC = defineCatalogue("grpc", {
  NOT_FOUND: {
    class: "not-found",
    code: "NOT_FOUND",
    message: (f: CallFacts) => `${f.what}: not found (${orStatus(f)})`,
    hint: (f: CallFacts) => (f.call?.rpc.notFound ? f.call.rpc.notFound(resourceParts(f.call.resource)) : "Check the resource name, project and region."),
  },
  PERMISSION_DENIED: {
    class: "permission",
    code: "PERMISSION_DENIED",
    message: (f: CallFacts) => `${f.what}: permission denied${f.permission ? ` (needs ${f.permission})` : ""}${f.reason ? ` [${f.reason}]` : ""}: ${orStatus(f)}`,
    hint: (f: CallFacts) => permissionHint(f),
  },
  DENIED_MISSING: {
    class: "not-found",
    code: "NOT_FOUND",
    message: (f: CallFacts & { parent: string; method: string }) =>
      `${f.what}: denied "(or it may not exist)", and it does not: ${f.method} ${f.parent} lists no such resource (${orStatus(f)})`,
    hint: (f: CallFacts) =>
      f.call?.rpc.notFound ? f.call.rpc.notFound(resourceParts(f.call.resource)) : "Check the resource name, project and region: the resource is not there.",
  },
  UNAUTHENTICATED: {
    class: "auth",
    code: "UNAUTHENTICATED",
    message: (f: CallFacts) => `${f.what}: the API rejected the credentials (UNAUTHENTICATED: ${f.details || "no valid credentials"})`,
    hint: (f: CallFacts) =>
      emulatorOr(
        f,
        `The emulator at ${f.endpoint} requires credentials: infra-check sends none in emulator mode (check that this is an emulator and not a real endpoint).`,
        "Refresh Application Default Credentials (gcloud auth application-default login) or check the service-account key in GOOGLE_APPLICATION_CREDENTIALS; expired or revoked credentials read as UNAUTHENTICATED.",
      ),
  },
  NO_TOKEN: {
    class: "auth",
    code: "UNAVAILABLE",
    message: (f: CallFacts) => `${f.what}: could not get an access token from the credentials (${f.details})`,
    hint: "The Application Default Credentials could not produce a token (expired login, revoked key, no network to oauth2.googleapis.com): run `gcloud auth application-default login` again or check GOOGLE_APPLICATION_CREDENTIALS.",
  },
  REFUSED: {
    class: "refused",
    code: "ECONNREFUSED",
    message: (f: CallFacts) => `${f.what}: connection refused by ${f.endpoint} — nothing listens there`,
    hint: (f: CallFacts) =>
      emulatorOr(f, `Start the emulator at ${f.endpoint}, or fix gcp.emulatorHost / INFRA_CHECK_GCP_EMULATOR_HOST.`, "Check gcp.apiEndpoint (host and port) and any proxy between this runner and Google APIs."),
  },
  DNS: {
    class: "dns",
    code: (f: CallFacts) => f.errno ?? "DNS",
    message: (f: CallFacts) => `${f.what}: the API host of ${f.endpoint} does not resolve${f.errno === "EAI_AGAIN" ? " (temporary resolver failure)" : ""}`,
    hint: "Check the resolver of this runner and gcp.apiEndpoint / gcp.emulatorHost; Google API names need outbound DNS.",
  },
  NO_ROUTE: {
    class: "unreachable",
    code: (f: CallFacts) => f.errno,
    message: (f: CallFacts) => `${f.what}: no network path to ${f.endpoint} (${f.errno})`,
    hint: "Check routes, firewall rules and proxies between this runner and Google APIs (Private Google Access inside a VPC).",
  },
  NO_CONNECTION: {
    class: "unreachable",
    code: (f: CallFacts) => f.errno ?? "UNAVAILABLE",
    message: (f: CallFacts) => `${f.what}: could not establish a gRPC connection to ${f.endpoint} (${f.details})`,
    hint: "The endpoint closed the connection during the handshake: a proxy, a TLS/plaintext mismatch (emulators speak plaintext), or a firewall.",
  },
  UNAVAILABLE: {
    class: "server-error",
    code: "UNAVAILABLE",
    message: (f: CallFacts) => `${f.what}: ${f.endpoint} is temporarily unavailable, also after one retry (${f.details || "UNAVAILABLE"})`,
    hint: "The API itself reported it is unavailable: retry shortly; if it persists, check https://status.cloud.google.com.",
  },
  CONNECT_TIMEOUT: {
    class: "unreachable",
    code: "CONNECT_TIMEOUT",
    message: (f: CallFacts) =>
      `${f.what}: no gRPC connection to ${f.endpoint} within the check's ${f.budget} budget (nothing refused, nothing answered: packets dropped, or the endpoint does not speak gRPC/HTTP2)`,
    hint: (f: CallFacts) =>
      emulatorOr(
        f,
        `Is the emulator at ${f.endpoint} running and speaking plaintext gRPC? A TLS or HTTP/1 server on that port also never completes the handshake.`,
        "Check egress to Google APIs from this runner (firewall, proxy: HTTPS_PROXY, Private Google Access), and gcp.apiEndpoint if set.",
      ),
  },
  DEADLINE_EXCEEDED: {
    class: "timeout",
    code: "DEADLINE_EXCEEDED",
    message: (f: CallFacts) =>
      `${f.what}: ${f.connected ? `connected to ${f.endpoint} but no answer` : `no answer from ${f.endpoint}`} within the check's ${f.budget} budget (${orStatus(f)})`,
    hint: "The API accepted the call but did not answer in time: raise this check's timeout, or retry — Google APIs occasionally stall for seconds.",
  },
  CANCELLED: {
    class: "timeout",
    code: "CANCELLED",
    message: (f: CallFacts) => `${f.what}: the call was cancelled before ${f.endpoint} answered (the check's budget ran out)`,
    hint: "Raise this check's timeout or the run's deadline.",
  },
  INVALID_ARGUMENT: {
    class: "config",
    code: (f: CallFacts) => f.status,
    message: (f: CallFacts) => `${f.what}: the API rejected the request as invalid (${orStatus(f)})`,
    hint: "Check the resource name in the config (project, region and name; no typos or stray characters).",
  },
  UNIMPLEMENTED: {
    class: "protocol",
    code: "UNIMPLEMENTED",
    message: (f: CallFacts) => `${f.what}: ${f.endpoint} does not implement this RPC (${orStatus(f)})`,
    hint: "The endpoint is not the Google API (or an emulator without this API): check gcp.emulatorHost / gcp.apiEndpoint.",
  },
  RESOURCE_EXHAUSTED: {
    class: "server-error",
    code: "RESOURCE_EXHAUSTED",
    message: (f: CallFacts) => `${f.what}: quota or rate limit exceeded (${orStatus(f)})`,
    hint: "Too many API calls for this project's quota: run less often, or raise the quota in the Cloud console (IAM & Admin → Quotas).",
  },
  FAILED_PRECONDITION: {
    class: "unhealthy",
    code: "FAILED_PRECONDITION",
    message: (f: CallFacts) => `${f.what}: the resource is not in a state that allows this (${orStatus(f)})`,
    hint: (f: CallFacts) =>
      f.call?.rpc.failedPrecondition
        ? f.call.rpc.failedPrecondition(resourceParts(f.call.resource))
        : "The resource exists but is not usable right now (disabled secret version, instance being created or deleted): inspect it with gcloud.",
  },
  OTHER: {
    class: "server-error",
    code: (f: CallFacts) => f.status,
    message: (f: CallFacts) => `${f.what}: ${f.endpoint} reported ${f.status} (${f.details || "no details"})`,
    hint: "The Google API reported its own failure: retry; if it persists, check https://status.cloud.google.com.",
  },
});

/** The project gcloud's own OAuth client bills when user credentials name no quota project. */
export const GCLOUD_SHARED_PROJECT = "764086051850";

interface QuotaFacts {
  what: string;
  service: string;
  serviceName?: string;
  consumer: string;
  /** The quota project in effect (from the credentials or $GOOGLE_CLOUD_QUOTA_PROJECT), when known. */
  quotaProject?: string;
  /** The project of the resource asked for. */
  project?: string;
  details: string;
}

const quotaFix = (f: { project?: string }) =>
  `set a quota project this identity may use and where the API is enabled — usually the resource's own: gcloud auth application-default set-quota-project ${f.project ?? "PROJECT"} (or GOOGLE_CLOUD_QUOTA_PROJECT=${f.project ?? "PROJECT"}); service accounts need none`;

export const GCP = defineCatalogue("gcp", {
  SERVICE_DISABLED: {
    class: "permission",
    code: "SERVICE_DISABLED",
    message: (f: QuotaFacts) => `${f.what}: ${f.service} is not enabled for ${f.consumer}`,
    hint: (f: QuotaFacts) =>
      `Enable it: gcloud services enable ${f.serviceName ?? "SERVICE.googleapis.com"} --project ${f.consumer.replace(/^projects\//, "")} (it can take a minute to propagate)` +
      (f.project && f.consumer.replace(/^projects\//, "") !== f.project
        ? `. If ${f.consumer.replace(/^projects\//, "")} is not project ${f.project} (messages name projects by number), it is your credentials' quota project: ${quotaFix(f)}.`
        : "."),
  },
  QUOTA_PROJECT: {
    class: "permission",
    code: (f: { reason: string }) => f.reason,
    message: (f: QuotaFacts & { reason: string }) =>
      `${f.what}: the call is billed to quota project ${f.consumer.replace(/^projects\//, "")}${f.consumer.endsWith(GCLOUD_SHARED_PROJECT) ? " (gcloud's shared project: your user credentials name no quota project)" : ""}, which ${f.reason === "USER_PROJECT_DENIED" ? "this identity may not use (serviceusage.services.use)" : `does not have ${f.service} enabled`}: ${f.details}`,
    hint: (f: QuotaFacts) => `The resource's project is not the problem: ${quotaFix(f)}. Effective quota project now: ${f.quotaProject ?? "none set"}.`,
  },
  VPC_SERVICE_CONTROLS: {
    class: "permission",
    code: "SECURITY_POLICY_VIOLATED",
    message: (f: { what: string; violation?: string }) =>
      `${f.what}: this runner is outside the VPC Service Controls perimeter around the project (request prohibited by the organization's policy${f.violation ? `; violation id ${f.violation}` : ""})`,
    hint: (f: { violation?: string }) =>
      `No IAM role fixes this: add an ingress rule to the perimeter for this identity and network (Security → VPC Service Controls${f.violation ? `; look the violation up with its id ${f.violation} in the audit logs` : ""}), or run the checks inside the perimeter (a runner there: \`runner: NAME\` or --runner NAME, see docs/runners.md).`,
  },
  NO_ADC: {
    class: "auth",
    code: "NO_ADC",
    message: (f: { reason: string }) => `no usable Google Application Default Credentials: ${f.reason}`,
    hint:
      "Run `gcloud auth application-default login` (workstation), or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file " +
      "(CI); on Cloud Run, GCE or GKE the attached service account is used. To use a local emulator instead, set gcp.emulatorHost or INFRA_CHECK_GCP_EMULATOR_HOST.",
  },
  NO_TOKEN: {
    class: "auth",
    code: "NO_TOKEN",
    message: (f: { reason: string }) => `the Application Default Credentials could not produce an access token: ${f.reason}`,
    hint:
      "The credentials were found but the token exchange failed (expired gcloud login, revoked or deleted key, a Workload Identity Federation pool/provider that rejects this runner's OIDC token, no network path to oauth2/sts.googleapis.com): " +
      "run `gcloud auth application-default login` again, check GOOGLE_APPLICATION_CREDENTIALS, or the workload identity provider's attribute condition.",
  },
  BAD_HOST_PORT: {
    class: "config",
    message: (f: { what: string; value: string }) => `${f.what} "${f.value}" is not host:port`,
    hint: (f: { what: string }) => `Write ${f.what} as host:port, e.g. 127.0.0.1:8085.`,
  },
  NOT_A_RESOURCE_NAME: {
    class: "config",
    message: (f: { id: string; noun: string; collection: string }) => `"${f.id}" is not a ${f.noun} name (projects/PROJECT/locations/REGION/${f.collection}/NAME)`,
    hint: "Give the short name with gcp.project and gcp.region set, or the full resource name.",
  },
  NEITHER_NAME: {
    class: "config",
    message: (f: { id: string; noun: string }) => `"${f.id}" is neither a ${f.noun} name nor a full resource name`,
    hint: (f: { collection: string }) => `Use the short name (e.g. "my-${f.collection.slice(0, -1)}") or projects/PROJECT/locations/REGION/${f.collection}/NAME.`,
  },
  NO_PROJECT_OR_REGION: {
    class: "config",
    message: (f: { id: string; noun: string; missing: string[] }) => `no Google Cloud ${f.missing.join(" or ")} for ${f.noun} "${f.id}"`,
    hint: (f: { missing: string[] }) =>
      `Set ${f.missing.map((key) => `gcp.${key}`).join(" and ")} at the top of the config (or ${f.missing.join("/")} on the check), or give the full resource name.`,
  },
  CLIENT_ABANDONED: {
    class: "timeout",
    code: "CLIENT_ABANDONED",
    message: (f: { api: string; when: string }) => `the check's budget ended ${f.when} the ${f.api} client was ready`,
    hint: "Loading and constructing a Google client takes 150–300 ms on a cold start: raise this check's timeout.",
  },
});

const STATUS_NAMES = STATUS_NAMES_BY_CODE;

interface GoogleErrorLike {
  code: number;
  details?: string;
  message?: string;
  reason?: string;
  domain?: string;
  errorInfoMetadata?: Record<string, string>;
  metadata?: unknown;
}

function isGrpcError(error: unknown, call: GcpCallInfo | undefined): error is GoogleErrorLike {
  if (error === null || typeof error !== "object") return false;
  const err = error as Partial<GoogleErrorLike> & { name?: string };
  if (typeof err.code !== "number" || !Number.isInteger(err.code) || err.code < 1 || err.code > 16) return false;
  return call !== undefined || "metadata" in err || "details" in err || err.name === "GoogleError" || err.constructor?.name === "GoogleError";
}

function permissionHint(f: CallFacts): string {
  const base = grantHint(f);
  if (!f.mayNotExist) return base;
  const parts = f.call ? resourceParts(f.call.resource) : undefined;
  return `Google answers a missing resource the same way to an identity that may not see it: the name, project (${parts?.project ?? "PROJECT"}) or region (${parts?.region ?? "REGION"}) may be wrong — check them first. If they are right: ${base.charAt(0).toLowerCase()}${base.slice(1)}`;
}

function grantHint(f: CallFacts): string {
  const permission = f.permission;
  if (!permission) return "The identity is known but lacks a role on this resource: grant it, or run as an identity that has it.";
  const call = f.call;
  const parts = call ? resourceParts(call.resource) : undefined;
  if (call && parts && permission === call.rpc.permission && call.rpc.permissionHint) return call.rpc.permissionHint(parts);
  const role = call && permission === call.rpc.permission ? call.rpc.role : `a role that includes ${permission}`;
  const project = parts && parts.project !== "PROJECT" ? parts.project : undefined;
  return `The identity infra-check runs as needs ${permission}: grant ${role}${project ? ` on project ${project}` : ""} (gcloud projects add-iam-policy-binding ${project ?? "PROJECT"} --member=IDENTITY --role=${role}), or run as an identity that has it.`;
}

export const grpcRule: ErrorRule = (error: unknown, ctx: ClassifyContext): ClassifiedError | undefined => {
  const call = callOf(error, ctx.facts);
  if (!isGrpcError(error, call)) return undefined;
  const status = STATUS_NAMES[error.code];
  const details = String(call?.details || error.details || stripStatusPrefix(error.message ?? "")).trim();
  const facts: CallFacts = {
    what: call ? `${call.api} ${call.method} ${call.resource}` : "Google Cloud API call",
    endpoint: call?.endpoint ?? ctx.endpoint ?? "the Google API endpoint",
    details,
    status,
    mode: call?.mode,
    call,
    budget: formatMs(ctx.budgetMs),
  };

  switch (status) {
    case "NOT_FOUND":
      return diagnosisOf(GRPC.NOT_FOUND, facts);
    case "PERMISSION_DENIED": {
      const meta = error.errorInfoMetadata ?? {};
      const project = call ? resourceParts(call.resource).project : undefined;
      const quota = { what: facts.what, service: meta.serviceTitle ?? meta.service ?? call?.api ?? "the API", serviceName: meta.service, quotaProject: call?.quotaProject, project, details };
      // VPC Service Controls: the perimeter, not IAM, refused (the same status, another fix).
      if (error.reason === "SECURITY_POLICY_VIOLATED" || /vpcServiceControlsUniqueIdentifier|VPC Service Controls/i.test(details)) {
        const violation = meta.uid ?? meta.vpcServiceControlsUniqueIdentifier ?? /vpcServiceControlsUniqueIdentifier:\s*([\w-]+)/.exec(details)?.[1];
        return diagnosisOf(GCP.VPC_SERVICE_CONTROLS, { what: facts.what, violation });
      }
      // The quota project (x-goog-user-project) is refused: the credentials' billing, not the resource.
      if (error.reason === "USER_PROJECT_DENIED") {
        return diagnosisOf(GCP.QUOTA_PROJECT, { ...quota, reason: "USER_PROJECT_DENIED", consumer: meta.consumer ?? (call?.quotaProject ? `projects/${call.quotaProject}` : "the quota project") });
      }
      if (error.reason === "SERVICE_DISABLED" || /has not been used in project|is disabled/i.test(details)) {
        const consumer = meta.consumer ?? (/in project (\d+|[a-z][\w-]*)/.exec(details)?.[1] ? `projects/${/in project (\d+|[a-z][\w-]*)/.exec(details)![1]}` : project ? `projects/${project}` : "the project");
        const consumerProject = consumer.replace(/^projects\//, "");
        if (consumerProject === GCLOUD_SHARED_PROJECT || (call?.quotaProject !== undefined && consumerProject === call.quotaProject && consumerProject !== project)) {
          return diagnosisOf(GCP.QUOTA_PROJECT, { ...quota, reason: "SERVICE_DISABLED", consumer });
        }
        return diagnosisOf(GCP.SERVICE_DISABLED, { ...quota, consumer });
      }
      const permission = meta.permission ?? /Permission '([^']+)'/.exec(details)?.[1] ?? call?.rpc.permission;
      // A List of the parent said which it is: no such resource (a wrong name, project or region), or a missing role.
      if (call?.listed && !call.listed.exists) return diagnosisOf(GRPC.DENIED_MISSING, { ...facts, permission, parent: call.listed.parent, method: call.listed.method });
      if (call?.listed?.exists) return diagnosisOf(GRPC.PERMISSION_DENIED, { ...facts, permission, reason: error.reason, mayNotExist: false });
      return diagnosisOf(GRPC.PERMISSION_DENIED, { ...facts, permission, reason: error.reason, mayNotExist: /or it may not exist|does not exist or you (may|do) not/i.test(details) });
    }
    case "UNAUTHENTICATED":
      return diagnosisOf(GRPC.UNAUTHENTICATED, facts);
    case "UNAVAILABLE":
      return unavailable(facts);
    case "DEADLINE_EXCEEDED":
      // grpc-js names the peer (remote_addr=…) once the call was sent; "Waiting for LB pick" means no connection was ever ready.
      if (!/remote_addr=/.test(details)) {
        // The endpoint's name never resolved: DNS, not the network path or the API.
        if (/waiting for name resolution/i.test(details)) return diagnosisOf(DNS.TIMEOUT, { endpoint: facts.endpoint, budgetMs: ctx.budgetMs, service: call?.api });
        if (/Waiting for LB pick|waiting for connection|connecting|LB pick/i.test(details)) return diagnosisOf(GRPC.CONNECT_TIMEOUT, facts);
      }
      return diagnosisOf(GRPC.DEADLINE_EXCEEDED, { ...facts, connected: /remote_addr=/.test(details) });
    case "CANCELLED":
      return diagnosisOf(GRPC.CANCELLED, facts);
    case "INVALID_ARGUMENT":
    case "OUT_OF_RANGE":
      return diagnosisOf(GRPC.INVALID_ARGUMENT, facts);
    case "UNIMPLEMENTED":
      return diagnosisOf(GRPC.UNIMPLEMENTED, facts);
    case "RESOURCE_EXHAUSTED":
      return diagnosisOf(GRPC.RESOURCE_EXHAUSTED, facts);
    case "FAILED_PRECONDITION":
      return diagnosisOf(GRPC.FAILED_PRECONDITION, facts);
    default:
      return diagnosisOf(GRPC.OTHER, facts);
  }
};

function unavailable(facts: CallFacts): ClassifiedError {
  const { details } = facts;
  const errno = /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)\b/.exec(details)?.[1];
  if (/metadata from plugin/i.test(details)) return diagnosisOf(GRPC.NO_TOKEN, facts);
  if (errno === "ECONNREFUSED") return diagnosisOf(GRPC.REFUSED, facts);
  if (errno === "ENOTFOUND" || errno === "EAI_AGAIN" || /Name resolution failed|DNS resolution failed/i.test(details)) return diagnosisOf(GRPC.DNS, { ...facts, errno });
  if (errno === "EHOSTUNREACH" || errno === "ENETUNREACH" || errno === "ETIMEDOUT") return diagnosisOf(GRPC.NO_ROUTE, { ...facts, errno });
  if (errno === "ECONNRESET" || /No connection established|Connection dropped|socket/i.test(details)) return diagnosisOf(GRPC.NO_CONNECTION, { ...facts, errno });
  return diagnosisOf(GRPC.UNAVAILABLE, facts);
}

function stripStatusPrefix(message: string): string {
  return message.replace(/^\d+ [A-Z_]+: /, "");
}
