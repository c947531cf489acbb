// Text that came from outside (a server's error, a body excerpt, a saved
// report given to compare or --baseline) must not steer the terminal or the
// CI log it is printed to: an ANSI escape can recolour or erase lines, a
// newline followed by `::error::` is a GitHub workflow command, and a bidi
// override (U+202E) makes a line read differently from what it says. Such
// characters are shown, not obeyed: as visible escapes (`\x1b`, `\u202e`,
// `\n`), so triage still sees that they were there.

// ESC and the C1 introducer (U+009B), with a CSI or OSC body, or alone; C0 controls but tab; DEL; C1 controls.
const CONTROL = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0a-\x1f\x7f\x80-\x9f]/g;
// Bidi embeddings, overrides and isolates, the marks, and the Arabic letter mark.
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

const visible = (character: string): string => {
  if (character === "\n") return "\\n";
  if (character === "\r") return "\\r";
  const code = character.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
};

/** One line of text, safe to print: control sequences and bidi controls as visible escapes. */
export function neutralizeLine(text: string): string {
  if (!/[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/.test(text)) return text;
  return text
    .replace(CONTROL, (sequence) => [...sequence].map((character) => (character === "\x1b" || character.charCodeAt(0) < 0x20 || (character.charCodeAt(0) >= 0x7f && character.charCodeAt(0) <= 0x9f) ? visible(character) : character)).join(""))
    .replace(BIDI, visible);
}

/**
 * Text that may span lines (a hint, a body excerpt): neutralized as a line,
 * but its line breaks kept for the reporter to fold or indent — except one
 * followed by `::`, which would start a workflow command in a CI log.
 */
export function neutralizeText(text: string): string {
  if (!text.includes("\n")) return neutralizeLine(text);
  return text
    .split("\n")
    .map((line, index) => (index > 0 && /^\s*::/.test(line) ? "\\n" : index > 0 ? "\n" : "") + neutralizeLine(line))
    .join("");
}

/** Every string of a value (a report) neutralized as text (neutralizeText), keys as lines. Objects are copied, never changed in place. */
export function neutralizeDeep<T>(value: T): T {
  if (typeof value === "string") return neutralizeText(value) as T;
  if (Array.isArray(value)) return value.map((item) => neutralizeDeep(item)) as T;
  if (value !== null && typeof value === "object") {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[neutralizeLine(key)] = neutralizeDeep(item);
    return copy as T;
  }
  return value;
}

/**
 * JSON with bidi controls, DEL and C1 controls escaped (`\u202e`, `\u009b`;
 * JSON.stringify already escapes C0): the same data once parsed, but a
 * terminal or viewer showing the file cannot be steered by it.
 */
export function escapeJsonControls(json: string): string {
  return json.replace(JSON_UNESCAPED, (character) => `\\u${character.codePointAt(0)!.toString(16).padStart(4, "0")}`);
}
const JSON_UNESCAPED = /[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
