// Artifact Registry API v1: Docker tags and the versions (digests) they point
// to. A push moves a tag to a new digest, as `docker push` of a re-used tag
// does; Cloud Run resolved the tag once, when a revision was created (./run.ts).
import { createHash } from "node:crypto";
import { defineEmulatedApi } from "../api.js";

const PACKAGE = "projects\\/[^/]+\\/locations\\/[^/]+\\/repositories\\/[^/]+\\/packages\\/[^/]+";
const TAG = new RegExp(`^${PACKAGE}\\/tags\\/[^/]+$`);
const VERSION = new RegExp(`^${PACKAGE}\\/versions\\/[^/]+$`);

/**
 * `us-docker.pkg.dev/P/REPO/a/b:TAG` → its package and tag resource names
 * (a nested image path is one package, its slashes escaped as %2F, as the API
 * names it); undefined for an image outside Artifact Registry or without a tag.
 */
export function artifactNames(image: string): { repository: string; packageName: string; tag?: string; digest?: string } | undefined {
  const match = /^([a-z0-9-]+)-docker\.pkg\.dev\/([^/]+)\/([^/]+)\/([^@:]+)(?::([^@]+))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(image);
  if (!match) return undefined;
  const [, location, project, repository, path, tag, digest] = match;
  const repositoryName = `projects/${project}/locations/${location}/repositories/${repository}`;
  return { repository: `${location}-docker.pkg.dev/${project}/${repository}/${path}`, packageName: `${repositoryName}/packages/${path.replaceAll("/", "%2F")}`, tag, digest };
}

export interface ArtifactRegistryControls {
  /**
   * Push an image by tag (`…-docker.pkg.dev/P/R/PKG:TAG`): a version for the
   * digest (given, or a new one made from the reference and a counter) and the
   * tag moved to it. Returns the digest (sha256:…).
   */
  pushImage(reference: string, digest?: string): string;
  /** The digest a tag points to now (undefined: no such tag). */
  tagDigest(reference: string): string | undefined;
}

export const ARTIFACT_REGISTRY = defineEmulatedApi<ArtifactRegistryControls>({
  protos: { artifactRegistry: "@google-cloud/artifact-registry/build/protos/protos.json" },
  collections: [
    { collection: "tags", pattern: TAG, type: "google.devtools.artifactregistry.v1.Tag", proto: "artifactRegistry", noun: "Artifact Registry tag" },
    { collection: "versions", pattern: VERSION, type: "google.devtools.artifactregistry.v1.Version", proto: "artifactRegistry", noun: "Artifact Registry version" },
  ],
  domain: "artifactregistry.googleapis.com",
  permissions: {
    GetTag: "artifactregistry.tags.get",
    ListTags: "artifactregistry.tags.list",
    GetVersion: "artifactregistry.versions.get",
  },
  notFoundMessage: (method, name) => (method === "GetTag" ? `Requested entity was not found.` : undefined),
  start(tools) {
    let pushes = 0;
    const controls: ArtifactRegistryControls = {
      pushImage(reference, digest) {
        const names = artifactNames(reference);
        if (!names?.tag) throw new Error(`emulator: "${reference}" is not an Artifact Registry image with a tag (LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG)`);
        const sha = digest ?? `sha256:${createHash("sha256").update(`${reference}#${++pushes}`).digest("hex")}`;
        if (!/^sha256:[0-9a-f]{64}$/.test(sha)) throw new Error(`emulator: "${sha}" is not a sha256 digest`);
        const now = new Date().toISOString();
        const version = `${names.packageName}/versions/${sha}`;
        if (!tools.json(version)) tools.put({ name: version, createTime: now, updateTime: now });
        tools.put({ name: `${names.packageName}/tags/${names.tag}`, version });
        return sha;
      },
      tagDigest(reference) {
        const names = artifactNames(reference);
        const tag = names?.tag ? tools.json(`${names.packageName}/tags/${names.tag}`) : undefined;
        return typeof tag?.version === "string" ? tag.version.split("/").pop() : undefined;
      },
    };
    return {
      controls,
      services: [
        {
          proto: "artifactRegistry",
          service: "google.devtools.artifactregistry.v1.ArtifactRegistry",
          handlers: {
            getTag: tools.getter("GetTag", "tags"),
            listTags: tools.lister("ListTags", "tags", "tags"),
            getVersion: tools.getter("GetVersion", "versions"),
          },
        },
      ],
    };
  },
});
