// Resolution of secret references ({ secret: … } / { memorystoreAuth: … }) at
// run time, inside the calling check's budget. The runner (src/runner/secret-refs.ts)
// registers the value for redaction; a failure here is that check's failure,
// classified like any Google API error (not-found names the secret,
// permission names the role to grant).
import { ProbeFailure, type ProbeContext } from "../probes/api.js";
import type { SecretValue } from "../config/schema.js";
import { withGcp } from "./clients.js";
import { gcpSettings, resourceName, secretVersionName } from "./resources.js";

type SecretRef = Exclude<SecretValue, string>;

export async function resolveSecretRef(ref: SecretRef, ctx: ProbeContext): Promise<string> {
  const settings = gcpSettings({}, ctx.deps);
  if ("secret" in ref) {
    const name = secretVersionName(ref.secret, settings);
    const response = await withGcp(ctx, settings, (gcp) =>
      gcp.call<{ payload?: { data?: Uint8Array | string | null } | null }>("secrets", "AccessSecretVersion", { name }),
    );
    const data = response.payload?.data;
    if (data === undefined || data === null || data.length === 0) {
      throw new ProbeFailure("config", `Secret Manager ${name} is empty`, {
        hint: "Add a version with the value: gcloud secrets versions add NAME --data-file=FILE.",
      });
    }
    return typeof data === "string" ? data : Buffer.from(data).toString("utf8");
  }
  const name = resourceName("instances", ref.memorystoreAuth, settings);
  const response = await withGcp(ctx, settings, (gcp) => gcp.call<{ authString?: string | null }>("redis", "GetInstanceAuthString", { name }));
  if (!response.authString) {
    throw new ProbeFailure("config", `Memorystore instance ${name} has AUTH disabled: it has no AUTH string to use as the password`, {
      hint: "Remove `password: { memorystoreAuth: … }` (the instance needs none), or enable AUTH on the instance (gcloud redis instances update … --enable-auth).",
    });
  }
  return response.authString;
}
