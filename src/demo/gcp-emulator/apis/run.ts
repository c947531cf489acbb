// Cloud Run Admin API: v2 Services and Revisions over gRPC, and the v1
// (Knative-style REST) revision read on the regional endpoint — the only
// surface that reports the digest a revision runs (`status.imageDigest`).
// As the real API does: a revision resolves its image's tag to a digest once,
// when it is created (a later push of the same tag does not change it); the
// service's latest revisions and a revision's service are named with the
// project number; traffic entries carry short revision names.
import { createHash } from "node:crypto";
import { defineEmulatedApi, type Proto3Json, type StartedApi } from "../api.js";
import { artifactNames } from "./artifact-registry.js";

const REVISION = /^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+\/revisions\/[^/]+$/;
const SERVICE = /^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/;
/** GET /apis/serving.knative.dev/v1/namespaces/{project id or number}/revisions/{revision} */
const V1_REVISION = /^\/apis\/serving\.knative\.dev\/v1\/namespaces\/([^/]+)\/revisions\/([^/]+)$/;

export interface RunControls {
  /** The image@sha256 digest a revision resolved when it was created. */
  revisionDigest(revision: string): string | undefined;
  /** Override the digest a revision runs (e.g. an image pushed outside Artifact Registry). */
  setRevisionDigest(revision: string, digest: string): void;
}

interface Condition {
  type?: string;
  state?: string;
  message?: string;
  reason?: string;
  revisionReason?: string;
  lastTransitionTime?: string;
}

export const RUN = defineEmulatedApi<RunControls>({
  protos: { run: "@google-cloud/run/build/protos/protos.json" },
  collections: [
    { collection: "services", pattern: SERVICE, type: "google.cloud.run.v2.Service", proto: "run", noun: "Cloud Run service" },
    { collection: "revisions", pattern: REVISION, type: "google.cloud.run.v2.Revision", proto: "run", noun: "Cloud Run revision" },
  ],
  domain: "run.googleapis.com",
  permissions: {
    GetService: "run.services.get",
    ListServices: "run.services.list",
    GetRevision: "run.revisions.get",
    ListRevisions: "run.revisions.list",
    "v1.GetRevision": "run.revisions.get",
  },
  start: (tools): StartedApi<RunControls> => {
    const digests = new Map<string, string>();
    const revisions = new Set<string>();
    const imageOf = (revision: Proto3Json) => {
      const containers = (revision.containers ?? []) as { image?: string; ports?: unknown[] }[];
      return (containers.find((container) => (container.ports ?? []).length > 0) ?? containers[0])?.image ?? "";
    };
    /** What the registry says the image is now (a tag's current digest), else a digest of its own. */
    const resolve = (image: string) => {
      const names = artifactNames(image);
      if (names?.digest) return `${names.repository}@${names.digest}`;
      if (/@sha256:[0-9a-f]{64}$/.test(image)) return image;
      const tag = names?.tag ? tools.json(`${names.packageName}/tags/${names.tag}`) : undefined;
      const digest = typeof tag?.version === "string" ? tag.version.split("/").pop()! : `sha256:${createHash("sha256").update(image).digest("hex")}`;
      return `${names?.repository ?? image.replace(/:[^/:@]+$/, "")}@${digest}`;
    };
    tools.onPut((resource, previous) => {
      if (!REVISION.test(resource.name)) return;
      revisions.add(resource.name);
      // Resolved once, at creation; re-resolved only when a fixture changes the revision's image.
      if (!previous || imageOf(previous) !== imageOf(resource) || !digests.has(resource.name)) digests.set(resource.name, resolve(imageOf(resource)));
    });

    const numberedService = (message: Record<string, unknown>) => {
      const copy = { ...message };
      for (const field of ["latestReadyRevision", "latestCreatedRevision"]) if (typeof copy[field] === "string" && copy[field]) copy[field] = tools.numbered(copy[field] as string);
      for (const field of ["traffic", "trafficStatuses"]) {
        copy[field] = ((copy[field] ?? []) as { revision?: string }[]).map((entry) => ({ ...entry, revision: (entry.revision ?? "").split("/").pop() }));
      }
      return copy;
    };

    const v1Status = (condition: Condition) =>
      condition.state === "CONDITION_SUCCEEDED" ? "True" : condition.state === "CONDITION_FAILED" ? "False" : "Unknown";
    const v1Revision = (name: string) => {
      const revision = tools.json(name)!;
      const [, project, , region, , service, , short] = name.split("/");
      const containers = (revision.containers ?? []) as Record<string, unknown>[];
      return {
        apiVersion: "serving.knative.dev/v1",
        kind: "Revision",
        metadata: {
          name: short,
          namespace: tools.projectNumber(project),
          selfLink: `/apis/serving.knative.dev/v1/namespaces/${tools.projectNumber(project)}/revisions/${short}`,
          uid: revision.uid ?? "",
          generation: 1,
          creationTimestamp: revision.createTime ?? "",
          labels: {
            ...((revision.labels ?? {}) as Record<string, string>),
            "serving.knative.dev/configuration": service,
            "serving.knative.dev/service": service,
            "cloud.googleapis.com/location": region,
          },
        },
        spec: { containers: containers.map((container) => ({ name: container.name, image: container.image })), serviceAccountName: revision.serviceAccount ?? "" },
        status: {
          observedGeneration: 1,
          conditions: ((revision.conditions ?? []) as Condition[]).map((condition) => ({
            type: condition.type,
            status: v1Status(condition),
            ...(condition.reason || condition.revisionReason ? { reason: condition.revisionReason || condition.reason } : {}),
            ...(condition.message ? { message: condition.message } : {}),
            lastTransitionTime: condition.lastTransitionTime,
          })),
          logUrl: revision.logUri ?? "",
          ...(digests.has(name) ? { imageDigest: digests.get(name) } : {}),
        },
      };
    };

    return {
      controls: {
        revisionDigest: (revision) => digests.get(revision),
        setRevisionDigest: (revision, digest) => void digests.set(revision, digest),
      },
      services: [
        {
          proto: "run",
          service: "google.cloud.run.v2.Services",
          handlers: {
            getService: tools.rpc("GetService", "name", (name) => {
              if (!SERVICE.test(name)) return tools.errorFor("INVALID_ARGUMENT", `Invalid resource name: '${name}'`);
              const found = tools.resource(name, "services");
              return found ? { ok: numberedService(found) } : tools.notFound("GetService", name);
            }),
            listServices: tools.lister("ListServices", "services", "services"),
          },
        },
        {
          proto: "run",
          service: "google.cloud.run.v2.Revisions",
          handlers: {
            getRevision: tools.rpc("GetRevision", "name", (name) => {
              if (!REVISION.test(name)) return tools.errorFor("INVALID_ARGUMENT", `Invalid resource name: '${name}'`);
              const found = tools.resource(name, "revisions");
              return found ? { ok: { ...found, service: tools.numbered(String(found.service ?? "")) } } : tools.notFound("GetRevision", name);
            }),
            listRevisions: tools.lister("ListRevisions", "revisions", "revisions"),
          },
        },
      ],
      rest: [
        {
          method: "v1.GetRevision",
          path: V1_REVISION,
          // The v1 path names no region or service: the regional endpoint is the region, the revision name is unique in it.
          resource: (match) => {
            const project = tools.canonical(`projects/${match[1]}`);
            const found = [...revisions].find((name) => name.startsWith(`${project}/`) && name.endsWith(`/revisions/${match[2]}`) && tools.json(name));
            return found ?? `namespaces/${match[1]}/revisions/${match[2]}`;
          },
          answer: (match) => {
            const project = tools.canonical(`projects/${match[1]}`);
            const found = [...revisions].find((name) => name.startsWith(`${project}/`) && name.endsWith(`/revisions/${match[2]}`) && tools.json(name));
            if (!found) return tools.errorFor("NOT_FOUND", `Revision named '${match[2]}' not found.`);
            return { ok: v1Revision(found) };
          },
        },
      ],
    };
  },
});
