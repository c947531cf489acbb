// Placeholder until the vpc-connector probe lands (owned by its issue's author).
import { z } from "zod";
import { ProbeFailure, type ProbeDefinition } from "../types.js";

const probe: ProbeDefinition<Record<string, unknown>> = {
  kind: "vpc-connector",
  summary: "vpc-connector (not built yet)",
  schema: z.looseObject({}),
  metrics: { names: [] },
  target: () => "vpc-connector",
  async run() {
    throw new ProbeFailure("internal", "the vpc-connector probe is not built yet");
  },
};
export default probe;
