// Which execution each remote check ships in. One runner's checks go in one
// execution — unless dependsOn crosses between runners in both directions
// (remote b needs local a, which needs remote c): c must report before a can
// run, and a before b ships, so b goes in a later execution of the same
// runner. A check's level counts how often its dependency chain leaves its
// runner and comes back; checks of a runner with the same level share one.

export interface RemoteSpec {
  name: string;
  dependsOn: string[];
  runner?: string;
}

/** Remote check name → its batch key (`runner#level`). */
export function remoteBatchKeys(remote: RemoteSpec[], all: RemoteSpec[]): Map<string, string> {
  const byName = new Map(all.map((spec) => [spec.name, spec]));
  const remoteNames = new Set(remote.map((spec) => spec.name));
  const levels = new Map<string, number>();
  const runnerOf = (spec: RemoteSpec) => (remoteNames.has(spec.name) ? spec.runner : undefined);

  /** The highest level of a `runner` check in `name`'s dependency closure (itself included), -1 if none. */
  const highestIn = (name: string, runner: string, seen = new Set<string>()): number => {
    if (seen.has(name)) return -1;
    seen.add(name);
    const spec = byName.get(name);
    if (!spec) return -1;
    let highest = runnerOf(spec) === runner ? levelOf(spec) : -1;
    for (const dependency of spec.dependsOn) highest = Math.max(highest, highestIn(dependency, runner, seen));
    return highest;
  };
  const levelOf = (spec: RemoteSpec): number => {
    const known = levels.get(spec.name);
    if (known !== undefined) return known;
    let level = 0;
    for (const dependency of spec.dependsOn) {
      const other = byName.get(dependency);
      if (!other) continue;
      // A dependency on the same runner ships with it; any other dependency must be done first, with whatever of this runner it needs.
      if (runnerOf(other) === spec.runner) level = Math.max(level, levelOf(other));
      else level = Math.max(level, highestIn(dependency, spec.runner!) + 1);
    }
    levels.set(spec.name, level);
    return level;
  };
  return new Map(remote.map((spec) => [spec.name, `${spec.runner}#${levelOf(spec)}`]));
}
