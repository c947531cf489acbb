// Secret references in a spec ({ secret: … } / { memorystoreAuth: … }) are
// resolved at run time, inside the check's budget, so a missing secret is that
// check's classified failure. Each reference key has its resolver in the
// registry (src/probes/index.ts); Google clients load only when a reference exists.
import type { CheckSpec, ProbeContext } from "../probes/api.js";
import { SECRET_SOURCES, type SecretSource } from "../probes/index.js";

type SecretRef = Record<SecretSource, string>;

function isSecretRef(value: unknown): value is SecretRef {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && Object.hasOwn(SECRET_SOURCES, keys[0]) && typeof (value as Record<string, unknown>)[keys[0]] === "string";
}

export function hasSecretRefs(value: unknown): boolean {
  if (isSecretRef(value)) return true;
  if (Array.isArray(value)) return value.some(hasSecretRefs);
  if (value !== null && typeof value === "object") return Object.values(value).some(hasSecretRefs);
  return false;
}

/** A copy of `spec` with every secret reference replaced by its value (registered for redaction). */
export async function resolveSecretRefs(spec: CheckSpec, ctx: ProbeContext): Promise<CheckSpec> {
  if (!hasSecretRefs(spec)) return spec;
  const walk = async (value: unknown): Promise<unknown> => {
    if (isSecretRef(value)) {
      const source = Object.keys(value)[0] as SecretSource;
      const resolve = await SECRET_SOURCES[source]();
      const resolved = await ctx.phases.time("secret", () => resolve(value[source], ctx));
      ctx.addSecret(resolved);
      return resolved;
    }
    if (Array.isArray(value)) return Promise.all(value.map(walk));
    if (value !== null && typeof value === "object") {
      const entries = await Promise.all(Object.entries(value).map(async ([key, item]) => [key, await walk(item)] as const));
      return Object.fromEntries(entries);
    }
    return value;
  };
  return (await walk(spec)) as CheckSpec;
}
