// `infra-check demo --print-config`: what `infra-check init --from-cloud-run`
// writes from the demo's own Cloud Run service (in the stack's emulator),
// with the health checks aimed at the stack's /health (the service's run.app
// URL is not on this machine: --base-url, as for a custom domain). The same
// file runs green against the same stack (test/demo/init.test.ts).
import { DEMO_PROJECT, DEMO_REGION, DEMO_SERVICE, type LocalStack } from "../demo/index.js";
import { EMULATOR_ENV } from "../gcp/resources.js";
import { buildInit, type InitResult } from "./init.js";
import { mappingTable } from "./init/render.js";
import type { CommandIO } from "./io.js";

export async function demoInitConfig(stack: LocalStack, io: CommandIO): Promise<InitResult & { table: string }> {
  const baseUrl = `http://127.0.0.1:${stack.env.DEMO_HEALTH_PORT}`;
  const flags = { fromCloudRun: DEMO_SERVICE, project: DEMO_PROJECT, region: DEMO_REGION, env: "demo", output: "-", baseUrl };
  const result = await buildInit(flags, { ...io, env: { ...io.env, [EMULATOR_ENV]: stack.env.DEMO_GCP_EMULATOR_HOST } }, {
    lookup: stack.lookup,
    commandLine: `infra-check init --from-cloud-run ${DEMO_SERVICE} --project ${DEMO_PROJECT} --region ${DEMO_REGION} --env demo --base-url ${baseUrl}`,
  });
  return { ...result, table: mappingTable(result.rows, result.hints) };
}
