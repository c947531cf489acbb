// Placeholder until the memorystore probe lands (owned by its issue's author).
import { z } from "zod";
import { ProbeFailure, type ProbeDefinition } from "../types.js";

const probe: ProbeDefinition<Record<string, unknown>> = {
  kind: "memorystore",
  summary: "memorystore (not built yet)",
  schema: z.looseObject({}),
  metrics: { names: [] },
  target: () => "memorystore",
  async run() {
    throw new ProbeFailure("internal", "the memorystore probe is not built yet");
  },
};
export default probe;
