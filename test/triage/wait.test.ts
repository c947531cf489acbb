// --wait after a deploy: it retries what a cold start explains, not a wrong
// password or a missing database, says in a CI log that it is waiting, and
// states the wait as the run's deadline.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer } from "../helpers/net.js";
import { runMain } from "../helpers/main-io.js";
import { startRedisServer, type RedisServer } from "../../src/demo/redis-server.js";

let redis: RedisServer;
let requests = 0;
let web: Awaited<ReturnType<typeof httpServer>>;
beforeAll(async () => {
  redis = await startRedisServer({ password: "correct-horse-battery" });
  web = await httpServer((_req, res) => {
    requests += 1;
    res.statusCode = requests <= 1 ? 503 : 200;
    res.end("cold");
  });
});
afterAll(async () => {
  await redis.stop();
  await web.stop();
});

describe("--wait", () => {
  it("does not retry a wrong password (auth): one attempt, named in extras.wait.notRetried; --wait-all does", async () => {
    const args = ["redis", `redis://127.0.0.1:${redis.port}`, "--password-env", "P", "--samples", "1", "--wait", "3s", "--format", "json"];
    const started = performance.now();
    const once = await runMain(args, { cwd: process.cwd(), env: { P: "wrong-password-here" } });
    expect(performance.now() - started).toBeLessThan(1500);
    const report = JSON.parse(once.stdout);
    expect(once.code).toBe(1);
    expect(report.checks[0]).toMatchObject({ status: "fail", attempts: 1, failure: { class: "auth" } });
    expect(report.extras.wait).toMatchObject({ attempts: 1, notRetried: ["redis"] });
    const all = await runMain([...args.slice(0, -4), "--wait", "1500ms", "--wait-all", "--format", "json"], { cwd: process.cwd(), env: { P: "wrong-password-here" } });
    expect(JSON.parse(all.stdout).checks[0].attempts).toBeGreaterThan(1);
  });

  it("on a non-terminal stderr (a CI log) says each retry in a plain line, and the report's deadline is the wait", async () => {
    requests = 0;
    const result = await runMain(["http", web.url("/"), "--wait", "5s"], { cwd: process.cwd(), stderrIsTTY: false });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^--wait: attempt 2 in \d+(\.\d+)? (ms|s): http$/m);
    expect(result.stdout).toMatch(/\(deadline 5\.00 s\)/);
  });
});
