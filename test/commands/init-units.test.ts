// The pure parts of `infra-check init`, table-driven: how env names group
// into one target, which traffic goes through the VPC, and the diff shown
// instead of overwriting a file.
import { describe, expect, it } from "vitest";
import { unifiedDiff } from "../../src/commands/init/diff.js";
import { envRole, groupEnv, matchingEnv, throughVpc, type ServiceFacts } from "../../src/probes/init-api.js";

describe("envRole", () => {
  it.each([
    ["REDIS_HOST", "host", "REDIS"],
    ["REDIS_URL", "url", "REDIS"],
    ["CACHE_REDIS_PORT", "port", "CACHE_REDIS"],
    ["CACHE_REDIS_PASSWORD", "password", "CACHE_REDIS"],
    ["DATABASE_URL", "url", "DATABASE"],
    ["DB_PASSWORD", "password", "DB"],
    ["PGHOST", "host", "PG"],
    ["PGPASSWORD", "password", "PG"],
    ["POSTGRES_USER", "user", "POSTGRES"],
    ["DB_NAME", "database", "DB"],
    ["LOG_LEVEL", "other", "LOG_LEVEL"],
    ["STRIPE_API_KEY", "password", "STRIPE"],
    ["URL", "other", "URL"],
  ])("%s → %s of group %s", (name, role, group) => {
    expect(envRole(name)).toEqual({ role, group });
  });

  it("groups related variables and matches globs case-insensitively", () => {
    const literal = (value: string) => ({ kind: "literal" as const, value });
    const env = [
      { name: "REDIS_HOST", source: literal("10.0.0.3") },
      { name: "REDIS_PASSWORD", source: { kind: "secret" as const, secret: "redis", version: "latest" } },
      { name: "session_redis_url", source: literal("redis://10.0.0.4") },
      { name: "LOG_LEVEL", source: literal("info") },
    ];
    expect(matchingEnv(env, ["REDIS_*", "*_REDIS_*"]).map((fact) => fact.name)).toEqual(["REDIS_HOST", "REDIS_PASSWORD", "session_redis_url"]);
    const groups = groupEnv(env);
    expect(Object.keys(groups.get("REDIS")!)).toEqual(["host", "password"]);
    expect(groups.get("SESSION_REDIS")!.url!.name).toBe("session_redis_url");
  });
});

describe("throughVpc", () => {
  const facts = (network: ServiceFacts["network"]) => ({ network }) as ServiceFacts;
  it.each([
    [{ connector: "c", egress: "PRIVATE_RANGES_ONLY" }, "10.1.2.3", true],
    [{ connector: "c", egress: "PRIVATE_RANGES_ONLY" }, "172.20.0.1", true],
    [{ connector: "c", egress: "PRIVATE_RANGES_ONLY" }, "34.1.2.3", false],
    [{ connector: "c", egress: "ALL_TRAFFIC" }, "34.1.2.3", true],
    [{ directVpc: [{ network: "n" }], egress: "PRIVATE_RANGES_ONLY" }, "192.168.1.1", true],
    [{}, "10.1.2.3", false],
  ] as const)("%j, %s → %s", (network, host, expected) => {
    expect(throughVpc(host, facts(network as ServiceFacts["network"]))).toBe(expected);
  });
});

describe("unifiedDiff", () => {
  it("equal texts: no diff", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", { before: "x", after: "y" })).toBe("");
  });
  it("a changed line: removal before addition, with context, one hunk", () => {
    const before = ["1", "2", "3", "4", "5", "6", "7", "8"].join("\n");
    const after = ["1", "2", "3", "4", "five", "6", "7", "8"].join("\n");
    expect(unifiedDiff(before, after, { before: "a", after: "b" })).toBe("--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
  });
  it("changes far apart: two hunks; additions at the end", () => {
    const lines = Array.from({ length: 20 }, (_, index) => String(index));
    const after = [...lines];
    after[1] = "one";
    after.push("20");
    const diff = unifiedDiff(lines.join("\n"), after.join("\n"), { before: "a", after: "b" });
    expect(diff.match(/^@@/gm)).toHaveLength(2);
    expect(diff).toContain("-1\n+one\n");
    expect(diff.trimEnd().endsWith("+20")).toBe(true);
  });
});
