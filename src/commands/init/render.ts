// The file `infra-check init` writes: the $schema line first (editors
// complete and check keys), a header saying where it came from, the top-level
// settings, then each proposed check with its comments. Values are rendered
// by the yaml library (quoting is its business); small maps and lists stay on
// one line, as people write them.
import YAML from "yaml";
import type { MappingRow, ProposedCheck } from "../../probes/init-api.js";
import type { RunnerBlock } from "./runners.js";

export interface FileParts {
  schemaPath: string;
  /** Header lines (without `# `). */
  header: string[];
  env: string;
  deadline: string;
  timeout: string;
  gcp?: { project: string; region: string };
  checks: ProposedCheck[];
  /** `runners:` (src/commands/init/runners.ts), before the checks that name it. */
  runners?: RunnerBlock;
  /** Raw check blocks (starter snippets): name → YAML of the fields, already indented. */
  starters?: { name: string; kind: string; yaml: string }[];
}

const FLOW_WIDTH = 100;

function comment(text: string, indent: string): string {
  return text
    .split("\n")
    .flatMap((line) => wrap(line, 78 - indent.length))
    .map((line) => `${indent}#${line ? ` ${line}` : ""}\n`)
    .join("");
}

function wrap(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const words = line.split(" ");
  const lines: string[] = [];
  let current = "";
  for (const word of words) {
    if (current && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) lines.push(current);
  return lines;
}

function scalar(value: unknown): string {
  return YAML.stringify(value, { lineWidth: 0 }).trimEnd();
}

/** `key: value`, one line when it fits, else a block. */
function field(key: string, value: unknown, indent: string): string {
  if (value === null || typeof value !== "object") return `${indent}${key}: ${scalar(value)}\n`;
  const flow = YAML.stringify(value, { collectionStyle: "flow", lineWidth: 0, flowCollectionPadding: false }).trim();
  if (indent.length + key.length + 2 + flow.length <= FLOW_WIDTH && !flow.includes("\n")) return `${indent}${key}: ${flow}\n`;
  if (Array.isArray(value)) return `${indent}${key}:\n${value.map((item) => `${indent}  - ${scalar(item)}\n`).join("")}`;
  return `${indent}${key}:\n${Object.entries(value as Record<string, unknown>).map(([inner, item]) => field(inner, item, `${indent}  `)).join("")}`;
}

export function renderCheck(check: ProposedCheck): string {
  let text = "";
  if (check.comment) text += comment(check.comment, "  ");
  text += `  ${check.name}:\n    kind: ${check.kind}\n`;
  for (const [key, value] of Object.entries(check.fields)) {
    const note = check.keyComments?.[key];
    if (note) text += comment(note, "    ");
    text += field(key, value, "    ");
  }
  return text;
}

/** A starter snippet: its leading comment goes above the check, like a mapped check's. */
function renderStarter(starter: { name: string; kind: string; yaml: string }): string {
  const lines = starter.yaml.split("\n");
  const lead = lines.findIndex((line) => !line.trimStart().startsWith("#"));
  const above = lines.slice(0, lead).map((line) => `  ${line.trimStart()}\n`).join("");
  return `${above}  ${starter.name}:\n    kind: ${starter.kind}\n${lines.slice(lead).join("\n")}`;
}

export function renderFile(parts: FileParts): string {
  let text = `# yaml-language-server: $schema=${parts.schemaPath}\n#\n`;
  text += parts.header.map((line) => (line.startsWith("  ") ? `# ${line}\n` : comment(line, ""))).join("");
  text += "\n";
  text += `env: ${scalar(parts.env)}\n\n`;
  text += comment("The whole run's budget: a run never takes longer, whatever the network does.", "");
  text += `deadline: ${parts.deadline}\n\n`;
  text += `defaults:\n${comment("Every check's own budget unless it sets timeout: (the team's numbers: local 1s, staging 3s, production 5s).", "  ")}  timeout: ${parts.timeout}\n\n`;
  if (parts.gcp) {
    text += `gcp:\n  project: ${scalar(parts.gcp.project)}\n  region: ${scalar(parts.gcp.region)}\n\n`;
  }
  if (parts.runners) {
    text += comment(parts.runners.comment, "");
    text += `runners:\n  ${parts.runners.name}:\n    cloudRunJob:\n`;
    for (const [key, value] of Object.entries(parts.runners.cloudRunJob)) {
      text += field(key, value, "      ");
      if (key === "job") text += "      # image: REGION-docker.pkg.dev/PROJECT/REPO/infra-check:VERSION   (needed by runner deploy; pin by digest)\n";
    }
    text += "\n";
  }
  text += "checks:\n";
  const blocks = [...parts.checks.map(renderCheck), ...(parts.starters ?? []).map(renderStarter)];
  text += blocks.join("\n");
  return text;
}

/** The mapping table printed at the end: what each fact became, and what was not mapped and why. */
export function mappingTable(rows: readonly MappingRow[], hints: readonly string[] = []): string {
  const mapped = rows.filter((row) => row.to);
  const unmapped = rows.filter((row) => !row.to);
  // A fact longer than the column gets a line of its own, so the columns stay aligned.
  const width = Math.min(36, Math.max(4, ...mapped.map((row) => row.from.length)));
  const toWidth = Math.max(5, ...mapped.map((row) => row.to!.length));
  let text = "";
  if (mapped.length) {
    text += `${"from".padEnd(width)}  ${"check".padEnd(toWidth)}  how\n`;
    for (const row of mapped) {
      const from = row.from.length > width ? `${row.from}\n${"".padEnd(width)}` : row.from.padEnd(width);
      text += `${from}  ${row.to!.padEnd(toWidth)}  ${row.note ?? ""}`.trimEnd() + "\n";
    }
  }
  if (unmapped.length) {
    text += `${mapped.length ? "\n" : ""}Not mapped:\n`;
    for (const row of unmapped) text += `  ${row.from}: ${row.note ?? "no kind recognises it"}\n`;
  }
  if (hints.length) text += `\nTo map more:\n${hints.map((hint) => `  → ${hint}\n`).join("")}`;
  return text;
}
