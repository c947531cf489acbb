// What the cloud-sql kind contributes to `infra-check init`: each Cloud SQL
// instance the service mounts (a Cloud SQL volume, or the
// run.googleapis.com/cloudsql-instances annotation) becomes a check pinned to
// the tier and version the Admin API reports now; the postgres check of the
// app's database depends on it (and reads its address from it).
import type { KindInit, MappingRow, ProposedCheck } from "../init-api.js";
import { CLOUD_SQL } from "./api.js";
import { CONNECTION_NAME } from "./config.js";

/** What a postgres proposal reads from a cloud-sql one. */
export const CLOUD_SQL_FACT = "cloudSqlInstance";

interface Instance {
  tier?: string;
  databaseVersion?: string;
  settings?: { tier?: string } | null;
  ipAddresses?: { type?: string; ipAddress?: string }[];
}

export interface CloudSqlProvided {
  connectionName: string;
  privateIp?: string;
  publicIp?: string;
}

const init: KindInit = {
  starter: {
    name: "db-instance",
    usesGcp: true,
    yaml: `    # The Cloud SQL instance: RUNNABLE and not stopped, disk not full,
    # configured as expected.
    # The instance id (with gcp.project), or its connection name P:R:I.
    instance: staging-postgres
    timeout: 5s
    expect:
      databaseVersion: POSTGRES_15
`,
  },
  async map(facts, ctx) {
    const checks: ProposedCheck[] = [];
    const rows: MappingRow[] = [];
    for (const connectionName of facts.cloudSqlInstances) {
      const match = CONNECTION_NAME.exec(connectionName);
      if (!match) {
        rows.push({ from: `Cloud SQL ${connectionName}`, note: "not a connection name PROJECT:REGION:INSTANCE" });
        continue;
      }
      const [, project, , id] = match;
      const name = ctx.uniqueName(facts.cloudSqlInstances.length > 1 ? `${id}-instance` : "db-instance");
      const expect: Record<string, unknown> = {};
      const provided: CloudSqlProvided = { connectionName };
      let note: string | undefined;
      try {
        const gcp = await ctx.gcp();
        await gcp.prepare(CLOUD_SQL);
        const instance = await gcp.call<Instance>(CLOUD_SQL, "Get", { project, instance: id }, `projects/${project}/instances/${id}`);
        if (instance.settings?.tier) expect.tier = instance.settings.tier;
        if (instance.databaseVersion) expect.databaseVersion = instance.databaseVersion;
        const address = (type: string) => instance.ipAddresses?.find((entry) => entry.type === type)?.ipAddress;
        if (address("PRIVATE")) provided.privateIp = address("PRIVATE");
        if (address("PRIMARY")) provided.publicIp = address("PRIMARY");
      } catch (error) {
        note = `instance not read (${ctx.describe(error)}): no configuration pinned`;
      }
      checks.push({
        name,
        kind: "cloud-sql",
        comment: `Cloud SQL instance ${id}, mounted by the service: RUNNABLE and not stopped, disk not full${Object.keys(expect).length ? ", and its plan as it is now (a change is drift)" : ""}.`,
        fields: { instance: connectionName, timeout: "5s", ...(Object.keys(expect).length ? { expect } : {}) },
        provides: { [CLOUD_SQL_FACT]: provided },
      });
      rows.push({ from: `Cloud SQL ${connectionName}`, to: name, ...(note ? { note } : {}) });
    }
    return { checks, rows };
  },
};

export default init;
