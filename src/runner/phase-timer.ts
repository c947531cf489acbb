import type { PhaseTimer } from "../probes/api.js";
import { roundMs } from "../util/stats.js";

/** `onStart`: told as each phase begins (the runner's --verbose log: which phase a slow check is in). */
export function createPhaseTimer(now: () => number = performance.now.bind(performance), onStart?: (name: string) => void): PhaseTimer {
  const phasesMs: Record<string, number> = {};
  let current: string | undefined;
  let currentStartedAt: number | undefined;
  return {
    async time(name, fn) {
      current = name;
      onStart?.(name);
      const startedAt = now();
      currentStartedAt = startedAt;
      const result = await fn();
      phasesMs[name] = roundMs(now() - startedAt);
      return result;
    },
    record(name, ms) {
      phasesMs[name] = roundMs(ms);
    },
    discard(name) {
      delete phasesMs[name];
    },
    start(name) {
      current = name;
      onStart?.(name);
      currentStartedAt = now();
    },
    get current() {
      return current;
    },
    get currentStartedAt() {
      return currentStartedAt;
    },
    get phasesMs() {
      return phasesMs;
    },
  };
}
