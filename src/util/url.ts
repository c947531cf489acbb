// Percent-escapes in the parts of a URL people type by hand (user, password,
// host, path). `decodeURIComponent` throws on a stray `%` — as in a password
// like `50%off` — and that must be a config error naming the part, never a
// stack trace, and never the value (it is usually the password).

/** The part decoded, or undefined when it cannot be (a stray `%`, an escape that is not UTF-8). */
function tryDecode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** The part decoded, or as written when it holds a malformed escape (validation reports that separately). */
export function decodeUrlPart(part: string): string {
  return tryDecode(part) ?? part;
}

/** Which part of `url` cannot be decoded (a `%` not followed by two hex digits…), if any. */
export function malformedEscape(url: URL): string | undefined {
  const parts: [string, string][] = [
    ["user name", url.username],
    ["password", url.password],
    ["host", url.hostname],
    ["path", url.pathname],
  ];
  // The decoded value is what is tested: the bundler drops a decode whose result is unused, and its throw with it.
  const broken = parts.find(([, value]) => value.includes("%") && tryDecode(value) === undefined);
  if (!broken) return undefined;
  return `the URL's ${broken[0]} has a malformed %-escape: a % must be followed by two hex digits (write %25 for a literal %, e.g. a password "50%off" is 50%25off)`;
}

/** The host of a `host:port` or `[v6]:port` endpoint, without port or brackets. */
export function endpointHost(endpoint: string): string {
  return endpoint.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
}
