// The fixture reports every reporter test renders (test/fixtures/reports/*.json).
import { readFileSync } from "node:fs";
import path from "node:path";
import type { RunReport } from "../../src/report/schema.js";

export const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
/** A secret the config knew about; the mixed fixture also holds it inside a credential URL. */
export const SECRET = "hunter2-Secret-9";

export function loadFixture(name: "mixed" | "healthy" | "interrupted"): RunReport {
  return JSON.parse(readFileSync(path.join(FIXTURES, "reports", `${name}.json`), "utf8")) as RunReport;
}
