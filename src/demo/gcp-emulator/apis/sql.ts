// Cloud SQL Admin API v1: instances (SqlInstancesService.Get) and what the
// Cloud SQL connector asks for (SqlConnectService: connect settings with the
// server CA, and an ephemeral client certificate signed for the caller's
// public key). Like the real API, an instance that does not exist (or that
// the caller may not see) is 403 notAuthorized, never 404. Issued client
// certificates are remembered by serial, with whether the request carried an
// access token (IAM database login), so the instance's server-side proxy
// (src/demo/cloud-sql/server-proxy.ts) can let the right logins in.
import { makeCloudSqlCa, type CloudSqlCa } from "../../cloud-sql/ca.js";
import { defineEmulatedApi, type ServiceHandlers } from "../api.js";

const INSTANCE = /^projects\/[^/]+\/instances\/[^/]+$/;

export interface IssuedCert {
  instance: string;
  /** The request carried an OAuth2 access token: the certificate vouches for an IAM database login. */
  iamLogin: boolean;
  /** The PEM public key the certificate was signed for (one key pair per process: the same on every request of a run). */
  publicKey: string;
}

export interface CloudSqlControls {
  /** The emulated Cloud SQL CA (created on first use): signs server-side proxy and ephemeral client certificates. */
  cloudSqlCa(): Promise<CloudSqlCa>;
  /** What an ephemeral client certificate was issued for, by serial (upper-case hex). */
  cloudSqlIssuedCert(serial: string): IssuedCert | undefined;
  /** Every ephemeral certificate issued, in order. */
  cloudSqlIssuedCerts(): IssuedCert[];
  /** Deny (or allow again) IAM database login of `user` on an instance: the user lacks cloudsql.instances.login (or is no IAM user of it). */
  setCloudSqlIamLogin(instance: string, user: string, allowed: boolean): void;
  cloudSqlIamLoginAllowed(instance: string, user: string): boolean;
}

const instanceName = (request: Record<string, unknown>) => `projects/${String(request.project ?? "")}/instances/${String(request.instance ?? "")}`;

export const CLOUD_SQL = defineEmulatedApi<CloudSqlControls>({
  protos: { sql: "@google-cloud/sql/build/protos/protos.json" },
  domain: "sqladmin.googleapis.com",
  collections: [{ collection: "instances", pattern: INSTANCE, type: "google.cloud.sql.v1.DatabaseInstance", proto: "sql", noun: "Cloud SQL instance" }],
  permissions: {
    Get: "cloudsql.instances.get",
    GetConnectSettings: "cloudsql.instances.connect",
    GenerateEphemeralCert: "cloudsql.instances.connect",
  },
  start(tools) {
    let ca: Promise<CloudSqlCa> | undefined;
    const cloudSqlCa = () => {
      ca ??= makeCloudSqlCa();
      ca.catch(() => (ca = undefined));
      return ca;
    };
    const issued = new Map<string, IssuedCert>();
    const deniedLogins = new Set<string>();

    // What Cloud SQL answers for an instance that is not there (or not visible): 403, on every RPC.
    const notAuthorized = () =>
      tools.errorFor("PERMISSION_DENIED", "The client is not authorized to make this request.", { reason: "notAuthorized", domain: "global", metadata: {} });
    const instance = (name: string): Record<string, unknown> | undefined => {
      const found = INSTANCE.test(name) ? tools.resource(name, "instances") : undefined;
      // The API's own form: the short id as `name`, the project beside it.
      return found ? { ...found, name: name.split("/").pop(), project: name.split("/")[1] } : undefined;
    };
    const timestamp = (date: Date) => ({ seconds: String(Math.floor(date.getTime() / 1000)), nanos: 0 });

    return {
      controls: {
        cloudSqlCa,
        // Serials compare as numbers: a peer certificate shows them padded to whole bytes.
        cloudSqlIssuedCert: (serial) => issued.get(serial.toUpperCase().replace(/^0+/, "")),
        cloudSqlIssuedCerts: () => [...issued.values()],
        setCloudSqlIamLogin: (name, user, allowed) => void (allowed ? deniedLogins.delete(`${name}\n${user}`) : deniedLogins.add(`${name}\n${user}`)),
        cloudSqlIamLoginAllowed: (name, user) => !deniedLogins.has(`${name}\n${user}`),
      },
      services: <ServiceHandlers[]>[
        {
          proto: "sql",
          service: "google.cloud.sql.v1.SqlInstancesService",
          handlers: {
            get: tools.rpc("Get", instanceName, (name) => {
              const found = instance(name);
              return found ? { ok: found } : notAuthorized();
            }),
          },
        },
        {
          proto: "sql",
          service: "google.cloud.sql.v1.SqlConnectService",
          handlers: {
            getConnectSettings: tools.rpc("GetConnectSettings", instanceName, async (name) => {
              const found = instance(name);
              if (!found) return notAuthorized();
              const authority = await cloudSqlCa();
              return {
                ok: {
                  kind: "sql#connectSettings",
                  serverCaCert: { kind: "sql#sslCert", cert: authority.cert, commonName: "C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA", expirationTime: timestamp(authority.expiresAt), instance: found.name },
                  ipAddresses: found.ipAddresses ?? [],
                  region: found.region ?? "",
                  databaseVersion: found.databaseVersion,
                  backendType: found.backendType ?? "SECOND_GEN",
                  pscEnabled: false,
                  dnsName: "",
                  serverCaMode: "GOOGLE_MANAGED_INTERNAL_CA",
                  connectionName: found.connectionName ?? "",
                },
              };
            }),
            generateEphemeralCert: tools.rpc("GenerateEphemeralCert", instanceName, async (name, request) => {
              const found = instance(name);
              if (!found) return notAuthorized();
              const publicKey = String(request.publicKey ?? "");
              if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(publicKey)) return tools.errorFor("INVALID_ARGUMENT", "Invalid request: public_key is not a PEM public key.");
              const authority = await cloudSqlCa();
              const signed = await authority.signClient(publicKey, "cloud-sql-ephemeral");
              issued.set(signed.serial.replace(/^0+/, ""), { instance: name, iamLogin: Boolean(request.accessToken), publicKey });
              return {
                ok: {
                  ephemeralCert: { kind: "sql#sslCert", certSerialNumber: signed.serial, cert: signed.cert, commonName: "cloud-sql-ephemeral", expirationTime: timestamp(signed.expiresAt), instance: found.name },
                },
              };
            }),
          },
        },
      ],
    };
  },
});
