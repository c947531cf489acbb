// The one place secrets are scrubbed. Every string that leaves the process
// (reports in any format, error messages, log lines) goes through a Redactor.
// Two layers: known secret values (from the config and resolved at run time)
// are replaced wherever they appear, and credential-shaped text (URL
// userinfo, Authorization values, password=…) is masked even when we never
// knew the value (client libraries echo connection strings in errors).

import { CUT } from "./util/excerpt.js";

export const MASK = "***";
/** Shorter values would mask ordinary words; they are still never printed on purpose. */
const MIN_SECRET_LENGTH = 3;

const PATTERNS: [RegExp, string][] = [
  // scheme://user:password@host → scheme://user:***@host (the password may hold / and @: mask up to the last @)
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]*):[^\s"<>]+@/gi, `$1:${MASK}@`],
  // scheme://token@host for web schemes (a bare userinfo there is a credential)
  [/\b((?:wss?|https?):\/\/)([^\s:/@"]+)@/gi, `$1${MASK}@`],
  // scheme://password@host for data stores (redis://:pw@ is covered above; long token-only userinfo)
  [/\b((?:rediss?|postgres(?:ql)?):\/\/)([^\s:/@"]{12,})@/gi, `$1${MASK}@`],
  // Authorization: Bearer xyz / Basic xyz
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${MASK}`],
  // password=…, client_secret=…, refresh_token=…, api_key=…, sig=… in connection strings, query strings, form bodies
  [/((?:^|[^A-Za-z0-9])(?:[A-Za-z0-9]+[_-])*(?:pass(?:word)?|passwd|pwd|token|secret|api[_-]?key|key|sig(?:nature)?|auth)=)[^\s&;"]+/gi, `$1${MASK}`],
  // --password=… style flags echoed in usage errors
  [/(--[\w-]*(?:pass|secret|token|key)[\w-]*=)\S+/gi, `$1${MASK}`],
  // JWTs anywhere
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, MASK],
];

/** Header names whose values are credentials. */
export const SECRET_HEADER = /auth|token|secret|passw|key|cookie|session|signature|credential|jwt|assertion/i;

/** Keys whose string values are secrets wherever they appear in a config or a message body. */
export const SECRET_KEY = /pass(word)?|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|credential|signature|^auth$|cookie|session/i;

/** A secret cut by an excerpt still shows this many characters at most. */
const MIN_PREFIX = 4;

export class Redactor {
  private readonly secrets = new Set<string>();
  private sorted: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    for (const secret of secrets) this.add(secret);
  }

  add(secret: string | undefined | null): void {
    if (!secret || secret.length < MIN_SECRET_LENGTH || this.secrets.has(secret)) return;
    // The forms a secret takes on its way back to us: URL-encoded (clients put
    // passwords in URLs), JSON-escaped (bodies and our own messages quote
    // values), with escaped slashes (some JSON encoders).
    const json = JSON.stringify(secret).slice(1, -1);
    for (const form of [secret, encodeURIComponent(secret), json, json.replace(/\//g, "\\/")]) {
      if (form.length >= MIN_SECRET_LENGTH) this.secrets.add(form);
    }
    // Longest first so a secret that contains another is masked whole.
    this.sorted = [...this.secrets].sort((a, b) => b.length - a.length);
  }

  /** The raw secrets registered so far (for handing on to the run's redactor). */
  known(): string[] {
    return [...this.secrets];
  }

  /** Register a header's value and the credentials inside it (Basic user:pass decoded, each cookie value). */
  addHeader(name: string, value: string): void {
    if (!SECRET_HEADER.test(name)) return;
    this.add(value);
    for (const secret of headerSecrets(value)) this.add(secret);
  }

  /** Known secrets and credential-shaped text (URL userinfo, Bearer tokens, password=…): for text that came from outside. */
  text(value: string): string {
    let out = this.values(value);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }

  /**
   * Known secrets only: what every byte leaving the process passes through
   * (src/commands/io.ts). Our own texts (help, a demo's instructions) are not
   * credential-shaped by accident, and stay readable.
   */
  values(value: string): string {
    let out = value;
    for (const secret of this.sorted) if (out.includes(secret)) out = out.split(secret).join(MASK);
    if (out.includes(CUT)) out = this.maskCutSecrets(out);
    return out;
  }

  /**
   * Excerpts are cut before they reach us, so a secret may arrive as its first
   * characters followed by "…": mask such a prefix too.
   */
  private maskCutSecrets(text: string): string {
    let out = text;
    let index = out.indexOf(CUT);
    while (index >= 0) {
      for (const secret of this.sorted) {
        for (let length = Math.min(secret.length - 1, index); length >= MIN_PREFIX; length -= 1) {
          if (out.slice(index - length, index) === secret.slice(0, length)) {
            out = out.slice(0, index - length) + MASK + out.slice(index);
            index = index - length + MASK.length;
            break;
          }
        }
      }
      index = out.indexOf(CUT, index + CUT.length);
    }
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
  // A bare userinfo on a web URL is a token (https://TOKEN@host); on redis/postgres it is a user name.
  else if (url.username && /^(https?|wss?):$/.test(url.protocol)) url.username = MASK;
  for (const key of [...url.searchParams.keys()]) {
    if (/pass|token|secret|key|auth|sig|jwt/i.test(key)) url.searchParams.set(key, MASK);
  }
  return url.toString().replace(/%2A%2A%2A/g, MASK);
}

/**
 * Credentials inside a header value: the decoded `user:pass` and `pass` of
 * Basic, the token of Bearer, each cookie's value.
 */
export function headerSecrets(value: string): string[] {
  const found: string[] = [];
  const scheme = /^\s*(\S+)\s+(\S+)\s*$/.exec(value);
  if (scheme) {
    found.push(scheme[2]);
    if (/^basic$/i.test(scheme[1])) {
      const decoded = Buffer.from(scheme[2], "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon >= 0) found.push(decoded, decoded.slice(colon + 1));
    }
  }
  if (value.includes("=")) {
    for (const part of value.split(";")) {
      const equals = part.indexOf("=");
      if (equals > 0) found.push(part.slice(equals + 1).trim());
    }
  }
  return found.filter((secret) => secret.length >= MIN_SECRET_LENGTH);
}

/** Credentials in a URL: the password, a bare web userinfo token, secret-looking query parameters. */
export function urlSecrets(raw: string): string[] {
  try {
    const url = new URL(raw);
    const found = [decodeURIComponent(url.password)];
    if (!url.password && url.username && /^(https?|wss?):$/.test(url.protocol)) found.push(decodeURIComponent(url.username));
    for (const [key, value] of url.searchParams) if (/pass|token|secret|key|auth|sig|jwt/i.test(key)) found.push(value);
    return found.filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Everything secret-looking in a (raw, interpolated) config document: values
 * under secret keys, credential header values, URL credentials, secret fields
 * of JSON or form-encoded bodies. Collected before validation so that even a
 * config error never echoes them.
 */
export function collectSecrets(value: unknown, key = "", parent = ""): string[] {
  if (typeof value === "string") {
    const found: string[] = [...urlSecrets(value)];
    if (parent === "headers") {
      if (SECRET_HEADER.test(key)) found.push(value, ...headerSecrets(value));
    } else if (isSecretField(key, parent, value)) {
      found.push(value);
    }
    if (/^(body|send)$/.test(key)) found.push(...bodySecrets(value));
    return found;
  }
  if (Array.isArray(value)) return value.flatMap((item) => collectSecrets(item, key, parent));
  if (value !== null && typeof value === "object") {
    // A `send:` step is a message object: its secret fields count like a body's.
    return Object.entries(value).flatMap(([childKey, item]) => collectSecrets(item, childKey, key));
  }
  if ((typeof value === "number" || typeof value === "bigint") && isSecretField(key, parent, String(value))) return [String(value)];
  return [];
}

function isSecretField(key: string, parent: string, value: string): boolean {
  if (!key || !SECRET_KEY.test(key)) return false;
  // References name where a secret lives; they are not the secret.
  if (key === "memorystoreAuth") return false;
  if (key === "secret" && /^projects\/[^/]+\/secrets\//.test(value)) return false;
  // tls.key is the path of a key file.
  if (parent === "tls" && key === "key") return false;
  return true;
}

/** Secret fields of a JSON or form-encoded body. */
function bodySecrets(body: string): string[] {
  try {
    return collectSecrets(JSON.parse(body));
  } catch {
    return [...new URLSearchParams(body)].filter(([name]) => SECRET_KEY.test(name)).map(([, value]) => value);
  }
}
