// A private address that cannot be reached from here is a question of where
// the check runs, not of a broken firewall: the hint says so for every kind
// (address-based, in the shared rules), and a kind's own refinement of the
// unreachable hint does not hide it. Pure classification: no test ever sends
// a packet to a private range.
import { describe, expect, it } from "vitest";
import { classify, type ClassifyContext } from "../../src/diagnose/classify.js";
import { BudgetExceeded } from "../../src/util/deadline.js";
import { isPrivateAddress } from "../../src/net/private-range.js";
import { loadProbe } from "../../src/probes/index.js";

const ctx = (endpoint: string, over: Partial<ClassifyContext> = {}): ClassifyContext => ({
  kind: "redis",
  completedPhases: ["dns"],
  phase: "connect",
  phaseElapsedMs: 2000,
  budgetMs: 2000,
  endpoint,
  facts: { host: endpoint.replace(/:\d+$/, "").replace(/^\[|\]$/g, "") },
  ...over,
});
const errno = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${code} something`), { code, ...extra });
const PRIVATE = /is a private address and this runner is not in its network: run this check with `runner: vpc` \(see docs\/runners.md\) or from inside the VPC/;

describe("unreachable private addresses", () => {
  it.each([
    ["10/8", "10.166.204.83", true],
    ["172.16/12 low", "172.16.0.1", true],
    ["172.16/12 high", "172.31.255.255", true],
    ["172.32 is public", "172.32.0.1", false],
    ["192.168/16", "192.168.1.10", true],
    ["fc00::/7 (fd)", "fd12:3456::1", true],
    ["fc00::/7 (fc)", "fc00::5", true],
    ["IPv4-mapped", "::ffff:10.0.0.5", true],
    ["public", "8.8.8.8", false],
    ["loopback", "127.0.0.1", false],
    ["a name", "redis.internal", false],
  ])("%s: %s", (_name, address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it.each([
    ["connect timeout to 10.x", new BudgetExceeded(2000, false), ctx("10.166.204.83:6379"), "10.166.204.83"],
    ["EHOSTUNREACH to 192.168.x", errno("EHOSTUNREACH", { address: "192.168.4.2" }), ctx("192.168.4.2:5432", { completedPhases: [] }), "192.168.4.2"],
    ["ENETUNREACH to fd00::", errno("ENETUNREACH", { address: "fd00::7" }), ctx("[fd00::7]:6379", { completedPhases: [] }), "fd00::7"],
    ["a name that resolved to a private address (Node reports the address)", errno("EHOSTUNREACH", { address: "10.20.0.5" }), ctx("db.internal:5432", { completedPhases: [] }), "10.20.0.5"],
  ])("%s says where to run the check from", (_name, error, context, address) => {
    const classified = classify(error, context);
    expect(classified.class).toBe("unreachable");
    expect(classified.hint).toMatch(PRIVATE);
    expect(classified.hint).toContain(address);
  });

  it("measured on a runner, the runner is the one outside the network: its egress is what to fix", () => {
    const classified = classify(new BudgetExceeded(2000, false), ctx("10.166.204.83:6379", { facts: { host: "10.166.204.83", vantage: "vpc" } }));
    expect(classified.hint).toContain("10.166.204.83 is a private address and runner vpc is not in its network: check runners.vpc.cloudRunJob (vpcConnector or directVpc");
    expect(classified.hint).toContain("`infra-check runner deploy vpc`");
  });

  it("postgres through the Cloud SQL connector to a private-only instance: the connector's private IP decides (issue 18)", async () => {
    const postgres = await loadProbe("postgres");
    const options = { rules: postgres.diagnosis.rules, refine: postgres.diagnosis.refine };
    // The facts the connector records once it knows the address (src/probes/postgres/cloud-sql.ts).
    const facts = { host: "10.20.0.5", cloudSqlInstance: "acme-staging:us-central1:staging-postgres-db", cloudSqlId: "staging-postgres-db", cloudSqlProject: "acme-staging", cloudSqlIam: true };
    const context = ctx("10.20.0.5:3307 (Cloud SQL acme-staging:us-central1:staging-postgres-db)", { kind: "postgres", completedPhases: ["connectorSetup"], facts });
    const classified = classify(new BudgetExceeded(2000, false), context, options);
    expect(classified.class).toBe("unreachable");
    expect(classified.hint).toMatch(PRIVATE);
    expect(classified.hint).toContain("10.20.0.5");
  });

  it("a kind's refinement of the unreachable hint does not hide it (redis refines tcp.CONNECT_TIMEOUT)", async () => {
    const redis = await loadProbe("redis");
    const options = { rules: redis.diagnosis.rules, refine: redis.diagnosis.refine };
    expect(classify(new BudgetExceeded(2000, false), ctx("10.166.204.83:6379"), options).hint).toMatch(PRIVATE);
    // A public (or loopback) address keeps the kind's own words.
    expect(classify(new BudgetExceeded(2000, false), ctx("127.0.0.1:6379"), options).hint).toMatch(/outside the VPC/);
  });
});
