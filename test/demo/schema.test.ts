// The JSON Schema (`infra-check schema`) is generated from the validator's own
// zod schemas; these tests keep the file the build writes (schema/, not committed) in sync, check its shape,
// and validate every example config with it — interpreted independently of
// the zod source, by zod's JSON Schema reader (z.fromJSONSchema) — and with
// the validator itself.
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { buildJsonSchema, schemaText } from "../../src/commands/schema.js";
import { buildConfig, loadConfigFile } from "../../src/config/load.js";
import { BASE_CHECK_KEYS } from "../../src/config/schema.js";
import { PROBE_KINDS, loadProbe } from "../../src/probes/index.js";
import { runCli } from "../helpers/cli.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SCHEMA_FILE = path.join(ROOT, "schema/infra-check.schema.json");
const CONFIG_DIR = path.join(ROOT, "config");
const EXAMPLES = readdirSync(CONFIG_DIR).filter((file) => /\.ya?ml$/.test(file)).sort();

/** Values for every ${VAR} the examples use (what the deploy pipeline or the demo stack provides). */
const EXAMPLE_ENV: NodeJS.ProcessEnv = {
  GIT_SHA: "3f9c2ab",
  DEMO_REDIS_HOST: "127.0.0.1",
  DEMO_REDIS_PORT: "6379",
  DEMO_PG_PORT: "5432",
  DEMO_PG_PASSWORD: "demo-pg-password",
  DEMO_CHAT_PORT: "8080",
  DEMO_CHAT_JWT_SECRET: "demo-jwt-secret",
  DEMO_HEALTH_PORT: "8081",
  DEMO_GCP_EMULATOR_HOST: "127.0.0.1:8085",
  DEMO_GIT_SHA: "3f9c2ab",
};

type JsonObject = Record<string, any>;

const generated = await buildJsonSchema();
const reader = z.fromJSONSchema(generated as never);
const branches: JsonObject[] = (generated as JsonObject).properties.checks.additionalProperties.oneOf;

function rawConfig(file: string): unknown {
  return parse(readFileSync(path.join(CONFIG_DIR, file), "utf8"));
}

function schemaIssues(document: unknown): string[] {
  const result = reader.safeParse(document);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

describe("the JSON Schema the build writes", () => {
  it("is exactly what `infra-check schema` generates (npm run build writes it)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(schemaText(generated));
  });

  it("is what the built CLI prints", async () => {
    const result = await runCli(["schema"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(generated);
  });
});

describe("the shape of the generated schema", () => {
  it("rejects unknown top-level keys and requires checks", () => {
    expect(generated).toMatchObject({ type: "object", additionalProperties: false, required: ["checks"] });
    expect(Object.keys((generated as JsonObject).properties)).toEqual(expect.arrayContaining(["env", "deadline", "defaults", "gcp", "checks"]));
  });

  it("has one branch per kind of the registry, discriminated by a const kind", () => {
    expect(branches.map((branch) => branch.properties.kind.const)).toEqual(PROBE_KINDS);
  });

  it.each(PROBE_KINDS)("%s: strict (additionalProperties false), with the common keys and every key of the kind's own schema", async (kind) => {
    const branch = branches.find((candidate) => candidate.properties.kind.const === kind)!;
    expect(branch.type).toBe("object");
    expect(branch.additionalProperties).toBe(false);
    expect(branch.required).toContain("kind");
    // A kind's schema is an object, possibly behind a transform (a pipe: its input side is the file's shape).
    const own = (await loadProbe(kind)).schema as unknown as { shape?: object; in?: { shape: object } };
    const ownKeys = Object.keys(own.shape ?? own.in!.shape);
    expect(ownKeys.length).toBeGreaterThan(0);
    expect(Object.keys(branch.properties).sort()).toEqual([...new Set([...BASE_CHECK_KEYS, ...ownKeys])].sort());
  });

  it("carries the descriptions written next to the zod schemas (what editors show on hover)", () => {
    const redis = branches.find((branch) => branch.properties.kind.const === "redis")!;
    expect(redis.properties.samples.description).toMatch(/PING/);
    expect(redis.properties.timeout.description).toMatch(/budget/);
  });
});

describe.each(EXAMPLES)("config/%s", (file) => {
  it("starts with the yaml-language-server schema reference", () => {
    expect(readFileSync(path.join(CONFIG_DIR, file), "utf8").split("\n")[0]).toBe("# yaml-language-server: $schema=../schema/infra-check.schema.json");
  });

  it("is valid according to the JSON Schema", () => {
    expect(schemaIssues(rawConfig(file))).toEqual([]);
  });

  it("is valid according to the validator (loadConfigFile), with its variables set", async () => {
    const loaded = await loadConfigFile(path.join(CONFIG_DIR, file), { env: EXAMPLE_ENV });
    expect(loaded.checks.length).toBeGreaterThan(0);
  });

  it("has budgets that fit: no wait longer than its timeout, no chain longer than the deadline", async () => {
    const loaded = await loadConfigFile(path.join(CONFIG_DIR, file), { env: EXAMPLE_ENV });
    expect(loaded.warnings.map((warning) => warning.message)).toEqual([]);
  });
});

describe("the example configs wire the incidents' stack", () => {
  it.each(["staging.yaml", "production.yaml"])("%s: budgets as data, connector → redis → chat", async (file) => {
    const loaded = await loadConfigFile(path.join(CONFIG_DIR, file), { env: EXAMPLE_ENV });
    const byName = new Map(loaded.checks.map((check) => [check.name, check]));
    const budget = file === "staging.yaml" ? 3000 : 5000;
    expect(byName.get("cache")!.timeoutMs).toBe(budget);
    expect(byName.get("cache")!.dependsOn).toContain("connector");
    expect(byName.get("chat")!.dependsOn).toContain("cache");
    // The incidents' stack, as data in each environment; a new kind needs no example here (its doc page has one).
    expect(new Set(loaded.checks.map((check) => check.kind))).toEqual(new Set(["http", "redis", "postgres", "websocket", "cloud-run", "vpc-connector", "memorystore"]));
  });
});

/** A valid base document to break one key at a time. */
const base = () => structuredClone(rawConfig("staging.yaml")) as JsonObject;

const BROKEN: [string, (config: JsonObject) => void][] = [
  ["a misspelt check key", (config) => (config.checks.cache.sampels = 20)],
  ["a misspelt top-level key", (config) => (config.deadlin = "10s")],
  ["an unknown kind", (config) => (config.checks.cache.kind = "memcached")],
  ["a wrong type", (config) => (config.checks.cache.samples = "twenty")],
  ["a missing required key", (config) => delete config.checks.cache.url],
  ["a key of another kind", (config) => (config.checks.cache.subprotocols = ["agent_chat"])],
  ["an unknown key in the gcp block", (config) => (config.gcp.zone = "us-central1-a")],
];

describe("a broken config is rejected by both the JSON Schema and the validator", () => {
  it.each(BROKEN)("%s", async (_name, breakIt) => {
    const config = base();
    breakIt(config);
    expect(schemaIssues(config).length).toBeGreaterThan(0);
    await expect(buildConfig(config, { dir: CONFIG_DIR, defaultEnv: "broken", env: EXAMPLE_ENV })).rejects.toThrow();
  });
});
