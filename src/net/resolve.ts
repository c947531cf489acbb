// Name resolution that cannot hang a check: the lookup races the check's
// AbortSignal. (getaddrinfo itself cannot be cancelled; the launcher enlarges
// the libuv threadpool so a stuck resolver does not starve other lookups, and
// ends the process without waiting for it.)
import dns from "node:dns";
import net from "node:net";

/** Bounded, abortable name resolution; injectable for tests. */
export type LookupFn = (hostname: string, signal: AbortSignal) => Promise<{ address: string; family: 4 | 6 }[]>;

export const systemLookup: LookupFn = (hostname, signal) => {
  const family = net.isIP(hostname);
  if (family) return Promise.resolve([{ address: hostname, family: family as 4 | 6 }]);
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    dns.lookup(hostname, { all: true }, (error, addresses) => {
      signal.removeEventListener("abort", onAbort);
      if (error) {
        (error as NodeJS.ErrnoException & { hostname?: string }).hostname ??= hostname;
        return reject(error);
      }
      resolve(addresses.map((entry) => ({ address: entry.address, family: entry.family as 4 | 6 })));
    });
  });
};

/** A Node `lookup` option (for net/tls/http/ws) that answers from an already-resolved address. */
export function fixedLookup(address: string, family: 4 | 6) {
  return (_hostname: string, options: { all?: boolean } | undefined, callback: (...args: unknown[]) => void) => {
    if (typeof options === "function") {
      (options as (...args: unknown[]) => void)(null, address, family);
    } else if (options?.all) {
      callback(null, [{ address, family }]);
    } else {
      callback(null, address, family);
    }
  };
}

/** Strip IPv6 brackets from a URL hostname. */
export function bareHost(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

/** Resolve `host` as the `dns` phase (skipped for IP literals: phases that never happened are left out). */
export async function resolveHost(
  host: string,
  ctx: { lookup: LookupFn; signal: AbortSignal; phases: { time<T>(name: string, fn: () => Promise<T>): Promise<T> } },
): Promise<{ address: string; family: 4 | 6 }> {
  const literal = net.isIP(bareHost(host));
  if (literal) return { address: bareHost(host), family: literal as 4 | 6 };
  const addresses = await ctx.phases.time("dns", () => ctx.lookup(host, ctx.signal));
  if (addresses.length === 0) {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND", hostname: host });
  }
  // Prefer IPv4 like most server configs expect; fall back to the first answer.
  return addresses.find((entry) => entry.family === 4) ?? addresses[0];
}
