// Error rules of the Google Cloud clients (google-gax over gRPC). An error is
// theirs when it carries a numeric gRPC status code; src/gcp/clients.ts tags
// it with the API, RPC, resource and endpoint of the call, so messages name
// what was asked of whom, and hints name the IAM role or the command to run.
import type { ClassifiedError } from "../../diagnose/vocabulary.js";
import type { ClassifyContext } from "../classify.js";
import { gcpCallOf, roleForPermission, shortName, type GcpCallInfo } from "../../gcp/resources.js";
import { formatMs } from "../../util/duration.js";

const STATUS_NAMES = [
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

interface GoogleErrorLike {
  code: number;
  details?: string;
  message?: string;
  reason?: string;
  domain?: string;
  errorInfoMetadata?: Record<string, string>;
  metadata?: unknown;
}

function isGrpcError(error: unknown): error is GoogleErrorLike {
  if (error === null || typeof error !== "object") return false;
  const err = error as Partial<GoogleErrorLike> & { name?: string };
  if (typeof err.code !== "number" || !Number.isInteger(err.code) || err.code < 1 || err.code > 16) return false;
  return gcpCallOf(error) !== undefined || "metadata" in err || "details" in err || err.name === "GoogleError" || err.constructor?.name === "GoogleError";
}

/** "run.services.get" → what to grant; prefer the permission the server named. */
function permissionHint(permission: string, call: GcpCallInfo | undefined): string {
  const resource = call?.resource;
  const role = roleForPermission(permission);
  if (permission === "secretmanager.versions.access" && resource) {
    const secret = resource.replace(/\/versions\/[^/]+$/, "");
    return `Grant ${role} on the secret to the identity infra-check runs as: gcloud secrets add-iam-policy-binding ${shortName(secret)} --project ${projectOf(resource)} --member=IDENTITY --role=${role}`;
  }
  if (permission === "redis.instances.getAuthString") {
    return `Reading a Memorystore AUTH string needs ${permission} (${role} or roles/redis.admin; roles/redis.viewer does not include it). Grant it, or store the AUTH string in Secret Manager and use { secret: … }.`;
  }
  const project = resource ? projectOf(resource) : undefined;
  return `The identity infra-check runs as needs ${permission}: grant ${role}${project ? ` on project ${project}` : ""} (gcloud projects add-iam-policy-binding ${project ?? "PROJECT"} --member=IDENTITY --role=${role}), or run as an identity that has it.`;
}

function projectOf(resource: string): string | undefined {
  return /^projects\/([^/]+)/.exec(resource)?.[1];
}

function describeResource(call: GcpCallInfo | undefined): string {
  if (!call) return "Google Cloud API call";
  return `${call.api} ${call.method} ${call.resource}`;
}

function notFoundHint(call: GcpCallInfo | undefined): string {
  if (!call) return "Check the resource name, project and region.";
  const resource = call.resource;
  const project = projectOf(resource) ?? "PROJECT";
  const region = /\/locations\/([^/]+)/.exec(resource)?.[1] ?? "REGION";
  const name = shortName(resource);
  switch (call.method) {
    case "GetService":
      return `No Cloud Run service "${name}" in project ${project}, region ${region}: check the name, gcp.project and gcp.region (gcloud run services list --project ${project} --region ${region}).`;
    case "GetRevision":
      return `The revision is gone (deleted, or the service was re-created): re-run after the rollout settles (gcloud run revisions list --service … --region ${region}).`;
    case "GetConnector":
      return `No Serverless VPC Access connector "${name}" in project ${project}, region ${region}: check the name and region (gcloud compute networks vpc-access connectors list --region ${region} --project ${project}).`;
    case "GetInstance":
    case "GetInstanceAuthString":
      return `No Memorystore instance "${resource.split("/")[5] ?? name}" in project ${project}, region ${region}: check the name and region (gcloud redis instances list --region ${region} --project ${project}).`;
    case "AccessSecretVersion": {
      const secret = resource.replace(/\/versions\/[^/]+$/, "");
      return `Secret ${secret} does not exist or has no enabled version ${shortName(resource)}: check the name (gcloud secrets versions list ${shortName(secret)} --project ${project}), or add a version.`;
    }
    default:
      return "Check the resource name, project and region.";
  }
}

export function classifyGrpcError(error: unknown, ctx: ClassifyContext): ClassifiedError | undefined {
  if (!isGrpcError(error)) return undefined;
  const call = gcpCallOf(error);
  const status = STATUS_NAMES[error.code];
  const details = String(call?.details || error.details || stripStatusPrefix(error.message ?? "")).trim();
  const what = describeResource(call);
  const endpoint = call?.endpoint ?? ctx.endpoint ?? "the Google API endpoint";
  const base = { code: status };

  switch (status) {
    case "NOT_FOUND":
      return { ...base, class: "not-found", message: `${what}: not found (${details || status})`, hint: notFoundHint(call) };

    case "PERMISSION_DENIED": {
      const meta = error.errorInfoMetadata ?? {};
      if (error.reason === "SERVICE_DISABLED" || /has not been used in project|is disabled/i.test(details)) {
        const service = meta.service ?? meta.serviceTitle ?? call?.api ?? "the API";
        const consumer = meta.consumer ?? (call ? `projects/${projectOf(call.resource)}` : "the project");
        return {
          ...base,
          class: "permission",
          code: "SERVICE_DISABLED",
          message: `${what}: ${service} is not enabled for ${consumer}`,
          hint: `Enable it: gcloud services enable ${meta.service ?? "SERVICE.googleapis.com"} --project ${consumer.replace(/^projects\//, "")} (it can take a minute to propagate).`,
        };
      }
      const permission = meta.permission ?? /Permission '([^']+)'/.exec(details)?.[1] ?? call?.permission;
      const reason = error.reason ? ` [${error.reason}]` : "";
      return {
        ...base,
        class: "permission",
        message: `${what}: permission denied${permission ? ` (needs ${permission})` : ""}${reason}: ${details || status}`,
        hint: permission ? permissionHint(permission, call) : "The identity is known but lacks a role on this resource: grant it, or run as an identity that has it.",
      };
    }

    case "UNAUTHENTICATED":
      return {
        ...base,
        class: "auth",
        message: `${what}: the API rejected the credentials (UNAUTHENTICATED: ${details || "no valid credentials"})`,
        hint:
          call?.mode === "emulator"
            ? `The emulator at ${endpoint} requires credentials: infra-check sends none in emulator mode (check that this is an emulator and not a real endpoint).`
            : "Refresh Application Default Credentials (gcloud auth application-default login) or check the service-account key in GOOGLE_APPLICATION_CREDENTIALS; expired or revoked credentials read as UNAUTHENTICATED.",
      };

    case "UNAVAILABLE":
      return classifyUnavailable(details, what, endpoint, call);

    case "DEADLINE_EXCEEDED": {
      const budget = formatMs(ctx.budgetMs);
      // grpc-js names the peer (remote_addr=…) once the call was sent; "Waiting for LB pick" means no connection was ever ready.
      if (!/remote_addr=/.test(details) && /Waiting for LB pick|waiting for connection|connecting|LB pick/i.test(details)) {
        return {
          ...base,
          class: "unreachable",
          code: "CONNECT_TIMEOUT",
          message: `${what}: no connection to ${endpoint} within the check's ${budget} budget (nothing refused, nothing answered: packets dropped, or the endpoint does not speak gRPC/HTTP2)`,
          hint:
            call?.mode === "emulator"
              ? `Is the emulator at ${endpoint} running and speaking plaintext gRPC? A TLS or HTTP/1 server on that port also never completes the handshake.`
              : "Check egress to Google APIs from this runner (firewall, proxy: HTTPS_PROXY, Private Google Access), and gcp.apiEndpoint if set.",
        };
      }
      return {
        ...base,
        class: "timeout",
        message: `${what}: connected to ${endpoint} but no answer within the check's ${budget} budget (${details || status})`,
        hint: "The API accepted the call but did not answer in time: raise this check's timeout, or retry — Google APIs occasionally stall for seconds.",
      };
    }

    case "CANCELLED":
      return {
        ...base,
        class: "timeout",
        message: `${what}: the call was cancelled before ${endpoint} answered (the check's budget ran out)`,
        hint: "Raise this check's timeout or the run's deadline.",
      };

    case "INVALID_ARGUMENT":
    case "OUT_OF_RANGE":
      return {
        ...base,
        class: "config",
        message: `${what}: the API rejected the request as invalid (${details || status})`,
        hint: "Check the resource name in the config (project, region and name; no typos or stray characters).",
      };

    case "UNIMPLEMENTED":
      return {
        ...base,
        class: "protocol",
        message: `${what}: ${endpoint} does not implement this RPC (${details || status})`,
        hint: "The endpoint is not the Google API (or an emulator without this API): check gcp.emulatorHost / gcp.apiEndpoint.",
      };

    case "RESOURCE_EXHAUSTED":
      return {
        ...base,
        class: "server-error",
        message: `${what}: quota or rate limit exceeded (${details || status})`,
        hint: "Too many API calls for this project's quota: run less often, or raise the quota in the Cloud console (IAM & Admin → Quotas).",
      };

    case "FAILED_PRECONDITION":
      return {
        ...base,
        class: "unhealthy",
        message: `${what}: the resource is not in a state that allows this (${details || status})`,
        hint: "The resource exists but is not usable right now (disabled secret version, instance being created or deleted): inspect it with gcloud.",
      };

    default:
      return {
        ...base,
        class: "server-error",
        message: `${what}: ${endpoint} reported ${status} (${details || "no details"})`,
        hint: "The Google API reported its own failure: retry; if it persists, check https://status.cloud.google.com.",
      };
  }
}

function classifyUnavailable(details: string, what: string, endpoint: string, call: GcpCallInfo | undefined): ClassifiedError {
  const code = /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)\b/.exec(details)?.[1];
  if (/metadata from plugin/i.test(details)) {
    return {
      code: "UNAVAILABLE",
      class: "auth",
      message: `${what}: could not get an access token from the credentials (${details})`,
      hint: "The Application Default Credentials could not produce a token (expired login, revoked key, no network to oauth2.googleapis.com): run `gcloud auth application-default login` again or check GOOGLE_APPLICATION_CREDENTIALS.",
    };
  }
  if (code === "ECONNREFUSED") {
    return {
      code,
      class: "refused",
      message: `${what}: connection refused by ${endpoint} — nothing listens there`,
      hint:
        call?.mode === "emulator"
          ? `Start the emulator at ${endpoint}, or fix gcp.emulatorHost / INFRA_CHECK_GCP_EMULATOR_HOST.`
          : "Check gcp.apiEndpoint (host and port) and any proxy between this runner and Google APIs.",
    };
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || /Name resolution failed|DNS resolution failed/i.test(details)) {
    return {
      code: code ?? "DNS",
      class: "dns",
      message: `${what}: the API host of ${endpoint} does not resolve${code === "EAI_AGAIN" ? " (temporary resolver failure)" : ""}`,
      hint: "Check the resolver of this runner and gcp.apiEndpoint / gcp.emulatorHost; Google API names need outbound DNS.",
    };
  }
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH" || code === "ETIMEDOUT") {
    return {
      code,
      class: "unreachable",
      message: `${what}: no network path to ${endpoint} (${code})`,
      hint: "Check routes, firewall rules and proxies between this runner and Google APIs (Private Google Access inside a VPC).",
    };
  }
  if (code === "ECONNRESET" || /No connection established|Connection dropped|socket/i.test(details)) {
    return {
      code: code ?? "UNAVAILABLE",
      class: "unreachable",
      message: `${what}: could not establish a gRPC connection to ${endpoint} (${details})`,
      hint: "The endpoint closed the connection during the handshake: a proxy, a TLS/plaintext mismatch (emulators speak plaintext), or a firewall.",
    };
  }
  return {
    code: "UNAVAILABLE",
    class: "server-error",
    message: `${what}: ${endpoint} is temporarily unavailable, also after one retry (${details || "UNAVAILABLE"})`,
    hint: "The API itself reported it is unavailable: retry shortly; if it persists, check https://status.cloud.google.com.",
  };
}

function stripStatusPrefix(message: string): string {
  return message.replace(/^\d+ [A-Z_]+: /, "");
}
