/**
 * The mean-per-request check (metricMean, controller/analysis/mean-ratio.ts): the block statistic,
 * block closing, hostile totals, and its error rates on dependent, heavy-tailed model traffic
 * (bench/traffic-models/llm-sessions.ts: sticky users, sessions, runaway answers, shared drift).
 */
import { describe, expect, it } from "vitest";
import { evaluate } from "../../controller/analysis/analyze.js";
import { betEValue } from "../../controller/analysis/betting.js";
import { bet } from "../../controller/analysis/condition-tests.js";
import { DEFAULT_BLOCK_MS } from "../../controller/analysis/conditions.js";
import {
  freshMeanComparison,
  judgeMean,
  type MeanComparisonCondition,
  type MeanComparisonState,
  MIN_BLOCK_RESPONSES,
  meanShare,
  observeMean,
  type SumCount,
  settleMean,
} from "../../controller/analysis/mean-ratio.js";
import { SIM_CANARY, SIM_STABLE } from "../../controller/analysis/simulate.js";
import { measureBaselines } from "../../controller/analysis/baselines.js";
import { toAnalysisChecks } from "../../controller/app/analysis-checks.js";
import type { WindowPoint } from "../../controller/telemetry/types.js";
import { failRate, type MeanRollout, meanCheck } from "../../bench/llm-mean-study.js";
import { llmTraffic, SAME, TOKENS } from "../../bench/traffic-models/llm-sessions.js";

describe("meanShare", () => {
  it.each([
    { canary: [100, 10], stable: [1000, 100], ratio: 1, want: 0.5 }, // same mean
    { canary: [150, 10], stable: [1000, 100], ratio: 1.5, want: 0.5 }, // exactly at the limit
    { canary: [300, 10], stable: [1000, 100], ratio: 1.5, want: 30 / 45 }, // 2x against 1.5x
    { canary: [0, 10], stable: [1000, 100], ratio: 1, want: 0 }, // canary answers nothing
    { canary: [100, 10], stable: [0, 100], ratio: 1, want: 1 },
  ])("canary $canary vs stable $stable at ratio $ratio → $want", ({ canary, stable, ratio, want }) => {
    const sc = (x: number[]): SumCount => ({ sum: x[0]!, count: x[1]! });
    expect(meanShare(sc(canary), sc(stable), ratio)).toBeCloseTo(want, 12);
  });

  it.each([
    { canary: { sum: 0, count: 0 }, stable: { sum: 10, count: 1 } },
    { canary: { sum: 10, count: 1 }, stable: { sum: 0, count: 0 } },
    { canary: { sum: 0, count: 5 }, stable: { sum: 0, count: 5 } }, // both means 0
  ])("no information: %o", ({ canary, stable }) => {
    expect(meanShare(canary, stable, 1.5)).toBeUndefined();
  });
});

const condition: MeanComparisonCondition = {
  type: "meanComparison",
  label: "tokens",
  ratio: 1.5,
  extract: (w) => ({
    canary: w.variants.get(SIM_CANARY)?.metrics.get(TOKENS),
    stable: w.variants.get(SIM_STABLE)?.metrics.get(TOKENS),
  }),
};

function fresh(): MeanComparisonState {
  return freshMeanComparison(1.5, bet("above", DEFAULT_BLOCK_MS), bet("below", DEFAULT_BLOCK_MS));
}

/** One window with the given canary and stable (sum, count) of TOKENS. */
function window(startMs: number, canary: SumCount, stable: SumCount): WindowPoint {
  const stats = (m: SumCount) => ({
    requests: m.count,
    metrics: new Map([[TOKENS, { ...m, sketch: { count: 0, zeroCount: 0, sum: 0, buckets: new Map() } }]]),
  });
  return {
    startMs,
    variants: new Map([
      [SIM_CANARY, stats(canary)],
      [SIM_STABLE, stats(stable)],
    ]) as unknown as WindowPoint["variants"],
  };
}

function run(windows: WindowPoint[], nowMs: number): MeanComparisonState {
  let s = fresh();
  for (const w of windows) s = observeMean(condition, s, w);
  return settleMean(s, nowMs);
}

describe("blocks", () => {
  const c = (sum: number, count = MIN_BLOCK_RESPONSES) => ({ sum, count });
  it.each([
    {
      name: "windows of one block make one observation",
      windows: [window(0, c(2000), c(1000)), window(5000, c(2000), c(1000))],
      nowMs: 10_000,
      blocks: 1,
    },
    {
      name: "a block stays open until it spans blockMs",
      windows: [window(0, c(2000), c(1000))],
      nowMs: 9_999,
      blocks: 0,
    },
    {
      name: "a block waits for enough responses in each arm",
      windows: [window(0, c(200, 2), c(1000)), window(10_000, c(2000), c(1000))],
      nowMs: 20_000,
      blocks: 1, // the first block took both windows
    },
    {
      name: "each full block closes when the next window starts past it",
      windows: [
        window(0, c(2000), c(1000)),
        window(10_000, c(2000), c(1000)),
        window(20_000, c(2000), c(1000)),
      ],
      nowMs: 25_000,
      blocks: 2,
    },
  ])("$name", ({ windows, nowMs, blocks }) => {
    const s = run(windows, nowMs);
    expect(s.fail.blocks).toBe(blocks);
    expect(s.pass.blocks).toBe(blocks);
  });

  it("bets the block's means, not the sum of its windows' shares", () => {
    // Window shares alone would be 1 and 0; the block's means are equal at ratio 1.5 → Z = 0.
    const s = run([window(0, c(3000), c(0)), window(5000, c(0), c(2000))], 10_000);
    expect(s.fail.blocks).toBe(1);
    expect(betEValue(s.fail)).toBeCloseTo(1, 12);
  });

  it.each([
    { name: "NaN sum", sum: Number.NaN },
    { name: "negative sum", sum: -1e12 },
    { name: "infinite sum", sum: Number.POSITIVE_INFINITY },
  ])("a peer's $name counts as answers of 0 tokens (it can only lower the canary's mean)", ({ sum }) => {
    const s = run([window(0, c(sum), c(1000))], 10_000);
    expect(s.canary.sum).toBe(0);
    expect(betEValue(s.fail)).toBeLessThan(1);
  });

  it("one block claiming a billion tokens per answer moves the wealth once, by a bounded factor", () => {
    const s = run([window(0, c(1e9 * MIN_BLOCK_RESPONSES), c(1000))], 10_000);
    // Z ≤ 1 and the largest bet is 0.9: at most 1.9x on the started half of the prior (+ the rest).
    expect(betEValue(s.fail)).toBeLessThanOrEqual(0.5 * 1.9 + 0.5 + 1e-9);
  });

  it.each([
    { name: "2x stable against a 1.5x limit fails", canary: 2000, verdict: "fail" },
    { name: "1x stable against a 1.5x limit passes", canary: 1000, verdict: "pass" },
    { name: "exactly at the limit stays open", canary: 1500, verdict: "inconclusive" },
  ])("$name", ({ canary, verdict }) => {
    const windows = Array.from({ length: 60 }, (_, i) => window(10_000 * i, c(canary), c(1000)));
    const s = run(windows, 600_000);
    const j = judgeMean(condition, s, 0.01);
    expect(j.verdict).toBe(verdict);
    expect(j.value).toBeCloseTo(canary / 1000, 12);
    expect(j.reason).toContain("tokens");
  });
});

const rate = (r: MeanRollout, runs: number) => failRate(r, runs).rate;
const mean = meanCheck;

describe("A/A under dependent, heavy-tailed traffic", () => {
  // The hardest nulls: the canary at exactly the limit (every answer × ratio), 10-min steps at
  // 5/25/50%, judged every 10 s; α is the Canary's, split over the steps, and a false fail at any
  // tick of any step counts. (Above 50% see docs/llm.md: measured, not claimed.)
  it.each([
    { name: "canary = 1.5 x stable, limit 1.5", ratio: 1.5 },
    { name: "canary = stable, limit 1 (no more tokens at all)", ratio: 1 },
  ])("$name: false-fail rate ≤ α over 100 rollouts", ({ ratio }) => {
    const alpha = 0.05;
    const canary = { ...SAME, scale: ratio };
    const rollout = { weights: [0.05, 0.25, 0.5], seconds: 600, canary, check: mean(ratio), alpha };
    expect(rate(rollout, 100)).toBeLessThanOrEqual(alpha);
  });
});

describe("detection", () => {
  // 160 requests a second at 50%: a 30-minute step (the sample's 10-min rule needs its fail first).
  const step = { weights: [0.5], seconds: 1800, alpha: 0.01, sessionsPerSecond: 20 };
  const verbose = { scale: 1, factor: 2, affected: 0.3 };
  it("2x tokens on 30% of prompts (the mean rises ~1.3x) is caught against a 1.1x limit", () => {
    expect(rate({ ...step, canary: verbose, check: mean(1.1) }, 20)).toBeGreaterThanOrEqual(0.9);
  });

  it("the same model is not failed against a 1.5x limit (its mean is below it)", () => {
    expect(rate({ ...step, canary: verbose, check: mean(1.5) }, 10)).toBe(0);
  });

  it("2x tokens on every prompt is caught against 1.5x within a 20-min step at 25%", () => {
    const r = { ...step, weights: [0.25], seconds: 1200, canary: { ...SAME, scale: 2 }, check: mean(1.5) };
    expect(rate(r, 20)).toBe(1);
  });

  it("runaway answers on 20% of prompts (5x, the mean ~1.8x) fail the mean check; the tail check passes them", () => {
    const checks = toAnalysisChecks([
      { name: "mean", metric: { name: TOKENS, maxMeanRatio: 1.5 } },
      { name: "tail", metric: { name: TOKENS, maxRatio: 1.5 } },
    ]);
    const model = { scale: 1, factor: 5, affected: 0.2 };
    const traffic = { canary: model, sketches: true, sessionsPerSecond: 20 };
    const verdicts = Array.from({ length: 10 }, (_, seed) => {
      const before = llmTraffic({ ...traffic, seed, seconds: 600, weight: 0 });
      const windows = llmTraffic({ ...traffic, seed, seconds: 1200, weight: 0.5, startMs: 600_000 });
      const out = evaluate({
        windows,
        canaryVariant: SIM_CANARY,
        stableVariant: SIM_STABLE,
        checks,
        alpha: 0.01,
        baselines: measureBaselines(before, SIM_STABLE, checks),
      });
      if (out instanceof Error) throw out;
      return Object.fromEntries(out.checks.map((c) => [c.name, c.verdict]));
    });
    expect(verdicts.filter((v) => v.mean === "fail").length).toBeGreaterThanOrEqual(8);
    expect(verdicts.map((v) => v.tail)).toEqual(Array(10).fill("pass"));
  });
});
