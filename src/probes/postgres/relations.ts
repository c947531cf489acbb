// A postgres check and the Cloud SQL instance it depends on (`dependsOn` a
// cloud-sql check): pure functions of the check's spec and the instance
// check's measured metrics, owned here (the dependent kind).
// - the instance enforces the connector and the check dials a raw host → `config`, before connecting;
// - `cloudSql.instance` names another instance (or region) than every cloud-sql check it depends on → `config`,
//   before connecting: it would reach one instance and be judged (blocked, evidence) by another;
// - the check asks the connector for an address type the instance has not (PUBLIC, PRIVATE, PSC) → `config`, before connecting;
// - a raw IP host that is none of the instance's addresses → `drift`.
// The instance not RUNNABLE (or stopped) needs nothing here: the runner blocks
// this check on the failed instance check, which is the root cause.
import net from "node:net";
import { defineCatalogue, diagnosisOf } from "../../diagnose/catalogue.js";
import type { Assertion, ClassifiedError } from "../../diagnose/vocabulary.js";
import type { DependencyResult, Relations } from "../api.js";
import { CONNECTION_NAME } from "../cloud-sql/config.js";
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
  CLOUDSQL_OTHER_INSTANCE: {
    class: "config",
    code: "OTHER_INSTANCE",
    phase: "preflight",
    message: (f: { mine: string; check: string; theirs: string; what: string }) =>
      `cloudSql.instance is ${f.mine}, but the cloud-sql check "${f.check}" it depends on watches ${f.theirs} (${f.what}): this check would reach one instance and be judged by another's state — not connecting`,
    hint: (f: { check: string; theirs: string }) =>
      `Name the same instance in both: cloudSql.instance: ${f.theirs} (the connection name gcloud sql instances describe prints), or make the check depend on the cloud-sql check of the instance it connects to instead of "${f.check}".`,
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
    result.metrics.pscEnabled === true ? "PSC" : undefined,
  ].filter((entry): entry is string => entry !== undefined);

/** The project, region (when named) and id of a connection name or a bare id. */
function partsOf(value: string): { project?: string; region?: string; id: string } {
  const match = CONNECTION_NAME.exec(value);
  return match ? { project: match[1], region: match[2], id: match[3] } : { id: value };
}

/** What the instance check observed: the API's connection name (P:R:I), else the resource it asked for (projects/P/instances/I). */
function observedParts(result: DependencyResult): { project?: string; region?: string; id: string } | undefined {
  if (typeof result.metrics.connectionName === "string" && CONNECTION_NAME.test(result.metrics.connectionName)) return partsOf(result.metrics.connectionName);
  const resource = typeof result.metrics.instance === "string" ? /^projects\/([^/]+)\/instances\/([^/]+)$/.exec(result.metrics.instance) : null;
  if (!resource) return undefined;
  return { project: resource[1], id: resource[2], ...(typeof result.metrics.region === "string" ? { region: result.metrics.region } : {}) };
}

/** Why cloudSql.instance is not the instance a cloud-sql check watches (undefined: the same, or not known). */
function otherInstance(mine: string, result: DependencyResult): string | undefined {
  const theirs = observedParts(result);
  if (!theirs) return undefined;
  const own = partsOf(mine);
  if (own.id !== theirs.id) return `another instance id: ${own.id}, not ${theirs.id}`;
  if (own.project && theirs.project && own.project !== theirs.project) return `another project: ${own.project}, not ${theirs.project}`;
  if (own.region && theirs.region && own.region !== theirs.region) return `instance ${theirs.id} is in ${theirs.region}, not ${own.region}`;
  return undefined;
}

/** Through the connector, with cloud-sql checks in dependsOn: none watches the instance this check reaches → the first one's mismatch. */
function instanceMismatch(mine: string, dependencies: DependencyResult[]): ClassifiedError | undefined {
  const mismatches = dependencies.map((result) => ({ result, what: otherInstance(mine, result) }));
  if (mismatches.some((entry) => entry.what === undefined)) return undefined;
  const first = mismatches[0];
  if (!first) return undefined;
  return diagnosisOf(PG_RELATIONS.CLOUDSQL_OTHER_INSTANCE, { mine, check: first.result.name, theirs: nameOf(first.result), what: first.what! });
}

export const postgresRelations: Relations<PostgresFields> = {
  preflight(spec, dependencies) {
    const all = instances(dependencies);
    if (spec.cloudSql) {
      const mismatch = instanceMismatch(spec.cloudSql.instance, all);
      if (mismatch) return mismatch;
    }
    for (const instance of all) {
      if (!spec.cloudSql && instance.metrics.connectorEnforcement === "REQUIRED") {
        return diagnosisOf(PG_RELATIONS.CLOUDSQL_CONNECTOR_REQUIRED, { instance: nameOf(instance), connectionName: nameOf(instance), check: instance.name, host: `${spec.host}:${spec.port}` });
      }
      // Only the instance this check connects to says which addresses it has.
      if (spec.cloudSql && otherInstance(spec.cloudSql.instance, instance) !== undefined) continue;
      const ipType = spec.cloudSql?.ipType;
      const metric = ipType === "PUBLIC" ? "publicIp" : ipType === "PRIVATE" ? "privateIp" : undefined;
      const missing = metric ? instance.metrics[metric] === null : ipType === "PSC" && instance.metrics.pscEnabled === false;
      if (missing) {
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
