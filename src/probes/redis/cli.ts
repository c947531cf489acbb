// `infra-check redis URL` (or HOST:PORT, like redis-cli -h/-p): one check from flags.
import { passwordEnvFlag, wholeNumberFlag } from "../../util/flags.js";
import type { OneOffCommand } from "../api.js";
import { withScheme } from "../shared/target.js";
import { DEFAULT_SAMPLES, MAX_SAMPLES, urlPassword } from "./config.js";

export const redisOneOff: OneOffCommand = {
  command: "redis",
  argument: "<target>",
  forms: ["redis://HOST:PORT", "HOST:PORT", "rediss://HOST:PORT"],
  description: "Connect to Redis once: auth, TLS, PING percentiles, role — and say which layer fails",
  options: [
    { flags: "--password-env <var>", description: "read the password from this environment variable (default: the URL's password, else $REDISCLI_AUTH like redis-cli); never pass it as a flag value" },
    { flags: "--user <name>", description: "ACL user name (Redis 6+)" },
    { flags: "--samples <n>", description: `PING round trips for the percentiles (default ${DEFAULT_SAMPLES})` },
    { flags: "--write", description: "also SET/GET/DEL a canary key with a 30 s TTL (off: read-only PING and INFO)" },
    { flags: "--tls-ca <file>", description: "CA bundle (PEM) to trust; turns TLS on (e.g. Memorystore's server CA)" },
    { flags: "--servername <name>", description: "TLS name to verify the certificate against (when connecting by IP)" },
    { flags: "-k, --insecure", description: "accept any TLS certificate (triage only)" },
  ],
  examples: [
    "infra-check redis redis://10.0.0.3:6379 --password-env REDIS_PASSWORD",
    "REDISCLI_AUTH=... infra-check redis 10.0.0.3:6379",
    "REDISCLI_AUTH=... infra-check redis rediss://10.0.0.3:6378 --tls-ca ./memorystore-ca.pem --servername redis.internal",
    "infra-check redis redis://127.0.0.1:6379/0 --samples 50 --expect 'pingP95Ms<5ms' --format json",
  ],
  toRawCheck(argument, options, env) {
    const url = withScheme(argument, "redis");
    const raw: Record<string, unknown> = { kind: "redis", url };
    const variable = options.passwordEnv as string | undefined;
    if (variable !== undefined) {
      raw.password = passwordEnvFlag(variable, env);
    } else if (urlPassword(url).length === 0 && env.REDISCLI_AUTH) {
      raw.password = env.REDISCLI_AUTH;
    }
    if (options.user !== undefined) raw.username = options.user;
    if (options.samples !== undefined) raw.samples = wholeNumberFlag("--samples", options.samples, 1, MAX_SAMPLES);
    if (options.write) raw.write = true;
    const tlsBlock: Record<string, unknown> = {};
    if (options.tlsCa) tlsBlock.ca = options.tlsCa;
    if (options.servername) tlsBlock.servername = options.servername;
    if (options.insecure) tlsBlock.insecure = true;
    if (Object.keys(tlsBlock).length) raw.tls = tlsBlock;
    return raw;
  },
};
