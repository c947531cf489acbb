// Regression tests for every path a secret-leak review found: each one puts a
// secret where it could escape and asserts that no output carries it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { httpServer } from "../helpers/net.js";
import { runCli } from "../helpers/cli.js";
import { runConfig } from "../helpers/run.js";
import { Redactor } from "../../src/redact.js";

let echo: Awaited<ReturnType<typeof httpServer>>;
const dir = mkdtempSync(path.join(tmpdir(), "infra-check-leaks-"));
const file = (name: string, text: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, text);
  return target;
};

beforeAll(async () => {
  // A server that hands back whatever credentials it receives, in the ways real servers do.
  echo = await httpServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (url.pathname === "/pad") {
        res.statusCode = 401;
        res.end(`${"x".repeat(Number(url.searchParams.get("pad")))} rejected credential ${req.headers.authorization}`);
      } else if (url.pathname === "/json") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ status: "degraded", auth: req.headers.authorization }));
      } else if (url.pathname === "/headers") {
        res.statusCode = 403;
        res.end(JSON.stringify(req.headers));
      } else if (url.pathname === "/body") {
        res.statusCode = 400;
        res.end(`bad request body: ${body}`);
      } else if (url.pathname === "/cookie") {
        res.statusCode = 401;
        res.setHeader("set-cookie", "session=srv-issued-session-77; HttpOnly");
        res.end(`session ${/session=([^;]+)/.exec(req.headers.cookie ?? "")?.[1]} expired`);
      } else {
        res.end("ok");
      }
    });
  });
});
afterAll(() => echo.stop());

const expectClean = (text: string, ...secrets: string[]) => {
  for (const secret of secrets) expect(text, `leaked ${secret}`).not.toContain(secret);
};

describe("secrets never reach output", () => {
  it("config errors never quote a password, a JWT secret or a numeric password", async () => {
    const config = file(
      "bad.yaml",
      [
        "checks:",
        "  cache: { kind: redis, url: 'redis://:old-url-password@127.0.0.1:1/0', password: '${REDIS_PASSWORD}' }",
        "  numeric: { kind: redis, url: 'redis://127.0.0.1:1', password: 84736251 }",
        "  chat: { kind: websocket, url: 'ws://127.0.0.1:1/ws', headers: { Authorization: 'Bearer x' }, token: { jwt: { secret: '${JWT_SECRET}' } } }",
        "  db: { kind: postgres, host: 127.0.0.1, password: '${DB_PASSWORD}' }",
      ].join("\n") + "\n",
    );
    const env = { REDIS_PASSWORD: "hunter2-redis-pw", JWT_SECRET: "jwt-signing-SECRET-42", DB_PASSWORD: "Tr0ub4dor&3-pg" };
    for (const command of [["validate", "--config", config], ["run", "--config", config, "--format", "json"]]) {
      const result = await runCli(command, { env });
      expect(result.code).toBe(2);
      expectClean(result.stderr + result.stdout, "hunter2-redis-pw", "old-url-password", "84736251", "jwt-signing-SECRET-42", "Tr0ub4dor&3-pg");
    }
  });

  it("an unquoted *value is a YAML error (exit 2) that does not echo it", async () => {
    const result = await runCli(["validate", "--config", file("alias.yaml", "checks:\n  a: { kind: redis, url: 'redis://x', password: *hunter2yaml }\n")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("quote it");
    expectClean(result.stderr, "hunter2yaml");
  });

  it("a password holding / and @ in a URL is masked whole", () => {
    const redactor = new Redactor();
    expect(redactor.text("found redis://:q8Z/4kP+vR2m9wXy==@10.0.0.3:6379/0")).toBe("found redis://:***@10.0.0.3:6379/0");
    expect(redactor.text("postgres://app:S3cr3t@Pa55word@127.0.0.1:5432/app")).toBe("postgres://app:***@127.0.0.1:5432/app");
  });

  it("a secret cut short by an excerpt does not show its first characters", async () => {
    const token = "sk_live_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const result = await runCli(["http", echo.url("/pad?pad=260"), "-H", "Authorization: Bearer $TOK", "--format", "json"], { env: { TOK: token } });
    expect(result.code).toBe(1);
    expectClean(result.stdout, token.slice(0, 8));
  });

  it("JSON-escaped, Basic-decoded and cookie forms of a credential are masked", async () => {
    const weird = 'Zq"9\\x!Lm-secret';
    const json = await runCli(["http", echo.url("/json"), "-H", "Authorization: $TOK", "--expect", "json.status=healthy", "--expect", "json.auth=x", "--format", "json"], { env: { TOK: weird } });
    expectClean(json.stdout, "Lm-secret");
    const basic = Buffer.from("admin:Pa55w0rd-basic").toString("base64");
    const basicRun = await runCli(["http", echo.url("/pad?pad=0"), "-H", "Authorization: Basic $BA", "--format", "json"], { env: { BA: basic } });
    expectClean(basicRun.stdout, basic, "Pa55w0rd-basic");
    const cookie = await runCli(["http", echo.url("/cookie"), "-H", "Cookie: session=$SID", "--expect", "header.set-cookie=x", "--format", "json"], { env: { SID: "sess_4f9a8b7c6d5e4f3a" } });
    expectClean(cookie.stdout, "sess_4f9a8b7c6d5e4f3a", "srv-issued-session-77");
  });

  it("API-key headers of common services are secrets", async () => {
    const result = await runCli(
      ["http", echo.url("/headers"), "-H", "X-Goog-Api-Key: $KEY", "-H", "Ocp-Apim-Subscription-Key: azure-sub-key-9f8e7d6c5b4a", "--format", "json"],
      { env: { KEY: "AIzaSyFAKE-api-key-0123456789abcdef" } },
    );
    expect(result.code).toBe(1);
    expectClean(result.stdout, "AIzaSyFAKE-api-key-0123456789abcdef", "azure-sub-key-9f8e7d6c5b4a");
  });

  it("secret fields of a request body are masked when the server echoes them", async () => {
    const report = await runConfig(
      { checks: { token: { kind: "http", method: "POST", url: echo.url("/body"), body: "grant_type=client_credentials&client_id=ic&client_secret=${CLIENT_SECRET}" } } },
      { env: { CLIENT_SECRET: "cs-VERY-secret-value-77" } },
    );
    expect(report.checks[0].status).toBe("fail");
    expectClean(JSON.stringify(report), "cs-VERY-secret-value-77");
  });

  it("a token command's arguments are not shown (they carry credentials)", async () => {
    const report = await runConfig(
      {
        checks: {
          chat: {
            kind: "websocket",
            url: "ws://127.0.0.1:1/ws",
            token: { command: "false --header 'X-Vault-Token: ${VAULT_TOKEN}'" },
          },
        },
      },
      { env: { VAULT_TOKEN: "hvs.CAESIVaultTokenSecret123" } },
    );
    expect(report.checks[0].status).toBe("fail");
    expectClean(JSON.stringify(report), "hvs.CAESIVaultTokenSecret123", "X-Vault-Token");
  });

  it("a token used as a web URL's user name is masked in the target", async () => {
    const report = await runConfig({ checks: { api: { kind: "http", url: `http://s3cr3tT0k@127.0.0.1:${echo.port}/` } } });
    expect(report.checks[0].target).not.toContain("s3cr3tT0k");
  });

  it("usage errors do not echo --password=VALUE", async () => {
    const result = await runCli(["redis", "redis://127.0.0.1:1", "--password=hunter2-cli"]);
    expect(result.code).toBe(2);
    expectClean(result.stderr, "hunter2-cli");
  });

  it("compare on a file that is not JSON does not print its content", async () => {
    const bad = file("notjson.txt", "hunter2-in-file-XYZ and more text\n");
    const result = await runCli(["compare", bad, bad]);
    expect(result.code).toBe(2);
    expectClean(result.stderr, "hunter2-in-file-XYZ");
  });
});
