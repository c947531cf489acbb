// Placeholder until the cloud-run probe lands (owned by its issue's author).
import { z } from "zod";
import { ProbeFailure, type ProbeDefinition } from "../types.js";

const probe: ProbeDefinition<Record<string, unknown>> = {
  kind: "cloud-run",
  summary: "cloud-run (not built yet)",
  schema: z.looseObject({}),
  metrics: { names: [] },
  target: () => "cloud-run",
  async run() {
    throw new ProbeFailure("internal", "the cloud-run probe is not built yet");
  },
};
export default probe;
