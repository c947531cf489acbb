import type { PhaseTimer } from "../probes/api.js";
import { roundMs } from "../util/stats.js";

export function createPhaseTimer(now: () => number = performance.now.bind(performance)): PhaseTimer {
  const phasesMs: Record<string, number> = {};
  let current: string | undefined;
  return {
    async time(name, fn) {
      current = name;
      const startedAt = now();
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
    },
    get current() {
      return current;
    },
    get phasesMs() {
      return phasesMs;
    },
  };
}
