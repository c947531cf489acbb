// A cloud-run service and the VPC connector check it depends on: the serving
// revision must use that connector (`drift` otherwise).
import type { Assertion } from "../../diagnose/vocabulary.js";
import { sameResource, shortName } from "../../gcp/resources.js";
import type { Relations } from "../api.js";
import type { CloudRunFields } from "./config.js";

export const cloudRunRelations: Relations<CloudRunFields> = {
  assert(_spec, measurement, dependencies) {
    const connectors = [...dependencies.values()].filter((result) => result.kind === "vpc-connector" && typeof result.metrics.connector === "string");
    const actual = measurement.metrics.vpcConnector;
    return connectors.map((connector): Assertion => {
      const expected = String(connector.metrics.connector);
      const ok = typeof actual === "string" && sameResource(actual, expected);
      return {
        metric: "vpcConnector",
        op: "==",
        expected: `${shortName(expected)} (checked by "${connector.name}")`,
        actual: actual ?? null,
        ok,
        severity: "fail",
        ...(ok ? {} : { class: "drift" as const }),
      };
    });
  },
};
