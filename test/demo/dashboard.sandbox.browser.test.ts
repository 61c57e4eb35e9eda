/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core) during a sandbox run:
 * the real controller API fed by the compiled filter's telemetry from live sidecar traffic. The
 * charts must follow the live data, Pause and Resume must reach the Canary through the Kubernetes
 * API, and the page mid-rollout is saved as build/screenshots/dashboard-sandbox.png (copied to
 * docs/dashboard.png for the README). Skips when /usr/bin/chromium or the compiled filter is missing.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, launchChromium } from "../helpers/chromium.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/demo/environment.js";
import { DEMO_NAMESPACE, demoCanary, repoRoot } from "../../sandbox/demo/manifests.js";

const WASM = "build/meshcanary.wasm";
// Written under build/ so a test run leaves the tree clean; copy it to docs/ to refresh the README.
const SCREENSHOT = "build/screenshots/dashboard-sandbox.png";
const SERVICE = "reviews";
/** Rollout time the screenshot shows, ms (past its first step, with some history). */
const CANARY_BEFORE_SCREENSHOT_MS = 25_000;
const WARMUP_MS = 2000;
const READY = existsSync(CHROMIUM) && existsSync(WASM);
if (!READY) console.warn(`sandbox dashboard test skipped: needs ${CHROMIUM} and ${WASM}`);

interface CanaryStatus {
  phase?: string;
  step?: number;
  pausedBy?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(sb: Sandbox): Promise<CanaryStatus> {
  const c = await sb.kube.get("meshcanary.io/v1alpha1", "Canary", DEMO_NAMESPACE, SERVICE);
  if (!c || c instanceof Error) throw new Error(`Canary ${DEMO_NAMESPACE}/${SERVICE}: ${String(c)}`);
  return (c.status ?? {}) as CanaryStatus;
}

describe.skipIf(!READY)("dashboard in Chromium during a sandbox run", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshcanary-dashboard-"));
  let sb: Sandbox;
  let browser: Browser;
  let page: Page;
  let canaryFrom = 0;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    sb = await startSandbox({
      kubeconfigPath: join(dir, "kubeconfig"),
      services: [
        {
          name: SERVICE,
          // The canary is a little slower than stable, so the latency chart shows two versions.
          versions: { v1: { errorRate: 0.001 }, v2: { errorRate: 0.001, latencyMedianMs: 11 } },
        },
      ],
      load: { rps: 300, users: 2000, rampMs: 1000 },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) pageErrors.push(m.text());
    });
    page.on("response", (r) => {
      if (r.status() >= 400) pageErrors.push(`${r.status()} ${r.url()}`);
    });
    // Chromium's start-up and the first requests' warm-up stay out of the canary's telemetry.
    await sleep(WARMUP_MS);
    canaryFrom = Date.now();
    const applied = await sb.kube.apply(
      demoCanary(repoRoot(), SERVICE, [
        { weight: 10, pauseMs: 4000 },
        { weight: 25, pauseMs: 4000 },
        { weight: 50, pauseMs: 4000 },
        // The last step outlasts the test: the screenshot shows a rollout in progress.
        { weight: 75, pauseMs: 10 * 60_000 },
      ]),
    );
    if (applied instanceof Error) throw applied;

    await page.goto(`${sb.apiUrl}/#${DEMO_NAMESPACE}/${SERVICE}`);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await sb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the canary and updates the charts from the live telemetry", async () => {
    await expect.poll(() => page.locator("#d-title").textContent()).toBe(`${DEMO_NAMESPACE}/${SERVICE}`);
    await expect.poll(() => page.locator("#d-phase").textContent(), { timeout: 15_000 }).toBe("Progressing");
    await page.locator("#live[data-state='live']").waitFor({ timeout: 10_000 });

    const rps = page.locator('svg[data-chart="rps"]');
    const lastT = async () => Number((await rps.getAttribute("data-last-t")) || 0);
    await expect.poll(lastT, { timeout: 15_000 }).toBeGreaterThan(0);
    const first = { t: await lastT(), points: Number(await rps.getAttribute("data-points")) };
    // Live points arrive without a reload: the newest point moves on and the series grows.
    await expect.poll(lastT, { timeout: 10_000 }).toBeGreaterThan(first.t);
    expect(Number(await rps.getAttribute("data-points"))).toBeGreaterThan(first.points);
    for (const id of ["weight", "rps", "failure", "latency"]) {
      expect(await page.locator(`svg[data-chart="${id}"] path.line`).count(), id).toBeGreaterThan(0);
    }
    // The controller's own analyses reach the evidence chart, with the rollback level it uses.
    const evidence = page.locator('svg[data-chart="evidence"]');
    await expect
      .poll(async () => Number(await evidence.getAttribute("data-points")), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await evidence.locator('path.line[data-label^="rollback at "]').count()).toBe(1);
    // The step plan marks the step in force.
    expect(await page.locator("#d-plan li").count()).toBe(4);
    await expect.poll(() => page.locator("#d-plan li[aria-current=step]").count()).toBe(1);
    expect(await page.locator("#d-rollouts tbody tr").count()).toBe(1);
  }, 45_000);

  it("pauses and resumes the rollout from its buttons, through the Kubernetes API", async () => {
    const pause = page.locator('button[data-command="pause"]');
    expect(await pause.isDisabled()).toBe(true);
    await page.fill("#token-input", sb.apiToken);
    await page.click("#token-save");
    await expect.poll(() => pause.isDisabled()).toBe(false);

    await pause.click();
    await expect
      .poll(() => status(sb), { timeout: 10_000 })
      .toMatchObject({ phase: "Paused", pausedBy: "manual" });
    await expect.poll(() => page.locator("#d-phase").textContent(), { timeout: 10_000 }).toBe("Paused");
    // Only what applies when paused by `pause`: resume yes, pause and retry no.
    await expect.poll(() => page.locator('button[data-command="resume"]').isDisabled()).toBe(false);
    expect(await page.locator('button[data-command="pause"]').isDisabled()).toBe(true);
    expect(await page.locator('button[data-command="retry"]').isDisabled()).toBe(true);

    await page.click('button[data-command="resume"]');
    await expect.poll(async () => (await status(sb)).phase, { timeout: 10_000 }).toBe("Progressing");
    expect((await status(sb)).pausedBy).toBeUndefined();
    await expect.poll(() => page.locator("#d-phase").textContent(), { timeout: 10_000 }).toBe("Progressing");
  }, 30_000);

  it("saves a screenshot of the live rollout past its first step", async () => {
    await sleep(Math.max(0, canaryFrom + CANARY_BEFORE_SCREENSHOT_MS - Date.now()));
    await expect
      .poll(async () => (await status(sb)).step ?? 0, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.locator("#d-step").textContent()).not.toMatch(/^1 \//);
    // Let the command toasts disappear so the screenshot shows the page itself.
    await page.locator("#toast").waitFor({ state: "hidden", timeout: 10_000 });
    const before = Date.now();
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
    expect(pageErrors).toEqual([]);
  }, 40_000);
});
