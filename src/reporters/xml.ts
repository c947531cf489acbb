// The one place XML text is escaped. Check messages carry whatever a server
// or a client library produced (ANSI colour codes, NUL bytes, lone UTF-16
// surrogates); XML 1.0 cannot represent some of those characters at all, not
// even as character references, and a JUnit file that fails to parse loses
// every result in it. So invalid characters are rewritten to a visible
// `\uXXXX` form before the usual entity escaping.

/** Characters XML 1.0 allows: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
const INVALID_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Replace characters XML 1.0 cannot carry with their `\uXXXX` spelling (so the evidence stays readable). */
export function sanitizeXmlChars(value: string): string {
  return value.replace(INVALID_XML_CHAR, (char) => `\\u${char.codePointAt(0)!.toString(16).padStart(4, "0")}`);
}

/** Element content. `\r` is kept as a reference because parsers normalise a literal CR to LF. */
export function xmlText(value: string): string {
  return sanitizeXmlChars(value).replace(/[&<>\r]/g, (char) => TEXT_ENTITIES[char]);
}

/**
 * Attribute value (always written inside double quotes). Tab, LF and CR become
 * references: a parser turns literal ones into spaces (attribute-value
 * normalisation), which would flatten a multi-line message.
 */
export function xmlAttr(value: string): string {
  return sanitizeXmlChars(value).replace(/[&<>"'\t\n\r]/g, (char) => ATTR_ENTITIES[char]);
}

const TEXT_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;" };
const ATTR_ENTITIES: Record<string, string> = {
  ...TEXT_ENTITIES,
  '"': "&quot;",
  "'": "&apos;",
  "\t": "&#9;",
  "\n": "&#10;",
};

export type XmlAttributes = Record<string, string | number | undefined>;

/** `<name a="1" b="2"` (unclosed), skipping undefined attributes; names are ours, values are escaped. */
export function openTag(name: string, attributes: XmlAttributes = {}): string {
  const parts = Object.entries(attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${xmlAttr(String(value))}"`);
  return `<${name}${parts.join("")}`;
}

/** A complete element: self-closing without text, else `<name …>text</name>` with the text escaped. */
export function element(name: string, attributes: XmlAttributes = {}, text?: string): string {
  const open = openTag(name, attributes);
  return text === undefined || text === "" ? `${open}/>` : `${open}>${xmlText(text)}</${name}>`;
}
