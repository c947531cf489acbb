// The one place secrets are scrubbed. Every string that leaves the process
// (reports in any format, error messages, log lines) goes through a Redactor.
// Two layers: known secret values (from the config and resolved at run time)
// are replaced wherever they appear, and credential-shaped text (URL
// userinfo, Authorization values, password=…) is masked even when we never
// knew the value (client libraries echo connection strings in errors).

export const MASK = "***";
/** Shorter values would mask ordinary words; they are still never printed on purpose. */
const MIN_SECRET_LENGTH = 3;

const PATTERNS: [RegExp, string][] = [
  // scheme://user:password@host → scheme://user:***@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]+@/gi, `$1:${MASK}@`],
  // scheme://password@host (redis://:pw@ is covered above; token-only userinfo)
  [/\b((?:rediss?|postgres(?:ql)?|wss?|https?):\/\/)([^\s:/@]{12,})@/gi, `$1${MASK}@`],
  // Authorization: Bearer xyz / Basic xyz
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${MASK}`],
  // password=…, token=…, secret=… in connection strings and query strings
  [/\b((?:pass(?:word)?|pwd|token|secret|api[_-]?key|access[_-]?token|auth)=)[^\s&;]+/gi, `$1${MASK}`],
  // JWTs anywhere
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, MASK],
];

/** Header names whose values are credentials. */
export const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|x-auth-token|x-goog-iap-jwt-assertion)$|token|secret|password/i;

export class Redactor {
  private readonly secrets = new Set<string>();
  private sorted: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    for (const secret of secrets) this.add(secret);
  }

  add(secret: string | undefined | null): void {
    if (!secret || secret.length < MIN_SECRET_LENGTH || this.secrets.has(secret)) return;
    this.secrets.add(secret);
    // Also mask the URL-encoded form: clients put encoded passwords in URLs.
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) this.secrets.add(encoded);
    // Longest first so a secret that contains another is masked whole.
    this.sorted = [...this.secrets].sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.sorted) if (out.includes(secret)) out = out.split(secret).join(MASK);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }

  /** Deep copy with every string (keys included) redacted. */
  deep<T>(value: T): T {
    if (typeof value === "string") return this.text(value) as T;
    if (Array.isArray(value)) return value.map((item) => this.deep(item)) as T;
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.text(key), this.deep(item)])) as T;
    }
    return value;
  }
}

/** A URL for display: credentials removed, secret query parameters masked. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return new Redactor().text(raw);
  }
  if (url.password) url.password = MASK;
  else if (url.username && !url.password && /^(rediss?|postgres(ql)?):$/.test(url.protocol) === false && url.username.length > 20) url.username = MASK;
  for (const key of [...url.searchParams.keys()]) {
    if (/pass|token|secret|key|auth|sig|jwt/i.test(key)) url.searchParams.set(key, MASK);
  }
  return url.toString().replace(/%2A%2A%2A/g, MASK);
}

/** The redactor of the current run, for process-level error handlers (which have no other way to reach it). */
let processRedactor = new Redactor();
export function setProcessRedactor(redactor: Redactor): void {
  processRedactor = redactor;
}
export function getProcessRedactor(): Redactor {
  return processRedactor;
}
