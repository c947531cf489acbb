// The certificate authority of an emulated Cloud SQL: it signs the server
// certificate of each instance's server-side proxy (CN "project:instance",
// as Cloud SQL's legacy per-instance CA does) and the connector's ephemeral
// client certificates (GenerateEphemeralCert hands in a public key; the
// private key never leaves the client). Made with the system's openssl; the
// key material is kept in memory and every openssl call works in its own
// temporary directory, removed at once — nothing to clean up later.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface CloudSqlCa {
  /** PEM of the CA certificate (connect settings' serverCaCert.cert). */
  cert: string;
  /** When the CA certificate expires. */
  expiresAt: Date;
  /** A client certificate for `publicKey` (PEM, SPKI), valid about an hour like Cloud SQL's; serial in upper-case hex. */
  signClient(publicKey: string, commonName: string): Promise<{ cert: string; serial: string; expiresAt: Date }>;
  /** A server certificate and its key for the instance's server-side proxy. */
  serverCertificate(commonName: string): Promise<{ cert: string; key: string }>;
}

async function inTemp<T>(fn: (file: (name: string) => string, openssl: (args: string[]) => Promise<void>) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), "infra-check-cloudsql-"));
  try {
    return await fn(
      (name) => path.join(dir, name),
      async (args) => void (await run("openssl", args, { cwd: dir })),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function makeCloudSqlCa(days = 3650): Promise<CloudSqlCa> {
  const { cert, key } = await inTemp(async (file, openssl) => {
    await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", String(days), "-subj", "/C=US/O=Google, Inc/CN=Google Cloud SQL Server CA"]);
    return { cert: await readFile(file("ca.crt"), "utf8"), key: await readFile(file("ca.key"), "utf8") };
  });
  const withCa = async <T>(fn: (file: (name: string) => string, openssl: (args: string[]) => Promise<void>) => Promise<T>) =>
    inTemp(async (file, openssl) => {
      await writeFile(file("ca.crt"), cert);
      await writeFile(file("ca.key"), key, { mode: 0o600 });
      return fn(file, openssl);
    });
  return {
    cert,
    expiresAt: new Date(Date.now() + days * 86_400_000),
    signClient: (publicKey, commonName) =>
      withCa(async (file, openssl) => {
        // A leading 1: positive, with no sign byte to pad.
        const serial = `1${randomBytes(8).toString("hex").toUpperCase().slice(1)}`;
        await writeFile(file("client.pub"), publicKey);
        await writeFile(file("client.ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
        await openssl(["x509", "-new", "-subj", `/CN=${commonName}`, "-force_pubkey", "client.pub", "-CA", "ca.crt", "-CAkey", "ca.key", "-days", "1", "-set_serial", `0x${serial}`, "-extfile", "client.ext", "-out", "client.crt"]);
        return { cert: await readFile(file("client.crt"), "utf8"), serial, expiresAt: new Date(Date.now() + 3_600_000) };
      }),
    serverCertificate: (commonName) =>
      withCa(async (file, openssl) => {
        await writeFile(file("server.ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
        await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${commonName}`]);
        await openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", "2", "-extfile", "server.ext", "-out", "server.crt"]);
        return { cert: await readFile(file("server.crt"), "utf8"), key: await readFile(file("server.key"), "utf8") };
      }),
  };
}
