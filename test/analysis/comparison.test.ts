import { describe, expect, it } from "vitest";
import { compareVariants } from "../../controller/analysis/comparison.js";
import type { Check } from "../../controller/analysis/checks.js";
import { proportionInterval } from "../../controller/analysis/confidence.js";
import { times, windowOf } from "../api/windows-fixture.js";

const V = { stable: "stable", canary: "canary" };
const failure: Check = { name: "failure-rate", kind: "failureRate", maxRatio: 1 };
const latency: Check = { name: "latency-p90", kind: "latency", quantile: 0.9, maxMs: 50 };
const tokens: Check = { name: "tokens", kind: "metricPerRequest", metric: "tokens", maxRatio: 1.2 };

/** 60 one-second windows: stable fails 1% and is fast, canary fails 4% and 20% of it is slow. */
const windows = Array.from({ length: 60 }, (_, i) =>
  windowOf(i * 1000, {
    stable: [
      ...times(99, { ms: 10, metrics: { tokens: 100 } }),
      { ms: 10, failed: true, metrics: { tokens: 100 } },
    ],
    canary: [
      ...times(76, { ms: 10, metrics: { tokens: 100 } }),
      ...times(20, { ms: 80, metrics: { tokens: 300 } }),
      ...times(4, { ms: 10, failed: true, metrics: { tokens: 100 } }),
    ],
  }),
);

describe("compareVariants", () => {
  const c = compareVariants(windows, V, [failure, latency, tokens], 0.01, 60_000);

  it("reports each variant's outcomes", () => {
    expect(c.variants).toEqual({ a: "stable", b: "canary" });
    expect(c.outcomes.stable).toMatchObject({ requests: 6000, failures: 60 });
    expect(c.outcomes.canary).toMatchObject({ requests: 6000, failures: 240 });
  });

  it.each([
    ["failure-rate", 0.01, 0.04],
    ["latency-p90", 0, 0.2],
    ["tokens", 0, 0.2],
  ])("%s: both arms' shares, each with its α/2 confidence sequence, and the effect b − a", (name, a, b) => {
    const x = c.comparisons.find((k) => k.name === name)!;
    expect(x.a.estimate).toBeCloseTo(a, 6);
    expect(x.b.estimate).toBeCloseTo(b, 6);
    expect(x.a.interval).toEqual(proportionInterval(x.a.events, x.a.trials, 0.005));
    expect(x.b.interval).toEqual(proportionInterval(x.b.events, x.b.trials, 0.005));
    expect(x.effect!.estimate).toBeCloseTo(b - a, 6);
    // The union of the two sequences: [b.lower − a.upper, b.upper − a.lower], which holds 0 < effect here.
    expect(x.effect!.interval.lower).toBeCloseTo(x.b.interval.lower - x.a.interval.upper, 12);
    expect(x.effect!.interval.upper).toBeCloseTo(x.b.interval.upper - x.a.interval.lower, 12);
    expect(x.effect!.interval.lower).toBeGreaterThan(0);
  });

  it("an A/A split's effect interval holds 0; without data there is no effect", () => {
    const same = windows.map((w) =>
      windowOf(w.startMs, { stable: times(100, { ms: 10 }), canary: times(100, { ms: 10 }) }),
    );
    const aa = compareVariants(same, V, [failure], 0.01, 60_000).comparisons[0]!;
    expect(aa.effect!.interval.lower).toBeLessThanOrEqual(0);
    expect(aa.effect!.interval.upper).toBeGreaterThanOrEqual(0);
    const none = compareVariants([], V, [failure], 0.01, 0).comparisons[0]!;
    expect(none.effect).toBeNull();
    expect(none.a.interval).toEqual({ lower: 0, upper: 1 });
  });
});
