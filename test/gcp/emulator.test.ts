// The emulator itself, as the demo and the benchmarks use it: strict fixtures,
// Get/List through the real client libraries, injected faults, state changes
// while running, and a clean stop (also with a call still hanging).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGcpEmulator, type GcpEmulator } from "../../src/demo/gcp-emulator/index.js";
import { seedCloudStack } from "../../src/demo/gcp-fixtures.js";
import { loadGax } from "../../src/gcp/session.js";
import { stackOptions, PROJECT, REGION } from "./harness.js";

const LOCATION = `projects/${PROJECT}/locations/${REGION}`;
let emulator: GcpEmulator;
beforeAll(async () => {
  emulator = await startGcpEmulator();
  seedCloudStack(emulator.state, stackOptions());
});
afterAll(async () => {
  await emulator?.stop();
});

async function clientOptions(port = emulator.port) {
  const gax = await loadGax();
  return {
    apiEndpoint: "127.0.0.1",
    port,
    sslCreds: gax.grpc.credentials.createInsecure(),
    // The auth types of gax and of the client packages differ in version; the object is what both accept at run time.
    authClient: new gax.googleAuthLibrary.PassThroughClient() as never,
    "grpc.enable_http_proxy": 0,
  };
}

describe("fixtures are validated against the API's messages", () => {
  it.each([
    [{ name: `${LOCATION}/services/x`, templat: {} }, 'unknown field "templat" for google.cloud.run.v2.Service'],
    [{ name: `${LOCATION}/connectors/x`, state: "BROKEN" }, '"BROKEN" is not one of STATE_UNSPECIFIED, READY, CREATING, DELETING, ERROR, UPDATING'],
    [{ name: `${LOCATION}/instances/x`, memorySizeGb: "lots" }, '"lots" is not a valid int32'],
    [{ name: `${LOCATION}/services/x`, createTime: "yesterday" }, "expected an RFC 3339 timestamp"],
    [{ name: `${LOCATION}/services/x`, template: { containers: [{ env: [{ nam: "A" }] }] } }, 'template.containers.0.env.0: unknown field "nam"'],
    [{ name: "services/x" }, "is not the name of a Cloud Run service"],
  ])("%j → %s", (resource, message) => {
    expect(() => emulator.state.put(resource as never)).toThrow(message);
  });

  it("get returns a copy; patch replaces through the same validation", () => {
    const name = `${LOCATION}/connectors/staging-connector`;
    const copy = emulator.state.get(name)!;
    copy.state = "ERROR";
    expect(emulator.state.get(name)?.state).toBe("READY");
    expect(() => emulator.state.patch(name, { state: "KAPUTT" })).toThrow("is not one of");
    expect(emulator.state.get(name)?.state).toBe("READY");
  });
});

describe("the real clients against the emulator", () => {
  it("List RPCs return the resources under the parent", async () => {
    const [{ v2 }, { VpcAccessServiceClient }, { CloudRedisClient }] = await Promise.all([
      import("@google-cloud/run"),
      import("@google-cloud/vpc-access"),
      import("@google-cloud/redis"),
    ]);
    const options = await clientOptions();
    const services = new v2.ServicesClient(options);
    const revisions = new v2.RevisionsClient(options);
    const connectors = new VpcAccessServiceClient(options);
    const redis = new CloudRedisClient(options);
    try {
      const call = { timeout: 5000, retry: null, autoPaginate: false };
      const [serviceList] = await services.listServices({ parent: LOCATION }, call);
      expect(serviceList.map((service) => service.name)).toEqual([`${LOCATION}/services/backend-staging`]);
      const [revisionList] = await revisions.listRevisions({ parent: `${LOCATION}/services/backend-staging` }, call);
      expect(revisionList.map((revision) => revision.name?.split("/").pop()).sort()).toEqual(["backend-staging-00041-kiv", "backend-staging-00042-xoz"]);
      const [connectorList] = await connectors.listConnectors({ parent: LOCATION }, call);
      expect(connectorList.map((connector) => connector.state)).toEqual(["READY"]);
      const [instanceList] = await redis.listInstances({ parent: LOCATION }, call);
      expect(instanceList[0]).toMatchObject({ tier: "BASIC", memorySizeGb: 1, authEnabled: true, port: 6379 });
      // Runtime shapes the probes rely on: enums as strings, int64 as strings, timestamps as { seconds, nanos }.
      const [service] = await services.getService({ name: `${LOCATION}/services/backend-staging` }, call);
      expect(service.generation).toBe("42");
      expect(service.terminalCondition?.state).toBe("CONDITION_SUCCEEDED");
      expect(service.createTime).toMatchObject({ seconds: "1730721600" });
    } finally {
      await Promise.all([services.close(), revisions.close(), connectors.close(), redis.close()]);
    }
  });

  it("afterCalls changes the world on a request count: N matching calls see the old state, the next one the change; other targets do not count", async () => {
    const other = await startGcpEmulator();
    const stack = seedCloudStack(other.state, stackOptions());
    const { VpcAccessServiceClient } = await import("@google-cloud/vpc-access");
    const client = new VpcAccessServiceClient(await clientOptions(other.port));
    const call = { timeout: 5000, retry: null };
    const state = async () => (await client.getConnector({ name: stack.names.connector }, call))[0].state;
    try {
      stack.setConnectorState("CREATING");
      let applied = 0;
      other.state.afterCalls(stack.names.connector, 2, () => {
        applied += 1;
        stack.setConnectorState("READY");
      });
      other.state.afterCalls("GetInstance", 0, () => stack.patchInstance({ tier: "STANDARD_HA" }));
      expect([await state(), await state(), await state(), await state()]).toEqual(["CREATING", "CREATING", "READY", "READY"]);
      expect(applied).toBe(1);
      // The GetInstance change is still pending (no GetInstance yet) and clearFaults drops it.
      other.state.clearFaults();
      const { CloudRedisClient } = await import("@google-cloud/redis");
      const redis = new CloudRedisClient(await clientOptions(other.port));
      try {
        expect((await redis.getInstance({ name: stack.names.instance }, call))[0].tier).toBe("BASIC");
      } finally {
        await redis.close();
      }
      expect(() => other.state.afterCalls("*", -1, () => undefined)).toThrow("whole number of calls");
    } finally {
      await client.close();
      await other.stop();
    }
  });

  it("a fault limited with `times` clears itself; a hung call is released (CANCELLED) when the emulator stops", async () => {
    const other = await startGcpEmulator();
    seedCloudStack(other.state, stackOptions());
    const { CloudRedisClient } = await import("@google-cloud/redis");
    const client = new CloudRedisClient(await clientOptions(other.port));
    try {
      const name = `${LOCATION}/instances/staging-redis-f1adc35c`;
      other.state.fail(name, { code: "INTERNAL", times: 1 });
      await expect(client.getInstance({ name }, { timeout: 5000, retry: null })).rejects.toMatchObject({ code: 13 });
      await expect(client.getInstance({ name }, { timeout: 5000, retry: null })).resolves.toBeTruthy();
      other.state.fail("GetInstance", { hang: true });
      const hung = client.getInstance({ name }, { timeout: 20_000, retry: null });
      hung.catch(() => undefined);
      while (other.calls.filter((call) => call.method === "GetInstance").length < 3) await new Promise((resolve) => setImmediate(resolve));
      await other.stop();
      await expect(hung).rejects.toMatchObject({ code: 1 });
    } finally {
      await client.close();
      await other.stop();
    }
  });

  it("as the real APIs answer: project numbers in returned names, short revision names in traffic, paged lists in creation order", async () => {
    const other = await startGcpEmulator({ defaultPageSize: 2, projectNumbers: { [PROJECT]: "204718835623" } });
    const stack = seedCloudStack(other.state, stackOptions());
    for (let n = 50; n < 53; n += 1) other.state.put({ ...other.state.get(stack.names.revisions.previous)!, name: `${stack.names.service}/revisions/backend-staging-000${n}-new` });
    const { v2 } = await import("@google-cloud/run");
    const options = await clientOptions(other.port);
    const services = new v2.ServicesClient(options);
    const revisions = new v2.RevisionsClient(options);
    try {
      const call = { timeout: 5000, retry: null };
      const [service] = await services.getService({ name: stack.names.service }, call);
      expect(service.latestReadyRevision).toBe(`projects/204718835623/locations/${REGION}/services/backend-staging/revisions/backend-staging-00042-xoz`);
      stack.serveOldRevision();
      const [old] = await services.getService({ name: `projects/204718835623/locations/${REGION}/services/backend-staging` }, call);
      expect(old.trafficStatuses?.[0].revision).toBe("backend-staging-00041-kiv");
      // One page of two, then the client follows nextPageToken (auto-pagination) through all five, in creation order.
      const [page, next, raw] = await revisions.listRevisions({ parent: stack.names.service }, { ...call, autoPaginate: false });
      expect(page).toHaveLength(2);
      expect(next?.pageToken).toBeTruthy();
      expect(raw?.nextPageToken).toBeTruthy();
      const [all] = await revisions.listRevisions({ parent: stack.names.service }, call);
      expect(all.map((revision) => revision.name?.split("/").pop())).toEqual([
        "backend-staging-00041-kiv",
        "backend-staging-00042-xoz",
        "backend-staging-00050-new",
        "backend-staging-00051-new",
        "backend-staging-00052-new",
      ]);
      await expect(revisions.listRevisions({ parent: stack.names.service, pageToken: "bogus" }, { ...call, autoPaginate: false })).rejects.toMatchObject({ code: 3 });
    } finally {
      await Promise.all([services.close(), revisions.close()]);
      await other.stop();
    }
  });

  it("the v1 REST revision on the same port: the digest the revision resolved at creation, Google's JSON error envelope", async () => {
    const other = await startGcpEmulator({ projectNumbers: { [PROJECT]: "204718835623" } });
    const stack = seedCloudStack(other.state, stackOptions());
    try {
      const url = (revision: string, namespace = PROJECT) => `http://${other.emulatorHost}/apis/serving.knative.dev/v1/namespaces/${namespace}/revisions/${revision}`;
      const before = other.state.tagDigest(stackOptions().image)!;
      other.state.pushImage(stackOptions().image);
      const answer = (await (await fetch(url("backend-staging-00042-xoz", "204718835623"))).json()) as { spec: { containers: { image: string }[] } };
      expect(answer).toMatchObject({ kind: "Revision", metadata: { name: "backend-staging-00042-xoz", namespace: "204718835623" }, status: { imageDigest: `us-docker.pkg.dev/${PROJECT}/app/backend@${before}` } });
      expect(answer.spec.containers[0].image).toBe(stackOptions().image);
      const missing = await fetch(url("nope"));
      expect(missing.status).toBe(404);
      other.state.fail("v1.GetRevision", { code: "PERMISSION_DENIED" });
      const denied = await fetch(url("backend-staging-00042-xoz"));
      expect(denied.status).toBe(403);
      expect(await denied.json()).toMatchObject({
        error: { code: 403, status: "PERMISSION_DENIED", details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "IAM_PERMISSION_DENIED", metadata: { permission: "run.revisions.get" } }] },
      });
      expect(stack.names.service).toContain(PROJECT);
    } finally {
      await other.stop();
    }
  });
});
