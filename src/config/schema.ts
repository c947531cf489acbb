// Shapes of the config file. Probe kinds own the schema of their own fields
// (src/probes/<kind>.ts); this file owns the top level and the fields every
// check has. The JSON Schema (`infra-check schema`) is generated from these.
import { z } from "zod";
import { parseDurationMs } from "../util/duration.js";
import { parseExpectation } from "../evaluate/expectations.js";

export const durationSchema = z.union([z.string(), z.number()]).superRefine((value, ctx) => {
  if (parseDurationMs(value) === undefined) {
    ctx.addIssue({ code: "custom", message: `expected a duration like 250ms, 2s or 1m, found ${JSON.stringify(value)}` });
  }
}).meta({ description: "Duration: 250ms, 2s, 1m (a bare number is milliseconds)" });

export const expectationSchema = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .superRefine((value, ctx) => {
    try {
      parseExpectation(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  })
  .meta({ description: 'A value (equality) or an operator string: "< 200ms", ">= 95%", "!= 0", "~ ^2\\d\\d$"' });

export const expectationsSchema = z.record(z.string(), expectationSchema);

/** TLS options shared by every probe kind that speaks TLS. */
export const tlsSchema = z.strictObject({
  ca: z.string().optional().meta({ description: "CA bundle (PEM) path, relative to the config file" }),
  cert: z.string().optional().meta({ description: "Client certificate (PEM) for mutual TLS" }),
  key: z.string().optional().meta({ description: "Client private key (PEM) for mutual TLS" }),
  servername: z.string().optional().meta({ description: "SNI / name to verify the certificate against" }),
  insecure: z.boolean().optional().meta({ description: "Accept any certificate (opt-in, for triage only)" }),
});

/**
 * A secret value: a literal (usually `${ENV_VAR}`), or a reference resolved at run
 * time from Secret Manager (`{ secret: projects/P/secrets/S[/versions/V] }`) or
 * from a Memorystore instance's AUTH string (`{ memorystoreAuth: INSTANCE }`).
 */
export const secretValueSchema = z.union([
  z.string(),
  z.strictObject({ secret: z.string().min(1).meta({ description: "Secret Manager secret or version resource name" }) }),
  z.strictObject({ memorystoreAuth: z.string().min(1).meta({ description: "Memorystore instance whose AUTH string to use" }) }),
]);
export type SecretValue = z.infer<typeof secretValueSchema>;

export const regressionSchema = z.strictObject({
  factor: z.number().positive().optional().meta({ description: "How many times slower than baseline counts as a regression (default 2)" }),
  minDelta: durationSchema.optional().meta({ description: "Absolute floor: slower by at least this much (default 50ms)" }),
  action: z.enum(["warn", "fail"]).optional().meta({ description: "What a regression does to the check (default warn)" }),
  runs: z.number().int().positive().optional().meta({ description: "Baseline = median of the last N runs in which the check passed or warned (default 10)" }),
});

/** Fields every check has. */
export const baseCheckSchema = z.strictObject({
  kind: z.string().meta({ description: "Probe kind" }),
  timeout: durationSchema.optional().meta({ description: "This check's budget (default: defaults.timeout)" }),
  dependsOn: z.array(z.string()).optional().meta({ description: "Checks that must pass first; if one fails this check is blocked" }),
  expect: expectationsSchema.optional().meta({ description: "Assertions that fail the check" }),
  warn: expectationsSchema.optional().meta({ description: "Assertions that only warn" }),
  regression: regressionSchema.optional().meta({ description: "Override the top-level regression settings for this check" }),
});
export const BASE_CHECK_KEYS = Object.keys(baseCheckSchema.shape);

export const gcpSchema = z.strictObject({
  project: z.string().min(1).meta({ description: "Google Cloud project ID" }),
  region: z.string().min(1).meta({ description: "Region of Cloud Run services, connectors and Memorystore instances" }),
  emulatorHost: z.string().optional().meta({ description: "host:port of a local API emulator (plaintext gRPC, no credentials)" }),
  apiEndpoint: z.string().optional().meta({ description: "Private API endpoint host (TLS + Application Default Credentials)" }),
});

export const historySchema = z.strictObject({
  dir: z.string().meta({ description: "Folder where each run's JSON report is kept, relative to the config file" }),
  keep: z.number().int().positive().optional().meta({ description: "How many reports to keep (default 50)" }),
});

export const topLevelSchema = z.strictObject({
  $schema: z.string().optional(),
  env: z.string().optional().meta({ description: "Environment name (default: the file name)" }),
  deadline: durationSchema.optional().meta({ description: "Budget of the whole run (default 30s)" }),
  defaults: z
    .strictObject({
      timeout: durationSchema.optional().meta({ description: "Per-check budget (default 5s)" }),
    })
    .optional(),
  gcp: gcpSchema.optional(),
  history: historySchema.optional(),
  regression: regressionSchema.optional(),
  checks: z.record(z.string(), z.record(z.string(), z.unknown())),
});
export type TopLevelConfig = z.infer<typeof topLevelSchema>;

export const CHECK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
