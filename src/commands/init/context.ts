// The one budget of `infra-check init`'s reads (the service, instances,
// health paths): a ProbeContext like a check's, so the Google session, its
// deadlines and its diagnoses are the very ones a run uses, and one Google
// session for all of them, closed by the command whatever happens.
import { classify } from "../../diagnose/classify.js";
import { grpcRule } from "../../gcp/diagnose.js";
import { gcpSettings, type GcpConfig } from "../../gcp/resources.js";
import type { GcpSession } from "../../gcp/session.js";
import { systemLookup, type LookupFn } from "../../net/resolve.js";
import type { ProbeContext } from "../../probes/api.js";
import type { Redactor } from "../../redact.js";
import { createPhaseTimer } from "../../runner/phase-timer.js";
import { armInnerDeadline } from "../../util/deadline.js";

export interface InitSession {
  ctx: ProbeContext;
  gcp(): Promise<GcpSession>;
  /** A failure in the catalogue's words: "message — hint". */
  describe(error: unknown): string;
  /** Its message alone; the hint is kept (once) for the end of the output. */
  brief(error: unknown): string;
  /** The hints of the failures brief() described, each once. */
  readonly hints: ReadonlySet<string>;
  fetch(url: string): Promise<{ status: number; body: string } | { error: string }>;
  close(): Promise<void>;
}

/** The longest a health probe of init waits for one path. */
const FETCH_TIMEOUT_MS = 3_000;
const MAX_BODY_BYTES = 4096;

export function initSession(options: { budgetMs: number; gcp: GcpConfig; env: NodeJS.ProcessEnv; redactor: Redactor; lookup?: LookupFn; log?: (line: string) => void }): InitSession {
  const controller = new AbortController();
  const started = performance.now();
  const remainingMs = () => Math.max(0, options.budgetMs - (performance.now() - started));
  const timer = setTimeout(() => controller.abort(new Error(`infra-check init: its budget of ${options.budgetMs} ms ran out`)), options.budgetMs);
  const deadline = armInnerDeadline({ signal: controller.signal, budgetMs: options.budgetMs, remainingMs, label: `--timeout ${Math.round(options.budgetMs / 1000)}s` });
  const phases = createPhaseTimer();
  const ctx: ProbeContext = {
    signal: controller.signal,
    budgetMs: options.budgetMs,
    remainingMs,
    deadline,
    phases,
    lookup: options.lookup ?? systemLookup,
    sample: (fn) => fn(),
    addSecret: (value) => options.redactor.add(value),
    dependencies: new Map(),
    metrics: {},
    details: {},
    labels: [],
    facts: { service: "Google Cloud" },
    deps: { gcp: options.gcp, env: options.env },
    log: (line) => options.log?.(options.redactor.text(line)),
  };
  let session: Promise<GcpSession> | undefined;
  const hints = new Set<string>();
  const classifyError = (error: unknown) =>
    classify(error, { kind: "init", phase: phases.current, completedPhases: Object.keys(phases.phasesMs), budgetMs: options.budgetMs, facts: ctx.facts }, { rules: [grpcRule] });
  return {
    ctx,
    gcp() {
      session ??= import("../../gcp/session.js").then(({ GcpSession }) => new GcpSession(ctx, gcpSettings({}, ctx.deps)));
      return session;
    },
    describe(error) {
      const classified = classifyError(error);
      return options.redactor.text(`${classified.message}${classified.hint ? ` — ${classified.hint}` : ""}`);
    },
    brief(error) {
      const classified = classifyError(error);
      if (classified.hint) hints.add(options.redactor.text(classified.hint));
      return options.redactor.text(classified.message);
    },
    hints,
    async fetch(url) {
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(Math.min(FETCH_TIMEOUT_MS, Math.max(1, deadline.remainingMs())))]);
      try {
        const response = await fetch(url, { signal, redirect: "manual", headers: { "user-agent": "infra-check-init" } });
        const reader = response.body?.getReader();
        let body = "";
        if (reader) {
          const decoder = new TextDecoder();
          while (body.length < MAX_BODY_BYTES) {
            const { done, value } = await reader.read();
            if (done) break;
            body += decoder.decode(value, { stream: true });
          }
          await reader.cancel().catch(() => undefined);
        }
        return { status: response.status, body: body.slice(0, MAX_BODY_BYTES) };
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        return { error: cause?.code ?? cause?.message ?? ((error as Error).name === "TimeoutError" ? "no answer in time" : (error as Error).message) };
      }
    },
    async close() {
      clearTimeout(timer);
      deadline.dispose();
      await (await session?.catch(() => undefined))?.close();
      if (!controller.signal.aborted) controller.abort(new Error("init finished"));
    },
  };
}
