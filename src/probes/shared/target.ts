// A one-off target typed the way redis-cli and psql take one (-h HOST -p
// PORT): `10.0.0.3:6379`, `cache.internal`, `[::1]:6379`, a bare `::1`.
import { isIP } from "node:net";

/**
 * `host[:port]` → `SCHEME://host[:port]` (a bare IPv6 address in brackets);
 * an argument that already has a scheme is kept as given, for the kind's own
 * URL check to judge (`http://…` handed to redis says what redis expects).
 */
export function withScheme(argument: string, scheme: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(argument)) return argument;
  if (isIP(argument) === 6) return `${scheme}://[${argument}]`;
  return `${scheme}://${argument}`;
}
