// The diagnosis catalogue, as a whole: every entry has a unique id under its
// layer's prefix, every hint text exists once (a kind refines a generic entry
// instead of copying it), and the docs list every code — each doc page has a
// section generated from the catalogue. After changing an entry:
//   UPDATE_DOCS=1 npx vitest run test/docs/catalogue.test.ts
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Catalogue, CatalogueEntry } from "../../src/diagnose/catalogue.js";
import { GENERIC_CATALOGUES } from "../../src/diagnose/codes.js";
import { CLASS_HINTS } from "../../src/evaluate/hints.js";
import { GCP, GRPC } from "../../src/gcp/diagnose.js";
import { SECRETS } from "../../src/gcp/secrets.js";
import { RUNNER } from "../../src/runner/cloud-run-job/diagnose.js";
import { loadProbe, PROBE_KINDS } from "../../src/probes/index.js";
import type { ProbeDefinition } from "../../src/probes/api.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const kinds = new Map<string, ProbeDefinition>(await Promise.all(PROBE_KINDS.map(async (kind) => [kind, await loadProbe(kind)] as const)));
const GENERIC: Catalogue[] = [...GENERIC_CATALOGUES, GRPC, GCP, SECRETS, RUNNER];
const entries = (catalogue: Catalogue | undefined): CatalogueEntry[] => Object.values(catalogue ?? {});
const genericEntries = GENERIC.flatMap(entries);
const kindEntries = [...kinds].map(([kind, probe]) => [kind, entries(probe.diagnosis.catalogue)] as const);
const all = [...genericEntries, ...kindEntries.flatMap(([, list]) => list)];

/** Placeholder facts, so a template can be shown without an observation: every fact reads as ‹name›. */
const placeholders = new Proxy({}, { get: (_target, key) => (typeof key === "string" ? `‹${key}›` : undefined) });
function render(template: unknown): string {
  if (typeof template === "string") return template;
  try {
    return String((template as (facts: unknown) => string)(placeholders));
  } catch {
    return "(worded from what was observed)";
  }
}

function section(list: CatalogueEntry[]): string {
  const rows = list.map((entry) => `| \`${entry.id}\` | \`${entry.class}\` | ${render(entry.hint).replace(/\|/g, "\\|").replace(/\n/g, " ")} |`);
  return ["| code | class | what to do next |", "|---|---|---|", ...rows].join("\n");
}

const BEGIN = (name: string) => `<!-- diagnoses:${name}:begin (generated from the catalogue by test/docs/catalogue.test.ts) -->`;
const END = (name: string) => `<!-- diagnoses:${name}:end -->`;

/** The generated section of `name` in `file`, replaced (UPDATE_DOCS) or compared. */
function checkSection(file: string, name: string, list: CatalogueEntry[]): void {
  const full = path.join(ROOT, file);
  const text = readFileSync(full, "utf8");
  const begin = text.indexOf(BEGIN(name));
  const end = text.indexOf(END(name));
  const expected = `${BEGIN(name)}\n${section(list)}\n${END(name)}`;
  if (process.env.UPDATE_DOCS && begin >= 0 && end > begin) writeFileSync(full, text.slice(0, begin) + expected + text.slice(end + END(name).length));
  const now = readFileSync(full, "utf8");
  expect(begin, `${file} has no section ${BEGIN(name)} … ${END(name)}`).toBeGreaterThanOrEqual(0);
  expect(now.slice(now.indexOf(BEGIN(name)), now.indexOf(END(name)) + END(name).length), `${file}: run with UPDATE_DOCS=1`).toBe(expected);
}

/** A kind's own page, else the Google Cloud page its kind is documented on. */
const pageOf = (kind: string) => (existsSync(path.join(ROOT, `docs/${kind}.md`)) ? `docs/${kind}.md` : "docs/google-cloud.md");

describe("the diagnosis catalogue", () => {
  it("ids are unique", () => {
    const ids = all.map((entry) => entry.id);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
  });

  it("each kind's entries sit under a layer prefix of its own, never a generic one", () => {
    const genericPrefixes = new Set(genericEntries.map((entry) => entry.id.split(".")[0]));
    const owner = new Map<string, string>();
    for (const [kind, list] of kindEntries) {
      for (const entry of list) {
        const prefix = entry.id.split(".")[0];
        expect(genericPrefixes.has(prefix), `${kind}: ${entry.id}`).toBe(false);
        expect(owner.get(prefix) ?? kind, `${entry.id} is used by ${owner.get(prefix)} and ${kind}`).toBe(kind);
        owner.set(prefix, kind);
      }
    }
  });

  it("each hint text exists once (entries, kinds' refinements and class hints, and the generic class hints)", () => {
    const texts: [string, string][] = [
      ...all.map((entry) => [entry.id, render(entry.hint)] as [string, string]),
      ...Object.entries(CLASS_HINTS).map(([name, text]) => [`class ${name}`, text] as [string, string]),
      ...[...kinds].flatMap(([kind, probe]) => [
        // One refinement may apply to several generic entries (a connect timeout and no route are both "no path"): one text.
        ...[...new Set(Object.values(probe.diagnosis.refine ?? {}).map(render))].map((text) => [`${kind}'s refinements`, text] as [string, string]),
        ...Object.entries(probe.diagnosis.hints ?? {}).map(([name, text]) => [`${kind} ${name} hint`, render(text)] as [string, string]),
      ]),
    ].filter(([, text]) => text !== "(worded from what was observed)");
    const seen = new Map<string, string>();
    const copies: string[] = [];
    for (const [where, text] of texts) {
      if (seen.has(text)) copies.push(`${where} repeats ${seen.get(text)}: ${text}`);
      else seen.set(text, where);
    }
    expect(copies).toEqual([]);
  });

  it("docs/diagnoses.md lists every generic code", () => {
    checkSection("docs/diagnoses.md", "generic", genericEntries);
  });

  it("docs/runners.md lists the runner's codes", () => {
    checkSection("docs/runners.md", "runner", entries(RUNNER));
  });

  it.each(PROBE_KINDS.filter((kind) => entries(kinds.get(kind)!.diagnosis.catalogue).length > 0))("the %s kind's page lists its codes", (kind) => {
    checkSection(pageOf(kind), kind, entries(kinds.get(kind)!.diagnosis.catalogue));
  });
});
