// What the memorystore kind contributes to `infra-check init`: given the
// Redis address an app uses, the Memorystore instance behind it (from
// ListInstances in the service's region) as a check pinned to what the API
// reports now (a later change is drift), and what the redis check needs to
// know of it (the instance, whether it requires AUTH, whether it speaks TLS).
import type { GcpSession } from "../../gcp/session.js";
import { shortName } from "../../gcp/resources.js";
import type { KindInit, ProposedCheck } from "../init-api.js";
import { MEMORYSTORE } from "./api.js";

interface Instance {
  name?: string;
  host?: string;
  port?: number;
  readEndpoint?: string;
  readEndpointPort?: number;
  tier?: string;
  memorySizeGb?: number;
  redisVersion?: string;
  authEnabled?: boolean;
  transitEncryptionMode?: string;
  state?: string;
}

/** What a redis check wires from the instance it was matched to. */
export interface MatchedInstance {
  check: ProposedCheck;
  /** The instance id (short when in the service's project and region). */
  instance: string;
  authEnabled: boolean;
  tls: boolean;
  /** The port the app should use (the primary's; 6378 with TLS). */
  port: number;
}

/** The instances of `project`/`region`, listed once per init run. */
const listed = new WeakMap<GcpSession, Promise<Instance[]>>();

export async function listInstances(gcp: GcpSession, project: string, region: string): Promise<Instance[]> {
  let pending = listed.get(gcp);
  if (!pending) {
    pending = (async () => {
      await gcp.prepare(MEMORYSTORE);
      // The library pages through every result (autoPaginate) and hands back the instances.
      const found = await gcp.call<Instance[]>(MEMORYSTORE, "ListInstances", { parent: `projects/${project}/locations/${region}` }, `projects/${project}/locations/${region}`);
      return Array.isArray(found) ? found : [];
    })();
    pending.catch(() => undefined);
    listed.set(gcp, pending);
  }
  return pending;
}

/** The instance whose primary or read endpoint is host[:port], as a memorystore check, or undefined. */
export async function memorystoreFor(
  endpoint: { host: string; port?: number },
  where: { project: string; region: string; checkName: string },
  gcp: GcpSession,
): Promise<MatchedInstance | undefined> {
  const instances = await listInstances(gcp, where.project, where.region);
  const instance = instances.find(
    (candidate) =>
      (candidate.host === endpoint.host && (endpoint.port === undefined || candidate.port === endpoint.port)) ||
      (candidate.readEndpoint === endpoint.host && (endpoint.port === undefined || candidate.readEndpointPort === endpoint.port)),
  );
  if (!instance?.name) return undefined;
  const id = shortName(instance.name);
  const tls = instance.transitEncryptionMode === "SERVER_AUTHENTICATION";
  const expect: Record<string, unknown> = {};
  if (instance.host) expect.host = instance.host;
  if (instance.port) expect.port = instance.port;
  if (instance.tier) expect.tier = instance.tier;
  if (instance.memorySizeGb) expect.memorySizeGb = instance.memorySizeGb;
  if (instance.redisVersion) expect.redisVersion = instance.redisVersion;
  expect.authEnabled = Boolean(instance.authEnabled);
  if (instance.transitEncryptionMode) expect.transitEncryption = instance.transitEncryptionMode;
  return {
    instance: id,
    authEnabled: Boolean(instance.authEnabled),
    tls,
    port: instance.port ?? endpoint.port ?? 6379,
    check: {
      name: where.checkName,
      kind: "memorystore",
      comment: `Memorystore instance ${id} (the app's Redis at ${endpoint.host}): READY, and configured as it is now — a change shows as drift.`,
      fields: { instance: id, timeout: "5s", expect },
    },
  };
}

const init: KindInit = {
  starter: {
    name: "cache-instance",
    usesGcp: true,
    yaml: `    # The Memorystore instance: READY, and configured as expected (each
    # difference is listed as drift).
    instance: staging-redis
    timeout: 5s
    expect:
      tier: STANDARD_HA
      redisVersion: REDIS_7_2
      authEnabled: true
`,
  },
};

export default init;
