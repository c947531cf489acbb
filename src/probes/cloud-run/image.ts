// Container image references as Cloud Run reports them (pure): the image as
// deployed (`…/app:3f9c2ab`, a tag, which a later push may move) and the
// digest a revision resolved it to once, when it was created (`…/app@sha256:…`).

export interface ImageRef {
  /** registry/path, without tag or digest. */
  repository: string;
  tag?: string;
  /** sha256:… */
  digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `host/path:tag@sha256:…` → parts (the tag is after the last `:` that follows the last `/`). */
export function parseImage(reference: string): ImageRef {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1).toLowerCase();
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  const tag = colon > slash ? rest.slice(colon + 1) : undefined;
  const repository = colon > slash ? rest.slice(0, colon) : rest;
  return { repository, ...(tag ? { tag } : {}), ...(digest && DIGEST.test(digest) ? { digest } : {}) };
}

/**
 * The Artifact Registry tag resource of an image in a Docker repository
 * (`LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE`); a nested image path is
 * one package whose slashes the API escapes as %2F. Undefined elsewhere
 * (gcr.io, Docker Hub): no registry API to ask.
 */
export function artifactTagName(repository: string, tag: string): string | undefined {
  const match = /^([a-z0-9-]+)-docker\.pkg\.dev\/([^/]+)\/([^/]+)\/(.+)$/.exec(repository);
  if (!match) return undefined;
  const [, location, project, repo, path] = match;
  return `projects/${project}/locations/${location}/repositories/${repo}/packages/${encodeURIComponent(path)}/tags/${encodeURIComponent(tag)}`;
}

/**
 * Does the serving revision run `expected`? A digest (`sha256:…`,
 * `@sha256:…`) or a digest reference (`repo@sha256:…`) is compared with the
 * digest the revision resolved (`digest`, from the v1 API) — or with the image
 * itself when it was deployed by digest; anything else is a glob (* and ?)
 * over the whole image reference as deployed.
 */
export function imageMatches(image: string, expected: string, digest?: string | null): boolean {
  const wanted = /^(.*?)@?(sha256:[0-9a-f]{64})$/i.exec(expected.trim());
  if (wanted) {
    const [, repositoryGlob, sha] = wanted;
    const deployed = parseImage(image);
    const runs = (digest ? parseImage(digest).digest ?? (DIGEST.test(digest.toLowerCase()) ? digest.toLowerCase() : undefined) : undefined) ?? deployed.digest;
    if (runs !== sha.toLowerCase()) return false;
    return !repositoryGlob || globMatches(deployed.repository, repositoryGlob);
  }
  return globMatches(image, expected);
}

function globMatches(text: string, glob: string): boolean {
  const pattern = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${pattern}$`).test(text);
}

/** A commit as CI names it (7–40 hex) and as a tag or label carries it: equal, or one the other's prefix (short and full SHA). */
export function sameCommit(a: string | undefined | null, b: string | undefined | null): boolean {
  if (!a || !b) return false;
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  if (x === y) return true;
  const hex = /^[0-9a-f]{7,40}$/;
  return hex.test(x) && hex.test(y) && (x.startsWith(y) || y.startsWith(x));
}

/** `sha256:0123456789ab…` shortened for messages (the first 12 hex digits, as registries show them). */
export function shortDigest(digest: string): string {
  const sha = parseImage(digest).digest ?? digest;
  return sha.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1…");
}
