// Placeholder until the postgres probe lands (owned by its issue's author).
import { z } from "zod";
import { ProbeFailure, type ProbeDefinition } from "../types.js";

const probe: ProbeDefinition<Record<string, unknown>> = {
  kind: "postgres",
  summary: "postgres (not built yet)",
  schema: z.looseObject({}),
  metrics: { names: [] },
  target: () => "postgres",
  async run() {
    throw new ProbeFailure("internal", "the postgres probe is not built yet");
  },
};
export default probe;
