#!/usr/bin/env node
// The "peer CLI" for a WebSocket check in bench/full-run.bench.js (no websocat
// in Debian 12): what someone would script with the `ws` package — connect
// with the subprotocol and a bearer token, wait for the welcome, close.
// Exit 0 on the welcome, 1 on anything else or after 5 s.
//   BENCH_CHAT_TOKEN=… node bench/support/ws-check.mjs ws://127.0.0.1:PORT/ws
import WebSocket from "ws";

const ws = new WebSocket(process.argv[2], ["agent_chat"], { headers: { Authorization: `Bearer ${process.env.BENCH_CHAT_TOKEN}` }, perMessageDeflate: false });
const timer = setTimeout(() => fail("no welcome within 5 s"), 5000);
function fail(why) {
  process.stderr.write(`ws-check: ${why}\n`);
  process.exit(1);
}
ws.on("error", (error) => fail(error.message));
ws.on("message", (data) => {
  if (!String(data).includes("connection_established")) return fail(`unexpected first message: ${String(data).slice(0, 200)}`);
  clearTimeout(timer);
  ws.close(1000);
});
ws.on("close", () => process.exit(0));
