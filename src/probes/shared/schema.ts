// Config shapes shared by several kinds: durations, expectations, the `tls:`
// block and secret values. The top-level config schema (src/config/schema.ts)
// uses them too; the JSON Schema (`infra-check schema`) is generated from them.
import { z } from "zod";
import { durationProblem } from "../../util/duration.js";
import { parseExpectation } from "../../evaluate/expectations.js";

export const durationSchema = z
  .union([z.string(), z.number()], { error: "expected a duration like 250ms, 2s or 1m" })
  .superRefine((value, ctx) => {
    const problem = durationProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({ description: "Duration: 250ms, 2s, 1m (a bare number is milliseconds, 1000 or more)" });

export const expectationSchema = z
  .union([z.string(), z.number(), z.boolean(), z.null()], { error: 'expected a value (status: 200) or an operator and a value ("< 200ms", "~ ^ok")' })
  .superRefine((value, ctx) => {
    try {
      parseExpectation(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  })
  .meta({ description: 'A value (equality) or an operator string: "< 200ms", ">= 95%", "!= 0", "~ ^2\\d\\d$"' });

export const expectationsSchema = z.record(z.string(), expectationSchema);

/** RFC 9110 token: what a header name may be made of. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Request headers (http, websocket upgrade). Node refuses a value with a line
 * break or a character above U+00FF only when it sends the request; said
 * here, the key is named before anything is contacted — and the value never
 * is (it is often a token).
 */
export const headersSchema = z
  .record(
    z.string().regex(HEADER_NAME, { error: "a header name is letters, digits and !#$%&'*+.^_`|~- (no spaces or colons)" }),
    z.string().superRefine((value, ctx) => {
      if (/[\r\n\0]/.test(value)) {
        ctx.addIssue({ code: "custom", message: "the header value has a line break or a NUL: one header is one line (a variable with a trailing newline? trim it)" });
      } else if ([...value].some((character) => character.codePointAt(0)! > 0xff)) {
        ctx.addIssue({ code: "custom", message: "the header value has characters outside Latin-1 (such as emoji or ✓): HTTP sends header values as bytes; percent-encode them" });
      }
    }),
  )
  .default({});

/** TLS options shared by every kind that speaks TLS. */
export const tlsSchema = z.strictObject({
  ca: z
    .union([z.string(), z.strictObject({ memorystoreCa: z.string().min(1).meta({ description: "Memorystore instance whose server CA certificates to trust (read with GetInstance)" }) })])
    .optional()
    .meta({ description: "CA bundle (PEM) path, relative to the config file; or { memorystoreCa: INSTANCE }: the instance's server CAs, read at run time" }),
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
