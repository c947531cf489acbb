// What to do next, by failure class — the fallback when neither the
// diagnosis (every catalogue entry has a hint) nor the kind (its hints for
// failed assertions: slow, drift, …) says something more specific.
import type { ClassifiedError, FailureClass } from "../diagnose/vocabulary.js";
import type { CheckSpec, Measurement, ProbeDefinition } from "../probes/api.js";

export const CLASS_HINTS: Record<FailureClass, string> = {
  dns: "The name did not resolve: check the host name, the DNS record, and the resolver this runner uses.",
  refused: "Nothing is listening there: check that the service runs and the port is right.",
  unreachable: "No network path from this runner to the target: check where it runs, and the firewall on the way.",
  tls: "The TLS side of the connection is not as expected: check the server certificate (validity, names, issuer) and the check's tls: block.",
  auth: "Credentials are missing or rejected: check the configured secret and where the service reads it from.",
  permission: "The identity is known but lacks a role: grant it, or run as an identity that has it.",
  "not-found": "The thing asked for does not exist: check the name, path, project and region.",
  protocol: "The peer answered, but not as expected: check that the right service (and version) is on this endpoint.",
  "server-error": "The server reports its own failure: read its logs around this time.",
  timeout: "Connected but no answer in time: the server is stuck, overloaded, or not the expected service.",
  slow: "It works but too slowly: look at the slowest phase and at the server's load.",
  unhealthy: "The resource reports a bad state: inspect it and its recent changes or deployments.",
  drift: "The actual configuration differs from the expected one: fix the resource or update the expectation.",
  config: "The check's own inputs contradict each other: fix the config.",
  internal: "A bug in infra-check: re-run with --verbose and report it.",
};

export function hintFor(probe: ProbeDefinition | undefined, spec: CheckSpec, failure: ClassifiedError, measurement?: Measurement): string {
  if (failure.hint) return failure.hint;
  const specific = probe?.diagnosis.hints?.[failure.class];
  if (typeof specific === "function") return specific(spec, failure, measurement);
  if (typeof specific === "string") return specific;
  return CLASS_HINTS[failure.class];
}
