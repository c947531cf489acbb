// The README's configuration example is what a new user copies first: it
// must be a config the validator accepts, with only its ${VARS} to provide.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfigFile } from "../../src/config/load.js";
import { configProblems, isConfigError } from "../../src/util/errors.js";

const README = readFileSync(path.resolve(import.meta.dirname, "../../README.md"), "utf8");

/** The first ```yaml block after the "## Configuration" heading. */
function configurationExample(): string {
  const section = README.slice(README.indexOf("\n## Configuration\n"));
  const match = /^```yaml\n([^]*?)^```$/m.exec(section);
  if (!match) throw new Error('no ```yaml block under "## Configuration" in README.md');
  return match[1];
}

const dir = mkdtempSync(path.join(tmpdir(), "infra-check-readme-"));
const file = path.join(dir, "staging.yaml");
writeFileSync(file, configurationExample());

describe("README: the configuration example", () => {
  it("validates with its variables set, with budgets that fit", async () => {
    const loaded = await loadConfigFile(file, { env: { HEALTH_TOKEN: "health-token-value", REDIS_PASSWORD: "redis-password-value" } });
    expect(loaded.env).toBe("staging");
    expect(loaded.checks.length).toBeGreaterThan(0);
    for (const check of loaded.checks) for (const dependency of check.dependsOn) expect(loaded.checks.map((other) => other.name)).toContain(dependency);
    expect(loaded.warnings.map((warning) => warning.message)).toEqual([]);
  });

  it("without them, the only problems are the variables it references, each named", async () => {
    const error = await loadConfigFile(file, { env: {} }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!isConfigError(error)) throw new Error(`expected a config error, got ${String(error)}`);
    const problems = configProblems(error);
    expect(problems.map((problem) => problem.detail)).toEqual([
      expect.stringContaining("environment variable HEALTH_TOKEN is not set (referenced as ${HEALTH_TOKEN})"),
      expect.stringContaining("environment variable REDIS_PASSWORD is not set (referenced as ${REDIS_PASSWORD})"),
    ]);
  });
});
