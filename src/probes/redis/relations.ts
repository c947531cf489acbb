// A redis check and the Memorystore instance it depends on (`dependsOn`, as
// the config should wire it): pure functions of the check's spec and the
// instance check's measured metrics.
// - the instance has AUTH enabled and the check has no password → `config`,
//   before connecting: it would be rejected (NOAUTH);
// - the instance has transit encryption and the check speaks plaintext → `config`,
//   before connecting: TLS clients only (port 6378, the instance's CA);
// - the check's host/port is not the instance's (primary or read endpoint) → `drift`.
import net from "node:net";
import { defineCatalogue, diagnosisOf } from "../../diagnose/catalogue.js";
import type { Assertion, MetricValue } from "../../diagnose/vocabulary.js";
import type { DependencyResult, Relations } from "../api.js";
import { configuredEndpoint, DEFAULT_PORT, type RedisFields } from "./config.js";

export const REDIS_RELATIONS = defineCatalogue("redis", {
  AUTH_REQUIRED_NO_PASSWORD: {
    class: "config",
    code: "AUTH_REQUIRED_NO_PASSWORD",
    phase: "preflight",
    message: (f: { id: string; check: string }) => `Memorystore instance ${f.id} (check "${f.check}") has AUTH enabled, but this check has no password: it would be rejected (NOAUTH) — not connecting`,
    hint: (f: { id: string; project: string }) =>
      `Wire the instance's AUTH string as the password: \`password: { memorystoreAuth: ${f.id} }\` (read at run time with GetInstanceAuthString), ` +
      `or the Secret Manager secret the app uses: \`password: { secret: projects/${f.project}/secrets/NAME }\`, or \`password: \${REDIS_PASSWORD}\`.`,
  },
  TLS_REQUIRED: {
    class: "config",
    code: "TLS_REQUIRED",
    phase: "preflight",
    message: (f: { id: string; check: string; port: number }) =>
      `Memorystore instance ${f.id} (check "${f.check}") has transit encryption (SERVER_AUTHENTICATION): it accepts TLS clients only, on port ${f.port}, but this check speaks plaintext redis:// — not connecting`,
    hint: (f: { id: string; host: string; port: number }) =>
      `Connect with TLS and trust the instance's own CA: \`url: rediss://${f.host}:${f.port}\` with \`tls: { ca: { memorystoreCa: ${f.id} } }\` (the CA is read from the API at run time; gcloud redis instances describe ${f.id} --format='value(serverCaCerts[0].cert)' prints it).`,
  },
});

/** The Memorystore instance checks this one depends on (the instance kind records its host). */
function instances(dependencies: ReadonlyMap<string, DependencyResult>): DependencyResult[] {
  return [...dependencies.values()].filter((result) => result.kind === "memorystore" && typeof result.metrics.host === "string");
}

function instanceId(result: DependencyResult): string {
  const full = typeof result.metrics.instance === "string" ? result.metrics.instance : result.name;
  return full.split("/").pop() ?? full;
}

/** The addresses a client of this instance may use: the primary endpoint and, with read replicas, the read endpoint. */
function instanceEndpoints(result: DependencyResult): { host: string; port: number }[] {
  const { host, port, readEndpoint, readEndpointPort } = result.metrics;
  const endpoints = [{ host: String(host), port: Number(port ?? DEFAULT_PORT) }];
  if (typeof readEndpoint === "string" && readEndpoint) endpoints.push({ host: readEndpoint, port: Number(readEndpointPort ?? port ?? DEFAULT_PORT) });
  return endpoints;
}

function aimsAt(endpoint: { host: string; port: number }, result: DependencyResult): boolean {
  return instanceEndpoints(result).some((candidate) => candidate.host === endpoint.host && candidate.port === endpoint.port);
}

export const redisRelations: Relations<RedisFields> = {
  preflight(spec, dependencies) {
    const endpoint = configuredEndpoint(spec);
    if (!endpoint) return undefined;
    // A plaintext client of a TLS-only instance is reset at the first byte: say so before connecting.
    // Matched by host (and read endpoint): the TLS port (6378) is not the plaintext default a URL names.
    const tlsOnly = endpoint.tls
      ? undefined
      : instances(dependencies).find((result) => result.metrics.transitEncryption === "SERVER_AUTHENTICATION" && instanceEndpoints(result).some((candidate) => candidate.host === endpoint.host));
    if (tlsOnly) return diagnosisOf(REDIS_RELATIONS.TLS_REQUIRED, { id: instanceId(tlsOnly), check: tlsOnly.name, host: endpoint.host, port: Number(tlsOnly.metrics.port ?? 6378) });
    if (endpoint.hasPassword) return undefined;
    const instance = instances(dependencies).find((result) => result.metrics.authEnabled === true && aimsAt(endpoint, result));
    if (!instance) return undefined;
    const full = typeof instance.metrics.instance === "string" ? instance.metrics.instance : instanceId(instance);
    const project = /^projects\/([^/]+)/.exec(full)?.[1] ?? "PROJECT";
    return diagnosisOf(REDIS_RELATIONS.AUTH_REQUIRED_NO_PASSWORD, { id: instanceId(instance), check: instance.name, project });
  },

  assert(spec, _measurement, dependencies) {
    const endpoint = configuredEndpoint(spec);
    if (!endpoint) return [];
    return instances(dependencies).map((instance): Assertion => {
      const endpoints = instanceEndpoints(instance);
      // A host name cannot be compared with the instance's IP without resolving it; compare the port only.
      const byName = net.isIP(endpoint.host) === 0;
      const ok = byName ? endpoints.some((candidate) => candidate.port === endpoint.port) : aimsAt(endpoint, instance);
      const expected = endpoints.map((candidate) => `${candidate.host}:${candidate.port}`).join(" or ");
      return {
        metric: `memorystore.${instanceId(instance)}`,
        op: "==",
        expected: byName
          ? `port ${endpoints.map((candidate) => candidate.port).join(" or ")} (instance "${instance.name}"; host ${endpoint.host} is a name, not compared)`
          : `${expected} (instance "${instance.name}")`,
        actual: `${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}` as MetricValue,
        ok,
        severity: "fail",
        ...(ok ? {} : { class: "drift" as const }),
      };
    });
  },
};
