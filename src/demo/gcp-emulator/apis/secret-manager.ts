// Secret Manager API v1: secret versions and their payloads, global
// (projects/P/secrets/S) and regional (projects/P/locations/L/secrets/S).
// As the real API does: `latest` is the newest version whatever its state —
// a disabled or destroyed newest version fails with FAILED_PRECONDITION, there
// is no fallback to an older enabled one — and messages name the project by
// its number.
import { defineEmulatedApi } from "../api.js";

const SECRET_VERSION = /^(projects\/[^/]+\/(?:locations\/[^/]+\/)?secrets\/[^/]+)\/versions\/([^/]+)$/;
const SECRET = /^projects\/[^/]+\/(?:locations\/[^/]+\/)?secrets\/[^/]+$/;

export type SecretVersionState = "ENABLED" | "DISABLED" | "DESTROYED";

export interface SecretManagerControls {
  /** Add a version to a secret (`projects/P/secrets/S` or `projects/P/locations/L/secrets/S`); returns the version's name. `latest` is the newest version. */
  addSecretVersion(secret: string, value: string | Buffer): string;
  /** Disable (or re-enable) one secret version. */
  setSecretVersionEnabled(version: string, enabled: boolean): void;
  /** Put one secret version in a state (DESTROYED also drops its payload, for good). */
  setSecretVersionState(version: string, state: SecretVersionState): void;
  /** Forget every secret and version (a test's reset to the seeded world). */
  clearSecrets(): void;
}
export interface SecretManagerOptions {
  /** Secret name (projects/P/secrets/S) → the value of its first version. */
  secrets?: Record<string, string>;
}

export const SECRET_MANAGER = defineEmulatedApi<SecretManagerControls, SecretManagerOptions>({
  protos: { secretManager: "@google-cloud/secret-manager/build/protos/protos.json" },
  domain: "secretmanager.googleapis.com",
  permissions: { AccessSecretVersion: "secretmanager.versions.access" },
  start(tools, options) {
    const secretVersions = new Map<string, { version: number; data: Buffer; state: SecretVersionState }[]>();
    const versionOf = (version: string) => {
      const match = SECRET_VERSION.exec(version);
      const found = match && secretVersions.get(match[1])?.find((entry) => String(entry.version) === match[2]);
      if (!found) throw new Error(`emulator: no secret version ${version}`);
      return found;
    };
    const controls: SecretManagerControls = {
      addSecretVersion(secret, value) {
        if (!SECRET.test(secret)) throw new Error(`emulator: "${secret}" is not projects/P/secrets/S or projects/P/locations/L/secrets/S`);
        tools.projectNumber(secret.split("/")[1]);
        const versions = secretVersions.get(secret) ?? [];
        const version = versions.length + 1;
        versions.push({ version, data: Buffer.isBuffer(value) ? value : Buffer.from(value, "utf8"), state: "ENABLED" });
        secretVersions.set(secret, versions);
        return `${secret}/versions/${version}`;
      },
      setSecretVersionEnabled(version, enabled) {
        const found = versionOf(version);
        if (found.state === "DESTROYED") throw new Error(`emulator: ${version} is destroyed`);
        found.state = enabled ? "ENABLED" : "DISABLED";
      },
      clearSecrets() {
        secretVersions.clear();
      },
      setSecretVersionState(version, state) {
        const found = versionOf(version);
        found.state = state;
        if (state === "DESTROYED") found.data = Buffer.alloc(0);
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
              const wanted = match[2] === "latest" ? versions.at(-1) : versions.find((entry) => String(entry.version) === match[2]);
              if (!wanted) {
                const secretNumbered = tools.numbered(match[1]);
                return tools.errorFor(
                  "NOT_FOUND",
                  versions.length && match[2] !== "latest" ? `Secret Version [${secretNumbered}/versions/${match[2]}] not found.` : `Secret [${secretNumbered}] not found or has no versions.`,
                  { reason: "RESOURCE_NOT_FOUND", domain: "secretmanager.googleapis.com", metadata: { resource: name } },
                );
              }
              const versionName = tools.numbered(`${match[1]}/versions/${wanted.version}`);
              if (wanted.state !== "ENABLED") return tools.errorFor("FAILED_PRECONDITION", `Secret Version [${versionName}] is in ${wanted.state} state.`);
              return { ok: { name: versionName, payload: { data: wanted.data } } };
            }),
          },
        },
      ],
    };
  },
});
