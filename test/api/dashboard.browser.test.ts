/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core) against the real API
 * server and a scripted backend. Skips when /usr/bin/chromium is not installed.
 */
import { existsSync, mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, HAVE_CHROMIUM, launchChromium } from "../helpers/chromium.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetricsRegistry } from "../../controller/api/metrics.js";
import { type ApiServer, startApiServer } from "../../controller/api/server.js";
import { FakeBackend, sampleCanary, samplePoint } from "./fake-backend.js";

const TOKEN = "dashboard-test-token";
if (!HAVE_CHROMIUM)
  console.warn(`dashboard browser test skipped: ${CHROMIUM} not found (apt-get install chromium)`);

describe.skipIf(!HAVE_CHROMIUM)("dashboard in Chromium", () => {
  const backend = new FakeBackend();
  let server: ApiServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const nowSec = Math.floor(Date.now() / 1000) * 1000;

  beforeAll(async () => {
    const now = Date.now();
    backend.add(sampleCanary("shop", "checkout", now - 5000));
    const ranker = sampleCanary("ml", "ranker", now - 60_000);
    ranker.phase = "Paused";
    ranker.canaryWeight = 50;
    backend.add(ranker);
    const done = sampleCanary("shop", "search", now - 600_000);
    done.phase = "RolledBack";
    done.canaryWeight = 0;
    backend.add(done);
    for (let i = 0; i < 120; i++)
      backend.appendPoint("shop", "checkout", samplePoint(nowSec - (120 - i) * 1000, i));

    server = await startApiServer({
      port: 0,
      backend,
      writeToken: TOKEN,
      metricsRegistry: createMetricsRegistry({ canaries: () => backend.listCanaries(), windows: () => [] }),
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      // Failed requests are checked by URL below (the wrong-token 401 is expected).
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) pageErrors.push(m.text());
    });
    page.on("response", (r) => {
      const expected = r.status() === 401 && r.url().endsWith("/promote");
      if (r.status() >= 400 && !expected) pageErrors.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${server.url}/#shop/checkout`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("lists the canaries with their phases", async () => {
    const items = page.locator(".canary-item");
    await expect.poll(() => items.count()).toBe(3);
    await expect
      .poll(() => page.locator('.canary-item[data-key="ml/ranker"] .badge').textContent())
      .toBe("Paused");
    await expect.poll(() => page.locator("#d-title").textContent()).toBe("shop/checkout");
    expect(await page.locator("#d-phase").textContent()).toBe("Progressing");
    expect(await page.locator("#d-step").textContent()).toBe("2 / 4");
  });

  it("draws the charts and the decision, and updates the charts from live events", async () => {
    const rps = page.locator('svg[data-chart="rps"]');
    await expect.poll(() => rps.getAttribute("data-points")).toBe("120");
    for (const id of ["weight", "rps", "failure", "latency", "metric-tokens"]) {
      expect(await page.locator(`svg[data-chart="${id}"] path.line`).count(), id).toBeGreaterThan(0);
    }
    expect(await page.locator('svg[data-chart="latency"] path.line').count()).toBe(4);
    expect(await page.locator("#d-decision td.verdict").allTextContents()).toEqual(["inconclusive", "pass"]);
    expect(await page.locator("#d-timeline li").count()).toBe(2);
    await page.locator("#live[data-state='live']").waitFor();

    // Live: the backend appends points over time; the page must redraw with them.
    for (let i = 0; i < 3; i++) {
      backend.appendPoint("shop", "checkout", samplePoint(nowSec + i * 1000, 120 + i));
      await new Promise((r) => setTimeout(r, 100));
    }
    await expect.poll(() => rps.getAttribute("data-points")).toBe("123");
    expect(await rps.getAttribute("data-last-t")).toBe(String(nowSec + 2000));

    // A point for a canary not shown does not touch the charts.
    backend.appendPoint("ml", "ranker", samplePoint(nowSec + 5000, 1));
    backend.emit({
      type: "decision",
      namespace: "shop",
      name: "checkout",
      decision: {
        at: new Date().toISOString(),
        action: "advance",
        reason: "all checks passed",
        checks: [
          { name: "failure-rate", verdict: "pass", reason: "e=0.2", eValue: 0.2, value: 0.9, threshold: 5 },
        ],
      },
    });
    await expect.poll(() => page.locator("#d-decision .action-name").textContent()).toBe("advance");
    expect(await rps.getAttribute("data-points")).toBe("123");
  });

  it("needs a token for actions, sends commands with it and shows refusals", async () => {
    const pause = page.locator('button[data-command="pause"]');
    expect(await pause.isDisabled()).toBe(true);
    expect(await page.locator("#action-hint").textContent()).toContain("token");

    await page.fill("#token-input", "wrong-token");
    await page.click("#token-save");
    await expect.poll(() => pause.isDisabled()).toBe(false);
    await page.click('button[data-command="promote"]');
    await expect.poll(() => page.locator("#toast").textContent()).toContain("401");
    expect(backend.commands).toHaveLength(0);

    await page.fill("#token-input", TOKEN);
    await page.click("#token-save");
    await pause.click();
    await expect.poll(() => backend.commands.length).toBe(1);
    expect(backend.commands[0]).toEqual({ namespace: "shop", name: "checkout", command: "pause" });

    // Abort takes a confirming second click.
    const abort = page.locator('button[data-command="abort"]');
    await abort.click();
    expect(await abort.textContent()).toBe("Confirm abort");
    expect(backend.commands).toHaveLength(1);
    await abort.click();
    await expect.poll(() => backend.commands.at(-1)?.command).toBe("abort");
  });

  it("follows phase changes and saves a screenshot", async () => {
    const c = backend.canaries.get("shop/checkout")!;
    c.phase = "Paused";
    c.message = "paused by operator";
    c.timeline.push({
      at: new Date().toISOString(),
      phase: "Paused",
      step: 1,
      weight: 25,
      reason: "pause command",
    });
    backend.add(c);
    await expect.poll(() => page.locator("#d-phase").textContent()).toBe("Paused");
    await expect.poll(() => page.locator("#d-timeline li").count()).toBe(3);

    // Let the toast disappear so the screenshot shows the page itself.
    await page.locator("#toast").waitFor({ state: "hidden", timeout: 10_000 });
    mkdirSync("build/screenshots", { recursive: true });
    await page.screenshot({ path: "build/screenshots/dashboard.png", fullPage: true });
    expect(existsSync("build/screenshots/dashboard.png")).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
