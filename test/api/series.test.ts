import { describe, expect, it } from "vitest";
import { seriesPoint, summarize } from "../../controller/api/series.js";
import { times, windowOf } from "./windows-fixture.js";

/** Sketch values carry < 1% relative error. */
function near(actual: number | null | undefined, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected) / expected).toBeLessThan(0.011);
}

describe("seriesPoint", () => {
  const cases = [
    {
      name: "rates, failure ratio and latency quantiles per variant",
      window: windowOf(5000, {
        stable: [...times(98, { ms: 20 }), ...times(2, { ms: 400, failed: true })],
        canary: [...times(45, { ms: 30 }), ...times(5, { ms: 900, failed: true })],
      }),
      expect: {
        stable: { requests: 100, failures: 2, rps: 100, failureRate: 0.02, p50: 20, p99: 400 },
        canary: { requests: 50, failures: 5, rps: 50, failureRate: 0.1, p50: 30, p99: 900 },
      },
    },
    {
      name: "a single request",
      window: windowOf(0, { canary: [{ ms: 7, failed: true }] }),
      expect: { canary: { requests: 1, failures: 1, rps: 1, failureRate: 1, p50: 7, p99: 7 } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = seriesPoint(c.window);
      expect(p.t).toBe(c.window.startMs);
      expect(p.durationMs).toBe(1000);
      expect(Object.keys(p.variants).sort()).toEqual(Object.keys(c.expect).sort());
      for (const [name, e] of Object.entries(c.expect)) {
        const v = p.variants[name]!;
        expect(v).toMatchObject({
          requests: e.requests,
          failures: e.failures,
          rps: e.rps,
          failureRate: e.failureRate,
        });
        near(v.p50Ms, e.p50);
        near(v.p99Ms, e.p99);
      }
    });
  }

  it("gives null rates and quantiles for a variant with no requests, and per-request metric means", () => {
    const w = windowOf(0, {
      stable: [],
      canary: [
        { ms: 10, metrics: { tokens: 300 } },
        { ms: 10, metrics: { tokens: 100 } },
      ],
    });
    const p = seriesPoint(w);
    expect(p.variants.stable).toMatchObject({
      requests: 0,
      rps: 0,
      failureRate: null,
      p50Ms: null,
      p99Ms: null,
      metrics: {},
    });
    expect(p.variants.canary!.metrics).toEqual({ tokens: 200 });
  });
});

describe("summarize", () => {
  it("merges windows: rates over the whole span, quantiles from the merged sketch", () => {
    const windows = [
      windowOf(0, { canary: times(10, { ms: 10 }) }),
      // Quantiles of the merged sketch differ from the mean of per-window quantiles.
      windowOf(1000, {
        canary: [...times(9, { ms: 10 }), { ms: 1000, failed: true, metrics: { tokens: 40 } }],
      }),
    ];
    const s = summarize(windows, 10_000).get("canary")!;
    expect(s.requests).toBe(20);
    expect(s.failures).toBe(1);
    expect(s.rps).toBe(2);
    expect(s.failureRate).toBe(0.05);
    near(s.latencyMs.get(0.5)!, 10);
    near(s.latencyMs.get(0.9)!, 10);
    near(s.latencyMs.get(0.99)!, 1000);
    expect(s.metricMeans.get("tokens")).toBe(2);
  });

  it("is empty for no windows and keeps variants apart", () => {
    expect(summarize([], 10_000).size).toBe(0);
    const s = summarize(
      [windowOf(0, { a: times(3, { ms: 5 }), b: times(1, { ms: 5, failed: true }) })],
      1000,
    );
    expect(s.get("a")!.failureRate).toBe(0);
    expect(s.get("b")!.failureRate).toBe(1);
  });
});
