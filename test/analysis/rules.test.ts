/**
 * Issue-18 rules of evaluate, table-driven: ceilings judged against stable, family-wise α,
 * 100% steps and thin traffic (liveness), sample-ratio mismatch.
 */
import { describe, expect, it } from "vitest";
import { type AnalysisInput, evaluate } from "../../controller/analysis/analyze.js";
import type { Check } from "../../controller/analysis/checks.js";
import { SIM_CANARY, SIM_STABLE } from "../../controller/analysis/simulate.js";
import type { VariantStats, WindowPoint } from "../../controller/telemetry/types.js";
import { countStats } from "../../controller/telemetry/windows.js";

function win(second: number, canary?: VariantStats, stable?: VariantStats): WindowPoint {
  const variants = new Map<string, VariantStats>();
  if (canary) variants.set(SIM_CANARY, canary);
  if (stable) variants.set(SIM_STABLE, stable);
  return { startMs: 1000 * second, variants };
}

function series(seconds: number, canary: [number, number] | null, stable: [number, number] | null) {
  return Array.from({ length: seconds }, (_, t) =>
    win(t, canary ? countStats(...canary) : undefined, stable ? countStats(...stable) : undefined),
  );
}

function run(windows: WindowPoint[], checks: Check[], extra: Partial<AnalysisInput> = {}) {
  const r = evaluate({ windows, canaryVariant: SIM_CANARY, stableVariant: SIM_STABLE, checks, ...extra });
  if (r instanceof Error) throw r;
  return r;
}

const ceiling: Check = { kind: "failureRate", name: "errors", max: 0.01 };

describe("ceilings are judged against the world", () => {
  it.each([
    {
      name: "canary alone above the ceiling",
      canary: 5,
      stable: 2,
      opt: false,
      want: "fail",
      says: "above max",
    },
    {
      name: "both above it, canary no worse",
      canary: 5,
      stable: 45,
      opt: false,
      want: "pass",
      says: "canary no worse",
    },
    {
      name: "both above it, canary worse",
      canary: 15,
      stable: 45,
      opt: false,
      want: "fail",
      says: "worse than stable in it",
    },
    {
      name: "both above it, before the canary's own test decides, canary no worse",
      canary: 5,
      stable: 45,
      opt: false,
      seconds: 25,
      want: "pass",
      says: "judged against stable, canary no worse",
    },
    {
      name: "both above it, too little to tell",
      canary: 5,
      stable: 45,
      opt: false,
      seconds: 3,
      want: "inconclusive",
      says: "not yet separable from max",
    },
    {
      name: "both above it, canary worse but its own test undecided",
      canary: 9,
      stable: 45,
      opt: false,
      seconds: 25,
      want: "inconclusive",
      says: "not yet separable from max",
    },
    {
      name: "both above it, rollback opted in",
      canary: 5,
      stable: 45,
      opt: true,
      want: "fail",
      says: "above max",
    },
  ])("$name: $want", ({ canary, stable, opt, want, says, seconds }) => {
    const r = run(series(seconds ?? 90, [100, canary], [900, stable]), [ceiling], {
      rollbackOnSharedIncident: opt,
    });
    expect(r.verdict).toBe(want);
    expect(r.checks[0].reason).toContain(says);
  });
});

describe("family-wise alpha", () => {
  it.each([
    { checks: [ceiling], steps: 1, tests: 1 },
    { checks: [{ ...ceiling, maxRatio: 1 }], steps: 5, tests: 2 },
    {
      checks: [
        { ...ceiling, maxRatio: 1 },
        { kind: "latency", name: "p99", quantile: 0.99, maxMs: 500 },
        { kind: "metricRate", name: "blocks", metric: "b", maxPerMinute: 5 },
      ] as Check[],
      steps: 4,
      tests: 4,
    },
  ])("$tests test(s) x $steps step(s) share alpha 0.01", ({ checks, steps, tests }) => {
    const r = run(series(30, [100, 0], [900, 0]), checks, { alpha: 0.01, steps });
    expect(r.alphaPerTest).toBeCloseTo(0.01 / (tests * steps), 15);
    expect(r.alphaSplit).toContain(`split over ${tests} test(s) x ${steps} step(s)`);
  });
});

describe("liveness", () => {
  it.each([
    {
      name: "100% step, ceiling and comparison: the ceiling decides",
      check: { ...ceiling, maxRatio: 1 },
      want: "pass",
      says: "below max",
    },
    {
      name: "100% step, comparison only: says there is no stable",
      check: { kind: "failureRate", name: "errors", maxRatio: 1 } as Check,
      want: "inconclusive",
      says: "100% step: no stable traffic",
    },
  ])("$name", ({ check, want, says }) => {
    const r = run(series(60, [1000, 0], null), [check], { canaryWeight: 1 });
    expect(r.checks[0].verdict).toBe(want);
    expect(r.checks[0].reason).toContain(says);
  });

  it("very low traffic says how many requests it has and how long the rest takes", () => {
    // 0.2 rps: one canary request every 5 s
    const windows = Array.from({ length: 60 }, (_, t) => win(5 * t, countStats(1, 0), countStats(20, 0)));
    const r = run(windows, [{ ...ceiling, max: 0.2 }], { minRequests: 100 });
    expect(r.checks[0].verdict).toBe("inconclusive");
    expect(r.checks[0].reason).toMatch(
      /needs 100 requests per variant before passing: canary 60 \(~\d+ s more at the rate seen\)/,
    );
  });
});

describe("sample-ratio mismatch", () => {
  it.each([
    { name: "share as weighted", canary: 100, weight: 0.1, mismatch: false },
    { name: "canary starved (1% at weight 10%)", canary: 10, weight: 0.1, mismatch: true },
    { name: "canary flooded (30% at weight 10%)", canary: 300, weight: 0.1, mismatch: true },
  ])("$name", ({ canary, weight, mismatch }) => {
    const r = run(series(120, [canary, 0], [1000 - canary, 0]), [ceiling], { canaryWeight: weight });
    expect(r.sampleRatioMismatch !== undefined).toBe(mismatch);
    // a mismatch holds what would otherwise pass
    expect(r.verdict).toBe(mismatch ? "inconclusive" : "pass");
  });
});
