// Placeholder until the redis probe lands (owned by its issue's author).
import { z } from "zod";
import { ProbeFailure, type ProbeDefinition } from "../types.js";

const probe: ProbeDefinition<Record<string, unknown>> = {
  kind: "redis",
  summary: "redis (not built yet)",
  schema: z.looseObject({}),
  metrics: { names: [] },
  target: () => "redis",
  async run() {
    throw new ProbeFailure("internal", "the redis probe is not built yet");
  },
};
export default probe;
