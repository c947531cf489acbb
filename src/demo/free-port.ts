import { once } from "node:events";
import net from "node:net";

/**
 * A port the OS just reported free on `host`: nothing listens there now, so a
 * connection to it is refused. Another process may take it before the caller
 * binds it, so a server started on it must be ready to retry with the next one.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = net.createServer();
  server.listen(0, host);
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}
