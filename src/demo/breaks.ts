// The incidents `infra-check demo --break NAME` can inject into the local
// stack: one registry, name → what it reproduces, how it is applied, and the
// diagnosis the demo run must then show (the tests assert exactly that).
//
// A break acts in one or both of two places:
// - `plan`: before anything starts — what the servers are started with and
//   what the config is given (a rotated password, a name that does not resolve);
// - `apply`: on the running stack — a chat server fault, a cloud resource's
//   state, the /health document.
// Breaks never edit config/demo.yaml: they change the world the config describes.
import { ConfigError } from "../util/errors.js";
import type { FailureClass } from "../diagnose/vocabulary.js";
import type { ChatFault } from "./chat-server.js";
import type { HealthState } from "./health-server.js";
import { networkNamespacesAvailable } from "./netns.js";

const canRunAsRoot = networkNamespacesAvailable;

/** What the stack is started with, and the values config/demo.yaml receives. Breaks edit it before start. */
export interface DemoPlan {
  redis: {
    /** The server's `requirepass`. */
    password: string;
    /** What the app's secret (Secret Manager `redis-password`) holds: what the config sends. */
    configPassword: string;
    /** The host name the config connects to (DEMO_REDIS_HOST). */
    configHost: string;
    /** Stop the server once the stack is up: nothing listens on its port. */
    down: boolean;
  };
  postgres: {
    password: string;
    configPassword: string;
    /** How long the database's health function sleeps, in ms (0 = it answers at once). */
    healthQueryDelayMs: number;
  };
  chat: {
    /** The server's JWT signing secret. */
    jwtSecret: string;
    /** The secret the config signs its JWT with (DEMO_CHAT_JWT_SECRET). */
    configJwtSecret: string;
    fault: ChatFault | null;
  };
  health: HealthState;
  /** Where the cache check runs (DEMO_CACHE_RUNNER): here, or on the config's runner `vpc` (a Cloud Run Job). */
  cacheRunner: "local" | "vpc";
  /** Host names the demo's resolver fails, with the error it reports. */
  resolverFailures: Map<string, "ENOTFOUND" | "EAI_AGAIN">;
}

/** The running pieces a break may act on (see src/demo/index.ts). */
export interface DemoControls {
  setChatFault(fault: ChatFault | null): void;
  setHealth(state: HealthState): void;
  /** Put 100 % of the Cloud Run service's traffic on its previous revision (the old image). */
  serveOldRevision(): Promise<void>;
  /** A newer revision was created but failed to become ready. */
  failLatestRevision(): Promise<void>;
  /** Change the Cloud Run service's VPC egress setting. */
  setServiceEgress(egress: "ALL_TRAFFIC" | "PRIVATE_RANGES_ONLY"): Promise<void>;
  setConnectorState(state: "READY" | "ERROR" | "CREATING" | "DELETING"): Promise<void>;
  /** Patch the Memorystore instance as the API reports it (proto3 JSON field names). */
  patchInstance(fields: Record<string, unknown>): Promise<void>;
  /** Stop the Cloud SQL instance (activationPolicy NEVER): still RUNNABLE to the API. */
  stopCloudSql(): Promise<void>;
  /** What Cloud Monitoring reports for the Cloud SQL instance (see src/demo/cloud-sql/fixtures.ts). */
  reportCloudSqlMetrics(series: { cpu?: number[]; memory?: number[]; backends?: number[] }): Promise<void>;
  /** Deploy the runner vpc's job into a network of its own (a namespace with loopback only): outside the VPC. */
  deployRunnerOutsideVpc(): Promise<void>;
}

export interface BreakExpectation {
  /** The check of config/demo.yaml that reports it. */
  check: string;
  class: FailureClass;
  /** A phrase the failure's message or hint contains (lower case). */
  says: string;
  /** Checks that must then be blocked (transitively) by it. */
  blocks?: string[];
}

export interface BreakDefinition {
  name: string;
  /** Row of the incident table in docs/demo.md it reproduces, when it does. */
  incident?: number;
  /** One line: what is broken, in the words of the post-mortem. */
  description: string;
  expect: BreakExpectation;
  /** Why the break needs root, when it does (it creates a network namespace); without root it is a usage error. */
  needsRoot?: string;
  plan?(plan: DemoPlan): void;
  apply?(controls: DemoControls): Promise<void> | void;
}

/** The name the `dns` breaks give Redis: `.invalid` never resolves anywhere (RFC 6761). */
export const UNRESOLVABLE_REDIS_HOST = "redis.demo.invalid";
export const FLAKY_RESOLVER_REDIS_HOST = "redis.resolver-down.invalid";
/** Redis's private address in staging.yaml: connected to only from inside a network namespace with no route anywhere. */
export const PRIVATE_REDIS_ADDRESS = "10.166.204.83";

export const BREAKS: readonly BreakDefinition[] = [
  {
    name: "redis-auth",
    incident: 1,
    description: "Redis requires a password the app does not have: the AUTH string was rotated, the Secret Manager secret still holds the old one",
    expect: { check: "cache", class: "auth", says: "password", blocks: ["chat"] },
    plan(plan) {
      plan.redis.password = `${plan.redis.password}-rotated`;
    },
  },
  {
    name: "dns",
    incident: 2,
    description: `Redis's host name does not resolve (${UNRESOLVABLE_REDIS_HOST}: NXDOMAIN) — a DNS problem, not Redis being down`,
    expect: { check: "cache", class: "dns", says: UNRESOLVABLE_REDIS_HOST, blocks: ["chat"] },
    plan(plan) {
      plan.redis.configHost = UNRESOLVABLE_REDIS_HOST;
      plan.resolverFailures.set(UNRESOLVABLE_REDIS_HOST, "ENOTFOUND");
    },
  },
  {
    name: "dns-temporary",
    incident: 2,
    description: `The resolver fails temporarily (EAI_AGAIN, "Error -3 … Try again") for Redis's name (${FLAKY_RESOLVER_REDIS_HOST})`,
    expect: { check: "cache", class: "dns", says: "temporar", blocks: ["chat"] },
    plan(plan) {
      plan.redis.configHost = FLAKY_RESOLVER_REDIS_HOST;
      plan.resolverFailures.set(FLAKY_RESOLVER_REDIS_HOST, "EAI_AGAIN");
    },
  },
  {
    name: "redis-down",
    description: "Nothing listens on Redis's port any more (the server stopped)",
    expect: { check: "cache", class: "refused", says: "listening", blocks: ["chat"] },
    plan(plan) {
      plan.redis.down = true;
    },
  },
  {
    name: "runner-missing",
    incident: 9,
    description: "The cache check runs on the runner `vpc` (a Cloud Run Job inside the VPC), but nobody deployed its job",
    expect: { check: "cache", class: "not-found", says: "runner deploy", blocks: ["chat"] },
    plan(plan) {
      plan.cacheRunner = "vpc";
    },
  },
  {
    name: "private-unreachable",
    incident: 9,
    description: `The cache check runs on the runner \`vpc\`, but its job is not in the VPC (no connector): no route to Redis's private address ${PRIVATE_REDIS_ADDRESS}`,
    needsRoot: "it runs the runner's job in a network namespace of its own (ip netns), so the private address is connected to only where no route leads anywhere",
    expect: { check: "cache", class: "unreachable", says: "private address", blocks: ["chat"] },
    plan(plan) {
      plan.cacheRunner = "vpc";
      plan.redis.configHost = PRIVATE_REDIS_ADDRESS;
    },
    async apply(controls) {
      await controls.deployRunnerOutsideVpc();
    },
  },
  {
    name: "slow-postgres",
    incident: 3,
    description: "PostgreSQL answers the health query in ~300 ms instead of < 200 ms (the query phase is slow)",
    expect: { check: "db", class: "slow", says: "query" },
    plan(plan) {
      plan.postgres.healthQueryDelayMs = 300;
    },
  },
  {
    name: "cloud-sql-stopped",
    description: "The Cloud SQL instance was stopped by its owner (activationPolicy NEVER): the API still says RUNNABLE, but the database is gone",
    expect: { check: "db-instance", class: "unhealthy", says: "stopped", blocks: ["db"] },
    async apply(controls) {
      await controls.stopCloudSql();
    },
  },
  {
    name: "cloud-sql-cpu",
    incident: 3,
    description: "The Cloud SQL instance runs at ~97 % CPU: the health query takes ~300 ms, and the slow check carries the instance's CPU from Cloud Monitoring as evidence",
    expect: { check: "db", class: "slow", says: "query" },
    plan(plan) {
      plan.postgres.healthQueryDelayMs = 300;
    },
    async apply(controls) {
      await controls.reportCloudSqlMetrics({ cpu: [0.93, 0.96, 0.99, 0.98, 0.97], memory: [0.61, 0.62, 0.64], backends: [18, 19, 19] });
    },
  },
  {
    name: "postgres-auth",
    description: "PostgreSQL rejects the app's password (28P01): the database password was changed, the config was not",
    expect: { check: "db", class: "auth", says: "password" },
    plan(plan) {
      plan.postgres.password = `${plan.postgres.password}-rotated`;
    },
  },
  {
    name: "ws-1011",
    incident: 4,
    description: "The chat server closes every connection with 1011 (internal error) right after the upgrade",
    expect: { check: "chat", class: "server-error", says: "1011" },
    apply(controls) {
      controls.setChatFault({ type: "close", code: 1011, reason: "internal error: agent runtime unavailable", when: "connect" });
    },
  },
  {
    name: "ws-upgrade-timeout",
    incident: 4,
    description: "The WebSocket upgrade is never answered (a proxy that does not pass upgrades): the handshake times out",
    expect: { check: "chat", class: "timeout", says: "upgrade" },
    apply(controls) {
      controls.setChatFault({ type: "never-answer" });
    },
  },
  {
    name: "ws-auth",
    description: "The chat server's JWT signing secret was rotated: the upgrade is refused with 401",
    expect: { check: "chat", class: "auth", says: "401" },
    plan(plan) {
      plan.chat.jwtSecret = `${plan.chat.jwtSecret}-rotated`;
    },
  },
  {
    name: "no-subprotocol",
    incident: 5,
    description: "The deployed chat server does not negotiate the `agent_chat` subprotocol the client asks for",
    expect: { check: "chat", class: "protocol", says: "agent_chat" },
    apply(controls) {
      controls.setChatFault({ type: "no-subprotocol" });
    },
  },
  {
    name: "no-welcome",
    incident: 6,
    description: "The chat server never sends its `connection_established` welcome message",
    expect: { check: "chat", class: "timeout", says: "connection_established" },
    apply(controls) {
      controls.setChatFault({ type: "no-welcome" });
    },
  },
  {
    name: "missing-agent-event",
    incident: 7,
    description: "Chat works, but the agent never reports `tool_completed`",
    expect: { check: "chat", class: "timeout", says: "tool_completed" },
    apply(controls) {
      controls.setChatFault({ type: "missing-event", event: "tool_completed" });
    },
  },
  {
    name: "stale-revision",
    incident: 8,
    description: "A fix was deployed, but Cloud Run still sends 100 % of traffic to the previous revision (old image)",
    expect: { check: "backend", class: "unhealthy", says: "revision" },
    async apply(controls) {
      await controls.serveOldRevision();
    },
  },
  {
    name: "revision-failed",
    incident: 8,
    description: "The newest Cloud Run revision failed to start: latest created ≠ latest ready",
    expect: { check: "backend", class: "unhealthy", says: "revision" },
    async apply(controls) {
      await controls.failLatestRevision();
    },
  },
  {
    name: "wrong-egress",
    incident: 9,
    description: "The Cloud Run service sends ALL_TRAFFIC through the VPC connector instead of PRIVATE_RANGES_ONLY",
    expect: { check: "backend", class: "drift", says: "egress" },
    async apply(controls) {
      await controls.setServiceEgress("ALL_TRAFFIC");
    },
  },
  {
    name: "connector-down",
    incident: 9,
    description: "The Serverless VPC Access connector is in state ERROR: nothing behind it is reachable",
    expect: { check: "connector", class: "unhealthy", says: "error", blocks: ["cache", "db", "chat"] },
    async apply(controls) {
      await controls.setConnectorState("ERROR");
    },
  },
  {
    name: "memorystore-drift",
    incident: 10,
    description: "The Memorystore instance drifted from the plan: tier STANDARD_HA and Redis 6.x instead of BASIC and REDIS_7_2",
    expect: { check: "cache-instance", class: "drift", says: "tier", blocks: ["cache", "chat"] },
    async apply(controls) {
      await controls.patchInstance({ tier: "STANDARD_HA", redisVersion: "REDIS_6_X" });
    },
  },
  {
    name: "health-degraded",
    incident: 1,
    description: "The backend's /health says `degraded` with `redis: failed` (what the team saw when Redis rejected the app)",
    expect: { check: "health", class: "unhealthy", says: "degraded" },
    apply(controls) {
      controls.setHealth({
        status: "degraded",
        components: {
          redis: { status: "failed", error: "NOAUTH Authentication required" },
          postgres: { status: "ok", response_time_ms: 3 },
          websocket: { status: "ok" },
        },
      });
    },
  },
];

export const BREAK_NAMES = BREAKS.map((entry) => entry.name);

/** Look breaks up by name; an unknown name is a usage error listing the known ones. */
export function findBreaks(names: readonly string[]): BreakDefinition[] {
  const found: BreakDefinition[] = [];
  for (const name of names) {
    const entry = BREAKS.find((candidate) => candidate.name === name);
    if (!entry) throw new ConfigError(`--break: unknown break "${name}"; breaks: ${BREAK_NAMES.join(", ")} (infra-check demo --list-breaks describes them)`);
    if (entry.needsRoot && !canRunAsRoot()) throw new ConfigError(`--break ${name} needs root: ${entry.needsRoot}`);
    if (!found.includes(entry)) found.push(entry);
  }
  return found;
}

/** `--list-breaks` as text: name, incident, what it does, what the demo then reports. */
export function breaksText(): string {
  const width = Math.max(...BREAK_NAMES.map((name) => name.length));
  const lines = ["Breaks for `infra-check demo --break NAME` (repeatable). #N = row of the incident table in docs/demo.md.", ""];
  for (const entry of BREAKS) {
    const incident = entry.incident ? `#${entry.incident}` : "  ";
    lines.push(`  ${entry.name.padEnd(width)}  ${incident.padEnd(3)}  ${entry.description}`);
    const blocks = entry.expect.blocks?.length ? `; blocks ${entry.expect.blocks.join(", ")}` : "";
    lines.push(`  ${" ".repeat(width)}       → ${entry.expect.check}: ${entry.expect.class}${blocks}`);
  }
  return lines.join("\n") + "\n";
}

/** `--list-breaks --format json`. */
export function breaksJson(): string {
  return (
    JSON.stringify(
      BREAKS.map((entry) => ({ name: entry.name, incident: entry.incident ?? null, description: entry.description, expect: entry.expect })),
      null,
      2,
    ) + "\n"
  );
}
