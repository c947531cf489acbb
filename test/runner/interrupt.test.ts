// The runner's side of an interrupt (the run's `signal` aborted with
// Interrupted, as src/commands/interrupt.ts does on SIGINT/SIGTERM): a running
// check becomes `interrupted` with the phase it was in, a check that had not
// started becomes `interrupted` without one, finished checks keep their
// verdict, and a --wait backoff ends at once. Real loopback servers; the abort
// is triggered by the runner's own events, never by a timer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Interrupted } from "../../src/util/deadline.js";
import type { RunEvent } from "../../src/runner/run-checks.js";
import { closedPort, httpServer, silentServer, type Stoppable } from "../helpers/net.js";
import { runConfig } from "../helpers/run.js";

let silent: Stoppable;
let app: Stoppable;
let refused: number;

beforeAll(async () => {
  silent = await silentServer();
  app = await httpServer((_request, response) => response.end("ok"));
  refused = await closedPort();
});

afterAll(async () => {
  await silent?.stop();
  await app?.stop();
});

describe("runChecks with an interrupted signal", () => {
  it("marks the running check with its phase and its dependent as not started; a finished check is kept", async () => {
    const controller = new AbortController();
    const finished = new Set<string>();
    const onEvent = (event: RunEvent) => {
      if (event.type === "end") finished.add(event.result.name);
      // Once the check that passes has ended and the silent one is running, the user presses Ctrl-C.
      if (finished.has("api") && event.type === "start" && event.name === "hung") controller.abort(new Interrupted("SIGINT"));
    };
    const started = performance.now();
    const report = await runConfig(
      {
        deadline: "30s",
        checks: {
          api: { kind: "http", url: app.url("/ok") },
          hung: { kind: "http", url: silent.url("/"), timeout: "20s", dependsOn: ["api"] },
          after: { kind: "http", url: app.url("/after"), dependsOn: ["hung"] },
        },
      },
      { signal: controller.signal, onEvent },
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(report.checks.map((check) => [check.name, check.status, check.interrupted])).toEqual([
      ["api", "pass", undefined],
      ["hung", "interrupted", { phase: expect.any(String), signal: "SIGINT" }],
      ["after", "interrupted", { signal: "SIGINT" }],
    ]);
    expect(report.checks[1].failure).toBeNull();
  });

  it("ends a --wait backoff at once: the last attempt's results are reported", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const report = await runConfig(
      { deadline: "30s", checks: { down: { kind: "tcp", address: `127.0.0.1:${refused}` } } },
      // The retry is announced before the backoff sleeps: Ctrl-C then.
      { signal: controller.signal, wait: { waitMs: 60_000, backoffMs: () => 20_000, onRetry: () => controller.abort(new Interrupted("SIGTERM")) } },
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(report.checks[0]).toMatchObject({ status: "fail", failure: { class: "refused" }, attempts: 1 });
  });
});
