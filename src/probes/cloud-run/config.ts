// A cloud-run check's config: the service, and requirements that are not
// metric comparisons (image glob, commit label, connector, env names).
import { z } from "zod";
import { gcpCheckFields } from "../../gcp/resources.js";
import type { CheckSpec } from "../api.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const requireSchema = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .optional()
      .meta({
        description:
          'Image of the serving revision: a glob over the image as deployed ("*:${GIT_SHA}", "us-docker.pkg.dev/p/r/app:*"; a tag is also checked against what it points to now in Artifact Registry), or the digest it runs (sha256:…, IMAGE@sha256:…)',
      }),
    commitLabel: z
      .strictObject({
        key: z.string().min(1).meta({ description: "Revision label key, e.g. commit-sha" }),
        value: z.union([z.string(), z.number()]).transform(String).meta({ description: "Expected value, e.g. ${GIT_SHA}" }),
      })
      .optional()
      .meta({ description: "A label the serving revision must carry (the commit it was built from)" }),
    vpcConnector: z.string().min(1).optional().meta({ description: "Serverless VPC Access connector the serving revision uses (name or full resource name)" }),
    directVpc: z
      .strictObject({
        network: z.string().min(1).optional().meta({ description: "VPC network (name or projects/P/global/networks/N)" }),
        subnetwork: z.string().min(1).optional().meta({ description: "Subnetwork (name or full resource name)" }),
      })
      .optional()
      .meta({ description: "Direct VPC egress: a network interface on this network/subnetwork" }),
    env: z
      .array(z.string().regex(ENV_NAME, "expected an environment variable name"))
      .optional()
      .meta({ description: "Env vars the container must have (literal or from a secret); names only, values are never read into the report" }),
    commit: z
      .union([z.string().regex(/^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$/, "expected a commit SHA (or the tag CI pushes for it)"), z.number()])
      .transform(String)
      .optional()
      .meta({
        description:
          "The commit the serving revision must run (CI shorthand, e.g. ${GIT_SHA}): its image is tagged with it, or a revision label carries it, or it runs the digest that tag points to; a tag re-pushed since the revision was created is drift",
      }),
    revision: z.string().min(1).optional().meta({ description: "Revision that must receive 100 % of the traffic (default: the latest ready one)" }),
    tag: z.string().min(1).optional().meta({ description: "Traffic tag whose revision must receive 100 % of the traffic" }),
  })
  .superRefine((value, ctx) => {
    if (value.vpcConnector && value.directVpc) {
      ctx.addIssue({ code: "custom", path: ["directVpc"], message: "vpcConnector and directVpc exclude each other (a revision uses one or the other)" });
    }
    if (value.revision && value.tag) {
      ctx.addIssue({ code: "custom", path: ["tag"], message: "revision and tag exclude each other: say which revision must serve the traffic once" });
    }
  });

export const schema = z.strictObject({
  service: z.string().min(1).meta({ description: "Service name (with gcp.project / gcp.region) or projects/P/locations/R/services/S" }),
  ...gcpCheckFields,
  require: requireSchema
    .optional()
    .meta({ description: "Requirements that are not metric comparisons; usually written under `expect:` with the metric expectations (image, commit, commitLabel, vpcConnector, directVpc, env, revision, tag)" }),
});
export type CloudRunFields = z.infer<typeof schema>;
export type CloudRunSpec = CheckSpec<CloudRunFields>;

