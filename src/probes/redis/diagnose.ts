// How Redis failures read. Redis reports its state as an error-reply prefix
// (NOAUTH, LOADING, BUSY, …); ioredis wraps transport failures in its own
// texts ("Command timed out", "Connection is closed."). TLS certificate
// problems and network errors are the generic entries, with hints that know
// where Redis usually lives (Memorystore behind a VPC connector).
import { defineCatalogue, diagnosisOf } from "../../diagnose/catalogue.js";
import { PEER } from "../../diagnose/codes.js";
import type { ClassifyContext, ErrorRule } from "../../diagnose/classify.js";
import type { ClassifiedError } from "../../diagnose/vocabulary.js";
import type { KindDiagnosis } from "../api.js";
import { formatMs } from "../../util/duration.js";

interface Where {
  /** host:port. */
  where: string;
  during?: string;
}
interface ServerSaid extends Where {
  /** The reply, whitespace folded. */
  said: string;
  /** "the default user" or `user "NAME"`. */
  who: string;
  prefix?: string;
}

const DROPPED_HINT = "Redis closes connections it will not serve: at maxclients, in protected mode, or a TLS port receiving plaintext (use rediss://). A proxy or load balancer in between can do the same.";

export const REDIS = defineCatalogue("redis", {
  NOAUTH: {
    class: "auth",
    code: "NOAUTH",
    message: (f: ServerSaid) => `${f.where} requires AUTH and this check sends none (NOAUTH: server requires a password; none configured)`,
    hint: "The server requires AUTH and this check sends none — set `password:` (e.g. ${REDIS_PASSWORD} or a Secret Manager reference { secret: projects/P/secrets/S }), or --password-env VAR / REDISCLI_AUTH for the one-off command.",
  },
  WRONGPASS: {
    class: "auth",
    code: "WRONGPASS",
    message: (f: ServerSaid) => `${f.where} rejected the credentials of ${f.who} (WRONGPASS: wrong password, unknown user, or user disabled)`,
    hint: "Check that `password:` (and `username:` for an ACL user) match the server: the secret's current version, the Memorystore AUTH string (rotated?), or the ACL user's state (ACL GETUSER).",
  },
  INVALID_PASSWORD: {
    class: "auth",
    code: "WRONGPASS",
    message: (f: ServerSaid) => `${f.where} rejected the credentials of ${f.who} (${f.said})`,
    hint: "Check `password:` against the server's requirepass / AUTH string (Redis before 6 has no ACL users).",
  },
  NOPERM: {
    class: "permission",
    code: "NOPERM",
    message: (f: ServerSaid) => `${f.who} is authenticated on ${f.where} but not allowed to run this command (${f.said})`,
    hint: "Grant the ACL user what the check runs: `ACL SETUSER <user> +ping +info` (+set +get +del and a key pattern ~infra-check:* for write: true).",
  },
  LOADING: {
    class: "server-error",
    code: "LOADING",
    message: (f: ServerSaid) => `Redis at ${f.where} is loading its dataset into memory and serves nothing until it is done (LOADING)`,
    hint: "The server just (re)started or a replica is resyncing: wait and re-run (infra-check --wait). If it repeats, look for restarts (OOM kills, failovers) and the RDB/AOF size.",
  },
  BUSY: {
    class: "server-error",
    code: "BUSY",
    message: (f: ServerSaid) => `Redis at ${f.where} is blocked running a script or function (${f.said})`,
    hint: "A long Lua script / function holds the server: SCRIPT KILL (or FUNCTION KILL; SHUTDOWN NOSAVE if it already wrote), then fix the script. Until then every client is blocked.",
  },
  MISCONF: {
    class: "server-error",
    code: "MISCONF",
    message: (f: ServerSaid) => `Redis at ${f.where} refuses writes (and PING) because its last RDB snapshot failed (MISCONF)`,
    hint: "Redis could not save to disk: check free disk space and permissions of its `dir` (INFO persistence: rdb_last_bgsave_status), or the fork failing (memory overcommit). Writes stay refused until a save succeeds.",
  },
  MASTERDOWN: {
    class: "server-error",
    code: "MASTERDOWN",
    message: (f: ServerSaid) => `the Redis replica at ${f.where} lost its link to the primary and does not serve stale data (MASTERDOWN)`,
    hint: "Check the primary and the replication link (INFO replication: master_link_status); point the check at the primary endpoint.",
  },
  READONLY: {
    class: "server-error",
    code: "READONLY",
    message: (f: ServerSaid) => `${f.where} is a read-only replica and rejected the canary write (READONLY)`,
    hint: "The URL points at a replica: use the primary endpoint for write: true (Memorystore: the instance's `host`, not the read endpoint).",
  },
  OOM: {
    class: "server-error",
    code: "OOM",
    message: (f: ServerSaid) => `Redis at ${f.where} is out of memory (OOM: used memory above maxmemory) and rejects writes`,
    hint: "Free memory or raise maxmemory; check the eviction policy (maxmemory-policy noeviction rejects writes when full).",
  },
  CLUSTERDOWN: {
    class: "server-error",
    code: "CLUSTERDOWN",
    message: (f: ServerSaid) => `the Redis cluster behind ${f.where} is down (${f.said})`,
    hint: "Check the cluster state (CLUSTER INFO): slots not covered or nodes failing.",
  },
  REDIRECTED: {
    class: "protocol",
    code: (f: ServerSaid) => f.prefix,
    message: (f: ServerSaid) => `${f.where} is a Redis Cluster node and redirected the command (${f.said})`,
    hint: "The redis check talks to one node; point it at a standalone instance or a cluster node's own data (Memorystore for Redis Cluster needs a cluster-aware check).",
  },
  DENIED: {
    class: "permission",
    code: "DENIED",
    message: (f: ServerSaid) => `Redis at ${f.where} refuses this client: protected mode is on (${f.said})`,
    hint: "The server has no password and only accepts loopback clients: set requirepass (then `password:` here), or bind/protected-mode on the server.",
  },
  MAXCLIENTS: {
    class: "server-error",
    code: "MAXCLIENTS",
    message: (f: ServerSaid) => `Redis at ${f.where} refuses new connections: max number of clients reached (maxclients)`,
    hint: "Connections are exhausted: find who holds them (CLIENT LIST, INFO clients), fix leaking pools, or raise maxclients (Memorystore: the maxclients config).",
  },
  DB_RANGE: {
    class: "not-found",
    code: "DB_RANGE",
    message: (f: ServerSaid) => `${f.where} has no such database (${f.said})`,
    hint: "Use a database number below the server's `databases` setting (Memorystore and clusters: only /0).",
  },
  UNKNOWN_COMMAND: {
    class: "protocol",
    code: "UNKNOWN_COMMAND",
    message: (f: ServerSaid) => `${f.where} does not know a command the check sends (${f.said})`,
    hint: "The server renames or disables commands (rename-command), or it is not Redis (a proxy with a command allow-list).",
  },
  ERROR_REPLY: {
    class: "server-error",
    code: (f: ServerSaid) => f.prefix,
    message: (f: ServerSaid) => `Redis at ${f.where} answered with an error: ${f.said}`,
    hint: "The server reported its own state: read the error above and the Redis log around this time.",
  },
  NOT_REDIS: {
    class: "protocol",
    code: "RESP_PARSE",
    message: (f: Where & { reason: string }) => `${f.where} answered${f.during ?? ""} with something that is not the Redis protocol (${f.reason})`,
    hint: "Another service listens on this port (HTTP, a proxy, a TLS port?): check the host and port of the Redis URL.",
  },
  REPLY_TOO_LARGE: {
    class: "protocol",
    code: "REPLY_TOO_LARGE",
    message: (f: Where & { limit: string }) => `${f.where} sent more than ${f.limit}${f.during ?? ""}: far more than PING and INFO ever answer, so the connection was closed instead of buffering it`,
    hint: "Not a Redis answer infra-check can use: a proxy or another service streaming data on this port, or a broken server. Check the host and port, and what listens there (redis-cli -h HOST -p PORT INFO server).",
  },
  REPLY_TOO_DEEP: {
    class: "protocol",
    code: "REPLY_TOO_DEEP",
    message: (f: Where) => `${f.where} answered${f.during ?? ""} with a reply nested too deeply to parse (arrays inside arrays, thousands deep): not a reply Redis sends to PING, HELLO or INFO`,
    hint: "A broken or hostile server on this port: check the host and port of the Redis URL and what listens there.",
  },
  NOT_PONG: {
    class: "protocol",
    code: "NOT_PONG",
    message: (f: { reply: string }) => `PING was answered with ${f.reply} instead of PONG: this is not a plain Redis server`,
    hint: "Something that speaks RESP but is not Redis answers here (a proxy, another data store): check the host and port of the Redis URL.",
  },
  COMMAND_TIMEOUT: {
    class: "timeout",
    code: "COMMAND_TIMEOUT",
    message: (f: Where & { waited: string }) => `connected to ${f.where} but Redis did not answer${f.during ?? ""}${f.waited}`,
    hint: "The server accepted the connection but did not reply: it is blocked (a long command or script: SLOWLOG GET, LATENCY DOCTOR), overloaded, or not Redis.",
  },
  TLS_DROPPED: {
    class: "tls",
    code: (f: Where & { errno?: string }) => f.errno ?? "TLS_DROPPED",
    message: (f: Where) => `${f.where} closed the connection during the TLS handshake: it does not seem to speak TLS on this port`,
    hint: "The port serves plaintext Redis: use redis:// without a tls: block, or enable TLS on the server (tls-port).",
  },
  CONNECTION_CLOSED: {
    class: "protocol",
    code: "CONNECTION_CLOSED",
    message: (f: Where) => `${f.where} closed the connection${f.during ?? ""} without a Redis reply`,
    hint: `${DROPPED_HINT} Re-run with --verbose for the client's log.`,
  },
  CLOSED_ON_ACCEPT: {
    class: "protocol",
    code: "CLOSED_ON_ACCEPT",
    message: (f: Where) => `${f.where} accepts TCP connections and closes them at once, without a Redis reply`,
    hint: "Something in front of Redis (proxy, load balancer without healthy backends) or a server at capacity: check the server's log and connection limits.",
  },
  PLAINTEXT_TO_TLS_PORT: {
    class: "tls",
    code: "PLAINTEXT_TO_TLS_PORT",
    message: (f: Where) => `${f.where} speaks TLS, and this check connected in plaintext: Redis dropped the plaintext handshake`,
    hint: "Use rediss:// (or a tls: block with the server's CA). Memorystore with in-transit encryption listens on 6378 with TLS only.",
  },
  CANARY_LOST: {
    class: "protocol",
    code: "CANARY_LOST",
    message: (f: { key: string; readBack: string }) => `the canary key ${f.key} read back ${f.readBack} right after SET: a proxy or replica routing is losing writes`,
    hint: "Writes do not reach the node that answers reads: point the check at the primary, or fix the proxy's routing.",
  },
});

/** ioredis's texts for "the connection went away under the command". */
const CONNECTION_CLOSED = /^Connection is closed\.?$|Stream isn't writeable|Reached the max retries per request limit|Command aborted due to connection close/;

const REPLY_ENTRIES: Record<string, (typeof REDIS)[keyof typeof REDIS]> = {
  NOAUTH: REDIS.NOAUTH,
  WRONGPASS: REDIS.WRONGPASS,
  NOPERM: REDIS.NOPERM,
  LOADING: REDIS.LOADING,
  BUSY: REDIS.BUSY,
  MISCONF: REDIS.MISCONF,
  MASTERDOWN: REDIS.MASTERDOWN,
  READONLY: REDIS.READONLY,
  OOM: REDIS.OOM,
  CLUSTERDOWN: REDIS.CLUSTERDOWN,
  MOVED: REDIS.REDIRECTED,
  ASK: REDIS.REDIRECTED,
  DENIED: REDIS.DENIED,
};

/** Redis error replies: the prefix names the server's state. */
export function replyDiagnosis(message: string, where: string, user: string | undefined): ClassifiedError | undefined {
  const prefix = /^([A-Z][A-Z_]+)\b/.exec(message)?.[1] ?? "";
  if (!prefix) return undefined;
  const facts: ServerSaid = { where, said: message.replace(/\s+/g, " ").trim(), who: user && user !== "default" ? `user "${user}"` : "the default user", prefix };
  const entry = REPLY_ENTRIES[prefix];
  if (entry) return diagnosisOf(entry, facts);
  if (prefix === "ERR") {
    if (/max number of clients reached/i.test(message)) return diagnosisOf(REDIS.MAXCLIENTS, facts);
    if (/DB index is out of range|invalid DB index/i.test(message)) return diagnosisOf(REDIS.DB_RANGE, facts);
    if (/invalid password|invalid username-password/i.test(message)) return diagnosisOf(REDIS.INVALID_PASSWORD, facts);
    if (/unknown command/i.test(message)) return diagnosisOf(REDIS.UNKNOWN_COMMAND, facts);
  }
  return diagnosisOf(REDIS.ERROR_REPLY, facts);
}

const redisRule: ErrorRule = (error: unknown, ctx: ClassifyContext) => {
  if (error === null || typeof error !== "object") return undefined;
  const err = error as Error & { code?: string };
  const where = ctx.endpoint ?? "the Redis server";
  const during = ctx.phase ? ` during ${ctx.phase}` : "";
  const message = typeof err.message === "string" ? err.message : "";

  if (err.name === "ReplyError" || (/^[A-Z][A-Z_]{2,} /.test(message) && !err.code)) {
    const reply = replyDiagnosis(message, where, ctx.facts?.user as string | undefined);
    if (reply) return reply;
  }
  if (err.name === "ParserError" || /^Unknown RESP type/.test(message)) {
    const said = ctx.facts?.peerSaid;
    if (typeof said === "string" && said) return diagnosisOf(PEER.NOT_THE_SERVICE, { ...ctx.facts, endpoint: where, said });
    return diagnosisOf(REDIS.NOT_REDIS, { where, during, reason: message });
  }
  if (err instanceof RangeError && /call stack/i.test(message)) return diagnosisOf(REDIS.REPLY_TOO_DEEP, { where, during });
  if (message === "Command timed out") {
    const waitedMs = ctx.facts?.commandTimeoutMs as number | undefined;
    return diagnosisOf(REDIS.COMMAND_TIMEOUT, { where, during, waited: waitedMs !== undefined ? ` within ${formatMs(waitedMs)}` : " within the check's budget" });
  }
  if (ctx.phase === "tls" && (err.code === "ECONNRESET" || err.code === "EPIPE" || /socket disconnected before secure TLS connection/i.test(message))) {
    return diagnosisOf(REDIS.TLS_DROPPED, { where, errno: err.code });
  }
  if (!err.code && CONNECTION_CLOSED.test(message)) return diagnosisOf(REDIS.CONNECTION_CLOSED, { where, during });
  return undefined;
};

const UNREACHABLE_HINT =
  "No network path — VPC connector, firewall, or this runner is outside the VPC: check the Serverless VPC Access connector / Direct VPC egress, firewall rules for the Redis port, and where this runner executes.";

export const redisDiagnosis: KindDiagnosis = {
  service: "Redis",
  // Every RESP2/RESP3 reply starts with its type byte.
  speaks: (firstBytes) => /^[+\-:$*_,#!=(%~>|]/.test(firstBytes),
  catalogue: REDIS,
  rules: [redisRule],
  refine: {
    "dns.TEMPORARY":
      "Temporary resolver failure — check the resolver / VPC DNS, not Redis: /etc/resolv.conf, Cloud DNS private zones, the metadata server's DNS; or use the instance's IP in the URL.",
    "dns.NOT_FOUND": "Check the host in the Redis URL for typos and that its DNS record exists for this network (Memorystore: the instance's `host` IP, or a private DNS name pointing at it).",
    "tcp.REFUSED": "The host answered but no Redis listens on that port: check the port (Memorystore: 6379, or 6378 with in-transit encryption), that redis-server runs, and its `bind` address.",
    "tcp.RESET": DROPPED_HINT,
    "tcp.NO_ROUTE": UNREACHABLE_HINT,
    "tcp.CONNECT_TIMEOUT": UNREACHABLE_HINT,
  },
  hints: {
    slow: "PING does no work on the server, so slow PINGs are the network path (VPC connector throughput, cross-region) or a blocked server (SLOWLOG GET, LATENCY DOCTOR, CPU). Compare with connectMs: both high = network.",
    drift: "The server is not the expected one: a replica instead of the primary (failover?), or another Redis version than planned.",
    unhealthy: "The replica's link to its primary is down (INFO replication): check the primary and replication.",
  },
};
