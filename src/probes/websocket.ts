// Placeholder until the websocket probe lands (owned by its issue's author).
import { z } from "zod";
import { ProbeFailure, type ProbeDefinition } from "../types.js";

const probe: ProbeDefinition<Record<string, unknown>> = {
  kind: "websocket",
  summary: "websocket (not built yet)",
  schema: z.looseObject({}),
  metrics: { names: [] },
  target: () => "websocket",
  async run() {
    throw new ProbeFailure("internal", "the websocket probe is not built yet");
  },
};
export default probe;
