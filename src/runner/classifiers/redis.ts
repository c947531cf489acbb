// Error rules of the redis probe (ioredis + the probe's own socket). Redis
// reports its state as an error-reply prefix (NOAUTH, LOADING, BUSY, …); ioredis
// wraps transport failures in its own texts ("Command timed out",
// "Connection is closed."). Only checks of kind `redis` are judged here; TLS
// certificate problems fall through to the generic rules, which know them.
import type { ClassifiedError } from "../../diagnose/vocabulary.js";
import { classifyNodeError, type ClassifyContext } from "../classify.js";
import { formatMs } from "../../util/duration.js";

type Rule = Omit<ClassifiedError, "phase">;

/** ioredis's texts for "the connection went away under the command". */
const CONNECTION_CLOSED = /^Connection is closed\.?$|Stream isn't writeable|Reached the max retries per request limit|Command aborted due to connection close/;

const UNREACHABLE_HINT = "No network path — VPC connector, firewall, or this runner is outside the VPC: check the Serverless VPC Access connector / Direct VPC egress, firewall rules for the Redis port, and where this runner executes.";

export function classifyRedisError(error: unknown, ctx: ClassifyContext): ClassifiedError | undefined {
  if (ctx.kind !== "redis" || error === null || typeof error !== "object") return undefined;
  const err = error as Error & { code?: string; hostname?: string; redisUser?: string; commandTimeoutMs?: number };
  const where = ctx.endpoint ?? "the Redis server";
  const during = ctx.phase ? ` during ${ctx.phase}` : "";

  if (err.name === "ReplyError" || (typeof err.message === "string" && /^[A-Z][A-Z_]{2,} /.test(err.message) && !err.code)) {
    const reply = replyRule(err.message ?? "", where, err.redisUser);
    if (reply) return reply;
  }
  if (err.name === "ParserError") {
    return {
      class: "protocol",
      code: "RESP_PARSE",
      message: `${where} answered${during} with something that is not the Redis protocol (${err.message})`,
      hint: "Another service listens on this port (HTTP, a proxy, a TLS port?): check the host and port of the Redis URL.",
    };
  }
  if (err.message === "Command timed out") {
    const waited = err.commandTimeoutMs !== undefined ? ` within ${formatMs(err.commandTimeoutMs)}` : " within the check's budget";
    return {
      class: "timeout",
      code: "COMMAND_TIMEOUT",
      message: `connected to ${where} but Redis did not answer${during}${waited}`,
      hint: "The server accepted the connection but did not reply: it is blocked (a long command or script: SLOWLOG GET, LATENCY DOCTOR), overloaded, or not Redis.",
    };
  }

  if (ctx.phase === "tls" && (err.code === "ECONNRESET" || err.code === "EPIPE" || /socket disconnected before secure TLS connection/i.test(err.message ?? ""))) {
    return {
      class: "tls",
      code: err.code ?? "TLS_DROPPED",
      message: `${where} closed the connection during the TLS handshake: it does not seem to speak TLS on this port`,
      hint: "The port serves plaintext Redis: use redis:// without a tls: block, or enable TLS on the server (tls-port).",
    };
  }

  switch (err.code) {
    case "EAI_AGAIN":
      return {
        class: "dns",
        code: err.code,
        message: `temporary DNS failure resolving "${err.hostname ?? hostOf(where)}" (EAI_AGAIN, "Try again"): the resolver did not answer — Redis was never contacted, so this says nothing about Redis being down`,
        hint: "Temporary resolver failure — check the resolver / VPC DNS, not Redis: /etc/resolv.conf, Cloud DNS private zones, the metadata server's DNS; or use the instance's IP in the URL.",
      };
    case "ENOTFOUND":
      return {
        class: "dns",
        code: err.code,
        message: `name "${err.hostname ?? hostOf(where)}" does not resolve (ENOTFOUND)`,
        hint: "Check the host in the Redis URL for typos and that its DNS record exists for this network (Memorystore: the instance's `host` IP, or a private DNS name pointing at it).",
      };
    case "ECONNREFUSED":
      return {
        class: "refused",
        code: err.code,
        message: `nothing listening at ${where}: connection refused`,
        hint: "The host answered but no Redis listens on that port: check the port (Memorystore: 6379, or 6378 with in-transit encryption), that redis-server runs, and its `bind` address.",
      };
    case "EPIPE":
    case "ECONNRESET":
      return {
        class: "protocol",
        code: err.code,
        message: `${where} dropped the connection${during} without a Redis reply (${err.code})`,
        hint: "Redis closes connections it will not serve: at maxclients, in protected mode, or a TLS port receiving plaintext (use rediss://). A proxy or load balancer in between can do the same.",
      };
  }
  // No route: the generic rule's verdict, with where to look when Redis sits behind a VPC.
  const network = classifyNodeError(err, { ...ctx, endpoint: where });
  if (network?.class === "unreachable") return { ...network, hint: UNREACHABLE_HINT };
  if (typeof err.message === "string" && CONNECTION_CLOSED.test(err.message)) {
    return {
      class: "protocol",
      code: "CONNECTION_CLOSED",
      message: `${where} closed the connection${during} without a Redis reply`,
      hint: "Redis closes connections it will not serve: at maxclients, in protected mode, or a TLS port receiving plaintext (use rediss://). Re-run with --verbose for the client's log.",
    };
  }
  return undefined;
}

/** Redis error replies: the prefix names the server's state. */
function replyRule(message: string, where: string, user: string | undefined): Rule | undefined {
  const prefix = /^([A-Z][A-Z_]+)\b/.exec(message)?.[1] ?? "";
  const said = message.replace(/\s+/g, " ").trim();
  const who = user && user !== "default" ? `user "${user}"` : "the default user";
  switch (prefix) {
    case "NOAUTH":
      return {
        class: "auth",
        code: "NOAUTH",
        message: `${where} requires AUTH and this check sends none (NOAUTH: server requires a password; none configured)`,
        hint: "The server requires AUTH and this check sends none — set `password:` (e.g. ${REDIS_PASSWORD} or a Secret Manager reference { secret: projects/P/secrets/S }), or --password-env VAR / REDISCLI_AUTH for the one-off command.",
      };
    case "WRONGPASS":
      return {
        class: "auth",
        code: "WRONGPASS",
        message: `${where} rejected the credentials of ${who} (WRONGPASS: wrong password, unknown user, or user disabled)`,
        hint: "Check that `password:` (and `username:` for an ACL user) match the server: the secret's current version, the Memorystore AUTH string (rotated?), or the ACL user's state (ACL GETUSER).",
      };
    case "NOPERM":
      return {
        class: "permission",
        code: "NOPERM",
        message: `${who} is authenticated on ${where} but not allowed to run this command (${said})`,
        hint: "Grant the ACL user what the check runs: `ACL SETUSER <user> +ping +info` (+set +get +del and a key pattern ~infra-check:* for write: true).",
      };
    case "LOADING":
      return {
        class: "server-error",
        code: "LOADING",
        message: `Redis at ${where} is loading its dataset into memory and serves nothing until it is done (LOADING)`,
        hint: "The server just (re)started or a replica is resyncing: wait and re-run (infra-check --wait). If it repeats, look for restarts (OOM kills, failovers) and the RDB/AOF size.",
      };
    case "BUSY":
      return {
        class: "server-error",
        code: "BUSY",
        message: `Redis at ${where} is blocked running a script or function (${said})`,
        hint: "A long Lua script / function holds the server: SCRIPT KILL (or FUNCTION KILL; SHUTDOWN NOSAVE if it already wrote), then fix the script. Until then every client is blocked.",
      };
    case "MISCONF":
      return {
        class: "server-error",
        code: "MISCONF",
        message: `Redis at ${where} refuses writes (and PING) because its last RDB snapshot failed (MISCONF)`,
        hint: "Redis could not save to disk: check free disk space and permissions of its `dir` (INFO persistence: rdb_last_bgsave_status), or the fork failing (memory overcommit). Writes stay refused until a save succeeds.",
      };
    case "MASTERDOWN":
      return {
        class: "server-error",
        code: "MASTERDOWN",
        message: `the Redis replica at ${where} lost its link to the primary and does not serve stale data (MASTERDOWN)`,
        hint: "Check the primary and the replication link (INFO replication: master_link_status); point the check at the primary endpoint.",
      };
    case "READONLY":
      return {
        class: "server-error",
        code: "READONLY",
        message: `${where} is a read-only replica and rejected the canary write (READONLY)`,
        hint: "The URL points at a replica: use the primary endpoint for write: true (Memorystore: the instance's `host`, not the read endpoint).",
      };
    case "OOM":
      return {
        class: "server-error",
        code: "OOM",
        message: `Redis at ${where} is out of memory (OOM: used memory above maxmemory) and rejects writes`,
        hint: "Free memory or raise maxmemory; check the eviction policy (maxmemory-policy noeviction rejects writes when full).",
      };
    case "CLUSTERDOWN":
      return {
        class: "server-error",
        code: "CLUSTERDOWN",
        message: `the Redis cluster behind ${where} is down (${said})`,
        hint: "Check the cluster state (CLUSTER INFO): slots not covered or nodes failing.",
      };
    case "MOVED":
    case "ASK":
      return {
        class: "protocol",
        code: prefix,
        message: `${where} is a Redis Cluster node and redirected the command (${said})`,
        hint: "The redis check talks to one node; point it at a standalone instance or a cluster node's own data (Memorystore for Redis Cluster needs a cluster-aware check).",
      };
    case "DENIED":
      return {
        class: "permission",
        code: "DENIED",
        message: `Redis at ${where} refuses this client: protected mode is on (${said})`,
        hint: "The server has no password and only accepts loopback clients: set requirepass (then `password:` here), or bind/protected-mode on the server.",
      };
    case "ERR":
      if (/max number of clients reached/i.test(message)) {
        return {
          class: "server-error",
          code: "MAXCLIENTS",
          message: `Redis at ${where} refuses new connections: max number of clients reached (maxclients)`,
          hint: "Connections are exhausted: find who holds them (CLIENT LIST, INFO clients), fix leaking pools, or raise maxclients (Memorystore: the maxclients config).",
        };
      }
      if (/DB index is out of range|invalid DB index/i.test(message)) {
        return {
          class: "not-found",
          code: "DB_RANGE",
          message: `${where} has no such database (${said})`,
          hint: "Use a database number below the server's `databases` setting (Memorystore and clusters: only /0).",
        };
      }
      if (/invalid password|invalid username-password/i.test(message)) {
        return {
          class: "auth",
          code: "WRONGPASS",
          message: `${where} rejected the credentials of ${who} (${said})`,
          hint: "Check `password:` against the server's requirepass / AUTH string.",
        };
      }
      if (/unknown command/i.test(message)) {
        return {
          class: "protocol",
          code: "UNKNOWN_COMMAND",
          message: `${where} does not know a command the check sends (${said})`,
          hint: "The server renames or disables commands (rename-command), or it is not Redis (a proxy with a command allow-list).",
        };
      }
      return {
        class: "server-error",
        code: "ERR",
        message: `Redis at ${where} answered with an error: ${said}`,
        hint: "Read the server's error above; the Redis log around this time has the details.",
      };
  }
  if (!prefix) return undefined;
  return {
    class: "server-error",
    code: prefix,
    message: `Redis at ${where} answered with an error: ${said}`,
    hint: "The server reported its own state: read the error above and the Redis log.",
  };
}

function hostOf(endpoint: string): string {
  return endpoint.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
}
