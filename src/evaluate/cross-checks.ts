// Cross-checks between cloud state and data-plane checks (issue 6): pure
// functions of a check's spec and the results of the checks it depends on
// (so they apply when the config wires them with `dependsOn`, as it should:
// a Redis check depends on the instance it talks to).
//
// - a `redis` check without a password, aimed at a Memorystore instance that
//   has AUTH enabled → `config` failure before connecting (incident 1);
// - a `redis` check whose host/port is not the instance's → `drift`;
// - a `cloud-run` service whose VPC connector is not the one the
//   `vpc-connector` check it depends on checks → `drift`.
// The redis spec is read through `url` and `password` only.
import net from "node:net";
import type { Assertion, ClassifiedError, MetricValue } from "../diagnose/vocabulary.js";
import type { CheckResult } from "../report/schema.js";
import type { CheckSpec, Measurement } from "../probes/api.js";
import { sameResource, shortName } from "../gcp/resources.js";

interface Endpoint {
  host: string;
  port: number;
  hasPassword: boolean;
}

/** host, port and whether any password is configured (literal, ${ENV} already expanded, or a secret reference). */
function redisEndpoint(spec: CheckSpec): Endpoint | undefined {
  if (typeof spec.url !== "string") return undefined;
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    return undefined;
  }
  const password = spec.password;
  const hasPassword = Boolean(url.password) || (typeof password === "string" ? password.length > 0 : password !== undefined && password !== null);
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port ? Number(url.port) : 6379, hasPassword };
}

function memorystores(dependencies: ReadonlyMap<string, CheckResult>): CheckResult[] {
  return [...dependencies.values()].filter((result) => result.kind === "memorystore" && typeof result.metrics.host === "string");
}

function instanceId(result: CheckResult): string {
  return shortName(typeof result.metrics.instance === "string" ? result.metrics.instance : result.name);
}

/** The addresses a client of this instance may use: the primary endpoint and, with read replicas, the read endpoint. */
function instanceEndpoints(result: CheckResult): { host: string; port: number }[] {
  const { host, port, readEndpoint, readEndpointPort } = result.metrics;
  const endpoints = [{ host: String(host), port: Number(port ?? 6379) }];
  if (typeof readEndpoint === "string" && readEndpoint) endpoints.push({ host: readEndpoint, port: Number(readEndpointPort ?? port ?? 6379) });
  return endpoints;
}

function aimsAt(endpoint: Endpoint, result: CheckResult): boolean {
  return instanceEndpoints(result).some((candidate) => candidate.host === endpoint.host && candidate.port === endpoint.port);
}

/** Run before a check's probe: a contradiction found here fails the check without connecting. */
export function preflight(spec: CheckSpec, dependencies: ReadonlyMap<string, CheckResult>): ClassifiedError | undefined {
  if (spec.kind !== "redis") return undefined;
  const endpoint = redisEndpoint(spec);
  if (!endpoint || endpoint.hasPassword) return undefined;
  const instance = memorystores(dependencies).find((result) => result.metrics.authEnabled === true && aimsAt(endpoint, result));
  if (!instance) return undefined;
  const id = instanceId(instance);
  const full = typeof instance.metrics.instance === "string" ? instance.metrics.instance : id;
  const project = /^projects\/([^/]+)/.exec(full)?.[1] ?? "PROJECT";
  return {
    class: "config",
    code: "AUTH_REQUIRED_NO_PASSWORD",
    phase: "preflight",
    message: `Memorystore instance ${id} (check "${instance.name}") has AUTH enabled, but this check has no password: it would be rejected (NOAUTH) — not connecting`,
    hint:
      `Wire the instance's AUTH string as the password: \`password: { memorystoreAuth: ${id} }\` (read at run time with GetInstanceAuthString), ` +
      `or the Secret Manager secret the app uses: \`password: { secret: projects/${project}/secrets/NAME }\`, or \`password: \${REDIS_PASSWORD}\`.`,
  };
}

/** Extra assertions computed after the probe ran, from its measurement and its dependencies'. */
export function afterRun(spec: CheckSpec, measurement: Measurement, dependencies: ReadonlyMap<string, CheckResult>): Assertion[] {
  if (spec.kind === "redis") return redisAgainstInstances(spec, dependencies);
  if (spec.kind === "cloud-run") return serviceAgainstConnectors(measurement, dependencies);
  return [];
}

function redisAgainstInstances(spec: CheckSpec, dependencies: ReadonlyMap<string, CheckResult>): Assertion[] {
  const endpoint = redisEndpoint(spec);
  if (!endpoint) return [];
  return memorystores(dependencies).map((instance) => {
    const endpoints = instanceEndpoints(instance);
    // A host name cannot be compared with the instance's IP without resolving it; compare the port only.
    const byName = net.isIP(endpoint.host) === 0;
    const ok = byName ? endpoints.some((candidate) => candidate.port === endpoint.port) : aimsAt(endpoint, instance);
    const expected = endpoints.map((candidate) => `${candidate.host}:${candidate.port}`).join(" or ");
    return {
      metric: `memorystore.${instanceId(instance)}`,
      op: "==",
      expected: byName ? `port ${endpoints.map((candidate) => candidate.port).join(" or ")} (instance "${instance.name}"; host ${endpoint.host} is a name, not compared)` : `${expected} (instance "${instance.name}")`,
      actual: `${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}` as MetricValue,
      ok,
      severity: "fail",
      ...(ok ? {} : { class: "drift" as const }),
    };
  });
}

function serviceAgainstConnectors(measurement: Measurement, dependencies: ReadonlyMap<string, CheckResult>): Assertion[] {
  const connectors = [...dependencies.values()].filter((result) => result.kind === "vpc-connector" && typeof result.metrics.connector === "string");
  const actual = measurement.metrics.vpcConnector;
  return connectors.map((connector) => {
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
}
