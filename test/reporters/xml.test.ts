// The one XML escaping helper: entity escaping, attribute-value normalisation,
// and characters XML 1.0 cannot carry at all. The round trip through a real
// XML parser (xmllint) proves the escaped text reads back as intended.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { element, openTag, sanitizeXmlChars, xmlAttr, xmlText } from "../../src/reporters/xml.js";

describe("xmlText", () => {
  it.each([
    ["plain", "plain"],
    ["a & b", "a &amp; b"],
    ["<tag>", "&lt;tag&gt;"],
    ["]]>", "]]&gt;"],
    ['"quoted" \'single\'', '"quoted" \'single\''],
    ["line 1\nline 2\ttab", "line 1\nline 2\ttab"],
    ["carriage\r\nreturn", "carriage&#13;\nreturn"],
    ["ESC \u001b[31mred\u001b[0m", "ESC \\u001b[31mred\\u001b[0m"],
    ["NUL \u0000 BEL \u0007 VT \u000b FF \u000c", "NUL \\u0000 BEL \\u0007 VT \\u000b FF \\u000c"],
    ["lone surrogate \ud800 here", "lone surrogate \\ud800 here"],
    ["non-characters \ufffe \uffff", "non-characters \\ufffe \\uffff"],
    ["emoji 😀 and é and 漢字", "emoji 😀 and é and 漢字"],
    ["DEL \u007f and C1 \u0085 are allowed", "DEL \u007f and C1 \u0085 are allowed"],
  ])("%j → %j", (input, expected) => {
    expect(xmlText(input)).toBe(expected);
  });
});

describe("xmlAttr", () => {
  it.each([
    ['say "hi"', "say &quot;hi&quot;"],
    ["it's", "it&apos;s"],
    ["a\nb\tc\rd", "a&#10;b&#9;c&#13;d"],
    ["<&>", "&lt;&amp;&gt;"],
    ["\u001b", "\\u001b"],
  ])("%j → %j", (input, expected) => {
    expect(xmlAttr(input)).toBe(expected);
  });
});

it("sanitizeXmlChars leaves valid text untouched (same string)", () => {
  const valid = "tab\t lf\n cr\r 😀 \ud7ff \ue000 \ufffd";
  expect(sanitizeXmlChars(valid)).toBe(valid);
});

it("openTag / element skip undefined attributes and self-close without text", () => {
  expect(openTag("a", { x: 1, y: undefined, z: "q\"" })).toBe('<a x="1" z="q&quot;"');
  expect(element("b", { m: "x" })).toBe('<b m="x"/>');
  expect(element("b", {}, "")).toBe("<b/>");
  expect(element("b", {}, "1 < 2")).toBe("<b>1 &lt; 2</b>");
});

it("a real XML parser reads back attribute and text exactly (newlines, quotes, tabs intact; invalid characters spelled out)", () => {
  const nasty = 'line 1\nline 2\r\n\t"double" \'single\' <b>&amp;</b> ]]> \u001b[0m \u0000 \ud800 😀';
  const dir = mkdtempSync(path.join(tmpdir(), "infra-check-xml-"));
  try {
    const file = path.join(dir, "doc.xml");
    writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>\n${element("doc", { value: nasty }, nasty)}\n`);
    // xmllint ends its --xpath output with one newline of its own.
    const read = (xpath: string) => execFileSync("xmllint", ["--xpath", xpath, file], { encoding: "utf8" }).replace(/\n$/, "");
    const expected = sanitizeXmlChars(nasty);
    expect(read("string(/doc/@value)")).toBe(expected);
    expect(read("string(/doc)")).toBe(expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
