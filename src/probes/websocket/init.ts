// What the websocket kind contributes to `infra-check init`: with --ws-path,
// a WebSocket check on the service's URL (wss:// for https://). Tokens,
// subprotocols and the welcome message are the app's own protocol: written
// as commented lines to fill in, never guessed.
import type { KindInit } from "../init-api.js";

const init: KindInit = {
  after: ["cloud-run", "http"],
  starter: {
    name: "chat",
    yaml: `    # A WebSocket endpoint: handshake phases, subprotocol, welcome message,
    # a scripted exchange of events.
    url: wss://api.example.com/ws
    subprotocols: [agent_chat]
    # token: \${WS_TOKEN}
    welcome:
      match: { event: connection_established }
      within: 2s
`,
  },
  options: [{ flags: "--ws-path <path>", description: "a WebSocket path on the service (e.g. /ws): adds a websocket check" }],
  map(facts, ctx) {
    const path = ctx.options.wsPath as string | undefined;
    if (!path) return { checks: [], rows: [{ from: "WebSocket", note: "no --ws-path given" }] };
    if (!facts.url) return { checks: [], rows: [{ from: "WebSocket", note: "the service reports no URL" }] };
    const url = new URL(facts.url);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.pathname = `${url.pathname.replace(/\/$/, "")}/${path.replace(/^\//, "")}`;
    const name = ctx.uniqueName("chat");
    return {
      checks: [
        {
          name,
          kind: "websocket",
          comment:
            "The service's WebSocket endpoint: handshake phases. Add what the app's protocol needs:\n" +
            "subprotocols: [NAME], token: ${WS_TOKEN} (or token: { jwt: … }), welcome: { match: { … }, within: 2s }.",
          fields: { url: url.toString() },
        },
      ],
      rows: [{ from: `--ws-path ${path}`, to: name }],
    };
  },
};

export default init;
