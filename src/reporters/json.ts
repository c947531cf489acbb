// Machine-readable report, schemaVersion 1 (documented in README "JSON output").
import type { Reporter } from "../report/schema.js";

const json: Reporter = (report) => JSON.stringify(report, null, 2) + "\n";
export default json;
