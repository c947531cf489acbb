// Throw-away certificates for the local stack and the tests, made with the
// system's openssl: a CA, a server certificate for localhost/127.0.0.1 signed
// by it, one for the wrong name, an expired one, and a self-signed one.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface CertSet {
  dir: string;
  /** CA certificate that signed `server`, `wrongName` and `expired`. */
  caCert: string;
  caKey: string;
  /** Valid for localhost, 127.0.0.1 and ::1. */
  server: { cert: string; key: string };
  /** Valid, but for wrong.example.invalid only. */
  wrongName: { cert: string; key: string };
  /** Signed by the CA for localhost, but expired. */
  expired: { cert: string; key: string };
  /** Self-signed for localhost (not signed by the CA). */
  selfSigned: { cert: string; key: string };
  cleanup: () => Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run("openssl", args, { cwd });
}

export async function makeCerts(): Promise<CertSet> {
  const dir = await mkdtemp(path.join(tmpdir(), "infra-check-certs-"));
  const file = (name: string) => path.join(dir, name);
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=infra-check test CA"], dir);

  const leaf = async (name: string, cn: string, san: string, days: { start?: string; end?: string } = {}) => {
    await writeFile(file(`${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`);
    await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`], dir);
    if (days.start) {
      // `x509 -req` cannot backdate; a minimal `ca` config can.
      await writeFile(file("ca.cnf"), [
        "[ca]", "default_ca=test", "[test]", `dir=${dir}`, "database=$dir/index.txt", "new_certs_dir=$dir", "serial=$dir/serial",
        "default_md=sha256", "policy=anything", "copy_extensions=none", "[anything]", "commonName=supplied",
      ].join("\n") + "\n");
      await writeFile(file("index.txt"), "");
      await writeFile(file("serial"), "01\n");
      await openssl(["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", `${name}.csr`, "-out", `${name}.crt`,
        "-startdate", days.start, "-enddate", days.end!, "-extfile", `${name}.ext`, "-notext"], dir);
    } else {
      await openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`], dir);
    }
    return { cert: file(`${name}.crt`), key: file(`${name}.key`) };
  };

  const server = await leaf("server", "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1");
  const wrongName = await leaf("wrong", "wrong.example.invalid", "DNS:wrong.example.invalid");
  const expired = await leaf("expired", "localhost", "DNS:localhost,IP:127.0.0.1", { start: "20200101000000Z", end: "20200201000000Z" });
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.crt", "-days", "2", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], dir);
  return {
    dir,
    caCert: file("ca.crt"),
    caKey: file("ca.key"),
    server,
    wrongName,
    expired,
    selfSigned: { cert: file("self.crt"), key: file("self.key") },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
