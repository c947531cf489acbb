// `password: { memorystoreAuth: INSTANCE }`: the instance's AUTH string, read
// at run time (GetInstanceAuthString) inside the calling check's budget.
import { defineCatalogue, failure } from "../../diagnose/catalogue.js";
import { gcpSettings, resourceName } from "../../gcp/resources.js";
import { withGcp } from "../../gcp/session.js";
import type { ProbeContext } from "../api.js";
import { MEMORYSTORE, MEMORYSTORE_INSTANCES } from "./api.js";

export const AUTH_STRING = defineCatalogue("memorystore", {
  AUTH_DISABLED: {
    class: "config",
    message: (f: { name: string }) => `Memorystore instance ${f.name} has AUTH disabled: it has no AUTH string to use as the password`,
    hint: "Remove `password: { memorystoreAuth: … }` (the instance needs none), or enable AUTH on the instance (gcloud redis instances update … --enable-auth).",
  },
});

export async function resolveAuthString(instance: string, ctx: ProbeContext): Promise<string> {
  const settings = gcpSettings({}, ctx.deps);
  const name = resourceName(MEMORYSTORE_INSTANCES, instance, settings);
  const response = await withGcp(ctx, settings, (gcp) => gcp.call<{ authString?: string | null }>(MEMORYSTORE, "GetInstanceAuthString", { name }));
  if (!response.authString) throw failure(AUTH_STRING.AUTH_DISABLED, { name });
  return response.authString;
}
