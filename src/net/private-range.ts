// Private address ranges (RFC 1918 for IPv4, RFC 4193 unique-local for IPv6):
// an address in one is reachable only from inside its network, so a check
// that cannot reach one from here most likely runs from the wrong place, not
// against a broken service. Pure: address-based, no lookup.
import net from "node:net";

/** 10/8, 172.16/12, 192.168/16, fc00::/7 (and IPv4-mapped IPv6 forms of the IPv4 ranges). */
export function isPrivateAddress(address: string | undefined): boolean {
  if (!address) return false;
  const bare = address.replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  const ip = mapped ?? bare;
  if (net.isIPv4(ip)) {
    const [a, b] = ip.split(".").map(Number);
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (net.isIPv6(ip)) return /^f[cd][0-9a-f]{0,2}:/i.test(ip);
  return false;
}
