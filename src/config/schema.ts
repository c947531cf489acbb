// Shapes of the config file. Probe kinds own the schema of their own fields
// (src/probes/<kind>/); this file owns the top level and the fields every
// check has. The JSON Schema (`infra-check schema`) is generated from these.
import { z } from "zod";
import { durationSchema, expectationsSchema } from "../probes/shared/schema.js";
import { parseDurationMs } from "../util/duration.js";
import { runnersSchema } from "./runners.js";


export const regressionSchema = z.strictObject({
  factor: z.number().positive().optional().meta({ description: "How many times slower than baseline counts as a regression (default 2)" }),
  minDelta: durationSchema.optional().meta({ description: "Absolute floor: slower by at least this much (default 50ms)" }),
  action: z.enum(["warn", "fail"]).optional().meta({ description: "What a regression does to the check (default warn)" }),
  runs: z.number().int().positive().optional().meta({ description: "Baseline = median of the last N runs in which the check passed or warned (default 10)" }),
});

/** `every:` below this would keep a check's clients busy more than its target's. */
export const MIN_EVERY_MS = 1000;

/** Fields every check has. */
export const baseCheckSchema = z.strictObject({
  kind: z.string().meta({ description: "Probe kind" }),
  timeout: durationSchema.optional().meta({ description: "This check's budget (default: defaults.timeout)" }),
  dependsOn: z.array(z.string()).optional().meta({ description: "Checks that must pass first; if one fails this check is blocked" }),
  expect: expectationsSchema.optional().meta({ description: "Assertions that fail the check" }),
  warn: expectationsSchema.optional().meta({ description: "Assertions that only warn" }),
  regression: regressionSchema.optional().meta({ description: "Override the top-level regression settings for this check" }),
  every: durationSchema
    .refine((value) => (parseDurationMs(value) ?? MIN_EVERY_MS) >= MIN_EVERY_MS, { message: "at least 1s: `infra-check serve` runs a check at most once a second" })
    .optional()
    .meta({ description: "How often `infra-check serve` runs this check (default: --every, else 30s); a one-shot run ignores it" }),
  runner: z.string().min(1).optional().meta({ description: "Where the check runs: local (this machine, the default) or a runner declared under runners: (e.g. a Cloud Run Job inside the VPC)" }),
});
export const BASE_CHECK_KEYS = Object.keys(baseCheckSchema.shape);

export const gcpSchema = z.strictObject({
  project: z.string().min(1).meta({ description: "Google Cloud project ID" }),
  region: z.string().min(1).meta({ description: "Region of Cloud Run services, connectors and Memorystore instances" }),
  emulatorHost: z.string().optional().meta({ description: "host:port of a local API emulator (plaintext gRPC, no credentials)" }),
  apiEndpoint: z.string().optional().meta({ description: "Private API endpoint host (TLS + Application Default Credentials) for every Google API: the one-host shorthand of apiEndpoints" }),
  apiEndpoints: z
    .record(
      z.string().regex(/^[a-z0-9.-]+$/, "expected an API's service name (run, secretmanager, redis, vpcaccess, artifactregistry) or its default host"),
      z.string().min(1),
    )
    .optional()
    .meta({
      description:
        "Per-API endpoint host[:port] (Private Service Connect endpoints are per service), keyed by service name (run, secretmanager, redis, vpcaccess, artifactregistry) or default host (secretmanager.us-east1.rep.googleapis.com); wins over apiEndpoint",
    }),
});

export const historySchema = z.strictObject({
  dir: z.string().meta({ description: "Folder where each run's JSON report is kept, relative to the config file" }),
  keep: z.number().int().positive().optional().meta({ description: "How many reports to keep (default 50)" }),
});

export const MAX_CONCURRENCY = 100_000;

export const topLevelSchema = z.strictObject({
  $schema: z.string().optional(),
  env: z.string().optional().meta({ description: "Environment name (default: the file name)" }),
  deadline: durationSchema.optional().meta({ description: "Budget of the whole run (default 30s)" }),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(MAX_CONCURRENCY)
    .optional()
    .meta({ description: "Checks in flight at once, at most (default: sized to the open-files limit, (ulimit -n − 64) ÷ 4); the others wait for a slot within the run's deadline" }),
  defaults: z
    .strictObject({
      timeout: durationSchema.optional().meta({ description: "Per-check budget (default 5s)" }),
    })
    .optional(),
  gcp: gcpSchema.optional(),
  history: historySchema.optional(),
  runners: runnersSchema.optional(),
  regression: regressionSchema.optional(),
  checks: z.record(z.string(), z.record(z.string(), z.unknown())),
});
export type TopLevelConfig = z.infer<typeof topLevelSchema>;

export const CHECK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
