// What stands for a Cloud SQL instance's server-side proxy (port 3307) in
// the tests and the demo: a TLS server on a loopback address that, like the
// real one, accepts only clients with an ephemeral certificate the Admin API
// issued for this instance, presents a server certificate named
// "PROJECT:INSTANCE" signed by the instance's CA, refuses an IAM database
// login the instance does not allow (in Cloud SQL's own words), and pipes
// everything else to a real PostgreSQL. The port is fixed (the connector
// always dials 3307), so each proxy takes its own 127.0.0.N.
import net from "node:net";
import tls from "node:tls";
import type { GcpEmulatorState } from "../gcp-emulator/index.js";

export const SERVER_PROXY_PORT = 3307;
const STARTUP_PROTOCOL = 196608;
const CANCEL_REQUEST_CODE = 80877102;
/** An IAM database user: a person (user@example.com) or a service account without .gserviceaccount.com (sa@project.iam). */
const IAM_USER = /@/;

export interface CloudSqlServerProxy {
  /** The loopback address it listens on (the instance's IP in the fixtures). */
  host: string;
  port: number;
  /** Connections accepted (TLS done), in order. */
  connections: { user?: string; iamLogin: boolean; refused?: string }[];
  /**
   * Close the next tunnels the way the real proxy drops one it will not let
   * through (an IAM user it does not know, an instance restarting): after TLS,
   * at once or when the startup message arrives, without an error message.
   */
  setFault(fault: CloudSqlProxyFault | undefined): void;
  stop(): Promise<void>;
}

/** close-after-tls: right after the handshake; close-on-startup: when the client's startup message arrives. */
export type CloudSqlProxyFault = "close-after-tls" | "close-on-startup";

export interface CloudSqlServerProxyOptions {
  state: GcpEmulatorState;
  /** projects/P/instances/I */
  instance: string;
  /** Where PostgreSQL listens. */
  upstream: { host: string; port: number };
  /** Loopback addresses to try (default 127.0.0.100 … 127.0.0.250, in random order): the port is fixed. */
  hosts?: string[];
}

/** An ErrorResponse message (FATAL, SQLSTATE, text), as the server-side proxy sends it before PostgreSQL is involved. */
function errorResponse(sqlstate: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${sqlstate}\0M${message}\0\0`, "utf8");
  const header = Buffer.alloc(5);
  header.write("E", 0, "latin1");
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

/** The user of a StartupMessage, once its bytes are complete (undefined: need more; null: not a startup message). */
function startupUser(buffered: Buffer): { user?: string; code: number } | undefined {
  if (buffered.length < 8) return undefined;
  const length = buffered.readInt32BE(0);
  if (buffered.length < length) return undefined;
  const code = buffered.readInt32BE(4);
  if (code !== STARTUP_PROTOCOL) return { code };
  const parts = buffered.subarray(8, length).toString("utf8").split("\0");
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i] === "user") return { user: parts[i + 1], code };
  return { code };
}

export async function startCloudSqlServerProxy(options: CloudSqlServerProxyOptions): Promise<CloudSqlServerProxy> {
  const { state, instance, upstream } = options;
  const [, project, , id] = instance.split("/");
  const authority = await state.cloudSqlCa();
  const certificate = await authority.serverCertificate(`${project}:${id}`);
  const sockets = new Set<net.Socket>();
  const connections: CloudSqlServerProxy["connections"] = [];
  let fault: CloudSqlProxyFault | undefined;

  const server = tls.createServer({ key: certificate.key, cert: certificate.cert, ca: authority.cert, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.3" }, (client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    const issued = state.cloudSqlIssuedCert(client.getPeerCertificate().serialNumber ?? "");
    const entry: CloudSqlServerProxy["connections"][number] = { iamLogin: Boolean(issued?.iamLogin) };
    connections.push(entry);
    // A certificate of another instance (or none the API remembers) never gets a session.
    if (!issued || issued.instance !== instance) {
      entry.refused = "certificate not issued for this instance";
      client.destroy();
      return;
    }
    if (fault === "close-after-tls") {
      entry.refused = "closed after TLS (fault)";
      client.destroy();
      return;
    }
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const startup = startupUser(buffered);
      if (!startup) return;
      client.off("data", onData);
      client.pause();
      entry.user = startup.user;
      if (fault === "close-on-startup" && startup.code !== CANCEL_REQUEST_CODE) {
        entry.refused = "closed on startup (fault)";
        client.destroy();
        return;
      }
      if (startup.code !== CANCEL_REQUEST_CODE && startup.user && IAM_USER.test(startup.user)) {
        if (!issued.iamLogin || !state.cloudSqlIamLoginAllowed(instance, startup.user)) {
          entry.refused = "IAM login";
          client.end(errorResponse("28000", `Cloud SQL IAM user authentication failed for user "${startup.user}"`));
          return;
        }
      }
      const backend = net.connect(upstream);
      sockets.add(backend);
      backend.on("close", () => {
        sockets.delete(backend);
        client.destroy();
      });
      backend.on("error", () => backend.destroy());
      client.on("close", () => backend.destroy());
      backend.once("connect", () => {
        backend.write(buffered);
        client.pipe(backend);
        backend.pipe(client);
        client.resume();
      });
    };
    client.on("data", onData);
  });
  server.on("tlsClientError", () => undefined);

  const candidates =
    options.hosts ??
    Array.from({ length: 151 }, (_, i) => `127.0.0.${100 + i}`)
      .map((host) => ({ host, order: Math.random() }))
      .sort((a, b) => a.order - b.order)
      .map((entry) => entry.host);
  let host: string | undefined;
  for (const candidate of candidates) {
    const bound = await new Promise<boolean>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? resolve(false) : reject(error));
      server.once("error", onError);
      server.listen(SERVER_PROXY_PORT, candidate, () => {
        server.off("error", onError);
        resolve(true);
      });
    });
    if (bound) {
      host = candidate;
      break;
    }
  }
  if (!host) throw new Error(`cloud-sql server proxy: port ${SERVER_PROXY_PORT} is taken on every loopback address tried`);

  return {
    host,
    port: SERVER_PROXY_PORT,
    connections,
    setFault: (next) => void (fault = next),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
