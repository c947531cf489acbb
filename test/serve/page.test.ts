// The status page in a real browser: Debian's headless Chromium (installed
// by scripts/setup.sh), driven by playwright-core, with a fresh profile. A
// phone-sized and a desktop screenshot go to test-output/serve/; the
// assertions are on the DOM: one card per check with its status, class,
// hint and since when, a sparkline, no script anywhere (the page needs none
// and its CSP forbids any), escaped text, no secret, no sideways scrolling.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type http from "node:http";
import { chromium, type BrowserContext } from "playwright-core";
import { httpServer } from "../helpers/net.js";
import { get, serve, type Served } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
export const OUTPUT_DIR = path.resolve(import.meta.dirname, "../../test-output/serve");
const TOKEN = "page-test-token-0123456789abcdef";
const SECRET = "s3cret-in-the-url-8e21";

// CI machines install Chromium (scripts/setup.sh); a developer machine without it skips, a CI one fails.
const available = existsSync(CHROMIUM) || Boolean(process.env.CI);

describe.skipIf(!available)("the status page in headless Chromium", () => {
  let target: Awaited<ReturnType<typeof httpServer>>;
  let served: Served;
  let profile: string;
  let browser: BrowserContext;
  let handler: http.RequestListener;

  beforeAll(async () => {
    handler = (req, res) => {
      if (req.url === "/broken") return res.writeHead(503).end("<script>alert('owned')</script> maintenance");
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    };
    target = await httpServer((req, res) => handler(req, res));
    served = await serve(
      {
        env: "staging",
        checks: {
          api: { kind: "http", url: `http://svc:${SECRET}@127.0.0.1:${target.port}/health` },
          worker: { kind: "http", url: target.url("/worker"), warn: { status: 201 } },
          payments: { kind: "http", url: target.url("/broken") },
          chat: { kind: "http", url: target.url("/chat"), dependsOn: ["payments"] },
        },
      },
      { token: TOKEN },
    );
    // A few more cycles, so the sparklines have a line.
    for (let i = 0; i < 3; i += 1) for (const check of ["api", "worker", "payments"]) expect((await get(served.url(`/probe?check=${check}`), { token: TOKEN })).status).toBe(200);
    mkdirSync(OUTPUT_DIR, { recursive: true });
    profile = mkdtempSync(path.join(tmpdir(), "infra-check-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      httpCredentials: { username: "on-call", password: TOKEN },
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    await target?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("on a phone: one card per check with status, class, hint, since when and a sparkline; screenshot saved", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    const response = await page.goto(served.url("/"));
    expect(response?.status()).toBe(200);
    const screenshot = path.join(OUTPUT_DIR, "status-page-phone.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);

    expect(await page.title()).toBe("infra-check staging: 2 of 4 checks healthy");
    expect(await page.locator("h1").textContent()).toBe("staging: 2 of 4 checks healthy");
    const cards = page.locator("li.check");
    expect(await cards.evaluateAll((items) => items.map((item) => [item.getAttribute("data-check"), item.getAttribute("data-status")]))).toEqual([
      ["api", "pass"],
      ["worker", "warn"],
      ["payments", "fail"],
      ["chat", "blocked"],
    ]);
    const payments = page.locator('li[data-check="payments"]');
    expect(await payments.locator(".badge").textContent()).toBe("fail");
    expect(await payments.locator(".class").textContent()).toBe("server-error");
    expect((await payments.locator(".hint").textContent())!.length).toBeGreaterThan(10);
    expect(await payments.locator(".since time").getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await payments.locator(".since").textContent()).toMatch(/^fail since \d\d:\d\d:\d\d UTC \(\d+ s ago\)$/);
    expect(await payments.locator("svg.spark polyline").count()).toBe(1);
    expect(await payments.locator("svg.spark circle.failed").count()).toBe(4);
    expect(await payments.locator("svg.spark").getAttribute("aria-label")).toMatch(/^latency over the last hour: .* to .*, 4 cycles, 4 failed$/);
    expect(await page.locator('li[data-check="chat"] .message').textContent()).toBe("blocked by payments: it runs once they pass");
    expect(await page.locator('li[data-check="worker"] .class').textContent()).toBe("protocol");
    expect(await page.locator(".summary").getAttribute("data-status")).toBe("fail");

    // The server's text is shown as text: no element came from it, and no script exists at all.
    expect(await payments.locator(".message").textContent()).toContain("<script>alert('owned')</script>");
    expect(await page.locator("script").count()).toBe(0);
    expect(errors).toEqual([]);
    const html = await page.content();
    expect(html).not.toContain(SECRET);
    expect(await page.locator('li[data-check="api"] .target').textContent()).toBe(`http://svc:***@127.0.0.1:${target.port}/health`);
    // Readable on a phone: nothing wider than the screen.
    expect(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);
    expect(await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")).toBeGreaterThanOrEqual(16);
    await page.close();
  });

  it("on a desktop, and with JavaScript disabled it is the same page: it needs none", async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(served.url("/"));
    await page.screenshot({ path: path.join(OUTPUT_DIR, "status-page-desktop.png"), fullPage: true });
    const withScript = await page.content();
    await page.close();

    const other = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
      const noScript = await other.newContext({ javaScriptEnabled: false, httpCredentials: { username: "x", password: TOKEN } });
      const plain = await noScript.newPage();
      const response = await plain.goto(served.url("/"));
      expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
      expect(await plain.locator("li.check").count()).toBe(4);
      expect(await plain.locator('li[data-check="payments"] .hint').count()).toBe(1);
      expect(await plain.locator("svg.spark").count()).toBe(4);
      expect((await plain.content()).length).toBeGreaterThan(withScript.length / 2);
    } finally {
      await other.close();
    }
  });

  it("without the token the browser is asked for it (Basic), and gets no page", async () => {
    const context = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
      const page = await context.newPage();
      // Headless Chromium has nobody to type the password: it gives up on the challenge.
      await expect(page.goto(served.url("/"))).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
      expect(await page.locator("li.check").count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
