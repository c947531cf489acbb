// A latency-injecting TCP proxy (tc netem is not available on these
// kernels): every chunk is forwarded after delay/2 ms in each direction, so
// a round trip through it costs `delay` ms more. Ordering is kept per
// connection (a chunk never overtakes an earlier one); connections and run
// time are bounded. Runs in its own process, so the benchmark's own event
// loop does not add to the delay.
//   node latency-proxy.mjs ROUND_TRIP_MS:TARGET_PORT ...   → prints {"TARGET_PORT": PROXY_PORT, ...} on stdout
import net from "node:net";
import { once } from "node:events";

const MAX_CONNECTIONS = 4096;
const MAX_RUN_MS = 15 * 60 * 1000;

function relay(from, to, delayMs) {
  // A queue per direction: each chunk is due delayMs after it arrived, and leaves in arrival order.
  // The end of the stream travels like data: delivered (as a FIN) after what was sent before it.
  const queue = [];
  let timer;
  const pump = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length && queue[0].due <= now + 0.05) {
      const { chunk } = queue.shift();
      if (chunk === null) to.end();
      else to.write(chunk);
    }
    if (queue.length) timer = setTimeout(pump, Math.max(0, queue[0].due - performance.now()));
  };
  const push = (chunk) => {
    queue.push({ chunk, due: performance.now() + delayMs });
    if (!timer) timer = setTimeout(pump, delayMs);
  };
  from.on("data", push);
  from.on("end", () => push(null));
  from.on("error", () => to.destroy());
}

const ports = {};
const sockets = new Set();
for (const spec of process.argv.slice(2)) {
  const [roundTripMs, targetPort] = spec.split(":").map(Number);
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    if (sockets.size >= MAX_CONNECTIONS) return client.destroy();
    client.setNoDelay(true);
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort, noDelay: true, allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    relay(client, upstream, roundTripMs / 2);
    relay(upstream, client, roundTripMs / 2);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  ports[targetPort] = server.address().port;
}
process.stdout.write(JSON.stringify(ports) + "\n");
setTimeout(() => process.exit(0), MAX_RUN_MS).unref();
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
