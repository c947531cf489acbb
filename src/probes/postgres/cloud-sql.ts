// A postgres check through the Cloud SQL connector, done as the connector
// libraries do it (cloud-sql-nodejs-connector's CloudSQLInstance): the
// instance's connect settings (its addresses and server CA) and an ephemeral
// client certificate for a key pair made here (the private key never leaves
// the process), both from the Cloud SQL Admin API's SqlConnectService; then
// TLS 1.3 with that certificate straight to the instance's server-side proxy
// on port 3307, which checks it — no SSLRequest, the tunnel is the TLS — and
// PostgreSQL's own protocol inside. With `auth: iam` the identity's OAuth2
// token goes into the certificate request (automatic IAM database login) and
// is also the password should the server ask for one; it is a secret of the
// run, never printed.
//
// The Admin API calls go through the same session as every Google kind
// (emulator, deadlines, classified gRPC errors with the permission and role
// each RPC needs), which is why this is not @google-cloud/cloud-sql-connector
// itself: that library talks REST through its own gaxios stack with
// process-wide retry defaults (5 retries, backoff) no check budget bounds, and
// hides the certificate, connect and TLS steps inside one stream factory.
import { generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import type tls from "node:tls";
import { failure } from "../../diagnose/catalogue.js";
import { gcpSettings } from "../../gcp/resources.js";
import type { ProbeContext } from "../api.js";
import { CLOUD_SQL_CONNECT } from "../cloud-sql/api.js";
import { cloudSqlInstance, CONNECTION_NAME } from "../cloud-sql/config.js";
import { CLOUD_SQL_PORT, type CloudSqlIpType, type PostgresSpec } from "./config.js";
import { PG_CLOUD_SQL } from "./diagnose.js";

const generateRsaKeyPair = promisify(generateKeyPair);

interface KeyPair {
  publicKey: string;
  privateKey: string;
}
let processKeyPair: Promise<KeyPair> | undefined;

/**
 * The process's one RSA key pair for ephemeral certificates, made on first use
 * and shared by every connector check of the run (and every cycle of serve),
 * as the connector libraries keep one per Connector: a 2048-bit key costs
 * ~50 ms alone and 100+ ms each when a run's checks make theirs at once, time
 * that would land in every check's connectorSetup. Only the certificate is
 * per check (it is short-lived and carries the IAM token). A failed
 * generation is forgotten, so the next check tries again.
 */
export function connectorKeyPair(): Promise<KeyPair> {
  if (!processKeyPair) {
    const made = generateRsaKeyPair("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    processKeyPair = made;
    made.catch(() => {
      if (processKeyPair === made) processKeyPair = undefined;
    });
  }
  return processKeyPair;
}
/** The scope of a token for IAM database login (what the connectors request; narrower than cloud-platform). */
const SQL_LOGIN_SCOPE = "https://www.googleapis.com/auth/sqlservice.login";

interface ConnectSettings {
  serverCaCert?: { cert?: string | null } | null;
  ipAddresses?: { type?: string | null; ipAddress?: string | null }[] | null;
  dnsName?: string | null;
  pscEnabled?: boolean | null;
  databaseVersion?: string | null;
  region?: string | null;
}
interface EphemeralCert {
  ephemeralCert?: { cert?: string | null; expirationTime?: { seconds?: string | number | null } | null } | null;
}

/** The connect settings' address type for each ipType (Cloud SQL calls the public address PRIMARY). */
const ADDRESS_TYPE: Record<CloudSqlIpType, string> = { PUBLIC: "PRIMARY", PRIVATE: "PRIVATE", PSC: "PSC" };

export interface ConnectorSession {
  /** What to dial: the instance's IP, or its DNS name with Private Service Connect. */
  host: string;
  port: number;
  /** What messages call it: 10.20.0.5:3307 (Cloud SQL P:R:I). */
  label: string;
  /** TLS options of every connection to it (the ephemeral certificate, its key, the instance's CA, the identity check). */
  tls: tls.ConnectionOptions;
  /** With auth: iam, the OAuth2 token (also the password, should the server ask). */
  token?: string;
}

/**
 * The `connectorSetup` phase: connect settings and the ephemeral certificate
 * (the process's RSA key pair, made on first use while the settings are on their way).
 */
export async function connectorSetup(spec: PostgresSpec, ctx: ProbeContext): Promise<ConnectorSession> {
  const cloudSql = spec.cloudSql!;
  const settings = gcpSettings({}, ctx.deps);
  const where = cloudSqlInstance(cloudSql.instance, settings);
  const { withGcp } = await import("../../gcp/session.js");
  return ctx.phases.time("connectorSetup", () =>
    withGcp(ctx, settings, async (gcp) => {
      const request = { project: where.project, instance: where.id };
      const keys = connectorKeyPair();
      const [connect, pair, token] = await Promise.all([
        gcp.call<ConnectSettings>(CLOUD_SQL_CONNECT, "GetConnectSettings", request, where.resource),
        keys,
        cloudSql.auth === "iam" ? gcp.accessToken([SQL_LOGIN_SCOPE]) : Promise.resolve(undefined),
      ]);
      // Like the connector libraries: a connection name whose region is not the instance's is a wrong name, not a network problem.
      // (Only a connection name names the region: a bare id's gcp.region is a default, not a claim about this instance.)
      if (CONNECTION_NAME.test(cloudSql.instance) && where.region && connect.region && connect.region !== where.region) {
        throw failure(PG_CLOUD_SQL.CLOUDSQL_WRONG_REGION, { named: where.region, region: connect.region, id: where.id, project: where.project });
      }
      const addresses = connect.ipAddresses ?? [];
      const wanted = ADDRESS_TYPE[cloudSql.ipType];
      const ip = wanted === "PSC" ? (connect.pscEnabled ? connect.dnsName?.replace(/\.$/, "") : undefined) : addresses.find((entry) => entry.type === wanted)?.ipAddress;
      const connectionName = `${where.project}:${connect.region ?? where.region ?? "REGION"}:${where.id}`;
      if (!ip) {
        const has = addresses.map((entry) => `${entry.type === "PRIMARY" ? "PUBLIC" : entry.type} ${entry.ipAddress}`).join(", ") || "no address";
        throw failure(PG_CLOUD_SQL.CLOUDSQL_NO_ADDRESS, { instance: connectionName, ipType: cloudSql.ipType, has });
      }
      const { ephemeralCert } = await gcp.call<EphemeralCert>(
        CLOUD_SQL_CONNECT,
        "GenerateEphemeralCert",
        { ...request, publicKey: pair.publicKey, ...(token ? { accessToken: token } : {}) },
        where.resource,
      );
      const certificate = ephemeralCert?.cert ?? "";
      const expires = ephemeralCert?.expirationTime?.seconds;
      ctx.metrics.cloudSqlIp = ip;
      if (expires !== undefined && expires !== null) ctx.metrics.ephemeralCertExpiresInMinutes = Math.round((Number(expires) * 1000 - Date.now()) / 60_000);
      // What the classifier needs to tell a tunnel the server-side proxy closed from any other closed connection.
      Object.assign(ctx.facts, { cloudSqlInstance: connectionName, cloudSqlId: where.id, cloudSqlProject: where.project, cloudSqlIam: Boolean(token), user: spec.user });
      ctx.details.connector = `${connectionName} via its ${cloudSql.ipType} address ${ip}:${CLOUD_SQL_PORT}${token ? ", IAM database login" : ""}`;
      // Cloud SQL's per-instance server certificates name the instance as "PROJECT:INSTANCE" (no SAN for the IP).
      const expectedName = `${where.project}:${where.id}`;
      return {
        host: ip,
        port: CLOUD_SQL_PORT,
        label: `${ip}:${CLOUD_SQL_PORT} (Cloud SQL ${connectionName})`,
        tls: {
          key: pair.privateKey,
          cert: certificate,
          ca: connect.serverCaCert?.cert ?? undefined,
          minVersion: "TLSv1.3",
          checkServerIdentity: (_host: string, peer: tls.PeerCertificate) => {
            const cn = Array.isArray(peer.subject?.CN) ? peer.subject.CN[0] : peer.subject?.CN;
            if (cn === expectedName) return undefined;
            const names = peer.subjectaltname ?? "";
            if (connect.dnsName && names.includes(`DNS:${connect.dnsName.replace(/\.$/, "")}`)) return undefined;
            return Object.assign(new Error(`the server certificate is for "${cn ?? names}", not Cloud SQL instance ${expectedName}`), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
          },
        },
        ...(token ? { token } : {}),
      };
    }),
  );
}
