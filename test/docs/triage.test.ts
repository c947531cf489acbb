// docs/triage.md names diagnosis codes and failure classes in its per-layer
// guide and in the side-by-side table that scripts/triage-table.js generates
// from real runs. The table is too slow to regenerate in the suite, so this
// keeps the page honest cheaply: a code renamed or removed from the catalogue,
// or a class that is not one, fails here and sends you to regenerate or edit.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Catalogue } from "../../src/diagnose/catalogue.js";
import { GENERIC_CATALOGUES } from "../../src/diagnose/codes.js";
import { FAILURE_CLASSES } from "../../src/diagnose/vocabulary.js";
import { GCP, GRPC } from "../../src/gcp/diagnose.js";
import { SECRETS } from "../../src/gcp/secrets.js";
import { loadProbe, PROBE_KINDS } from "../../src/probes/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const doc = readFileSync(path.join(ROOT, "docs/triage.md"), "utf8");
const kindCatalogues = await Promise.all(PROBE_KINDS.map(async (kind) => (await loadProbe(kind)).diagnosis.catalogue ?? {}));
const catalogues: Catalogue[] = [...GENERIC_CATALOGUES, GRPC, GCP, SECRETS, ...kindCatalogues];
const ids = new Set(catalogues.flatMap((catalogue) => Object.values(catalogue).map((entry) => entry.id)));
const classes = new Set<string>(FAILURE_CLASSES);

const BEGIN = "<!-- triage-table:begin";
const END = "<!-- triage-table:end -->";
const table = doc.slice(doc.indexOf(BEGIN), doc.indexOf(END));
/** The generated table's data rows, split into cells (escaped pipes kept inside their cell). */
const rows = table
  .split("\n")
  .filter((line) => /^\| \d+ \|/.test(line))
  .map((line) => line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));

/** `layer.CODE` in backticks: the form the guide and the table's infra-check column use for a catalogue id. */
const codesIn = (text: string) => [...text.matchAll(/`([a-z][a-z-]*\.[A-Z0-9][A-Z0-9_]*)`/g)].map((match) => match[1]);

describe("docs/triage.md", () => {
  it("names only diagnosis codes that exist in the catalogue", () => {
    const named = codesIn(doc);
    expect(named.length, "the page names codes (a pattern that matched nothing would pass vacuously)").toBeGreaterThan(40);
    expect([...new Set(named)].filter((code) => !ids.has(code))).toEqual([]);
  });

  it("has the generated side-by-side table, with a diagnosis code in infra-check's column and a computed verdict", () => {
    expect(doc.indexOf(BEGIN), "run: npm run build --silent && node scripts/triage-table.js --write").toBeGreaterThanOrEqual(0);
    expect(rows.length).toBeGreaterThanOrEqual(30);
    for (const cells of rows) expect(cells, cells.join(" | ")).toHaveLength(9);
    const inColumn = rows.flatMap((cells) => codesIn(cells[3]));
    expect(inColumn.length).toBeGreaterThanOrEqual(20);
    expect(inColumn.filter((code) => !ids.has(code))).toEqual([]);
    for (const cells of rows) expect(cells[8], cells[2]).toMatch(/^(\*\*better\*\*|equal|\*\*worse\*\*|both miss|no peer)(?: \(|$)/);
    expect(table).toMatch(/\*\*Headline:\*\* of \d+ fault cases/);
  });

  it("the prose's claims agree with the generated headline", () => {
    const worse = Number(/\*\*worse on (\d+)\*\*/.exec(table)?.[1]);
    if (/worse on none of the cases/.test(doc.slice(0, doc.indexOf(BEGIN)))) expect(worse, "the guide says infra-check is worse on none; the table disagrees").toBe(0);
    const counted = /of (\d+) fault cases with a peer tool, infra-check is \*\*better on (\d+)\*\*, \*\*equal on (\d+)\*\*, \*\*worse on (\d+)\*\*(?:, and both miss (\d+))?/.exec(table);
    expect(counted, "headline").not.toBeNull();
    const [total, ...parts] = counted!.slice(1).map((value) => Number(value ?? 0));
    expect(parts.reduce((sum, value) => sum + value, 0)).toBe(total);
    expect(rows.filter((cells) => cells[1] !== "control" && cells[6] !== "—")).toHaveLength(total);
  });

  it("the class infra-check reported in each row, and each layer heading's classes, are failure classes", () => {
    for (const cells of rows) {
      const said = cells[4];
      if (/^✔ PASS/.test(said)) continue;
      expect(classes.has(said.split(":")[0]), `${cells[2]}: ${said}`).toBe(true);
    }
    const headings = [...doc.matchAll(/^### .+ — (.+)$/gm)].map((match) => match[1]);
    expect(headings).toHaveLength(10);
    for (const heading of headings) for (const [, name] of heading.matchAll(/`([^`]+)`/g)) expect(classes.has(name), heading).toBe(true);
  });

  it("is linked from the README", () => {
    expect(readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain("(docs/triage.md)");
  });
});
