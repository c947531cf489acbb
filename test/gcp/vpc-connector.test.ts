// The vpc-connector kind through the runner, real @google-cloud/vpc-access
// client (it bundles its own google-gax 5 copy) against the emulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGcpWorld, PROJECT, REGION, type GcpWorld } from "./harness.js";

let world: GcpWorld;
beforeAll(async () => {
  world = await startGcpWorld();
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => world.reset());

describe("vpc-connector check against the emulator", () => {
  it("READY, with the expected network, range and instance bounds → pass", async () => {
    const result = await world.check({
      kind: "vpc-connector",
      name: "staging-connector",
      expect: { network: "staging-vpc", ipCidrRange: "10.8.0.0/28", minInstances: 2, maxInstances: "<= 10" },
    });
    expect(result.status, JSON.stringify(result.failure)).toBe("pass");
    expect(result.target).toBe("connector staging-connector");
    expect(result.metrics).toMatchObject({ state: "READY", converged: true, network: "staging-vpc", connector: `projects/${PROJECT}/locations/${REGION}/connectors/staging-connector` });
    expect(Object.keys(result.phasesMs)).toEqual(["client", "connect", "getConnector"]);
  });

  it.each([
    ["ERROR", "is in state ERROR, not READY", "deleted and recreated", true],
    ["CREATING", "still being created", "--wait", false],
    ["DELETING", "being deleted", "--wait", false],
  ] as const)("state %s → unhealthy with the state", async (state, says, hint, converged) => {
    world.stack.setConnectorState(state);
    const result = await world.check({ kind: "vpc-connector", name: "staging-connector" });
    expect(result.failure).toMatchObject({ class: "unhealthy", code: state });
    expect(result.failure?.message).toContain(says);
    expect(result.failure?.hint).toContain(hint);
    expect(result.metrics.state).toBe(state);
    // ERROR has settled (waiting will not fix it); an operation in progress has not.
    expect(result.metrics.converged).toBe(converged);
  });

  it("network / IP range / instance drift → drift, every mismatch listed", async () => {
    world.emulator.state.patch(world.stack.names.connector, { network: "default", ipCidrRange: "10.9.0.0/28", maxInstances: 3 });
    const result = await world.check({
      kind: "vpc-connector",
      name: "staging-connector",
      expect: { network: "staging-vpc", ipCidrRange: "10.8.0.0/28", minInstances: 2, maxInstances: ">= 5" },
    });
    expect(result.failure?.class).toBe("drift");
    expect(result.failure?.message).toBe('network is "default", expected staging-vpc; ipCidrRange is "10.9.0.0/28", expected 10.8.0.0/28; maxInstances is 3, expected >= 5');
    // The region comes from the gcp: block (the check names none): the hint is a command to paste, not a placeholder.
    expect(result.failure?.hint).toContain("gcloud compute networks vpc-access connectors describe staging-connector --region us-central1");
  });

  it("connector missing → not-found naming it", async () => {
    const result = await world.check({ kind: "vpc-connector", name: "no-such-connector" });
    expect(result.failure).toMatchObject({ class: "not-found", code: "NOT_FOUND" });
    expect(result.failure?.message).toContain("Serverless VPC Access GetConnector projects/acme-staging/locations/us-central1/connectors/no-such-connector");
    expect(result.failure?.hint).toContain("vpc-access connectors list --region us-central1");
  });

  it("PERMISSION_DENIED → permission with roles/vpcaccess.viewer", async () => {
    world.emulator.state.fail(world.stack.names.connector, { code: "PERMISSION_DENIED" });
    const result = await world.check({ kind: "vpc-connector", name: "staging-connector" });
    expect(result.failure?.class).toBe("permission");
    expect(result.failure?.message).toContain("vpcaccess.connectors.get");
    expect(result.failure?.hint).toContain("roles/vpcaccess.viewer");
  });

  it("rejects unknown expect metrics at load time, listing the known ones", async () => {
    const report = world.run({ c: { kind: "vpc-connector", name: "staging-connector", expect: { subnetName: "x" } } });
    await expect(report).rejects.toThrow(/checks\.c\.expect\.subnetName: unknown metric "subnetName" for kind vpc-connector; known: state, connector, network/);
  });
});
