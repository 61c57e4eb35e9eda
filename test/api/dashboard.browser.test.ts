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
import { FakeBackend, llmCanary, llmPoint, sampleCanary, samplePoint } from "./fake-backend.js";

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

  /** When the checkout canary's current step started (sampleCanary: 30 s before its `at`). */
  let checkoutStepStart = 0;

  beforeAll(async () => {
    const now = Date.now();
    backend.add(sampleCanary("shop", "checkout", now - 5000));
    checkoutStepStart = now - 35_000;
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
    backend.add(llmCanary(now));
    for (let i = 0; i < 20; i++) backend.appendPoint("ai", "chat", llmPoint(nowSec - (20 - i) * 1000));

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
    await expect.poll(() => items.count()).toBe(4);
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

  it("shows the step plan with the current step and the time left in it", async () => {
    const steps = page.locator("#d-plan li");
    expect(await steps.count()).toBe(4);
    expect(await steps.evaluateAll((l) => l.map((e) => (e as HTMLElement).dataset.state))).toEqual([
      "done",
      "current",
      "next",
      "next",
    ]);
    const current = page.locator("#d-plan li[aria-current=step]");
    expect(await current.locator(".plan-label").textContent()).toBe("2. 25%");
    // 120 s hold from the step's start: the note says what is left of it as the page reads the
    // clock, and counts down without a reload. Bounded by the clock before and after the read, so a
    // slow machine (earlier tests taking longer) moves both bounds with it.
    const left = async () => {
      const m = /^(?:(\d)m )?(\d\d?)s left$/.exec((await current.locator(".plan-note").textContent()) ?? "");
      return m ? 60 * Number(m[1] ?? 0) + Number(m[2]) : Number.NaN;
    };
    const remaining = (at: number) => 120 - (at - checkoutStepStart) / 1000;
    const before = Date.now();
    const first = await left();
    const after = Date.now();
    expect(first).toBeGreaterThanOrEqual(Math.floor(remaining(after)) - 1);
    expect(first).toBeLessThanOrEqual(Math.ceil(remaining(before)) + 1);
    await expect.poll(left, { timeout: 5000 }).toBeLessThan(first);
  });

  it("draws each check's evidence over time against its rollback level", async () => {
    const plot = page.locator('svg[data-chart="evidence"]');
    expect(await plot.getAttribute("data-points")).toBe("60");
    const check = plot.locator('path.line[data-label="failure-rate"]');
    // Two steps: the line starts anew at the second.
    expect((await check.getAttribute("d"))!.match(/M/g)).toHaveLength(2);
    const level = await plot.locator('path.line[data-label="rollback at 40×"]').getAttribute("d");
    const ys = [...level!.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => m[1]);
    expect(ys).toHaveLength(2);
    expect(ys[0]).toBe(ys[1]);
    expect(await plot.locator("text").allTextContents()).toEqual(
      expect.arrayContaining(["0.01×", "1×", "100×"]),
    );
  });

  it("enables only the commands that apply, saying why the others do not", async () => {
    for (const [command, disabled] of [
      ["pause", false],
      ["promote", false],
      ["promote-full", false],
      ["abort", false],
      ["resume", true],
      ["approve", true],
      ["retry", true],
      ["undo", true],
    ] as const) {
      const b = page.locator(`button[data-command="${command}"]`);
      expect(await b.isDisabled(), command).toBe(disabled);
      if (disabled)
        expect(await b.getAttribute("title")).toMatch(
          new RegExp(`^${command} does not apply in phase Progressing`),
        );
    }
  });

  it("lists past rollouts and clears the last decision once a rollout has ended", async () => {
    const rows = page.locator("#d-rollouts tbody tr");
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(1).textContent()).toContain("rollback: failure-rate: canary 4.1% vs stable 0.9%");
    await page.goto(`${server.url}/#shop/search`);
    await expect.poll(() => page.locator("#d-title").textContent()).toBe("shop/search");
    expect(await page.locator("#d-decision").textContent()).toBe(
      "The rollout ended (RolledBack); its decisions are under Rollouts.",
    );
    expect(await page.locator("#d-plan li[data-state=stopped]").count()).toBe(1);
    // Back to Progressing, with a decision older than the rollout under way: not shown as its own.
    const search = backend.canaries.get("shop/search")!;
    search.phase = "Progressing";
    search.rollouts![0]!.startedAt = new Date(Date.parse(search.lastDecision!.at) + 1000).toISOString();
    backend.add(search);
    await expect
      .poll(() => page.locator("#d-decision").textContent())
      .toBe("No decision in this rollout yet.");
    for (const b of ["retry", "undo"])
      expect(await page.locator(`button[data-command="${b}"]`).isDisabled(), b).toBe(true);
  });

  it("shows the gates, the LLM charts per variant and the weight from the Canary's creation", async () => {
    await page.goto(`${server.url}/#ai/chat`);
    await expect.poll(() => page.locator("#d-title").textContent()).toBe("ai/chat");
    expect(await page.locator("#d-gates-panel").isHidden()).toBe(false);
    expect(await page.locator("#d-gates .gate-result").allTextContents()).toEqual(["Passed", "not open"]);
    expect(await page.locator('#d-gates tr[data-gate="smoke"]').textContent()).toContain(
      "https://ci.example",
    );
    for (const [id, title] of [
      ["llm-tokens", "Tokens per request"],
      ["llm-cost", "Cost per 1,000 requests"],
      ["llm-guardrail", "Guardrail block rate"],
    ]) {
      const card = page.locator(`.chart[data-chart="${id}"]`);
      expect(await card.locator("h3").textContent(), id).toContain(title);
      expect(
        await card.locator("path.line").evaluateAll((l) => l.map((e) => e.getAttribute("data-label"))),
      ).toEqual(["canary", "stable"]);
    }
    // The canary's guardrail rate (10%) is drawn above stable's (1%): smaller y is higher.
    const yOf = async (label: string) => {
      const d = await page
        .locator(`svg[data-chart="llm-guardrail"] path[data-label="${label}"]`)
        .getAttribute("d");
      return Number(/,([\d.]+)/.exec(d!)![1]);
    };
    expect(await yOf("canary")).toBeLessThan(await yOf("stable"));
    // Charted once: not again among the generic per-metric charts (the other llm-* metrics are).
    expect(await page.locator('.chart[data-chart="metric-llm-total-tokens"]').count()).toBe(0);
    expect(await page.locator('.chart[data-chart="metric-llm-ttft-ms"]').count()).toBe(1);
    // Created 30 s before the test started, inside the chart's window: the weight line starts
    // there (past the axis at x=44), at 0% (y=148) until the first step.
    const start = async () => {
      const d = await page.locator('svg[data-chart="weight"] path.line').getAttribute("d");
      return /^M([\d.]+),([\d.]+)/.exec(d!)!.slice(1).map(Number);
    };
    const [x0, y0] = await start();
    expect(x0).toBeGreaterThan(60);
    expect(x0).toBeLessThan(376);
    expect(y0).toBe(148);
    // Other canaries have no gates: the panel goes away.
    await page.goto(`${server.url}/#shop/checkout`);
    await expect.poll(() => page.locator("#d-gates-panel").isHidden()).toBe(true);
    // Created before the window: the line spans it from the axis.
    expect((await start())[0]).toBe(44);
  });

  it("lays out at 1024 px without horizontal overflow or overlapping panels", async () => {
    const narrow = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    narrow.on("pageerror", (e) => pageErrors.push(e.message));
    try {
      for (const k of ["ai/chat", "shop/checkout"]) {
        await narrow.goto(`${server.url}/#${k}`);
        await expect.poll(() => narrow.locator("#d-title").textContent()).toBe(k);
        await narrow.locator('svg[data-chart="evidence"]').waitFor();
        const layout = await narrow.evaluate(() => {
          const boxes = Array.from(
            document.querySelectorAll(
              ".chart, .panel, table, .fact, .plan-step, button.action, .sidebar, .canary-item .name, .canary-item .badge",
            ),
          )
            .filter((e) => (e as HTMLElement).offsetParent !== null)
            .map((e) => ({ e, name: `${e.className} ${e.id}`, r: e.getBoundingClientRect() }));
          const overlaps: string[] = [];
          for (const [i, a] of boxes.entries())
            for (const b of boxes.slice(i + 1)) {
              // A box inside another (a list item's name in the sidebar) is not an overlap.
              if (a.e.contains(b.e) || b.e.contains(a.e)) continue;
              const x = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
              const y = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
              if (x > 1 && y > 1) overlaps.push(`${a.name} / ${b.name}`);
            }
          const widest = Math.max(
            ...Array.from(document.querySelectorAll("body *")).map((e) => e.getBoundingClientRect().right),
          );
          return {
            scrollWidth: document.documentElement.scrollWidth,
            clientWidth: document.documentElement.clientWidth,
            widest,
            overlaps,
            count: boxes.length,
          };
        });
        expect(layout.count, k).toBeGreaterThan(10);
        expect(layout.overlaps, k).toEqual([]);
        expect(layout.scrollWidth, k).toBeLessThanOrEqual(layout.clientWidth);
        expect(layout.widest, k).toBeLessThanOrEqual(layout.clientWidth + 0.5);
      }
      await narrow.locator("#toast").waitFor({ state: "hidden", timeout: 10_000 });
      mkdirSync("build/screenshots", { recursive: true });
      await narrow.screenshot({ path: "build/screenshots/dashboard-1024.png", fullPage: true });
    } finally {
      await narrow.close();
    }
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
    // Paused by `pause`: resume applies now, pause no longer does.
    await expect.poll(() => page.locator('button[data-command="resume"]').isDisabled()).toBe(false);
    expect(await page.locator('button[data-command="pause"]').isDisabled()).toBe(true);
    expect(await page.locator("#d-plan li[aria-current=step] .plan-note").textContent()).toBe("paused");

    // Let the toast disappear so the screenshot shows the page itself.
    await page.locator("#toast").waitFor({ state: "hidden", timeout: 10_000 });
    mkdirSync("build/screenshots", { recursive: true });
    await page.screenshot({ path: "build/screenshots/dashboard.png", fullPage: true });
    expect(existsSync("build/screenshots/dashboard.png")).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
