// `infra-check schema`: the config file's JSON Schema, generated from the very
// zod schemas the validator uses (src/config/schema.ts for the top level and
// the fields every check has, each probe's own `schema` from the registry), so
// editors and the validator can never disagree. `npm run schema` writes it to
// schema/infra-check.schema.json, which the example configs reference with
// `# yaml-language-server: $schema=../schema/infra-check.schema.json`.
import path from "node:path";
import { z, type ZodType } from "zod";
import { CHECK_NAME, baseCheckSchema, topLevelSchema } from "../config/schema.js";
import { expectationSchema } from "../probes/shared/schema.js";
import { PROBES, PROBE_KINDS, loadProbe } from "../probes/index.js";
import { ConfigError } from "../util/errors.js";
import { describeFsError, ensureFolder, writeOutputFile } from "../util/output-file.js";
import { EXIT } from "../exit-codes.js";
import type { CommandIO } from "./io.js";

/** Draft-07: the dialect every YAML/JSON editor integration understands. */
const TARGET = "draft-07";

type Shape = Record<string, ZodType>;

/**
 * The object shape of a probe's schema. Kinds declare strict objects; a
 * refined object keeps its shape, and a pipe (transform) is described by its input.
 */
function shapeOf(schema: ZodType, kind: string): Shape {
  let current: unknown = schema;
  for (let depth = 0; depth < 5; depth += 1) {
    if (current instanceof z.ZodObject) return current.shape as Shape;
    if (current instanceof z.ZodPipe) {
      current = current.in;
      continue;
    }
    break;
  }
  throw new Error(`probe kind "${kind}": its schema is not an object schema, so no JSON Schema branch can be generated for it`);
}

/** The object inside optional/default wrappers and pipes, if any. */
function objectOf(schema: unknown): z.ZodObject | undefined {
  let current = schema;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    if (current instanceof z.ZodObject) return current;
    if (current instanceof z.ZodPipe) current = current.in;
    else if (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap();
    else return undefined;
  }
  return undefined;
}

const describe = (schema: ZodType | undefined) => (schema ? (z.globalRegistry.get(schema)?.description ?? "") : "");

/**
 * One strict object per kind: the common check fields, the kind's own fields,
 * `kind` as the discriminator. `expect`/`warn` list the kind's metric names
 * (the validator rejects any other), so editors complete them; dynamic
 * metric families (`json.<path>`) become patterns in buildJsonSchema().
 */
export async function checkSchemas(): Promise<z.ZodObject[]> {
  const branches: z.ZodObject[] = [];
  for (const kind of PROBE_KINDS) {
    const probe = await loadProbe(kind);
    const own = shapeOf(probe.schema, kind);
    const names = Object.keys(probe.metrics);
    const metrics: Shape = Object.fromEntries(
      names.map((metric) => {
        const description = probe.metrics[metric].description;
        return [metric, description ? expectationSchema.optional().meta({ description }) : expectationSchema.optional()];
      }),
    );
    // Structured requirements (cloud-run's image, env list …) may be written under `expect` too (src/config/load.ts).
    const requirements = objectOf(own.require)?.shape as Shape | undefined;
    const prefixes = Object.keys(probe.metricPrefixes ?? {});
    const metricObject = (shape: Shape) => (prefixes.length ? z.object(shape).catchall(expectationSchema) : z.strictObject(shape));
    const known = [...names, ...prefixes.map((prefix) => `${prefix}<path>`)].join(", ");
    const branch = z
      .strictObject({
        ...(baseCheckSchema.shape as Shape),
        ...own,
        kind: z.literal(kind).meta({ description: `${PROBES[kind].summary} (one-off: infra-check ${PROBES[kind].command})` }),
        expect: metricObject({ ...metrics, ...requirements })
          .optional()
          .meta({ description: `${describe(baseCheckSchema.shape.expect)}. Metrics: ${known}${requirements ? `; requirements: ${Object.keys(requirements).join(", ")}` : ""}` }),
        warn: metricObject(metrics).optional().meta({ description: `${describe(baseCheckSchema.shape.warn)}. Metrics: ${known}` }),
      })
      .meta({ title: `${kind} check`, description: probe.summary, ...(prefixes.length ? { [PREFIXES_KEY]: prefixes } : {}) });
    branches.push(branch);
  }
  return branches;
}

/** Carries a kind's metric prefixes from checkSchemas() to the post-processing below (removed from the output). */
const PREFIXES_KEY = "x-metric-prefixes";

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `expect: { json.status: … }`: the open map of a prefixed kind becomes patterns + additionalProperties false. */
function closeMetricPrefixes(schema: Record<string, any>): void {
  for (const branch of schema.properties.checks.additionalProperties.oneOf as Record<string, any>[]) {
    const prefixes = branch[PREFIXES_KEY] as string[] | undefined;
    delete branch[PREFIXES_KEY];
    if (!prefixes) continue;
    for (const key of ["expect", "warn"]) {
      const map = branch.properties[key];
      map.patternProperties = Object.fromEntries(prefixes.map((prefix) => [`^${escapeRegExp(prefix)}.+`, map.additionalProperties]));
      map.additionalProperties = false;
    }
  }
}

/** The whole config file's schema, as a JSON Schema document. */
export async function buildJsonSchema(): Promise<Record<string, unknown>> {
  const branches = await checkSchemas();
  const [first, ...rest] = branches;
  const check = z.discriminatedUnion("kind", [first, ...rest]);
  const file = topLevelSchema
    .extend({
      $schema: z.string().optional().meta({ description: "JSON Schema reference for editors (ignored by infra-check)" }),
      checks: z
        .record(z.string().regex(CHECK_NAME), check)
        .meta({ description: "The checks, by name. They run concurrently; `dependsOn` orders them and blocks dependants of a failed check." }),
    })
    .meta({
      title: "infra-check configuration",
      description:
        "One environment's checks (config/<env>.yaml). Every string may use ${ENV_VAR} or ${ENV_VAR:-default}; `$$` is a literal `$`. Generated by `infra-check schema` from the validator's own schemas.",
    });
  const schema = z.toJSONSchema(file, { target: TARGET, io: "input", unrepresentable: "any", override: acceptInterpolation }) as Record<string, any>;
  closeMetricPrefixes(schema);
  return schema;
}

/** `${VAR}` / `${VAR:-default}` anywhere in a string. */
export const INTERPOLATION_PATTERN = "\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}";

/**
 * The file is validated after `${VAR}` interpolation, but editors see it
 * before: a constrained string (URL format, pattern, enum) also accepts any
 * string that contains a `${VAR}`, so `url: redis://${REDIS_HOST}:6379` is
 * not flagged while `url: nope` still is. Map keys (check names) are never
 * interpolated and keep their pattern.
 */
function acceptInterpolation(ctx: { jsonSchema: Record<string, unknown>; path: (string | number)[] }): void {
  const schema = ctx.jsonSchema;
  if (ctx.path.at(-1) === "propertyNames" || schema.type !== "string") return;
  const constraints = (["format", "pattern", "enum"] as const).filter((key) => schema[key] !== undefined);
  if (constraints.length === 0) return;
  const strict: Record<string, unknown> = { type: "string" };
  for (const key of constraints) {
    strict[key] = schema[key];
    delete schema[key];
  }
  delete schema.type;
  schema.anyOf = [strict, { type: "string", pattern: INTERPOLATION_PATTERN, description: "a value with ${ENV_VAR} references, checked after interpolation" }];
}

export function schemaText(schema: Record<string, unknown>): string {
  return JSON.stringify(schema, null, 2) + "\n";
}

export async function schemaCommand(flags: { output?: string }, io: CommandIO): Promise<number> {
  const text = schemaText(await buildJsonSchema());
  if (!flags.output) {
    io.stdout(text);
    return EXIT.OK;
  }
  // An editor or a build never reads half a schema; /dev/stdout or a FIFO stays what it is.
  const file = path.resolve(io.cwd, flags.output);
  try {
    await ensureFolder(path.dirname(file));
    await writeOutputFile(file, text, { descriptors: { 1: io.stdout, 2: io.stderr } });
  } catch (error) {
    throw new ConfigError(`--output: cannot write ${file} (${describeFsError(error)})`);
  }
  io.stderr(`wrote ${path.relative(io.cwd, file) || file}\n`);
  return EXIT.OK;
}
