// `tls: { ca: { memorystoreCa: INSTANCE } }`: the instance's server CA
// certificates (PEM, every one the API lists: two during a rotation), read at
// run time (GetInstance) inside the calling check's budget — so a redis check
// trusts what the instance presents today, not a file copied months ago.
import { defineCatalogue, failure } from "../../diagnose/catalogue.js";
import { gcpSettings, resourceName } from "../../gcp/resources.js";
import { withGcp } from "../../gcp/session.js";
import type { ProbeContext } from "../api.js";
import { MEMORYSTORE, MEMORYSTORE_INSTANCES } from "./api.js";

export const SERVER_CA = defineCatalogue("memorystore", {
  NO_SERVER_CA: {
    class: "config",
    message: (f: { name: string; mode: string }) => `Memorystore instance ${f.name} has no server CA (transit encryption ${f.mode}): there is no CA to trust`,
    hint: "Remove `tls: { ca: { memorystoreCa: … } }` and use redis:// on the instance's port (it speaks plaintext), or enable transit encryption (a new instance with --transit-encryption-mode=server-authentication).",
  },
});

export async function resolveServerCa(instance: string, ctx: ProbeContext): Promise<string> {
  const settings = gcpSettings({}, ctx.deps);
  const name = resourceName(MEMORYSTORE_INSTANCES, instance, settings);
  const found = await withGcp(ctx, settings, (gcp) =>
    gcp.call<{ transitEncryptionMode?: string; serverCaCerts?: { cert?: string }[] }>(MEMORYSTORE, "GetInstance", { name }),
  );
  const pems = (found.serverCaCerts ?? []).map((entry) => entry.cert?.trim()).filter((pem): pem is string => Boolean(pem));
  if (!pems.length) throw failure(SERVER_CA.NO_SERVER_CA, { name, mode: found.transitEncryptionMode || "DISABLED" });
  return `${pems.join("\n")}\n`;
}
