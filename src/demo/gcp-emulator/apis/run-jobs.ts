// Cloud Run Admin API v2: Jobs, Executions and Tasks over gRPC; their
// long-running RPCs answer with operations apis/operations.ts serves. RunJob
// executes the job for real: it spawns the job's program (by default the
// local bin/infra-check.js, as the container's entrypoint) with the
// container's args and env as the overrides change them, and turns each
// stdout line into a Cloud Logging entry of the execution (a JSON line
// becomes a jsonPayload, as Cloud Run's log agent does), written to the log
// store apis/logging.ts serves. CancelExecution kills the process.
//
// Faults (state.setJobFaults): a cold start, an ingestion delay, a lost log
// line, a task that never starts (image pull denied), a launcher prefix that
// runs the process somewhere else (`ip netns exec NS`: a real vantage point).
// A missing job is NOT_FOUND and a denied RunJob is PERMISSION_DENIED
// (state.fail("RunJob", …)) as for every other API; an execution times out
// on the job's task timeout (or the overrides' timeout).
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createInterface } from "node:readline";
import { PACKAGE_ROOT } from "../../../package-root.js";
import { defineEmulatedApi, type EmulatorTools, type Proto3Json, type RpcAnswer, type StartedApi } from "../api.js";
import { LOG_STORE, LogStore } from "./logging.js";
import { OPERATION_STORE, OperationStore } from "./operations.js";

const JOB = /^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/;
const EXECUTION = /^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+\/executions\/[^/]+$/;
const TASK = /^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+\/executions\/[^/]+\/tasks\/[^/]+$/;
const V2 = "google.cloud.run.v2";

export interface JobFaults {
  /** Cold start: how long the task waits before its process starts (Direct VPC egress can take a minute). */
  startDelayMs?: number;
  /** Cloud Logging's ingestion delay: each line becomes visible this long after it was written. */
  ingestionDelayMs?: number;
  /** Lines that never reach Cloud Logging (the structured result line, to test the exit-code fallback). */
  loseLine?: (line: string) => boolean;
  /** The task never starts: the execution fails with this condition message (image pull denied, …). */
  failStart?: string;
  /** Run the process through a prefix, e.g. ["ip", "netns", "exec", "ic-vpc-1"]: inside another network. */
  launcher?: string[];
  /**
   * Run the process in this network namespace (`ip netns exec`, root), with
   * the emulator still reachable inside at its own address — as Private
   * Google Access keeps Google APIs reachable from a VPC — through a bridge
   * over a Unix socket (the filesystem is shared, the network is not).
   */
  vpcNamespace?: string;
  /** The program the container runs (default: node bin/infra-check.js). */
  command?: string[];
}

export interface RunJobsControls {
  setJobFaults(faults: JobFaults | null): void;
  /** Names of the executions created so far (in order). */
  executionNames(job?: string): string[];
  /** The overrides RunJob received for an execution (what travelled: tests check that no secret did). */
  executionOverrides(execution: string): Record<string, unknown> | undefined;
  /** Whether the execution's process is still running. */
  executionRunning(execution: string): boolean;
}

interface EnvVar {
  name: string;
  value?: string;
}
interface ContainerJson {
  image?: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
}

const now = () => new Date().toISOString();
const durationMs = (value: unknown) => (typeof value === "string" && /^\d+(\.\d+)?s$/.test(value) ? Number.parseFloat(value) * 1000 : undefined);

export const RUN_JOBS = defineEmulatedApi<RunJobsControls>({
  protos: { run: "@google-cloud/run/build/protos/protos.json" },
  collections: [
    { collection: "jobs", pattern: JOB, type: `${V2}.Job`, proto: "run", noun: "Cloud Run job" },
    { collection: "executions", pattern: EXECUTION, type: `${V2}.Execution`, proto: "run", noun: "Cloud Run job execution" },
    { collection: "tasks", pattern: TASK, type: `${V2}.Task`, proto: "run", noun: "Cloud Run job task" },
  ],
  domain: "run.googleapis.com",
  permissions: {
    GetJob: "run.jobs.get",
    CreateJob: "run.jobs.create",
    UpdateJob: "run.jobs.update",
    RunJob: "run.jobs.runWithOverrides",
    GetExecution: "run.executions.get",
    ListExecutions: "run.executions.list",
    CancelExecution: "run.executions.cancel",
    ListTasks: "run.tasks.list",
  },
  start: (tools): StartedApi<RunJobsControls> => {
    const logs = tools.shared(LOG_STORE, () => new LogStore());
    let faults: JobFaults = {};
    const processes = new Map<string, ChildProcess>();
    const overridesOf = new Map<string, Record<string, unknown>>();
    const cancelled = new Set<string>();
    /** Operation name → what GetOperation (apis/operations.ts) answers now. */
    const operations = tools.shared(OPERATION_STORE, () => new OperationStore());

    const any = (type: string, message: Record<string, unknown>) => ({ typeUrl: `type.googleapis.com/${V2}.${type}`, value: Buffer.from(tools.encode("run", `${V2}.${type}`, message)) });
    const operation = (location: string, metadata: () => { type: string; message: Record<string, unknown> }, done: () => boolean) => {
      const name = `${location}/operations/${randomBytes(8).toString("hex")}`;
      const current = () => {
        const { type, message } = metadata();
        return { name, metadata: any(type, message), done: done(), ...(done() ? { response: any(type, message) } : {}) };
      };
      operations.set(name, current);
      return current();
    };
    const patch = (name: string, change: (json: Proto3Json) => void) => {
      const json = tools.json(name);
      if (!json) return;
      change(json);
      tools.put(json);
    };

    const writeLog = (execution: string, stream: "stdout" | "stderr", line: string) => {
      if (faults.loseLine?.(line)) return;
      const [, project, , region, , job] = execution.split("/");
      let payload: Record<string, unknown> = { textPayload: line };
      if (stream === "stdout" && line.trimStart().startsWith("{")) {
        try {
          const parsed = JSON.parse(line) as unknown;
          if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) payload = { jsonPayload: parsed, ...(typeof (parsed as { severity?: unknown }).severity === "string" ? { severity: (parsed as { severity: string }).severity } : {}) };
        } catch {
          // not JSON: a text line, as Cloud Run's agent keeps it
        }
      }
      logs.append(
        {
          logName: `projects/${project}/logs/run.googleapis.com%2F${stream}`,
          resource: { type: "cloud_run_job", labels: { job_name: job, location: region, project_id: project } },
          timestamp: now(),
          labels: { "run.googleapis.com/execution_name": execution.split("/").pop()!, "run.googleapis.com/task_index": "0", "run.googleapis.com/task_attempt": "0" },
          ...payload,
        },
        faults.ingestionDelayMs ?? 0,
      );
    };

    const finish = (execution: string, task: string, outcome: { exitCode?: number; message: string; reason: "NON_ZERO_EXIT_CODE" | "CANCELLED" | undefined; statusCode?: number }) => {
      processes.delete(execution);
      const time = now();
      const succeeded = outcome.exitCode === 0 && !outcome.reason;
      patch(task, (json) => {
        json.completionTime = time;
        json.lastAttemptResult = { exitCode: outcome.exitCode ?? 0, status: { code: outcome.statusCode ?? (succeeded ? 0 : 2), message: succeeded ? "" : outcome.message } };
        json.conditions = [{ type: "Completed", state: succeeded ? "CONDITION_SUCCEEDED" : "CONDITION_FAILED", message: outcome.message, lastTransitionTime: time }];
      });
      patch(execution, (json) => {
        json.completionTime = time;
        json.runningCount = 0;
        json.reconciling = false;
        if (outcome.reason === "CANCELLED") json.cancelledCount = 1;
        else if (succeeded) json.succeededCount = 1;
        else json.failedCount = 1;
        json.conditions = [
          {
            type: "Completed",
            state: succeeded ? "CONDITION_SUCCEEDED" : "CONDITION_FAILED",
            message: outcome.message,
            lastTransitionTime: time,
            ...(outcome.reason ? { executionReason: outcome.reason } : {}),
          },
        ];
      });
    };

    /** Per namespace: the bridge that makes the emulator's address answer inside it. */
    const bridges = new Map<string, Promise<{ stop(): void }>>();
    const bridgeInto = (namespace: string) => {
      let bridge = bridges.get(namespace);
      if (!bridge) {
        bridge = startBridge(namespace, tools.endpoint());
        bridge.catch(() => bridges.delete(namespace));
        bridges.set(namespace, bridge);
      }
      return bridge;
    };

    const execute = (execution: string, task: string, container: ContainerJson, timeoutMs: number | undefined) => {
      const taskId = task.split("/").pop()!;
      const begin = async () => {
        if (cancelled.has(execution)) return;
        if (faults.vpcNamespace) {
          try {
            await bridgeInto(faults.vpcNamespace);
          } catch (error) {
            finish(execution, task, { message: `the emulator could not reach into network namespace ${faults.vpcNamespace}: ${(error as Error).message}`, reason: undefined, exitCode: undefined, statusCode: 9 });
            return;
          }
        }
        if (faults.failStart) {
          finish(execution, task, { message: faults.failStart, reason: undefined, exitCode: undefined, statusCode: 9 });
          return;
        }
        const started = now();
        patch(execution, (json) => {
          json.startTime = started;
          json.runningCount = 1;
        });
        patch(task, (json) => {
          json.startTime = started;
        });
        const program = container.command?.length ? container.command : (faults.command ?? [process.execPath, path.join(PACKAGE_ROOT, "bin/infra-check.js")]);
        const launcher = faults.vpcNamespace ? ["ip", "netns", "exec", faults.vpcNamespace] : (faults.launcher ?? []);
        const argv = [...launcher, ...program, ...(container.args ?? [])];
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, METADATA_SERVER_DETECTION: "none", NO_COLOR: "1", CLOUD_RUN_JOB: execution.split("/")[5], CLOUD_RUN_EXECUTION: execution.split("/").pop(), CLOUD_RUN_TASK_INDEX: "0" };
        for (const variable of container.env ?? []) env[variable.name] = variable.value ?? "";
        const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
        processes.set(execution, child);
        let timedOut = false;
        const timer = timeoutMs ? setTimeout(() => ((timedOut = true), child.kill("SIGKILL")), timeoutMs) : undefined;
        createInterface({ input: child.stdout! }).on("line", (line) => writeLog(execution, "stdout", line));
        createInterface({ input: child.stderr! }).on("line", (line) => writeLog(execution, "stderr", line));
        let ended = false;
        const end = (code: number | null, failure?: string) => {
          if (ended) return;
          ended = true;
          clearTimeout(timer);
          if (cancelled.has(execution)) return finish(execution, task, { exitCode: code ?? 137, message: "The execution was cancelled.", reason: "CANCELLED", statusCode: 1 });
          if (timedOut) return finish(execution, task, { exitCode: 137, message: `Task ${taskId} failed with message: The configured timeout was reached.`, reason: "NON_ZERO_EXIT_CODE", statusCode: 4 });
          if (failure) return finish(execution, task, { exitCode: 127, message: `Task ${taskId} failed with message: ${failure}`, reason: "NON_ZERO_EXIT_CODE" });
          if (code === 0) return finish(execution, task, { exitCode: 0, message: "Execution completed successfully.", reason: undefined });
          finish(execution, task, { exitCode: code ?? 137, message: `Task ${taskId} failed with message: The container exited with an exit code of ${code ?? "(signal)"}.`, reason: "NON_ZERO_EXIT_CODE" });
        };
        child.once("error", (error) => end(null, `the container could not start: ${error.message}`));
        child.once("close", (code) => end(code));
      };
      // A cold start before the task runs, timed by the emulator's own clock (the world's latency, not a synchronisation).
      if (faults.startDelayMs) setTimeout(() => void begin(), faults.startDelayMs).unref();
      else setImmediate(() => void begin());
    };

    const runJob = (name: string, request: Record<string, unknown>): RpcAnswer => {
      if (!JOB.test(name)) return tools.errorFor("INVALID_ARGUMENT", `Invalid resource name: '${name}'`);
      const job = tools.json(name);
      if (!job) return tools.notFound("RunJob", name);
      const template = (job.template ?? {}) as { taskCount?: number; template?: { containers?: ContainerJson[]; timeout?: string; serviceAccount?: string; vpcAccess?: unknown } };
      const overrides = (request.overrides ?? {}) as { containerOverrides?: { name?: string; args?: string[]; env?: EnvVar[]; clearArgs?: boolean }[]; timeout?: { seconds?: string | number; nanos?: number } | null };
      const base = template.template?.containers?.[0] ?? {};
      const override = overrides.containerOverrides?.[0];
      const env = new Map((base.env ?? []).map((variable) => [variable.name, variable]));
      for (const variable of override?.env ?? []) env.set(variable.name, { name: variable.name, value: variable.value });
      const args = override && (override.args?.length || override.clearArgs) ? (override.args ?? []) : base.args;
      const container: ContainerJson = { ...base, ...(args ? { args } : {}), env: [...env.values()] };
      const overrideTimeoutMs = overrides.timeout?.seconds !== undefined ? Number(overrides.timeout.seconds) * 1000 + Math.round((overrides.timeout.nanos ?? 0) / 1e6) : undefined;
      const timeoutMs = overrideTimeoutMs || durationMs(template.template?.timeout) || 600_000;
      const id = `${name.split("/").pop()}-${randomBytes(3).toString("hex").slice(0, 5)}`;
      const execution = `${name}/executions/${id}`;
      const task = `${execution}/tasks/${id}-task0`;
      const [, project, , region] = name.split("/");
      const created = now();
      tools.put({
        name: execution,
        job: name.split("/").pop(),
        createTime: created,
        taskCount: 1,
        parallelism: 1,
        reconciling: true,
        logUri: `https://console.cloud.google.com/logs/viewer?project=${project}&advancedFilter=${encodeURIComponent(`resource.type="cloud_run_job"\nresource.labels.job_name="${name.split("/").pop()}"\nlabels."run.googleapis.com/execution_name"="${id}"`)}`,
        template: { containers: [{ ...container, env: container.env }], timeout: `${Math.round(timeoutMs / 1000)}s` },
        conditions: [{ type: "Completed", state: "CONDITION_PENDING", lastTransitionTime: created }],
      });
      tools.put({ name: task, job: name.split("/").pop(), execution: id, index: 0, createTime: created });
      overridesOf.set(execution, structuredClone(request.overrides as Record<string, unknown>) ?? {});
      patch(name, (json) => {
        json.executionCount = Number(json.executionCount ?? 0) + 1;
        json.latestCreatedExecution = { name: execution, createTime: created };
      });
      execute(execution, task, container, timeoutMs);
      return {
        ok: operation(
          `projects/${project}/locations/${region}`,
          () => ({ type: "Execution", message: tools.resource(execution, "executions")! }),
          () => Boolean(tools.json(execution)?.completionTime),
        ),
      };
    };

    const cancelExecution = (name: string): RpcAnswer => {
      const found = tools.json(name);
      if (!found || !EXECUTION.test(name)) return tools.notFound("CancelExecution", name);
      cancelled.add(name);
      const child = processes.get(name);
      if (child) child.kill("SIGKILL");
      else if (!found.completionTime) {
        const task = tools.children("tasks", name)[0] as { name?: string } | undefined;
        finish(name, String(task?.name ?? ""), { message: "The execution was cancelled.", reason: "CANCELLED", statusCode: 1 });
      }
      const [, project, , region] = name.split("/");
      return { ok: operation(`projects/${project}/locations/${region}`, () => ({ type: "Execution", message: tools.resource(name, "executions")! }), () => Boolean(tools.json(name)?.completionTime)) };
    };

    const upsertJob = (method: "CreateJob" | "UpdateJob") => (name: string, request: Record<string, unknown>): RpcAnswer => {
      const job = request.job as Record<string, unknown>;
      const full = method === "CreateJob" ? `${String(request.parent)}/jobs/${String(request.jobId)}` : String(job.name);
      if (!JOB.test(full)) return tools.errorFor("INVALID_ARGUMENT", `Invalid resource name: '${full}'`);
      const existing = tools.json(full);
      if (method === "CreateJob" && existing) return tools.errorFor("FAILED_PRECONDITION", `Resource '${full}' already exists.`);
      if (method === "UpdateJob" && !existing && !request.allowMissing) return tools.notFound("UpdateJob", full);
      const json = stripEmpty(tools.toJson("run", `${V2}.Job`, job)) as Proto3Json;
      const time = now();
      tools.put({
        ...json,
        name: full,
        createTime: (existing?.createTime as string | undefined) ?? time,
        updateTime: time,
        generation: String(Number(existing?.generation ?? 0) + 1),
        ...(existing?.executionCount !== undefined ? { executionCount: existing.executionCount } : {}),
        ...(existing?.latestCreatedExecution ? { latestCreatedExecution: existing.latestCreatedExecution } : {}),
        terminalCondition: { type: "Ready", state: "CONDITION_SUCCEEDED", lastTransitionTime: time },
      });
      void name;
      const [, project, , region] = full.split("/");
      return { ok: operation(`projects/${project}/locations/${region}`, () => ({ type: "Job", message: tools.resource(full, "jobs")! }), () => true) };
    };

    return {
      controls: {
        setJobFaults: (next) => void (faults = next ?? {}),
        executionNames: (job) => [...overridesOf.keys()].filter((name) => !job || name.startsWith(`${job}/executions/`)),
        executionOverrides: (execution) => structuredClone(overridesOf.get(execution)),
        executionRunning: (execution) => processes.has(execution),
      },
      clearFaults: () => void (faults = {}),
      stop: () => {
        for (const child of processes.values()) child.kill("SIGKILL");
        processes.clear();
        for (const bridge of bridges.values()) void bridge.then((started) => started.stop(), () => undefined);
        bridges.clear();
      },
      services: [
        {
          proto: "run",
          service: `${V2}.Jobs`,
          handlers: {
            getJob: tools.getter("GetJob", "jobs"),
            createJob: tools.rpc("CreateJob", (request) => `${String(request.parent)}/jobs/${String(request.jobId)}`, upsertJob("CreateJob")),
            updateJob: tools.rpc("UpdateJob", (request) => String((request.job as { name?: string } | undefined)?.name ?? ""), upsertJob("UpdateJob")),
            runJob: tools.rpc("RunJob", "name", runJob),
          },
        },
        {
          proto: "run",
          service: `${V2}.Executions`,
          handlers: {
            getExecution: tools.getter("GetExecution", "executions"),
            listExecutions: listNewestFirst(tools, "ListExecutions", "executions"),
            cancelExecution: tools.rpc("CancelExecution", "name", cancelExecution),
          },
        },
        {
          proto: "run",
          service: `${V2}.Tasks`,
          handlers: {
            getTask: tools.getter("GetTask", "tasks"),
            listTasks: tools.lister("ListTasks", "tasks", "tasks"),
          },
        },
      ],
    };
  },
});

/** The bridge's inside half: listens on the emulator's address in the namespace, forwards each connection to the Unix socket. */
const BRIDGE_INSIDE = `
const net = require("node:net");
const [socketPath, host, port] = process.argv.slice(1);
const server = net.createServer((inside) => {
  const outside = net.connect(socketPath);
  inside.pipe(outside).pipe(inside);
  inside.on("error", () => outside.destroy());
  outside.on("error", () => inside.destroy());
});
server.listen(Number(port), host, () => process.stdout.write("ready\\n"));
`;

/** A bridge into `namespace`: inside, the emulator's host:port; outside, a Unix socket piped to the emulator. */
async function startBridge(namespace: string, endpoint: { host: string; port: number }): Promise<{ stop(): void }> {
  const socketPath = path.join(tmpdir(), `infra-check-emulator-${process.pid}-${randomBytes(4).toString("hex")}.sock`);
  const outside = net.createServer((connection) => {
    const emulator = net.connect(endpoint.port, endpoint.host);
    connection.pipe(emulator).pipe(connection);
    connection.on("error", () => emulator.destroy());
    emulator.on("error", () => connection.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    outside.once("error", reject);
    outside.listen(socketPath, () => resolve());
  });
  const inside = spawn("ip", ["netns", "exec", namespace, process.execPath, "-e", BRIDGE_INSIDE, socketPath, endpoint.host, String(endpoint.port)], { stdio: ["ignore", "pipe", "pipe"] });
  const stop = () => {
    inside.kill("SIGKILL");
    outside.close();
    rmSync(socketPath, { force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let errors = "";
      const timer = setTimeout(() => reject(new Error(`no bridge after 5 s${errors ? `: ${errors.trim()}` : ""}`)), 5_000);
      inside.stderr!.on("data", (chunk: Buffer) => (errors += chunk.toString()));
      inside.stdout!.once("data", () => (clearTimeout(timer), resolve()));
      inside.once("exit", (code) => (clearTimeout(timer), reject(new Error(`the bridge exited (${code})${errors ? `: ${errors.trim()}` : ""}`))));
    });
  } catch (error) {
    stop();
    throw error;
  }
  return { stop };
}

/** Executions are listed newest first, as the real API does. */
function listNewestFirst(tools: EmulatorTools, method: string, collection: string) {
  return tools.rpc(method, "parent", (parent, request) => {
    const all = [...tools.children(collection, parent)].reverse();
    const size = Number(request.pageSize) > 0 ? Number(request.pageSize) : 50;
    return { ok: { [collection]: all.slice(0, size), nextPageToken: "" } };
  });
}

/** proto3 JSON of a request's message carries defaults for every field: the stored resource keeps what was set. */
function stripEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripEmpty);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .map(([key, item]) => [key, stripEmpty(item)] as const)
      .filter(([, item]) => !(item === "" || item === 0 || item === false || item === null || (Array.isArray(item) && item.length === 0) || (typeof item === "object" && item !== null && !Array.isArray(item) && Object.keys(item).length === 0)));
    return Object.fromEntries(entries);
  }
  return value;
}
