// A config file's YAML: parsed with positions, bounded before it becomes
// data, and able to say where a key path is written (line, column, the line
// itself with a caret).
//
// Bounds, because YAML aliases turn a few bytes into a lot of data: an alias
// inside its own anchor (`a: &a [*a]`) is an infinite structure, which every
// recursive walk after parsing (interpolation, secret collection, validation)
// would overflow on; nested anchors (`b: [*a, *a, …]`, `c: [*b, *b, …]`, the
// "billion laughs") grow exponentially. Both are rejected here, at the alias
// that does it, before anything expands them.
import type { Document, LineCounter, Node, Pair } from "yaml";
import { ConfigError, ConfigErrors, type SourceLocation } from "../util/errors.js";
import { MASK, Redactor, SECRET_HEADER, SECRET_KEY } from "../redact.js";

/** Nesting deeper than any real config (a message body inside a script step is about 8 levels). */
export const MAX_DEPTH = 64;
/** Values aliases may add in total: generous for shared defaults (`*defaults` in 100 checks), far below an expansion attack. */
export const MAX_ALIAS_VALUES = 10_000;

type Segment = string | number;

/** Characters of a source line a frame shows at most. */
const FRAME_WIDTH = 100;

interface Place {
  /** The key as written (`timeout:`), absent for list items and the document itself. */
  key?: Node;
  value?: Node | null;
}

export interface ConfigSource {
  value: unknown;
  /** The file position of a problem, when its key path (or an ancestor of it) is written in the file. */
  locate(error: ConfigError, redactor?: Redactor): SourceLocation | undefined;
}

export async function readConfigSource(text: string, file: string): Promise<ConfigSource> {
  const yaml = await import("yaml");
  const lineCounter = new yaml.LineCounter();
  // uniqueKeys is checked by the walk below, with a set: the library compares each key with every earlier one (40k keys took a minute).
  const document = yaml.parseDocument(text, { prettyErrors: true, uniqueKeys: false, lineCounter });
  const places = new Map<string, Place>();
  const framer = new Framer(text, lineCounter);
  const at = (offset: number | undefined, end?: number): SourceLocation | undefined => (offset === undefined ? undefined : framer.frame(offset, end ?? offset + 1));

  if (document.errors.length > 0) {
    throw new ConfigErrors(
      document.errors.map((error) => {
        const [start, end] = error.pos;
        // The parser recurses per nesting level: a document nested hundreds deep overflows it.
        const detail = /call stack/i.test(error.message) ? `invalid YAML: nested too deeply (a config nests at most ${MAX_DEPTH} levels)` : `invalid YAML: ${error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`;
        return new ConfigError(detail, { file, location: at(start, end) });
      }),
    );
  }

  const problems = new Bounds(document, yaml, places).check();
  if (problems.length) {
    throw new ConfigErrors(problems.map(({ path, node, detail }) => new ConfigError(detail, { file, keyPath: path.join(".") || undefined, location: at(node.range?.[0], node.range?.[1]) })));
  }

  let value: unknown;
  try {
    // The library's own bound as a backstop: the walk above already rejected what it would.
    value = document.toJS({ maxAliasCount: MAX_ALIAS_VALUES });
  } catch (error) {
    const excessive = /excessive alias/i.test((error as Error).message);
    throw new ConfigError(excessive ? `invalid YAML: aliases expand to more than ${MAX_ALIAS_VALUES} values` : "invalid YAML: the document cannot be read", { file });
  }

  return {
    value,
    locate(error, redactor) {
      const segments = error.keyPath ? error.keyPath.split(".") : [];
      // The deepest part of the path that is written in the file: a missing key points at its parent.
      let found: Place | undefined;
      let depth = segments.length;
      for (; depth >= 0; depth -= 1) {
        found = places.get(segments.slice(0, depth).join("."));
        if (found) break;
      }
      if (!found) return undefined;
      const complete = depth === segments.length;
      const named = complete && error.key !== undefined ? places.get([...segments, error.key].join("."))?.key : undefined;
      const node = named ?? (complete ? (found.value ?? found.key) : (found.key ?? found.value));
      if (!node?.range) return undefined;
      return framer.frame(node.range[0], node.range[1], redactor);
    },
  };
}

type Yaml = typeof import("yaml");

/** One walk over the syntax tree: where each key path is, and what no config may do (see the top of the file). */
class Bounds {
  private readonly problems: { path: Segment[]; node: Node; detail: string }[] = [];
  private readonly heights = new Map<Node, number>();
  private aliasValues = 0;

  constructor(
    private readonly document: Document,
    private readonly yaml: Yaml,
    private readonly places: Map<string, Place>,
  ) {}

  check() {
    const root = this.document.contents;
    this.places.set("", { value: root });
    if (root) this.walk(root, [], 1, []);
    return this.problems;
  }

  private walk(node: Node, path: Segment[], depth: number, ancestors: Node[]): void {
    const { yaml } = this;
    if (this.problems.length) return;
    if (depth > MAX_DEPTH) {
      this.problems.push({ path, node, detail: `nested more than ${MAX_DEPTH} levels deep; a config never needs that` });
      return;
    }
    if (yaml.isAlias(node)) {
      const source = node.resolve(this.document) as Node | undefined;
      if (!source) {
        // Usually an unquoted value that starts with *, which may be a password: under a secret-looking key it is not repeated.
        const key = String(path[path.length - 1] ?? "");
        const alias = SECRET_KEY.test(key) || SECRET_HEADER.test(key) ? "the value" : `*${node.source}`;
        this.problems.push({ path, node, detail: `${alias} is read as a YAML alias (it starts with *), and no anchor of that name comes before it: if it is a value, quote it` });
      } else if (ancestors.includes(source)) {
        this.problems.push({ path, node, detail: `the alias *${node.source} is inside its own anchor &${node.source}: it would repeat forever` });
      } else if (depth - 1 + this.height(source, 0) > MAX_DEPTH) {
        this.problems.push({ path, node, detail: `the alias *${node.source} nests the value more than ${MAX_DEPTH} levels deep` });
      } else {
        this.aliasValues += this.size(source, 0);
        if (this.aliasValues > MAX_ALIAS_VALUES) {
          this.problems.push({ path, node, detail: `aliases expand to more than ${MAX_ALIAS_VALUES} values here (anchors of anchors multiply: a "billion laughs" document); repeat fewer values` });
        }
      }
      return;
    }
    const inside = [...ancestors, node];
    const visitPair = (pair: Pair<Node | null, Node | null>, at: Segment[]) => {
      const childPath = [...at, this.keyText(pair.key)];
      if (!this.places.has(childPath.join("."))) this.places.set(childPath.join("."), { key: pair.key ?? undefined, value: pair.value });
      if (pair.key && !yaml.isScalar(pair.key)) this.walk(pair.key, childPath, depth + 1, inside);
      if (pair.value) this.walk(pair.value, childPath, depth + 1, inside);
    };
    if (yaml.isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items as Pair<Node | null, Node | null>[]) {
        const key = String(this.keyText(pair.key));
        const keyNode = pair.key ?? node;
        if (key === "__proto__") {
          this.problems.push({ path: [...path, key], node: keyNode, detail: `"__proto__" cannot be a key (JavaScript reserves it: the value would vanish); rename it` });
          return;
        }
        if (seen.has(key)) {
          this.problems.push({ path: [...path, key], node: keyNode, detail: `invalid YAML: "${key}" appears twice in this mapping; keys are unique (the second would silently replace the first)` });
          return;
        }
        seen.add(key);
        visitPair(pair, path);
      }
    } else if (yaml.isSeq(node)) {
      (node.items as unknown[]).forEach((item, index) => {
        const childPath = [...path, index];
        // `[a: 1]` is a list of one single-pair mapping.
        if (yaml.isPair(item)) {
          this.places.set(childPath.join("."), { value: (item.key as Node | null) ?? undefined });
          visitPair(item as Pair<Node | null, Node | null>, childPath);
        } else if (yaml.isNode(item)) {
          this.places.set(childPath.join("."), { value: item });
          this.walk(item, childPath, depth + 1, inside);
        }
      });
    }
  }

  private keyText(key: Node | null): Segment {
    // What toJS makes of the key: a complex key becomes its string form.
    return this.yaml.isScalar(key) ? String(key.value) : String(key);
  }

  /** Levels of nesting a value adds where an alias puts it. */
  private height(node: Node, depth: number): number {
    const { yaml } = this;
    if (depth > MAX_DEPTH) return Number.POSITIVE_INFINITY;
    const known = this.heights.get(node);
    if (known !== undefined) return known;
    let height = 1;
    if (yaml.isAlias(node)) {
      const source = node.resolve(this.document) as Node | undefined;
      height = source ? this.height(source, depth + 1) : 1;
    } else if (yaml.isMap(node) || yaml.isSeq(node)) {
      for (const item of node.items as unknown[]) {
        const children = yaml.isPair(item) ? [item.key, item.value] : [item];
        for (const child of children) if (child && yaml.isNode(child)) height = Math.max(height, 1 + this.height(child, depth + 1));
      }
    }
    this.heights.set(node, height);
    return height;
  }

  /** Values a node becomes once its aliases are expanded (capped: only "more than the bound" matters). */
  private size(node: Node, depth: number): number {
    const { yaml } = this;
    if (depth > MAX_DEPTH) return MAX_ALIAS_VALUES + 1;
    if (yaml.isAlias(node)) {
      const source = node.resolve(this.document) as Node | undefined;
      return source ? this.size(source, depth + 1) : 1;
    }
    let size = 1;
    if (yaml.isMap(node) || yaml.isSeq(node)) {
      for (const item of node.items as unknown[]) {
        const children = yaml.isPair(item) ? [item.key, item.value] : [item];
        for (const child of children) if (child && yaml.isNode(child)) size = Math.min(MAX_ALIAS_VALUES + 1, size + this.size(child, depth + 1));
      }
    }
    return size;
  }
}

/**
 * The offending line with a caret under `start…end` (its first line), like
 * rustc's. The line is the user's own text, so it may hold a secret: values
 * of secret-looking keys and every secret the redactor knows are shown as
 * `***` (the caret moves with them), and a line that would still look like a
 * credential is left out — the position alone still points at it.
 */
class Framer {
  constructor(
    private readonly text: string,
    private readonly lines: LineCounter,
  ) {}

  frame(start: number, end: number, redactor: Redactor = new Redactor()): SourceLocation {
    const { line, col } = this.lines.linePos(start);
    const lineStart = this.lines.lineStarts[line - 1] ?? 0;
    const next = this.lines.lineStarts[line];
    const lineText = this.text.slice(lineStart, next === undefined ? this.text.length : next).replace(/\r?\n$/, "");
    const from = start - lineStart;
    const to = Math.max(from + 1, Math.min(end - lineStart, lineText.replace(/\s+$/, "").length));
    const masked = maskLine(lineText, redactor);
    const location: SourceLocation = { line, column: col };
    if (redactor.text(masked.text) !== masked.text) return location;
    let caretFrom = masked.offset(from);
    let caretTo = Math.max(caretFrom + 1, masked.offset(to, true));
    let shown = masked.text;
    // A long line (a flow mapping, a minified document) is cut to a window around the caret.
    if (shown.length > FRAME_WIDTH) {
      const windowStart = Math.max(0, Math.min(caretFrom - 20, shown.length - FRAME_WIDTH));
      const windowEnd = Math.min(shown.length, windowStart + FRAME_WIDTH);
      const lead = windowStart > 0 ? "…" : "";
      shown = lead + shown.slice(windowStart, windowEnd) + (windowEnd < shown.length ? "…" : "");
      caretFrom = caretFrom - windowStart + lead.length;
      caretTo = Math.min(caretTo - windowStart + lead.length, lead.length + windowEnd - windowStart);
    }
    const gutter = " ".repeat(String(line).length);
    location.frame = [`${gutter} |`, `${line} | ${shown}`, `${gutter} | ${" ".repeat(caretFrom)}${"^".repeat(Math.max(1, caretTo - caretFrom))}`];
    return location;
  }
}

/** `key:` on one line of YAML, block or flow, quoted or not. */
const KEY_ON_LINE = /([A-Za-z0-9_.-]+)["']?\s*:(?=\s)/g;
/**
 * A value that only names where a secret comes from (`${REDIS_PASSWORD}`,
 * `"Bearer ${TOKEN}"`) is not one: the secret is what the environment puts
 * there, and an error that hid the reference could not say which variable is
 * missing.
 */
export function isReferenceOnly(value: string): boolean {
  const rest = value.replace(/^(["'])(.*)\1$/, "$2").replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, "");
  return rest !== value.replace(/^(["'])(.*)\1$/, "$2") && /^\s*(?:(?:Bearer|Basic|Token)\s*)?$/i.test(rest);
}

/** Where the value after `key:` ends: its closing quote; in a flow mapping the next indicator; else the line's end (over-masking a comment costs nothing). */
function valueEnd(line: string, start: number): number {
  const quote = line[start];
  if (quote === '"' || quote === "'") {
    for (let index = start + 1; index < line.length; index += 1) {
      if (quote === '"' && line[index] === "\\") index += 1;
      else if (line[index] === quote && !(quote === "'" && line[index + 1] === "'")) return index + 1;
      else if (line[index] === quote) index += 1;
    }
    return line.length;
  }
  const before = line.slice(0, start);
  const flow = (before.match(/[{[]/g)?.length ?? 0) > (before.match(/[}\]]/g)?.length ?? 0);
  if (!flow) return line.length;
  const stop = line.slice(start).search(/[,}\]]/);
  return stop < 0 ? line.length : start + stop;
}

function maskLine(line: string, redactor: Redactor): { text: string; offset: (original: number, isEnd?: boolean) => number } {
  const spans: [number, number][] = [];
  for (const match of line.matchAll(KEY_ON_LINE)) {
    if (!(SECRET_KEY.test(match[1]) || SECRET_HEADER.test(match[1]))) continue;
    let start = match.index + match[0].length;
    while (line[start] === " ") start += 1;
    let end = valueEnd(line, start);
    while (end > start && line[end - 1] === " ") end -= 1;
    const value = line.slice(start, end).replace(/\s+#.*$/, "").trim();
    if (value === "" || isReferenceOnly(value)) continue;
    spans.push([start, end]);
  }
  for (const secret of redactor.known()) {
    for (let index = line.indexOf(secret); index >= 0; index = line.indexOf(secret, index + secret.length)) spans.push([index, index + secret.length]);
  }
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: [number, number][] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push([...span]);
  }
  let text = "";
  let cursor = 0;
  for (const [start, end] of merged) {
    text += line.slice(cursor, start) + MASK;
    cursor = end;
  }
  text += line.slice(cursor);
  // An offset inside a masked span maps to the mask's start, or its end for the end of a range.
  const offset = (original: number, isEnd = false) => {
    let shift = 0;
    for (const [start, end] of merged) {
      if (original >= end) shift += MASK.length - (end - start);
      else if (original > start) return start + shift + (isEnd ? MASK.length : 0);
    }
    return original + shift;
  };
  return { text, offset };
}
