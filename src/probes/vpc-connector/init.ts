// What the vpc-connector kind contributes to `infra-check init`: the
// connector the service egresses through becomes a check (READY, and the
// network it is on), which the data-plane checks depend on: a broken
// connector then blocks them with one root cause instead of N timeouts.
import { shortName } from "../../gcp/resources.js";
import type { KindInit } from "../init-api.js";

/** What the checks behind the connector read from its proposal: the connector's full resource name. */
export const CONNECTOR_FACT = "connector";

const init: KindInit = {
  starter: {
    name: "connector",
    usesGcp: true,
    yaml: `    # The Serverless VPC Access connector Cloud Run reaches Redis and
    # Cloud SQL through: READY, or everything behind it times out.
    name: staging-connector
    timeout: 5s
`,
  },
  map(facts, ctx) {
    const connector = facts.network.connector;
    if (!connector) {
      const note = facts.network.directVpc?.length ? "Direct VPC egress: there is no connector to check (the cloud-run check asserts the network interface)" : "the service has no VPC egress";
      return { checks: [], rows: [{ from: "VPC connector", note }] };
    }
    const [, project, , region] = connector.split("/");
    // Same project and region as the config's gcp: block → the short name; a Shared-VPC host project's → the full name.
    const sameHome = project === facts.project && region === facts.region;
    const name = ctx.uniqueName("connector");
    return {
      checks: [
        {
          name,
          kind: "vpc-connector",
          comment: "The connector the service egresses through: READY, or every private target times out. Checks behind it depend on it.",
          fields: { name: sameHome || !connector.startsWith("projects/") ? shortName(connector) : connector, timeout: "5s" },
          provides: { [CONNECTOR_FACT]: connector },
        },
      ],
      rows: [{ from: `connector ${shortName(connector)}`, to: name, note: facts.network.egress ? `egress ${facts.network.egress}` : undefined }],
    };
  },
};

export default init;
