// Memorystore for Redis API v1: instances and their AUTH strings.
import { defineEmulatedApi } from "../api.js";

export interface MemorystoreControls {
  /** The AUTH string GetInstanceAuthString returns for an instance ("" = AUTH disabled). */
  setAuthString(instance: string, authString: string): void;
}
export interface MemorystoreOptions {
  authStrings?: Record<string, string>;
}

export const MEMORYSTORE = defineEmulatedApi<MemorystoreControls, MemorystoreOptions>({
  protos: { redis: "@google-cloud/redis/build/protos/protos.json" },
  collections: [
    { collection: "instances", pattern: /^projects\/[^/]+\/locations\/[^/]+\/instances\/[^/]+$/, type: "google.cloud.redis.v1.Instance", proto: "redis", noun: "Memorystore instance" },
  ],
  domain: "redis.googleapis.com",
  permissions: {
    GetInstance: "redis.instances.get",
    ListInstances: "redis.instances.list",
    GetInstanceAuthString: "redis.instances.getAuthString",
  },
  start(tools, options) {
    const authStrings = new Map<string, string>(Object.entries(options.authStrings ?? {}));
    return {
      controls: {
        setAuthString: (instance, authString) => void authStrings.set(instance, authString),
      },
      services: [
        {
          proto: "redis",
          service: "google.cloud.redis.v1.CloudRedis",
          handlers: {
            getInstance: tools.getter("GetInstance", "instances"),
            listInstances: tools.lister("ListInstances", "instances", "instances", { unreachable: [] }),
            getInstanceAuthString: tools.rpc("GetInstanceAuthString", "name", (name) => {
              const found = tools.resource(name, "instances");
              if (!found) return tools.notFound("GetInstanceAuthString", name);
              return { ok: { authString: found.authEnabled ? (authStrings.get(name) ?? "") : "" } };
            }),
          },
        },
      ],
    };
  },
});
