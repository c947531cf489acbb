// Secret Manager API v1: secret versions and their payloads.
import { defineEmulatedApi } from "../api.js";

const SECRET_VERSION = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/]+)$/;
const SECRET = /^projects\/[^/]+\/secrets\/[^/]+$/;

export interface SecretManagerControls {
  /** Add a version to a secret (`projects/P/secrets/S`); returns the version's name. `latest` is the highest enabled version. */
  addSecretVersion(secret: string, value: string | Buffer): string;
  /** Disable (or re-enable) one secret version. */
  setSecretVersionEnabled(version: string, enabled: boolean): void;
}
export interface SecretManagerOptions {
  /** Secret name (projects/P/secrets/S) → the value of its first version. */
  secrets?: Record<string, string>;
}

export const SECRET_MANAGER = defineEmulatedApi<SecretManagerControls, SecretManagerOptions>({
  protos: { secretManager: "@google-cloud/secret-manager/build/protos/protos.json" },
  permissions: { AccessSecretVersion: "secretmanager.versions.access" },
  notFoundMessage: (method, name) =>
    method === "AccessSecretVersion" ? `Secret [${name.replace(/\/versions\/[^/]+$/, "")}] not found or has no versions.` : undefined,
  start(tools, options) {
    const secretVersions = new Map<string, { version: number; data: Buffer; enabled: boolean }[]>();
    const controls: SecretManagerControls = {
      addSecretVersion(secret, value) {
        if (!SECRET.test(secret)) throw new Error(`emulator: "${secret}" is not projects/P/secrets/S`);
        const versions = secretVersions.get(secret) ?? [];
        const version = versions.length + 1;
        versions.push({ version, data: Buffer.isBuffer(value) ? value : Buffer.from(value, "utf8"), enabled: true });
        secretVersions.set(secret, versions);
        return `${secret}/versions/${version}`;
      },
      setSecretVersionEnabled(version, enabled) {
        const match = SECRET_VERSION.exec(version);
        const found = match && secretVersions.get(match[1])?.find((entry) => String(entry.version) === match[2]);
        if (!found) throw new Error(`emulator: no secret version ${version}`);
        found.enabled = enabled;
      },
    };
    for (const [secret, value] of Object.entries(options.secrets ?? {})) controls.addSecretVersion(secret, value);
    return {
      controls,
      services: [
        {
          proto: "secretManager",
          service: "google.cloud.secretmanager.v1.SecretManagerService",
          handlers: {
            accessSecretVersion: tools.rpc("AccessSecretVersion", "name", (name) => {
              const match = SECRET_VERSION.exec(name);
              if (!match) return tools.errorFor("INVALID_ARGUMENT", `Invalid resource field value in the request: '${name}' is not a secret version name`);
              const versions = secretVersions.get(match[1]) ?? [];
              const wanted =
                match[2] === "latest" ? versions.filter((entry) => entry.enabled).at(-1) : versions.find((entry) => String(entry.version) === match[2]);
              if (!wanted) return tools.notFound("AccessSecretVersion", name);
              if (!wanted.enabled) return tools.errorFor("FAILED_PRECONDITION", `Secret Version [${name}] is in DISABLED state.`);
              return { ok: { name: `${match[1]}/versions/${wanted.version}`, payload: { data: wanted.data } } };
            }),
          },
        },
      ],
    };
  },
});
