import { describe, expect, it } from "vitest";
import { evaluate } from "../../controller/analysis/analyze.js";
import { measureBaselines } from "../../controller/analysis/baselines.js";
import type { Check } from "../../controller/analysis/checks.js";
import {
  SIM_CANARY,
  SIM_STABLE,
  simulateWindows,
  type TrafficSpec,
} from "../../controller/analysis/simulate.js";

const checks: Check[] = [
  { kind: "latency", name: "p99", quantile: 0.99, maxRatio: 1.2 },
  { kind: "latency", name: "p50", quantile: 0.5, maxRatio: 1.2 },
  { kind: "metricPerRequest", name: "tokens", metric: "tokens", maxRatio: 1.5 },
];

function traffic(seed: number, startMs: number, canaryLatencyMedian: number, seconds = 60): TrafficSpec {
  return {
    seed,
    startMs,
    seconds,
    rps: 300,
    schedule: [{ atSecond: 0, canaryWeight: 0.3 }],
    stable: {
      failureRate: 0.02,
      latencyMs: { median: 10, sigma: 0.4 },
      metrics: { tokens: { median: 300, sigma: 0.3 } },
    },
    canary: {
      failureRate: 0.02,
      latencyMs: { median: canaryLatencyMedian, sigma: 0.4 },
      metrics: { tokens: { median: 300, sigma: 0.3 } },
    },
  };
}

describe("measureBaselines", () => {
  it("measures stable's failure rate, named quantiles and metric means", () => {
    const b = measureBaselines(simulateWindows(traffic(1, 0, 10)), SIM_STABLE, checks);
    expect(b.stableFailureRate).toBeGreaterThan(0.015);
    expect(b.stableFailureRate).toBeLessThan(0.025);
    // log-normal(10 ms, 0.4): median 10 ms, p99 = 10·e^(0.4·2.326) ≈ 25.4 ms (±sketch and sampling error)
    expect(b.stableLatencyUs?.["0.5"]).toBeCloseTo(10_000, -3);
    expect((b.stableLatencyUs?.["0.99"] ?? 0) / 25_400).toBeCloseTo(1, 1);
    // log-normal mean = median·e^(σ²/2) ≈ 313.8
    expect((b.stableMetricMean?.tokens ?? 0) / 313.8).toBeCloseTo(1, 1);
  });

  it("leaves out what has no data", () => {
    expect(measureBaselines([], SIM_STABLE, checks)).toEqual({});
  });

  it("feeds the next step's ratio checks", () => {
    const baselines = measureBaselines(simulateWindows(traffic(1, 0, 10)), SIM_STABLE, checks);
    // Each 10-s block is one observation of the slow share: a 4x slower p50 needs ~20 of them.
    const next = simulateWindows(traffic(2, 60_000, 40, 300));
    const r = evaluate({
      windows: next,
      canaryVariant: SIM_CANARY,
      stableVariant: SIM_STABLE,
      checks,
      baselines,
    });
    if (r instanceof Error) throw r;
    expect(r.checks.map((c) => [c.name, c.verdict])).toEqual([
      ["p99", "fail"],
      ["p50", "fail"],
      ["tokens", "pass"],
    ]);
  });
});
