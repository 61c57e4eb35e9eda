import { describe, expect, it } from "vitest";
import {
  binomial,
  mulberry32,
  poisson,
  SIM_CANARY,
  SIM_STABLE,
  simulateCounts,
  simulateWindows,
  weightAt,
} from "../../controller/analysis/simulate.js";

describe("simulation", () => {
  it("is deterministic per seed and differs across seeds", () => {
    const spec = {
      seed: 1,
      seconds: 50,
      rps: 20,
      schedule: [{ atSecond: 0, canaryWeight: 0.5 }],
      stable: { failureRate: 0.1 },
      canary: { failureRate: 0.1 },
    };
    expect(simulateCounts(spec)).toEqual(simulateCounts(spec));
    expect(simulateCounts(spec)).not.toEqual(simulateCounts({ ...spec, seed: 2 }));
  });

  it.each([
    [0.5, 3],
    [30, 3],
    [500, 3],
  ])("poisson(%d) has the right mean and variance", (mean) => {
    const rng = mulberry32(3);
    const xs = Array.from({ length: 20_000 }, () => poisson(rng, mean));
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
    expect(Math.abs(m - mean)).toBeLessThan(5 * Math.sqrt(mean / xs.length));
    expect(v / mean).toBeGreaterThan(0.95);
    expect(v / mean).toBeLessThan(1.05);
  });

  it.each([
    [10, 0.3],
    [1000, 0.01],
    [1000, 0.9],
    [100_000, 0.4],
  ])("binomial(%d, %d) has the right mean and stays in range", (n, p) => {
    const rng = mulberry32(4);
    const xs = Array.from({ length: 20_000 }, () => binomial(rng, n, p));
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(m - n * p)).toBeLessThan(5 * Math.sqrt((n * p * (1 - p)) / xs.length));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThanOrEqual(n);
  });

  it("follows the weight schedule", () => {
    const schedule = [
      { atSecond: 10, canaryWeight: 0.1 },
      { atSecond: 20, canaryWeight: 0.9 },
    ];
    expect([0, 9, 10, 19, 20, 99].map((t) => weightAt(schedule, t))).toEqual([0, 0, 0.1, 0.1, 0.9, 0.9]);
    const windows = simulateWindows({
      seed: 8,
      seconds: 30,
      rps: 100,
      schedule,
      stable: { failureRate: 0, latencyMs: { median: 5, sigma: 0.1 } },
      canary: { failureRate: 1, latencyMs: { median: 5, sigma: 0.1 } },
    });
    expect(windows.slice(0, 10).every((w) => !w.variants.has(SIM_CANARY))).toBe(true);
    const late = windows.slice(20);
    const canary = late.reduce((a, w) => a + (w.variants.get(SIM_CANARY)?.requests ?? 0), 0);
    const stable = late.reduce((a, w) => a + (w.variants.get(SIM_STABLE)?.requests ?? 0), 0);
    expect(canary / (canary + stable)).toBeGreaterThan(0.85);
    for (const w of late) {
      const c = w.variants.get(SIM_CANARY);
      if (c) {
        expect(c.failures).toBe(c.requests);
        expect(c.latencyUs.count).toBe(c.requests);
      }
    }
  });
});
