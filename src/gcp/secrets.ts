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

export const SECRET_MANAGER = defineGoogleApi({
  id: "secretmanager",
  label: "Secret Manager",
  host: "secretmanager.googleapis.com",
  load: async () => (await import("@google-cloud/secret-manager")).SecretManagerServiceClient as never,
  rpcs: {
    AccessSecretVersion: {
      permission: "secretmanager.versions.access",
      role: "roles/secretmanager.secretAccessor",
      notFound: ({ resource, project }) => {
        const secret = resource.replace(/\/versions\/[^/]+$/, "");
        return `Secret ${secret} does not exist or has no enabled version ${resource.split("/").pop()}: check the name (gcloud secrets versions list ${secret.split("/").pop()} --project ${project}), or add a version.`;
      },
      permissionHint: ({ resource, project }) => {
        const secret = resource.replace(/\/versions\/[^/]+$/, "").split("/").pop();
        return `Grant roles/secretmanager.secretAccessor on the secret to the identity infra-check runs as: gcloud secrets add-iam-policy-binding ${secret} --project ${project} --member=IDENTITY --role=roles/secretmanager.secretAccessor`;
      },
    },
  },
});

export const SECRETS = defineCatalogue("secret", {
  NOT_A_NAME: {
    class: "config",
    message: (f: { ref: string }) => `secret reference "${f.ref}" is not a secret name`,
    hint: "Write { secret: projects/PROJECT/secrets/NAME } (latest version) or …/versions/N, or a bare NAME with gcp.project set.",
  },
  NO_PROJECT: {
    class: "config",
    message: (f: { ref: string }) => `secret reference "${f.ref}" has no project`,
    hint: "Write the full name projects/PROJECT/secrets/NAME, or set gcp.project in the config.",
  },
  BAD_NAME: {
    class: "config",
    message: (f: { ref: string }) => `secret reference "${f.ref}" is not projects/PROJECT/secrets/NAME[/versions/VERSION]`,
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
  const response = await withGcp(ctx, settings, (gcp) => gcp.call<{ payload?: { data?: Uint8Array | string | null } | null }>(SECRET_MANAGER, "AccessSecretVersion", { name }));
  const data = response.payload?.data;
  if (data === undefined || data === null || data.length === 0) throw failure(SECRETS.EMPTY, { name });
  return typeof data === "string" ? data : Buffer.from(data).toString("utf8");
}
