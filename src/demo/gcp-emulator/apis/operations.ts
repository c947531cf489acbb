// google.longrunning.Operations: what a client polls after a long-running
// RPC (Cloud Run's CreateJob, UpdateJob, RunJob, CancelExecution). The APIs
// that start operations register each one in the shared store with a
// function that says what it looks like now; GetOperation answers it.
import { defineEmulatedApi, type StartedApi } from "../api.js";

export type OperationState = () => Record<string, unknown>;

/** The emulator's running operations, by name (shared with the APIs that start them). */
export class OperationStore {
  private readonly operations = new Map<string, OperationState>();
  set(name: string, state: OperationState): void {
    this.operations.set(name, state);
  }
  get(name: string): OperationState | undefined {
    return this.operations.get(name);
  }
}

export const OPERATION_STORE = "longrunning.operations";

export const OPERATIONS = defineEmulatedApi({
  // The Operations service ships in every GAPIC package that has long-running RPCs; Cloud Run's is the one served here.
  protos: { run: "@google-cloud/run/build/protos/protos.json" },
  domain: "run.googleapis.com",
  permissions: { GetOperation: "run.operations.get" },
  start: (tools): StartedApi<object> => {
    const store = tools.shared(OPERATION_STORE, () => new OperationStore());
    return {
      controls: {},
      services: [
        {
          proto: "run",
          service: "google.longrunning.Operations",
          handlers: {
            getOperation: tools.rpc("GetOperation", "name", (name) => {
              const current = store.get(name);
              return current ? { ok: current() } : tools.notFound("GetOperation", name);
            }),
          },
        },
      ],
    };
  },
});
