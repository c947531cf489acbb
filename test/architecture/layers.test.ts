// The import direction is a test: a kind, a stage or a reporter that reaches
// up (or a cycle) fails here, naming the import.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cycles, importGraph, layerOf, upwardImports } from "./layers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const graph = importGraph(ROOT);

describe("the import direction of src/", () => {
  it("every file belongs to a layer", () => {
    expect(Object.keys(graph).filter((file) => layerOf(file) < 0)).toEqual([]);
  });

  it("no file imports from a layer above its own", () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it("no import cycle", () => {
    expect(cycles(graph)).toEqual([]);
  });
});

describe("the checker itself", () => {
  it("catches an upward import (a probe reaching into the runner)", () => {
    const broken = { ...graph, "src/probes/redis/run.ts": [...graph["src/probes/redis/run.ts"], "src/runner/run-checks.ts"] };
    expect(upwardImports(broken)).toEqual(["src/probes/redis/run.ts → src/runner/run-checks.ts (probes → runner)"]);
  });

  it("catches a cycle, even inside one layer", () => {
    const broken = { ...graph, "src/util/stats.ts": [...graph["src/util/stats.ts"], "src/util/duration.ts"], "src/util/duration.ts": [...graph["src/util/duration.ts"], "src/util/stats.ts"] };
    expect(cycles(broken)).toEqual(["src/util/duration.ts → src/util/stats.ts → src/util/duration.ts"]);
  });

  it("reads static, type-only and dynamic imports", () => {
    expect(graph["src/probes/index.ts"]).toContain("src/probes/redis/index.ts");
    expect(graph["src/runner/run-checks.ts"]).toContain("src/report/schema.ts");
  });
});
