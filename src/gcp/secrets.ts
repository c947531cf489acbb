// Resolution of secret references ({ secret: … } / { memorystoreAuth: … }).
import { ProbeFailure, type ProbeContext } from "../types.js";
import type { SecretValue } from "../config/schema.js";

export async function resolveSecretRef(ref: Exclude<SecretValue, string>, _ctx: ProbeContext): Promise<string> {
  throw new ProbeFailure("config", `secret reference ${JSON.stringify(ref)} cannot be resolved yet`);
}
