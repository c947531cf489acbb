// Redaction in every form a secret comes back in, and never of names: a
// server that echoes a token JSON-\u-escaped, HTML-escaped, percent-encoded
// in lower case, base64'd or with its whitespace folded must not leak it; a
// password that is a common word must not wipe out check names and kinds;
// a short Secret Manager reference is a name, not a value.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer } from "../helpers/net.js";
import { runMain } from "../helpers/main-io.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";
import { FORMATS } from "../../src/reporters/index.js";
import { Redactor } from "../../src/redact.js";
import { startGcpWorld, type GcpWorld } from "../gcp/harness.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

// Characters that every encoder treats differently: a space run, a tab, <>&, quotes, !*(), non-ASCII.
const TOKEN = "s3cr  et\t<&>'!*()é-Zq91";
let echo: Awaited<ReturnType<typeof httpServer>>;
let redis: RedisServer;
const dir = mkdtempSync(path.join(tmpdir(), "infra-check-encodings-"));

beforeAll(async () => {
  echo = await httpServer((req, res) => {
    const token = String(req.headers["x-token"] ?? "");
    const forms: Record<string, string> = {
      "/python": JSON.stringify({ token }).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
      "/go": JSON.stringify({ token }).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
      "/html": `<p>token ${token.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, "&#39;")}</p>`,
      "/percent": `token=${encodeURIComponent(token).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`).toLowerCase()}`,
      "/base64": `token ${Buffer.from(token).toString("base64")}`,
      "/folded": `token ${token}`,
    };
    res.statusCode = 500;
    res.end(forms[req.url ?? ""] ?? "?");
  });
  redis = await startRedisServer({ password: "redis" });
});
afterAll(async () => {
  await echo.stop();
  await redis.stop();
});

describe("a secret echoed in another encoding", () => {
  it.each(["/python", "/go", "/html", "/percent", "/base64", "/folded"])("%s: no format carries it", async (route) => {
    const env = { TOKEN };
    for (const format of FORMATS) {
      const result = await runMain(["http", echo.url(route), "-H", "X-Token: $TOKEN", "--format", format, "-v"], { cwd: dir, env });
      const all = result.stdout + result.stderr;
      expect(result.code, `${format}: ${all}`).toBe(1);
      const forms = [TOKEN, TOKEN.replace(/\s+/g, " "), Buffer.from(TOKEN).toString("base64"), "s3cr", "Zq91"];
      for (const form of forms) expect(all, `${format} ${route} leaked ${JSON.stringify(form)}`).not.toContain(form);
    }
  });
});

describe("a password that is a common word", () => {
  it("leaves check names, kinds, users and hosts alone in every format, and says so once", async () => {
    const config = path.join(dir, "weak.yaml");
    writeFileSync(config, `checks:\n  redis:\n    kind: redis\n    url: redis://127.0.0.1:${redis.port}\n    password: \${REDIS_PASSWORD}\n    samples: 1\n`);
    for (const format of FORMATS) {
      const result = await runMain(["run", "--config", config, "--format", format], { cwd: dir, env: { REDIS_PASSWORD: "redis" } });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).not.toContain("***");
      // The github format says nothing per check when all pass (annotations are for problems).
      if (format !== "github") expect(result.stdout).toContain("redis");
      expect(result.stderr.match(/note: a secret in this run is a common word/g)).toHaveLength(1);
    }
    const json = JSON.parse((await runMain(["run", "--config", config, "--format", "json"], { cwd: dir, env: { REDIS_PASSWORD: "redis" } })).stdout);
    expect(json.checks[0]).toMatchObject({ name: "redis", kind: "redis", target: `redis://127.0.0.1:${redis.port}` });
  });

  it("is still masked where it stands as a value", () => {
    const redactor = new Redactor(["redis"]);
    redactor.addPublic("cache");
    expect(redactor.text('AUTH redis failed; password=redis; {"auth":"redis"}')).toBe('AUTH *** failed; password=***; {"auth":"***"}');
    expect(redactor.text("Redis at redis://127.0.0.1:6379 (kind redis-ish, rediss)")).toBe("Redis at redis://127.0.0.1:6379 (kind redis-ish, rediss)");
    // A weak secret that is also a name the user chose is that name.
    const named = new Redactor(["postgres"]);
    named.addPublic("postgres");
    expect(named.text('user "postgres" rejected')).toBe('user "postgres" rejected');
  });
});

describe("a password that is a short number", () => {
  it("never masks a port, an address's parts or the target, and is still masked as a value", async () => {
    const refused = `redis://127.0.0.1:${redis.port + 1}`;
    for (const password of [String(redis.port + 1), "127", "1"]) {
      const result = await runMain(["redis", refused, "--password-env", "P", "--format", "json"], { cwd: dir, env: { P: password } });
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout);
      expect(report.checks[0].target).toBe(refused);
      expect(report.checks[0].failure.message).toContain(`127.0.0.1:${redis.port + 1}`);
      expect(result.stdout).not.toContain("***");
    }
    const redactor = new Redactor(["6379"]);
    expect(redactor.text("AUTH 6379 failed; password=6379; dial 10.0.0.3:6379; port 6379.")).toBe("AUTH *** failed; password=***; dial 10.0.0.3:6379; port ***.");
    expect(new Redactor(["127"]).text("connect 127.0.0.1 refused; pin 127")).toBe("connect 127.0.0.1 refused; pin ***");
  });
});

describe("a short Secret Manager reference is a name", () => {
  let world: GcpWorld;
  beforeAll(async () => {
    world = await startGcpWorld();
  });
  afterAll(async () => {
    await world?.stop();
  });

  it("check chat-tok, phase token and the missing secret's name are shown whole", async () => {
    const config = path.join(dir, "ref.yaml");
    writeFileSync(
      config,
      `gcp: { project: ${world.gcp.project}, region: ${world.gcp.region}, emulatorHost: "${world.gcp.emulatorHost}" }\nchecks:\n  chat-tok:\n    kind: websocket\n    url: ws://127.0.0.1:9/ws\n    token: { value: { secret: tok } }\n`,
    );
    const result = await runMain(["run", "--config", config, "--format", "json"], { cwd: dir, env: {} });
    const report = JSON.parse(result.stdout);
    expect(report.checks[0].name).toBe("chat-tok");
    expect(report.checks[0].failure.class).toBe("not-found");
    expect(report.checks[0].failure.message).toContain(`projects/${world.gcp.project}/secrets/tok/versions/latest`);
    expect(result.stdout).not.toContain("***");
  });
});
