// `{ secret: projects/P/secrets/S[/versions/V] }` references, resolved at run
// time from Secret Manager inside the calling check's budget. The runner
// (src/runner/secret-refs.ts) registers the value for redaction; a failure
// here is that check's failure, classified like any Google API error
// (not-found names the secret, permission names the role to grant).
import { defineCatalogue, failure } from "../diagnose/catalogue.js";
import type { ProbeContext } from "../probes/api.js";
import { defineGoogleApi } from "./api.js";
import { gcpSettings, type GcpSettings } from "./resources.js";
import { withGcp } from "./session.js";

const secretOf = (resource: string) => resource.replace(/\/versions\/[^/]+$/, "");
const locationFlag = (resource: string) => {
  const location = /\/locations\/([^/]+)\//.exec(resource)?.[1];
  return location ? ` --location ${location}` : "";
};

/**
 * Secret Manager. A global secret (projects/P/secrets/S) is read from
 * secretmanager.googleapis.com; a regional one (projects/P/locations/L/secrets/S)
 * only from its region's endpoint, secretmanager.L.rep.googleapis.com — the
 * global endpoint does not know it.
 */
export function secretManagerApi(location?: string) {
  return defineGoogleApi({
    id: location ? `secretmanager.${location}` : "secretmanager",
    label: "Secret Manager",
    host: location ? `secretmanager.${location}.rep.googleapis.com` : "secretmanager.googleapis.com",
    load: async () => (await import("@google-cloud/secret-manager")).SecretManagerServiceClient as never,
    rpcs: {
      AccessSecretVersion: {
        permission: "secretmanager.versions.access",
        role: "roles/secretmanager.secretAccessor",
        notFound: ({ resource, project }) => {
          const secret = secretOf(resource);
          const version = resource.split("/").pop();
          return `Secret ${secret} does not exist${version === "latest" ? " or has no version" : ` or has no version ${version}`} (a regional secret, projects/P/locations/L/secrets/S, is not found under projects/P/secrets/S): check the name (gcloud secrets versions list ${secret.split("/").pop()} --project ${project}${locationFlag(resource)}), or add a version.`;
        },
        permissionHint: ({ resource, project }) => {
          const secret = secretOf(resource).split("/").pop();
          return `Grant roles/secretmanager.secretAccessor on the secret to the identity infra-check runs as: gcloud secrets add-iam-policy-binding ${secret} --project ${project}${locationFlag(resource)} --member=IDENTITY --role=roles/secretmanager.secretAccessor`;
        },
        failedPrecondition: ({ resource, project }) => {
          const secret = secretOf(resource).split("/").pop();
          const version = resource.split("/").pop();
          const where = `--secret ${secret} --project ${project}${locationFlag(resource)}`;
          return version === "latest"
            ? `"latest" is the newest version whatever its state — Secret Manager does not fall back to an older enabled one: pin an enabled version (…/versions/K; gcloud secrets versions list ${where}) or re-enable the newest (gcloud secrets versions enable VERSION ${where}).`
            : `Version ${version} is disabled or destroyed: re-enable it (gcloud secrets versions enable ${version} ${where}) or pin another enabled version.`;
        },
      },
    },
  });
}

export const SECRET_MANAGER = secretManagerApi();

export const SECRETS = defineCatalogue("secret", {
  NOT_A_NAME: {
    class: "config",
    message: (f: { ref: string }) => `secret reference "${f.ref}" is not a secret name`,
    hint: "Write { secret: projects/PROJECT/secrets/NAME } (latest version) or …/versions/N, a regional secret as projects/PROJECT/locations/LOCATION/secrets/NAME, or a bare NAME with gcp.project set.",
  },
  NO_PROJECT: {
    class: "config",
    message: (f: { ref: string }) => `secret reference "${f.ref}" has no project`,
    hint: "Write the full name projects/PROJECT/secrets/NAME, or set gcp.project in the config.",
  },
  BAD_NAME: {
    class: "config",
    message: (f: { ref: string }) => `secret reference "${f.ref}" is not projects/PROJECT/[locations/LOCATION/]secrets/NAME[/versions/VERSION]`,
    hint: "Copy the name from `gcloud secrets describe NAME --format='value(name)'`.",
  },
  EMPTY: {
    class: "config",
    message: (f: { name: string }) => `Secret Manager ${f.name} is empty`,
    hint: "Add a version with the value: gcloud secrets versions add NAME --data-file=FILE.",
  },
});

/** `projects/P/secrets/S` → …/versions/latest; a bare `S` uses gcp.project. */
export function secretVersionName(ref: string, settings: GcpSettings): string {
  let name = ref.trim();
  if (!name.startsWith("projects/")) {
    if (name.includes("/")) throw failure(SECRETS.NOT_A_NAME, { ref });
    if (!settings.project) throw failure(SECRETS.NO_PROJECT, { ref });
    name = `projects/${settings.project}/secrets/${name}`;
  }
  if (/^projects\/[^/]+\/(locations\/[^/]+\/)?secrets\/[^/]+$/.test(name)) return `${name}/versions/latest`;
  if (/^projects\/[^/]+\/(locations\/[^/]+\/)?secrets\/[^/]+\/versions\/[^/]+$/.test(name)) return name;
  throw failure(SECRETS.BAD_NAME, { ref });
}

export async function resolveSecret(ref: string, ctx: ProbeContext): Promise<string> {
  const settings = gcpSettings({}, ctx.deps);
  const name = secretVersionName(ref, settings);
  const location = /^projects\/[^/]+\/locations\/([^/]+)\//.exec(name)?.[1];
  const api = location ? secretManagerApi(location) : SECRET_MANAGER;
  const response = await withGcp(ctx, settings, (gcp) => gcp.call<{ payload?: { data?: Uint8Array | string | null } | null }>(api, "AccessSecretVersion", { name }));
  const data = response.payload?.data;
  if (data === undefined || data === null || data.length === 0) throw failure(SECRETS.EMPTY, { name });
  return typeof data === "string" ? data : Buffer.from(data).toString("utf8");
}
