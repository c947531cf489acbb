// Where the WebSocket check's credential comes from, besides a literal header:
// a command that prints a token (gcloud auth print-identity-token), or an
// HS256 JWT minted for staging with jose. The token is registered as a secret
// the moment it exists, and goes out as a header or a query parameter.
import { z } from "zod";
import { durationSchema, secretValueSchema } from "../shared/schema.js";
import { failure } from "../../diagnose/catalogue.js";
import { CHECK } from "../../diagnose/codes.js";
import type { InnerDeadline, ProbeContext } from "../api.js";
import { watchAbort } from "../../util/deadline.js";
import { WS } from "./diagnose.js";
import { parseDurationMs, formatMs } from "../../util/duration.js";
import { cut } from "../../util/excerpt.js";

export const DEFAULT_JWT_TTL = "5m";
const COMMAND_OUTPUT_LIMIT_BYTES = 64 * 1024;
const STDERR_EXCERPT_CHARS = 200;
/** How long a stopped run waits for a killed token command's processes to be gone. */
const GROUP_EXIT_WAIT_MS = 500;

export const tokenSchema = z
  .strictObject({
    value: secretValueSchema.optional().meta({ description: "The token itself: usually ${ENV_VAR}, or a Secret Manager reference { secret: projects/P/secrets/S }" }),
    command: z.string().min(1).optional().meta({ description: "Shell command that prints the token on stdout (e.g. gcloud auth print-identity-token); bounded by the check's budget" }),
    jwt: z
      .strictObject({
        secret: secretValueSchema.meta({ description: "HMAC secret (usually ${JWT_SECRET}, or a Secret Manager reference)" }),
        alg: z.enum(["HS256", "HS384", "HS512"]).default("HS256").meta({ description: "Signing algorithm (default HS256)" }),
        claims: z.record(z.string(), z.unknown()).default({}).meta({ description: "Claims to put in the token (sub, aud, iss, roles …); iat and exp are set for you" }),
        ttl: durationSchema.default(DEFAULT_JWT_TTL).meta({ description: "Lifetime of the minted token (default 5m)" }),
      })
      .optional()
      .meta({ description: "Mint a JWT for this run" }),
    as: z.enum(["header", "query"]).default("header").meta({ description: "Send the token as a header (default) or as a URL query parameter" }),
    name: z.string().min(1).optional().meta({ description: "Header name (default Authorization) or query parameter name (default token)" }),
    scheme: z.string().optional().meta({ description: 'Prefix of the header value (default "Bearer"; "" sends the bare token)' }),
  })
  .superRefine((token, ctx) => {
    const sources = (["value", "command", "jwt"] as const).filter((key) => token[key] !== undefined);
    if (sources.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: sources.length === 0 ? "set one of value, command or jwt" : `set only one of value, command or jwt (found ${sources.join(" and ")})`,
      });
    }
    if (token.as === "query" && token.scheme !== undefined) {
      ctx.addIssue({ code: "custom", path: ["scheme"], message: "scheme only applies to as: header" });
    }
  })
  .meta({ description: "Credential sent with the upgrade request (instead of, or in addition to, literal headers)" });

export type TokenSpec = z.infer<typeof tokenSchema>;

export function tokenHeaderName(token: TokenSpec): string {
  return token.name ?? "Authorization";
}

/** Secrets known before the run (literal token, JWT signing secret). */
export function tokenSecrets(token: TokenSpec | undefined): string[] {
  if (!token) return [];
  const found: string[] = [];
  if (typeof token.value === "string") found.push(token.value);
  if (token.jwt && typeof token.jwt.secret === "string") found.push(token.jwt.secret);
  return found;
}

/** Obtain the token (registered as a secret at once). Runs as the `token` phase. */
export async function obtainToken(token: TokenSpec, ctx: ProbeContext, deadline: InnerDeadline): Promise<string> {
  const value = await ctx.phases.time("token", async () => {
    if (token.value !== undefined) {
      if (typeof token.value !== "string") throw failure(CHECK.UNRESOLVED_SECRET, {});
      return token.value;
    }
    if (token.command !== undefined) return runTokenCommand(token.command, deadline);
    return mintJwt(token.jwt!);
  });
  ctx.addSecret(value);
  if (value === "") {
    throw failure(WS.TOKEN_EMPTY, {});
  }
  return value;
}

async function mintJwt(jwt: NonNullable<TokenSpec["jwt"]>): Promise<string> {
  if (typeof jwt.secret !== "string" || jwt.secret === "") {
    throw failure(WS.JWT_SECRET_EMPTY, {});
  }
  const { SignJWT } = await import("jose");
  const ttlSeconds = Math.max(1, Math.round(parseDurationMs(jwt.ttl)! / 1000));
  const now = Math.floor(Date.now() / 1000);
  try {
    return await new SignJWT({ ...jwt.claims })
      .setProtectedHeader({ alg: jwt.alg, typ: "JWT" })
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(new TextEncoder().encode(jwt.secret));
  } catch (error) {
    throw failure(WS.JWT_NOT_MINTED, { alg: jwt.alg, reason: (error as Error).message });
  }
}

async function runTokenCommand(command: string, deadline: InnerDeadline): Promise<string> {
  const { spawn } = await import("node:child_process");
  // Only the program's name: the rest of a command line often carries credentials (headers, tokens).
  // The program's name, past any leading VAR=value assignments (their values may be secrets, and the name is what to fix).
  const words = command.trim().split(/\s+/);
  const shown = words.find((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) ?? "(no program: only VAR=value assignments)";
  const startedAt = performance.now();
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      stopWatching();
      fn();
    };
    // Its own process group, so the deadline kills the command's children too (gcloud is a wrapper script).
    const child = spawn("/bin/sh", ["-c", command], { detached: true, stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > COMMAND_OUTPUT_LIMIT_BYTES) {
        killGroup();
        settle(() => reject(failure(WS.TOKEN_COMMAND_TOO_LOUD, { shown, limitKb: COMMAND_OUTPUT_LIMIT_BYTES / 1024 })));
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      // Only the last line is ever shown: keep the tail.
      stderrBytes += chunk.length;
      stderr.push(chunk);
      if (stderrBytes > COMMAND_OUTPUT_LIMIT_BYTES) stderrBytes -= stderr.shift()!.length;
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      settle(() => reject(failure(WS.TOKEN_COMMAND_SPAWN, { shown, reason: error.code ?? error.message })));
    });
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => {
      const lastLine = lastLineOf(Buffer.concat(stderr).toString("utf8"));
      if (code === 127) {
        return settle(() => reject(failure(WS.TOKEN_COMMAND_NOT_FOUND, { shown, lastLine })));
      }
      if (code !== 0) {
        return settle(() => reject(failure(WS.TOKEN_COMMAND_FAILED, { shown, lastLine, how: code === null ? `killed by ${signal}` : `exit ${code}` })));
      }
      const token = Buffer.concat(stdout).toString("utf8").trim();
      if (!token) {
        return settle(() => reject(failure(WS.TOKEN_COMMAND_EMPTY, { shown, lastLine })));
      }
      if (/\s/.test(token)) {
        // Never echo the output: it may be a token followed by noise.
        return settle(() => reject(failure(WS.TOKEN_COMMAND_NOISY, { shown })));
      }
      settle(() => resolve(token));
    });
    const stopWatching = watchAbort(deadline.signal, () => {
      const waited = formatMs(performance.now() - startedAt);
      const stop = () =>
        settle(() => reject(deadline.expired ? failure(WS.TOKEN_COMMAND_TIMEOUT, { shown, waited, limit: deadline.label }) : deadline.signal.reason));
      killGroup();
      // The check ends once the command is gone (a Ctrl-C must not leave it behind as an orphan); SIGKILL makes that
      // immediate. At its deadline, once its shell has exited; when the run is stopped, once its pipes closed — every
      // process of the group has died (bounded: a child that left the group may hold them).
      if (child.pid === undefined || (deadline.expired && (child.exitCode !== null || child.signalCode !== null))) return stop();
      if (deadline.expired) return void child.once("exit", stop);
      const timer = setTimeout(stop, GROUP_EXIT_WAIT_MS);
      child.once("close", () => {
        clearTimeout(timer);
        stop();
      });
    });
  });
}

function lastLineOf(text: string): string {
  const lines = text.split("\n").map((line) => line.trim()).filter(Boolean);
  const last = lines.at(-1) ?? "";
  return cut(last, STDERR_EXCERPT_CHARS);
}

/** Put the token where the server expects it. */
export function applyToken(token: TokenSpec, value: string, url: URL, headers: Record<string, string>): void {
  if (token.as === "query") {
    url.searchParams.set(token.name ?? "token", value);
    return;
  }
  const scheme = token.scheme ?? "Bearer";
  headers[tokenHeaderName(token)] = scheme ? `${scheme} ${value}` : value;
}
