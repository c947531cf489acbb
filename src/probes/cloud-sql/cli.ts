// `infra-check cloud-sql PROJECT:REGION:INSTANCE`: one cloud-sql check from
// flags — the instance's state, and each expected setting as drift (--tier …,
// or any metric with --expect, e.g. --expect flags.max_connections=200).
import { EMULATOR_ENV, PROJECT_VARIABLES } from "../../gcp/resources.js";
import { ConfigError } from "../../util/errors.js";
import type { OneOffCommand } from "../api.js";

export const cloudSqlOneOff: OneOffCommand = {
  command: "cloud-sql",
  argument: "<instance>",
  forms: ["PROJECT:REGION:INSTANCE", "INSTANCE --project PROJECT"],
  description: "Check a Cloud SQL instance once: RUNNABLE and not stopped, disk not full, and configuration (--tier …, --expect flags.max_connections=200). Needs roles/cloudsql.viewer",
  options: [
    { flags: "--project <project>", description: `Google Cloud project for a bare instance id (default: ${PROJECT_VARIABLES.map((name) => `$${name}`).join(", else ")})` },
    { flags: "--emulator-host <host:port>", description: `talk plaintext gRPC to a local API emulator (default: $${EMULATOR_ENV})` },
    { flags: "--tier <tier>", description: "expected machine tier, e.g. db-custom-2-4096" },
    { flags: "--database-version <version>", description: "expected version, e.g. POSTGRES_15" },
    { flags: "--availability-type <type>", description: "expected ZONAL | REGIONAL" },
    { flags: "--ip-type <type>", description: "expected PRIVATE | PUBLIC | PUBLIC_AND_PRIVATE" },
    { flags: "--ssl-mode <mode>", description: "expected ALLOW_UNENCRYPTED_AND_ENCRYPTED | ENCRYPTED_ONLY | TRUSTED_CLIENT_CERTIFICATE_REQUIRED" },
    { flags: "--connector-enforcement <mode>", description: "expected REQUIRED | NOT_REQUIRED" },
  ],
  examples: [
    "infra-check cloud-sql acme-staging:us-central1:staging-postgres-db --tier db-custom-2-4096 --ip-type PRIVATE",
    "infra-check cloud-sql staging-postgres-db --project acme-staging --expect flags.max_connections=200 --expect 'dataDiskSizeGb<=100'",
    "infra-check cloud-sql acme-staging:us-central1:staging-postgres-db --expect availabilityType=REGIONAL --expect 'serverCaExpiresInDays>30' --format json",
  ],
  toRawCheck(instance, options, env) {
    const flag = (name: string) => (typeof options[name] === "string" && options[name] !== "" ? (options[name] as string) : undefined);
    const project = flag("project") ?? (instance.includes(":") ? undefined : PROJECT_VARIABLES.map((name) => env[name]).find(Boolean));
    if (!instance.includes(":") && !project) {
      throw new ConfigError(`no Google Cloud project for Cloud SQL instance "${instance}": pass --project PROJECT or set ${PROJECT_VARIABLES.join(" or ")}; or give the connection name PROJECT:REGION:${instance}`);
    }
    const expect: Record<string, unknown> = {};
    if (options.tier) expect.tier = options.tier;
    if (options.databaseVersion) expect.databaseVersion = String(options.databaseVersion).toUpperCase();
    if (options.availabilityType) expect.availabilityType = String(options.availabilityType).toUpperCase();
    if (options.ipType) expect.ipType = String(options.ipType).toUpperCase();
    if (options.sslMode) expect.sslMode = String(options.sslMode).toUpperCase();
    if (options.connectorEnforcement) expect.connectorEnforcement = String(options.connectorEnforcement).toUpperCase();
    const emulatorHost = flag("emulatorHost");
    return {
      kind: "cloud-sql",
      instance,
      ...(project ? { project } : {}),
      ...(emulatorHost ? { emulatorHost } : {}),
      ...(Object.keys(expect).length ? { expect } : {}),
    };
  },
};
