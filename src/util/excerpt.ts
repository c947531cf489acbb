// Bounded, single-line excerpts of text that came from elsewhere (bodies,
// messages, stderr). The cut marker is part of the contract with the
// Redactor: a secret cut short by an excerpt ends right before CUT, and is
// masked there (src/redact.ts).
export const CUT = "…";

/** Whitespace folded to single spaces; longer than `maxChars` → cut, ending in CUT. */
export function excerpt(text: string, maxChars: number): string {
  return cut(text.replace(/\s+/g, " ").trim(), maxChars);
}

/** `text` cut to `maxChars`, ending in CUT when it was longer. */
export function cut(text: string, maxChars: number): string {
  return text.length > maxChars ? text.slice(0, maxChars) + CUT : text;
}
