// The one place secrets are scrubbed. Every string that leaves the process
// (reports in any format, error messages, log lines) goes through a Redactor.
// Two layers: known secret values (from the config and resolved at run time)
// are replaced wherever they appear, and credential-shaped text (URL
// userinfo, Authorization values, password=…) is masked even when we never
// knew the value (client libraries echo connection strings in errors).

import { CUT } from "./util/excerpt.js";
import { decodeUrlPart } from "./util/url.js";

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

/** Passwords people do set, that are also ordinary words of a report (kinds, user names, "password"). */
const COMMON_WORDS = new Set(["password", "passwd", "postgres", "postgresql", "redis", "admin", "root", "secret", "changeme", "default", "test", "user", "guest", "letmein", "qwerty"]);

/** A secret that reads as a word or a short number: masked where it stands as a value, not inside names. */
function isWeak(secret: string): boolean {
  return /^[A-Za-z]{1,12}$/.test(secret) || /^\d{1,8}$/.test(secret) || COMMON_WORDS.has(secret.toLowerCase());
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Keys of a report whose values are names the user chose or the tool's own words: never masked. */
const STRUCTURAL_KEYS = new Set(["name", "kind", "check", "blockedBy", "blocks", "target", "env", "configFile", "class", "status", "metric", "diagnosis", "source", "severity", "op", "phase", "startedAt", "tool", "schemaVersion"]);

/**
 * The forms a secret takes on its way back to us: as is; URL-encoded
 * (clients put passwords in URLs), with lower-case hex and RFC 3986's
 * reserved !*'() too, and form-encoded (space as +); JSON-escaped, also with
 * every non-ASCII character and < > & as \\uXXXX (Python's and Go's
 * encoders), with escaped slashes; HTML entities; base64; and with runs of
 * whitespace folded to one space (excerpts fold them).
 */
function formsOf(secret: string): string[] {
  const uri = encodeURIComponent(secret);
  const rfc3986 = uri.replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  const json = JSON.stringify(secret).slice(1, -1);
  // \\uXXXX for the characters an encoder chooses: non-ASCII (Python's default), < > & (Go's), or both.
  const unicode = (pattern: RegExp, upper: boolean) =>
    json.replace(pattern, (char) => {
      const hex = char.charCodeAt(0).toString(16).padStart(4, "0");
      return `\\u${upper ? hex.toUpperCase() : hex}`;
    });
  const escapes = [/[^\x20-\x7e]/g, /[<>&]/g, /[^\x20-\x7e]|[<>&']/g].flatMap((pattern) => [unicode(pattern, false), unicode(pattern, true)]);
  const html = secret.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  const encoded = [secret, uri, uri.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()), rfc3986, rfc3986.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()), uri.replace(/%20/g, "+"), json, json.replace(/\//g, "\\/"), ...escapes, html, html.replace(/&#39;/g, "&#x27;")];
  // Excerpts fold runs of whitespace: each form also as it reads folded.
  const forms = [...encoded, ...encoded.map((form) => form.replace(/\s+/g, " "))];
  if (secret.length >= 6) {
    const base64 = Buffer.from(secret, "utf8").toString("base64");
    forms.push(base64, base64.replace(/=+$/, ""), base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
  }
  return forms;
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private sorted: string[] = [];
  private readonly weak = new Set<string>();
  private weakPatterns: RegExp[] = [];
  /** Names the user chose (check names, kinds, hosts, users, databases): a weak secret equal to one is not masked in text. */
  private readonly publicValues = new Set<string>();
  private weakNoted = false;
  private readonly noteList: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    for (const secret of secrets) this.add(secret);
  }

  add(secret: string | undefined | null): void {
    if (!secret || secret.length < MIN_SECRET_LENGTH || this.secrets.has(secret) || this.weak.has(secret)) return;
    if (isWeak(secret)) {
      this.weak.add(secret);
      this.rebuildWeak();
      if (!this.weakNoted) {
        this.weakNoted = true;
        this.noteList.push(
          "a secret in this run is a common word or a short number: it is masked where it stands as a value (after = or :, quoted, on its own), never inside check names, kinds, hosts, users or databases — choose a stronger one",
        );
      }
      return;
    }
    for (const form of formsOf(secret)) if (form.length >= MIN_SECRET_LENGTH) this.secrets.add(form);
    // Longest first so a secret that contains another is masked whole.
    this.sorted = [...this.secrets].sort((a, b) => b.length - a.length);
  }

  /** A name the user chose, seen in structural fields (a check name, a host, a user): never a value to mask. */
  addPublic(value: string | undefined | null): void {
    if (!value || this.publicValues.has(value)) return;
    this.publicValues.add(value);
    this.rebuildWeak();
  }

  /** Notes for stderr, each once (a weak secret and how it is masked). */
  notes(): string[] {
    return this.noteList.splice(0);
  }

  private rebuildWeak(): void {
    this.weakPatterns = [...this.weak]
      .filter((secret) => !this.publicValues.has(secret))
      // A sentence's full stop ends a value, an address's dot does not (127 in 127.0.0.1); a number right after host: is a port.
      .map((secret) => new RegExp(`(?<=^|[\\s"'=:,(\\[{<>])${/^\d+$/.test(secret) ? "(?<![\\w\\]]:)" : ""}${escapeRegExp(secret)}(?=$|[\\s"'&;,)\\]}<>!?]|\\.(?!\\w))`, "g"));
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
    for (const pattern of this.weakPatterns) out = out.replace(pattern, MASK);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }

  /**
   * A rendered report: known secrets and credential-shaped text, but no
   * word-like secret (the report's fields were redacted one by one before
   * rendering; here a common-word password would hit names and kinds).
   */
  rendered(value: string): string {
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

  /**
   * Deep copy of a report (or any structure) with its free text redacted:
   * names (STRUCTURAL_KEYS: check names, kinds, targets, classes, phases)
   * and keys are names the user or the tool chose — only a known secret's
   * exact value is masked in them, never a word that merely equals one.
   */
  deep<T>(value: T, key = ""): T {
    if (typeof value === "string") return (STRUCTURAL_KEYS.has(key) ? this.values(value) : this.text(value)) as T;
    if (Array.isArray(value)) return value.map((item) => this.deep(item, key)) as T;
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([name, item]) => [this.values(name), this.deep(item, name)])) as T;
    }
    return value;
  }
}

/**
 * `scheme:` + up to three slashes + `user:password@`, also where a typo leaves
 * it no URL at all (`redis:/:pw@host`, `postgres//app:pw@db`): the config
 * error about the typo must not quote the password it was written with.
 */
const TYPED_USERINFO = /^[a-z][a-z0-9+.-]*:?\/{0,3}([^\s/@?#]*:)([^\s/@?#]+)@/i;

/** A URL for display: credentials removed, secret query parameters masked. */
export function redactUrl(typed: string): string {
  const raw = typed.replace(TYPED_USERINFO, (match, user: string, password: string) => match.replace(`${user}${password}@`, `${user}${MASK}@`));
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
  const typed = TYPED_USERINFO.exec(raw)?.[2];
  const found = typed ? [typed, decodeUrlPart(typed)] : [];
  // Credentials need a userinfo (@) or a query (?); without either, parsing (and throwing) for every string of a large config is most of its load time.
  if (!raw.includes("@") && !raw.includes("?")) return found;
  try {
    const url = new URL(raw);
    found.push(decodeUrlPart(url.password));
    if (!url.password && url.username && /^(https?|wss?):$/.test(url.protocol)) found.push(decodeUrlPart(url.username));
    for (const [key, value] of url.searchParams) if (/pass|token|secret|key|auth|sig|jwt/i.test(key)) found.push(value);
  } catch {
    // not a URL: what it was typed with above is all there is
  }
  return [...new Set(found.filter(Boolean))];
}

/**
 * Everything secret-looking in a (raw, interpolated) config document: values
 * under secret keys, credential header values, URL credentials, secret fields
 * of JSON or form-encoded bodies. Collected before validation so that even a
 * config error never echoes them.
 */
export function collectSecrets(value: unknown, key = "", parent = ""): string[] {
  if (typeof value === "string") {
    // A password is a secret as a whole: "x/with:odd@chars" in one is not a URL whose "odd" is another secret.
    const whole = parent !== "headers" && isSecretField(key, parent, value);
    const found: string[] = whole ? [value] : [...urlSecrets(value)];
    if (parent === "headers" && SECRET_HEADER.test(key)) found.push(value, ...headerSecrets(value));
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
  // `password: { secret: NAME }`, `token: { value: { secret: NAME } }`: a reference in a secret's place names the secret, even a short one.
  if (key === "secret" && (SECRET_KEY.test(parent) || parent === "value")) return false;
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
