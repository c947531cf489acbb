// A postgres check and the Cloud SQL instance it depends on (`dependsOn` a
// cloud-sql check): pure functions of the check's spec and the instance
// check's measured metrics, owned here (the dependent kind).
// - the instance enforces the connector and the check dials a raw host → `config`, before connecting;
// - the check asks the connector for an address type the instance has not → `config`, before connecting;
// - a raw IP host that is none of the instance's addresses → `drift`.
// The instance not RUNNABLE (or stopped) needs nothing here: the runner blocks
// this check on the failed instance check, which is the root cause.
import net from "node:net";
import { defineCatalogue, diagnosisOf } from "../../diagnose/catalogue.js";
import type { Assertion } from "../../diagnose/vocabulary.js";
import type { DependencyResult, Relations } from "../api.js";
import type { PostgresFields } from "./config.js";

export const PG_RELATIONS = defineCatalogue("pg", {
  CLOUDSQL_CONNECTOR_REQUIRED: {
    class: "config",
    code: "CONNECTOR_REQUIRED",
    phase: "preflight",
    message: (f: { instance: string; check: string; host: string }) =>
      `Cloud SQL instance ${f.instance} (check "${f.check}") has connectorEnforcement REQUIRED, but this check dials ${f.host} directly: the instance refuses it — not connecting`,
    hint: (f: { connectionName: string }) =>
      `Connect the way the instance allows: \`cloudSql: { instance: ${f.connectionName}, ipType: PRIVATE }\` instead of host/port (or turn enforcement off: gcloud sql instances patch … --connector-enforcement NOT_REQUIRED).`,
  },
  CLOUDSQL_NO_SUCH_ADDRESS: {
    class: "config",
    code: "NO_ADDRESS",
    phase: "preflight",
    message: (f: { instance: string; check: string; ipType: string; has: string }) =>
      `cloudSql.ipType is ${f.ipType}, but Cloud SQL instance ${f.instance} (check "${f.check}") has no ${f.ipType} address (it has: ${f.has}) — not connecting`,
    hint: "Set cloudSql.ipType to an address the instance has (PRIVATE from inside its VPC, PUBLIC from outside), or add that address to the instance.",
  },
});

function instances(dependencies: ReadonlyMap<string, DependencyResult>): DependencyResult[] {
  return [...dependencies.values()].filter((result) => result.kind === "cloud-sql");
}

const nameOf = (result: DependencyResult) => String(result.metrics.connectionName ?? result.metrics.instance ?? result.name);
const addressesOf = (result: DependencyResult) =>
  [
    typeof result.metrics.privateIp === "string" ? `PRIVATE ${result.metrics.privateIp}` : undefined,
    typeof result.metrics.publicIp === "string" ? `PUBLIC ${result.metrics.publicIp}` : undefined,
  ].filter((entry): entry is string => entry !== undefined);

export const postgresRelations: Relations<PostgresFields> = {
  preflight(spec, dependencies) {
    for (const instance of instances(dependencies)) {
      if (!spec.cloudSql && instance.metrics.connectorEnforcement === "REQUIRED") {
        return diagnosisOf(PG_RELATIONS.CLOUDSQL_CONNECTOR_REQUIRED, { instance: nameOf(instance), connectionName: nameOf(instance), check: instance.name, host: `${spec.host}:${spec.port}` });
      }
      const ipType = spec.cloudSql?.ipType;
      const metric = ipType === "PUBLIC" ? "publicIp" : ipType === "PRIVATE" ? "privateIp" : undefined;
      if (metric && instance.metrics[metric] === null) {
        return diagnosisOf(PG_RELATIONS.CLOUDSQL_NO_SUCH_ADDRESS, { instance: nameOf(instance), check: instance.name, ipType: ipType!, has: addressesOf(instance).join(", ") || "no address" });
      }
    }
    return undefined;
  },

  assert(spec, _measurement, dependencies) {
    // Through the connector the address comes from the instance itself; a raw IP must be one of its addresses.
    if (spec.cloudSql || net.isIP(spec.host) === 0) return [];
    return instances(dependencies).map((instance): Assertion => {
      const addresses = [instance.metrics.privateIp, instance.metrics.publicIp].filter((value): value is string => typeof value === "string");
      const ok = addresses.includes(spec.host);
      return {
        metric: `cloud-sql.${instance.name}`,
        op: "==",
        expected: `${addresses.join(" or ") || "an instance address"} (instance "${instance.name}")`,
        actual: spec.host,
        ok,
        severity: "fail",
        ...(ok ? {} : { class: "drift" as const }),
      };
    });
  },
};
