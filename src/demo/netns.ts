// A network namespace with only loopback in it: a network this machine's
// own processes cannot reach, and from which nothing outside can be reached
// (no route at all: a connect to any other address fails at once, and no
// packet leaves the machine). The demo and the tests run a runner's job in
// one. Needs root (`ip netns`).
import { spawnSync } from "node:child_process";

/** Whether this process may create network namespaces (root, and `ip netns` works). */
export function networkNamespacesAvailable(): boolean {
  return process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0;
}

function ip(...args: string[]): void {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")}: ${(result.stderr || result.error?.message || "").trim()}`);
}

export interface NetworkNamespace {
  name: string;
  /** Kill what still runs inside, then delete it. */
  stop(): Promise<void>;
}

export async function createNetworkNamespace(name: string): Promise<NetworkNamespace> {
  ip("netns", "add", name);
  try {
    ip("-n", name, "link", "set", "lo", "up");
  } catch (error) {
    spawnSync("ip", ["netns", "delete", name]);
    throw error;
  }
  return {
    name,
    async stop() {
      for (const pid of spawnSync("ip", ["netns", "pids", name], { encoding: "utf8" }).stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      spawnSync("ip", ["netns", "delete", name]);
    },
  };
}
